//! The `byova` binary, run as a user runs it, against the loopback Webex stand-in.

mod auth;
mod datasources;
mod jws;
mod keeper;
mod schemas;
mod store;
mod support;
mod usage;
mod webhooks;
