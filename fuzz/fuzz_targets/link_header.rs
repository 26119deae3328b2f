//! `Link` headers, statuses, `Retry-After` and error bodies from a hostile server, through the
//! real byova-api client (`send`, `first_page`, `pages`).
//!
//! The input model and invariants live in the proptest twin, which this target includes:
//! `crates/byova-api/tests/it/fuzz_link.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/byova-api/tests/it/fuzz_link.rs"]
mod model;

fuzz_target!(|input: model::Input| model::check(&input));
