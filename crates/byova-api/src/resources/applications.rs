//! `/applications/{id}/token`: mint Service App tokens for an org.

use std::fmt;
use std::sync::Arc;

use byova_models::{OAuthTokens, OrgId, ServiceAppCredentials, TokenResponse};
use serde::Serialize;
use time::OffsetDateTime;

use super::segment;
use crate::client::Client;
use crate::error::Error;
use crate::token_source::TokenSource;

/// Applications, with the Integration bearer (scope `spark:applications_token`).
/// Get it from [`Client::applications`].
#[derive(Clone)]
pub struct Applications {
    client: Client,
    auth: Arc<dyn TokenSource>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenRequest<'a> {
    client_id: &'a str,
    client_secret: &'a str,
    target_org_id: &'a str,
}

impl Applications {
    pub(crate) fn new(client: Client, auth: Arc<dyn TokenSource>) -> Self {
        Self { client, auth }
    }

    /// `POST /applications/{application_id}/token` with
    /// `{"clientId", "clientSecret", "targetOrgId"}`: Service App tokens for `target_org`.
    ///
    /// `application_id` is usually [`ServiceAppCredentials::application_id`]. Minting twice is
    /// harmless, so this POST is retried like an idempotent request. `obtained_at` is the time
    /// the request was sent.
    pub async fn service_app_token(
        &self,
        application_id: &str,
        credentials: &ServiceAppCredentials,
        target_org: &OrgId,
    ) -> Result<OAuthTokens, Error> {
        let obtained_at = OffsetDateTime::now_utc();
        let response: TokenResponse = self
            .client
            .post(format!("/applications/{}/token", segment(application_id)?))
            .bearer_arc(Arc::clone(&self.auth))
            .json_body(&TokenRequest {
                client_id: &credentials.client_id,
                client_secret: credentials.client_secret.expose(),
                target_org_id: target_org.as_str(),
            })
            .retry_non_idempotent(true)
            .json()
            .await?;
        Ok(response.into_tokens(obtained_at))
    }
}

impl fmt::Debug for Applications {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Applications")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}
