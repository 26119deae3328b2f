//! Service App webhook deliveries (any bytes, or payloads built from a model of every field)
//! with any `X-Spark-Signature`, delivered up to three times to a real
//! `byova_auth::webhook::ServiceAppWebhooks` that mints tokens on a Webex stand-in.
//!
//! The input model and invariants live in the proptest twin, which this target includes:
//! `crates/byova-auth/tests/it/fuzz_webhook.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/byova-auth/tests/it/fuzz_webhook.rs"]
mod model;

fuzz_target!(|input: model::Input| model::check(&input));
