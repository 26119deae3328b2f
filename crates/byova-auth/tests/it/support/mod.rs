//! Shared test helpers.

pub mod http;
pub mod redis_server;
pub mod webex;
