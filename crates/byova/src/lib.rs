//! Rust SDK and media server for Webex Contact Center **BYOVA** (Bring Your Own Virtual Agent)
//! and **BYODS** (Bring Your Own Data Source).
//!
//! This crate gathers the `byova-*` crates behind features and adds `Byova` (feature `auth`), one handle on
//! the Integration, the Service App tokens of every customer org, webhooks, JWS verification
//! and the media server.
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `api` | yes | `byova::api`: the Webex REST client, errors, retries, resources |
//! | `auth` | yes | `byova::auth`: OAuth, Service App tokens, token stores, webhooks, the data-source keeper; `Byova`, `Config`, `TokenStore` |
//! | `jws` | yes | `byova::jws`: verification of the JWS Webex attaches to calls; `Byova::verify_jws` |
//! | `tower` | no | `byova::jws::JwsAuthLayer`, a tower layer authenticating gRPC requests |
//! | `media` | no | `byova::media`: the BYOVA gRPC media server (pulls tonic); `Byova::media_server` |
//! | `media-client` | no | `byova::media::client`: a caller that drives a media server as Webex does |
//! | `proxy` | no | `byova::media::proxy`: the WebSocket proxy connector to an AI backend |
//! | `redis` | no | Redis token storage (`WEBEX_TOKEN_STORE=redis://…`) |
//! | `test-util` | no | `byova::api::test_util`: a loopback Webex stand-in for offline tests |
//! | `full` | no | everything except `test-util` |
//!
//! With `media` and `jws` together, the media server authenticates calls with the JWS.
//!
//! [`models`] (the serde data types) is always available.
//!
//! # Example
//!
//! A facade over an in-memory token store, with one registered org. In production use
//! `Byova::from_env` (the `WEBEX_*` variables of `Config`).
//!
//! ```
//! # #[cfg(all(feature = "auth", feature = "jws"))]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), byova::Error> {
//! use byova::auth::webhook::WebhookOutcome;
//! use byova::models::{IntegrationCredentials, OAuthTokens, OrgId, ServiceAppCredentials};
//! use byova::{Byova, ErrorKind};
//!
//! let byova = Byova::builder(
//!     IntegrationCredentials::new("integration-id", "integration-secret"),
//!     ServiceAppCredentials::new("service-app-id", "service-app-secret"),
//! )
//! .build()?;
//!
//! // An org is registered once its Service App tokens are stored (its `authorized` webhook
//! // does that); until then it has no client.
//! let org: OrgId = "63b02f90-0be4-4b43-9e78-cad425ac554c".parse().expect("org id");
//! let error = byova.client_for_org(&org).await.unwrap_err();
//! assert!(matches!(error.kind(), ErrorKind::OrgNotRegistered { .. }));
//!
//! let tokens = OAuthTokens::new("sa-access-token", 1_209_600, time::OffsetDateTime::now_utc());
//! byova.storage().set_service_app_tokens(&org, &tokens).await?;
//! let org_client = byova.client_for_org(&org).await?;
//! assert_eq!(org_client.org(), &org);
//!
//! // The org withdraws its authorization: the webhook deletes its tokens.
//! let body = br#"{"resource":"serviceApp","event":"deauthorized","orgId":"63b02f90-0be4-4b43-9e78-cad425ac554c"}"#;
//! let outcome = byova.handle_service_app_webhook(&Default::default(), body).await?;
//! assert!(matches!(outcome, WebhookOutcome::Deauthorized { was_registered: true, .. }));
//! assert!(byova.client_for_org(&org).await.is_err());
//!
//! // JWS verification needs the data-source URL registered with Webex.
//! let error = byova.verify_jws("eyJ...").await.unwrap_err();
//! assert!(matches!(error.kind(), ErrorKind::NotConfigured(_)));
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "auth", feature = "jws")))]
//! # fn main() {}
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "auth")]
mod config;
#[cfg(feature = "auth")]
mod error;
#[cfg(feature = "auth")]
mod facade;
#[cfg(feature = "auth")]
mod token_store;

#[doc(inline)]
pub use byova_models as models;

#[cfg(feature = "api")]
#[cfg_attr(docsrs, doc(cfg(feature = "api")))]
#[doc(inline)]
pub use byova_api as api;

#[cfg(feature = "auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth")))]
#[doc(inline)]
pub use byova_auth as auth;

#[cfg(feature = "jws")]
#[cfg_attr(docsrs, doc(cfg(feature = "jws")))]
#[doc(inline)]
pub use byova_jws as jws;

#[cfg(feature = "media")]
#[cfg_attr(docsrs, doc(cfg(feature = "media")))]
#[doc(inline)]
pub use byova_media as media;

#[cfg(feature = "auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth")))]
pub use config::{
    Config, WEBEX_BASE_URL, WEBEX_DATASOURCE_URL, WEBEX_INTEGRATION_CLIENT_ID,
    WEBEX_INTEGRATION_CLIENT_SECRET, WEBEX_INTEGRATION_REDIRECT_URI, WEBEX_MEDIA_DATASOURCE_URL,
    WEBEX_REGION, WEBEX_SA_CLIENT_ID, WEBEX_SA_CLIENT_SECRET, WEBEX_TOKEN_STORE,
    WEBEX_WEBHOOK_SECRET, WEBEX_WEBHOOK_TARGET_URL,
};
#[cfg(feature = "auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth")))]
pub use error::{Error, ErrorKind};
#[cfg(feature = "auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth")))]
pub use facade::{Byova, ByovaBuilder};
#[cfg(feature = "auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth")))]
pub use token_store::TokenStore;

/// The README's Rust code blocks, compiled as doc tests so the quickstart stays true.
#[cfg(all(doctest, feature = "media"))]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
