//! Drops webhook deliveries whose event id was seen recently (Webex retries deliveries).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// The default window within which a repeated event id counts as a duplicate.
pub const DEFAULT_DEDUPE_WINDOW: Duration = Duration::from_secs(600);

/// The default number of event ids remembered (the oldest are forgotten first).
pub const DEFAULT_DEDUPE_CAPACITY: usize = 10_000;

/// Remembers event ids for a time window, with a memory bound.
#[derive(Debug, Clone)]
pub struct EventDeduper {
    inner: Arc<Mutex<State>>,
    window: Duration,
    capacity: usize,
}

#[derive(Debug, Default)]
struct State {
    seen: HashMap<String, Instant>,
    order: VecDeque<(String, Instant)>,
}

impl EventDeduper {
    /// Remembers up to `capacity` ids for `window` each.
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            inner: Arc::default(),
            window,
            capacity: capacity.max(1),
        }
    }

    /// Claims `id`. Returns `None` when the id was claimed within the window (a duplicate, or a
    /// delivery still being handled). Dropping the claim without [`EventClaim::keep`] forgets the
    /// id again, so a delivery that failed can be retried.
    pub fn claim(&self, id: &str) -> Option<EventClaim> {
        let now = Instant::now();
        let mut state = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        self.expire(&mut state, now);
        if state.seen.contains_key(id) {
            return None;
        }
        // Released claims leave stale entries in `order`; bound both collections.
        while state.seen.len() >= self.capacity || state.order.len() >= 2 * self.capacity {
            let Some((oldest, at)) = state.order.pop_front() else {
                break;
            };
            if state.seen.get(&oldest) == Some(&at) {
                state.seen.remove(&oldest);
            }
        }
        state.seen.insert(id.to_owned(), now);
        state.order.push_back((id.to_owned(), now));
        Some(EventClaim {
            deduper: self.clone(),
            id: id.to_owned(),
            at: now,
            kept: false,
        })
    }

    fn expire(&self, state: &mut State, now: Instant) {
        while let Some((id, at)) = state.order.front() {
            if now.saturating_duration_since(*at) < self.window {
                break;
            }
            if state.seen.get(id) == Some(at) {
                state.seen.remove(id);
            }
            state.order.pop_front();
        }
    }

    fn release(&self, id: &str, at: Instant) {
        let mut state = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if state.seen.get(id) == Some(&at) {
            state.seen.remove(id);
        }
    }
}

impl Default for EventDeduper {
    fn default() -> Self {
        Self::new(DEFAULT_DEDUPE_WINDOW, DEFAULT_DEDUPE_CAPACITY)
    }
}

/// A claimed event id; forgotten on drop unless [`keep`](Self::keep) was called.
#[derive(Debug)]
pub struct EventClaim {
    deduper: EventDeduper,
    id: String,
    at: Instant,
    kept: bool,
}

impl EventClaim {
    /// The delivery was handled: remember the id for the rest of the window.
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for EventClaim {
    fn drop(&mut self) {
        if !self.kept {
            self.deduper.release(&self.id, self.at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn duplicates_within_the_window_are_dropped() {
        let deduper = EventDeduper::new(Duration::from_secs(60), 100);
        deduper.claim("a").expect("first").keep();
        assert!(deduper.claim("a").is_none());
        tokio::time::advance(Duration::from_secs(59)).await;
        assert!(deduper.claim("a").is_none());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(deduper.claim("a").is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_claim_can_be_retried_and_in_flight_ids_are_duplicates() {
        let deduper = EventDeduper::default();
        let claim = deduper.claim("b").expect("first");
        assert!(deduper.claim("b").is_none(), "in flight");
        drop(claim);
        assert!(deduper.claim("b").is_some(), "released after failure");
    }

    #[tokio::test(start_paused = true)]
    async fn capacity_bounds_memory_oldest_first() {
        let deduper = EventDeduper::new(Duration::from_secs(60), 2);
        deduper.claim("1").expect("1").keep();
        deduper.claim("2").expect("2").keep();
        deduper.claim("3").expect("3").keep();
        assert!(deduper.claim("2").is_none());
        assert!(deduper.claim("3").is_none());
        let state = deduper.inner.lock().expect("lock");
        assert_eq!(state.seen.len(), 2);
        drop(state);
        assert!(deduper.claim("1").is_some(), "evicted");
    }
}
