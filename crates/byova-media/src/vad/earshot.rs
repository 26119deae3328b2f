//! The neural detector: [`earshot`], a tiny pure-Rust voice-activity network (16 kHz, 16 ms frames).

use std::fmt;

use super::detector::VoiceDetector;
use super::energy::EnergyDetector;

/// How far above the learnt noise floor (dB) a frame must be for the network's score to count.
const GATE_MARGIN_DB: f32 = 4.0;
/// The quietest level (dBFS) the gate lets through.
const GATE_MIN_LEVEL_DB: f32 = -55.0;
/// Frames the gate stays open after the energy drops (48 ms): bridges the silent closures of stop
/// consonants ("talk to") that the network itself bridges.
const GATE_HANGOVER_FRAMES: usize = 3;

/// Voice detection with the [`earshot`] network (16 kHz, frames of 256 samples = 16 ms), gated by
/// the frame's energy over the noise floor. The default detector.
///
/// The network tells speech from other sounds in any language, but on telephone audio it also
/// scores steady hiss as speech once the hiss is loud (white noise at −30 dBFS scores about 0.65).
/// So its score is multiplied by a soft gate: the frame (or one of the 3 frames before it, to
/// bridge the silent closures of stop consonants) must be at least 4 dB above the noise floor that
/// an [`EnergyDetector`] learns, and above −55 dBFS. The gate costs a few operations per sample;
/// [`without_noise_gate`](Self::without_noise_gate) turns it off.
///
/// The endpointer upsamples 8 kHz telephone audio to 16 kHz for it. About 8 KiB of state, kept on
/// the heap.
pub struct EarshotDetector {
    inner: Box<earshot::Detector>,
    gate: Option<NoiseGate>,
}

/// The energy gate with its hangover.
#[derive(Debug, Clone)]
struct NoiseGate {
    energy: EnergyDetector,
    /// The gate's last values, newest at `next - 1` (a ring).
    recent: [f32; GATE_HANGOVER_FRAMES + 1],
    next: usize,
}

impl NoiseGate {
    fn new() -> Self {
        Self {
            energy: EnergyDetector::with_format(
                EarshotDetector::SAMPLE_RATE,
                EarshotDetector::FRAME_LEN,
            )
            .with_margin_db(GATE_MARGIN_DB)
            .with_min_level_db(GATE_MIN_LEVEL_DB),
            recent: [0.0; GATE_HANGOVER_FRAMES + 1],
            next: 0,
        }
    }

    fn open(&mut self, frame: &[i16]) -> f32 {
        self.recent[self.next] = self.energy.speech_probability(frame);
        self.next = (self.next + 1) % self.recent.len();
        self.recent.iter().copied().fold(0.0, f32::max)
    }

    fn reset(&mut self) {
        self.energy.reset();
        self.recent = [0.0; GATE_HANGOVER_FRAMES + 1];
    }
}

impl EarshotDetector {
    /// Frames are 16 ms at 16 kHz.
    pub const FRAME_LEN: usize = 256;
    /// The sample rate the network expects.
    pub const SAMPLE_RATE: u32 = 16_000;

    /// A fresh detector.
    #[must_use]
    pub fn new() -> Self {
        Self {
            inner: earshot::Detector::default_boxed(),
            gate: Some(NoiseGate::new()),
        }
    }

    /// Uses the network's score alone, without the energy gate.
    #[must_use]
    pub fn without_noise_gate(mut self) -> Self {
        self.gate = None;
        self
    }
}

impl Default for EarshotDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for EarshotDetector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EarshotDetector")
            .field("noise_gate", &self.gate.is_some())
            .finish_non_exhaustive()
    }
}

impl VoiceDetector for EarshotDetector {
    fn sample_rate(&self) -> u32 {
        Self::SAMPLE_RATE
    }

    fn frame_len(&self) -> usize {
        Self::FRAME_LEN
    }

    fn speech_probability(&mut self, frame: &[i16]) -> f32 {
        // The endpointer always sends whole frames; earshot would assert on anything else.
        if frame.len() != Self::FRAME_LEN {
            return 0.0;
        }
        let score = self.inner.predict_i16(frame).clamp(0.0, 1.0);
        match &mut self.gate {
            Some(gate) => score * gate.open(frame),
            None => score,
        }
    }

    fn reset(&mut self) {
        self.inner.reset();
        if let Some(gate) = &mut self.gate {
            gate.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_scores_low_and_reset_works() {
        let mut detector = EarshotDetector::new();
        assert_eq!(detector.sample_rate(), 16_000);
        assert_eq!(detector.frame_len(), 256);
        let silence = [0i16; 256];
        for _ in 0..20 {
            let p = detector.speech_probability(&silence);
            assert!((0.0..0.5).contains(&p), "{p}");
        }
        detector.reset();
        assert!(detector.speech_probability(&silence) < 0.5);
        assert_eq!(
            format!("{detector:?}"),
            "EarshotDetector { noise_gate: true, .. }"
        );
        let ungated = EarshotDetector::default().without_noise_gate();
        assert_eq!(
            format!("{ungated:?}"),
            "EarshotDetector { noise_gate: false, .. }"
        );
        // A wrong frame length gives 0, not a panic or a negative probability.
        assert_eq!(detector.speech_probability(&[0; 10]), 0.0);
    }
}
