//! Lock-free caches of valid access tokens: the fast path of `access_token()`.
//!
//! Readers never write shared memory (`arc-swap` loads), so concurrent callers on many threads do
//! not slow each other down. Writers (a refresh, a few times a day) copy and swap.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use arc_swap::ArcSwap;
use byova_models::Secret;
use tokio::time::Instant;

/// An access token and the instant it stops being served from the cache.
#[derive(Debug)]
pub(crate) struct CachedToken {
    pub(crate) token: Secret,
    pub(crate) valid_until: Instant,
}

/// Cached tokens per key.
#[derive(Debug)]
pub(crate) struct TokenCache<K> {
    entries: ArcSwap<HashMap<K, Arc<CachedToken>>>,
}

impl<K> Default for TokenCache<K> {
    fn default() -> Self {
        Self {
            entries: ArcSwap::from_pointee(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq + Clone> TokenCache<K> {
    /// The cached token of `key`, if it is still valid now.
    pub(crate) fn get(&self, key: &K) -> Option<Secret> {
        let entries = self.entries.load();
        let cached = entries.get(key)?;
        (Instant::now() < cached.valid_until).then(|| cached.token.clone())
    }

    pub(crate) fn put(&self, key: K, token: Secret, valid_until: Instant) {
        let cached = Arc::new(CachedToken { token, valid_until });
        self.entries.rcu(|entries| {
            let mut entries = HashMap::clone(entries);
            entries.insert(key.clone(), Arc::clone(&cached));
            entries
        });
    }

    pub(crate) fn remove(&self, key: &K) {
        self.entries.rcu(|entries| {
            let mut entries = HashMap::clone(entries);
            entries.remove(key);
            entries
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn serves_until_valid_until_then_misses() {
        let cache = TokenCache::default();
        cache.put(
            "org",
            Secret::new("t"),
            Instant::now() + Duration::from_secs(10),
        );
        assert_eq!(cache.get(&"org"), Some(Secret::new("t")));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(cache.get(&"org"), None);
        cache.put(
            "org",
            Secret::new("u"),
            Instant::now() + Duration::from_secs(10),
        );
        assert_eq!(cache.get(&"org"), Some(Secret::new("u")));
        cache.remove(&"org");
        assert_eq!(cache.get(&"org"), None);
    }
}
