//! A bounded cache of verified tokens, keyed by the SHA-256 of the token text.
//!
//! Webex sends the same data-source token on every call until it is renewed, so after the first
//! verification a call costs one hash and one map lookup. Entries are served strictly before the
//! token's `exp` (no leeway), and only the digest is kept, never the token.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{PoisonError, RwLock};

use crate::claims::Claims;

/// The SHA-256 digest of a token.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenDigest([u8; 32]);

impl TokenDigest {
    pub(crate) fn of(token: &str) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        let mut bytes = [0; 32];
        bytes.copy_from_slice(digest.as_ref());
        Self(bytes)
    }
}

impl Hash for TokenDigest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The digest is already uniformly distributed, and only tokens that verified are
        // inserted, so its first eight bytes are a good enough (and much cheaper) map hash.
        let mut head = [0; 8];
        head.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(head));
    }
}

/// A hasher that passes the digest's `u64` through.
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

struct Entry {
    claims: Claims,
    /// `exp` in Unix seconds.
    expires_at: i64,
}

/// Verified tokens, at most `capacity` of them.
pub(crate) struct TokenCache {
    capacity: usize,
    entries: RwLock<HashMap<TokenDigest, Entry, BuildHasherDefault<DigestHasher>>>,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: RwLock::new(HashMap::default()),
        }
    }

    /// Whether the cache stores anything at all (capacity 0 disables it).
    pub(crate) fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// The claims of a token verified earlier, if it has not expired at `now` (Unix seconds).
    pub(crate) fn get(&self, digest: &TokenDigest, now: i64) -> Option<Claims> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(digest)?;
        (now < entry.expires_at).then(|| entry.claims.clone())
    }

    /// Remembers a verified token until its `exp`. When full, expired entries go first, then the
    /// one closest to expiry.
    pub(crate) fn insert(&self, digest: TokenDigest, claims: Claims, now: i64) {
        let expires_at = claims.expires_at().unix_timestamp();
        if !self.enabled() || now >= expires_at {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity && !entries.contains_key(&digest) {
            entries.retain(|_, entry| now < entry.expires_at);
            if entries.len() >= self.capacity
                && let Some(soonest) = entries
                    .iter()
                    .min_by_key(|(_, entry)| entry.expires_at)
                    .map(|(digest, _)| *digest)
            {
                entries.remove(&soonest);
            }
        }
        entries.insert(digest, Entry { claims, expires_at });
    }

    /// How many tokens are remembered (expired ones included until evicted).
    pub(crate) fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::claims::{BYOVA_SCHEMA_UUID, ClaimRules};

    fn claims(exp: i64) -> Claims {
        let serde_json::Value::Object(all) = json!({
            "aud": "a", "sub": "s", "jti": exp.to_string(), "exp": exp,
            "com.cisco.datasource.url": "https://x",
            "com.cisco.datasource.schema.uuid": BYOVA_SCHEMA_UUID,
        }) else {
            unreachable!()
        };
        let rules = ClaimRules {
            datasource_url: "https://x".into(),
            schema_uuid: BYOVA_SCHEMA_UUID.into(),
            audience: None,
            subject: None,
            jwt_id: None,
            leeway: 0,
        };
        rules.check("iss".into(), all, 0).unwrap()
    }

    #[test]
    fn serves_until_exp_and_never_after() {
        let cache = TokenCache::new(4);
        let digest = TokenDigest::of("token-a");
        cache.insert(digest, claims(100), 10);
        assert_eq!(cache.get(&digest, 99).unwrap().jwt_id(), "100");
        assert!(cache.get(&digest, 100).is_none());
        assert!(cache.get(&TokenDigest::of("token-b"), 10).is_none());
    }

    #[test]
    fn does_not_store_expired_tokens() {
        let cache = TokenCache::new(4);
        cache.insert(TokenDigest::of("late"), claims(100), 100);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn stays_bounded_evicting_expired_then_soonest() {
        let cache = TokenCache::new(3);
        cache.insert(TokenDigest::of("a"), claims(50), 0);
        cache.insert(TokenDigest::of("b"), claims(300), 0);
        cache.insert(TokenDigest::of("c"), claims(200), 0);
        // At t=60 "a" has expired and makes room.
        cache.insert(TokenDigest::of("d"), claims(400), 60);
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&TokenDigest::of("b"), 60).is_some());
        // Full of live entries: the soonest to expire ("c") goes.
        cache.insert(TokenDigest::of("e"), claims(500), 60);
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&TokenDigest::of("c"), 60).is_none());
        for kept in ["b", "d", "e"] {
            assert!(cache.get(&TokenDigest::of(kept), 60).is_some(), "{kept}");
        }
    }

    #[test]
    fn capacity_zero_disables() {
        let cache = TokenCache::new(0);
        cache.insert(TokenDigest::of("a"), claims(50), 0);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn digest_is_sha256() {
        let TokenDigest(bytes) = TokenDigest::of("abc");
        assert_eq!(
            bytes[..4],
            [0xba, 0x78, 0x16, 0xbf],
            "SHA-256(\"abc\") starts with ba7816bf"
        );
    }
}
