//! What the two token managers share about a refresh: why it runs, whether the stored tokens
//! still serve, and the refresh grant with its errors.

use std::time::Duration;

use byova_api::Client;
use byova_models::{OAuthTokens, Secret};
use time::OffsetDateTime;

use crate::clock::Clock;
use crate::error::{Error, ErrorKind, Result};

/// Why a refresh runs.
#[derive(Clone)]
pub(crate) enum Refresh {
    /// The cached token is expired or missing: refresh unless storage has a valid one.
    IfExpired,
    /// Webex rejected this token: refresh unless storage already has another valid one.
    Rejected(Secret),
    /// Refresh whatever storage holds.
    Always,
}

impl Refresh {
    /// Whether `stored`, read under the refresh lock, makes this refresh unnecessary: another
    /// task, process or replica may have refreshed while this one waited for the lock.
    pub(crate) fn is_served_by(
        &self,
        stored: &OAuthTokens,
        now: OffsetDateTime,
        buffer: Duration,
    ) -> bool {
        !stored.is_expired_at(now, buffer)
            && match self {
                Self::IfExpired => true,
                Self::Rejected(rejected) => *rejected != stored.access_token,
                Self::Always => false,
            }
    }
}

/// The refresh token of `tokens`, unless it is missing or known to be expired.
pub(crate) fn usable_refresh_token(tokens: &OAuthTokens, now: OffsetDateTime) -> Result<&Secret> {
    match &tokens.refresh_token {
        Some(token) if tokens.can_refresh_at(now, Duration::ZERO) => Ok(token),
        Some(_) => Err(Error::with_message(
            ErrorKind::ReauthorizationRequired,
            format!(
                "the refresh token expired at {}",
                tokens
                    .refresh_token_expires_at()
                    .map_or_else(|| "an unknown time".to_owned(), |at| at.to_string())
            ),
        )),
        None => Err(Error::with_message(
            ErrorKind::ReauthorizationRequired,
            "no refresh token is stored",
        )),
    }
}

/// `grant_type=refresh_token` for the client `client_id`, the tokens dated by `clock` at the
/// moment the request was sent.
///
/// # Errors
/// [`ErrorKind::ReauthorizationRequired`] when Webex rejects the refresh token;
/// [`ErrorKind::Api`] otherwise.
pub(crate) async fn refresh_grant(
    client: &Client,
    clock: &Clock,
    client_id: &str,
    client_secret: &Secret,
    refresh_token: &Secret,
) -> Result<OAuthTokens> {
    let sent_at = clock.now();
    let mut tokens = client
        .oauth()
        .refresh(client_id, client_secret, refresh_token)
        .await
        .map_err(refresh_error)?;
    tokens.obtained_at = sent_at;
    Ok(tokens)
}

/// A refresh grant Webex refuses (400 `invalid_grant`, 401) means the refresh token is dead.
fn refresh_error(error: byova_api::Error) -> Error {
    if error.is_validation() || error.is_unauthorized() {
        Error::build(
            ErrorKind::ReauthorizationRequired,
            Some("Webex rejected the refresh token".into()),
            Some(Box::new(error)),
        )
    } else {
        Error::api(error)
    }
}
