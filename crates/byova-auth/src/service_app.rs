//! [`ServiceAppAuth`]: Service App tokens per customer org — mint, refresh, cache.

use std::fmt;
use std::sync::Arc;

use byova_api::{BoxFuture, TokenSource};
use byova_models::{OAuthTokens, OrgId, Secret, ServiceAppCredentials, ServiceAppTokens};

use crate::clock::Clock;
use crate::error::{Error, ErrorKind, Result};
use crate::integration::IntegrationAuth;
use crate::org_client::OrgClient;
use crate::refresh::{Refresh, refresh_grant, usable_refresh_token};
use crate::settings::RefreshSettings;
use crate::single_flight::SingleFlight;
use crate::status::TokenStatus;
use crate::storage::{LockGuard, TokenStorage, lock_name};
use crate::token_cache::TokenCache;

/// Service App tokens for every customer org that authorized the Service App.
///
/// - [`fetch_token_for_org`](Self::fetch_token_for_org) mints tokens with
///   `POST /applications/{appId}/token` and the Integration's bearer (what the `authorized`
///   webhook does); [`save_registration`](Self::save_registration) registers an org from a
///   refresh token (sandbox orgs without webhooks).
/// - [`access_token`](Self::access_token) serves a cached token while it is valid; otherwise one
///   refresh per org runs at a time (per process, and per cluster with a shared store) and every
///   caller waiting on that org gets its result. Orgs never wait on each other.
/// - An unknown org is an error ([`ErrorKind::OrgNotRegistered`]); it is never registered behind
///   the caller's back.
/// - When an org's refresh token is missing, expired or rejected, new tokens are minted with the
///   Integration, which works as long as the org's authorization stands.
///
/// Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct ServiceAppAuth {
    inner: Arc<Inner>,
}

struct Inner {
    credentials: ServiceAppCredentials,
    application_id: String,
    integration: IntegrationAuth,
    storage: Arc<dyn TokenStorage>,
    settings: RefreshSettings,
    clock: Clock,
    cache: TokenCache<OrgId>,
    flights: SingleFlight<FlightKey, OAuthTokens>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum FlightKey {
    Refresh(OrgId),
    Mint(OrgId),
    Register(OrgId),
}

impl ServiceAppAuth {
    /// Starts configuring a Service App; by default it shares the Integration's storage and
    /// refresh settings, and its application id is derived from the client id (`us` cluster).
    pub fn builder(
        credentials: ServiceAppCredentials,
        integration: IntegrationAuth,
    ) -> ServiceAppAuthBuilder {
        ServiceAppAuthBuilder {
            credentials,
            integration,
            storage: None,
            settings: None,
            application_id: None,
        }
    }

    /// The Service App's credentials.
    pub fn credentials(&self) -> &ServiceAppCredentials {
        &self.inner.credentials
    }

    /// The application id used to mint tokens.
    pub fn application_id(&self) -> &str {
        &self.inner.application_id
    }

    /// The Integration whose bearer mints tokens.
    pub fn integration(&self) -> &IntegrationAuth {
        &self.inner.integration
    }

    /// The token storage.
    pub fn storage(&self) -> &Arc<dyn TokenStorage> {
        &self.inner.storage
    }

    /// The refresh settings.
    pub fn settings(&self) -> RefreshSettings {
        self.inner.settings
    }

    /// Mints tokens for `org` with the Integration's bearer and stores them (registering the org).
    ///
    /// # Errors
    /// Integration errors ([`ErrorKind::NotAuthorized`], ...), [`ErrorKind::Api`], storage errors.
    pub async fn fetch_token_for_org(&self, org: &OrgId) -> Result<ServiceAppTokens> {
        let inner = Arc::clone(&self.inner);
        let key_org = org.clone();
        let org = org.clone();
        self.inner
            .flights
            .run(FlightKey::Mint(key_org), move || async move {
                let lock = inner.lock(&org).await?;
                let tokens = inner.mint(&org).await?;
                inner.store(&org, &tokens).await?;
                lock.release().await;
                Ok(tokens)
            })
            .await
    }

    /// Registers `org` from a refresh token obtained elsewhere (for example a sandbox org set up
    /// by hand): refreshes it once, then stores the result. Nothing is stored when the refresh
    /// fails.
    ///
    /// # Errors
    /// [`ErrorKind::ReauthorizationRequired`] when Webex rejects the refresh token;
    /// [`ErrorKind::Api`], storage errors.
    pub async fn save_registration(
        &self,
        org: &OrgId,
        refresh_token: impl Into<Secret>,
    ) -> Result<ServiceAppTokens> {
        let refresh_token = refresh_token.into();
        let inner = Arc::clone(&self.inner);
        let key_org = org.clone();
        let org = org.clone();
        self.inner
            .flights
            .run(FlightKey::Register(key_org), move || async move {
                let lock = inner.lock(&org).await?;
                let placeholder = OAuthTokens::new("", 0, inner.clock.now())
                    .with_refresh_token(refresh_token.clone(), None);
                let mut tokens = inner.refresh_grant(&refresh_token).await?;
                tokens.inherit_refresh_token(&placeholder);
                inner.store(&org, &tokens).await?;
                lock.release().await;
                Ok(tokens)
            })
            .await
    }

