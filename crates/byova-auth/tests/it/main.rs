//! byova-auth integration tests: one binary, one module per area.

mod support;

mod ensure_webhooks;
mod file_sigkill;
mod integration;
mod keeper;
mod redirect;
mod secrets;
mod service_app;
mod single_flight;
mod storage;
mod webhooks;
