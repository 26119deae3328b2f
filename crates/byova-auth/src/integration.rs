//! [`IntegrationAuth`]: the developer's Integration — OAuth flow, stored tokens, refresh.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use byova_api::{BoxFuture, Client, TokenSource};
use byova_models::{IntegrationCredentials, OAuthTokens, Secret, TokenResponse};
use url::Url;

use crate::authorize::{AuthorizationRequest, AuthorizationRequestBuilder, DEFAULT_AUTHORIZE_URL};
use crate::clock::Clock;
use crate::error::{Error, ErrorKind, Result};
use crate::pkce::PkceVerifier;
use crate::redirect::{AuthorizationCode, RedirectListener};
use crate::refresh::{Refresh, refresh_grant, usable_refresh_token};
use crate::settings::RefreshSettings;
use crate::single_flight::SingleFlight;
use crate::status::TokenStatus;
use crate::storage::{LockGuard, MemoryTokenStorage, TokenStorage, lock_name};
use crate::token_cache::TokenCache;

/// The OAuth token endpoint, relative to the client's base URL.
pub(crate) const TOKEN_PATH: &str = "/access_token";

/// The developer's Webex Integration: runs the OAuth flow, stores its tokens and keeps a valid
/// access token at hand (the bearer for webhooks and for minting Service App tokens).
///
/// - [`access_token`](Self::access_token) serves a cached token while it is valid (lock-free);
///   otherwise exactly one refresh runs per process (and, with a shared store, per cluster), and
///   every concurrent caller gets its result.
/// - A refresh answer without `refresh_token` keeps the previous one.
/// - A refresh token known to be expired gives [`ErrorKind::ReauthorizationRequired`] at once,
///   without a doomed request; so does one Webex rejects.
/// - Tokens obtained by [`exchange_code`](Self::exchange_code) are stored, whichever flow got
///   the code.
///
/// Cheap to clone; clones share the cache. Implements [`TokenSource`].
#[derive(Clone)]
pub struct IntegrationAuth {
    inner: Arc<Inner>,
}

struct Inner {
    credentials: IntegrationCredentials,
    client: Client,
    storage: Arc<dyn TokenStorage>,
    settings: RefreshSettings,
    authorize_url: Url,
    clock: Clock,
    cache: TokenCache<()>,
    flights: SingleFlight<(), OAuthTokens>,
}

impl IntegrationAuth {
    /// Starts configuring an Integration. Tokens live in memory unless
    /// [`storage`](IntegrationAuthBuilder::storage) is set.
    pub fn builder(credentials: IntegrationCredentials, client: Client) -> IntegrationAuthBuilder {
        IntegrationAuthBuilder {
            credentials,
            client,
            storage: None,
            settings: RefreshSettings::default(),
            authorize_url: None,
        }
    }

    /// The Integration's credentials.
    pub fn credentials(&self) -> &IntegrationCredentials {
        &self.inner.credentials
    }

    /// The REST client.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The token storage.
    pub fn storage(&self) -> &Arc<dyn TokenStorage> {
        &self.inner.storage
    }

    /// The refresh settings.
    pub fn settings(&self) -> RefreshSettings {
        self.inner.settings
    }

    /// An authorization request for this Integration (its client id and redirect URI), to adjust
    /// (scopes, state, PKCE) and build.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the configured redirect URI is not a URL.
    pub fn authorization_request(&self) -> Result<AuthorizationRequestBuilder> {
        Ok(AuthorizationRequest::builder(
            self.inner.authorize_url.clone(),
            self.inner.credentials.client_id.clone(),
            self.redirect_uri()?,
        ))
    }

    fn redirect_uri(&self) -> Result<Url> {
        Url::parse(&self.inner.credentials.redirect_uri).map_err(|error| {
            Error::build(
                ErrorKind::InvalidInput,
                Some("the Integration's redirect URI is not a valid URL".into()),
                Some(Box::new(error)),
            )
        })
    }

