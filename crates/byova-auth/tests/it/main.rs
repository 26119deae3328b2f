//! byova-auth integration tests: one binary, one module per area.

mod support;

mod ensure_webhooks;
mod faults;
mod file_sigkill;
mod fuzz_webhook;
mod integration;
mod keeper;
mod redirect;
mod secrets;
mod service_app;
mod single_flight;
mod storage;
mod webhooks;
