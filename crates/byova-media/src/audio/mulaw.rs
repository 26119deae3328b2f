//! G.711 μ-law: the codec Webex speaks on every call (8 kHz, 8 bits, mono).
//!
//! Encoding follows the classic "Sun" `linear2ulaw` algorithm (bias `0x84`, clip `32635`), the same
//! one the Python SDK uses, so both produce identical bytes. Decoding is a 256-entry table built at
//! compile time.
//!
//! One μ-law code, `0x7F` ("negative zero"), decodes to `0` like `0xFF`; re-encoding gives `0xFF`.
//! Every other code survives `encode(decode(b))` unchanged.

/// The μ-law byte for digital silence (PCM 0). Use it to pad μ-law audio.
pub const MULAW_SILENCE: u8 = 0xFF;

const BIAS: i32 = 0x84;
const CLIP: i32 = 32635;

/// PCM value of every μ-law code, indexed by the code.
static DECODE_TABLE: [i16; 256] = build_decode_table();

const fn build_decode_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        let u = !(code as u8);
        let mantissa = (u & 0x0F) as i32;
        let exponent = ((u & 0x70) >> 4) as i32;
        let magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
        table[code] = if u & 0x80 != 0 { -magnitude } else { magnitude } as i16;
        code += 1;
    }
    table
}

/// Decodes one μ-law byte to a 16-bit PCM sample.
#[inline]
#[must_use]
pub fn decode_sample(code: u8) -> i16 {
    DECODE_TABLE[usize::from(code)]
}

/// Encodes one 16-bit PCM sample to μ-law.
#[inline]
#[must_use]
pub fn encode_sample(sample: i16) -> u8 {
    let mut value = i32::from(sample);
    // The sign bit of the code is set for non-negative samples after the final inversion.
    let sign: u8 = if value < 0 { 0x80 } else { 0 };
    if value < 0 {
        value = -value;
    }
    let biased = value.min(CLIP) + BIAS; // 0x84..=0x7FFF: bit 7..=14 holds the exponent
    // Position of the highest set bit (7..=14) minus 7: the segment, 0..=7.
    let exponent = 24 - (biased as u32).leading_zeros();
    let mantissa = ((biased >> (exponent + 3)) & 0x0F) as u8;
    !(sign | ((exponent as u8) << 4) | mantissa)
}

/// Decodes μ-law bytes, appending one PCM sample per byte to `out`.
pub fn decode_into(codes: &[u8], out: &mut Vec<i16>) {
    out.reserve(codes.len());
    out.extend(codes.iter().map(|&code| DECODE_TABLE[usize::from(code)]));
}

/// Decodes μ-law bytes into a new vector of PCM samples.
#[must_use]
pub fn decode(codes: &[u8]) -> Vec<i16> {
    let mut out = Vec::with_capacity(codes.len());
    decode_into(codes, &mut out);
    out
}

/// Encodes PCM samples, appending one μ-law byte per sample to `out`.
pub fn encode_into(samples: &[i16], out: &mut Vec<u8>) {
    out.reserve(samples.len());
    out.extend(samples.iter().map(|&sample| encode_sample(sample)));
}

/// Encodes PCM samples into a new vector of μ-law bytes.
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

    /// The Sun reference encoder, written the way the C original (and the Python SDK) does it.
    fn reference_encode(sample: i16) -> u8 {
        const EXP_LUT: [u8; 8] = [0, 1, 2, 3, 4, 5, 6, 7];
        let mut value = i32::from(sample);
        let sign = (value >> 8) & 0x80;
        if sign != 0 {
            value = -value;
        }
        value = value.min(CLIP) + BIAS;
        let mut exponent = 7;
        let mut mask = 0x4000;
        while exponent > 0 && value & mask == 0 {
            exponent -= 1;
            mask >>= 1;
        }
        let exponent = i32::from(EXP_LUT[exponent as usize]);
        let mantissa = (value >> (exponent + 3)) & 0x0F;
        !((sign | (exponent << 4) | mantissa) as u8)
    }

    #[test]
    fn golden_encode_vectors_of_the_python_sdk() {
        let cases: [(i16, u8); 10] = [
            (0, 0xFF),
            (1, 0xFF),
            (-1, 0x7F),
            (256, 0xE7),
            (-256, 0x67),
            (1000, 0xCE),
            (-1000, 0x4E),
            (8000, 0xA0),
            (32767, 0x80),
            (-32768, 0x00),
        ];
        for (sample, code) in cases {
            assert_eq!(encode_sample(sample), code, "encode({sample})");
        }
        let samples: Vec<i16> = cases.iter().map(|c| c.0).collect();
        let codes: Vec<u8> = cases.iter().map(|c| c.1).collect();
        assert_eq!(encode(&samples), codes);
    }

    #[test]
    fn golden_decode_vectors_of_the_python_sdk() {
        let cases: [(u8, i16); 6] = [
            (0x00, -32124),
            (0x80, 32124),
            (0x7F, 0),
            (0xFF, 0),
            (0x0F, -16764),
            (0x8F, 16764),
        ];
        for (code, sample) in cases {
            assert_eq!(decode_sample(code), sample, "decode({code:#04x})");
        }
        let codes: Vec<u8> = cases.iter().map(|c| c.0).collect();
        let samples: Vec<i16> = cases.iter().map(|c| c.1).collect();
        assert_eq!(decode(&codes), samples);
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
    fn every_code_round_trips_except_negative_zero() {
        for code in 0..=255u8 {
            let back = encode_sample(decode_sample(code));
            if code == 0x7F {
                assert_eq!(back, 0xFF);
            } else {
                assert_eq!(back, code, "code {code:#04x}");
            }
        }
    }

    #[test]
    fn decode_into_appends() {
        let mut out = vec![7];
        decode_into(&[0xFF, 0x80], &mut out);
        assert_eq!(out, [7, 0, 32124]);
        let mut bytes = vec![1];
        encode_into(&[0, 32767], &mut bytes);
        assert_eq!(bytes, [1, 0xFF, 0x80]);
    }

    proptest! {
        #[test]
        fn slices_round_trip(codes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let expected: Vec<u8> =
                codes.iter().map(|&c| if c == 0x7F { 0xFF } else { c }).collect();
            prop_assert_eq!(encode(&decode(&codes)), expected);
        }

        #[test]
        fn decoding_gives_the_middle_of_the_quantisation_step(sample in any::<i16>()) {
            let code = encode_sample(sample);
            let back = i32::from(decode_sample(code));
            let value = i32::from(sample).clamp(-CLIP, CLIP);
            // Segment e quantises in steps of 2^(e+3); decoding returns the step's middle.
            let segment = (!code >> 4) & 0x07;
            let half_step = 1 << (segment + 2);
            prop_assert!((back - value).abs() <= half_step, "{sample} -> {code:#04x} -> {back}");
        }
    }
}
