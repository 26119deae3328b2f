//! [`Byova`]: one handle on everything a BYOVA / BYODS deployment does with Webex.

use std::fmt;
use std::sync::Arc;

use byova_api::{Client, Webhooks};
use byova_auth::keeper::{DataSourceKeeper, KeeperConfig};
use byova_auth::storage::{MemoryTokenStorage, TokenStorage};
use byova_auth::webhook::{
    EnsuredWebhook, ServiceAppWebhooks, WebhookOutcome, ensure_service_app_webhooks,
};
use byova_auth::{IntegrationAuth, OrgClient, RefreshSettings, ServiceAppAuth};
use byova_models::{IntegrationCredentials, OrgId, Secret, ServiceAppCredentials};

use crate::config::Config;
use crate::error::{Error, ErrorKind};

/// The SDK in one handle, in the spirit of the Python SDK's `BYOVA`: the Integration, the
/// Service App tokens of every customer org, webhooks, JWS verification and the media server,
/// sharing one HTTP client and one token store.
///
/// Everything is `async` and runs on the caller's Tokio runtime; there is no blocking wrapper
/// that could deadlock inside one. Cheap to clone (clones share everything).
///
/// ```no_run
/// # async fn run() -> Result<(), byova::Error> {
/// use byova::Byova;
/// use byova::models::OrgId;
///
/// let byova = Byova::from_env().await?;
/// let org: OrgId = "63b02f90-0be4-4b43-9e78-cad425ac554c".parse().expect("org id");
/// let org_client = byova.client_for_org(&org).await?;
/// for data_source in org_client.data_sources().list().await? {
///     println!("{} {:?}", data_source.id, data_source.url);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Byova {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    integration: IntegrationAuth,
    service_app: ServiceAppAuth,
    webhook_handler: ServiceAppWebhooks,
    /// Deliveries must carry a valid `X-Spark-Signature` when set.
    webhook_secret: Option<Secret>,
    webhook_target_url: Option<String>,
    datasource_url: Option<String>,
    #[cfg(feature = "jws")]
    verifier: Option<byova_jws::Verifier>,
}

impl Byova {
    /// A facade configured from `WEBEX_*` environment variables (see [`Config`]), with the
    /// token store they name opened.
    ///
    /// # Errors
    /// [`ErrorKind::MissingEnv`] listing every missing required variable,
    /// [`ErrorKind::InvalidEnv`], then the errors of [`from_config`](Self::from_config).
    pub async fn from_env() -> Result<Self, Error> {
        Self::from_config(Config::from_env()?).await
    }

    /// A facade for `config`: opens its token store and builds everything else.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for an unusable base URL, token store or data-source URL;
    /// [`ErrorKind::Auth`] when Redis cannot be reached.
    pub async fn from_config(config: Config) -> Result<Self, Error> {
        let storage = config.token_store.open().await?;
        let mut builder = Self::builder(config.integration, config.service_app).storage(storage);
        if let Some(base_url) = config.base_url {
            builder = builder.base_url(base_url);
        }
        if let Some(secret) = config.webhook_secret {
            builder = builder.webhook_secret(secret);
        }
        if let Some(url) = config.webhook_target_url {
            builder = builder.webhook_target_url(url);
        }
        if let Some(url) = config.datasource_url {
            builder = builder.datasource_url(url);
        }
        #[cfg(feature = "jws")]
        if let Some(region) = config.region {
            builder = builder.region(region);
        }
        builder.build()
    }

    /// Starts configuring a facade in code.
    pub fn builder(
        integration: IntegrationCredentials,
        service_app: ServiceAppCredentials,
    ) -> ByovaBuilder {
        ByovaBuilder {
            integration,
            service_app,
            client: None,
            base_url: None,
            storage: None,
            refresh: None,
            webhook_secret: None,
            webhook_target_url: None,
            datasource_url: None,
            #[cfg(feature = "jws")]
            jws: JwsOptions::default(),
        }
    }

    /// The shared REST client.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The token store.
    #[must_use]
    pub fn storage(&self) -> &Arc<dyn TokenStorage> {
        self.inner.integration.storage()
    }

