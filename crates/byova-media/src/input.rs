//! What a [`VirtualAgent`](crate::VirtualAgent) receives: session start, utterances, audio
//! frames, DTMF digits, events and the session end.

use std::fmt;
use std::time::Duration;

use crate::audio::AudioEncoding;
use crate::json::JsonObject;
use crate::vad;

/// The `SESSION_START` event that opened the conversation.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SessionStart {
    /// The event name set by the flow (for example `entry`); may be empty.
    pub name: String,
    /// The event parameters set by the flow, as JSON.
    pub parameters: JsonObject,
}

/// The caller's complete utterance, delivered after END_OF_INPUT: from a short pre-roll before
/// the speech onset to the end, as 16-bit PCM and as received.
#[derive(Clone)]
pub struct Utterance {
    pub(crate) recorded: vad::Utterance,
    pub(crate) language: Option<String>,
    pub(crate) end: UtteranceEnd,
}

/// Why an utterance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UtteranceEnd {
    /// Trailing silence after speech.
    Silence,
    /// The maximum utterance length was reached.
    MaxLength,
    /// The caller side half-closed the RPC while speech was still going on.
    InputClosed,
}

impl Utterance {
    /// The audio as 16-bit mono PCM at [`sample_rate`](Self::sample_rate).
    #[must_use]
    pub fn pcm16(&self) -> &[i16] {
        self.recorded.pcm16()
    }

    /// Takes the PCM samples.
    #[must_use]
    pub fn into_pcm16(self) -> Vec<i16> {
        self.recorded.into_pcm16()
    }

    /// The same audio exactly as received, in [`encoding`](Self::encoding) (for passing μ-law
    /// straight on to a recognizer); `None` if the caller's encoding or rate changed during the
    /// utterance.
    #[must_use]
    pub fn received(&self) -> Option<&[u8]> {
        self.recorded.received()
    }

    /// The encoding of [`received`](Self::received).
    #[must_use]
    pub fn encoding(&self) -> AudioEncoding {
        self.recorded.encoding()
    }

    /// The sample rate of the audio, in hertz.
    #[must_use]
    pub fn sample_rate(&self) -> u32 {
        self.recorded.sample_rate()
    }

    /// The caller language the client sent (for example `en-US`), if any.
    #[must_use]
    pub fn language(&self) -> Option<&str> {
        self.language.as_deref()
    }

    /// Why the utterance ended.
    #[must_use]
    pub fn end(&self) -> UtteranceEnd {
        self.end
    }

    /// The length of the audio.
    #[must_use]
    pub fn duration(&self) -> Duration {
        self.recorded.duration()
    }

    /// The endpointer's recording (with its audio-time start and truncation flag).
    #[must_use]
    pub fn recording(&self) -> &vad::Utterance {
        &self.recorded
    }
}

impl fmt::Debug for Utterance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Caller audio is personal data: show its size, never its samples.
        f.debug_struct("Utterance")
            .field("duration", &self.duration())
            .field("encoding", &self.encoding())
            .field("sample_rate", &self.sample_rate())
            .field("language", &self.language)
            .field("end", &self.end)
            .finish()
    }
}

/// One piece of caller audio, given to [`VirtualAgent::on_audio`](crate::VirtualAgent::on_audio)
/// as it arrives (for streaming speech recognition).
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct AudioFrame<'a> {
    /// The audio as received.
    pub audio: &'a [u8],
    /// Its encoding.
    pub encoding: AudioEncoding,
    /// Its sample rate, in hertz.
    pub sample_rate: u32,
    /// Whether the endpointer considers the caller to be speaking at the end of this frame.
    pub in_speech: bool,
}

impl fmt::Debug for AudioFrame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AudioFrame")
            .field("bytes", &self.audio.len())
            .field("encoding", &self.encoding)
            .field("sample_rate", &self.sample_rate)
            .field("in_speech", &self.in_speech)
            .finish()
    }
}

/// DTMF digits the caller entered, as characters: `0`–`9`, `A`–`D`, `*` and `#`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dtmf {
    /// The digits in order; empty when Webex submitted an empty collection.
    pub digits: String,
}

impl Dtmf {
    /// Creates a DTMF input, for example to unit-test an agent.
    #[must_use]
    pub fn new(digits: impl Into<String>) -> Self {
        Self {
            digits: digits.into(),
        }
    }
}

/// An input event other than session start and end.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// Webex's no-input timer expired.
    NoInput,
    /// The caller started pressing keys; the digits follow on a later turn.
    StartOfDtmf,
    /// A custom event sent by the flow.
    Custom {
        /// The event name.
        name: String,
        /// The event parameters, as JSON.
        parameters: JsonObject,
    },
}

/// How and why a conversation ended, given to
/// [`VirtualAgent::on_session_end`](crate::VirtualAgent::on_session_end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionEnd {
    /// Why the conversation ended.
    pub reason: SessionEndReason,
    /// How long the conversation lasted (first message to end).
    pub duration: Duration,
}

/// Why a conversation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionEndReason {
    /// Webex sent `SESSION_END` (the caller hung up or the flow moved on).
    CallerEnded,
    /// The agent ended the session (a reply with a session-end event).
    AgentEnded,
    /// The agent transferred the call to a human (a reply with a transfer event).
    Transferred,
    /// The caller side cancelled an RPC of the conversation.
    Cancelled,
    /// No traffic for longer than the idle timeout.
    IdleTimeout,
    /// The conversation exceeded the maximum call duration.
    MaxDuration,
    /// The agent returned an error or panicked.
    AgentFailed,
    /// The caller side broke the protocol (malformed or invalid messages).
    ProtocolError,
    /// The server shut down.
    Shutdown,
}

impl SessionEndReason {
    /// A short stable name (used in logs and metrics labels).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CallerEnded => "caller_ended",
            Self::AgentEnded => "agent_ended",
            Self::Transferred => "transferred",
            Self::Cancelled => "cancelled",
            Self::IdleTimeout => "idle_timeout",
            Self::MaxDuration => "max_duration",
            Self::AgentFailed => "agent_failed",
            Self::ProtocolError => "protocol_error",
            Self::Shutdown => "shutdown",
        }
    }
}

impl fmt::Display for SessionEndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_reasons_have_stable_names() {
        assert_eq!(SessionEndReason::CallerEnded.as_str(), "caller_ended");
        assert_eq!(SessionEndReason::MaxDuration.to_string(), "max_duration");
    }
}
