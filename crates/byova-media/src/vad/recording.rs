//! The endpointer's audio buffer: a rolling pre-roll while waiting for speech, then the utterance.
//!
//! Memory matters here: every caller in a turn has one. The audio is kept once, as received (one
//! byte per sample for G.711), and decoded to PCM only when the agent asks for it
//! ([`Utterance::pcm16`]). Only a mid-recording format change switches the buffer to PCM. The
//! buffer grows in steps of a quarter second (or a quarter of its size, for long utterances)
//! rather than by doubling, so it stays within a few KiB of what it holds.

use std::time::Duration;

use super::time::{duration_to_samples, samples_to_duration};
use super::utterance::Utterance;
use crate::audio::{AudioEncoding, Resampler};

/// The most audio one recording keeps (5 minutes); later audio is dropped and flagged.
pub(super) const RECORDING_CAP: Duration = Duration::from_secs(300);

/// The smallest growth step of the buffer, as audio time.
const GROWTH_STEP: Duration = Duration::from_millis(250);

/// Audio kept in the caller's format (at the format of its first sample), with its start time.
#[derive(Debug)]
pub(super) struct Recording {
    /// The audio as received, while every sample arrived as (`encoding`, `rate`).
    raw: Vec<u8>,
    /// The audio as PCM at `rate`, once a mid-recording format change made `raw` unusable.
    pcm: Vec<i16>,
    /// Whether the audio is in `raw` (else in `pcm`).
    raw_valid: bool,
    rate: u32,
    encoding: AudioEncoding,
    /// Audio time of the first sample.
    start: Duration,
    /// Converts input at a different rate than `rate` (after a mid-recording format change).
    converter: Option<Resampler>,
    scratch: Vec<i16>,
    truncated: bool,
}

impl Recording {
    pub(super) fn new() -> Self {
        Self {
            raw: Vec::new(),
            pcm: Vec::new(),
            raw_valid: true,
            rate: 8000,
            encoding: AudioEncoding::Mulaw,
            start: Duration::ZERO,
            converter: None,
            scratch: Vec::new(),
            truncated: false,
        }
    }

    /// Empties the buffer; the next sample has format (`encoding`, `rate`) and time `start`.
    pub(super) fn restart(&mut self, encoding: AudioEncoding, rate: u32, start: Duration) {
        self.raw.clear();
        self.pcm = Vec::new();
        self.raw_valid = true;
        self.rate = rate;
        self.encoding = encoding;
        self.start = start;
        self.converter = None;
        self.scratch = Vec::new();
        self.truncated = false;
    }

    /// Audio time of the first sample.
    pub(super) fn start(&self) -> Duration {
        self.start
    }

    /// Audio time just after the last sample.
    pub(super) fn end(&self) -> Duration {
        self.start + self.duration()
    }

    /// Samples held.
    fn samples(&self) -> usize {
        if self.raw_valid {
            self.raw.len() / self.encoding.bytes_per_sample()
        } else {
            self.pcm.len()
        }
    }

    /// Appends `pcm` (at `rate`) and the `raw` bytes it was decoded from (in `encoding`).
    pub(super) fn append(&mut self, pcm: &[i16], raw: &[u8], encoding: AudioEncoding, rate: u32) {
        let cap =
            usize::try_from(duration_to_samples(RECORDING_CAP, self.rate)).unwrap_or(usize::MAX);
        if self.raw_valid && (rate != self.rate || encoding != self.encoding) {
            self.switch_to_pcm();
        }
        let room = cap.saturating_sub(self.samples());
        if self.raw_valid {
            let width = encoding.bytes_per_sample();
            let take = pcm.len().min(raw.len() / width).min(room);
            if take < pcm.len() {
                self.truncated = true;
            }
            let step = self.step_samples() * width;
            grow(&mut self.raw, take * width, step);
            self.raw.extend_from_slice(&raw[..take * width]);
            return;
        }
        let samples: &[i16] = if rate == self.rate {
            pcm
        } else {
            if self
                .converter
                .as_ref()
                .is_none_or(|c| c.from_rate() != rate)
            {
                // Both rates were accepted by the endpointer, so the pair is convertible.
                let Ok(converter) = Resampler::new(rate, self.rate) else {
                    return;
                };
                self.converter = Some(converter);
            }
            let Some(converter) = self.converter.as_mut() else {
                return;
            };
            self.scratch.clear();
            converter.process(pcm, &mut self.scratch);
            &self.scratch
        };
        let take = samples.len().min(room);
        if take < samples.len() {
            self.truncated = true;
        }
        let step = self.step_samples();
        grow(&mut self.pcm, take, step);
        self.pcm.extend_from_slice(&samples[..take]);
    }

    /// The format changed mid-recording: the received bytes no longer describe the audio, so the
    /// audio so far is decoded and the buffer continues as PCM at the first rate.
    fn switch_to_pcm(&mut self) {
        let mut pcm = Vec::with_capacity(self.samples() + self.step_samples());
        self.encoding.decode_into(&self.raw, &mut pcm);
        self.pcm = pcm;
        self.raw = Vec::new();
        self.raw_valid = false;
    }

