//! WAV (RIFF/WAVE) reading and writing.
//!
//! Reading walks the RIFF chunks (odd sizes are word-aligned), takes the first `fmt ` and `data`
//! chunks, and accepts integer PCM (8/16/24/32-bit), IEEE float (32/64-bit), μ-law and A-law, plain
//! or as `WAVE_FORMAT_EXTENSIBLE`, with any channel count (downmixed to mono on decode). It never
//! panics: garbage gives an [`AudioError`].
//!
//! Writing produces the 44-byte header Webex's own gateway uses for prompts: format tag 7 (μ-law),
//! mono, 8000 Hz, byte rate 8000, block align 1, 8 bits. The RIFF size is the file length minus 8
//! (the Python SDK's header is 4 bytes too large).

use std::path::Path;
use std::time::Duration;

use super::error::{AudioError, AudioErrorKind};
use super::{alaw, mulaw};

/// Length of the header [`mulaw_wav`] and [`pcm16_wav`] write.
pub const WAV_HEADER_LEN: usize = 44;

const TAG_PCM: u16 = 0x0001;
const TAG_FLOAT: u16 = 0x0003;
const TAG_ALAW: u16 = 0x0006;
const TAG_MULAW: u16 = 0x0007;
const TAG_EXTENSIBLE: u16 = 0xFFFE;
/// Bytes 2..16 of every `KSDATAFORMAT_SUBTYPE_*` GUID derived from a format tag.
const SUBFORMAT_GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// The sample format of a WAV file's `data` chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WavFormat {
    /// Integer PCM, little-endian; 8-bit is unsigned, wider is signed.
    Pcm {
        /// 8, 16, 24 or 32.
        bits: u16,
    },
    /// IEEE float PCM, little-endian, nominally in `[-1, 1]`.
    Float {
        /// 32 or 64.
        bits: u16,
    },
    /// G.711 μ-law, 8 bits.
    Mulaw,
    /// G.711 A-law, 8 bits.
    Alaw,
}

impl WavFormat {
    /// Bytes per sample of one channel.
    #[must_use]
    pub fn bytes_per_sample(self) -> usize {
        match self {
            Self::Pcm { bits } | Self::Float { bits } => usize::from(bits / 8),
            Self::Mulaw | Self::Alaw => 1,
        }
    }

    fn from_tag(tag: u16, bits: u16) -> Option<Self> {
        match (tag, bits) {
            (TAG_PCM, 8 | 16 | 24 | 32) => Some(Self::Pcm { bits }),
            (TAG_FLOAT, 32 | 64) => Some(Self::Float { bits }),
            (TAG_MULAW, 8) => Some(Self::Mulaw),
            (TAG_ALAW, 8) => Some(Self::Alaw),
            _ => None,
        }
    }

    /// One sample of one channel, as 16-bit PCM. `bytes` has exactly `bytes_per_sample` bytes.
    #[inline]
    fn sample(self, bytes: &[u8]) -> i16 {
        match (self, bytes) {
            (Self::Mulaw, [b]) => mulaw::decode_sample(*b),
            (Self::Alaw, [b]) => alaw::decode_sample(*b),
            (Self::Pcm { .. }, [b]) => (i16::from(*b) - 128) << 8,
            (Self::Pcm { .. }, [lo, hi]) => i16::from_le_bytes([*lo, *hi]),
            (Self::Pcm { .. }, [_, b1, b2]) => i16::from_le_bytes([*b1, *b2]),
            (Self::Pcm { .. }, [_, _, b2, b3]) => i16::from_le_bytes([*b2, *b3]),
            (Self::Float { .. }, [b0, b1, b2, b3]) => {
                float_to_i16(f64::from(f32::from_le_bytes([*b0, *b1, *b2, *b3])))
            }
            (Self::Float { .. }, [b0, b1, b2, b3, b4, b5, b6, b7]) => {
                float_to_i16(f64::from_le_bytes([*b0, *b1, *b2, *b3, *b4, *b5, *b6, *b7]))
            }
            _ => 0,
        }
    }
}

#[inline]
fn float_to_i16(value: f64) -> i16 {
    // `as` saturates and maps NaN to 0.
    (value * 32768.0).round() as i16
}

