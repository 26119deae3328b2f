//! The recorded audio of one utterance.

use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use crate::audio::AudioEncoding;

/// The caller's audio of one utterance, from a short pre-roll before the onset to the end.
///
/// Taken from the endpointer with [`take_utterance`](super::Endpointer::take_utterance), usually
/// after [`SpeechEnded`](super::SpeechEnded). It holds the audio as the bytes were received (for
/// passing μ-law straight on to a speech recogniser) and gives it as 16-bit PCM too, decoded on
/// first use: a μ-law utterance costs one byte per sample until someone asks for PCM.
#[derive(Clone)]
pub struct Utterance {
    pub(crate) audio: UtteranceAudio,
    pub(crate) sample_rate: u32,
    pub(crate) encoding: AudioEncoding,
    pub(crate) start: Duration,
    pub(crate) truncated: bool,
    /// `audio` decoded to PCM16, filled by the first [`pcm16`](Self::pcm16) of a received
    /// utterance.
    decoded: OnceLock<Vec<i16>>,
}

/// How an utterance's audio is held.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum UtteranceAudio {
    /// As received, in the utterance's encoding and rate (every sample arrived in that format).
    Received(Vec<u8>),
    /// As PCM16 at the utterance's rate (the caller's format changed during the utterance).
    Pcm16(Vec<i16>),
}

impl Utterance {
    /// An utterance held as the bytes received in `encoding` at `sample_rate`.
    pub(crate) fn from_received(
        received: Vec<u8>,
        encoding: AudioEncoding,
        sample_rate: u32,
        start: Duration,
        truncated: bool,
    ) -> Self {
        Self::new(
            UtteranceAudio::Received(received),
            encoding,
            sample_rate,
            start,
            truncated,
        )
    }

    /// An utterance held as PCM16 at `sample_rate` (no received bytes: the format changed).
    pub(crate) fn from_pcm16(
        pcm16: Vec<i16>,
        encoding: AudioEncoding,
        sample_rate: u32,
        start: Duration,
        truncated: bool,
    ) -> Self {
        Self::new(
            UtteranceAudio::Pcm16(pcm16),
            encoding,
            sample_rate,
            start,
            truncated,
        )
    }

    fn new(
        audio: UtteranceAudio,
        encoding: AudioEncoding,
        sample_rate: u32,
        start: Duration,
        truncated: bool,
    ) -> Self {
        Self {
            audio,
            sample_rate,
            encoding,
            start,
            truncated,
            decoded: OnceLock::new(),
        }
    }

    /// The audio as 16-bit mono PCM at [`sample_rate`](Self::sample_rate) (decoded from the
    /// received bytes on the first call).
    #[must_use]
    pub fn pcm16(&self) -> &[i16] {
        match &self.audio {
            UtteranceAudio::Pcm16(pcm) => pcm,
            UtteranceAudio::Received(bytes) => {
                self.decoded.get_or_init(|| self.encoding.decode(bytes))
            }
        }
    }

    /// Takes the PCM samples.
    #[must_use]
    pub fn into_pcm16(self) -> Vec<i16> {
        match self.audio {
            UtteranceAudio::Pcm16(pcm) => pcm,
            UtteranceAudio::Received(bytes) => self
                .decoded
                .into_inner()
                .unwrap_or_else(|| self.encoding.decode(&bytes)),
        }
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
        match &self.audio {
            UtteranceAudio::Received(bytes) => Some(bytes),
            UtteranceAudio::Pcm16(_) => None,
        }
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
        super::time::samples_to_duration(self.samples() as u64, self.sample_rate)
    }

    /// Whether audio was dropped because the recording reached its size cap (5 minutes).
    #[must_use]
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    fn samples(&self) -> usize {
        match &self.audio {
            UtteranceAudio::Received(bytes) => bytes.len() / self.encoding.bytes_per_sample(),
            UtteranceAudio::Pcm16(pcm) => pcm.len(),
        }
    }
}

impl PartialEq for Utterance {
    fn eq(&self, other: &Self) -> bool {
        // The decoded cache is derived from `audio`: it takes no part.
        self.audio == other.audio
            && self.sample_rate == other.sample_rate
            && self.encoding == other.encoding
            && self.start == other.start
            && self.truncated == other.truncated
    }
}

impl Eq for Utterance {}

impl fmt::Debug for Utterance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Caller audio is personal data: show its size, never its samples.
        f.debug_struct("Utterance")
            .field("duration", &self.duration())
            .field("sample_rate", &self.sample_rate)
            .field("encoding", &self.encoding)
            .field("received", &self.received().map(<[u8]>::len))
            .field("start", &self.start)
            .field("truncated", &self.truncated)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::mulaw;

    #[test]
    fn a_received_utterance_decodes_on_demand() {
        let raw: Vec<u8> = (0..=255).collect();
        let utterance = Utterance::from_received(
            raw.clone(),
            AudioEncoding::Mulaw,
            8000,
            Duration::from_millis(40),
            false,
        );
        assert_eq!(utterance.received(), Some(&raw[..]));
        assert_eq!(utterance.duration(), Duration::from_millis(32));
        assert_eq!(utterance.pcm16(), &mulaw::decode(&raw)[..]);
        // Equal whether or not the PCM was decoded.
        let fresh = Utterance::from_received(
            raw.clone(),
            AudioEncoding::Mulaw,
            8000,
            Duration::from_millis(40),
            false,
        );
        assert_eq!(utterance, fresh);
        assert_eq!(fresh.into_pcm16(), mulaw::decode(&raw));
        assert_eq!(utterance.into_pcm16(), mulaw::decode(&raw));
    }

    #[test]
    fn a_linear16_utterance_counts_two_bytes_per_sample() {
        let samples = [1i16, -2, 300, -400];
        let mut raw = Vec::new();
        crate::audio::pcm16_le_encode_into(&samples, &mut raw);
        let utterance =
            Utterance::from_received(raw, AudioEncoding::Linear16, 16_000, Duration::ZERO, true);
        assert_eq!(utterance.pcm16(), &samples);
        assert_eq!(utterance.duration(), Duration::from_micros(250));
        assert!(utterance.is_truncated());
    }

    #[test]
    fn debug_shows_no_samples() {
        let utterance = Utterance::from_pcm16(
            vec![12_345; 8],
            AudioEncoding::Mulaw,
            8000,
            Duration::ZERO,
            false,
        );
        let text = format!("{utterance:?}");
        assert!(!text.contains("12345"), "{text}");
        assert!(text.contains("received: None"), "{text}");
        assert_eq!(utterance.received(), None);
        assert_eq!(utterance.pcm16(), &[12_345; 8]);
    }
}
