//! Configuration of a [`Verifier`]: expected claims, issuers, algorithms, limits and caching.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use josekit::jwk::JwkSet;

use crate::algorithm::Algorithm;
use crate::claims::{BYOVA_SCHEMA_UUID, ClaimRules};
use crate::error::Error;
use crate::fetch::FetchKeySet;
use crate::issuer::{Region, validate_issuer};
use crate::key_cache::{KeyCache, KeySetPolicy};
use crate::key_set::KeySet;
use crate::token_cache::TokenCache;
use crate::verifier::Verifier;

/// Default clock skew allowed on `exp` and `nbf`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// Default size limit of a token, checked before parsing.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Default lifetime of a fetched key set (shorter when `Cache-Control: max-age` says so).
pub const DEFAULT_KEY_SET_TTL: Duration = Duration::from_secs(60 * 60);
/// Default minimum time between two fetches of one issuer's key set.
pub const DEFAULT_REFETCH_COOLDOWN: Duration = Duration::from_secs(30);
/// Default timeout of one key-set fetch.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of verified tokens remembered.
pub const DEFAULT_TOKEN_CACHE_CAPACITY: usize = 1024;
/// Largest key-set document accepted.
const MAX_KEY_SET_BYTES: usize = 1024 * 1024;

/// Builds a [`Verifier`]; start with [`Verifier::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct VerifierBuilder {
    datasource_url: String,
    schema_uuid: String,
    audience: Option<String>,
    subject: Option<String>,
    jwt_id: Option<String>,
    regions: Option<BTreeSet<Region>>,
    extra_issuers: Vec<String>,
    static_keys: Vec<(String, JwkSet)>,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    max_token_bytes: usize,
    key_set_ttl: Duration,
    refetch_cooldown: Duration,
    fetch_timeout: Duration,
    token_cache_capacity: usize,
    http: Option<byova_api::Client>,
}

impl VerifierBuilder {
    pub(crate) fn new(datasource_url: String) -> Self {
        Self {
            datasource_url,
            schema_uuid: BYOVA_SCHEMA_UUID.to_owned(),
            audience: None,
            subject: None,
            jwt_id: None,
            regions: None,
            extra_issuers: Vec::new(),
            static_keys: Vec::new(),
            algorithms: vec![Algorithm::Rs256],
            leeway: DEFAULT_LEEWAY,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            key_set_ttl: DEFAULT_KEY_SET_TTL,
            refetch_cooldown: DEFAULT_REFETCH_COOLDOWN,
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
            token_cache_capacity: DEFAULT_TOKEN_CACHE_CAPACITY,
            http: None,
        }
    }

    /// The expected `com.cisco.datasource.schema.uuid` (default [`BYOVA_SCHEMA_UUID`]).
    pub fn schema_uuid(mut self, schema_uuid: impl Into<String>) -> Self {
        self.schema_uuid = schema_uuid.into();
        self
    }

    /// Requires `aud` to be (or contain) this value, the audience used at registration.
    /// Without it, `aud` only has to be present.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Requires `sub` to equal this value. Without it, `sub` only has to be present.
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Requires `jti` to equal this value. Without it, `jti` only has to be present.
    pub fn jwt_id(mut self, jwt_id: impl Into<String>) -> Self {
        self.jwt_id = Some(jwt_id.into());
        self
    }

    /// Accepts the Webex issuers of `region`. The first call replaces the default (every
    /// region) with this one; further calls add regions.
    pub fn region(mut self, region: Region) -> Self {
        self.regions
            .get_or_insert_with(BTreeSet::new)
            .insert(region);
        self
    }

    /// Accepts exactly the Webex issuers of these regions; an empty list accepts no Webex
    /// issuer (only those added with [`issuer`](Self::issuer) or
    /// [`static_key_set`](Self::static_key_set)).
    pub fn regions(mut self, regions: impl IntoIterator<Item = Region>) -> Self {
        self.regions = Some(regions.into_iter().collect());
        self
    }

