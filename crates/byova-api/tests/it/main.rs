//! Integration tests of byova-api against the Webex stand-in on 127.0.0.1: one binary, one
//! module per topic.

mod applications;
mod data_sources;
mod errors;
mod faults;
mod fuzz_link;
mod oauth;
mod pagination;
mod raw;
mod refresh;
mod retries;
mod schemas;
mod support;
mod timeouts;
mod tracing_spans;
mod traits;
mod webhooks;
