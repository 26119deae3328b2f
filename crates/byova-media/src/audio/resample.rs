//! Sample-rate conversion with a polyphase windowed-sinc low-pass filter.
//!
//! Any rational ratio between common rates works (8, 11.025, 16, 22.05, 24, 32, 44.1, 48 kHz and
//! more): the ratio is reduced to `up / down` and one Kaiser-windowed sinc is cut into `up` phases.
//! The cut-off sits at 90 % of the lower Nyquist frequency (3.6 kHz when one side is 8 kHz) and the
//! stop band is about 85 dB down, so converting 48 kHz text-to-speech to 8 kHz does not alias.
//!
//! [`Resampler`] is streaming: feed pieces as they arrive, then [`flush`](Resampler::flush) at the
//! end. Output sample `n` always represents time `n / to_rate`, exactly aligned with the input; the
//! filter only adds latency (held-back samples), never a time shift.

use super::error::{AudioError, AudioErrorKind};

/// Zero crossings of the sinc on each side of the centre (filter length).
const ZERO_CROSSINGS: f64 = 20.0;
/// Zero crossings of the shorter filter used to feed voice detectors (about 60 dB stop band).
const ANALYSIS_ZERO_CROSSINGS: f64 = 8.0;
/// Kaiser shape of the shorter filter.
const ANALYSIS_KAISER_BETA: f64 = 6.0;
/// Cut-off as a fraction of the lower Nyquist frequency.
const ROLLOFF: f64 = 0.9;
/// Kaiser window shape: about 85 dB of stop-band attenuation.
const KAISER_BETA: f64 = 8.5;
/// Upper bound on filter phases (`up` of the reduced ratio).
const MAX_PHASES: usize = 1024;
/// Accepted sample rates.
const RATES: std::ops::RangeInclusive<u32> = 1000..=384_000;

/// Converts 16-bit mono PCM from one sample rate to another, in pieces.
#[derive(Debug, Clone)]
pub struct Resampler {
    from: u32,
    to: u32,
    up: usize,
    down: usize,
    /// Taps per phase (`2 * half`, rounded up to a multiple of 8).
    taps: usize,
    /// `up` phases of `taps` coefficients, phase-major.
    coeffs: Vec<f32>,
    /// Pending input; `buf[k]` is input sample `k - (half - 1)` relative to `consumed`.
    buf: Vec<f32>,
    /// Index in `buf` where the window of the next output starts.
    window: usize,
    /// Phase of the next output.
    phase: usize,
    /// Input samples received since the start (or the last flush).
    received: u64,
    /// Output samples produced since the start (or the last flush).
    produced: u64,
    half: usize,
}

impl Resampler {
    /// A resampler from `from` Hz to `to` Hz.
    ///
    /// # Errors
    /// [`AudioErrorKind::UnsupportedSampleRate`] when a rate is outside 1–384 kHz or the reduced
    /// ratio needs more than 1024 filter phases (for example 8000 → 7999).
    pub fn new(from: u32, to: u32) -> Result<Self, AudioError> {
        Self::with_filter(from, to, ZERO_CROSSINGS, KAISER_BETA)
    }

    /// A cheaper resampler (a filter 2.5× shorter, about 60 dB stop band) for feeding voice
    /// detectors, where speed matters more than fidelity.
    pub(crate) fn for_analysis(from: u32, to: u32) -> Result<Self, AudioError> {
        Self::with_filter(from, to, ANALYSIS_ZERO_CROSSINGS, ANALYSIS_KAISER_BETA)
    }

    fn with_filter(from: u32, to: u32, zero_crossings: f64, beta: f64) -> Result<Self, AudioError> {
        for rate in [from, to] {
            if !RATES.contains(&rate) {
                return Err(AudioError::new(AudioErrorKind::UnsupportedSampleRate(rate)));
            }
        }
        let divisor = gcd(from, to);
        let up = (to / divisor) as usize;
        let down = (from / divisor) as usize;
        if up > MAX_PHASES {
            return Err(AudioError::new(AudioErrorKind::UnsupportedSampleRate(to)));
        }
        // Cut-off relative to the input rate (1.0 = input Nyquist).
        let cutoff = ROLLOFF * f64::from(from.min(to)) / f64::from(from);
        let half = (zero_crossings / cutoff).ceil() as usize;
        // Whole blocks of 8 for the vectorised dot product; the extra taps are zero.
        let taps = (2 * half).next_multiple_of(8);
        let mut coeffs = Vec::with_capacity(up * taps);
        let i0_beta = bessel_i0(beta);
        for phase in 0..up {
            let frac = phase as f64 / up as f64;
            let start = coeffs.len();
            for k in 0..taps {
                // Distance from the output position to input tap k, in input samples: (-half, half].
                let d = frac - (k as f64 - half as f64 + 1.0);
                let x = d / half as f64;
                let window = if x.abs() >= 1.0 {
                    0.0
                } else {
                    bessel_i0(beta * (1.0 - x * x).sqrt()) / i0_beta
                };
                coeffs.push(cutoff * sinc(cutoff * d) * window);
            }
            // Unity gain at DC for every phase.
            let phase_coeffs = &mut coeffs[start..];
            let sum: f64 = phase_coeffs.iter().sum();
            for c in phase_coeffs.iter_mut() {
                *c /= sum;
            }
        }
        let coeffs = coeffs.into_iter().map(|c| c as f32).collect();
        let mut resampler = Self {
            from,
            to,
            up,
            down,
            taps,
            coeffs,
            buf: Vec::new(),
            window: 0,
            phase: 0,
            received: 0,
            produced: 0,
            half,
        };
        resampler.reset();
        Ok(resampler)
    }

