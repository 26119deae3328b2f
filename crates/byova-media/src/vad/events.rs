//! What the endpointer reports: speech start and end, with audio-time stamps.

use std::time::Duration;

/// An utterance boundary. Times are audio time: the duration of caller audio received (since the
/// endpointer was created or [reset](super::Endpointer::reset)) up to that point, so comparing
/// them with the audio you have sent measures how late a boundary is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointEvent {
    /// Speech began: send `START_OF_INPUT`.
    SpeechStarted(SpeechStarted),
    /// The utterance is over: send `END_OF_INPUT`.
    SpeechEnded(SpeechEnded),
}

/// Speech onset, emitted once per utterance after `start_debounce` of continuous speech.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpeechStarted {
    /// Start of the first speech frame of the onset.
    pub onset: Duration,
    /// When the decision was made: the end of the frame that completed the debounce
    /// (about `onset + start_debounce`).
    pub at: Duration,
}

/// End of the utterance, emitted once, after `end_silence` of continuous non-speech or at
/// `max_utterance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpeechEnded {
    /// End of the last speech frame.
    pub speech_end: Duration,
    /// When the decision was made: the end of the frame that completed the trailing silence
    /// (`speech_end + end_silence`, to within one frame), or that reached the maximum length.
    pub at: Duration,
    /// Why the utterance ended.
    pub reason: EndReason,
}

/// Why an utterance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EndReason {
    /// `end_silence` of non-speech followed the speech.
    Silence,
    /// The utterance reached `max_utterance`.
    MaxLength,
}

/// The events of one [`push`](super::Endpointer::push): none, a start, an end, or a start then an
/// end (a single push carrying a whole utterance).
#[derive(Debug, Clone, Default)]
pub struct Events {
    items: [Option<EndpointEvent>; 2],
    next: usize,
}

impl Events {
    pub(super) fn push(&mut self, event: EndpointEvent) {
        if let Some(slot) = self.items.iter_mut().find(|slot| slot.is_none()) {
            *slot = Some(event);
        }
    }

    /// Whether there is no event left.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items[self.next.min(2)..].iter().all(Option::is_none)
    }
}

impl Iterator for Events {
    type Item = EndpointEvent;

    fn next(&mut self) -> Option<EndpointEvent> {
        let item = self.items.get_mut(self.next)?.take();
        self.next += 1;
        item
    }
}
