//! A light energy detector: band-limited frame level against an adaptive noise floor.

use super::detector::VoiceDetector;

/// Frame length: 10 ms at 8 kHz.
const FRAME_LEN: usize = 80;
const SAMPLE_RATE: u32 = 8000;
/// How fast the floor rises towards louder frames judged non-speech, in dB per second.
const FLOOR_RISE_DB_PER_S: f32 = 5.0;
/// How fast the floor rises during speech, in dB per second.
const FLOOR_RISE_IN_SPEECH_DB_PER_S: f32 = 0.5;
/// High-pass cut-off: removes DC, mains hum and rumble below the telephone band.
const HIGH_PASS_HZ: f32 = 200.0;
/// The floor never goes below this level (digital silence would otherwise make any hiss "speech").
const MIN_FLOOR_DB: f32 = -70.0;

/// Voice detection by energy: each 10 ms frame's level (after a 200 Hz high-pass) is compared
/// with a noise floor that follows the quietest recent level.
///
/// The probability is high when the frame is at least [`margin_db`](Self::with_margin_db) above
/// the floor and louder than [`min_level_db`](Self::with_min_level_db) (dBFS). The floor drops at
/// once to quieter frames and rises slowly (faster in non-speech than in speech), so steady noise
/// is learnt within seconds. Cheap (a few operations per sample) but fooled by loud non-speech
/// noise; the neural [`EarshotDetector`](super::EarshotDetector) is the default.
#[derive(Debug, Clone)]
pub struct EnergyDetector {
    sample_rate: u32,
    frame_len: usize,
    margin_db: f32,
    min_level_db: f32,
    floor_db: Option<f32>,
    high_pass: Biquad,
}

/// A second-order Butterworth high-pass filter (direct form I).
#[derive(Debug, Clone)]
struct Biquad {
    b: [f32; 3],
    a: [f32; 2],
    x: [f32; 2],
    y: [f32; 2],
}

impl Biquad {
    fn high_pass(cutoff_hz: f32, rate: f32) -> Self {
        // RBJ audio-EQ cookbook, Q = 1/sqrt(2).
        let w0 = std::f32::consts::TAU * cutoff_hz / rate;
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / std::f32::consts::SQRT_2;
        let a0 = 1.0 + alpha;
        let b0 = (1.0 + cos) / 2.0 / a0;
        Self {
            b: [b0, -2.0 * b0, b0],
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
            x: [0.0; 2],
            y: [0.0; 2],
        }
    }

    /// Filters `frame` and returns the energy of the output (sum of squares).
    ///
    /// Two samples per step: the recursion is unrolled once, so both outputs of a step depend
    /// only on the two outputs of the step before:
    /// `y[n+1] = c[n+1] − a1·c[n] + (a1² − a2)·y[n−1] + a1·a2·y[n−2]`, with `c` the feed-forward
    /// part. Each step then waits on one multiply and one addition for two samples instead of
    /// one, and the two energies are summed separately.
    fn energy(&mut self, frame: &[i16]) -> f32 {
        let [b0, b1, b2] = self.b;
        let [a1, a2] = self.a;
        let k1 = a1 * a1 - a2;
        let k2 = a1 * a2;
        let [mut x1, mut x2] = self.x;
        let [mut y1, mut y2] = self.y;
        let (mut even, mut odd) = (0.0f32, 0.0f32);
        let mut pairs = frame.chunks_exact(2);
        for pair in &mut pairs {
            let (x, xn) = (f32::from(pair[0]), f32::from(pair[1]));
            let c = b0 * x + b1 * x1 + b2 * x2;
            let cn = b0 * xn + b1 * x + b2 * x1;
            let y = (c - a2 * y2) - a1 * y1;
            let yn = (cn - a1 * c + k2 * y2) + k1 * y1;
            x2 = x;
            x1 = xn;
            y2 = y;
            y1 = yn;
            even += y * y;
            odd += yn * yn;
        }
        if let [sample] = *pairs.remainder() {
            let x = f32::from(sample);
            let y = (b0 * x + b1 * x1 + b2 * x2 - a2 * y2) - a1 * y1;
            x2 = x1;
            x1 = x;
            y2 = y1;
            y1 = y;
            even += y * y;
        }
        self.x = [x1, x2];
        self.y = [y1, y2];
        even + odd
    }