    /// Input rate in Hz.
    #[must_use]
    pub fn from_rate(&self) -> u32 {
        self.from
    }

    /// Output rate in Hz.
    #[must_use]
    pub fn to_rate(&self) -> u32 {
        self.to
    }

    /// Input samples the filter holds back before the matching output can be produced.
    #[must_use]
    pub fn latency_input_samples(&self) -> usize {
        self.taps - self.half
    }

    /// Forgets all pending input and starts a new stream.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.buf.resize(self.half - 1, 0.0);
        self.window = 0;
        self.phase = 0;
        self.received = 0;
        self.produced = 0;
    }

    /// Feeds `input`, appending every output sample that can be computed so far to `out`.
    pub fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        self.received += input.len() as u64;
        self.buf.extend(input.iter().map(|&s| f32::from(s)));
        self.drain_ready(out, u64::MAX);
    }

    /// Ends the stream: appends the held-back tail to `out` (so the total output length is
    /// `ceil(input_len × to / from)`), then resets for a new stream.
    pub fn flush(&mut self, out: &mut Vec<i16>) {
        let total = (self.received * self.up as u64).div_ceil(self.down as u64);
        self.buf.resize(self.buf.len() + self.taps, 0.0);
        self.drain_ready(out, total);
        self.reset();
    }

    fn drain_ready(&mut self, out: &mut Vec<i16>, limit: u64) {
        let available = self.buf.len();
        if available >= self.window + self.taps {
            let count = (available - self.window - self.taps) * self.up / self.down + 1;
            out.reserve(count);
        }
        while self.window + self.taps <= available && self.produced < limit {
            let coeffs = &self.coeffs[self.phase * self.taps..][..self.taps];
            let window = &self.buf[self.window..][..self.taps];
            let value = dot(coeffs, window);
            // `as` saturates at the i16 range.
            out.push(value.round() as i16);
            self.produced += 1;
            self.phase += self.down;
            self.window += self.phase / self.up;
            self.phase %= self.up;
        }
        let consumed = self.window.min(self.buf.len());
        self.buf.drain(..consumed);
        self.window -= consumed;
    }
}

/// Converts a whole clip from `from` Hz to `to` Hz (a copy when the rates are equal).
///
/// The output has `ceil(len × to / from)` samples, time-aligned with the input.
///
/// # Errors
/// As [`Resampler::new`].
pub fn resample(input: &[i16], from: u32, to: u32) -> Result<Vec<i16>, AudioError> {
    if from == to {
        if !RATES.contains(&from) {
            return Err(AudioError::new(AudioErrorKind::UnsupportedSampleRate(from)));
        }
        return Ok(input.to_vec());
    }
    let mut resampler = Resampler::new(from, to)?;
    let mut out = Vec::with_capacity(
        usize::try_from((input.len() as u64 * u64::from(to)).div_ceil(u64::from(from)))
            .unwrap_or(0),
    );
    resampler.process(input, &mut out);
    resampler.flush(&mut out);
    Ok(out)
}

/// Dot product with eight independent accumulators, so the compiler can vectorise it.
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks_a = a.chunks_exact(8);
    let chunks_b = b.chunks_exact(8);
    let tail: f32 = chunks_a
        .remainder()
        .iter()
        .zip(chunks_b.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (ca, cb) in chunks_a.zip(chunks_b) {
        for ((sum, x), y) in acc.iter_mut().zip(ca).zip(cb) {
            *sum += x * y;
        }
    }
    acc.iter().sum::<f32>() + tail
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let px = std::f64::consts::PI * x;
        px.sin() / px
    }
}

/// Modified Bessel function of the first kind, order 0 (power series).
fn bessel_i0(x: f64) -> f64 {
    let half = x / 2.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1.0;
    while term > sum * 1e-12 {
        term *= (half / k) * (half / k);
        sum += term;
        k += 1.0;
    }
    sum
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests;
