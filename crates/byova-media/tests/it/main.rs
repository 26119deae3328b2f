//! Integration tests of the media server: a real tonic client against the server on
//! 127.0.0.1:0. One test binary, one module per area.

mod auth;
mod calls;
mod faults;
mod fuzz_rpc;
mod fuzz_wav;
mod hostile;
mod lifecycle;
mod ops;
mod shutdown_close;
mod support;
