//! The endpointer's audio buffer: a rolling pre-roll while waiting for speech, then the utterance.

use std::time::Duration;

use super::time::{duration_to_samples, samples_to_duration};
use super::utterance::Utterance;
use crate::audio::{AudioEncoding, Resampler};

/// The most audio one recording keeps (5 minutes); later audio is dropped and flagged.
pub(super) const RECORDING_CAP: Duration = Duration::from_secs(300);

/// Audio kept in the caller's format (at the format of its first sample), with its start time.
#[derive(Debug)]
pub(super) struct Recording {
    pcm: Vec<i16>,
    raw: Vec<u8>,
    /// Whether `raw` matches `pcm` sample for sample (false after a mid-recording format change).
    raw_valid: bool,
    rate: u32,
    encoding: AudioEncoding,
    /// Audio time of `pcm[0]`.
    start: Duration,
    /// Converts input at a different rate than `rate` (after a mid-recording format change).
    converter: Option<Resampler>,
    scratch: Vec<i16>,
    truncated: bool,
}

impl Recording {
    pub(super) fn new() -> Self {
        Self {
            pcm: Vec::new(),
            raw: Vec::new(),
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
        self.pcm.clear();
        self.raw.clear();
        self.raw_valid = true;
        self.rate = rate;
        self.encoding = encoding;
        self.start = start;
        self.converter = None;
        self.truncated = false;
    }

    /// Audio time of the first sample.
    pub(super) fn start(&self) -> Duration {
        self.start
    }

    /// Audio time just after the last sample.
    pub(super) fn end(&self) -> Duration {
        self.start + samples_to_duration(self.pcm.len() as u64, self.rate)
    }

    /// Appends `pcm` (at `rate`) and the `raw` bytes it was decoded from (in `encoding`).
    pub(super) fn append(&mut self, pcm: &[i16], raw: &[u8], encoding: AudioEncoding, rate: u32) {
        let cap =
            usize::try_from(duration_to_samples(RECORDING_CAP, self.rate)).unwrap_or(usize::MAX);
        if rate != self.rate || encoding != self.encoding {
            self.raw_valid = false;
            self.raw = Vec::new();
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
        let room = cap.saturating_sub(self.pcm.len());
        let take = samples.len().min(room);
        if take < samples.len() {
            self.truncated = true;
        }
        self.pcm.extend_from_slice(&samples[..take]);
        if self.raw_valid {
            let width = encoding.bytes_per_sample();
            self.raw
                .extend_from_slice(&raw[..(take * width).min(raw.len())]);
        }
    }

    /// Drops the audio before time `t` (nothing if `t` is before the start).
    pub(super) fn trim_before(&mut self, t: Duration) {
        let Some(offset) = t.checked_sub(self.start) else {
            return;
        };
        let n = usize::try_from(duration_to_samples(offset, self.rate))
            .unwrap_or(usize::MAX)
            .min(self.pcm.len());
        if n == 0 {
            return;
        }
        self.pcm.drain(..n);
        if self.raw_valid {
            let bytes = (n * self.encoding.bytes_per_sample()).min(self.raw.len());
            self.raw.drain(..bytes);
        }
        self.start += samples_to_duration(n as u64, self.rate);
    }

    /// Drops the audio after time `t`.
    pub(super) fn truncate_at(&mut self, t: Duration) {
        let offset = t.saturating_sub(self.start);
        let n = usize::try_from(duration_to_samples(offset, self.rate)).unwrap_or(usize::MAX);
        if n < self.pcm.len() {
            self.pcm.truncate(n);
            if self.raw_valid {
                self.raw.truncate(n * self.encoding.bytes_per_sample());
            }
        }
    }

    /// Length of the buffered audio.
    pub(super) fn duration(&self) -> Duration {
        samples_to_duration(self.pcm.len() as u64, self.rate)
    }

    /// Moves the audio out as an [`Utterance`]; the buffer continues empty at the current end.
    pub(super) fn take(&mut self) -> Utterance {
        let end = self.end();
        let utterance = Utterance {
            pcm16: std::mem::take(&mut self.pcm),
            sample_rate: self.rate,
            received: self.raw_valid.then(|| std::mem::take(&mut self.raw)),
            encoding: self.encoding,
            start: self.start,
            truncated: self.truncated,
        };
        self.raw.clear();
        self.start = end;
        self.truncated = false;
        utterance
    }
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
