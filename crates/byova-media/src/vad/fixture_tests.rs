//! Endpointing on real speech: the espeak-ng fixtures of `tests/fixtures` (see `cargo xtask fixtures`).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::*;
use crate::audio::{AudioEncoding, Wav, mulaw};

#[derive(Debug, Deserialize)]
struct Manifest {
    sample_rate: u32,
    fixtures: Vec<FixtureInfo>,
}

#[derive(Debug, Deserialize)]
struct FixtureInfo {
    file: String,
    speech_start_sample: u64,
    speech_end_sample: u64,
    segments: Vec<(u64, u64)>,
}

struct Fixture {
    name: String,
    mulaw: Vec<u8>,
    speech_start: Duration,
    speech_end: Duration,
    /// Speech segments `[start, end)` (phrases separated by inserted pauses).
    segments: Vec<(Duration, Duration)>,
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn load() -> Vec<Fixture> {
    let dir = fixtures_dir();
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("speech.json")).unwrap()).unwrap();
    let rate = manifest.sample_rate;
    let at = |sample: u64| Duration::from_nanos(sample * 1_000_000_000 / u64::from(rate));
    manifest
        .fixtures
        .into_iter()
        .map(|info| {
            let bytes = std::fs::read(dir.join(&info.file)).unwrap();
            let wav = Wav::parse(&bytes).unwrap();
            assert_eq!(wav.sample_rate(), rate);
            Fixture {
                name: info.file,
                mulaw: wav.data().to_vec(),
                speech_start: at(info.speech_start_sample),
                speech_end: at(info.speech_end_sample),
                segments: info.segments.iter().map(|&(a, b)| (at(a), at(b))).collect(),
            }
        })
        .collect()
}

/// Adds white noise of RMS `rms` (deterministic) to μ-law audio.
fn with_noise(audio: &[u8], rms: f64, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    // Uniform noise in [-a, a] has RMS a / sqrt(3).
    let amplitude = rms * 3f64.sqrt();
    let pcm: Vec<i16> = mulaw::decode(audio)
        .into_iter()
        .map(|s| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let uniform = (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
            (f64::from(s) + uniform * amplitude)
                .round()
                .clamp(-32768.0, 32767.0) as i16
        })
        .collect();
    mulaw::encode(&pcm)
}

/// Feeds `audio` as 20 ms μ-law frames; returns the events.
fn run(endpointer: &mut Endpointer, audio: &[u8]) -> Vec<EndpointEvent> {
    let mut events = Vec::new();
    for frame in audio.chunks(160) {
        events.extend(
            endpointer
                .push(frame, Some(AudioEncoding::Mulaw), 8000)
                .unwrap(),
        );
    }
    events
}

/// The two boundaries of one run, checked against the manifest.
///
/// Timing contract (all audio time, from the start of the fixture):
/// - START: `SpeechStarted.onset` within ±150 ms of the first speech sample, and the event itself
///   (`at`) no later than that sample + `start_debounce` + 150 ms;
/// - END: `SpeechEnded.at` — when `END_OF_INPUT` would go out — within ±150 ms of
///   (last speech sample + `end_silence`), and `speech_end` within ±150 ms of the last speech sample.
fn assert_timing(
    label: &str,
    events: &[EndpointEvent],
    speech_start: Duration,
    speech_end: Duration,
    config: &EndpointerConfig,
) {
    const TOLERANCE: Duration = Duration::from_millis(150);
    let [
        EndpointEvent::SpeechStarted(start),
        EndpointEvent::SpeechEnded(end),
    ] = events[..]
    else {
        panic!("{label}: expected one START and one END, got {events:?}");
    };
    assert!(
        start.onset.abs_diff(speech_start) <= TOLERANCE,
        "{label}: onset {:?}, speech starts at {speech_start:?}",
        start.onset
    );
    assert!(
        start.at <= speech_start + config.start_debounce + TOLERANCE,
        "{label}: START at {:?}",
        start.at
    );
    assert_eq!(end.reason, EndReason::Silence, "{label}");
    let expected_end = speech_end + config.end_silence;
    assert!(
        end.at.abs_diff(expected_end) <= TOLERANCE,
        "{label}: END at {:?}, expected {expected_end:?}",
        end.at
    );
    assert!(
        end.speech_end.abs_diff(speech_end) <= TOLERANCE,
        "{label}: speech end {:?}, expected {speech_end:?}",
        end.speech_end
    );
}

