//! Converting prompt audio of any supported shape into what Webex plays: 8 kHz mono μ-law.
//!
//! Webex's gateway warns that 16 kHz 16-bit replies caused seconds of delay; everything sent to
//! Webex should be 8 kHz μ-law. [`to_mulaw_8k`] converts a complete clip in one call;
//! [`MulawEncoder`] does the same for audio that arrives in pieces (streaming text-to-speech).

use super::encoding::AudioEncoding;
use super::error::AudioError;
use super::mulaw;
use super::resample::Resampler;
use super::wav::{Wav, WavFormat};

/// The sample rate Webex plays prompts at.
pub const PROMPT_SAMPLE_RATE: u32 = 8000;

/// Prompt audio in one of the accepted shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptAudio<'a> {
    /// 16-bit mono PCM samples.
    Pcm16 {
        /// The samples.
        samples: &'a [i16],
        /// Their rate in Hz.
        sample_rate: u32,
    },
    /// Raw mono bytes in a BYOVA encoding (LINEAR16 little-endian, μ-law or A-law), no header.
    Encoded {
        /// The bytes.
        bytes: &'a [u8],
        /// Their encoding.
        encoding: AudioEncoding,
        /// Their rate in Hz.
        sample_rate: u32,
    },
    /// A complete WAV file in any format [`Wav::parse`] reads.
    Wav(&'a [u8]),
}

/// Converts prompt audio to 8 kHz mono μ-law bytes (no header).
///
/// 8 kHz μ-law input, raw or in a mono WAV file, is copied unchanged; everything else is decoded,
/// downmixed, resampled with a proper low-pass filter and encoded.
///
/// # Errors
/// WAV errors as [`Wav::parse`]; [`UnsupportedSampleRate`](super::AudioErrorKind::UnsupportedSampleRate)
/// for rates [`Resampler::new`] refuses.
pub fn to_mulaw_8k(audio: PromptAudio<'_>) -> Result<Vec<u8>, AudioError> {
    let mut out = Vec::new();
    to_mulaw_8k_into(audio, &mut out)?;
    Ok(out)
}

/// As [`to_mulaw_8k`], appending to `out` (unchanged on error).
///
/// # Errors
/// As [`to_mulaw_8k`].
pub fn to_mulaw_8k_into(audio: PromptAudio<'_>, out: &mut Vec<u8>) -> Result<(), AudioError> {
    match audio {
        PromptAudio::Pcm16 {
            samples,
            sample_rate,
        } => pcm_to_mulaw_8k(samples, sample_rate, out),
        PromptAudio::Encoded {
            bytes,
            encoding: AudioEncoding::Mulaw,
            sample_rate: PROMPT_SAMPLE_RATE,
        } => {
            out.extend_from_slice(bytes);
            Ok(())
        }
        PromptAudio::Encoded {
            bytes,
            encoding,
            sample_rate,
        } => pcm_to_mulaw_8k(&encoding.decode(bytes), sample_rate, out),
        PromptAudio::Wav(bytes) => {
            let wav = Wav::parse(bytes)?;
            if wav.format() == WavFormat::Mulaw
                && wav.channels() == 1
                && wav.sample_rate() == PROMPT_SAMPLE_RATE
            {
                out.extend_from_slice(wav.data());
                return Ok(());
            }
            pcm_to_mulaw_8k(&wav.decode_mono(), wav.sample_rate(), out)
        }
    }
}

fn pcm_to_mulaw_8k(samples: &[i16], sample_rate: u32, out: &mut Vec<u8>) -> Result<(), AudioError> {
    if sample_rate == PROMPT_SAMPLE_RATE {
        mulaw::encode_into(samples, out);
        return Ok(());
    }
    let resampled = super::resample::resample(samples, sample_rate, PROMPT_SAMPLE_RATE)?;
    mulaw::encode_into(&resampled, out);
    Ok(())
}

/// Streaming conversion of 16-bit PCM at any supported rate to 8 kHz μ-law.
///
/// Feed pieces with [`push`](Self::push) as they are produced; call [`finish`](Self::finish) at the
/// end to get the resampler's held-back tail (a few milliseconds). The concatenated output equals
/// [`to_mulaw_8k`] of the whole clip.
#[derive(Debug, Clone)]
pub struct MulawEncoder {
    resampler: Option<Resampler>,
    scratch: Vec<i16>,
}

impl MulawEncoder {
    /// An encoder for input at `sample_rate` Hz.
    ///
    /// # Errors
    /// As [`Resampler::new`].
    pub fn new(sample_rate: u32) -> Result<Self, AudioError> {
        let resampler = if sample_rate == PROMPT_SAMPLE_RATE {
            None
        } else {
            Some(Resampler::new(sample_rate, PROMPT_SAMPLE_RATE)?)
        };
        Ok(Self {
            resampler,
            scratch: Vec::new(),
        })
    }

