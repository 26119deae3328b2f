//! The three caller-audio encodings of BYOVA and conversions between their bytes and PCM16.

use super::{alaw, mulaw};

/// How audio bytes encode samples (the BYOVA `VoiceInput.VoiceEncoding` values, minus "unspecified").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioEncoding {
    /// 16-bit signed PCM, little-endian (`LINEAR16_FORMAT = 1`).
    Linear16,
    /// G.711 μ-law, one byte per sample (`MULAW_FORMAT = 2`), what Webex sends in practice.
    Mulaw,
    /// G.711 A-law, one byte per sample (`ALAW_FORMAT = 3`).
    Alaw,
}

impl AudioEncoding {
    /// Maps a wire value of `VoiceInput.VoiceEncoding`; `0` (unspecified) and unknown values give `None`.
    #[must_use]
    pub fn from_wire(value: i32) -> Option<Self> {
        match value {
            1 => Some(Self::Linear16),
            2 => Some(Self::Mulaw),
            3 => Some(Self::Alaw),
            _ => None,
        }
    }

    /// The `VoiceInput.VoiceEncoding` wire value.
    #[must_use]
    pub fn to_wire(self) -> i32 {
        match self {
            Self::Linear16 => 1,
            Self::Mulaw => 2,
            Self::Alaw => 3,
        }
    }

    /// Bytes per sample: 2 for LINEAR16, 1 for the G.711 codecs.
    #[must_use]
    pub fn bytes_per_sample(self) -> usize {
        match self {
            Self::Linear16 => 2,
            Self::Mulaw | Self::Alaw => 1,
        }
    }

    /// Decodes `bytes` in this encoding, appending PCM16 samples to `out`.
    ///
    /// For LINEAR16 a trailing odd byte is ignored; streaming callers keep it for the next piece
    /// (the [`Endpointer`](crate::vad::Endpointer) does).
    pub fn decode_into(self, bytes: &[u8], out: &mut Vec<i16>) {
        match self {
            Self::Linear16 => pcm16_le_decode_into(bytes, out),
            Self::Mulaw => mulaw::decode_into(bytes, out),
            Self::Alaw => alaw::decode_into(bytes, out),
        }
    }

    /// Decodes `bytes` in this encoding into a new vector of PCM16 samples (for LINEAR16 a
    /// trailing odd byte is ignored).
    #[must_use]
    pub fn decode(self, bytes: &[u8]) -> Vec<i16> {
        let mut out = Vec::with_capacity(bytes.len() / self.bytes_per_sample());
        self.decode_into(bytes, &mut out);
        out
    }

    /// Encodes PCM16 samples in this encoding, appending the bytes to `out`.
    pub fn encode_into(self, samples: &[i16], out: &mut Vec<u8>) {
        match self {
            Self::Linear16 => pcm16_le_encode_into(samples, out),
            Self::Mulaw => mulaw::encode_into(samples, out),
            Self::Alaw => alaw::encode_into(samples, out),
        }
    }
}

/// Decodes little-endian 16-bit PCM bytes, appending samples to `out`; a trailing odd byte is ignored.
pub fn pcm16_le_decode_into(bytes: &[u8], out: &mut Vec<i16>) {
    out.reserve(bytes.len() / 2);
    out.extend(
        bytes
            .chunks_exact(2)
            .map(|pair| i16::from_le_bytes([pair[0], pair[1]])),
    );
}

/// Encodes samples as little-endian 16-bit PCM bytes, appending them to `out`.
pub fn pcm16_le_encode_into(samples: &[i16], out: &mut Vec<u8>) {
    out.reserve(samples.len() * 2);
    for sample in samples {
        out.extend_from_slice(&sample.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_match_the_proto() {
        assert_eq!(AudioEncoding::from_wire(0), None);
        assert_eq!(AudioEncoding::from_wire(1), Some(AudioEncoding::Linear16));
        assert_eq!(AudioEncoding::from_wire(2), Some(AudioEncoding::Mulaw));
        assert_eq!(AudioEncoding::from_wire(3), Some(AudioEncoding::Alaw));
        assert_eq!(AudioEncoding::from_wire(4), None);
        assert_eq!(AudioEncoding::from_wire(-1), None);
        for encoding in [
            AudioEncoding::Linear16,
            AudioEncoding::Mulaw,
            AudioEncoding::Alaw,
        ] {
            assert_eq!(AudioEncoding::from_wire(encoding.to_wire()), Some(encoding));
        }
    }

    #[test]
    fn linear16_is_little_endian_and_drops_an_odd_byte() {
        let mut out = Vec::new();
        AudioEncoding::Linear16.decode_into(&[0x34, 0x12, 0xFF, 0xFF, 0x7F], &mut out);
        assert_eq!(out, [0x1234, -1]);
        let mut bytes = Vec::new();
        AudioEncoding::Linear16.encode_into(&[0x1234, -2], &mut bytes);
        assert_eq!(bytes, [0x34, 0x12, 0xFE, 0xFF]);
    }

    #[test]
    fn g711_dispatch() {
        let mut out = Vec::new();
        AudioEncoding::Mulaw.decode_into(&[0x80], &mut out);
        AudioEncoding::Alaw.decode_into(&[0xD5], &mut out);
        assert_eq!(out, [32124, 8]);
        let mut bytes = Vec::new();
        AudioEncoding::Mulaw.encode_into(&[0], &mut bytes);
        AudioEncoding::Alaw.encode_into(&[0], &mut bytes);
        assert_eq!(bytes, [0xFF, 0xD5]);
        assert_eq!(AudioEncoding::Mulaw.decode(&[0x80, 0xFF]), [32124, 0]);
        assert_eq!(AudioEncoding::Alaw.decode(&[0xD5]), [8]);
        assert_eq!(
            AudioEncoding::Linear16.decode(&[0x34, 0x12, 0x7F]),
            [0x1234]
        );
        assert_eq!(AudioEncoding::Linear16.bytes_per_sample(), 2);
        assert_eq!(AudioEncoding::Alaw.bytes_per_sample(), 1);
    }
}
