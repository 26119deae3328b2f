//! OAuth token sets (Integration and Service App) and their expiry rules.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::lenient;
use crate::secret::Secret;

/// Lifetime Webex implies when a token response omits `expires_in` (the Python SDK's default).
pub const DEFAULT_EXPIRES_IN_SECS: u64 = 3600;

/// The body of a successful `POST /access_token` or `POST /applications/{id}/token` response.
///
/// Field names are snake_case on the wire (RFC 6749). `expires_in` defaults to 3600 and
/// `token_type` to `Bearer`; numbers sent as strings are accepted. Turn it into [`OAuthTokens`]
/// with [`into_tokens`](Self::into_tokens).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The bearer token.
    pub access_token: Secret,
    /// Seconds until `access_token` expires.
    #[serde(default = "default_expires_in", deserialize_with = "lenient::u64")]
    pub expires_in: u64,
    /// Token type, `Bearer` in practice.
    #[serde(default = "default_token_type")]
    pub token_type: String,
    /// Refresh token, when issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// Seconds until `refresh_token` expires, when known.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub refresh_token_expires_in: Option<u64>,
    /// Granted scopes (space separated), when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

fn default_expires_in() -> u64 {
    DEFAULT_EXPIRES_IN_SECS
}

fn default_token_type() -> String {
    "Bearer".to_owned()
}

impl TokenResponse {
    /// Stamps the response with the time it was obtained.
    ///
    /// Pass the time the request was *sent*, so that network latency shortens the lifetime rather
    /// than extending it.
    #[must_use]
    pub fn into_tokens(self, obtained_at: OffsetDateTime) -> OAuthTokens {
        OAuthTokens {
            access_token: self.access_token,
            token_type: self.token_type,
            expires_in: self.expires_in,
            refresh_token: self.refresh_token,
            refresh_token_expires_in: self.refresh_token_expires_in,
            scope: self.scope,
            obtained_at,
        }
    }
}

/// A token set with the time it was obtained: what token storage persists.
///
/// Serialises as the token response plus `obtained_at` (RFC 3339), with real secret values;
/// `Debug` redacts them. Used for the Integration and, under the alias [`ServiceAppTokens`], for
/// per-org Service App tokens.
///
/// ```
/// use std::time::Duration;
/// use byova_models::OAuthTokens;
/// use time::macros::datetime;
///
/// let t0 = datetime!(2025-01-01 12:00 UTC);
/// let tokens = OAuthTokens::new("access", 3600, t0).with_refresh_token("refresh", Some(7_776_000));
/// assert_eq!(tokens.expires_at(), datetime!(2025-01-01 13:00 UTC));
/// // Expired 60 s early with a 60 s buffer:
/// assert!(!tokens.is_expired_at(datetime!(2025-01-01 12:58:59 UTC), Duration::from_secs(60)));
/// assert!(tokens.is_expired_at(datetime!(2025-01-01 12:59 UTC), Duration::from_secs(60)));
/// assert_eq!(tokens.refresh_token_expires_at(), Some(datetime!(2025-04-01 12:00 UTC)));
/// assert!(!format!("{tokens:?}").contains("access\""));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthTokens {
    /// The bearer token.
    pub access_token: Secret,
    /// Token type, `Bearer` in practice.
    #[serde(default = "default_token_type")]
    pub token_type: String,
    /// Lifetime of `access_token` in seconds, counted from `obtained_at`.
    #[serde(default = "default_expires_in", deserialize_with = "lenient::u64")]
    pub expires_in: u64,
    /// Refresh token, when issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// Lifetime of `refresh_token` in seconds, counted from `obtained_at`, when known.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub refresh_token_expires_in: Option<u64>,
    /// Granted scopes (space separated), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// When the tokens were obtained.
    #[serde(with = "time::serde::rfc3339")]
    pub obtained_at: OffsetDateTime,
}

/// Service App tokens for one org: the same shape as the Integration's.
pub type ServiceAppTokens = OAuthTokens;

impl OAuthTokens {
    /// A token set with no refresh token.
    pub fn new(
        access_token: impl Into<Secret>,
        expires_in: u64,
        obtained_at: OffsetDateTime,
    ) -> Self {
        Self {
            access_token: access_token.into(),
            token_type: default_token_type(),
            expires_in,
            refresh_token: None,
            refresh_token_expires_in: None,
            scope: None,
            obtained_at,
        }
    }

    /// Adds a refresh token and its lifetime in seconds (counted from `obtained_at`).
    #[must_use]
    pub fn with_refresh_token(
        mut self,
        refresh_token: impl Into<Secret>,
        expires_in: Option<u64>,
    ) -> Self {
        self.refresh_token = Some(refresh_token.into());
        self.refresh_token_expires_in = expires_in;
        self
    }

    /// When the access token expires.
    #[must_use]
    pub fn expires_at(&self) -> OffsetDateTime {
        add_secs(self.obtained_at, self.expires_in)
    }