    /// A valid access token for `org`: from the cache, else from storage, else refreshed.
    ///
    /// # Errors
    /// [`ErrorKind::OrgNotRegistered`] when no tokens are stored for `org`; refresh, mint and
    /// storage errors.
    pub async fn access_token(&self, org: &OrgId) -> Result<Secret> {
        if let Some(token) = self.inner.cache.get(org) {
            return Ok(token);
        }
        self.refresh_with(org, Refresh::IfExpired)
            .await
            .map(|tokens| tokens.access_token)
    }

    /// Refreshes `org`'s tokens now, even if still valid.
    ///
    /// # Errors
    /// As [`access_token`](Self::access_token).
    pub async fn refresh_for_org(&self, org: &OrgId) -> Result<ServiceAppTokens> {
        self.refresh_with(org, Refresh::Always).await
    }

    /// The stored tokens of `org`, if registered.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn tokens(&self, org: &OrgId) -> Result<Option<ServiceAppTokens>> {
        self.inner.storage.service_app_tokens(org).await
    }

    /// What `org`'s stored tokens are good for (no secrets), or `None` when not registered.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn status(&self, org: &OrgId) -> Result<Option<TokenStatus>> {
        let now = self.inner.clock.now();
        Ok(self
            .tokens(org)
            .await?
            .map(|tokens| TokenStatus::of(&tokens, now, self.inner.settings.buffer)))
    }

    /// Every registered org.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn registered_orgs(&self) -> Result<Vec<OrgId>> {
        self.inner.storage.registered_orgs().await
    }

    /// Forgets `org` (its `deauthorized` webhook): returns whether it was registered. Waits for a
    /// refresh of the org in flight, so that the org stays forgotten.
    ///
    /// # Errors
    /// Storage and lock errors.
    pub async fn remove_org(&self, org: &OrgId) -> Result<bool> {
        // Under the org's lock, so that a refresh in flight cannot store tokens again afterwards.
        let lock = self.inner.lock(org).await?;
        let removed = self.inner.storage.delete_service_app_tokens(org).await?;
        self.inner.cache.remove(org);
        lock.release().await;
        Ok(removed)
    }

    /// A [`TokenSource`] serving `org`'s access tokens.
    pub fn token_source(&self, org: &OrgId) -> OrgTokenSource {
        OrgTokenSource {
            auth: self.clone(),
            org: org.clone(),
        }
    }

    /// A client for `org`'s data sources and schemas. Calls fail with
    /// [`ErrorKind::OrgNotRegistered`] (inside the API error's source) while `org` is unknown.
    pub fn org_client(&self, org: &OrgId) -> OrgClient {
        OrgClient::new(self.clone(), org.clone())
    }

    async fn refresh_with(&self, org: &OrgId, why: Refresh) -> Result<ServiceAppTokens> {
        let inner = Arc::clone(&self.inner);
        let key_org = org.clone();
        let org = org.clone();
        self.inner
            .flights
            .run(FlightKey::Refresh(key_org), move || async move {
                inner.refresh(&org, why).await
            })
            .await
    }
}

impl Inner {
    async fn lock(&self, org: &OrgId) -> Result<LockGuard> {
        LockGuard::acquire(
            &self.storage,
            lock_name::service_app(org),
            self.settings.lock_ttl,
            self.settings.lock_wait,
        )
        .await
    }

    fn remember(&self, org: &OrgId, tokens: &OAuthTokens) {
        let valid_until = self
            .clock
            .instant_at(tokens.expires_at() - self.settings.buffer);
        self.cache
            .put(org.clone(), tokens.access_token.clone(), valid_until);
    }

    async fn store(&self, org: &OrgId, tokens: &OAuthTokens) -> Result<()> {
        self.storage.set_service_app_tokens(org, tokens).await?;
        self.remember(org, tokens);
        Ok(())
    }

    async fn mint(&self, org: &OrgId) -> Result<OAuthTokens> {
        let sent_at = self.clock.now();
        let mut tokens = self
            .integration
            .client()
            .applications(self.integration.clone())
            .service_app_token(&self.application_id, &self.credentials, org)
            .await
            .map_err(Error::api)?;
        tokens.obtained_at = sent_at;
        tracing::debug!(%org, expires_at = %tokens.expires_at(), "minted Service App tokens");
        Ok(tokens)
    }

