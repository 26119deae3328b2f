//! The endpointing state machine: caller audio in, speech start/end events and the utterance out.

use std::time::Duration;

use super::config::EndpointerConfig;
use super::detector::VoiceDetector;
use super::events::{EndReason, EndpointEvent, Events, SpeechEnded, SpeechStarted};
use super::recording::Recording;
use super::time::samples_to_duration;
use super::utterance::Utterance;
use crate::audio::{AudioEncoding, AudioError, Resampler};

/// Audio messages shorter than this (≤ 15 bytes) are ignored: Webex sends a few stray sample bytes
/// at the start of a call, and Cisco's simulators drop them too.
pub const MIN_AUDIO_MESSAGE: usize = 16;

/// Encoding assumed until a message declares one.
const FALLBACK_ENCODING: AudioEncoding = AudioEncoding::Mulaw;
/// Sample rate assumed until a message declares one.
const FALLBACK_RATE: u32 = 8000;
/// Extra audio kept while waiting for speech, beyond the pre-roll (frame length, filter latency).
const PRE_ROLL_SLACK: Duration = Duration::from_millis(100);
/// How much the waiting buffer may exceed what it must keep before it is trimmed (amortises moves).
const TRIM_HYSTERESIS: Duration = Duration::from_millis(500);

/// Where the endpointer is in the current utterance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EndpointerPhase {
    /// Waiting for speech (no `SpeechStarted` yet).
    Listening,
    /// `SpeechStarted` was emitted; waiting for the end.
    Speaking,
    /// `SpeechEnded` was emitted; further audio is ignored until [`Endpointer::reset`].
    Ended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Silence,
    /// A run of speech frames that began at `start`, not yet long enough.
    Onset {
        start: Duration,
    },
    Speech {
        onset: Duration,
        last_voiced_end: Duration,
    },
    Ended,
}

/// Turns caller audio, as it arrives, into one [`SpeechStarted`] and one [`SpeechEnded`] per
/// utterance, and records the utterance.
///
/// Feed every `audio_input` message to [`push`](Self::push) with its declared encoding and sample
/// rate. The endpointer decodes (μ-law, A-law, LINEAR16), converts the audio to the detector's
/// rate, scores fixed frames with the [`VoiceDetector`] and runs a small state machine:
///
/// - **start**: `start_debounce` of consecutive speech frames → [`SpeechStarted`], whose `onset`
///   is the start of the first of those frames;
/// - **end**: after the start, `end_silence` of consecutive non-speech frames → [`SpeechEnded`]
///   with [`EndReason::Silence`]; or `max_utterance` after the onset → [`EndReason::MaxLength`].
///
/// After the end, audio is ignored until [`reset`](Self::reset). All times are audio time, counted
/// from creation or the last reset. Synchronous and allocation-free in steady state; about 8 KiB
/// plus the recorded audio per endpointer.
///
/// ```
/// use byova_media::audio::{AudioEncoding, mulaw};
/// use byova_media::vad::{EndpointEvent, Endpointer, EndpointerConfig};
///
/// let mut endpointer = Endpointer::new(EndpointerConfig::default());
/// // 20 ms μ-law frames of silence, as Webex sends them: no event.
/// let silence = [mulaw::MULAW_SILENCE; 160];
/// for _ in 0..50 {
///     assert!(endpointer.push(&silence, Some(AudioEncoding::Mulaw), 8000)?.is_empty());
/// }
/// assert_eq!(endpointer.elapsed(), std::time::Duration::from_secs(1));
/// # Ok::<(), byova_media::audio::AudioError>(())
/// ```
#[derive(Debug)]
pub struct Endpointer {
    config: EndpointerConfig,
    detector: Box<dyn VoiceDetector>,
    detector_rate: u32,
    frame_len: usize,
    /// Last encoding and rate a message declared (a zero value means "as before").
    declared_encoding: Option<AudioEncoding>,
    declared_rate: Option<u32>,
    /// Format of the current segment (audio since the last format change).
    format: Option<(AudioEncoding, u32)>,
    segment_start: Duration,
    segment_samples: u64,
    /// Converts the segment's rate to the detector's, when they differ.
    to_detector: Option<Resampler>,
    /// Detector-rate samples not yet scored (less than one frame after each push).
    pending: Vec<i16>,
    /// Detector-rate samples scored in this segment.
    scored: u64,
    /// LINEAR16: a trailing odd byte waiting for its partner.
    odd_byte: Option<u8>,
    pcm: Vec<i16>,
    linear: Vec<u8>,
    state: State,
    recording: Recording,
}

impl Endpointer {
    /// An endpointer with the default detector ([`EarshotDetector`](super::EarshotDetector)).
    #[must_use]
    pub fn new(config: EndpointerConfig) -> Self {
        Self::build(config, Box::new(super::EarshotDetector::new()))
    }

