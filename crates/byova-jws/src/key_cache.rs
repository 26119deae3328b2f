//! Key sets per allowed issuer: fetched on first use, kept for a TTL, refetched on an unknown
//! `kid` at most once per cool-down, served stale when a fetch fails, and fetched by one task at
//! a time however many calls miss together.
//!
//! Fetches run in their own task, so a caller that gives up (a cancelled RPC) never leaves a
//! fetch half-done. All time comes from `tokio::time`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::OwnedMutexGuard;
use tokio::time::Instant;

use crate::algorithm::Algorithm;
use crate::error::{Error, ErrorKind};
use crate::fetch::FetchKeySet;
use crate::issuer::jwks_url;
use crate::key_set::KeySet;

/// Never honour a `Retry-After` longer than this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// How key sets are fetched and kept.
#[derive(Debug, Clone)]
pub(crate) struct KeySetPolicy {
    pub(crate) ttl: Duration,
    pub(crate) cooldown: Duration,
    pub(crate) fetch_timeout: Duration,
    pub(crate) max_document_bytes: usize,
    pub(crate) algorithms: Vec<Algorithm>,
}

/// The key sets of every allowed issuer.
pub(crate) struct KeyCache {
    issuers: HashMap<String, Arc<IssuerKeys>>,
    fetcher: Option<Arc<dyn FetchKeySet>>,
    policy: Arc<KeySetPolicy>,
}

/// One issuer's key set and its fetch state.
pub(crate) struct IssuerKeys {
    issuer: String,
    jwks_url: String,
    /// Configured statically: never fetched, never stale.
    pinned: bool,
    state: Mutex<State>,
    fetch_lock: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Default)]
struct State {
    keys: Option<Arc<KeySet>>,
    /// When the keys should be refreshed (they are still served after this).
    stale_at: Option<Instant>,
    /// The earliest time of the next fetch (cool-down or `Retry-After`).
    next_fetch_at: Option<Instant>,
    last_error: Option<String>,
}

struct Snapshot {
    keys: Option<Arc<KeySet>>,
    stale: bool,
    may_fetch: bool,
}

impl KeyCache {
    /// `issuers` are fetched over `fetcher`; `pinned` issuers use their static key set only.
    pub(crate) fn new(
        issuers: impl IntoIterator<Item = String>,
        pinned: impl IntoIterator<Item = (String, KeySet)>,
        fetcher: Option<Arc<dyn FetchKeySet>>,
        policy: KeySetPolicy,
    ) -> Self {
        let mut map = HashMap::new();
        for issuer in issuers {
            let entry = IssuerKeys::new(issuer.clone(), false, None);
            map.insert(issuer, Arc::new(entry));
        }
        for (issuer, keys) in pinned {
            let entry = IssuerKeys::new(issuer.clone(), true, Some(keys));
            map.insert(issuer, Arc::new(entry));
        }
        Self {
            issuers: map,
            fetcher,
            policy: Arc::new(policy),
        }
    }

    /// The entry of an allowed issuer (exact string comparison).
    pub(crate) fn issuer(&self, issuer: &str) -> Option<&Arc<IssuerKeys>> {
        self.issuers.get(issuer)
    }

    /// The allowed issuers, sorted.
    pub(crate) fn issuers(&self) -> Vec<&str> {
        let mut issuers: Vec<&str> = self.issuers.keys().map(String::as_str).collect();
        issuers.sort_unstable();
        issuers
    }