    /// The developer's Integration: OAuth flow, stored tokens, refresh.
    #[must_use]
    pub fn integration(&self) -> &IntegrationAuth {
        &self.inner.integration
    }

    /// The Service App tokens of every registered org.
    #[must_use]
    pub fn service_app(&self) -> &ServiceAppAuth {
        &self.inner.service_app
    }

    /// Webhooks (`/webhooks`) with the Integration's bearer.
    #[must_use]
    pub fn webhooks(&self) -> Webhooks {
        self.inner.client.webhooks(self.inner.integration.clone())
    }

    /// The configured webhook target URL (`WEBEX_WEBHOOK_TARGET_URL`), if any.
    #[must_use]
    pub fn webhook_target_url(&self) -> Option<&str> {
        self.inner.webhook_target_url.as_deref()
    }

    /// The configured data-source URL (`WEBEX_DATASOURCE_URL`), if any.
    #[must_use]
    pub fn datasource_url(&self) -> Option<&str> {
        self.inner.datasource_url.as_deref()
    }

    /// The data sources and schemas of `org`, with its Service App tokens.
    ///
    /// # Errors
    /// [`ErrorKind::OrgNotRegistered`] when the token store has no tokens for `org` (handle its
    /// `authorized` webhook, or [`ServiceAppAuth::save_registration`], first); storage errors.
    pub async fn client_for_org(&self, org: &OrgId) -> Result<OrgClient, Error> {
        if self.inner.service_app.tokens(org).await?.is_none() {
            return Err(Error::new(ErrorKind::OrgNotRegistered {
                org_id: org.as_str().to_owned(),
            }));
        }
        Ok(self.inner.service_app.org_client(org))
    }

    /// Makes sure the Service App `authorized` and `deauthorized` webhooks exist for
    /// `target_url`, active and signed with the configured webhook secret (see
    /// [`ensure_service_app_webhooks`]).
    ///
    /// # Errors
    /// [`ErrorKind::NotConfigured`] without a webhook secret; Integration and API errors.
    pub async fn ensure_service_app_webhooks(
        &self,
        target_url: &str,
    ) -> Result<[EnsuredWebhook; 2], Error> {
        let Some(secret) = &self.inner.webhook_secret else {
            return Err(Error::new(ErrorKind::NotConfigured(
                "the webhook secret (WEBEX_WEBHOOK_SECRET)",
            )));
        };
        Ok(ensure_service_app_webhooks(&self.inner.integration, target_url, secret).await?)
    }

    /// Handles one Service App webhook delivery: `headers` and the **raw** request body as
    /// received.
    ///
    /// With a webhook secret configured, `X-Spark-Signature` must match the body; without one,
    /// signatures are not checked. Redeliveries of an event already handled are reported as
    /// [`WebhookOutcome::Duplicate`]. `authorized` mints and stores the org's tokens;
    /// `deauthorized` deletes them.
    ///
    /// Answer Webex with 2xx for `Ok`, and with 4xx when [`Error::auth_error`] says
    /// `is_signature()` or `is_webhook_payload()`.
    ///
    /// # Errors
    /// [`ErrorKind::Auth`]: signature and payload errors, then minting or storage errors.
    pub async fn handle_service_app_webhook(
        &self,
        headers: &http::HeaderMap,
        raw_body: &[u8],
    ) -> Result<WebhookOutcome, Error> {
        let handler = &self.inner.webhook_handler;
        let outcome = if self.inner.webhook_secret.is_some() {
            handler.handle(headers, raw_body).await?
        } else {
            handler.handle_unsigned(raw_body).await?
        };
        Ok(outcome)
    }

    /// Starts the [`DataSourceKeeper`] for `org`: registers or adopts the data source described
    /// by `config` and keeps its JWS fresh in the background.
    ///
    /// # Errors
    /// [`ErrorKind::OrgNotRegistered`]; the keeper's start errors.
    pub async fn keep_data_source(
        &self,
        org: &OrgId,
        config: KeeperConfig,
    ) -> Result<DataSourceKeeper, Error> {
        let org_client = self.client_for_org(org).await?;
        Ok(DataSourceKeeper::start(org_client, config).await?)
    }