    /// Also accepts `issuer` (a private cloud, a test server). Its key set is fetched from
    /// `{issuer}/oauth2/v2/keys/verificationjwk`; `iss` must equal it character for character.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.extra_issuers.push(issuer.into());
        self
    }

    /// Accepts `issuer` with a fixed key set that is never fetched or refreshed (offline use,
    /// tests, benchmarks). Replaces any fetching for that issuer.
    pub fn static_key_set(mut self, issuer: impl Into<String>, keys: JwkSet) -> Self {
        self.static_keys.push((issuer.into(), keys));
        self
    }

    /// The algorithms accepted (default `RS256` only). `none` and HMAC cannot be expressed.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// The clock skew allowed on `exp` and `nbf` (default 30 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The largest token accepted, in bytes (default 16 KiB); larger ones are refused unparsed.
    pub fn max_token_size(mut self, bytes: usize) -> Self {
        self.max_token_bytes = bytes;
        self
    }

    /// How long a fetched key set is used before it is refreshed (default 60 min; a shorter
    /// `Cache-Control: max-age` wins).
    pub fn key_set_ttl(mut self, ttl: Duration) -> Self {
        self.key_set_ttl = ttl;
        self
    }

    /// The minimum time between two fetches of one issuer's key set (default 30 s), which bounds
    /// the refetches that tokens with unknown `kid`s can cause.
    pub fn refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.refetch_cooldown = cooldown;
        self
    }

    /// The timeout of one key-set fetch (default 10 s).
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// How many verified tokens are remembered (default 1024; 0 disables the cache).
    pub fn token_cache_capacity(mut self, capacity: usize) -> Self {
        self.token_cache_capacity = capacity;
        self
    }

    /// The HTTP client used to fetch key sets (default: a new [`byova_api::Client`]).
    pub fn http_client(mut self, client: byova_api::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Checks the configuration and builds the verifier.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the data-source URL is empty or not
    /// an `http(s)` URL, the schema is empty, an issuer is not a plain `http(s)` URL, the
    /// algorithm list is empty or the token size limit is zero.
    pub fn build(self) -> Result<Verifier, Error> {
        validate_datasource_url(&self.datasource_url)?;
        if self.schema_uuid.trim().is_empty() {
            return Err(Error::config("the expected schema uuid is empty"));
        }
        if self.algorithms.is_empty() {
            return Err(Error::config("at least one algorithm must be allowed"));
        }
        if self.max_token_bytes == 0 {
            return Err(Error::config("the token size limit must be positive"));
        }
        for (name, value) in [
            ("audience", &self.audience),
            ("subject", &self.subject),
            ("jwt id", &self.jwt_id),
        ] {
            if value.as_deref().is_some_and(str::is_empty) {
                return Err(Error::config(format!("the expected {name} is empty")));
            }
        }

        let pinned: BTreeSet<&str> = self
            .static_keys
            .iter()
            .map(|(iss, _)| iss.as_str())
            .collect();
        let mut fetched = BTreeSet::new();
        let regions = self
            .regions
            .unwrap_or_else(|| Region::ALL.into_iter().collect());
        for region in regions {
            fetched.extend(region.issuers().iter().map(|iss| (*iss).to_owned()));
        }
        fetched.extend(self.extra_issuers);
        fetched.retain(|iss| !pinned.contains(iss.as_str()));
        for issuer in fetched
            .iter()
            .map(String::as_str)
            .chain(pinned.iter().copied())
        {
            validate_issuer(issuer).map_err(Error::config)?;
        }

        let mut algorithms = self.algorithms;
        algorithms.sort_unstable();
        algorithms.dedup();

        let static_keys: Vec<(String, KeySet)> = self
            .static_keys
            .into_iter()
            .map(|(issuer, jwks)| {
                let keys = KeySet::prepare(&jwks, &algorithms);
                (issuer, keys)
            })
            .collect();

        let fetcher: Option<Arc<dyn FetchKeySet>> = if fetched.is_empty() {
            None
        } else {
            let client = match self.http {
                Some(client) => client,
                None => byova_api::Client::new().map_err(|err| {
                    Error::config(format!("cannot create the HTTP client: {err}"))
                })?,
            };
            Some(Arc::new(client))
        };

        let policy = KeySetPolicy {
            ttl: self.key_set_ttl,
            cooldown: self.refetch_cooldown,
            fetch_timeout: self.fetch_timeout,
            max_document_bytes: MAX_KEY_SET_BYTES,
            algorithms: algorithms.clone(),
        };
        let rules = ClaimRules {
            datasource_url: self.datasource_url,
            schema_uuid: self.schema_uuid,
            audience: self.audience,
            subject: self.subject,
            jwt_id: self.jwt_id,
            leeway: i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX),
        };
        Ok(Verifier::from_parts(
            rules,
            algorithms,
            self.max_token_bytes,
            KeyCache::new(fetched, static_keys, fetcher, policy),
            TokenCache::new(self.token_cache_capacity),
        ))
    }
}

fn validate_datasource_url(url: &str) -> Result<(), Error> {
    if url.trim().is_empty() {
        return Err(Error::config(
            "the data-source URL is empty; set it to the URL registered with Webex",
        ));
    }
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "https" | "http") => Ok(()),
        Ok(_) => Err(Error::config(format!(
            "the data-source URL {url:?} must be an http(s) URL"
        ))),
        Err(err) => Err(Error::config(format!(
            "the data-source URL {url:?} is not a URL: {err}"
        ))),
    }
}

impl fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("datasource_url", &self.datasource_url)
            .field("schema_uuid", &self.schema_uuid)
            .field("audience", &self.audience)
            .field("subject", &self.subject)
            .field("jwt_id", &self.jwt_id)
            .field("regions", &self.regions)
            .field("extra_issuers", &self.extra_issuers)
            .field(
                "static_key_sets",
                &self
                    .static_keys
                    .iter()
                    .map(|(iss, _)| iss)
                    .collect::<Vec<_>>(),
            )
            .field("algorithms", &self.algorithms)
            .field("leeway", &self.leeway)
            .field("max_token_bytes", &self.max_token_bytes)
            .field("key_set_ttl", &self.key_set_ttl)
            .field("refetch_cooldown", &self.refetch_cooldown)
            .field("fetch_timeout", &self.fetch_timeout)
            .field("token_cache_capacity", &self.token_cache_capacity)
            .finish_non_exhaustive()
    }
}
