//! Verification of the JWS that Webex attaches to every BYOVA call.
//!
//! Webex puts the data source's `jwsToken` in the `authorization` metadata of each gRPC call
//! to a BYOVA media server. A [`Verifier`] checks it the way the protocol requires, and more
//! strictly than the Python SDK:
//!
//! - **Issuer first.** `iss` must be one of the Webex identity brokers ([`Region`]) or an issuer
//!   you added, compared character for character; only then is its key set fetched from
//!   `{iss}/oauth2/v2/keys/verificationjwk` (no SSRF through a forged `iss`).
//! - **Key by `kid`, never a fallback**, with an allow-list of asymmetric algorithms
//!   ([`Algorithm`], default `RS256`); `none` and HMAC are always refused, and a JWK's `alg` and
//!   `use` must agree with the token.
//! - **Claims**: `exp` (required) and `nbf` with a 30 s leeway; `aud`, `sub` and `jti` present
//!   (and equal to configured values when set); `com.cisco.datasource.url` equal to your URL
//!   character for character; `com.cisco.datasource.schema.uuid` equal to the BYOVA schema.
//! - **Key sets** are cached per issuer for an hour (less if `Cache-Control` says so), refetched
//!   on an unknown `kid` at most once per 30 s cool-down, served stale when Webex is unreachable
//!   or rate limiting, and fetched once however many calls miss together.
//! - **Verified tokens** are remembered (by SHA-256, until `exp`), so the per-call cost is a
//!   hash lookup.
//! - **Typed errors** ([`ErrorKind`]) that say which check failed, and for the data-source URL
//!   both values; the token itself never appears in an error or a log.
//!
//! With the `tower` feature, [`JwsAuthLayer`] authenticates every request of a tonic (or any
//! tower) gRPC server, exempting health checks.
//!
//! # Example
//!
//! A verifier with a fixed key set, and a token minted the way Webex mints one. In production
//! leave out [`static_key_set`](VerifierBuilder::static_key_set): keys are fetched from Webex.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//!
//! use byova_jws::{BYOVA_SCHEMA_UUID, ErrorKind, Jwk, JwkSet, Verifier};
//! use josekit::jws::{JwsHeader, RS256};
//! use josekit::jwt::{self, JwtPayload};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let issuer = "https://idbroker.webex.com/idb";
//! let datasource_url = "https://va.example.com/byova";
//!
//! // The identity broker's key pair; the verifier only gets the public half.
//! let private = Jwk::generate_rsa_key(2048)?;
//! let mut public = private.to_public_key()?;
//! public.set_key_id("key-1");
//! let mut keys = JwkSet::new();
//! keys.push_key(public);
//!
//! let verifier = Verifier::builder(datasource_url)
//!     .audience("BYOVAGateway")
//!     .static_key_set(issuer, keys)
//!     .build()?;
//!
//! let mut header = JwsHeader::new();
//! header.set_key_id("key-1");
//! let mut payload = JwtPayload::new();
//! payload.set_issuer(issuer);
//! payload.set_audience(vec!["BYOVAGateway"]);
//! payload.set_subject("callAudioData");
//! payload.set_jwt_id("5e1d6f7a");
//! payload.set_expires_at(&(SystemTime::now() + Duration::from_secs(3600)));
//! payload.set_claim("com.cisco.datasource.url", Some(datasource_url.into()))?;
//! payload.set_claim("com.cisco.datasource.schema.uuid", Some(BYOVA_SCHEMA_UUID.into()))?;
//! let token = jwt::encode_with_signer(&payload, &header, &RS256.signer_from_jwk(&private)?)?;
//!
//! let claims = verifier.verify(&token).await?;
//! assert_eq!(claims.subject(), "callAudioData");
//! assert_eq!(claims.datasource_url(), datasource_url);
//!
//! // The same token minted for another URL is refused, naming the claim.
//! payload.set_claim("com.cisco.datasource.url", Some("https://va.example.com/byova/".into()))?;
//! let token = jwt::encode_with_signer(&payload, &header, &RS256.signer_from_jwk(&private)?)?;
//! let err = verifier.verify(&token).await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::ClaimMismatch(byova_jws::Claim::DataSourceUrl));
//! # Ok(())
//! # }
//! ```
//!
//! Against Webex, for a data source registered in Europe, printing the claims as JSON:
//!
//! ```no_run
//! # async fn run(token: &str) -> Result<(), Box<dyn std::error::Error>> {
//! use byova_jws::{Region, Verifier};
//!
//! let verifier = Verifier::builder("https://va.example.com/byova")
//!     .region(Region::Eu)
//!     .audience("BYOVAGateway")
//!     .build()?;
//! let claims = verifier.verify(token).await?;
//! println!("{}", serde_json::to_string_pretty(&claims)?);
//! # Ok(())
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod algorithm;
mod builder;
mod claims;
mod error;
mod fetch;
mod http_fetch;
mod issuer;
mod key_cache;
mod key_set;
#[cfg(feature = "tower")]
mod layer;
mod token;
mod token_cache;
mod verifier;

pub use algorithm::{Algorithm, ParseAlgorithmError};
pub use builder::{
    DEFAULT_FETCH_TIMEOUT, DEFAULT_KEY_SET_TTL, DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_BYTES,
    DEFAULT_REFETCH_COOLDOWN, DEFAULT_TOKEN_CACHE_CAPACITY, VerifierBuilder,
};
pub use claims::{BYOVA_SCHEMA_UUID, Claims};
pub use error::{Claim, Error, ErrorKind};
pub use issuer::{JWKS_PATH, ParseRegionError, Region, jwks_url};
pub use josekit::jwk::{Jwk, JwkSet};
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use layer::{DEFAULT_EXEMPT_PREFIXES, JwsAuth, JwsAuthBody, JwsAuthLayer, ResponseFuture};
pub use verifier::Verifier;
