//! Where speech ends in caller audio: the reference END_OF_INPUT is measured against.

use std::time::Duration;

use crate::audio::mulaw;

/// Decoded magnitude at or above which a sample counts as speech: −40 dBFS, as the spoken test
/// fixtures (`tests/fixtures/speech.json`) and the Python baseline's endpointer use.
pub const SPEECH_THRESHOLD: u16 = 328;

/// The end of speech in 8 kHz μ-law audio: just after the last sample whose magnitude reaches
/// [`SPEECH_THRESHOLD`]; `None` for silence.
///
/// A server should send END_OF_INPUT once it has heard its trailing silence after this point;
/// `byova simulate` reports how late it came.
///
/// ```
/// use std::time::Duration;
/// use byova_media::audio::{mulaw, MULAW_SILENCE};
/// use byova_media::client::speech_end;
///
/// let mut audio = mulaw::encode(&[5000; 800]); // 100 ms of a loud level…
/// audio.extend([MULAW_SILENCE; 800]); // …then 100 ms of silence
/// assert_eq!(speech_end(&audio), Some(Duration::from_millis(100)));
/// assert_eq!(speech_end(&[MULAW_SILENCE; 800]), None);
/// ```
#[must_use]
pub fn speech_end(mulaw_8k: &[u8]) -> Option<Duration> {
    let last = mulaw_8k
        .iter()
        .rposition(|&byte| mulaw::decode_sample(byte).unsigned_abs() >= SPEECH_THRESHOLD)?;
    Some(Duration::from_micros((last as u64 + 1) * 125))
}