/// A parsed WAV file, borrowing its sample data from the input bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wav<'a> {
    format: WavFormat,
    sample_rate: u32,
    channels: u16,
    data: &'a [u8],
}

impl<'a> Wav<'a> {
    /// Parses a RIFF/WAVE file.
    ///
    /// A `data` chunk that claims more bytes than the file holds (as streaming writers leave it) is
    /// cut to the bytes present; a trailing partial sample frame is ignored when decoding.
    ///
    /// # Errors
    /// [`AudioErrorKind::NotWav`] when the bytes do not start with `RIFF....WAVE`,
    /// [`AudioErrorKind::MalformedWav`] for a missing or broken `fmt ` or `data` chunk,
    /// [`AudioErrorKind::UnsupportedWavFormat`] for other codecs.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, AudioError> {
        if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Err(AudioError::new(AudioErrorKind::NotWav));
        }
        let mut fmt: Option<Fmt> = None;
        let mut data: Option<&'a [u8]> = None;
        let mut pos = 12usize;
        while fmt.is_none() || data.is_none() {
            let Some(header) = bytes.get(pos..pos.saturating_add(8)) else {
                break;
            };
            let id = &header[0..4];
            let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
            let body_start = pos + 8;
            let body_end = body_start.saturating_add(size);
            match id {
                b"fmt " if fmt.is_none() => {
                    let body = bytes
                        .get(body_start..body_end)
                        .ok_or_else(|| AudioError::malformed("the fmt chunk runs past the end"))?;
                    fmt = Some(Fmt::parse(body)?);
                }
                b"data" if data.is_none() => {
                    data = Some(&bytes[body_start..body_end.min(bytes.len())]);
                }
                _ => {}
            }
            // Chunks are word-aligned: an odd-sized body is followed by one pad byte.
            pos = body_end.saturating_add(size & 1);
        }
        let fmt = fmt.ok_or_else(|| AudioError::malformed("no fmt chunk"))?;
        let data = data.ok_or_else(|| AudioError::malformed("no data chunk"))?;
        Ok(Self {
            format: fmt.format,
            sample_rate: fmt.sample_rate,
            channels: fmt.channels,
            data,
        })
    }

    /// The sample format.
    #[must_use]
    pub fn format(&self) -> WavFormat {
        self.format
    }

    /// Samples per second (per channel).
    #[must_use]
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Number of interleaved channels.
    #[must_use]
    pub fn channels(&self) -> u16 {
        self.channels
    }

    /// The `data` chunk's bytes, as stored.
    #[must_use]
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Number of complete sample frames (one sample per channel).
    #[must_use]
    pub fn frames(&self) -> usize {
        self.data.len() / self.frame_len()
    }

    /// Play-out duration.
    #[must_use]
    pub fn duration(&self) -> Duration {
        let frames = self.frames() as u128;
        let nanos = frames * 1_000_000_000 / u128::from(self.sample_rate);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    fn frame_len(&self) -> usize {
        self.format.bytes_per_sample() * usize::from(self.channels)
    }

    /// Decodes the samples to 16-bit PCM, averaging the channels to mono, appending to `out`.
    pub fn decode_mono_into(&self, out: &mut Vec<i16>) {
        let frame_len = self.frame_len();
        let usable = &self.data[..self.frames() * frame_len];
        match (self.format, self.channels) {
            (WavFormat::Mulaw, 1) => mulaw::decode_into(usable, out),
            (WavFormat::Alaw, 1) => alaw::decode_into(usable, out),
            (format, 1) => {
                out.reserve(usable.len() / frame_len);
                out.extend(usable.chunks_exact(frame_len).map(|s| format.sample(s)));
            }
            (format, channels) => {
                let width = format.bytes_per_sample();
                let channels = i64::from(channels);
                out.reserve(usable.len() / frame_len);
                out.extend(usable.chunks_exact(frame_len).map(|frame| {
                    let sum: i64 = frame
                        .chunks_exact(width)
                        .map(|s| i64::from(format.sample(s)))
                        .sum();
                    // The mean of i16 values is an i16.
                    (sum / channels) as i16
                }));
            }
        }
    }

    /// Decodes the samples to 16-bit PCM mono (channels averaged).
    #[must_use]
    pub fn decode_mono(&self) -> Vec<i16> {
        let mut out = Vec::new();
        self.decode_mono_into(&mut out);
        out
    }
}

