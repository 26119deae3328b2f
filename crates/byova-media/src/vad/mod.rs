//! Endpointing: voice activity detection turning caller audio into START_OF_INPUT / END_OF_INPUT.
//!
//! An [`Endpointer`] takes the caller's audio messages as they arrive and reports
//! [`SpeechStarted`] (send `START_OF_INPUT`) and [`SpeechEnded`] (send `END_OF_INPUT`), at most
//! once each per utterance, and records the utterance for the agent. It is synchronous and cheap:
//! one endpointer per turn, called from the turn's task.
//!
//! Frames are scored by a [`VoiceDetector`]: [`EarshotDetector`] (a small neural network, the
//! default) or [`EnergyDetector`] (level over an adaptive noise floor), or your own.
//!
//! ```
//! use std::time::Duration;
//! use byova_media::audio::{self, AudioEncoding};
//! use byova_media::vad::{EndReason, EndpointEvent, Endpointer, EndpointerConfig, VoiceDetector};
//!
//! // A toy detector (20 ms frames at 8 kHz; loud = speech) so the times below are exact.
//! // Real code uses `Endpointer::new(config)`, which runs the default `EarshotDetector`.
//! #[derive(Debug)]
//! struct Loud;
//! impl VoiceDetector for Loud {
//!     fn sample_rate(&self) -> u32 { 8000 }
//!     fn frame_len(&self) -> usize { 160 }
//!     fn speech_probability(&mut self, frame: &[i16]) -> f32 {
//!         if frame.iter().any(|s| s.unsigned_abs() > 1000) { 1.0 } else { 0.0 }
//!     }
//!     fn reset(&mut self) {}
//! }
//!
//! let config = EndpointerConfig::default().with_end_silence(Duration::from_millis(500));
//! let mut endpointer = Endpointer::with_detector(config, Box::new(Loud))?;
//!
//! // 0.5 s of silence, 1 s of a loud tone, 1 s of silence, sent as 20 ms μ-law messages.
//! let pcm: Vec<i16> = (0..20_000)
//!     .map(|i| if (4000..12_000).contains(&i) { (8000.0 * (i as f32 * 0.3).sin()) as i16 } else { 0 })
//!     .collect();
//! let mut events = Vec::new();
//! for message in audio::mulaw::encode(&pcm).chunks(160) {
//!     events.extend(endpointer.push(message, Some(AudioEncoding::Mulaw), 8000)?);
//! }
//! let [EndpointEvent::SpeechStarted(start), EndpointEvent::SpeechEnded(end)] = events[..] else {
//!     panic!("{events:?}");
//! };
//! assert_eq!(start.onset, Duration::from_millis(500)); // START_OF_INPUT…
//! assert_eq!(start.at, Duration::from_millis(600)); // …sent after the 100 ms debounce
//! assert_eq!(end.reason, EndReason::Silence);
//! assert_eq!(end.speech_end, Duration::from_millis(1500)); // END_OF_INPUT…
//! assert_eq!(end.at, Duration::from_millis(2000)); // …after 500 ms of silence
//!
//! // The utterance for the agent: 300 ms of pre-roll, the tone, the trailing silence.
//! let utterance = endpointer.take_utterance().expect("recorded");
//! assert_eq!(utterance.start(), Duration::from_millis(200));
//! assert_eq!(utterance.duration(), Duration::from_millis(1800));
//! endpointer.reset(); // ready for the next turn
//! # Ok::<(), byova_media::audio::AudioError>(())
//! ```

mod config;
mod detector;
mod earshot;
mod endpointer;
mod energy;
mod events;
mod recording;
mod time;
mod utterance;

#[cfg(test)]
mod fixture_tests;

pub use self::config::EndpointerConfig;
pub use self::detector::VoiceDetector;
pub use self::earshot::EarshotDetector;
pub use self::endpointer::{Endpointer, EndpointerPhase, MIN_AUDIO_MESSAGE};
pub use self::energy::EnergyDetector;
pub use self::events::{EndReason, EndpointEvent, Events, SpeechEnded, SpeechStarted};
pub use self::utterance::Utterance;
