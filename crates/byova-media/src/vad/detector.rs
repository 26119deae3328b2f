//! The voice-detector trait the endpointer runs on every frame.

use std::fmt;

/// Scores short frames of audio for speech. Replace the default with your own model by passing it
/// to [`Endpointer::with_detector`](super::Endpointer::with_detector).
///
/// The endpointer converts caller audio to [`sample_rate`](Self::sample_rate), cuts it into frames
/// of exactly [`frame_len`](Self::frame_len) samples and calls
/// [`speech_probability`](Self::speech_probability) once per frame, in order.
pub trait VoiceDetector: Send + fmt::Debug {
    /// The sample rate in Hz this detector expects (for example 8000 or 16000).
    fn sample_rate(&self) -> u32;

    /// Samples per frame; every frame passed in has exactly this length.
    fn frame_len(&self) -> usize;

    /// The probability in `[0, 1]` that the frame contains speech.
    fn speech_probability(&mut self, frame: &[i16]) -> f32;

    /// Forgets the audio seen so far (a new utterance or stream follows).
    fn reset(&mut self);
}

impl<D: VoiceDetector + ?Sized> VoiceDetector for Box<D> {
    fn sample_rate(&self) -> u32 {
        (**self).sample_rate()
    }

    fn frame_len(&self) -> usize {
        (**self).frame_len()
    }

    fn speech_probability(&mut self, frame: &[i16]) -> f32 {
        (**self).speech_probability(frame)
    }

    fn reset(&mut self) {
        (**self).reset();
    }
}
