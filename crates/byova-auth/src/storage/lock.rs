//! Named refresh locks on top of [`TokenStorage::try_lock`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, ErrorKind, Result};
use crate::storage::TokenStorage;

/// Proof of holding a storage lock: a random value only the holder knows.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LockToken(String);

impl LockToken {
    /// A fresh random token.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// The token's value (stores keep it to check who releases a lock).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LockToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LockToken").field(&self.0).finish()
    }
}

/// Lock names used by this crate.
pub(crate) mod lock_name {
    use byova_models::OrgId;

    /// Around Integration token refreshes.
    pub(crate) fn integration() -> String {
        "integration".to_owned()
    }

    /// Around one org's Service App token refreshes.
    pub(crate) fn service_app(org: &OrgId) -> String {
        format!("service-app:{org}")
    }

    /// Around renewals of one data source (keyed by its URL and schema).
    pub(crate) fn data_source(org: &OrgId, url: &str, schema_id: &str) -> String {
        format!("data-source:{org}:{schema_id}:{url}")
    }
}

/// A held storage lock. Release it with [`release`](Self::release); if it is dropped instead
/// (an error or a panic on the way), it is released on a background task.
pub(crate) struct LockGuard {
    storage: Arc<dyn TokenStorage>,
    name: String,
    token: Option<LockToken>,
}

impl fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("name", &self.name)
            .finish()
    }
}

impl LockGuard {
    /// Takes the lock, retrying with backoff for up to `wait`.
    ///
    /// # Errors
    /// [`ErrorKind::LockTimeout`] when the lock stayed taken; storage errors as they come.
    pub(crate) async fn acquire(
        storage: &Arc<dyn TokenStorage>,
        name: String,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Self> {
        let deadline = Instant::now() + wait;
        let mut delay = Duration::from_millis(20);
        loop {
            if let Some(token) = storage.try_lock(&name, ttl).await? {
                return Ok(Self {
                    storage: Arc::clone(storage),
                    name,
                    token: Some(token),
                });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::with_message(
                    ErrorKind::LockTimeout,
                    format!("lock {name:?} is still held by another process"),
                ));
            }
            let jitter = Duration::from_millis(fastrand::u64(0..=delay.as_millis() as u64 / 2));
            tokio::time::sleep((delay + jitter).min(deadline - now)).await;
            delay = (delay * 2).min(Duration::from_millis(500));
        }
    }

    /// Releases the lock now. A failed release is logged, not returned: the work it protected
    /// is done, and the lock expires by itself.
    pub(crate) async fn release(mut self) {
        if let Some(token) = self.token.take()
            && let Err(error) = self.storage.unlock(&self.name, token).await
        {
            tracing::warn!(lock = %self.name, %error, "releasing a storage lock failed; it expires by itself");
        }
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let Some(token) = self.token.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let storage = Arc::clone(&self.storage);
            let name = std::mem::take(&mut self.name);
            runtime.spawn(async move {
                if let Err(error) = storage.unlock(&name, token).await {
                    tracing::warn!(lock = %name, %error, "releasing a storage lock failed; it expires by itself");
                }
            });
        }
    }
}
