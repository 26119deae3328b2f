//! G.711 A-law (the European telephone codec; listed in the BYOVA encoding enum).
//!
//! Standard G.711: 13-bit magnitude, segments with a 4-bit mantissa, even bits inverted (`0x55`).
//! Decoding is a 256-entry table built at compile time; every code survives `encode(decode(b))`.

/// The A-law byte for the smallest positive sample, the usual A-law silence.
pub const ALAW_SILENCE: u8 = 0xD5;

/// PCM value of every A-law code, indexed by the code.
static DECODE_TABLE: [i16; 256] = build_decode_table();

const fn build_decode_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        let a = (code as u8) ^ 0x55;
        let mantissa = ((a & 0x0F) as i32) << 4;
        let segment = ((a & 0x70) >> 4) as i32;
        let magnitude = match segment {
            0 => mantissa + 8,
            _ => (mantissa + 0x108) << (segment - 1),
        };
        table[code] = if a & 0x80 != 0 { magnitude } else { -magnitude } as i16;
        code += 1;
    }
    table
}

/// Decodes one A-law byte to a 16-bit PCM sample.
#[inline]
#[must_use]
pub fn decode_sample(code: u8) -> i16 {
    DECODE_TABLE[usize::from(code)]
}

/// Encodes one 16-bit PCM sample to A-law.
#[inline]
#[must_use]
pub fn encode_sample(sample: i16) -> u8 {
    let value = i32::from(sample) >> 3; // 13-bit range
    let (mask, magnitude) = if value >= 0 {
        (0xD5u8, value)
    } else {
        (0x55u8, -value - 1)
    };
    // magnitude is 0..=4095: segment 0 and 1 share the step, higher ones double it.
    let segment = (32 - (magnitude as u32 | 0x1F).leading_zeros()).saturating_sub(5);
    let mantissa = if segment < 2 {
        (magnitude >> 1) & 0x0F
    } else {
        (magnitude >> segment) & 0x0F
    };
    (((segment as u8) << 4) | mantissa as u8) ^ mask
}

/// Decodes A-law bytes, appending one PCM sample per byte to `out`.
pub fn decode_into(codes: &[u8], out: &mut Vec<i16>) {
    out.reserve(codes.len());
    out.extend(codes.iter().map(|&code| DECODE_TABLE[usize::from(code)]));
}

/// Decodes A-law bytes into a new vector of PCM samples.
#[must_use]
pub fn decode(codes: &[u8]) -> Vec<i16> {
    let mut out = Vec::with_capacity(codes.len());
    decode_into(codes, &mut out);
    out
}

/// Encodes PCM samples, appending one A-law byte per sample to `out`.
pub fn encode_into(samples: &[i16], out: &mut Vec<u8>) {
    out.reserve(samples.len());
    out.extend(samples.iter().map(|&sample| encode_sample(sample)));
}

/// Encodes PCM samples into a new vector of A-law bytes.
#[must_use]
pub fn encode(samples: &[i16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(samples.len());
    encode_into(samples, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The Sun reference `linear2alaw`, transcribed from g711.c.
    fn reference_encode(sample: i16) -> u8 {
        const SEG_END: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
        let mut value = i32::from(sample) >> 3;
        let mask = if value >= 0 {
            0xD5
        } else {
            value = -value - 1;
            0x55
        };
        let segment = SEG_END.iter().position(|&end| value <= end).unwrap_or(8) as i32;
        if segment >= 8 {
            return (0x7F ^ mask) as u8;
        }
        let mut code = segment << 4;
        code |= if segment < 2 {
            (value >> 1) & 0x0F
        } else {
            (value >> segment) & 0x0F
        };
        (code ^ mask) as u8
    }

    #[test]
    fn known_values() {
        // Well-known G.711 A-law points.
        assert_eq!(decode_sample(0xD5), 8);
        assert_eq!(decode_sample(0x55), -8);
        assert_eq!(decode_sample(0xAA), 32256);
        assert_eq!(decode_sample(0x2A), -32256);
        assert_eq!(encode_sample(0), 0xD5);
        assert_eq!(encode_sample(-1), 0x55);
        assert_eq!(encode_sample(i16::MAX), 0xAA);
        assert_eq!(encode_sample(i16::MIN), 0x2A);
        assert_eq!(encode_sample(1000), 0xFA);
        assert_eq!(encode_sample(-1000), 0x7A);
    }

    #[test]
    fn encoder_matches_the_reference_on_every_sample() {
        for sample in i16::MIN..=i16::MAX {
            assert_eq!(
                encode_sample(sample),
                reference_encode(sample),
                "sample {sample}"
            );
        }
    }

    #[test]
    fn every_code_round_trips() {
        for code in 0..=255u8 {
            assert_eq!(encode_sample(decode_sample(code)), code, "code {code:#04x}");
        }
    }

    #[test]
    fn decode_into_appends() {
        let mut out = vec![1];
        decode_into(&[0xD5, 0x55], &mut out);
        assert_eq!(out, [1, 8, -8]);
        let mut bytes = vec![2];
        encode_into(&[0, -1], &mut bytes);
        assert_eq!(bytes, [2, 0xD5, 0x55]);
    }

    proptest! {
        #[test]
        fn slices_round_trip(codes in proptest::collection::vec(any::<u8>(), 0..512)) {
            prop_assert_eq!(encode(&decode(&codes)), codes);
        }
    }
}
