//! [`KeeperConfig`]: which data source to keep and how.

use std::time::Duration;

use byova_models::{BYOVA_SCHEMA_ID, MAX_TOKEN_LIFETIME_MINUTES};

use crate::error::{Error, ErrorKind, Result};

/// The audience registered by default (the reference gateway's).
pub const DEFAULT_AUDIENCE: &str = "BYOVAGateway";
/// The subject registered by default.
pub const DEFAULT_SUBJECT: &str = "callAudioData";
/// The default JWS lifetime: the most Webex allows (24 h).
pub const DEFAULT_TOKEN_LIFETIME_MINUTES: u32 = MAX_TOKEN_LIFETIME_MINUTES;
/// Renew this long before the JWS expires, by default.
pub const DEFAULT_RENEWAL_LEAD: Duration = Duration::from_secs(60 * 60);
/// Retry a failed renewal this often, by default.
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(60);

/// The data source a [`DataSourceKeeper`](crate::keeper::DataSourceKeeper) keeps alive.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeeperConfig {
    /// Adopt this data source; when `None`, find it by url + schema (+ audience + subject).
    pub data_source_id: Option<String>,
    /// The media server URL Webex dials (must equal what the JWS verifier expects).
    pub url: String,
    /// The schema (default: the BYOVA schema).
    pub schema_id: String,
    /// The JWS audience (default [`DEFAULT_AUDIENCE`]).
    pub audience: String,
    /// The JWS subject (default [`DEFAULT_SUBJECT`]).
    pub subject: String,
    /// JWS lifetime in minutes, 1..=1440 (default 1440).
    pub token_lifetime_minutes: u32,
    /// Renew this long before expiry (default 60 min); must be shorter than the lifetime.
    pub renewal_lead: Duration,
    /// Retry a failed renewal this often (default 60 s).
    pub retry_interval: Duration,
}

impl KeeperConfig {
    /// A configuration for the data source at `url`, with every default.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            data_source_id: None,
            url: url.into(),
            schema_id: BYOVA_SCHEMA_ID.to_owned(),
            audience: DEFAULT_AUDIENCE.to_owned(),
            subject: DEFAULT_SUBJECT.to_owned(),
            token_lifetime_minutes: DEFAULT_TOKEN_LIFETIME_MINUTES,
            renewal_lead: DEFAULT_RENEWAL_LEAD,
            retry_interval: DEFAULT_RETRY_INTERVAL,
        }
    }

    /// Adopts the data source with this id.
    #[must_use]
    pub fn with_data_source_id(mut self, id: impl Into<String>) -> Self {
        self.data_source_id = Some(id.into());
        self
    }

    /// Sets the schema id.
    #[must_use]
    pub fn with_schema_id(mut self, schema_id: impl Into<String>) -> Self {
        self.schema_id = schema_id.into();
        self
    }

    /// Sets the audience.
    #[must_use]
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// Sets the subject.
    #[must_use]
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = subject.into();
        self
    }

    /// Sets the JWS lifetime in minutes.
    #[must_use]
    pub fn with_token_lifetime_minutes(mut self, minutes: u32) -> Self {
        self.token_lifetime_minutes = minutes;
        self
    }

    /// Sets the renewal lead.
    #[must_use]
    pub fn with_renewal_lead(mut self, lead: Duration) -> Self {
        self.renewal_lead = lead;
        self
    }

    /// Sets the retry interval.
    #[must_use]
    pub fn with_retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }

    /// The JWS lifetime as a duration.
    pub fn token_lifetime(&self) -> Duration {
        Duration::from_secs(u64::from(self.token_lifetime_minutes) * 60)
    }

    /// Checks the values.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] naming the first bad value.
    pub fn validate(&self) -> Result<()> {
        let invalid = |message: String| Err(Error::with_message(ErrorKind::InvalidInput, message));
        if self.url.is_empty() {
            return invalid("the data source url is empty".to_owned());
        }
        if self.schema_id.is_empty() || self.audience.is_empty() || self.subject.is_empty() {
            return invalid("the schema id, audience and subject must not be empty".to_owned());
        }
        if !(1..=MAX_TOKEN_LIFETIME_MINUTES).contains(&self.token_lifetime_minutes) {
            return invalid(format!(
                "token_lifetime_minutes must be 1..={MAX_TOKEN_LIFETIME_MINUTES}, got {}",
                self.token_lifetime_minutes
            ));
        }
        if self.renewal_lead.is_zero() || self.renewal_lead >= self.token_lifetime() {
            return invalid(format!(
                "the renewal lead ({}s) must be positive and shorter than the token lifetime ({}s)",
                self.renewal_lead.as_secs(),
                self.token_lifetime().as_secs()
            ));
        }
        if self.retry_interval.is_zero() {
            return invalid("the retry interval must be positive".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        let config = KeeperConfig::new("https://media.example.com:443");
        assert!(config.validate().is_ok());
        assert_eq!(config.schema_id, BYOVA_SCHEMA_ID);
        let message = |config: KeeperConfig| config.validate().expect_err("invalid").to_string();
        assert!(message(KeeperConfig::new("")).contains("url is empty"));
        assert!(
            message(KeeperConfig::new("u").with_token_lifetime_minutes(0)).contains("1..=1440")
        );
        assert!(
            message(KeeperConfig::new("u").with_token_lifetime_minutes(1441)).contains("1..=1440")
        );
        assert!(
            message(KeeperConfig::new("u").with_token_lifetime_minutes(60))
                .contains("shorter than")
        );
        assert!(
            message(KeeperConfig::new("u").with_renewal_lead(Duration::ZERO)).contains("positive")
        );
        assert!(
            message(KeeperConfig::new("u").with_retry_interval(Duration::ZERO)).contains("retry")
        );
    }
}