#[test]
fn the_fixtures_are_small_8k_mulaw_with_silence_around_the_speech() {
    let fixtures = load();
    assert!(fixtures.len() >= 4);
    for fixture in &fixtures {
        assert!(fixture.mulaw.len() < 64 * 1024, "{}", fixture.name);
        let total = Duration::from_nanos(fixture.mulaw.len() as u64 * 125_000);
        assert!(
            fixture.speech_start >= Duration::from_millis(500),
            "{}",
            fixture.name
        );
        assert!(
            total - fixture.speech_end >= Duration::from_millis(1200),
            "{}",
            fixture.name
        );
        // The manifest's boundaries are the loud samples' boundaries.
        let pcm = mulaw::decode(&fixture.mulaw);
        let first = pcm.iter().position(|s| s.unsigned_abs() >= 328).unwrap();
        let last = pcm.iter().rposition(|s| s.unsigned_abs() >= 328).unwrap();
        assert_eq!(
            Duration::from_nanos(first as u64 * 125_000),
            fixture.speech_start
        );
        assert_eq!(
            Duration::from_nanos((last as u64 + 1) * 125_000),
            fixture.speech_end
        );
    }
    let two = fixtures
        .iter()
        .find(|f| f.name == "two_phrases.wav")
        .unwrap();
    assert_eq!(two.segments.len(), 2);
    assert_eq!(
        two.segments[1].0 - two.segments[0].1,
        Duration::from_millis(300)
    );
}

#[test]
fn default_detector_endpoints_every_fixture_within_150_ms() {
    let config = EndpointerConfig::default();
    for fixture in load() {
        let mut endpointer = Endpointer::new(config.clone());
        let events = run(&mut endpointer, &fixture.mulaw);
        assert_timing(
            &fixture.name,
            &events,
            fixture.speech_start,
            fixture.speech_end,
            &config,
        );
        // The utterance holds the speech, from the pre-roll to the end.
        let utterance = endpointer.take_utterance().unwrap();
        let EndpointEvent::SpeechEnded(end) = events[1] else {
            unreachable!()
        };
        assert_eq!(
            utterance.start() + utterance.duration(),
            end.at,
            "{}",
            fixture.name
        );
        assert!(
            utterance.start() + config.pre_roll
                <= fixture.speech_start + Duration::from_millis(150)
        );
        let first = (utterance.start().as_nanos() / 125_000) as usize;
        let received = utterance.received().unwrap();
        assert_eq!(
            received,
            &fixture.mulaw[first..first + received.len()],
            "{}",
            fixture.name
        );
    }
}

#[test]
fn default_detector_endpoints_every_fixture_in_low_level_noise() {
    let config = EndpointerConfig::default();
    // White noise at about -50 and -44 dBFS, over the whole file.
    for (rms, seed) in [(100.0, 1), (200.0, 2)] {
        for fixture in load() {
            let noisy = with_noise(&fixture.mulaw, rms, seed);
            let mut endpointer = Endpointer::new(config.clone());
            let events = run(&mut endpointer, &noisy);
            let label = format!("{} with noise RMS {rms}", fixture.name);
            assert_timing(
                &label,
                &events,
                fixture.speech_start,
                fixture.speech_end,
                &config,
            );
        }
    }
}

#[test]
fn other_settings_move_the_end() {
    // 500 ms end silence and 16 kHz LINEAR16 input (the endpointer resamples for the detector).
    let config = EndpointerConfig::default().with_end_silence(Duration::from_millis(500));
    for fixture in load() {
        let pcm = mulaw::decode(&fixture.mulaw);
        let pcm16k = crate::audio::resample(&pcm, 8000, 16_000).unwrap();
        let mut bytes = Vec::new();
        crate::audio::pcm16_le_encode_into(&pcm16k, &mut bytes);
        let mut endpointer = Endpointer::new(config.clone());
        let mut events = Vec::new();
        for message in bytes.chunks(640) {
            events.extend(
                endpointer
                    .push(message, Some(AudioEncoding::Linear16), 16_000)
                    .unwrap(),
            );
        }
        assert_timing(
            &fixture.name,
            &events,
            fixture.speech_start,
            fixture.speech_end,
            &config,
        );
    }
}

