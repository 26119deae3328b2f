//! [`RefreshSettings`]: when tokens count as expired and how long refresh locks last.

use std::time::Duration;

/// The default refresh buffer: tokens count as expired this long before they really expire.
pub const DEFAULT_REFRESH_BUFFER: Duration = Duration::from_secs(60);

/// How token managers decide to refresh and coordinate refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshSettings {
    /// Refresh this long before the access token expires (default 60 s).
    pub buffer: Duration,
    /// How long a storage refresh lock lasts if its holder dies (default 30 s).
    pub lock_ttl: Duration,
    /// How long to wait for another process's refresh before giving up (default 35 s).
    pub lock_wait: Duration,
}

impl Default for RefreshSettings {
    fn default() -> Self {
        Self {
            buffer: DEFAULT_REFRESH_BUFFER,
            lock_ttl: Duration::from_secs(30),
            lock_wait: Duration::from_secs(35),
        }
    }
}

impl RefreshSettings {
    /// Sets the refresh buffer.
    #[must_use]
    pub fn with_buffer(mut self, buffer: Duration) -> Self {
        self.buffer = buffer;
        self
    }

    /// Sets the lock lifetime and the longest wait for a lock.
    #[must_use]
    pub fn with_lock(mut self, ttl: Duration, wait: Duration) -> Self {
        self.lock_ttl = ttl;
        self.lock_wait = wait;
        self
    }
}
