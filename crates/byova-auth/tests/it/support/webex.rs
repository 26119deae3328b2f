//! The Webex stand-in with an Integration and a Service App wired to it.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use byova_api::test_util::WebexStandIn;
use byova_api::test_util::wiremock::{Request, Respond, ResponseTemplate};
use byova_api::{Client, RetryPolicy};
use byova_auth::storage::{MemoryTokenStorage, TokenStorage};
use byova_auth::{IntegrationAuth, RefreshSettings, ServiceAppAuth};
use byova_models::{IntegrationCredentials, OAuthTokens, OrgId, ServiceAppCredentials};
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
pub const OTHER_ORG: &str = "0a1b2c3d-0000-4000-8000-000000000001";
pub const REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";

pub fn org() -> OrgId {
    ORG.parse().expect("org")
}

pub fn other_org() -> OrgId {
    OTHER_ORG.parse().expect("org")
}

/// Tokens valid for 14 days from now, with a 90-day refresh token.
pub fn fresh(access: &str, refresh: &str) -> OAuthTokens {
    OAuthTokens::new(access, 1_209_600, OffsetDateTime::now_utc())
        .with_refresh_token(refresh, Some(7_776_000))
}

/// Tokens whose access token expired an hour ago; the refresh token has 89 days left.
pub fn expired(access: &str, refresh: &str) -> OAuthTokens {
    OAuthTokens::new(
        access,
        3600,
        OffsetDateTime::now_utc() - Duration::from_secs(86_400),
    )
    .with_refresh_token(refresh, Some(7_776_000))
}

/// A token endpoint answer.
pub fn token_body(access: &str, refresh: Option<&str>) -> Value {
    let mut body = json!({
        "access_token": access,
        "expires_in": 1_209_600,
        "token_type": "Bearer",
    });
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
        body["refresh_token_expires_in"] = json!(7_776_000);
    }
    body
}

/// The exact form body of a refresh grant.
pub fn refresh_form(refresh: &str, client_id: &str, client_secret: &str) -> String {
    format!(
        "grant_type=refresh_token&refresh_token={refresh}&client_id={client_id}&client_secret={client_secret}"
    )
}

/// A stand-in, a store and both managers.
pub struct Env {
    pub webex: WebexStandIn,
    pub storage: Arc<MemoryTokenStorage>,
    pub integration: IntegrationAuth,
    pub service_apps: ServiceAppAuth,
}

impl Env {
    pub async fn start() -> Self {
        Self::start_with(RefreshSettings::default(), RetryPolicy::default()).await
    }

    pub async fn start_with(settings: RefreshSettings, retry: RetryPolicy) -> Self {
        let webex = WebexStandIn::start().await;
        let client = webex
            .client_builder()
            .retry_policy(retry)
            .build()
            .expect("client");
        let storage = Arc::new(MemoryTokenStorage::new());
        let (integration, service_apps) = managers(client, storage.clone(), settings);
        Self {
            webex,
            storage,
            integration,
            service_apps,
        }
    }

    /// Stores Integration tokens valid for 14 days.
    pub async fn authorize_integration(&self) {
        self.storage
            .set_integration_tokens(&fresh("int-access", "int-refresh"))
            .await
            .expect("store");
    }
}

/// Both managers on `client` and `storage`.
pub fn managers(
    client: Client,
    storage: Arc<dyn TokenStorage>,
    settings: RefreshSettings,
) -> (IntegrationAuth, ServiceAppAuth) {
    let integration = IntegrationAuth::builder(
        IntegrationCredentials::new(INTEGRATION_ID, INTEGRATION_SECRET)
            .with_redirect_uri(REDIRECT_URI),
        client,
    )
    .storage(storage)
    .settings(settings)
    .build();
    let service_apps = ServiceAppAuth::builder(
        ServiceAppCredentials::new(SA_ID, SA_SECRET),
        integration.clone(),
    )
    .build();
    (integration, service_apps)
}

/// A response that waits for the test's go-ahead once (it blocks the stand-in meanwhile); later
/// requests are answered at once.
pub struct Gated {
    release: Mutex<Option<mpsc::Receiver<()>>>,
    response: ResponseTemplate,
}

impl Gated {
    pub fn new(response: ResponseTemplate) -> (Self, mpsc::Sender<()>) {
        let (tx, rx) = mpsc::channel();
        (
            Self {
                release: Mutex::new(Some(rx)),
                response,
            },
            tx,
        )
    }
}

impl Respond for Gated {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        if let Some(release) = self.release.lock().expect("gate").take() {
            let _ = release.recv_timeout(Duration::from_secs(120));
        }
        self.response.clone()
    }
}

/// A store without cross-process locks (the trait's defaults), so tests of the in-process single
/// flight cannot be rescued by the storage lock.
#[derive(Debug, Default)]
pub struct UnlockedStorage(pub MemoryTokenStorage);

impl TokenStorage for UnlockedStorage {
    fn integration_tokens(
        &self,
    ) -> byova_api::BoxFuture<'_, byova_auth::Result<Option<OAuthTokens>>> {
        self.0.integration_tokens()
    }
    fn set_integration_tokens<'a>(
        &'a self,
        tokens: &'a OAuthTokens,
    ) -> byova_api::BoxFuture<'a, byova_auth::Result<()>> {
        self.0.set_integration_tokens(tokens)
    }
    fn clear_integration_tokens(&self) -> byova_api::BoxFuture<'_, byova_auth::Result<()>> {
        self.0.clear_integration_tokens()
    }
    fn service_app_tokens<'a>(
        &'a self,
        org: &'a OrgId,
    ) -> byova_api::BoxFuture<'a, byova_auth::Result<Option<OAuthTokens>>> {
        self.0.service_app_tokens(org)
    }
    fn set_service_app_tokens<'a>(
        &'a self,
        org: &'a OrgId,
        tokens: &'a OAuthTokens,
    ) -> byova_api::BoxFuture<'a, byova_auth::Result<()>> {
        self.0.set_service_app_tokens(org, tokens)
    }
    fn delete_service_app_tokens<'a>(
        &'a self,
        org: &'a OrgId,
    ) -> byova_api::BoxFuture<'a, byova_auth::Result<bool>> {
        self.0.delete_service_app_tokens(org)
    }
    fn registered_orgs(&self) -> byova_api::BoxFuture<'_, byova_auth::Result<Vec<OrgId>>> {
        self.0.registered_orgs()
    }
}

/// Managers on the stand-in with an [`UnlockedStorage`].
pub fn unlocked_managers(
    webex: &WebexStandIn,
) -> (Arc<UnlockedStorage>, IntegrationAuth, ServiceAppAuth) {
    let storage = Arc::new(UnlockedStorage::default());
    let (integration, service_apps) =
        managers(webex.client(), storage.clone(), RefreshSettings::default());
    (storage, integration, service_apps)
}