#[test]
fn a_300_ms_pause_splits_only_with_a_shorter_end_silence() {
    let fixture = load()
        .into_iter()
        .find(|f| f.name == "two_phrases.wav")
        .unwrap();
    let [(_, first_end), (second_start, _)] = fixture.segments[..] else {
        panic!("{:?}", fixture.segments);
    };
    // With 150 ms of end silence the pause ends the utterance after the first phrase.
    let config = EndpointerConfig::default().with_end_silence(Duration::from_millis(150));
    let mut endpointer = Endpointer::new(config.clone());
    let events = run(&mut endpointer, &fixture.mulaw);
    assert_timing(
        "two phrases, 150 ms",
        &events,
        fixture.speech_start,
        first_end,
        &config,
    );
    // After a reset the second phrase is a new utterance, timed from the reset.
    endpointer.reset();
    let rest_start = match events[1] {
        EndpointEvent::SpeechEnded(end) => end.at,
        EndpointEvent::SpeechStarted(_) => unreachable!(),
    };
    let offset = (rest_start.as_nanos() / 125_000) as usize;
    let events = run(&mut endpointer, &fixture.mulaw[offset..]);
    assert_timing(
        "two phrases, second",
        &events,
        second_start - rest_start,
        fixture.speech_end - rest_start,
        &config,
    );
}

#[test]
fn the_energy_detector_also_endpoints_the_fixtures() {
    let config = EndpointerConfig::default();
    for (rms, seed) in [(0.0, 0), (100.0, 3)] {
        for fixture in load() {
            let audio = if rms > 0.0 {
                with_noise(&fixture.mulaw, rms, seed)
            } else {
                fixture.mulaw.clone()
            };
            let mut endpointer =
                Endpointer::with_detector(config.clone(), Box::new(EnergyDetector::new())).unwrap();
            let events = run(&mut endpointer, &audio);
            let label = format!("{} (energy) with noise RMS {rms}", fixture.name);
            assert_timing(
                &label,
                &events,
                fixture.speech_start,
                fixture.speech_end,
                &config,
            );
        }
    }
}

#[test]
fn steady_noise_alone_never_starts_an_utterance() {
    // Five seconds of loud white noise (-30 dBFS): the network alone would call it speech.
    let audio = with_noise(&vec![mulaw::MULAW_SILENCE; 40_000], 1000.0, 9);
    let detectors: [Box<dyn VoiceDetector>; 2] = [
        Box::new(EarshotDetector::new()),
        Box::new(EnergyDetector::new()),
    ];
    for detector in detectors {
        let label = format!("{detector:?}");
        let mut endpointer =
            Endpointer::with_detector(EndpointerConfig::default(), detector).unwrap();
        let events = run(&mut endpointer, &audio);
        assert!(events.is_empty(), "{label}: {events:?}");
    }
    let mut ungated = Endpointer::with_detector(
        EndpointerConfig::default(),
        Box::new(EarshotDetector::new().without_noise_gate()),
    )
    .unwrap();
    assert!(!run(&mut ungated, &audio).is_empty());
}

#[test]
fn speech_in_loud_noise_is_still_found() {
    // -30 dBFS white noise: START still within 150 ms; the soft ends of words drown, so the end
    // comes early, but within 200 ms.
    let config = EndpointerConfig::default();
    for fixture in load() {
        let noisy = with_noise(&fixture.mulaw, 1000.0, 5);
        let mut endpointer = Endpointer::new(config.clone());
        let events = run(&mut endpointer, &noisy);
        let [
            EndpointEvent::SpeechStarted(start),
            EndpointEvent::SpeechEnded(end),
        ] = events[..]
        else {
            panic!("{}: {events:?}", fixture.name);
        };
        assert!(
            start.onset.abs_diff(fixture.speech_start) <= Duration::from_millis(150),
            "{}: {start:?}",
            fixture.name
        );
        let expected_end = fixture.speech_end + config.end_silence;
        assert!(
            end.at.abs_diff(expected_end) <= Duration::from_millis(200),
            "{}: {end:?}",
            fixture.name
        );
    }
}
