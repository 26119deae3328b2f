//! Audio and endpointing benchmarks: `cargo bench -p byova-media --bench audio`.
//!
//! - G.711 μ-law decode/encode throughput (target: decode ≥ 500 MB/s);
//! - resampling 48 kHz → 8 kHz (text-to-speech prompts) and 8 kHz → 16 kHz (the detector's input);
//! - prompt conversion of one second of 24 kHz PCM to 8 kHz μ-law;
//! - endpointing speed: caller audio in 20 ms μ-law messages through an `Endpointer`
//!   (throughput in elements = 8 kHz samples, so elements/s ÷ 8000 = × real time; target ≥ 500×).

use std::hint::black_box;
use std::time::Duration;

use byova_media::audio::{self, AudioEncoding, PromptAudio, Resampler, Wav, alaw, mulaw};
use byova_media::vad::{
    EarshotDetector, Endpointer, EndpointerConfig, EnergyDetector, VoiceDetector,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn noise_bytes(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9u32;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect()
}

fn tone(rate: u32, seconds: f64) -> Vec<i16> {
    let n = (f64::from(rate) * seconds) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            (8000.0 * (t * 440.0 * std::f64::consts::TAU).sin()) as i16
        })
        .collect()
}

fn g711(c: &mut Criterion) {
    let mut group = c.benchmark_group("g711");
    let codes = noise_bytes(1 << 20);
    let mut pcm = Vec::with_capacity(codes.len());
    group.throughput(Throughput::Bytes(codes.len() as u64));
    group.bench_function("mulaw_decode_1MiB", |b| {
        b.iter(|| {
            pcm.clear();
            mulaw::decode_into(black_box(&codes), &mut pcm);
            black_box(pcm.len())
        });
    });
    group.bench_function("alaw_decode_1MiB", |b| {
        b.iter(|| {
            pcm.clear();
            alaw::decode_into(black_box(&codes), &mut pcm);
            black_box(pcm.len())
        });
    });
    let samples = mulaw::decode(&codes);
    let mut out = Vec::with_capacity(samples.len());
    // Throughput in encoded bytes (= samples).
    group.bench_function("mulaw_encode_1M_samples", |b| {
        b.iter(|| {
            out.clear();
            mulaw::encode_into(black_box(&samples), &mut out);
            black_box(out.len())
        });
    });
    group.bench_function("alaw_encode_1M_samples", |b| {
        b.iter(|| {
            out.clear();
            alaw::encode_into(black_box(&samples), &mut out);
            black_box(out.len())
        });
    });
    group.finish();
}

fn resampling(c: &mut Criterion) {
    let mut group = c.benchmark_group("resample");
    // One second of input per iteration: time per iteration = real-time fraction.
    for (from, to) in [
        (48_000u32, 8000u32),
        (24_000, 8000),
        (22_050, 8000),
        (8000, 16_000),
    ] {
        let input = tone(from, 1.0);
        let mut resampler = Resampler::new(from, to).unwrap();
        let mut out = Vec::with_capacity(to as usize + 64);
        group.throughput(Throughput::Elements(u64::from(from)));
        group.bench_function(format!("{from}_to_{to}_1s"), |b| {
            b.iter(|| {
                out.clear();
                resampler.process(black_box(&input), &mut out);
                black_box(out.len())
            });
        });
    }
    let prompt = tone(24_000, 1.0);
    group.throughput(Throughput::Elements(24_000));
    group.bench_function("prompt_24k_pcm_to_mulaw_8k_1s", |b| {
        b.iter(|| {
            audio::to_mulaw_8k(PromptAudio::Pcm16 {
                samples: black_box(&prompt),
                sample_rate: 24_000,
            })
            .unwrap()
        });
    });
    group.finish();
}

/// About 12 s of real speech and silence: the espeak-ng fixtures, back to back.
fn caller_audio() -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let mut audio = Vec::new();
    for name in ["yes.wav", "balance.wav", "two_phrases.wav", "agent.wav"] {
        let bytes = std::fs::read(dir.join(name)).expect("fixture (run `cargo xtask fixtures`)");
        audio.extend_from_slice(Wav::parse(&bytes).expect("fixture WAV").data());
    }
    audio
}

fn endpointing(c: &mut Criterion) {
    let audio = caller_audio();
    let mut group = c.benchmark_group("endpointing");
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(audio.len() as u64));
    type MakeDetector = fn() -> Box<dyn VoiceDetector>;
    let detectors: [(&str, MakeDetector); 3] = [
        ("earshot_gated_default", || Box::new(EarshotDetector::new())),
        ("earshot_ungated", || {
            Box::new(EarshotDetector::new().without_noise_gate())
        }),
        ("energy", || Box::new(EnergyDetector::new())),
    ];
    for (name, make) in detectors {
        group.bench_function(format!("{name}_20ms_mulaw_messages"), |b| {
            let mut endpointer =
                Endpointer::with_detector(EndpointerConfig::default(), make()).unwrap();
            b.iter(|| {
                let mut events = 0;
                for message in black_box(&audio).chunks(160) {
                    // Restart after each utterance, as the turn driver does per turn.
                    let pushed = endpointer
                        .push(message, Some(AudioEncoding::Mulaw), 8000)
                        .unwrap();
                    for _ in pushed {
                        events += 1;
                    }
                    if endpointer.phase() == byova_media::vad::EndpointerPhase::Ended {
                        black_box(endpointer.take_utterance());
                        endpointer.reset();
                    }
                }
                events
            });
        });
    }
    group.finish();
}

criterion_group!(benches, g711, resampling, endpointing);
criterion_main!(benches);
