//! Shared test helpers.

pub mod callers;
pub mod fs;
pub mod http;
pub mod redis_server;
pub mod webex;