    /// The growth step in samples.
    fn step_samples(&self) -> usize {
        usize::try_from(duration_to_samples(GROWTH_STEP, self.rate)).unwrap_or(usize::MAX)
    }

    /// Drops the audio before time `t` (nothing if `t` is before the start).
    pub(super) fn trim_before(&mut self, t: Duration) {
        let Some(offset) = t.checked_sub(self.start) else {
            return;
        };
        let n = usize::try_from(duration_to_samples(offset, self.rate))
            .unwrap_or(usize::MAX)
            .min(self.samples());
        if n == 0 {
            return;
        }
        if self.raw_valid {
            self.raw.drain(..n * self.encoding.bytes_per_sample());
        } else {
            self.pcm.drain(..n);
        }
        self.start += samples_to_duration(n as u64, self.rate);
    }

    /// Drops the audio after time `t`.
    pub(super) fn truncate_at(&mut self, t: Duration) {
        let offset = t.saturating_sub(self.start);
        let n = usize::try_from(duration_to_samples(offset, self.rate)).unwrap_or(usize::MAX);
        if n < self.samples() {
            if self.raw_valid {
                self.raw.truncate(n * self.encoding.bytes_per_sample());
            } else {
                self.pcm.truncate(n);
            }
        }
    }

    /// Length of the buffered audio.
    pub(super) fn duration(&self) -> Duration {
        samples_to_duration(self.samples() as u64, self.rate)
    }

    /// Moves the audio out as an [`Utterance`]; the buffer continues empty at the current end.
    pub(super) fn take(&mut self) -> Utterance {
        let end = self.end();
        let utterance = if self.raw_valid {
            let mut raw = std::mem::take(&mut self.raw);
            raw.shrink_to_fit();
            Utterance::from_received(raw, self.encoding, self.rate, self.start, self.truncated)
        } else {
            let mut pcm = std::mem::take(&mut self.pcm);
            pcm.shrink_to_fit();
            // Later audio starts a new recording, held as received again.
            self.raw_valid = true;
            Utterance::from_pcm16(pcm, self.encoding, self.rate, self.start, self.truncated)
        };
        self.start = end;
        self.truncated = false;
        utterance
    }
}

/// Makes room for `additional` more elements: at least `step`, or a quarter of what `buf` holds
/// (geometric growth for long recordings), never doubling.
fn grow<T>(buf: &mut Vec<T>, additional: usize, step: usize) {
    if buf.capacity() - buf.len() >= additional {
        return;
    }
    buf.reserve_exact(additional.max(step).max(buf.len() / 4));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_takes_in_sync() {
        let mut rec = Recording::new();
        rec.restart(AudioEncoding::Mulaw, 8000, Duration::from_millis(100));
        let raw: Vec<u8> = (0..160).map(|i| i as u8).collect();
        let pcm = crate::audio::mulaw::decode(&raw);
        rec.append(&pcm, &raw, AudioEncoding::Mulaw, 8000);
        assert_eq!(rec.end(), Duration::from_millis(120));
        rec.trim_before(Duration::from_millis(110));
        assert_eq!(rec.duration(), Duration::from_millis(10));
        rec.truncate_at(Duration::from_millis(115));
        let utterance = rec.take();
        assert_eq!(utterance.start(), Duration::from_millis(110));
        assert_eq!(utterance.received(), Some(&raw[80..120]));
        assert_eq!(utterance.pcm16(), &pcm[80..120]);
        assert_eq!(utterance.duration(), Duration::from_millis(5));
        assert!(!utterance.is_truncated());
        assert_eq!(rec.end(), Duration::from_millis(115));
        // Trimming before the start is a no-op.
        rec.trim_before(Duration::ZERO);
        assert_eq!(rec.start, Duration::from_millis(115));
    }

    #[test]
    fn a_format_change_keeps_pcm_at_the_first_rate_and_drops_raw() {
        let mut rec = Recording::new();
        rec.restart(AudioEncoding::Linear16, 8000, Duration::ZERO);
        let pcm = vec![1000i16; 80];
        let raw: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
        rec.append(&pcm, &raw, AudioEncoding::Linear16, 8000);
        rec.append(&[1000i16; 1600], &[], AudioEncoding::Linear16, 16_000);
        let utterance = rec.take();
        assert_eq!(utterance.received(), None);
        assert_eq!(utterance.sample_rate(), 8000);
        // 80 samples plus ~800 converted (minus the converter's held-back latency).
        assert!(
            (850..=880).contains(&utterance.pcm16().len()),
            "{}",
            utterance.pcm16().len()
        );
    }

    #[test]
    fn the_cap_truncates() {
        let mut rec = Recording::new();
        rec.restart(AudioEncoding::Mulaw, 8000, Duration::ZERO);
        let second = vec![0xFFu8; 8000];
        let pcm = vec![0i16; 8000];
        for _ in 0..301 {
            rec.append(&pcm, &second, AudioEncoding::Mulaw, 8000);
        }
        assert_eq!(rec.duration(), RECORDING_CAP);
        let utterance = rec.take();
        assert!(utterance.is_truncated());
        assert_eq!(utterance.received().map(<[u8]>::len), Some(8000 * 300));
    }
}