    /// A key set that has a key for `kid` and `alg`, fetching when needed and allowed.
    pub(crate) async fn keys_for(
        &self,
        entry: &Arc<IssuerKeys>,
        kid: &str,
        alg: Algorithm,
    ) -> Result<Arc<KeySet>, Error> {
        let snapshot = entry.snapshot(Instant::now());
        if let Some(keys) = &snapshot.keys
            && keys.has(kid, alg)
        {
            if snapshot.stale
                && snapshot.may_fetch
                && let Some(fetcher) = &self.fetcher
            {
                self.refresh_in_background(fetcher, entry);
            }
            return Ok(Arc::clone(keys));
        }
        let Some(fetcher) = self.fetcher.as_ref().filter(|_| !entry.pinned) else {
            return Err(entry.miss(snapshot.keys.as_deref(), kid, alg));
        };

        // Wait for a fetch in progress (single flight), then look again before fetching.
        let guard = Arc::clone(&entry.fetch_lock).lock_owned().await;
        let snapshot = entry.snapshot(Instant::now());
        if let Some(keys) = &snapshot.keys
            && keys.has(kid, alg)
        {
            return Ok(Arc::clone(keys));
        }
        if !snapshot.may_fetch {
            return Err(entry.miss(snapshot.keys.as_deref(), kid, alg));
        }
        let task = self.spawn_fetch(fetcher, entry, guard);
        if task.await.is_err() {
            return Err(Error::new(
                ErrorKind::KeySetUnavailable,
                format!("the key-set fetch for {} was aborted", entry.issuer),
            ));
        }
        let snapshot = entry.snapshot(Instant::now());
        match &snapshot.keys {
            Some(keys) if keys.has(kid, alg) => Ok(Arc::clone(keys)),
            keys => Err(entry.miss(keys.as_deref(), kid, alg)),
        }
    }

    /// Refreshes a stale key set without making the caller wait; skipped if a fetch is running.
    fn refresh_in_background(&self, fetcher: &Arc<dyn FetchKeySet>, entry: &Arc<IssuerKeys>) {
        let Ok(guard) = Arc::clone(&entry.fetch_lock).try_lock_owned() else {
            return;
        };
        if entry.snapshot(Instant::now()).may_fetch {
            // Detached: the task updates the state and releases the lock when done.
            drop(self.spawn_fetch(fetcher, entry, guard));
        }
    }

    /// Fetches in a task of its own that holds the issuer's fetch lock until the state is updated.
    fn spawn_fetch(
        &self,
        fetcher: &Arc<dyn FetchKeySet>,
        entry: &Arc<IssuerKeys>,
        guard: OwnedMutexGuard<()>,
    ) -> tokio::task::JoinHandle<()> {
        let entry = Arc::clone(entry);
        let policy = Arc::clone(&self.policy);
        let fetcher = Arc::clone(fetcher);
        tokio::spawn(async move {
            let outcome = fetch_once(fetcher.as_ref(), &entry.jwks_url, &policy).await;
            entry.record(outcome, Instant::now(), &policy);
            drop(guard);
        })
    }
}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyCache")
            .field("issuers", &self.issuers())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl IssuerKeys {
    fn new(issuer: String, pinned: bool, keys: Option<KeySet>) -> Self {
        let state = State {
            keys: keys.map(Arc::new),
            ..State::default()
        };
        Self {
            jwks_url: jwks_url(&issuer),
            issuer,
            pinned,
            state: Mutex::new(state),
            fetch_lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    fn snapshot(&self, now: Instant) -> Snapshot {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        Snapshot {
            keys: state.keys.clone(),
            stale: state.stale_at.is_some_and(|at| now >= at),
            may_fetch: !self.pinned && state.next_fetch_at.is_none_or(|at| now >= at),
        }
    }

    /// The error for a `kid` that no key set (current or just fetched) can serve.
    fn miss(&self, keys: Option<&KeySet>, kid: &str, alg: Algorithm) -> Error {
        match keys {
            Some(keys) => keys.unknown_key(&self.issuer, kid, alg),
            None => {
                let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                let why = state
                    .last_error
                    .as_deref()
                    .unwrap_or("no fetch has completed yet");
                Error::new(
                    ErrorKind::KeySetUnavailable,
                    format!("no key set for {} ({}): {why}", self.issuer, self.jwks_url),
                )
            }
        }
    }

    fn record(&self, outcome: Result<Fetched, Failure>, now: Instant, policy: &KeySetPolicy) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match outcome {
            Ok(fetched) => {
                tracing::debug!(
                    issuer = %self.issuer,
                    usable_keys = fetched.keys.usable(),
                    ttl_secs = fetched.ttl.as_secs(),
                    "key set fetched"
                );
                state.keys = Some(Arc::new(fetched.keys));
                state.stale_at = Some(now + fetched.ttl);
                state.next_fetch_at = Some(now + policy.cooldown);
                state.last_error = None;
            }
            Err(failure) => {
                let wait = failure.retry_after.map_or(policy.cooldown, |after| {
                    after.min(MAX_RETRY_AFTER).max(policy.cooldown)
                });
                tracing::warn!(
                    issuer = %self.issuer,
                    url = %self.jwks_url,
                    error = %failure.message,
                    serving_cached_keys = state.keys.is_some(),
                    retry_in_secs = wait.as_secs(),
                    "key set fetch failed"
                );
                state.next_fetch_at = Some(now + wait);
                state.last_error = Some(failure.message);
            }
        }
    }
}

struct Fetched {
    keys: KeySet,
    ttl: Duration,
}

struct Failure {
    message: String,
    retry_after: Option<Duration>,
}

impl Failure {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retry_after: None,
        }
    }
}

