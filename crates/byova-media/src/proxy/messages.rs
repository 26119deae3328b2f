//! The JSON contract with the backend (the Python SDK's `DefaultProxyAdapter`, with its bugs fixed).
//!
//! To the backend, one text frame per event:
//! `{"type", "conversation_id", "turn_id", "timestamp", "payload"}` with the timestamp in UTC,
//! ISO-8601 with microseconds and a `Z`. From the backend: `prompt`, `end_session` and (an
//! addition) `transfer_to_agent`; anything else is ignored.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::audio::AudioEncoding;

/// The event types sent to the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EventType {
    SessionStart,
    AudioInput,
    DtmfInput,
    NoInput,
    CustomEvent,
    SessionEnd,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            Self::SessionStart => "session_start",
            Self::AudioInput => "audio_input",
            Self::DtmfInput => "dtmf_input",
            Self::NoInput => "no_input",
            Self::CustomEvent => "custom_event",
            Self::SessionEnd => "session_end",
        }
    }
}

/// One message to the backend, as its JSON text.
pub(super) fn envelope(
    event: EventType,
    conversation_id: &str,
    turn_id: &str,
    payload: Value,
) -> String {
    json!({
        "type": event.as_str(),
        "conversation_id": conversation_id,
        "turn_id": turn_id,
        "timestamp": timestamp(OffsetDateTime::now_utc()),
        "payload": payload,
    })
    .to_string()
}

/// `2024-05-01T12:00:00.123456Z`.
pub(super) fn timestamp(at: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(format)
        .unwrap_or_default()
}

/// The `audio_input` payload.
pub(super) fn audio_payload(
    audio: &[u8],
    encoding: AudioEncoding,
    sample_rate: u32,
    is_final: bool,
) -> Value {
    json!({
        "encoding": encoding_name(encoding),
        "sample_rate": sample_rate,
        "channels": 1,
        "data": BASE64.encode(audio),
        "is_final": is_final,
    })
}

fn encoding_name(encoding: AudioEncoding) -> &'static str {
    match encoding {
        AudioEncoding::Mulaw => "mulaw",
        AudioEncoding::Alaw => "alaw",
        AudioEncoding::Linear16 => "linear16",
    }
}

/// What the backend asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum BackendMessage {
    /// Play a prompt.
    Prompt {
        text: Option<String>,
        ssml: Option<String>,
        /// Decoded audio: a WAV file or raw 8 kHz μ-law.
        audio: Option<Vec<u8>>,
        barge_in: Option<bool>,
    },
    /// End the call.
    EndSession,
    /// Transfer the call to a human agent.
    TransferToAgent,
}

/// Why a backend message was ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Ignored {
    /// Not a JSON object with a string `type`.
    NotJson,
    /// A `type` this connector does not know.
    UnknownType(String),
    /// A prompt whose `audio` is not valid base64.
    BadAudio,
}

/// Parses one text frame from the backend.
pub(super) fn parse(text: &str) -> Result<BackendMessage, Ignored> {
    let value: Value = serde_json::from_str(text).map_err(|_| Ignored::NotJson)?;
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .ok_or(Ignored::NotJson)?;
    match kind {
        "prompt" => {
            let payload = value.get("payload").unwrap_or(&Value::Null);
            let text_field = |name: &str| {
                payload
                    .get(name)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let audio = match text_field("audio") {
                Some(encoded) => Some(BASE64.decode(encoded).map_err(|_| Ignored::BadAudio)?),
                None => None,
            };
            Ok(BackendMessage::Prompt {
                text: text_field("text"),
                ssml: text_field("ssml"),
                audio,
                barge_in: payload.get("barge_in").and_then(Value::as_bool),
            })
        }
        "end_session" => Ok(BackendMessage::EndSession),
        "transfer_to_agent" => Ok(BackendMessage::TransferToAgent),
        other => Err(Ignored::UnknownType(other.chars().take(64).collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_have_the_python_shape() {
        let text = envelope(
            EventType::DtmfInput,
            "conv-1",
            "3",
            json!({"digits": "12#"}),
        );
        let value: Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["type", "conversation_id", "turn_id", "timestamp", "payload"]
        );
        assert_eq!(value["type"], "dtmf_input");
        assert_eq!(value["conversation_id"], "conv-1");
        assert_eq!(value["turn_id"], "3");
        assert_eq!(value["payload"], json!({"digits": "12#"}));
        let stamp = value["timestamp"].as_str().unwrap();
        assert_eq!(stamp.len(), "2024-05-01T12:00:00.123456Z".len(), "{stamp}");
        assert!(stamp.ends_with('Z'));
    }

    #[test]
    fn timestamps_are_utc_with_microseconds() {
        let at = time::macros::datetime!(2024-05-01 14:00:00.1234567 +02:00);
        assert_eq!(timestamp(at), "2024-05-01T12:00:00.123456Z");
    }

    #[test]
    fn audio_payload_names_the_real_encoding() {
        assert_eq!(
            audio_payload(&[0xFF, 0x7F], AudioEncoding::Mulaw, 8000, false),
            json!({"encoding": "mulaw", "sample_rate": 8000, "channels": 1, "data": "/38=", "is_final": false})
        );
        assert_eq!(
            audio_payload(&[], AudioEncoding::Linear16, 16_000, true)["encoding"],
            "linear16"
        );
        assert_eq!(
            audio_payload(&[], AudioEncoding::Alaw, 8000, true)["is_final"],
            true
        );
    }

    #[test]
    fn backend_messages() {
        assert_eq!(
            parse(r#"{"type":"prompt","payload":{"text":"Hi","audio":"/38=","barge_in":true}}"#),
            Ok(BackendMessage::Prompt {
                text: Some("Hi".into()),
                ssml: None,
                audio: Some(vec![0xFF, 0x7F]),
                barge_in: Some(true),
            })
        );
        assert_eq!(
            parse(r#"{"type":"prompt","payload":{"text":"","ssml":"<speak/>","audio":""}}"#),
            Ok(BackendMessage::Prompt {
                text: None,
                ssml: Some("<speak/>".into()),
                audio: None,
                barge_in: None,
            })
        );
        assert_eq!(
            parse(r#"{"type":"end_session"}"#),
            Ok(BackendMessage::EndSession)
        );
        assert_eq!(
            parse(r#"{"type":"transfer_to_agent","payload":{}}"#),
            Ok(BackendMessage::TransferToAgent)
        );
        assert_eq!(
            parse(r#"{"type":"typing"}"#),
            Err(Ignored::UnknownType("typing".into()))
        );
        assert_eq!(parse("not json"), Err(Ignored::NotJson));
        assert_eq!(parse(r#"{"payload":{}}"#), Err(Ignored::NotJson));
        assert_eq!(parse(r#"[1,2]"#), Err(Ignored::NotJson));
        assert_eq!(
            parse(r#"{"type":"prompt","payload":{"audio":"***"}}"#),
            Err(Ignored::BadAudio)
        );
    }
}