    /// An endpointer running your own detector.
    ///
    /// # Errors
    /// [`UnsupportedSampleRate`](crate::audio::AudioErrorKind::UnsupportedSampleRate) when the
    /// detector's sample rate cannot be converted to (outside 1–384 kHz).
    pub fn with_detector(
        config: EndpointerConfig,
        detector: Box<dyn VoiceDetector>,
    ) -> Result<Self, AudioError> {
        let rate = detector.sample_rate();
        if rate != FALLBACK_RATE {
            Resampler::new(FALLBACK_RATE, rate)?;
        }
        Ok(Self::build(config, detector))
    }

    fn build(config: EndpointerConfig, detector: Box<dyn VoiceDetector>) -> Self {
        let detector_rate = detector.sample_rate();
        let frame_len = detector.frame_len().max(1);
        Self {
            config,
            detector,
            detector_rate,
            frame_len,
            declared_encoding: None,
            declared_rate: None,
            format: None,
            segment_start: Duration::ZERO,
            segment_samples: 0,
            to_detector: None,
            pending: Vec::with_capacity(2 * frame_len),
            scored: 0,
            odd_byte: None,
            pcm: Vec::new(),
            linear: Vec::new(),
            state: State::Silence,
            recording: Recording::new(),
        }
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &EndpointerConfig {
        &self.config
    }

    /// Where the current utterance stands.
    #[must_use]
    pub fn phase(&self) -> EndpointerPhase {
        match self.state {
            State::Silence | State::Onset { .. } => EndpointerPhase::Listening,
            State::Speech { .. } => EndpointerPhase::Speaking,
            State::Ended => EndpointerPhase::Ended,
        }
    }

    /// Audio time received so far (since creation or the last reset), ignored messages excluded.
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        let rate = self.format.map_or(FALLBACK_RATE, |(_, rate)| rate);
        self.segment_start + samples_to_duration(self.segment_samples, rate)
    }

    /// Feeds one caller audio message.
    ///
    /// `encoding` `None` (the wire's unspecified value) and `sample_rate` `0` mean "as the last
    /// message that declared one", else 8 kHz μ-law. Messages shorter than [`MIN_AUDIO_MESSAGE`]
    /// only update those remembered values. After [`SpeechEnded`], audio is ignored.
    ///
    /// # Errors
    /// [`UnsupportedSampleRate`](crate::audio::AudioErrorKind::UnsupportedSampleRate) for a rate
    /// that cannot be converted (outside 1–384 kHz, or an odd ratio); the message is dropped and
    /// nothing changes.
    pub fn push(
        &mut self,
        audio: &[u8],
        encoding: Option<AudioEncoding>,
        sample_rate: u32,
    ) -> Result<Events, AudioError> {
        let mut events = Events::default();
        let resolved_encoding = encoding
            .or(self.declared_encoding)
            .unwrap_or(FALLBACK_ENCODING);
        let resolved_rate = match sample_rate {
            0 => self.declared_rate.unwrap_or(FALLBACK_RATE),
            rate => rate,
        };
        if self.format != Some((resolved_encoding, resolved_rate)) {
            self.switch_format(resolved_encoding, resolved_rate)?;
        }
        if encoding.is_some() {
            self.declared_encoding = encoding;
        }
        if sample_rate != 0 {
            self.declared_rate = Some(sample_rate);
        }
        if audio.len() < MIN_AUDIO_MESSAGE || self.state == State::Ended {
            return Ok(events);
        }

        // Decode, keeping LINEAR16 sample-aligned across messages.
        let mut linear = std::mem::take(&mut self.linear);
        let raw: &[u8] = if resolved_encoding == AudioEncoding::Linear16 {
            linear.clear();
            linear.extend(self.odd_byte.take());
            linear.extend_from_slice(audio);
            if linear.len() % 2 == 1 {
                self.odd_byte = linear.pop();
            }
            &linear
        } else {
            audio
        };
        self.pcm.clear();
        resolved_encoding.decode_into(raw, &mut self.pcm);
        self.segment_samples += self.pcm.len() as u64;
        self.recording
            .append(&self.pcm, raw, resolved_encoding, resolved_rate);
        self.linear = linear;

        match &mut self.to_detector {
            None => self.pending.extend_from_slice(&self.pcm),
            Some(resampler) => resampler.process(&self.pcm, &mut self.pending),
        }
        self.score_frames(&mut events);
        self.trim_waiting_audio();
        Ok(events)
    }

