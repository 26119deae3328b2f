//! [`KeeperState`]: what the keeper publishes after every change.

use byova_models::{DataSource, Secret};
use time::OffsetDateTime;

use crate::error::Error;

/// The kept data source as last seen, published on the keeper's watch channel.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeeperState {
    /// The data source as Webex last returned it (its JWS is redacted in `Debug`).
    pub data_source: DataSource,
    /// The current JWS.
    pub jws: Secret,
    /// When the JWS expires (`tokenExpiryTime`, else the JWS `exp`), when known.
    pub expires_at: Option<OffsetDateTime>,
    /// When the keeper renews next (or retries, after a failure).
    pub next_renewal_at: OffsetDateTime,
    /// How many renewals succeeded since the keeper started (the start itself not counted).
    pub renewals: u64,
    /// The last renewal failure, cleared by the next success.
    pub last_error: Option<Error>,
}