/// The fields of a `fmt ` chunk this module uses.
#[derive(Debug)]
struct Fmt {
    format: WavFormat,
    channels: u16,
    sample_rate: u32,
}

impl Fmt {
    fn parse(body: &[u8]) -> Result<Self, AudioError> {
        if body.len() < 16 {
            return Err(AudioError::malformed(
                "the fmt chunk is shorter than 16 bytes",
            ));
        }
        let u16_at = |at: usize| u16::from_le_bytes([body[at], body[at + 1]]);
        let mut tag = u16_at(0);
        let channels = u16_at(2);
        let sample_rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
        let bits = u16_at(14);
        if tag == TAG_EXTENSIBLE {
            if body.len() < 40 || u16_at(16) < 22 {
                return Err(AudioError::malformed(
                    "the WAVE_FORMAT_EXTENSIBLE fmt chunk is shorter than 40 bytes",
                ));
            }
            if body[26..40] != SUBFORMAT_GUID_TAIL {
                return Err(AudioError::new(AudioErrorKind::UnsupportedWavFormat {
                    format_tag: TAG_EXTENSIBLE,
                    bits_per_sample: bits,
                }));
            }
            tag = u16_at(24);
        }
        if channels == 0 {
            return Err(AudioError::malformed("the fmt chunk declares 0 channels"));
        }
        if sample_rate == 0 {
            return Err(AudioError::new(AudioErrorKind::UnsupportedSampleRate(0)));
        }
        let format = WavFormat::from_tag(tag, bits).ok_or_else(|| {
            AudioError::new(AudioErrorKind::UnsupportedWavFormat {
                format_tag: tag,
                bits_per_sample: bits,
            })
        })?;
        Ok(Self {
            format,
            channels,
            sample_rate,
        })
    }
}

/// Reads and parses a WAV file, returning mono 16-bit PCM and its sample rate.
///
/// # Errors
/// [`AudioErrorKind::Io`] when the file cannot be read, else the errors of [`Wav::parse`].
pub fn read_wav_file(path: impl AsRef<Path>) -> Result<(Vec<i16>, u32), AudioError> {
    let bytes = std::fs::read(path).map_err(AudioError::io)?;
    let wav = Wav::parse(&bytes)?;
    Ok((wav.decode_mono(), wav.sample_rate()))
}

fn write_header(out: &mut Vec<u8>, format_tag: u16, sample_rate: u32, bits: u16, data_len: usize) {
    let block_align = bits / 8;
    // RIFF sizes are 32-bit; longer data (over 4 GiB) cannot be described and saturates.
    let data_len = u32::try_from(data_len).unwrap_or(u32::MAX - 36);
    out.reserve(WAV_HEADER_LEN);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&format_tag.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * u32::from(block_align)).to_le_bytes());
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
}

/// Appends a complete 8 kHz mono μ-law WAV file (44-byte header + `mulaw`) to `out`.
///
/// This is the prompt format Webex plays in WAV mode. An odd data length is written without the
/// RIFF pad byte, so the RIFF size stays exactly the file length minus 8 and no stray sample is
/// played (readers, this module's included, accept the missing pad at the end of the file).
pub fn write_mulaw_wav(mulaw: &[u8], out: &mut Vec<u8>) {
    write_header(out, TAG_MULAW, 8000, 8, mulaw.len());
    out.extend_from_slice(mulaw);
}

/// A complete 8 kHz mono μ-law WAV file holding `mulaw`; see [`write_mulaw_wav`].
#[must_use]
pub fn mulaw_wav(mulaw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(WAV_HEADER_LEN + mulaw.len());
    write_mulaw_wav(mulaw, &mut out);
    out
}

/// A complete mono 16-bit PCM WAV file holding `samples` at `sample_rate`.
#[must_use]
pub fn pcm16_wav(samples: &[i16], sample_rate: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(WAV_HEADER_LEN + samples.len() * 2);
    write_header(&mut out, TAG_PCM, sample_rate, 16, samples.len() * 2);
    super::encoding::pcm16_le_encode_into(samples, &mut out);
    out
}

#[cfg(test)]
mod tests;
