//! The protocol rules a BYOVA server's replies must follow, checked RPC by RPC.
//!
//! Feed an [`RpcCheck`] every response of one `ProcessCallerInput` RPC, then its final status;
//! it returns the [`Violation`]s, each naming its [`Rule`].
//!
//! ```
//! use byova_media::client::rules::{Rule, RpcCheck};
//! use byova_media::proto::{Prompt, VoiceVaResponse};
//!
//! let chunk = VoiceVaResponse {
//!     response_type: 2, // CHUNK
//!     prompts: vec![Prompt { audio_content: vec![0xFF; 50].into(), ..Prompt::default() }],
//!     ..VoiceVaResponse::default()
//! };
//! let mut check = RpcCheck::new();
//! check.response(&chunk);
//! let violations = check.finish(&tonic::Status::ok(""));
//! let rules: Vec<Rule> = violations.iter().map(|v| v.rule).collect();
//! // 50 bytes is too small a chunk, and the RPC did not end with a FINAL.
//! assert_eq!(rules, [Rule::ChunkSize, Rule::LastMessageFinal]);
//! ```

use std::fmt;

use tonic::{Code, Status};

use crate::audio::{MAX_CHUNK, MIN_CHUNK};
use crate::proto::VoiceVaResponse;
use crate::proto::output_event::EventType;
use crate::proto::voice_va_response::ResponseType;

/// A protocol rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Rule {
    /// The last message of an RPC is a FINAL.
    LastMessageFinal,
    /// At most one FINAL of an RPC carries prompts.
    OnePromptFinal,
    /// Every CHUNK's audio is 100 B – 64 KiB.
    ChunkSize,
    /// CHUNK audio is raw: no RIFF (WAV) header.
    NoRiffInChunk,
    /// At most one START_OF_INPUT / END_OF_INPUT pair per utterance, START first.
    OneStartEndPair,
    /// The RPC completes with status OK.
    StatusOk,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Self; 6] = [
        Self::LastMessageFinal,
        Self::OnePromptFinal,
        Self::ChunkSize,
        Self::NoRiffInChunk,
        Self::OneStartEndPair,
        Self::StatusOk,
    ];

    /// A short stable name (`last-message-final`, `chunk-size`, …).
    #[must_use]
    pub fn id(self) -> &'static str {
        match self {
            Self::LastMessageFinal => "last-message-final",
            Self::OnePromptFinal => "one-prompt-final",
            Self::ChunkSize => "chunk-size",
            Self::NoRiffInChunk => "no-riff-in-chunk",
            Self::OneStartEndPair => "one-start-end-pair",
            Self::StatusOk => "status-ok",
        }
    }

    /// The rule in words.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Self::LastMessageFinal => "the last message of each RPC is a FINAL",
            Self::OnePromptFinal => "at most one FINAL per RPC carries prompts",
            Self::ChunkSize => "CHUNK audio is 100 B - 64 KiB",
            Self::NoRiffInChunk => "CHUNK audio is raw, without a RIFF header",
            Self::OneStartEndPair => "at most one START_OF_INPUT/END_OF_INPUT pair per utterance",
            Self::StatusOk => "each RPC completes with status OK",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A broken rule: which, where, and what was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// Index of the offending response within its RPC (`None` for the RPC as a whole).
    pub response: Option<usize>,
    /// What was seen.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.rule, self.message)?;
        if let Some(index) = self.response {
            write!(f, " (response #{})", index + 1)?;
        }
        Ok(())
    }
}

/// Checks the responses of one RPC.
#[derive(Debug, Default)]
pub struct RpcCheck {
    responses: usize,
    last_type: Option<i32>,
    prompt_finals: usize,
    starts: usize,
    ends: usize,
    violations: Vec<Violation>,
}

impl RpcCheck {
    /// A check for a new RPC.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next response.
    pub fn response(&mut self, response: &VoiceVaResponse) {
        let index = self.responses;
        self.responses += 1;
        self.last_type = Some(response.response_type);
        let kind = ResponseType::try_from(response.response_type).ok();
        if kind == Some(ResponseType::Final) && !response.prompts.is_empty() {
            self.prompt_finals += 1;
            if self.prompt_finals == 2 {
                self.violate(
                    Rule::OnePromptFinal,
                    Some(index),
                    "a second FINAL carrying prompts".to_owned(),
                );
            }
        }
        if kind == Some(ResponseType::Chunk) {
            for (n, prompt) in response.prompts.iter().enumerate() {
                let len = prompt.audio_content.len();
                if len == 0 {
                    continue;
                }
                if !(MIN_CHUNK..=MAX_CHUNK).contains(&len) {
                    self.violate(
                        Rule::ChunkSize,
                        Some(index),
                        format!("CHUNK prompt {} carries {len} bytes of audio", n + 1),
                    );
                }
                if prompt.audio_content.starts_with(b"RIFF") {
                    self.violate(
                        Rule::NoRiffInChunk,
                        Some(index),
                        format!("CHUNK prompt {} starts with a RIFF header", n + 1),
                    );
                }
            }
        }
        for event in &response.output_events {
            if event.event_type == EventType::StartOfInput as i32 {
                self.starts += 1;
                if self.starts > 1 {
                    self.violate(
                        Rule::OneStartEndPair,
                        Some(index),
                        "a second START_OF_INPUT".to_owned(),
                    );
                } else if self.ends > 0 {
                    self.violate(
                        Rule::OneStartEndPair,
                        Some(index),
                        "START_OF_INPUT after END_OF_INPUT".to_owned(),
                    );
                }
            } else if event.event_type == EventType::EndOfInput as i32 {
                self.ends += 1;
                if self.ends > 1 {
                    self.violate(
                        Rule::OneStartEndPair,
                        Some(index),
                        "a second END_OF_INPUT".to_owned(),
                    );
                }
            }
        }
    }