    /// The whole browser flow: listens on the request's redirect URI, calls `on_ready` with the
    /// URL to open (print it, or open a browser), waits up to `timeout` for the redirect, then
    /// exchanges and stores the code.
    ///
    /// # Errors
    /// Listener errors, [`ErrorKind::Redirect`], [`ErrorKind::StateMismatch`],
    /// [`ErrorKind::RedirectTimeout`], then those of [`complete`](Self::complete).
    pub async fn authorize(
        &self,
        request: &AuthorizationRequest,
        timeout: Duration,
        on_ready: impl FnOnce(&Url),
    ) -> Result<OAuthTokens> {
        let listener = RedirectListener::bind(request.redirect_uri()).await?;
        on_ready(request.url());
        let code = listener.wait(request.state(), timeout).await?;
        self.complete(request, &code).await
    }

    /// Finishes a flow whose code arrived some other way (a hosted callback, a pasted URL):
    /// checks the state, then exchanges the code (with the request's PKCE verifier and redirect
    /// URI) and stores the tokens.
    ///
    /// # Errors
    /// [`ErrorKind::StateMismatch`]; otherwise as [`exchange_code`](Self::exchange_code).
    pub async fn complete(
        &self,
        request: &AuthorizationRequest,
        code: &AuthorizationCode,
    ) -> Result<OAuthTokens> {
        if code.state() != request.state() {
            return Err(Error::new(ErrorKind::StateMismatch));
        }
        self.exchange(
            code.code(),
            request.redirect_uri().as_str(),
            request.pkce_verifier(),
        )
        .await
    }

    /// Exchanges an authorization code (`grant_type=authorization_code`, with the configured
    /// redirect URI and, when given, the PKCE `code_verifier`) and **stores** the tokens.
    ///
    /// # Errors
    /// [`ErrorKind::Api`] when Webex refuses the code; storage errors.
    pub async fn exchange_code(
        &self,
        code: &str,
        pkce: Option<&PkceVerifier>,
    ) -> Result<OAuthTokens> {
        let redirect_uri = self.inner.credentials.redirect_uri.clone();
        self.exchange(code, &redirect_uri, pkce).await
    }

    async fn exchange(
        &self,
        code: &str,
        redirect_uri: &str,
        pkce: Option<&PkceVerifier>,
    ) -> Result<OAuthTokens> {
        let inner = &self.inner;
        let credentials = &inner.credentials;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", credentials.client_id.as_str()),
            ("client_secret", credentials.client_secret.expose()),
            ("redirect_uri", redirect_uri),
        ];
        if let Some(verifier) = pkce {
            form.push(("code_verifier", verifier.secret()));
        }
        let sent_at = inner.clock.now();
        let response: TokenResponse = inner
            .client
            .post(TOKEN_PATH)
            .form(form)
            .json()
            .await
            .map_err(Error::api)?;
        let tokens = response.into_tokens(sent_at);
        inner.storage.set_integration_tokens(&tokens).await?;
        inner.remember(&tokens);
        Ok(tokens)
    }

    /// A valid access token: from the cache, else from storage, else refreshed (once, however
    /// many callers ask at the same time).
    ///
    /// # Errors
    /// [`ErrorKind::NotAuthorized`] when no tokens are stored;
    /// [`ErrorKind::ReauthorizationRequired`] when the refresh token expired or was rejected;
    /// [`ErrorKind::Api`], storage and lock errors.
    pub async fn access_token(&self) -> Result<Secret> {
        if let Some(token) = self.inner.cache.get(&()) {
            return Ok(token);
        }
        self.refresh_with(Refresh::IfExpired)
            .await
            .map(|tokens| tokens.access_token)
    }

    /// Refreshes now, even if the access token is still valid, and stores the result.
    ///
    /// # Errors
    /// As [`access_token`](Self::access_token).
    pub async fn refresh(&self) -> Result<OAuthTokens> {
        self.refresh_with(Refresh::Always).await
    }

    /// The stored tokens, if any.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn tokens(&self) -> Result<Option<OAuthTokens>> {
        self.inner.storage.integration_tokens().await
    }

    /// What the stored tokens are good for (no secrets), or `None` when not authorized.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn status(&self) -> Result<Option<TokenStatus>> {
        let now = self.inner.clock.now();
        Ok(self
            .tokens()
            .await?
            .map(|tokens| TokenStatus::of(&tokens, now, self.inner.settings.buffer)))
    }

    /// Forgets the Integration's tokens (here and in storage), after any refresh in flight.
    ///
    /// # Errors
    /// Storage and lock errors.
    pub async fn sign_out(&self) -> Result<()> {
        // Under the refresh lock, so that a refresh in flight cannot store tokens again afterwards.
        let lock = self.inner.lock().await?;
        self.inner.storage.clear_integration_tokens().await?;
        self.inner.cache.remove(&());
        lock.release().await;
        Ok(())
    }

    async fn refresh_with(&self, why: Refresh) -> Result<OAuthTokens> {
        let inner = Arc::clone(&self.inner);
        self.inner
            .flights
            .run((), move || async move { inner.refresh(why).await })
            .await
    }
}

