//! The verifier: size limit, verified-token cache, parsing, issuer, key, signature, claims.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::algorithm::Algorithm;
use crate::builder::VerifierBuilder;
use crate::claims::{ClaimRules, Claims, unverified_issuer};
use crate::error::{Error, ErrorKind, quote};
use crate::key_cache::KeyCache;
use crate::token;
use crate::token_cache::{TokenCache, TokenDigest};

/// Verifies the JWS that Webex attaches to BYOVA calls.
///
/// Cheap to clone: clones share the key sets and the verified-token cache. Build one per data
/// source with [`Verifier::builder`] and keep it for the life of the process.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    rules: ClaimRules,
    algorithms: Vec<Algorithm>,
    max_token_bytes: usize,
    keys: KeyCache,
    tokens: TokenCache,
}

impl Verifier {
    /// Starts a configuration for tokens minted for `datasource_url`, the URL registered with
    /// Webex; `com.cisco.datasource.url` must equal it character for character.
    pub fn builder(datasource_url: impl Into<String>) -> VerifierBuilder {
        VerifierBuilder::new(datasource_url.into())
    }

    pub(crate) fn from_parts(
        rules: ClaimRules,
        algorithms: Vec<Algorithm>,
        max_token_bytes: usize,
        keys: KeyCache,
        tokens: TokenCache,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                rules,
                algorithms,
                max_token_bytes,
                keys,
                tokens,
            }),
        }
    }

    /// Verifies a compact JWS and returns its claims.
    ///
    /// A token verified before is answered from the cache (one SHA-256 and one map lookup)
    /// until its `exp`, even if its key has since left the issuer's key set. Otherwise the key
    /// set of the token's issuer may be fetched, which is the only step that waits; fetches run
    /// as Tokio tasks, so call this inside a Tokio runtime.
    ///
    /// # Errors
    ///
    /// An [`Error`] whose [`kind`](Error::kind) says which check failed. Only
    /// [`ErrorKind::KeySetUnavailable`] is not the token's fault.
    pub async fn verify(&self, token: &str) -> Result<Claims, Error> {
        let inner = &*self.inner;
        if token.len() > inner.max_token_bytes {
            return Err(Error::malformed(format!(
                "the token is {} bytes, more than the {} allowed",
                token.len(),
                inner.max_token_bytes
            )));
        }
        let digest = inner.tokens.enabled().then(|| TokenDigest::of(token));
        if let Some(digest) = &digest
            && let Some(claims) = inner.tokens.get(digest, unix_now())
        {
            return Ok(claims);
        }

        let parsed = token::parse(token, &inner.algorithms)?;
        let issuer = unverified_issuer(&parsed.claims)?;
        let Some(entry) = inner.keys.issuer(issuer) else {
            return Err(Error::new(
                ErrorKind::UnknownIssuer,
                format!("issuer {} is not in the allow-list", quote(issuer)),
            ));
        };
        let Some(kid) = parsed.kid.as_deref() else {
            return Err(Error::new(
                ErrorKind::UnknownKey,
                "the token header has no `kid`; keys are only selected by kid",
            ));
        };
        let keys = inner.keys.keys_for(entry, kid, parsed.alg).await?;
        match keys.verify(
            kid,
            parsed.alg,
            parsed.signing_input.as_bytes(),
            &parsed.signature,
        ) {
            Some(true) => {}
            Some(false) => {
                return Err(Error::new(
                    ErrorKind::BadSignature,
                    format!(
                        "the {} signature does not verify with key {} of {issuer}",
                        parsed.alg,
                        quote(kid)
                    ),
                ));
            }
            None => return Err(keys.unknown_key(issuer, kid, parsed.alg)),
        }

        let issuer = issuer.to_owned();
        let now = unix_now();
        let claims = inner.rules.check(issuer, parsed.claims, now)?;
        if let Some(digest) = digest {
            inner.tokens.insert(digest, claims.clone(), now);
        }
        Ok(claims)
    }

    /// The claims of a token verified earlier and not yet expired, without any other work.
    /// `None` means "not known", not "invalid": call [`verify`](Self::verify).
    pub fn cached(&self, token: &str) -> Option<Claims> {
        let inner = &*self.inner;
        if token.len() > inner.max_token_bytes || !inner.tokens.enabled() {
            return None;
        }
        inner.tokens.get(&TokenDigest::of(token), unix_now())
    }

    /// The data-source URL tokens must carry.
    pub fn datasource_url(&self) -> &str {
        &self.inner.rules.datasource_url
    }

    /// The schema id tokens must carry.
    pub fn schema_uuid(&self) -> &str {
        &self.inner.rules.schema_uuid
    }

    /// Every accepted issuer, sorted.
    pub fn issuers(&self) -> Vec<&str> {
        self.inner.keys.issuers()
    }

    /// The accepted algorithms.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.inner.algorithms
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("Verifier")
            .field("rules", &inner.rules)
            .field("algorithms", &inner.algorithms)
            .field("max_token_bytes", &inner.max_token_bytes)
            .field("keys", &inner.keys)
            .field("tokens", &inner.tokens)
            .finish()
    }
}

/// The wall-clock time in Unix seconds (token dates are wall-clock dates).
fn unix_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    }
}