    /// The violations seen so far.
    #[must_use]
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Ends the RPC with `status`; returns every violation.
    #[must_use]
    pub fn finish(mut self, status: &Status) -> Vec<Violation> {
        if status.code() == Code::Ok {
            if let Some(last) = self.last_type
                && last != ResponseType::Final as i32
            {
                let name = ResponseType::try_from(last)
                    .map_or_else(|_| format!("type {last}"), |t| t.as_str_name().to_owned());
                self.violate(
                    Rule::LastMessageFinal,
                    Some(self.responses - 1),
                    format!("the RPC ended after a {name}, not a FINAL"),
                );
            }
        } else {
            let message = if status.message().is_empty() {
                format!("status {}", super::code_name(status.code()))
            } else {
                format!(
                    "status {}: {}",
                    super::code_name(status.code()),
                    status.message()
                )
            };
            self.violate(Rule::StatusOk, None, message);
        }
        self.violations
    }

    fn violate(&mut self, rule: Rule, response: Option<usize>, message: String) {
        self.violations.push(Violation {
            rule,
            response,
            message,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{OutputEvent, Prompt};

    fn response(kind: ResponseType, audio: &[&[u8]], events: &[EventType]) -> VoiceVaResponse {
        VoiceVaResponse {
            response_type: kind as i32,
            prompts: audio
                .iter()
                .map(|bytes| Prompt {
                    audio_content: bytes.to_vec().into(),
                    ..Prompt::default()
                })
                .collect(),
            output_events: events
                .iter()
                .map(|&event| OutputEvent {
                    event_type: event as i32,
                    ..OutputEvent::default()
                })
                .collect(),
            ..VoiceVaResponse::default()
        }
    }

    fn rules(responses: &[VoiceVaResponse], status: &Status) -> Vec<Rule> {
        let mut check = RpcCheck::new();
        for r in responses {
            check.response(r);
        }
        check.finish(status).iter().map(|v| v.rule).collect()
    }

    const OK: fn() -> Status = || Status::ok("");

    #[test]
    fn a_chunk_mode_utterance_reply_is_clean() {
        let audio = vec![0xFFu8; 800];
        let turn = [
            response(ResponseType::Final, &[], &[EventType::StartOfInput]),
            response(ResponseType::Chunk, &[], &[EventType::EndOfInput]),
            response(ResponseType::Chunk, &[&audio], &[]),
            response(ResponseType::Chunk, &[&[0x7F; 100]], &[]),
            response(ResponseType::Final, &[b""], &[]),
        ];
        assert_eq!(rules(&turn, &OK()), []);
        // No response at all is fine too (START_OF_DTMF).
        assert_eq!(rules(&[], &OK()), []);
    }

    #[test]
    fn each_rule_is_named() {
        let max = vec![0u8; MAX_CHUNK + 1];
        let mut riff = b"RIFF".to_vec();
        riff.resize(200, 0);
        let cases: Vec<(Vec<VoiceVaResponse>, Status, Vec<Rule>)> = vec![
            (
                vec![response(ResponseType::Chunk, &[&[1; 200]], &[])],
                OK(),
                vec![Rule::LastMessageFinal],
            ),
            (
                vec![
                    response(ResponseType::Final, &[b"a"], &[]),
                    response(ResponseType::Final, &[b"b"], &[]),
                ],
                OK(),
                vec![Rule::OnePromptFinal],
            ),
            (
                vec![
                    response(ResponseType::Chunk, &[&[1; 99], &max], &[]),
                    response(ResponseType::Final, &[], &[]),
                ],
                OK(),
                vec![Rule::ChunkSize, Rule::ChunkSize],
            ),
            (
                vec![
                    response(ResponseType::Chunk, &[&riff], &[]),
                    response(ResponseType::Final, &[], &[]),
                ],
                OK(),
                vec![Rule::NoRiffInChunk],
            ),
            (
                vec![
                    response(ResponseType::Final, &[], &[EventType::StartOfInput]),
                    response(ResponseType::Final, &[], &[EventType::StartOfInput]),
                    response(
                        ResponseType::Final,
                        &[],
                        &[EventType::EndOfInput, EventType::EndOfInput],
                    ),
                ],
                OK(),
                vec![Rule::OneStartEndPair, Rule::OneStartEndPair],
            ),
            (
                vec![
                    response(ResponseType::Final, &[], &[EventType::EndOfInput]),
                    response(ResponseType::Final, &[], &[EventType::StartOfInput]),
                ],
                OK(),
                vec![Rule::OneStartEndPair],
            ),
            (
                vec![response(ResponseType::Chunk, &[], &[])],
                Status::internal("boom"),
                vec![Rule::StatusOk],
            ),
        ];
        for (responses, status, expected) in cases {
            assert_eq!(rules(&responses, &status), expected, "{responses:?}");
        }
    }

    #[test]
    fn violations_read_well() {
        let mut check = RpcCheck::new();
        check.response(&response(ResponseType::Chunk, &[&[0; 50]], &[]));
        let text: Vec<String> = check
            .finish(&Status::ok(""))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            text,
            [
                "[chunk-size] CHUNK prompt 1 carries 50 bytes of audio (response #1)",
                "[last-message-final] the RPC ended after a CHUNK, not a FINAL (response #1)",
            ]
        );
        let ids: Vec<String> = Rule::ALL.iter().map(ToString::to_string).collect();
        assert_eq!(
            ids,
            [
                "last-message-final",
                "one-prompt-final",
                "chunk-size",
                "no-riff-in-chunk",
                "one-start-end-pair",
                "status-ok",
            ]
        );
    }
}
