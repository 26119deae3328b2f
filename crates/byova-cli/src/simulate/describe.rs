//! Names and summaries of what a server sent, shared by the timeline and the JSON report.

use std::time::Duration;

use byova::media::audio::{Wav, WavFormat};
use byova::media::client::{EventType, ResponseType};
use byova::media::proto::text_content::InputContent;
use byova::media::proto::{InputHandlingConfig, TextContent, VoiceVaInputMode};

/// `FINAL`, `PARTIAL`, `CHUNK` (or `type N` for an unknown value).
pub(super) fn response_type(value: i32) -> String {
    ResponseType::try_from(value)
        .map_or_else(|_| format!("type {value}"), |t| t.as_str_name().to_owned())
}

/// `END_OF_INPUT`, `SESSION_END`, … (or `event N`).
pub(super) fn event_type(value: i32) -> String {
    EventType::try_from(value)
        .map_or_else(|_| format!("event {value}"), |t| t.as_str_name().to_owned())
}

/// `INPUT_VOICE_DTMF`, … ; `None` when unset.
pub(super) fn input_mode(value: i32) -> Option<String> {
    match value {
        0 => None,
        value => Some(
            VoiceVaInputMode::try_from(value)
                .map_or_else(|_| format!("mode {value}"), |m| m.as_str_name().to_owned()),
        ),
    }
}

pub(super) use byova::media::client::code_name;

/// What a prompt's audio is.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct AudioInfo {
    pub(super) bytes: usize,
    /// A WAV file (`Some(format)`) or raw bytes (`None`, taken as 8 kHz μ-law).
    pub(super) wav: Option<String>,
    /// Playing time, when known.
    pub(super) duration: Option<Duration>,
}

impl AudioInfo {
    pub(super) fn of(audio: &[u8]) -> Self {
        if audio.starts_with(b"RIFF") {
            return match Wav::parse(audio) {
                Ok(wav) => Self {
                    bytes: audio.len(),
                    wav: Some(format!(
                        "{} {} Hz{}",
                        format_name(wav.format()),
                        wav.sample_rate(),
                        if wav.channels() == 1 { "" } else { " stereo" }
                    )),
                    duration: Some(wav.duration()),
                },
                Err(_) => Self {
                    bytes: audio.len(),
                    wav: Some("unreadable WAV".to_owned()),
                    duration: None,
                },
            };
        }
        Self {
            bytes: audio.len(),
            wav: None,
            duration: Some(Duration::from_micros(audio.len() as u64 * 125)),
        }
    }

    /// `1.25 s WAV μ-law 8000 Hz` or `8000 B (1.00 s μ-law)`.
    pub(super) fn describe(&self) -> String {
        match (&self.wav, self.duration) {
            (Some(format), Some(duration)) => {
                format!("{} WAV {format}", seconds(duration))
            }
            (Some(format), None) => format!("{} B {format}", self.bytes),
            (None, _) => format!(
                "{} B ({} μ-law)",
                self.bytes,
                seconds(self.duration.unwrap_or_default())
            ),
        }
    }
}

fn format_name(format: WavFormat) -> String {
    match format {
        WavFormat::Mulaw => "μ-law".to_owned(),
        WavFormat::Alaw => "A-law".to_owned(),
        WavFormat::Pcm { bits } => format!("PCM{bits}"),
        WavFormat::Float { bits } => format!("float{bits}"),
    }
}

/// `1.25 s`.
pub(super) fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

/// The text of a `TextContent` (plain or SSML).
pub(super) fn text(content: &TextContent) -> Option<&str> {
    match &content.input_content {
        Some(InputContent::Text(text) | InputContent::Ssml(text)) => Some(text),
        None => None,
    }
}

/// `DTMF 1 digit, # ends, 3000 ms between; speech complete 800 ms, no input 10000 ms`.
pub(super) fn input_config(config: &InputHandlingConfig) -> String {
    let mut parts = Vec::new();
    if let Some(dtmf) = &config.dtmf_config {
        let mut words = vec![match dtmf.dtmf_input_length {
            1 => "DTMF 1 digit".to_owned(),
            n => format!("DTMF {n} digits"),
        }];
        if let Some(key) = byova::media::dtmf::digit_to_char(dtmf.termchar) {
            words.push(format!("{key} ends"));
        }
        if dtmf.inter_digit_timeout_msec > 0 {
            words.push(format!("{} ms between", dtmf.inter_digit_timeout_msec));
        }
        parts.push(words.join(", "));
    }
    if let Some(timers) = &config.speech_timers {
        let mut words = Vec::new();
        for (name, value) in [
            ("complete", timers.complete_timeout_msec),
            ("incomplete", timers.incomplete_timeout_msec),
            ("max speech", timers.max_speech_timeout_msec),
            ("no input", timers.no_input_timeout_msec),
        ] {
            if value > 0 {
                words.push(format!("{name} {value} ms"));
            }
        }
        if !words.is_empty() {
            parts.push(format!("speech {}", words.join(", ")));
        }
    }
    parts.join("; ")
}

/// `text` cut to `max` characters with an ellipsis.
pub(super) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut clipped: String = text.chars().take(max.saturating_sub(1)).collect();
    clipped.push('…');
    clipped
}

#[cfg(test)]
mod tests {
    use byova::media::audio::mulaw_wav;
    use byova::media::proto::{DtmfInputConfig, InputSpeechTimers};

    use super::*;

    #[test]
    fn audio_is_described_by_its_container() {
        let wav = mulaw_wav(&[0xFF; 8000]);
        assert_eq!(AudioInfo::of(&wav).describe(), "1.00 s WAV μ-law 8000 Hz");
        assert_eq!(
            AudioInfo::of(&[0xFF; 4000]).describe(),
            "4000 B (0.50 s μ-law)"
        );
        assert_eq!(AudioInfo::of(b"RIFFjunk").describe(), "8 B unreadable WAV");
    }

    #[test]
    fn names_and_configs() {
        assert_eq!(response_type(2), "CHUNK");
        assert_eq!(response_type(9), "type 9");
        assert_eq!(event_type(5), "END_OF_INPUT");
        assert_eq!(input_mode(3).as_deref(), Some("INPUT_VOICE_DTMF"));
        assert_eq!(input_mode(0), None);
        let config = InputHandlingConfig {
            dtmf_config: Some(DtmfInputConfig {
                inter_digit_timeout_msec: 3000,
                termchar: 16,
                dtmf_input_length: 1,
            }),
            speech_timers: Some(InputSpeechTimers {
                complete_timeout_msec: 800,
                no_input_timeout_msec: 10_000,
                ..InputSpeechTimers::default()
            }),
        };
        assert_eq!(
            input_config(&config),
            "DTMF 1 digit, # ends, 3000 ms between; speech complete 800 ms, no input 10000 ms"
        );
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
