//! [`DataSourceKeeper`]: the background task that keeps the data source's JWS fresh.

use std::fmt;
use std::sync::Arc;

use byova_models::{DataSource, Secret};
use time::OffsetDateTime;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::error::{Error, ErrorKind, Result};
use crate::keeper::adopt::{adopt, expiry_of, jws_of, renew};
use crate::keeper::{KeeperConfig, KeeperState};
use crate::org_client::OrgClient;
use crate::storage::{LockGuard, TokenStorage, lock_name};

/// Keeps a BYODS data source registered and its JWS fresh (protocol.md §4.2).
///
/// [`start`](Self::start) adopts the data source (by id, else by url + schema + audience +
/// subject), registers it when missing, updates it when its settings differ or it is not active,
/// and renews it at once when its expiry is unknown or within the lead. Then a background task
/// renews it (`PUT` with a fresh nonce and the lifetime) `renewal_lead` before each expiry —
/// `tokenExpiryTime`, else the JWS `exp`, else `lifetime − lead` after the last renewal — and
/// retries every `retry_interval` after a failure. Each state is published on a watch channel.
///
/// With a shared token store (Redis), replicas take a storage lock around each renewal and adopt
/// a JWS another replica renewed instead of renewing again.
///
/// Stop it with [`stop`](Self::stop); dropping it stops the task too.
pub struct DataSourceKeeper {
    state: watch::Receiver<KeeperState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

struct Worker {
    org: OrgClient,
    config: KeeperConfig,
    storage: Arc<dyn TokenStorage>,
    clock: Clock,
    state: watch::Sender<KeeperState>,
}

impl DataSourceKeeper {
    /// Adopts or registers the data source, then starts renewing it in the background.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for a bad configuration; [`ErrorKind::DataSource`] when several
    /// data sources match or the configured id does not exist; API and token errors.
    pub async fn start(org: OrgClient, config: KeeperConfig) -> Result<Self> {
        config.validate()?;
        let clock = Clock::new();
        let mut data_source = adopt(org.data_sources(), &config).await?;
        let mut renewed_at = clock.now();
        if needs_renewal(&data_source, &config, clock.now()) {
            tracing::info!(id = %data_source.id, "the JWS expiry is unknown or within the lead; renewing now");
            data_source = renew(org.data_sources(), &data_source.id, &config).await?;
            renewed_at = clock.now();
        }
        let jws = jws_of(&data_source)?;
        let expires_at = expiry_of(&data_source);
        let state = KeeperState {
            next_renewal_at: next_renewal(expires_at, renewed_at, &config),
            data_source,
            jws,
            expires_at,
            renewals: 0,
            last_error: None,
        };
        let (state_tx, state_rx) = watch::channel(state);
        let (stop_tx, stop_rx) = oneshot::channel();
        let worker = Worker {
            storage: Arc::clone(org.service_apps().storage()),
            org,
            config,
            clock,
            state: state_tx,
        };
        let task = tokio::spawn(worker.run(stop_rx));
        Ok(Self {
            state: state_rx,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }

    /// A receiver of the published states: `borrow()` for the current one, `changed().await`
    /// for the next.
    pub fn subscribe(&self) -> watch::Receiver<KeeperState> {
        self.state.clone()
    }

    /// The current state.
    pub fn state(&self) -> KeeperState {
        self.state.borrow().clone()
    }

    /// The current JWS.
    pub fn jws(&self) -> Secret {
        self.state.borrow().jws.clone()
    }

    /// Stops the task and waits for it to end (a renewal in flight is abandoned).
    ///
    /// # Errors
    /// [`ErrorKind::Internal`] when the task had panicked.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(|error| {
                Error::build(
                    ErrorKind::Internal,
                    Some("the data-source keeper task failed".into()),
                    Some(Box::new(error)),
                )
            }),
            None => Ok(()),
        }
    }
}

impl Drop for DataSourceKeeper {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl fmt::Debug for DataSourceKeeper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("DataSourceKeeper")
            .field("data_source_id", &state.data_source.id)
            .field("expires_at", &state.expires_at)
            .field("next_renewal_at", &state.next_renewal_at)
            .finish_non_exhaustive()
    }
}

/// Whether the JWS must be renewed now: no JWS, unknown expiry, or expiry within the lead.
fn needs_renewal(ds: &DataSource, config: &KeeperConfig, now: OffsetDateTime) -> bool {
    if ds.jws_token.as_ref().is_none_or(Secret::is_empty) {
        return true;
    }
    expiry_of(ds).is_none_or(|expires_at| expires_at - config.renewal_lead <= now)
}

