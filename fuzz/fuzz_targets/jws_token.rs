//! Compact JWS against a real `byova_jws::Verifier` with static RS256 / ES256 key sets: raw
//! text, base64url segments of any bytes, and tokens minted from a claim model (then edited),
//! whose outcome must be exactly the one the verification order prescribes.
//!
//! The input model and invariants live in the proptest twin, which this target includes:
//! `crates/byova-jws/tests/it/fuzz_token.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/byova-jws/tests/it/fuzz_token.rs"]
mod model;

fuzz_target!(|input: model::Input| model::check(&input));
