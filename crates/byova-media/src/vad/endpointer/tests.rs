use super::*;
use crate::audio::{AudioErrorKind, alaw, mulaw, pcm16_le_encode_into};
use crate::vad::EnergyDetector;

/// A detector for exact tests: a frame is speech when any sample's magnitude exceeds 1000.
#[derive(Debug)]
struct LoudDetector {
    rate: u32,
    frame_len: usize,
}

impl LoudDetector {
    fn boxed(rate: u32, frame_len: usize) -> Box<dyn VoiceDetector> {
        Box::new(Self { rate, frame_len })
    }
}

impl VoiceDetector for LoudDetector {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn frame_len(&self) -> usize {
        self.frame_len
    }

    fn speech_probability(&mut self, frame: &[i16]) -> f32 {
        assert_eq!(frame.len(), self.frame_len);
        if frame.iter().any(|s| s.unsigned_abs() > 1000) {
            1.0
        } else {
            0.0
        }
    }

    fn reset(&mut self) {}
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// PCM at `rate`: silence, except a 400 Hz tone (amplitude 8000) between the given times (ms).
fn tone_between(rate: u32, total_ms: u64, bursts: &[(u64, u64)]) -> Vec<i16> {
    let n = (total_ms * u64::from(rate) / 1000) as usize;
    (0..n)
        .map(|i| {
            let t_ms = i as u64 * 1000 / u64::from(rate);
            if bursts.iter().any(|&(a, b)| (a..b).contains(&t_ms)) {
                let t = i as f64 / f64::from(rate);
                (8000.0 * (t * 400.0 * std::f64::consts::TAU).sin()) as i16
            } else {
                0
            }
        })
        .collect()
}

fn loud_endpointer(config: EndpointerConfig) -> Endpointer {
    Endpointer::with_detector(config, LoudDetector::boxed(8000, 80)).unwrap()
}

/// Pushes `bytes` in messages of `size` bytes; returns all events.
fn feed(
    endpointer: &mut Endpointer,
    bytes: &[u8],
    size: usize,
    encoding: Option<AudioEncoding>,
    rate: u32,
) -> Vec<EndpointEvent> {
    let mut events = Vec::new();
    for message in bytes.chunks(size) {
        events.extend(endpointer.push(message, encoding, rate).unwrap());
    }
    events
}

fn started(onset: u64, at: u64) -> EndpointEvent {
    EndpointEvent::SpeechStarted(SpeechStarted {
        onset: ms(onset),
        at: ms(at),
    })
}

fn ended(speech_end: u64, at: u64, reason: EndReason) -> EndpointEvent {
    EndpointEvent::SpeechEnded(SpeechEnded {
        speech_end: ms(speech_end),
        at: ms(at),
        reason,
    })
}

#[test]
fn one_utterance_gives_exactly_one_start_and_one_end() {
    let mut endpointer = loud_endpointer(EndpointerConfig::default());
    let audio = mulaw::encode(&tone_between(8000, 3000, &[(500, 1500)]));
    let events = feed(
        &mut endpointer,
        &audio,
        160,
        Some(AudioEncoding::Mulaw),
        8000,
    );
    assert_eq!(
        events,
        [started(500, 600), ended(1500, 2300, EndReason::Silence)]
    );
    assert_eq!(endpointer.phase(), EndpointerPhase::Ended);
    // Audio after the end is ignored.
    assert_eq!(endpointer.elapsed(), ms(2300));

    let utterance = endpointer.take_utterance().unwrap();
    assert_eq!(utterance.start(), ms(200));
    assert_eq!(utterance.duration(), ms(2100));
    assert_eq!(utterance.sample_rate(), 8000);
    assert_eq!(utterance.encoding(), AudioEncoding::Mulaw);
    assert_eq!(utterance.received(), Some(&audio[1600..18_400]));
    assert_eq!(utterance.pcm16(), &mulaw::decode(&audio[1600..18_400])[..]);
    assert!(endpointer.take_utterance().is_none());
}

#[test]
fn bursts_shorter_than_the_debounce_do_not_start() {
    let config = EndpointerConfig::default().with_start_debounce(ms(100));
    let mut endpointer = loud_endpointer(config);
    let audio = mulaw::encode(&tone_between(8000, 2000, &[(300, 390), (800, 850)]));
    assert!(feed(&mut endpointer, &audio, 160, None, 0).is_empty());
    assert_eq!(endpointer.phase(), EndpointerPhase::Listening);
    assert!(endpointer.take_utterance().is_none());
}

#[test]
fn pauses_shorter_than_the_end_silence_keep_one_utterance() {
    let mut endpointer = loud_endpointer(EndpointerConfig::default());
    let audio = mulaw::encode(&tone_between(
        8000,
        4000,
        &[(500, 1000), (1300, 1800), (2500, 2600)],
    ));
    let events = feed(&mut endpointer, &audio, 160, None, 0);
    assert_eq!(
        events,
        [started(500, 600), ended(2600, 3400, EndReason::Silence)]
    );
}

#[test]
fn max_utterance_ends_continuous_speech() {
    let config = EndpointerConfig::default().with_max_utterance(ms(1000));
    let mut endpointer = loud_endpointer(config);
    let audio = mulaw::encode(&tone_between(8000, 3000, &[(200, 3000)]));
    let events = feed(&mut endpointer, &audio, 160, None, 0);
    assert_eq!(
        events,
        [started(200, 300), ended(1200, 1200, EndReason::MaxLength)]
    );
    let utterance = endpointer.take_utterance().unwrap();
    assert_eq!((utterance.start(), utterance.duration()), (ms(0), ms(1200)));
}

#[test]
fn a_single_message_can_carry_start_and_end() {
    let mut endpointer = loud_endpointer(EndpointerConfig::default());
    let audio = mulaw::encode(&tone_between(8000, 3000, &[(500, 1500)]));
    let mut events = endpointer.push(&audio, None, 0).unwrap();
    assert!(!events.is_empty());
    assert_eq!(events.next(), Some(started(500, 600)));
    assert!(!events.is_empty());
    assert_eq!(events.next(), Some(ended(1500, 2300, EndReason::Silence)));
    assert!(events.is_empty());
    assert_eq!(events.next(), None);
    assert_eq!(events.next(), None);
}

#[test]
fn tiny_messages_are_ignored_but_declare_the_format() {
    let mut endpointer = loud_endpointer(EndpointerConfig::default());
    assert!(endpointer.push(&[0x7F; 15], None, 0).unwrap().is_empty());
    assert_eq!(endpointer.elapsed(), Duration::ZERO);
    // Cisco's test client: metadata first, then frames without it.
    assert!(
        endpointer
            .push(&[], Some(AudioEncoding::Linear16), 16_000)
            .unwrap()
            .is_empty()
    );
    let mut bytes = Vec::new();
    pcm16_le_encode_into(&[0; 320], &mut bytes);
    endpointer.push(&bytes, None, 0).unwrap();
    assert_eq!(endpointer.elapsed(), ms(20));
    // Exactly 16 bytes is audio (8 LINEAR16 samples at 16 kHz).
    endpointer.push(&[0; 16], None, 0).unwrap();
    assert_eq!(endpointer.elapsed(), ms(20) + Duration::from_micros(500));
}

#[test]
fn unspecified_format_falls_back_to_8k_mulaw() {
    let mut endpointer = loud_endpointer(EndpointerConfig::default());
    let audio = mulaw::encode(&tone_between(8000, 2500, &[(500, 1000)]));
    let events = feed(&mut endpointer, &audio, 160, None, 0);
    assert_eq!(events[0], started(500, 600));
    // Only the rate declared: the encoding stays μ-law.
    let mut endpointer = loud_endpointer(EndpointerConfig::default());
    let events = feed(&mut endpointer, &audio, 160, None, 8000);
    assert_eq!(events.len(), 2);
}

#[test]
fn alaw_and_linear16_at_16k_are_understood() {
    let pcm = tone_between(8000, 2500, &[(500, 1000)]);
    let mut endpointer = loud_endpointer(EndpointerConfig::default());
    let events = feed(
        &mut endpointer,
        &alaw::encode(&pcm),
        160,
        Some(AudioEncoding::Alaw),
        8000,
    );
    assert_eq!(
        events,
        [started(500, 600), ended(1000, 1800, EndReason::Silence)]
    );
    assert_eq!(
        endpointer.take_utterance().unwrap().encoding(),
        AudioEncoding::Alaw
    );

    // LINEAR16 at 16 kHz, in odd-sized messages that split samples: the detector (8 kHz) gets
    // resampled audio, the utterance keeps the caller's 16 kHz bytes exactly.
    let pcm16k = tone_between(16_000, 2500, &[(500, 1000)]);
    let mut bytes = Vec::new();
    pcm16_le_encode_into(&pcm16k, &mut bytes);
    let mut endpointer = loud_endpointer(EndpointerConfig::default());
    let events = feed(
        &mut endpointer,
        &bytes,
        321,
        Some(AudioEncoding::Linear16),
        16_000,
    );
    let [
        EndpointEvent::SpeechStarted(start),
        EndpointEvent::SpeechEnded(end),
    ] = events[..]
    else {
        panic!("{events:?}");
    };
    // The resampling filter smears the edges by a few milliseconds.
    assert!(start.onset.abs_diff(ms(500)) <= ms(10), "{start:?}");
    assert!(end.speech_end.abs_diff(ms(1000)) <= ms(10), "{end:?}");
    let utterance = endpointer.take_utterance().unwrap();
    assert_eq!(utterance.sample_rate(), 16_000);
    assert_eq!(utterance.encoding(), AudioEncoding::Linear16);
    let first = (utterance.start().as_micros() * 16 / 1000) as usize;
    let received = utterance.received().unwrap();
    assert_eq!(received, &bytes[first * 2..first * 2 + received.len()]);
    assert_eq!(received.len(), utterance.pcm16().len() * 2);
    assert_eq!(
        utterance.pcm16(),
        &pcm16k[first..first + utterance.pcm16().len()]
    );
}

#[test]
fn a_detector_at_16k_gets_upsampled_frames() {
    let mut endpointer = Endpointer::with_detector(
        EndpointerConfig::default(),
        LoudDetector::boxed(16_000, 256),
    )
    .unwrap();
    let audio = mulaw::encode(&tone_between(8000, 3000, &[(512, 1504)]));
    let events = feed(&mut endpointer, &audio, 160, None, 0);
    let [
        EndpointEvent::SpeechStarted(start),
        EndpointEvent::SpeechEnded(end),
    ] = events[..]
    else {
        panic!("{events:?}");
    };
    // 16 ms frames: the onset frame starts within one frame of the tone.
    assert!(start.onset.abs_diff(ms(512)) <= ms(16), "{start:?}");
    assert!(start.at >= start.onset + ms(100));
    assert!(end.speech_end.abs_diff(ms(1504)) <= ms(16), "{end:?}");
    assert_eq!(end.at - end.speech_end, ms(800));
}

#[test]
fn reset_starts_a_new_utterance_at_time_zero() {
    let mut endpointer = loud_endpointer(EndpointerConfig::default());
    let audio = mulaw::encode(&tone_between(8000, 2500, &[(500, 1000)]));
    assert_eq!(feed(&mut endpointer, &audio, 160, None, 0).len(), 2);
    assert!(endpointer.push(&audio, None, 0).unwrap().is_empty());
    endpointer.reset();
    assert_eq!(endpointer.phase(), EndpointerPhase::Listening);
    assert_eq!(endpointer.elapsed(), Duration::ZERO);
    assert!(endpointer.take_utterance().is_none());
    let events = feed(&mut endpointer, &audio, 160, None, 0);
    assert_eq!(
        events,
        [started(500, 600), ended(1000, 1800, EndReason::Silence)]
    );
}

#[test]
fn reset_keeps_the_declared_format() {
    let mut endpointer = loud_endpointer(EndpointerConfig::default());
    endpointer
        .push(&[0; 3200], Some(AudioEncoding::Linear16), 16_000)
        .unwrap();
    assert_eq!(endpointer.elapsed(), ms(100));
    endpointer.reset();
    endpointer.push(&[0; 3200], None, 0).unwrap();
    assert_eq!(endpointer.elapsed(), ms(100));
}

#[test]
fn unsupported_rates_are_refused_without_changing_anything() {
    let mut endpointer = loud_endpointer(EndpointerConfig::default());
    endpointer.push(&[0xFF; 160], None, 8000).unwrap();
    let err = endpointer
        .push(&[0xFF; 160], Some(AudioEncoding::Linear16), 7)
        .unwrap_err();
    assert_eq!(err.kind(), &AudioErrorKind::UnsupportedSampleRate(7));
    assert_eq!(endpointer.elapsed(), ms(20));
    // The bad values were not remembered.
    endpointer.push(&[0xFF; 160], None, 0).unwrap();
    assert_eq!(endpointer.elapsed(), ms(40));

    let err = Endpointer::with_detector(EndpointerConfig::default(), LoudDetector::boxed(0, 80))
        .unwrap_err();
    assert_eq!(err.kind(), &AudioErrorKind::UnsupportedSampleRate(0));
}

#[test]
fn pre_roll_is_limited_by_the_audio_heard() {
    let config = EndpointerConfig::default().with_pre_roll(ms(1000));
    let mut endpointer = loud_endpointer(config);
    let audio = mulaw::encode(&tone_between(8000, 2500, &[(400, 900)]));
    feed(&mut endpointer, &audio, 160, None, 0);
    let utterance = endpointer.take_utterance().unwrap();
    assert_eq!(utterance.start(), Duration::ZERO);
    assert_eq!(utterance.received(), Some(&audio[..13_600]));

    // A long wait before speaking keeps only the pre-roll.
    let config = EndpointerConfig::default().with_pre_roll(ms(250));
    let mut endpointer = loud_endpointer(config);
    let audio = mulaw::encode(&tone_between(8000, 12_000, &[(10_000, 10_500)]));
    feed(&mut endpointer, &audio, 160, None, 0);
    let utterance = endpointer.take_utterance().unwrap();
    assert_eq!(utterance.start(), ms(9750));
    assert_eq!(utterance.duration(), ms(1550));
}

#[test]
fn a_format_change_during_speech_keeps_the_pcm_complete() {
    let mut endpointer = loud_endpointer(EndpointerConfig::default());
    let first = mulaw::encode(&tone_between(8000, 800, &[(500, 800)]));
    let events = feed(&mut endpointer, &first, 160, None, 0);
    assert_eq!(events, [started(500, 600)]);
    assert_eq!(endpointer.phase(), EndpointerPhase::Speaking);
    // The caller switches to LINEAR16 at 16 kHz, still speaking, then stops.
    let second = tone_between(16_000, 2000, &[(0, 400)]);
    let mut bytes = Vec::new();
    pcm16_le_encode_into(&second, &mut bytes);
    let events = feed(
        &mut endpointer,
        &bytes,
        640,
        Some(AudioEncoding::Linear16),
        16_000,
    );
    let [EndpointEvent::SpeechEnded(end)] = events[..] else {
        panic!("{events:?}");
    };
    assert!(end.speech_end.abs_diff(ms(1200)) <= ms(10), "{end:?}");
    let utterance = endpointer.take_utterance().unwrap();
    assert_eq!(utterance.received(), None);
    assert_eq!(utterance.sample_rate(), 8000);
    assert!(
        utterance.duration().abs_diff(end.at - ms(200)) <= ms(10),
        "{:?}",
        utterance.duration()
    );
}

#[test]
fn taking_the_utterance_during_speech_returns_what_is_there() {
    let mut endpointer = loud_endpointer(EndpointerConfig::default());
    let audio = mulaw::encode(&tone_between(8000, 3000, &[(500, 1500)]));
    feed(&mut endpointer, &audio[..8000], 160, None, 0);
    let early = endpointer.take_utterance().unwrap();
    assert_eq!(early.start(), ms(200));
    assert_eq!(early.duration(), ms(800));
    feed(&mut endpointer, &audio[8000..], 160, None, 0);
    let rest = endpointer.take_utterance().unwrap();
    assert_eq!(rest.start(), ms(1000));
    assert_eq!(rest.duration(), ms(1300));
}

#[test]
fn the_energy_detector_endpoints_a_tone_in_noise() {
    let config = EndpointerConfig::default().with_end_silence(ms(500));
    let mut endpointer =
        Endpointer::with_detector(config, Box::new(EnergyDetector::new())).unwrap();
    let mut state = 99u32;
    let pcm: Vec<i16> = tone_between(8000, 3000, &[(1000, 2000)])
        .into_iter()
        .map(|s| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            s.saturating_add((state >> 24) as i16 - 128)
        })
        .collect();
    let events = feed(&mut endpointer, &mulaw::encode(&pcm), 160, None, 0);
    assert_eq!(events[0], started(1000, 1100));
    // The high-pass filter's ringing may extend the speech by one 10 ms frame.
    let EndpointEvent::SpeechEnded(end) = events[1] else {
        panic!("{events:?}");
    };
    assert!([ms(2000), ms(2010)].contains(&end.speech_end), "{end:?}");
    assert_eq!(end.at, end.speech_end + ms(500));
    assert_eq!(events.len(), 2);
}

#[test]
fn config_accessor_and_debug() {
    let config = EndpointerConfig::default()
        .with_threshold(2.0)
        .with_pre_roll(ms(0));
    let endpointer = Endpointer::new(config.clone());
    assert_eq!(endpointer.config().threshold, 1.0);
    assert_eq!(endpointer.config(), &config);
    assert!(format!("{endpointer:?}").contains("EarshotDetector { noise_gate: true"));
}