/// `expiry − lead`, else `renewed_at + lifetime − lead`; never sooner than one retry interval
/// after `renewed_at` (a JWS that is already within the lead after a renewal — clock skew, an odd
/// answer — must not make the keeper hammer Webex).
fn next_renewal(
    expires_at: Option<OffsetDateTime>,
    renewed_at: OffsetDateTime,
    config: &KeeperConfig,
) -> OffsetDateTime {
    let planned = match expires_at {
        Some(expires_at) => expires_at - config.renewal_lead,
        None => renewed_at + config.token_lifetime() - config.renewal_lead,
    };
    planned.max(renewed_at + config.retry_interval)
}

impl Worker {
    async fn run(self, mut stop: oneshot::Receiver<()>) {
        loop {
            let at = self.clock.instant_at(self.state.borrow().next_renewal_at);
            tokio::select! {
                () = tokio::time::sleep_until(at) => {}
                _ = &mut stop => return,
            }
            let outcome = tokio::select! {
                outcome = self.renew() => outcome,
                _ = &mut stop => return,
            };
            match outcome {
                Ok(data_source) => self.publish_success(data_source),
                Err(error) => self.publish_failure(error),
            }
        }
    }

    /// One renewal under the storage lock; adopts a JWS another replica renewed meanwhile.
    async fn renew(&self) -> Result<DataSource> {
        let settings = self.org.service_apps().settings();
        let lock = LockGuard::acquire(
            &self.storage,
            lock_name::data_source(self.org.org(), &self.config.url, &self.config.schema_id),
            settings.lock_ttl,
            settings.lock_wait,
        )
        .await?;
        let id = self.state.borrow().data_source.id.clone();
        let data_sources = self.org.data_sources();
        let current = match data_sources.get(&id).await {
            Ok(current) => current,
            Err(error) if error.is_not_found() => {
                tracing::warn!(%id, "the data source disappeared; adopting or registering it again");
                let adopted = adopt(data_sources, &self.config).await?;
                let renewed = if needs_renewal(&adopted, &self.config, self.clock.now()) {
                    renew(data_sources, &adopted.id, &self.config).await?
                } else {
                    adopted
                };
                lock.release().await;
                return Ok(renewed);
            }
            Err(error) => return Err(Error::api(error)),
        };
        let renewed = if needs_renewal(&current, &self.config, self.clock.now()) {
            renew(data_sources, &id, &self.config).await?
        } else {
            tracing::info!(%id, "another instance renewed the data source; adopting its JWS");
            current
        };
        lock.release().await;
        Ok(renewed)
    }

    fn publish_success(&self, data_source: DataSource) {
        let now = self.clock.now();
        let jws = match jws_of(&data_source) {
            Ok(jws) => jws,
            Err(error) => return self.publish_failure(error),
        };
        let expires_at = expiry_of(&data_source);
        let next_renewal_at = next_renewal(expires_at, now, &self.config);
        tracing::info!(id = %data_source.id, ?expires_at, %next_renewal_at, "renewed the data source JWS");
        self.state.send_modify(|state| {
            state.data_source = data_source;
            state.jws = jws;
            state.expires_at = expires_at;
            state.next_renewal_at = next_renewal_at;
            state.renewals += 1;
            state.last_error = None;
        });
    }

    fn publish_failure(&self, error: Error) {
        let retry_at = self.clock.now() + self.config.retry_interval;
        tracing::warn!(%error, %retry_at, "renewing the data source failed; retrying");
        self.state.send_modify(|state| {
            state.next_renewal_at = retry_at;
            state.last_error = Some(error);
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use time::macros::datetime;

    use super::*;

    #[test]
    fn next_renewal_is_expiry_minus_lead_with_fallback_and_floor() {
        let config = KeeperConfig::new("https://media.example.com");
        let now = datetime!(2025-06-01 12:00 UTC);
        let hour = Duration::from_secs(3600);
        assert_eq!(
            next_renewal(Some(now + 24 * hour), now, &config),
            now + 23 * hour
        );
        assert_eq!(next_renewal(None, now, &config), now + 23 * hour);
        // Already within the lead: wait one retry interval, do not spin.
        assert_eq!(
            next_renewal(Some(now + hour / 2), now, &config),
            now + Duration::from_secs(60)
        );
    }
}
