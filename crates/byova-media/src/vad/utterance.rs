//! The recorded audio of one utterance.

use std::time::Duration;

use crate::audio::AudioEncoding;

/// The caller's audio of one utterance, from a short pre-roll before the onset to the end.
///
/// Taken from the endpointer with [`take_utterance`](super::Endpointer::take_utterance), usually
/// after [`SpeechEnded`](super::SpeechEnded). It holds the audio both as 16-bit PCM and as the
/// bytes were received (for passing μ-law straight on to a speech recogniser).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utterance {
    pub(crate) pcm16: Vec<i16>,
    pub(crate) sample_rate: u32,
    pub(crate) received: Option<Vec<u8>>,
    pub(crate) encoding: AudioEncoding,
    pub(crate) start: Duration,
    pub(crate) truncated: bool,
}

impl Utterance {
    /// The audio as 16-bit mono PCM at [`sample_rate`](Self::sample_rate).
    #[must_use]
    pub fn pcm16(&self) -> &[i16] {
        &self.pcm16
    }

    /// Takes the PCM samples.
    #[must_use]
    pub fn into_pcm16(self) -> Vec<i16> {
        self.pcm16
    }

    /// Sample rate of the audio in Hz (the caller's rate at the onset).
    #[must_use]
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The same audio as received, in [`encoding`](Self::encoding); `None` if the caller's
    /// encoding or rate changed during the utterance (the PCM is still complete).
    #[must_use]
    pub fn received(&self) -> Option<&[u8]> {
        self.received.as_deref()
    }

    /// Encoding of [`received`](Self::received).
    #[must_use]
    pub fn encoding(&self) -> AudioEncoding {
        self.encoding
    }

    /// Audio time of the first sample (the onset minus the pre-roll, when that much was heard).
    #[must_use]
    pub fn start(&self) -> Duration {
        self.start
    }

    /// Length of the audio.
    #[must_use]
    pub fn duration(&self) -> Duration {
        super::time::samples_to_duration(self.pcm16.len() as u64, self.sample_rate)
    }

    /// Whether audio was dropped because the recording reached its size cap (5 minutes).
    #[must_use]
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}
