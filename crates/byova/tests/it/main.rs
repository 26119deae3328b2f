//! The `Byova` facade against the loopback Webex stand-in.

mod config;
mod jws;
mod media;
mod org_client;
mod support;
mod webhooks;