    /// Scores every complete frame in `pending`, advancing the state machine.
    fn score_frames(&mut self, events: &mut Events) {
        let mut consumed = 0;
        while self.pending.len() - consumed >= self.frame_len {
            let start = self.segment_start + samples_to_duration(self.scored, self.detector_rate);
            self.scored += self.frame_len as u64;
            let end = self.segment_start + samples_to_duration(self.scored, self.detector_rate);
            let frame = &self.pending[consumed..consumed + self.frame_len];
            consumed += self.frame_len;
            let probability = self.detector.speech_probability(frame);
            self.step(probability >= self.config.threshold, start, end, events);
            if self.state == State::Ended {
                self.pending.clear();
                return;
            }
        }
        self.pending.drain(..consumed);
    }

    fn step(&mut self, voiced: bool, start: Duration, end: Duration, events: &mut Events) {
        match self.state {
            State::Silence if voiced => {
                self.state = State::Onset { start };
                self.check_debounce(start, end, events);
            }
            State::Silence | State::Ended => {}
            State::Onset { start: onset } => {
                if voiced {
                    self.check_debounce(onset, end, events);
                } else {
                    self.state = State::Silence;
                }
            }
            State::Speech {
                onset,
                last_voiced_end,
            } => {
                let last_voiced_end = if voiced { end } else { last_voiced_end };
                self.state = State::Speech {
                    onset,
                    last_voiced_end,
                };
                let reason = if end.saturating_sub(onset) >= self.config.max_utterance {
                    Some(EndReason::MaxLength)
                } else if end.saturating_sub(last_voiced_end) >= self.config.end_silence {
                    Some(EndReason::Silence)
                } else {
                    None
                };
                if let Some(reason) = reason {
                    self.state = State::Ended;
                    self.recording.truncate_at(end);
                    events.push(EndpointEvent::SpeechEnded(SpeechEnded {
                        speech_end: last_voiced_end,
                        at: end,
                        reason,
                    }));
                }
            }
        }
    }

    fn check_debounce(&mut self, onset: Duration, end: Duration, events: &mut Events) {
        if end.saturating_sub(onset) < self.config.start_debounce {
            return;
        }
        self.state = State::Speech {
            onset,
            last_voiced_end: end,
        };
        self.recording
            .trim_before(onset.saturating_sub(self.config.pre_roll));
        events.push(EndpointEvent::SpeechStarted(SpeechStarted {
            onset,
            at: end,
        }));
    }

    /// While waiting for speech, keeps only the pre-roll the next onset may need.
    fn trim_waiting_audio(&mut self) {
        let keep_from = match self.state {
            State::Silence => self
                .elapsed()
                .saturating_sub(self.config.pre_roll + PRE_ROLL_SLACK),
            State::Onset { start } => start.saturating_sub(self.config.pre_roll),
            State::Speech { .. } | State::Ended => return,
        };
        if keep_from >= self.recording.start() + TRIM_HYSTERESIS {
            self.recording.trim_before(keep_from);
        }
    }

    fn switch_format(&mut self, encoding: AudioEncoding, rate: u32) -> Result<(), AudioError> {
        let to_detector = if rate == self.detector_rate {
            None
        } else {
            Some(Resampler::for_analysis(rate, self.detector_rate)?)
        };
        let now = self.elapsed();
        self.to_detector = to_detector;
        self.format = Some((encoding, rate));
        self.segment_start = now;
        self.segment_samples = 0;
        self.scored = 0;
        self.pending.clear();
        self.odd_byte = None;
        match self.state {
            State::Silence | State::Onset { .. } => {
                self.state = State::Silence;
                self.recording.restart(encoding, rate, now);
            }
            // The recording converts to the utterance's format; the end is still detected.
            State::Speech { .. } | State::Ended => {}
        }
        Ok(())
    }

    /// Takes the recorded utterance: from `pre_roll` before the onset up to the end (or up to now
    /// when called before [`SpeechEnded`]; later audio then starts a new recording).
    ///
    /// `None` before [`SpeechStarted`], and after the utterance was taken.
    pub fn take_utterance(&mut self) -> Option<Utterance> {
        match self.state {
            State::Speech { .. } | State::Ended if self.recording.duration() > Duration::ZERO => {
                Some(self.recording.take())
            }
            _ => None,
        }
    }

    /// Starts over for the next utterance: listening, audio time back to zero, recording and
    /// detector cleared. The encoding and rate last declared are kept.
    pub fn reset(&mut self) {
        self.detector.reset();
        self.state = State::Silence;
        self.segment_start = Duration::ZERO;
        self.segment_samples = 0;
        self.scored = 0;
        self.pending.clear();
        self.odd_byte = None;
        if let Some(resampler) = &mut self.to_detector {
            resampler.reset();
        }
        let (encoding, rate) = self.format.unwrap_or((FALLBACK_ENCODING, FALLBACK_RATE));
        self.recording.restart(encoding, rate, Duration::ZERO);
    }
}

#[cfg(test)]
mod tests;
