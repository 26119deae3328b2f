//! The input a caller's request carries (the `voice_va_input_type` oneof), built the same way by
//! a [`Call`](super::Call) and by the load engine.

use bytes::Bytes;

use crate::audio::AudioEncoding;
use crate::json::{JsonObject, json_to_struct};
use crate::proto::voice_va_request::VoiceVaInputType;
use crate::proto::{DtmfInputs, EventInput, VoiceInput};

use super::InputEventType;

/// An input event with a name and optional parameters.
pub(super) fn event(
    kind: InputEventType,
    name: &str,
    parameters: Option<&JsonObject>,
) -> VoiceVaInputType {
    VoiceVaInputType::EventInput(EventInput {
        event_type: kind as i32,
        name: name.to_owned(),
        parameters: parameters.map(json_to_struct),
    })
}

/// Collected DTMF digits (`0`–`9`, `A`–`D`, `*`, `#`; other characters are skipped).
pub(super) fn dtmf(digits: &str) -> VoiceVaInputType {
    VoiceVaInputType::DtmfInput(DtmfInputs {
        dtmf_events: digits
            .chars()
            .filter_map(crate::dtmf::char_to_digit)
            .collect(),
    })
}

/// One piece of caller audio.
pub(super) fn audio(
    audio: Bytes,
    encoding: AudioEncoding,
    sample_rate: u32,
    language: &str,
) -> VoiceVaInputType {
    VoiceVaInputType::AudioInput(VoiceInput {
        caller_audio: audio,
        encoding: encoding.to_wire(),
        sample_rate_hertz: i32::try_from(sample_rate).unwrap_or(i32::MAX),
        audio_timestamp: None,
        language_code: language.to_owned(),
        is_single_utterance: false,
    })
}