    /// Whether the access token is expired, or expires within `buffer`, now (system clock).
    #[must_use]
    pub fn is_expired(&self, buffer: Duration) -> bool {
        self.is_expired_at(OffsetDateTime::now_utc(), buffer)
    }

    /// Whether the access token is expired, or expires within `buffer`, at `now`.
    ///
    /// A token with `expires_in == 0` is always expired; an empty access token too.
    #[must_use]
    pub fn is_expired_at(&self, now: OffsetDateTime, buffer: Duration) -> bool {
        self.access_token.is_empty() || add_duration(now, buffer) >= self.expires_at()
    }

    /// Time left before the access token expires at `now` (zero once expired).
    #[must_use]
    pub fn remaining_at(&self, now: OffsetDateTime) -> Duration {
        Duration::try_from(self.expires_at() - now).unwrap_or(Duration::ZERO)
    }

    /// When the refresh token expires, if there is one and its lifetime is known.
    #[must_use]
    pub fn refresh_token_expires_at(&self) -> Option<OffsetDateTime> {
        self.refresh_token.as_ref()?;
        self.refresh_token_expires_in
            .map(|secs| add_secs(self.obtained_at, secs))
    }

    /// Whether a refresh token exists and is not known to expire within `buffer`, now (system
    /// clock).
    #[must_use]
    pub fn can_refresh(&self, buffer: Duration) -> bool {
        self.can_refresh_at(OffsetDateTime::now_utc(), buffer)
    }

    /// Whether a refresh token exists and is not known to expire within `buffer`, at `now`.
    #[must_use]
    pub fn can_refresh_at(&self, now: OffsetDateTime, buffer: Duration) -> bool {
        match &self.refresh_token {
            None => false,
            Some(token) if token.is_empty() => false,
            Some(_) => self
                .refresh_token_expires_at()
                .is_none_or(|expires_at| add_duration(now, buffer) < expires_at),
        }
    }

    /// Keeps the previous refresh token when a refresh response did not include a new one.
    ///
    /// The refresh token's remaining lifetime is carried over (re-based on this set's
    /// `obtained_at`). Does nothing when this set already has a refresh token.
    pub fn inherit_refresh_token(&mut self, previous: &OAuthTokens) {
        if self.refresh_token.is_some() {
            return;
        }
        self.refresh_token.clone_from(&previous.refresh_token);
        self.refresh_token_expires_in = previous.refresh_token_expires_at().map(|expires_at| {
            u64::try_from((expires_at - self.obtained_at).whole_seconds()).unwrap_or(0)
        });
    }
}

fn add_secs(at: OffsetDateTime, secs: u64) -> OffsetDateTime {
    add_duration(at, Duration::from_secs(secs))
}

/// `at + d`, saturating far beyond any real token lifetime instead of panicking.
fn add_duration(at: OffsetDateTime, d: Duration) -> OffsetDateTime {
    time::Duration::try_from(d)
        .ok()
        .and_then(|d| at.checked_add(d))
        .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const T0: OffsetDateTime = datetime!(2025-01-01 00:00 UTC);

    #[test]
    fn zero_lifetime_is_expired_immediately() {
        let tokens = OAuthTokens::new("a", 0, T0);
        assert!(tokens.is_expired_at(T0, Duration::ZERO));
    }

    #[test]
    fn empty_access_token_is_expired() {
        let tokens = OAuthTokens::new("", 3600, T0);
        assert!(tokens.is_expired_at(T0, Duration::ZERO));
    }

    #[test]
    fn refresh_expiry_is_checked() {
        let tokens = OAuthTokens::new("a", 60, T0).with_refresh_token("r", Some(120));
        assert!(tokens.can_refresh_at(T0 + Duration::from_secs(100), Duration::from_secs(10)));
        assert!(!tokens.can_refresh_at(T0 + Duration::from_secs(110), Duration::from_secs(10)));
        let unknown = OAuthTokens::new("a", 60, T0).with_refresh_token("r", None);
        assert!(unknown.can_refresh_at(T0 + Duration::from_secs(1_000_000), Duration::ZERO));
        assert!(!OAuthTokens::new("a", 60, T0).can_refresh_at(T0, Duration::ZERO));
    }

    #[test]
    fn inherit_rebases_refresh_lifetime() {
        let old = OAuthTokens::new("a", 60, T0).with_refresh_token("r", Some(1000));
        let mut new = OAuthTokens::new("b", 60, T0 + Duration::from_secs(400));
        new.inherit_refresh_token(&old);
        assert_eq!(new.refresh_token, Some(Secret::new("r")));
        assert_eq!(new.refresh_token_expires_in, Some(600));
        assert_eq!(
            new.refresh_token_expires_at(),
            old.refresh_token_expires_at()
        );
    }

    #[test]
    fn huge_lifetime_saturates() {
        let tokens = OAuthTokens::new("a", u64::MAX, T0);
        assert!(!tokens.is_expired_at(T0, Duration::from_secs(60)));
    }
}