    /// The JWS verifier for the configured data-source URL, if one is configured.
    #[cfg(feature = "jws")]
    #[must_use]
    pub fn verifier(&self) -> Option<&byova_jws::Verifier> {
        self.inner.verifier.as_ref()
    }

    /// Verifies the JWS Webex attached to a call (the `authorization` metadata) and returns its
    /// claims.
    ///
    /// # Errors
    /// [`ErrorKind::NotConfigured`] without a data-source URL; [`ErrorKind::Jws`] naming the
    /// check that failed.
    #[cfg(feature = "jws")]
    pub async fn verify_jws(&self, token: &str) -> Result<byova_jws::Claims, Error> {
        let verifier = self.inner.verifier.as_ref().ok_or_else(|| {
            Error::new(ErrorKind::NotConfigured(
                "the data-source URL (WEBEX_DATASOURCE_URL)",
            ))
        })?;
        Ok(verifier.verify(token).await?)
    }

    /// A media-server builder. With the `jws` feature and a configured data-source URL, calls
    /// are authenticated with the facade's JWS verifier; otherwise choose explicitly
    /// (`jws(...)` or `disable_authentication()`), or `build()` refuses.
    #[cfg(feature = "media")]
    pub fn media_server(&self) -> byova_media::MediaServerBuilder {
        let builder = byova_media::MediaServer::builder();
        #[cfg(feature = "jws")]
        if let Some(verifier) = &self.inner.verifier {
            return builder.jws(verifier.clone());
        }
        builder
    }
}

impl fmt::Debug for Byova {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        let mut debug = f.debug_struct("Byova");
        debug
            .field("client", &inner.client)
            .field("integration", &inner.integration)
            .field("service_app", &inner.service_app)
            .field("webhook_signatures", &inner.webhook_secret.is_some())
            .field("webhook_target_url", &inner.webhook_target_url)
            .field("datasource_url", &inner.datasource_url);
        #[cfg(feature = "jws")]
        debug.field("jws", &inner.verifier.is_some());
        debug.finish_non_exhaustive()
    }
}

#[cfg(feature = "jws")]
#[derive(Debug, Default)]
struct JwsOptions {
    verifier: Option<byova_jws::Verifier>,
    regions: Vec<byova_jws::Region>,
    issuers: Vec<String>,
    audience: Option<String>,
}

/// Configures a [`Byova`]; start with [`Byova::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct ByovaBuilder {
    integration: IntegrationCredentials,
    service_app: ServiceAppCredentials,
    client: Option<Client>,
    base_url: Option<String>,
    storage: Option<Arc<dyn TokenStorage>>,
    refresh: Option<RefreshSettings>,
    webhook_secret: Option<Secret>,
    webhook_target_url: Option<String>,
    datasource_url: Option<String>,
    #[cfg(feature = "jws")]
    jws: JwsOptions,
}

impl ByovaBuilder {
    /// The REST base URL (default `https://webexapis.com/v1`); the OAuth authorization URL is
    /// `{base_url}/authorize`. Ignored when [`client`](Self::client) is set.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// A REST client of your own (timeouts, retries, TLS roots); its base URL is used.
    pub fn client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Where tokens live (default: in memory). See [`TokenStore`](crate::TokenStore) to open
    /// one from its `WEBEX_TOKEN_STORE` form.
    pub fn storage(mut self, storage: Arc<dyn TokenStorage>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Refresh buffer and refresh-lock timing of the token managers.
    pub fn refresh_settings(mut self, settings: RefreshSettings) -> Self {
        self.refresh = Some(settings);
        self
    }

    /// The Service App webhook secret: deliveries must then carry a valid `X-Spark-Signature`,
    /// and [`Byova::ensure_service_app_webhooks`] creates hooks with it.
    pub fn webhook_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.webhook_secret = Some(secret.into());
        self
    }

    /// Where Webex posts Service App webhooks.
    pub fn webhook_target_url(mut self, url: impl Into<String>) -> Self {
        self.webhook_target_url = Some(url.into());
        self
    }

