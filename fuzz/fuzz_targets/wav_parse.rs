//! WAV parsing (any bytes, or RIFF files built chunk by chunk with hostile fields), decoding,
//! the prompt conversion to 8 kHz μ-law and the CHUNK-mode chunkers of `byova_media::audio`.
//!
//! The input model and invariants live in the proptest twin, which this target includes:
//! `crates/byova-media/tests/it/fuzz_wav.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/byova-media/tests/it/fuzz_wav.rs"]
mod model;

fuzz_target!(|input: model::Input| model::check(&input));
