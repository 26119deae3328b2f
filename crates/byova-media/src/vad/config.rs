//! Endpointer settings.

use std::time::Duration;

/// Settings of an [`Endpointer`](super::Endpointer). Start from [`default`](Self::default) and
/// change what you need:
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `threshold` | 0.5 | speech probability at or above which a frame is speech |
/// | `start_debounce` | 100 ms | continuous speech needed before `SpeechStarted` |
/// | `end_silence` | 800 ms | continuous non-speech after speech that ends the utterance |
/// | `max_utterance` | 30 s | the utterance ends here even without a pause (measured from onset) |
/// | `pre_roll` | 300 ms | audio kept from before the onset in the recorded utterance |
///
/// ```
/// use std::time::Duration;
/// use byova_media::vad::EndpointerConfig;
///
/// let config = EndpointerConfig::default().with_end_silence(Duration::from_millis(600));
/// assert_eq!(config.end_silence, Duration::from_millis(600));
/// assert_eq!(config.start_debounce, Duration::from_millis(100));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EndpointerConfig {
    /// Speech probability at or above which a frame counts as speech.
    pub threshold: f32,
    /// Continuous speech needed before `SpeechStarted` is emitted.
    pub start_debounce: Duration,
    /// Continuous non-speech after the last speech frame that ends the utterance.
    pub end_silence: Duration,
    /// The longest utterance, measured from its onset; it ends there even without a pause.
    pub max_utterance: Duration,
    /// How much audio from before the onset the recorded utterance starts with.
    pub pre_roll: Duration,
}

impl Default for EndpointerConfig {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            start_debounce: Duration::from_millis(100),
            end_silence: Duration::from_millis(800),
            max_utterance: Duration::from_secs(30),
            pre_roll: Duration::from_millis(300),
        }
    }
}

impl EndpointerConfig {
    /// Sets [`threshold`](Self::threshold) (clamped to `[0, 1]`).
    #[must_use]
    pub fn with_threshold(mut self, threshold: f32) -> Self {
        self.threshold = threshold.clamp(0.0, 1.0);
        self
    }

    /// Sets [`start_debounce`](Self::start_debounce).
    #[must_use]
    pub fn with_start_debounce(mut self, start_debounce: Duration) -> Self {
        self.start_debounce = start_debounce;
        self
    }

    /// Sets [`end_silence`](Self::end_silence).
    #[must_use]
    pub fn with_end_silence(mut self, end_silence: Duration) -> Self {
        self.end_silence = end_silence;
        self
    }

    /// Sets [`max_utterance`](Self::max_utterance).
    #[must_use]
    pub fn with_max_utterance(mut self, max_utterance: Duration) -> Self {
        self.max_utterance = max_utterance;
        self
    }

    /// Sets [`pre_roll`](Self::pre_roll).
    #[must_use]
    pub fn with_pre_roll(mut self, pre_roll: Duration) -> Self {
        self.pre_roll = pre_roll;
        self
    }
}
