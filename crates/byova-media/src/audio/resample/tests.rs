use std::f64::consts::PI;

use proptest::prelude::*;

use super::*;

fn tone(freq: f64, rate: u32, seconds: f64, amplitude: f64) -> Vec<i16> {
    let n = (f64::from(rate) * seconds) as usize;
    (0..n)
        .map(|i| (amplitude * (2.0 * PI * freq * i as f64 / f64::from(rate)).sin()).round() as i16)
        .collect()
}

/// Amplitude of the `freq` component of `samples` (least squares against sin and cos).
fn amplitude_at(samples: &[i16], freq: f64, rate: u32) -> f64 {
    let (mut s, mut c) = (0.0, 0.0);
    for (i, &x) in samples.iter().enumerate() {
        let w = 2.0 * PI * freq * i as f64 / f64::from(rate);
        s += f64::from(x) * w.sin();
        c += f64::from(x) * w.cos();
    }
    2.0 * (s * s + c * c).sqrt() / samples.len() as f64
}

fn rms(samples: &[i16]) -> f64 {
    (samples.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

/// The middle of a clip, away from the edge transients (the filter reaches ~3 ms either side).
fn middle(samples: &[i16]) -> &[i16] {
    let edge = samples.len() / 8;
    &samples[edge..samples.len() - edge]
}

#[test]
fn a_1khz_tone_survives_48k_to_8k() {
    let input = tone(1000.0, 48_000, 1.0, 10_000.0);
    let output = resample(&input, 48_000, 8000).unwrap();
    assert_eq!(output.len(), 8000);
    let amplitude = amplitude_at(middle(&output), 1000.0, 8000);
    assert!(
        (amplitude - 10_000.0).abs() < 100.0,
        "amplitude {amplitude}"
    );
    // Time-aligned: the output is the same sine sampled at 8 kHz, not a shifted one.
    let expected = tone(1000.0, 8000, 1.0, 10_000.0);
    let error: Vec<i16> = middle(&output)
        .iter()
        .zip(middle(&expected))
        .map(|(a, b)| a - b)
        .collect();
    assert!(rms(&error) < 50.0, "error rms {}", rms(&error));
}

#[test]
fn a_5khz_tone_at_48k_is_attenuated_at_least_40_db_at_8k() {
    let input = tone(5000.0, 48_000, 1.0, 20_000.0);
    let output = resample(&input, 48_000, 8000).unwrap();
    let attenuation = 20.0 * (rms(middle(&output)) / rms(&input)).log10();
    assert!(attenuation <= -40.0, "only {attenuation:.1} dB");
    // 5 kHz would alias to 3 kHz.
    let alias = amplitude_at(middle(&output), 3000.0, 8000);
    assert!(alias < 20_000.0 * 0.01, "alias amplitude {alias}");
}

#[test]
fn common_prompt_rates_convert_to_8k_and_back() {
    for rate in [16_000, 22_050, 24_000, 44_100, 48_000] {
        let input = tone(440.0, rate, 0.5, 8000.0);
        let down = resample(&input, rate, 8000).unwrap();
        assert_eq!(
            down.len() as u64,
            (input.len() as u64 * 8000).div_ceil(u64::from(rate))
        );
        let amplitude = amplitude_at(middle(&down), 440.0, 8000);
        assert!((amplitude - 8000.0).abs() < 80.0, "{rate} Hz: {amplitude}");

        let up = resample(&down, 8000, rate).unwrap();
        let amplitude = amplitude_at(middle(&up), 440.0, rate);
        assert!(
            (amplitude - 8000.0).abs() < 160.0,
            "8000 -> {rate} Hz: {amplitude}"
        );
    }
}

#[test]
fn upsampling_suppresses_images() {
    // 8k -> 16k: a 1 kHz tone must not leave an image at 7 kHz.
    let input = tone(1000.0, 8000, 1.0, 10_000.0);
    let output = resample(&input, 8000, 16_000).unwrap();
    assert_eq!(output.len(), 16_000);
    let wanted = amplitude_at(middle(&output), 1000.0, 16_000);
    let image = amplitude_at(middle(&output), 7000.0, 16_000);
    assert!((wanted - 10_000.0).abs() < 100.0, "{wanted}");
    assert!(20.0 * (image / wanted).log10() < -60.0, "image {image}");
}

#[test]
fn dc_passes_at_unity_gain() {
    let input = vec![1000i16; 4800];
    for (from, to) in [(48_000, 8000), (8000, 16_000), (22_050, 8000)] {
        let output = resample(&input, from, to).unwrap();
        for &s in middle(&output) {
            assert!((i32::from(s) - 1000).abs() <= 1, "{from}->{to}: {s}");
        }
    }
}

#[test]
fn full_scale_input_saturates_instead_of_wrapping() {
    let input: Vec<i16> = (0..4800)
        .map(|i| {
            if (i / 240) % 2 == 0 {
                i16::MAX
            } else {
                i16::MIN
            }
        })
        .collect();
    let output = resample(&input, 48_000, 8000).unwrap();
    // Plateaus last 40 output samples; near their edges the filter overshoots full scale, which
    // must clamp to the extreme instead of wrapping around to the other sign.
    assert_eq!(output.len(), 800);
    for (i, &s) in output.iter().enumerate().skip(80).take(640) {
        match i % 80 {
            5..35 => assert!(s > 30_000, "sample {i}: {s}"),
            45..75 => assert!(s < -30_000, "sample {i}: {s}"),
            _ => {}
        }
    }
    assert!(output.contains(&i16::MAX) && output.contains(&i16::MIN));
}

#[test]
fn unsupported_rates_are_errors() {
    for (from, to, bad) in [
        (0, 8000, 0),
        (8000, 0, 0),
        (500, 8000, 500),
        (8000, 400_000, 400_000),
        (8000, 7999, 7999),
    ] {
        let err = Resampler::new(from, to).unwrap_err();
        assert_eq!(err.kind(), &AudioErrorKind::UnsupportedSampleRate(bad));
    }
    assert_eq!(
        resample(&[1], 0, 0).unwrap_err().kind(),
        &AudioErrorKind::UnsupportedSampleRate(0)
    );
    assert_eq!(resample(&[1, 2, 3], 8000, 8000).unwrap(), [1, 2, 3]);
}

#[test]
fn accessors_and_reuse_after_flush() {
    let mut resampler = Resampler::new(16_000, 8000).unwrap();
    assert_eq!((resampler.from_rate(), resampler.to_rate()), (16_000, 8000));
    assert!(resampler.latency_input_samples() > 0);
    let input = tone(500.0, 16_000, 0.1, 5000.0);
    let mut first = Vec::new();
    resampler.process(&input, &mut first);
    resampler.flush(&mut first);
    let mut second = Vec::new();
    resampler.process(&input, &mut second);
    resampler.flush(&mut second);
    assert_eq!(first, second);
    assert_eq!(first.len(), 800);
}

proptest! {
    #[test]
    fn streaming_in_pieces_equals_one_shot(
        pieces in proptest::collection::vec(0usize..300, 1..20),
        rates in prop_oneof![
            Just((48_000u32, 8000u32)),
            Just((8000, 16_000)),
            Just((16_000, 8000)),
            Just((22_050, 8000)),
            Just((8000, 24_000)),
        ],
        seed in any::<u32>(),
    ) {
        let total: usize = pieces.iter().sum();
        let mut state = seed | 1;
        let input: Vec<i16> = (0..total)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state >> 16) as i16 / 4
            })
            .collect();
        let one_shot = resample(&input, rates.0, rates.1).unwrap();
        let mut resampler = Resampler::new(rates.0, rates.1).unwrap();
        let mut streamed = Vec::new();
        let mut rest = &input[..];
        for len in pieces {
            let (piece, tail) = rest.split_at(len);
            resampler.process(piece, &mut streamed);
            rest = tail;
        }
        resampler.flush(&mut streamed);
        prop_assert_eq!(streamed, one_shot);
    }
}

#[test]
fn the_analysis_filter_is_shorter_but_still_clean() {
    let full = Resampler::new(8000, 16_000).unwrap();
    let mut fast = Resampler::for_analysis(8000, 16_000).unwrap();
    assert!(fast.latency_input_samples() < full.latency_input_samples());
    let input = tone(1000.0, 8000, 1.0, 10_000.0);
    let mut output = Vec::new();
    fast.process(&input, &mut output);
    fast.flush(&mut output);
    assert_eq!(output.len(), 16_000);
    let wanted = amplitude_at(middle(&output), 1000.0, 16_000);
    let image = amplitude_at(middle(&output), 7000.0, 16_000);
    assert!((wanted - 10_000.0).abs() < 100.0, "{wanted}");
    assert!(20.0 * (image / wanted).log10() < -50.0, "image {image}");
}