    /// Converts `samples`, appending the μ-law bytes ready so far to `out`.
    pub fn push(&mut self, samples: &[i16], out: &mut Vec<u8>) {
        match &mut self.resampler {
            None => mulaw::encode_into(samples, out),
            Some(resampler) => {
                self.scratch.clear();
                resampler.process(samples, &mut self.scratch);
                mulaw::encode_into(&self.scratch, out);
            }
        }
    }

    /// Ends the stream, appending the remaining bytes to `out`; the encoder can then start anew.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if let Some(resampler) = &mut self.resampler {
            self.scratch.clear();
            resampler.flush(&mut self.scratch);
            mulaw::encode_into(&self.scratch, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{AudioErrorKind, alaw, mulaw_wav, pcm16_wav};

    fn tone(rate: u32, n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16
            })
            .collect()
    }

    #[test]
    fn mulaw_8k_passes_through_untouched() {
        let audio: Vec<u8> = (0..=255).collect();
        let raw = PromptAudio::Encoded {
            bytes: &audio,
            encoding: AudioEncoding::Mulaw,
            sample_rate: 8000,
        };
        assert_eq!(to_mulaw_8k(raw).unwrap(), audio);
        assert_eq!(
            to_mulaw_8k(PromptAudio::Wav(&mulaw_wav(&audio))).unwrap(),
            audio
        );
    }

    #[test]
    fn pcm_8k_is_encoded_sample_by_sample() {
        let samples = [0i16, 1000, -1000, 32767];
        let pcm = PromptAudio::Pcm16 {
            samples: &samples,
            sample_rate: 8000,
        };
        assert_eq!(to_mulaw_8k(pcm).unwrap(), [0xFF, 0xCE, 0x4E, 0x80]);
        let linear: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let encoded = PromptAudio::Encoded {
            bytes: &linear,
            encoding: AudioEncoding::Linear16,
            sample_rate: 8000,
        };
        assert_eq!(to_mulaw_8k(encoded).unwrap(), [0xFF, 0xCE, 0x4E, 0x80]);
        let alaw_bytes = alaw::encode(&samples);
        let encoded = PromptAudio::Encoded {
            bytes: &alaw_bytes,
            encoding: AudioEncoding::Alaw,
            sample_rate: 8000,
        };
        let expected = mulaw::encode(&alaw::decode(&alaw_bytes));
        assert_eq!(to_mulaw_8k(encoded).unwrap(), expected);
    }

    #[test]
    fn other_rates_are_resampled_the_same_way_in_every_shape() {
        let samples = tone(24_000, 2400);
        let expected = mulaw::encode(&crate::audio::resample(&samples, 24_000, 8000).unwrap());
        assert_eq!(expected.len(), 800);
        let pcm = PromptAudio::Pcm16 {
            samples: &samples,
            sample_rate: 24_000,
        };
        assert_eq!(to_mulaw_8k(pcm).unwrap(), expected);
        let wav = pcm16_wav(&samples, 24_000);
        assert_eq!(to_mulaw_8k(PromptAudio::Wav(&wav)).unwrap(), expected);
        let mulaw_16k = mulaw::encode(&tone(16_000, 1600));
        let encoded = PromptAudio::Encoded {
            bytes: &mulaw_16k,
            encoding: AudioEncoding::Mulaw,
            sample_rate: 16_000,
        };
        assert_eq!(to_mulaw_8k(encoded).unwrap().len(), 800);
    }

    #[test]
    fn errors_leave_the_output_untouched() {
        let mut out = vec![1, 2];
        let err = to_mulaw_8k_into(PromptAudio::Wav(b"nope"), &mut out).unwrap_err();
        assert_eq!(err.kind(), &AudioErrorKind::NotWav);
        let pcm = PromptAudio::Pcm16 {
            samples: &[1, 2, 3],
            sample_rate: 0,
        };
        let err = to_mulaw_8k_into(pcm, &mut out).unwrap_err();
        assert_eq!(err.kind(), &AudioErrorKind::UnsupportedSampleRate(0));
        assert_eq!(out, [1, 2]);
        assert!(MulawEncoder::new(7).is_err());
    }

    #[test]
    fn streaming_encoder_matches_the_one_call_conversion() {
        for rate in [8000, 22_050, 48_000] {
            let samples = tone(rate, rate as usize / 5);
            let expected = to_mulaw_8k(PromptAudio::Pcm16 {
                samples: &samples,
                sample_rate: rate,
            })
            .unwrap();
            let mut encoder = MulawEncoder::new(rate).unwrap();
            let mut out = Vec::new();
            for piece in samples.chunks(333) {
                encoder.push(piece, &mut out);
            }
            encoder.finish(&mut out);
            assert_eq!(out, expected, "{rate} Hz");
        }
    }
}