async fn fetch_once(
    fetcher: &dyn FetchKeySet,
    url: &str,
    policy: &KeySetPolicy,
) -> Result<Fetched, Failure> {
    let response = match tokio::time::timeout(policy.fetch_timeout, fetcher.get(url)).await {
        Err(_) => {
            return Err(Failure::new(format!(
                "GET {url} timed out after {:?}",
                policy.fetch_timeout
            )));
        }
        Ok(Err(message)) => return Err(Failure::new(format!("GET {url} failed: {message}"))),
        Ok(Ok(response)) => response,
    };
    let status = response.status();
    if status == http::StatusCode::TOO_MANY_REQUESTS {
        return Err(Failure {
            message: format!("GET {url} was rate limited (429)"),
            retry_after: header_str(&response, http::header::RETRY_AFTER)
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
        });
    }
    if !status.is_success() {
        return Err(Failure::new(format!("GET {url} answered {status}")));
    }
    let body = response.body();
    if body.len() > policy.max_document_bytes {
        return Err(Failure::new(format!(
            "GET {url} returned {} bytes, more than the {} allowed for a key set",
            body.len(),
            policy.max_document_bytes
        )));
    }
    let keys = KeySet::from_json(body, &policy.algorithms)
        .map_err(|err| Failure::new(format!("GET {url}: {err}")))?;
    if keys.usable() == 0 {
        return Err(Failure::new(format!(
            "GET {url} returned a key set without a usable key for {:?}",
            policy.algorithms
        )));
    }
    let ttl = header_str(&response, http::header::CACHE_CONTROL)
        .and_then(cache_lifetime)
        .map_or(policy.ttl, |lifetime| lifetime.min(policy.ttl));
    Ok(Fetched { keys, ttl })
}

fn header_str<B>(response: &http::Response<B>, name: http::header::HeaderName) -> Option<&str> {
    response.headers().get(name)?.to_str().ok()
}

/// The lifetime a `Cache-Control` header grants: `max-age`, or zero for `no-cache`/`no-store`.
fn cache_lifetime(value: &str) -> Option<Duration> {
    let mut lifetime = None;
    for directive in value.split(',') {
        let directive = directive.trim();
        let lower = directive.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return Some(Duration::ZERO);
        }
        if let Some(seconds) = lower.strip_prefix("max-age=") {
            lifetime = seconds
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    lifetime
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_lifetimes() {
        assert_eq!(
            cache_lifetime("max-age=120"),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            cache_lifetime("public, Max-Age=\"300\", must-revalidate"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(cache_lifetime("no-store"), Some(Duration::ZERO));
        assert_eq!(cache_lifetime("public"), None);
        assert_eq!(cache_lifetime("max-age=soon"), None);
    }
}
