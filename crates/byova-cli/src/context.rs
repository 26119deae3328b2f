//! [`Context`]: the global options turned into what commands need — a REST client, the facade,
//! and the bearer each resource is called with.

use std::sync::Arc;
use std::time::Duration;

use byova::api::{Client, DataSources, Schemas, StaticToken, Webhooks};
use byova::auth::IntegrationAuth;
use byova::auth::storage::{MemoryTokenStorage, TokenStorage as _};
use byova::models::{IntegrationCredentials, OAuthTokens, OrgId};
use byova::{Byova, Config, TokenStore};
use time::OffsetDateTime;

use crate::cli::GlobalArgs;
use crate::exit::CliError;
use crate::output::Output;

/// How long a `--token` bearer is taken to be valid: it is used as is, never refreshed.
const STATIC_TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// The global options, and the clients built from them on demand.
#[derive(Debug)]
pub struct Context {
    global: GlobalArgs,
}

impl Context {
    /// A context for these options.
    pub fn new(global: GlobalArgs) -> Self {
        Self { global }
    }

    /// How to print.
    pub fn output(&self) -> Output {
        Output {
            json: self.global.json,
            show_secrets: self.global.show_secrets,
        }
    }

    /// The bearer given with `--token` (or `WEBEX_ACCESS_TOKEN`), if any.
    pub fn static_token(&self) -> Option<&str> {
        self.global
            .token
            .as_deref()
            .map(str::trim)
            .filter(|token| !token.is_empty())
    }

    /// A REST client for `--base-url`.
    pub fn client(&self) -> Result<Client, CliError> {
        let mut builder = Client::builder();
        if let Some(base_url) = &self.global.base_url {
            builder = builder.base_url(base_url.as_str());
        }
        Ok(builder.build()?)
    }

    /// The token store: `--token-store`, else the default file.
    pub fn token_store(&self) -> Result<TokenStore, CliError> {
        self.global
            .token_store
            .clone()
            .or_else(TokenStore::default_file)
            .ok_or_else(|| {
                CliError::usage(
                    "no token store: set --token-store or WEBEX_TOKEN_STORE (neither \
                     XDG_CONFIG_HOME nor HOME is set for the default file)",
                )
            })
    }

    /// The facade over the token store, with the credentials of the `WEBEX_*` variables.
    pub async fn facade(&self) -> Result<Byova, CliError> {
        let mut config = Config::from_env()?;
        config.base_url.clone_from(&self.global.base_url);
        config.token_store = self.token_store()?;
        Ok(Byova::from_config(config).await?)
    }

    /// `--org`, required by the commands that use the org's Service App token.
    pub fn org(&self) -> Result<&OrgId, CliError> {
        self.global.org.as_ref().ok_or_else(|| {
            CliError::usage(
                "this command uses the Service App token of an org: pass --org ORG (or set \
                 WEBEX_ORG_ID), or give a bearer with --token",
            )
        })
    }

    /// Data sources with `--token`, else with the Service App token of `--org`.
    pub async fn data_sources(&self) -> Result<DataSources, CliError> {
        if let Some(token) = self.static_token() {
            return Ok(self.client()?.data_sources(StaticToken::new(token)));
        }
        let org = self.org()?;
        let byova = self.facade().await?;
        Ok(byova.client_for_org(org).await?.data_sources().clone())
    }

    /// Schemas with `--token`, else with the Service App token of `--org`.
    pub async fn schemas(&self) -> Result<Schemas, CliError> {
        if let Some(token) = self.static_token() {
            return Ok(self.client()?.schemas(StaticToken::new(token)));
        }
        let org = self.org()?;
        let byova = self.facade().await?;
        Ok(byova.client_for_org(org).await?.schemas().clone())
    }

    /// Webhooks with `--token`, else with the Integration's token.
    pub async fn webhooks(&self) -> Result<Webhooks, CliError> {
        if let Some(token) = self.static_token() {
            return Ok(self.client()?.webhooks(StaticToken::new(token)));
        }
        Ok(self.facade().await?.webhooks())
    }

    /// The Integration: from the token store, or one that only ever serves the `--token`
    /// bearer (it holds no refresh token, so it never refreshes and never sends credentials).
    pub async fn integration(&self) -> Result<IntegrationAuth, CliError> {
        let Some(token) = self.static_token() else {
            return Ok(self.facade().await?.integration().clone());
        };
        let storage = Arc::new(MemoryTokenStorage::new());
        storage
            .set_integration_tokens(&OAuthTokens::new(
                token,
                STATIC_TOKEN_LIFETIME.as_secs(),
                OffsetDateTime::now_utc(),
            ))
            .await?;
        Ok(IntegrationAuth::builder(
            IntegrationCredentials::new("byova-cli-static-token", ""),
            self.client()?,
        )
        .storage(storage)
        .build())
    }
}