    /// The data-source URL registered with Webex; with the `jws` feature it configures
    /// `Byova::verify_jws` and the media server's authentication.
    pub fn datasource_url(mut self, url: impl Into<String>) -> Self {
        self.datasource_url = Some(url.into());
        self
    }

    /// Accepts only the identity brokers of `region` (repeat for several; default: every
    /// region).
    #[cfg(feature = "jws")]
    pub fn region(mut self, region: byova_jws::Region) -> Self {
        self.jws.regions.push(region);
        self
    }

    /// Also accepts JWS signed by `issuer` (a private cloud, a test server).
    #[cfg(feature = "jws")]
    pub fn jws_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.jws.issuers.push(issuer.into());
        self
    }

    /// Requires the JWS `aud` to be `audience` (the audience registered with the data source).
    #[cfg(feature = "jws")]
    pub fn jws_audience(mut self, audience: impl Into<String>) -> Self {
        self.jws.audience = Some(audience.into());
        self
    }

    /// A verifier of your own, instead of one built from the data-source URL.
    #[cfg(feature = "jws")]
    pub fn verifier(mut self, verifier: byova_jws::Verifier) -> Self {
        self.jws.verifier = Some(verifier);
        self
    }

    /// Builds the facade.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for an unusable base URL or data-source URL (or issuer).
    pub fn build(self) -> Result<Byova, Error> {
        let client = match self.client {
            Some(client) => client,
            None => {
                let mut builder = Client::builder();
                if let Some(base_url) = &self.base_url {
                    builder = builder.base_url(base_url.as_str());
                }
                builder
                    .build()
                    .map_err(|error| Error::with_source(ErrorKind::Config, error))?
            }
        };
        let mut authorize_url = client.base_url().clone();
        authorize_url
            .path_segments_mut()
            .map_err(|()| Error::config("the base URL cannot have a path"))?
            .pop_if_empty()
            .push("authorize");
        let storage = self
            .storage
            .unwrap_or_else(|| Arc::new(MemoryTokenStorage::new()));
        let mut integration = IntegrationAuth::builder(self.integration, client.clone())
            .storage(storage)
            .authorize_url(authorize_url);
        if let Some(settings) = self.refresh {
            integration = integration.settings(settings);
        }
        let integration = integration.build();
        let service_app = ServiceAppAuth::builder(self.service_app, integration.clone()).build();
        // Without a secret the handler's verifier is never used: only `handle_unsigned` is.
        let webhook_handler = ServiceAppWebhooks::new(
            service_app.clone(),
            self.webhook_secret.as_ref().map_or("", Secret::expose),
        );
        #[cfg(feature = "jws")]
        let verifier = match (self.jws.verifier, &self.datasource_url) {
            (Some(verifier), _) => Some(verifier),
            (None, Some(url)) => {
                let mut builder =
                    byova_jws::Verifier::builder(url.as_str()).http_client(client.clone());
                if !self.jws.regions.is_empty() {
                    builder = builder.regions(self.jws.regions);
                }
                for issuer in self.jws.issuers {
                    builder = builder.issuer(issuer);
                }
                if let Some(audience) = self.jws.audience {
                    builder = builder.audience(audience);
                }
                Some(builder.build()?)
            }
            (None, None) => None,
        };
        Ok(Byova {
            inner: Arc::new(Inner {
                client,
                integration,
                service_app,
                webhook_handler,
                webhook_secret: self.webhook_secret,
                webhook_target_url: self.webhook_target_url,
                datasource_url: self.datasource_url,
                #[cfg(feature = "jws")]
                verifier,
            }),
        })
    }
}

impl fmt::Debug for ByovaBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByovaBuilder")
            .field("integration", &self.integration)
            .field("service_app", &self.service_app)
            .field("base_url", &self.base_url)
            .field("storage", &self.storage)
            .field("webhook_secret", &self.webhook_secret)
            .field("webhook_target_url", &self.webhook_target_url)
            .field("datasource_url", &self.datasource_url)
            .finish_non_exhaustive()
    }
}
