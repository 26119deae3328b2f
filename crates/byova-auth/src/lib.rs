//! Webex Integration OAuth, per-org Service App tokens, token storage, Service App webhooks and
//! the BYODS data-source keeper, for the byova-rs SDK.
//!
//! - [`IntegrationAuth`]: the developer's Integration — authorization URL (optionally with PKCE),
//!   local [`RedirectListener`], code exchange (tokens are stored), refresh with single flight.
//! - [`ServiceAppAuth`]: Service App tokens per customer org — mint with the Integration,
//!   `save_registration`, `access_token(org)`; [`OrgClient`] gives one org's data sources and
//!   schemas. Both managers implement [`byova_api::TokenSource`].
//! - [`storage`]: the [`TokenStorage`](storage::TokenStorage) trait with in-memory, file
//!   (atomic, locked, mode 0600) and Redis (feature `redis`) stores.
//! - [`webhook`]: `X-Spark-Signature` verification, Service App event parsing, duplicate
//!   suppression, [`ServiceAppWebhooks`](webhook::ServiceAppWebhooks) and
//!   [`ensure_service_app_webhooks`](webhook::ensure_service_app_webhooks).
//! - [`keeper`]: the [`DataSourceKeeper`](keeper::DataSourceKeeper) that keeps the BYOVA data
//!   source's JWS fresh.
//!
//! Secrets (client secrets, tokens, codes, JWS) never appear in `Debug` output, logs or errors.
//!
//! ```
//! use std::sync::Arc;
//!
//! use byova_api::Client;
//! use byova_auth::storage::{MemoryTokenStorage, TokenStorage};
//! use byova_auth::{IntegrationAuth, ServiceAppAuth};
//! use byova_models::{IntegrationCredentials, OAuthTokens, OrgId, ServiceAppCredentials};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), byova_auth::Error> {
//! let storage = Arc::new(MemoryTokenStorage::new());
//! let client = Client::new().expect("client");
//! let integration = IntegrationAuth::builder(
//!     IntegrationCredentials::new("integration-client-id", "integration-secret"),
//!     client,
//! )
//! .storage(storage.clone())
//! .build();
//!
//! // Step 1 of the OAuth flow: the URL to open (with PKCE).
//! let request = integration.authorization_request()?.pkce(true).build()?;
//! assert!(request.url().as_str().starts_with("https://webexapis.com/v1/authorize?client_id="));
//!
//! // A registered org: its tokens are in storage, so access_token() serves them.
//! let org: OrgId = "63b02f90-0be4-4b43-9e78-cad425ac554c".parse().expect("org id");
//! let now = time::OffsetDateTime::now_utc();
//! storage
//!     .set_service_app_tokens(&org, &OAuthTokens::new("sa-access", 1_209_600, now))
//!     .await?;
//! let service_apps = ServiceAppAuth::builder(
//!     ServiceAppCredentials::new("sa-client-id", "sa-secret"),
//!     integration,
//! )
//! .build();
//! assert_eq!(service_apps.access_token(&org).await?.expose(), "sa-access");
//! assert!(!format!("{service_apps:?}").contains("sa-secret"));
//! # Ok(())
//! # }
//! ```

mod authorize;
mod clock;
mod error;
mod integration;
pub mod keeper;
mod org_client;
mod pkce;
mod redirect;
mod redirect_page;
mod refresh;
mod service_app;
mod settings;
mod single_flight;
mod status;
pub mod storage;
mod token_cache;
pub mod webhook;

pub use authorize::{
    AuthorizationRequest, AuthorizationRequestBuilder, DEFAULT_AUTHORIZE_URL, DEFAULT_SCOPES,
};
pub use error::{Error, ErrorKind, Result};
pub use integration::{IntegrationAuth, IntegrationAuthBuilder};
pub use org_client::OrgClient;
pub use pkce::PkceVerifier;
pub use redirect::{AuthorizationCode, DEFAULT_REDIRECT_TIMEOUT, RedirectListener};
pub use service_app::{OrgTokenSource, ServiceAppAuth, ServiceAppAuthBuilder};
pub use settings::{DEFAULT_REFRESH_BUFFER, RefreshSettings};
pub use status::TokenStatus;