    fn reset(&mut self) {
        self.x = [0.0; 2];
        self.y = [0.0; 2];
    }
}

impl EnergyDetector {
    /// A detector with a 10 dB margin and a −50 dBFS minimum speech level.
    #[must_use]
    pub fn new() -> Self {
        Self::with_format(SAMPLE_RATE, FRAME_LEN)
    }

    /// A detector for frames of `frame_len` samples at `sample_rate` Hz (used as the noise gate of
    /// the earshot detector).
    pub(super) fn with_format(sample_rate: u32, frame_len: usize) -> Self {
        Self {
            sample_rate,
            frame_len,
            margin_db: 10.0,
            min_level_db: -50.0,
            floor_db: None,
            high_pass: Biquad::high_pass(HIGH_PASS_HZ, sample_rate as f32),
        }
    }

    /// How far above the noise floor (dB) a frame must be to count as speech.
    #[must_use]
    pub fn with_margin_db(mut self, margin_db: f32) -> Self {
        self.margin_db = margin_db;
        self
    }

    /// The quietest level (dBFS) that can count as speech.
    #[must_use]
    pub fn with_min_level_db(mut self, min_level_db: f32) -> Self {
        self.min_level_db = min_level_db;
        self
    }

    /// The current noise-floor estimate in dBFS, once a frame has been seen.
    #[must_use]
    pub fn noise_floor_db(&self) -> Option<f32> {
        self.floor_db
    }

    /// Level of the frame in dBFS after the high-pass filter.
    fn level_db(&mut self, frame: &[i16]) -> f32 {
        let energy = self.high_pass.energy(frame);
        let mean = energy / (frame.len().max(1) as f32 * 32768.0 * 32768.0);
        10.0 * (mean + 1e-10).log10()
    }
}

