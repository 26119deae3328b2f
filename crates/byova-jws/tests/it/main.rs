//! Integration tests of byova-jws: real RSA keys, real tokens, key sets served by a loopback
//! HTTP server, and the auth layer in front of a real tonic server.

mod accept;
mod faults;
mod fuzz_token;
mod hostile;
mod key_sets;
mod layer;
mod support;
