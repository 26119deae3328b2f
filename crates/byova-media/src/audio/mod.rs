//! G.711 μ-law / A-law codecs, WAV read/write, resampling, prompt conversion and chunking.
//!
//! Everything here is pure and synchronous: no I/O (except the thin [`read_wav_file`]), no async.
//!
//! - [`mulaw`] and [`alaw`]: table-based G.711; the μ-law encoder is bit-exact with the Python SDK.
//! - [`AudioEncoding`]: the three BYOVA caller encodings and their byte ↔ PCM16 conversion.
//! - [`Wav`]: parse any common WAV file; [`mulaw_wav`] / [`pcm16_wav`] write one.
//! - [`Resampler`] / [`resample`]: polyphase windowed-sinc rate conversion (e.g. 48 kHz → 8 kHz).
//! - [`to_mulaw_8k`] / [`MulawEncoder`]: any prompt audio → the 8 kHz μ-law Webex plays.
//! - [`chunks`] / [`StreamChunker`]: CHUNK-mode pieces of 100 B – 64 KiB.
//!
//! ```
//! use byova_media::audio::{self, PromptAudio};
//!
//! // One second of a 440 Hz tone from a 24 kHz text-to-speech engine…
//! let pcm: Vec<i16> = (0..24_000)
//!     .map(|i| (8000.0 * (i as f32 * 440.0 * std::f32::consts::TAU / 24_000.0).sin()) as i16)
//!     .collect();
//! // …becomes 8 kHz μ-law: one byte per sample.
//! let mulaw = audio::to_mulaw_8k(PromptAudio::Pcm16 { samples: &pcm, sample_rate: 24_000 })?;
//! assert_eq!(mulaw.len(), 8000);
//!
//! // WAV mode: one complete file per prompt.
//! let wav = audio::mulaw_wav(&mulaw);
//! assert_eq!(audio::Wav::parse(&wav)?.duration(), std::time::Duration::from_secs(1));
//!
//! // CHUNK mode: raw pieces of at most 3200 bytes, none shorter than 100.
//! let sizes: Vec<usize> = audio::chunks(&mulaw, 3200).map(|chunk| chunk.len()).collect();
//! assert_eq!(sizes, [3200, 3200, 1600]);
//! # Ok::<(), byova_media::audio::AudioError>(())
//! ```

pub mod alaw;
mod chunk;
mod encoding;
mod error;
pub mod mulaw;
mod prompt;
mod resample;
mod wav;

pub use self::alaw::ALAW_SILENCE;
pub use self::chunk::{Chunks, MAX_CHUNK, MIN_CHUNK, StreamChunker, chunks};
pub use self::encoding::{AudioEncoding, pcm16_le_decode_into, pcm16_le_encode_into};
pub use self::error::{AudioError, AudioErrorKind};
pub use self::mulaw::MULAW_SILENCE;
pub use self::prompt::{
    MulawEncoder, PROMPT_SAMPLE_RATE, PromptAudio, to_mulaw_8k, to_mulaw_8k_into,
};
pub use self::resample::{Resampler, resample};
pub use self::wav::{
    WAV_HEADER_LEN, Wav, WavFormat, mulaw_wav, pcm16_wav, read_wav_file, write_mulaw_wav,
};
