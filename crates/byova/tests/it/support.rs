//! A facade wired to the Webex stand-in, and the fixtures the tests share.

use std::sync::Arc;
use std::time::Duration;

use byova::api::test_util::WebexStandIn;
use byova::api::{Client, RetryPolicy};
use byova::auth::storage::{MemoryTokenStorage, TokenStorage};
use byova::models::{IntegrationCredentials, OAuthTokens, OrgId, ServiceAppCredentials};
use byova::{Byova, ByovaBuilder};
use serde_json::{Value, json};
use time::OffsetDateTime;

pub const INTEGRATION_ID: &str = "int-client";
pub const INTEGRATION_SECRET: &str = "int-secret-value";
pub const SA_ID: &str = "sa-id";
pub const SA_SECRET: &str = "sa-secret-value";
/// `derive_application_id("sa-id")`.
pub const APPLICATION_ID: &str = "Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL3NhLWlk";
pub const ORG: &str = "63b02f90-0be4-4b43-9e78-cad425ac554c";
pub const ORG_ENCODED: &str =
    "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi82M2IwMmY5MC0wYmU0LTRiNDMtOWU3OC1jYWQ0MjVhYzU1NGM";

pub fn org() -> OrgId {
    ORG.parse().expect("org")
}

/// Tokens valid for 14 days from now, with a 90-day refresh token.
pub fn fresh(access: &str, refresh: &str) -> OAuthTokens {
    OAuthTokens::new(access, 1_209_600, OffsetDateTime::now_utc())
        .with_refresh_token(refresh, Some(7_776_000))
}

/// A token endpoint answer.
pub fn token_body(access: &str, refresh: &str) -> Value {
    json!({
        "access_token": access,
        "expires_in": 1_209_600,
        "token_type": "Bearer",
        "refresh_token": refresh,
        "refresh_token_expires_in": 7_776_000,
    })
}

/// The stand-in, a memory store and a facade builder pointed at both.
pub struct Env {
    pub webex: WebexStandIn,
    pub storage: Arc<dyn TokenStorage>,
}

impl Env {
    pub async fn start() -> Self {
        Self {
            webex: WebexStandIn::start().await,
            storage: Arc::new(MemoryTokenStorage::new()),
        }
    }

    /// A client that never retries: each test mounts exactly the exchanges it expects.
    pub fn client(&self) -> Client {
        self.webex
            .client_builder()
            .timeout(Some(Duration::from_secs(30)))
            .retry_policy(RetryPolicy::disabled())
            .build()
            .expect("client")
    }

    pub fn builder(&self) -> ByovaBuilder {
        Byova::builder(
            IntegrationCredentials::new(INTEGRATION_ID, INTEGRATION_SECRET),
            ServiceAppCredentials::new(SA_ID, SA_SECRET),
        )
        .client(self.client())
        .storage(Arc::clone(&self.storage))
    }

    pub fn byova(&self) -> Byova {
        self.builder().build().expect("facade")
    }

    /// Stores Integration tokens, as `byova auth login` would.
    pub async fn authorize_integration(&self) {
        self.storage
            .set_integration_tokens(&fresh("int-access", "int-refresh"))
            .await
            .expect("store");
    }

    /// Registers the test org, as its `authorized` webhook would.
    pub async fn register_org(&self) {
        self.storage
            .set_service_app_tokens(&org(), &fresh("sa-access", "sa-refresh"))
            .await
            .expect("store");
    }
}