    async fn refresh_grant(&self, refresh_token: &Secret) -> Result<OAuthTokens> {
        refresh_grant(
            self.integration.client(),
            &self.clock,
            &self.credentials.client_id,
            &self.credentials.client_secret,
            refresh_token,
        )
        .await
    }

    async fn refresh(&self, org: &OrgId, why: Refresh) -> Result<OAuthTokens> {
        let lock = self.lock(org).await?;
        let stored = self.storage.service_app_tokens(org).await?.ok_or_else(|| {
            Error::new(ErrorKind::OrgNotRegistered {
                org_id: org.to_string(),
            })
        })?;
        let now = self.clock.now();
        if why.is_served_by(&stored, now, self.settings.buffer) {
            self.remember(org, &stored);
            lock.release().await;
            return Ok(stored);
        }
        let tokens = match usable_refresh_token(&stored, now) {
            Ok(refresh_token) => match self.refresh_grant(refresh_token).await {
                Ok(mut tokens) => {
                    tokens.inherit_refresh_token(&stored);
                    tokens
                }
                Err(error) if error.is_reauthorization_required() => {
                    tracing::info!(%org, "the Service App refresh token was rejected; minting new tokens");
                    self.mint(org).await?
                }
                Err(error) => return Err(error),
            },
            Err(_) => {
                tracing::info!(%org, "no usable Service App refresh token; minting new tokens");
                self.mint(org).await?
            }
        };
        self.store(org, &tokens).await?;
        lock.release().await;
        Ok(tokens)
    }
}

impl fmt::Debug for ServiceAppAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAppAuth")
            .field("client_id", &self.inner.credentials.client_id)
            .field("application_id", &self.inner.application_id)
            .field("storage", &self.inner.storage)
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// Configures a [`ServiceAppAuth`].
#[derive(Debug)]
pub struct ServiceAppAuthBuilder {
    credentials: ServiceAppCredentials,
    integration: IntegrationAuth,
    storage: Option<Arc<dyn TokenStorage>>,
    settings: Option<RefreshSettings>,
    application_id: Option<String>,
}

impl ServiceAppAuthBuilder {
    /// Where Service App tokens are kept (default: the Integration's storage).
    #[must_use]
    pub fn storage(mut self, storage: Arc<dyn TokenStorage>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Refresh buffer and lock timing (default: the Integration's).
    #[must_use]
    pub fn settings(mut self, settings: RefreshSettings) -> Self {
        self.settings = Some(settings);
        self
    }

    /// The application id (default: derived from the client id in the `us` cluster; see
    /// [`byova_models::derive_application_id_in`] for other clusters).
    #[must_use]
    pub fn application_id(mut self, application_id: impl Into<String>) -> Self {
        self.application_id = Some(application_id.into());
        self
    }

    /// Builds the manager.
    pub fn build(self) -> ServiceAppAuth {
        let application_id = self
            .application_id
            .unwrap_or_else(|| self.credentials.application_id());
        let storage = self
            .storage
            .unwrap_or_else(|| Arc::clone(self.integration.storage()));
        let settings = self.settings.unwrap_or_else(|| self.integration.settings());
        ServiceAppAuth {
            inner: Arc::new(Inner {
                credentials: self.credentials,
                application_id,
                integration: self.integration,
                storage,
                settings,
                clock: Clock::new(),
                cache: TokenCache::default(),
                flights: SingleFlight::default(),
            }),
        }
    }
}

/// The access tokens of one org as a [`TokenSource`] (the bearer of its data-source calls).
#[derive(Clone)]
pub struct OrgTokenSource {
    auth: ServiceAppAuth,
    org: OrgId,
}

impl OrgTokenSource {
    /// The org.
    pub fn org(&self) -> &OrgId {
        &self.org
    }
}

impl fmt::Debug for OrgTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrgTokenSource")
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

impl TokenSource for OrgTokenSource {
    fn token(&self) -> BoxFuture<'_, Result<Secret, byova_api::Error>> {
        Box::pin(async move {
            self.auth
                .access_token(&self.org)
                .await
                .map_err(Error::into_token_source_error)
        })
    }

    fn refresh<'a>(
        &'a self,
        rejected: &'a Secret,
    ) -> BoxFuture<'a, Result<Option<Secret>, byova_api::Error>> {
        Box::pin(async move {
            if let Some(current) = self.auth.inner.cache.get(&self.org)
                && current != *rejected
            {
                return Ok(Some(current));
            }
            self.auth
                .refresh_with(&self.org, Refresh::Rejected(rejected.clone()))
                .await
                .map(|tokens| Some(tokens.access_token))
                .map_err(Error::into_token_source_error)
        })
    }
}