impl Default for EnergyDetector {
    fn default() -> Self {
        Self::new()
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl VoiceDetector for EnergyDetector {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn frame_len(&self) -> usize {
        self.frame_len
    }

    fn speech_probability(&mut self, frame: &[i16]) -> f32 {
        let level = self.level_db(frame);
        let floor = self.floor_db.unwrap_or(level).max(MIN_FLOOR_DB);
        // Soft decisions (2 dB wide) on both the SNR and the absolute level.
        let probability = sigmoid((level - floor - self.margin_db) / 2.0)
            * sigmoid((level - self.min_level_db) / 2.0);
        // Track the floor: follow quieter frames quickly, rise slowly.
        let frame_seconds = frame.len() as f32 / self.sample_rate as f32;
        let new_floor = if level < floor {
            floor + 0.5 * (level - floor)
        } else if probability < 0.5 {
            (floor + FLOOR_RISE_DB_PER_S * frame_seconds).min(level)
        } else {
            floor + FLOOR_RISE_IN_SPEECH_DB_PER_S * frame_seconds
        };
        self.floor_db = Some(new_floor.max(MIN_FLOOR_DB));
        probability
    }

    fn reset(&mut self) {
        self.floor_db = None;
        self.high_pass.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(amplitude: f32, seed: &mut u32) -> [i16; FRAME_LEN] {
        std::array::from_fn(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 17;
            *seed ^= *seed << 5;
            ((*seed as f32 / u32::MAX as f32 - 0.5) * 2.0 * amplitude) as i16
        })
    }

    fn tone(amplitude: f32, offset: usize) -> [i16; FRAME_LEN] {
        std::array::from_fn(|i| {
            let t = (offset + i) as f32 / 8000.0;
            (amplitude * (t * 440.0 * std::f32::consts::TAU).sin()) as i16
        })
    }

    /// The filter one sample at a time, as the textbook writes it (in f64).
    fn reference_energies(filter: &Biquad, frames: &[&[i16]]) -> Vec<f64> {
        let [b0, b1, b2] = filter.b.map(f64::from);
        let [a1, a2] = filter.a.map(f64::from);
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        frames
            .iter()
            .map(|frame| {
                let mut energy = 0.0;
                for &sample in *frame {
                    let x = f64::from(sample);
                    let y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
                    (x2, x1, y2, y1) = (x1, x, y1, y);
                    energy += y * y;
                }
                energy
            })
            .collect()
    }

    #[test]
    fn the_unrolled_filter_matches_the_textbook_one() {
        let mut seed = 0x1234_5678;
        let a = noise(8000.0, &mut seed);
        let b = tone(12_000.0, 0);
        let c = noise(300.0, &mut seed);
        // Odd lengths too: the state must carry over a frame that ends mid-pair.
        let frames: [&[i16]; 5] = [&a, &b[..79], &c[..1], &b, &a[..33]];
        let mut filter = Biquad::high_pass(HIGH_PASS_HZ, 8000.0);
        let expected = reference_energies(&filter, &frames);
        for (frame, expected) in frames.iter().zip(expected) {
            let got = f64::from(filter.energy(frame));
            assert!(
                (got - expected).abs() <= expected * 1e-4 + 1.0,
                "{got} != {expected}"
            );
        }
        // A tone well above the cut-off keeps its energy (a 200 Hz Butterworth high-pass passes
        // 440 Hz at −0.18 dB, 96 % of the energy); DC is removed.
        let mut filter = Biquad::high_pass(HIGH_PASS_HZ, 8000.0);
        for offset in (0..20).map(|i| i * FRAME_LEN) {
            filter.energy(&tone(12_000.0, offset));
        }
        let settled = tone(12_000.0, 20 * FRAME_LEN);
        let input: f32 = settled.iter().map(|&s| f32::from(s) * f32::from(s)).sum();
        let ratio = filter.energy(&settled) / input;
        assert!((0.93..=0.99).contains(&ratio), "tone energy ratio {ratio}");
        let mut filter = Biquad::high_pass(HIGH_PASS_HZ, 8000.0);
        let dc = [10_000i16; FRAME_LEN];
        for _ in 0..20 {
            filter.energy(&dc);
        }
        assert!(filter.energy(&dc) < 1.0);
    }

    #[test]
    fn loud_frames_over_a_learnt_noise_floor_are_speech() {
        let mut detector = EnergyDetector::new();
        let mut seed = 7;
        for _ in 0..100 {
            let p = detector.speech_probability(&noise(300.0, &mut seed));
            assert!(p < 0.1, "{p}");
        }
        let floor = detector.noise_floor_db().unwrap();
        assert!((-48.0..-38.0).contains(&floor), "floor {floor}");
        let mut loud = 0;
        for k in 0..50 {
            if detector.speech_probability(&tone(6000.0, k * FRAME_LEN)) > 0.5 {
                loud += 1;
            }
        }
        assert_eq!(loud, 50);
        // During speech the floor hardly moves.
        assert!(detector.noise_floor_db().unwrap() < floor + 1.0);
    }

    #[test]
    fn digital_silence_and_hum_are_not_speech() {
        let mut detector = EnergyDetector::new();
        for _ in 0..50 {
            assert!(detector.speech_probability(&[0; FRAME_LEN]) < 0.01);
        }
        // Loud 50 Hz hum (-20 dBFS) on the line from the start: filtered and learnt, not speech.
        detector.reset();
        let mut hum = [0i16; FRAME_LEN];
        for k in 0..200 {
            for (i, s) in hum.iter_mut().enumerate() {
                let t = (k * FRAME_LEN + i) as f32 / 8000.0;
                *s = (3000.0 * (t * 50.0 * std::f32::consts::TAU).sin()) as i16;
            }
            let p = detector.speech_probability(&hum);
            assert!(p < 0.5, "frame {k}: {p}");
        }
        detector.reset();
        assert_eq!(detector.noise_floor_db(), None);
    }

    #[test]
    fn configuration_changes_the_decision() {
        let quiet = tone(200.0, 0); // about -44 dBFS
        let mut default = EnergyDetector::new();
        let mut sensitive = EnergyDetector::new()
            .with_min_level_db(-70.0)
            .with_margin_db(3.0);
        for _ in 0..30 {
            default.speech_probability(&[0; FRAME_LEN]);
            sensitive.speech_probability(&[0; FRAME_LEN]);
        }
        assert!(default.speech_probability(&quiet) > 0.5);
        let mut strict = EnergyDetector::new().with_min_level_db(-30.0);
        strict.speech_probability(&[0; FRAME_LEN]);
        assert!(strict.speech_probability(&quiet) < 0.1);
        assert!(sensitive.speech_probability(&quiet) > 0.9);
    }
}
