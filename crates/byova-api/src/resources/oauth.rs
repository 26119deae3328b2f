//! `POST /access_token`: the OAuth token endpoint (authorization code and refresh grants).

use byova_models::{IntegrationCredentials, OAuthTokens, Secret, TokenResponse};
use time::OffsetDateTime;

use crate::client::Client;
use crate::error::Error;

/// The OAuth token endpoint. No bearer is sent; the client credentials travel in the form body.
/// Get it from [`Client::oauth`].
///
/// Neither grant is retried: authorization codes are single-use and a refresh may rotate the
/// refresh token.
#[derive(Clone, Debug)]
pub struct OAuth {
    client: Client,
    token_url: String,
}

impl OAuth {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            token_url: "/access_token".to_owned(),
        }
    }

    /// Uses another token endpoint (a path or an absolute URL) instead of `/access_token`.
    #[must_use]
    pub fn with_token_url(mut self, token_url: impl Into<String>) -> Self {
        self.token_url = token_url.into();
        self
    }

    /// `grant_type=authorization_code` with `code`, `client_id`, `client_secret` and
    /// `redirect_uri` (from `credentials`).
    pub async fn exchange_code(
        &self,
        credentials: &IntegrationCredentials,
        code: &str,
    ) -> Result<OAuthTokens, Error> {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", &credentials.client_id),
            ("client_secret", credentials.client_secret.expose()),
            ("redirect_uri", &credentials.redirect_uri),
        ])
        .await
    }

    /// `grant_type=refresh_token` with `refresh_token`, `client_id` and `client_secret` (of the
    /// Integration or the Service App the refresh token belongs to).
    ///
    /// The response may omit `refresh_token`; keep the old one with
    /// [`OAuthTokens::inherit_refresh_token`].
    pub async fn refresh(
        &self,
        client_id: &str,
        client_secret: &Secret,
        refresh_token: &Secret,
    ) -> Result<OAuthTokens, Error> {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", client_id),
            ("client_secret", client_secret.expose()),
        ])
        .await
    }

    async fn token(&self, form: &[(&str, &str)]) -> Result<OAuthTokens, Error> {
        let obtained_at = OffsetDateTime::now_utc();
        let response: TokenResponse = self
            .client
            .post(self.token_url.as_str())
            .form(form.iter().copied())
            .json()
            .await?;
        Ok(response.into_tokens(obtained_at))
    }
}