impl Inner {
    fn remember(&self, tokens: &OAuthTokens) {
        let valid_until = self
            .clock
            .instant_at(tokens.expires_at() - self.settings.buffer);
        self.cache.put((), tokens.access_token.clone(), valid_until);
    }

    async fn lock(&self) -> Result<LockGuard> {
        LockGuard::acquire(
            &self.storage,
            lock_name::integration(),
            self.settings.lock_ttl,
            self.settings.lock_wait,
        )
        .await
    }

    async fn refresh(&self, why: Refresh) -> Result<OAuthTokens> {
        let lock = self.lock().await?;
        let stored = self
            .storage
            .integration_tokens()
            .await?
            .ok_or_else(|| Error::new(ErrorKind::NotAuthorized))?;
        let now = self.clock.now();
        if why.is_served_by(&stored, now, self.settings.buffer) {
            self.remember(&stored);
            lock.release().await;
            return Ok(stored);
        }
        let mut tokens = refresh_grant(
            &self.client,
            &self.clock,
            &self.credentials.client_id,
            &self.credentials.client_secret,
            usable_refresh_token(&stored, now)?,
        )
        .await?;
        tokens.inherit_refresh_token(&stored);
        self.storage.set_integration_tokens(&tokens).await?;
        self.remember(&tokens);
        lock.release().await;
        tracing::debug!(expires_at = %tokens.expires_at(), "refreshed the Integration access token");
        Ok(tokens)
    }
}

impl TokenSource for IntegrationAuth {
    fn token(&self) -> BoxFuture<'_, Result<Secret, byova_api::Error>> {
        Box::pin(async move {
            self.access_token()
                .await
                .map_err(Error::into_token_source_error)
        })
    }

    fn refresh<'a>(
        &'a self,
        rejected: &'a Secret,
    ) -> BoxFuture<'a, Result<Option<Secret>, byova_api::Error>> {
        Box::pin(async move {
            if let Some(current) = self.inner.cache.get(&())
                && current != *rejected
            {
                return Ok(Some(current));
            }
            self.refresh_with(Refresh::Rejected(rejected.clone()))
                .await
                .map(|tokens| Some(tokens.access_token))
                .map_err(Error::into_token_source_error)
        })
    }
}

impl fmt::Debug for IntegrationAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntegrationAuth")
            .field("client_id", &self.inner.credentials.client_id)
            .field("storage", &self.inner.storage)
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// Configures an [`IntegrationAuth`].
#[derive(Debug)]
pub struct IntegrationAuthBuilder {
    credentials: IntegrationCredentials,
    client: Client,
    storage: Option<Arc<dyn TokenStorage>>,
    settings: RefreshSettings,
    authorize_url: Option<Url>,
}

impl IntegrationAuthBuilder {
    /// Where tokens are kept (default: in memory).
    #[must_use]
    pub fn storage(mut self, storage: Arc<dyn TokenStorage>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Refresh buffer and lock timing.
    #[must_use]
    pub fn settings(mut self, settings: RefreshSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The authorization endpoint (default [`DEFAULT_AUTHORIZE_URL`]).
    #[must_use]
    pub fn authorize_url(mut self, url: Url) -> Self {
        self.authorize_url = Some(url);
        self
    }

    /// Builds the manager.
    pub fn build(self) -> IntegrationAuth {
        let authorize_url = self.authorize_url.unwrap_or_else(|| {
            Url::parse(DEFAULT_AUTHORIZE_URL).expect("DEFAULT_AUTHORIZE_URL is a valid URL")
        });
        IntegrationAuth {
            inner: Arc::new(Inner {
                credentials: self.credentials,
                client: self.client,
                storage: self
                    .storage
                    .unwrap_or_else(|| Arc::new(MemoryTokenStorage::new())),
                settings: self.settings,
                authorize_url,
                clock: Clock::new(),
                cache: TokenCache::default(),
                flights: SingleFlight::default(),
            }),
        }
    }
}
