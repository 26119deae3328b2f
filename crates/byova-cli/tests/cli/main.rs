//! The `byova` binary, run as a user runs it, against the loopback Webex stand-in.

mod auth;
mod datasources;
mod faults;
mod jws;
mod keeper;
mod schemas;
mod serve;
mod simulate;
mod store;
mod support;
mod usage;
mod webhooks;
