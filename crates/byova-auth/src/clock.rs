//! Wall-clock time that follows `tokio::time`, so tests can pause and advance it.

use std::time::Duration;

use time::OffsetDateTime;
use tokio::time::Instant;

/// A wall clock anchored once and then advanced by Tokio's monotonic clock.
///
/// Token expiry is stored as wall-clock time, but waiting happens on Tokio timers. Reading "now" as
/// `anchor + elapsed Tokio time` keeps the two consistent, and makes `tokio::time::pause` /
/// `advance` move this clock too.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    wall: OffsetDateTime,
    mono: Instant,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Self {
            wall: OffsetDateTime::now_utc(),
            mono: Instant::now(),
        }
    }

    /// The current wall-clock time.
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.wall + self.mono.elapsed()
    }

    /// The Tokio instant at which wall-clock time `at` is reached (now, if it has passed).
    pub(crate) fn instant_at(&self, at: OffsetDateTime) -> Instant {
        let now = Instant::now();
        let until = at - self.now();
        if until.is_positive() {
            now + Duration::try_from(until).unwrap_or(Duration::MAX / 4)
        } else {
            now
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn follows_paused_tokio_time() {
        let clock = Clock::new();
        let start = clock.now();
        tokio::time::advance(Duration::from_secs(90)).await;
        assert_eq!(clock.now() - start, time::Duration::seconds(90));
        let target = clock.now() + time::Duration::seconds(30);
        assert_eq!(
            clock.instant_at(target) - Instant::now(),
            Duration::from_secs(30)
        );
        assert_eq!(clock.instant_at(start), Instant::now());
    }
}
