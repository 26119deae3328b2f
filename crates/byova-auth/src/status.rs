//! [`TokenStatus`]: what a stored token set is good for, without its secrets.

use std::time::Duration;

use byova_models::OAuthTokens;
use time::OffsetDateTime;

/// A summary of stored tokens for status displays (`byova auth status`). Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenStatus {
    /// When the tokens were obtained.
    pub obtained_at: OffsetDateTime,
    /// When the access token expires.
    pub access_token_expires_at: OffsetDateTime,
    /// Whether the access token is usable now (not within the refresh buffer of its expiry).
    pub access_token_valid: bool,
    /// When the refresh token expires, when known.
    pub refresh_token_expires_at: Option<OffsetDateTime>,
    /// Whether a refresh token exists and has not expired.
    pub refreshable: bool,
    /// Granted scopes, when known.
    pub scope: Option<String>,
}

impl TokenStatus {
    pub(crate) fn of(tokens: &OAuthTokens, now: OffsetDateTime, buffer: Duration) -> Self {
        Self {
            obtained_at: tokens.obtained_at,
            access_token_expires_at: tokens.expires_at(),
            access_token_valid: !tokens.is_expired_at(now, buffer),
            refresh_token_expires_at: tokens.refresh_token_expires_at(),
            refreshable: tokens.can_refresh_at(now, Duration::ZERO),
            scope: tokens.scope.clone(),
        }
    }
}
