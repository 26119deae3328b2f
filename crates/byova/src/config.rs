//! [`Config`]: what the facade needs, from code or from `WEBEX_*` environment variables.

use byova_models::{IntegrationCredentials, Secret, ServiceAppCredentials};

use crate::error::{Error, ErrorKind};
use crate::token_store::TokenStore;

/// The Integration's client id (required).
pub const WEBEX_INTEGRATION_CLIENT_ID: &str = "WEBEX_INTEGRATION_CLIENT_ID";
/// The Integration's client secret (required).
pub const WEBEX_INTEGRATION_CLIENT_SECRET: &str = "WEBEX_INTEGRATION_CLIENT_SECRET";
/// The Integration's OAuth redirect URI (default `http://127.0.0.1:8765/callback`).
pub const WEBEX_INTEGRATION_REDIRECT_URI: &str = "WEBEX_INTEGRATION_REDIRECT_URI";
/// The Service App's client id (required).
pub const WEBEX_SA_CLIENT_ID: &str = "WEBEX_SA_CLIENT_ID";
/// The Service App's client secret (required).
pub const WEBEX_SA_CLIENT_SECRET: &str = "WEBEX_SA_CLIENT_SECRET";
/// The REST base URL (default `https://webexapis.com/v1`).
pub const WEBEX_BASE_URL: &str = "WEBEX_BASE_URL";
/// The Webex region whose identity brokers may sign the JWS: `us`, `eu`, `ca` or
/// `integration` (default: all).
pub const WEBEX_REGION: &str = "WEBEX_REGION";
/// Where tokens live: `memory` (default), `file:PATH` or `redis://…`.
pub const WEBEX_TOKEN_STORE: &str = "WEBEX_TOKEN_STORE";
/// The secret Service App webhooks are created with; deliveries must then carry a valid
/// `X-Spark-Signature`.
pub const WEBEX_WEBHOOK_SECRET: &str = "WEBEX_WEBHOOK_SECRET";
/// The public URL Webex posts Service App webhooks to.
pub const WEBEX_WEBHOOK_TARGET_URL: &str = "WEBEX_WEBHOOK_TARGET_URL";
/// The data-source URL registered with Webex, which every JWS must name.
pub const WEBEX_DATASOURCE_URL: &str = "WEBEX_DATASOURCE_URL";
/// Read when [`WEBEX_DATASOURCE_URL`] is unset: the media server's name for the same URL.
pub const WEBEX_MEDIA_DATASOURCE_URL: &str = "WEBEX_MEDIA_DATASOURCE_URL";

/// The settings of a [`Byova`](crate::Byova): credentials, endpoints, token store, webhook and
/// data-source settings.
///
/// Build it in code with [`Config::new`], or read it with [`Config::from_env`]:
///
/// | variable | required | default |
/// |---|---|---|
/// | `WEBEX_INTEGRATION_CLIENT_ID` | yes | — |
/// | `WEBEX_INTEGRATION_CLIENT_SECRET` | yes | — |
/// | `WEBEX_SA_CLIENT_ID` | yes | — |
/// | `WEBEX_SA_CLIENT_SECRET` | yes | — |
/// | `WEBEX_INTEGRATION_REDIRECT_URI` | no | `http://127.0.0.1:8765/callback` |
/// | `WEBEX_BASE_URL` | no | `https://webexapis.com/v1` |
/// | `WEBEX_REGION` | no | every region (`us`, `eu`, `ca`, `integration`; with `jws`) |
/// | `WEBEX_TOKEN_STORE` | no | `memory` (`file:PATH`, `redis://…`) |
/// | `WEBEX_WEBHOOK_SECRET` | no | unset: webhook signatures are not checked |
/// | `WEBEX_WEBHOOK_TARGET_URL` | no | unset |
/// | `WEBEX_DATASOURCE_URL` (else `WEBEX_MEDIA_DATASOURCE_URL`) | no | unset: no JWS verification |
///
/// An empty value counts as unset. One error lists every missing required variable.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The developer's Integration.
    pub integration: IntegrationCredentials,
    /// The Service App customer orgs authorize.
    pub service_app: ServiceAppCredentials,
    /// The REST base URL; `None` for `https://webexapis.com/v1`.
    pub base_url: Option<String>,
    /// Where tokens live.
    pub token_store: TokenStore,
    /// The Service App webhook secret; deliveries are verified when set.
    pub webhook_secret: Option<Secret>,
    /// Where Webex posts Service App webhooks.
    pub webhook_target_url: Option<String>,
    /// The data-source URL registered with Webex; needed to verify the JWS.
    pub datasource_url: Option<String>,
    /// The region whose identity brokers may sign the JWS; `None` for every region.
    #[cfg(feature = "jws")]
    pub region: Option<byova_jws::Region>,
}

impl Config {
    /// Credentials only; everything else at its default.
    pub fn new(integration: IntegrationCredentials, service_app: ServiceAppCredentials) -> Self {
        Self {
            integration,
            service_app,
            base_url: None,
            token_store: TokenStore::Memory,
            webhook_secret: None,
            webhook_target_url: None,
            datasource_url: None,
            #[cfg(feature = "jws")]
            region: None,
        }
    }

    /// Reads the process environment (see the table above).
    ///
    /// # Errors
    /// [`ErrorKind::MissingEnv`] naming every missing required variable;
    /// [`ErrorKind::InvalidEnv`] naming the first variable with an unusable value.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading variables through `lookup` (tests, or another
    /// configuration source).
    ///
    /// ```
    /// use std::collections::HashMap;
    ///
    /// use byova::{Config, ErrorKind};
    ///
    /// let env = HashMap::from([
    ///     ("WEBEX_INTEGRATION_CLIENT_ID", "integration-id"),
    ///     ("WEBEX_SA_CLIENT_SECRET", ""),
    /// ]);
    /// let error = Config::from_lookup(|name| env.get(name).map(|v| v.to_string())).unwrap_err();
    /// assert_eq!(
    ///     error.kind(),
    ///     &ErrorKind::MissingEnv(vec![
    ///         "WEBEX_INTEGRATION_CLIENT_SECRET",
    ///         "WEBEX_SA_CLIENT_ID",
    ///         "WEBEX_SA_CLIENT_SECRET",
    ///     ]),
    /// );
    /// ```
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let mut missing = Vec::new();
        let mut required = |name: &'static str| {
            let value = get(name);
            if value.is_none() {
                missing.push(name);
            }
            value.unwrap_or_default()
        };
        let integration_id = required(WEBEX_INTEGRATION_CLIENT_ID);
        let integration_secret = required(WEBEX_INTEGRATION_CLIENT_SECRET);
        let sa_id = required(WEBEX_SA_CLIENT_ID);
        let sa_secret = required(WEBEX_SA_CLIENT_SECRET);
        if !missing.is_empty() {
            return Err(Error::new(ErrorKind::MissingEnv(missing)));
        }

        let mut integration =
            IntegrationCredentials::new(integration_id.trim(), integration_secret);
        if let Some(redirect_uri) = get(WEBEX_INTEGRATION_REDIRECT_URI) {
            integration = integration.with_redirect_uri(redirect_uri.trim());
        }
        let mut config = Self::new(
            integration,
            ServiceAppCredentials::new(sa_id.trim(), sa_secret),
        );

        if let Some(base_url) = get(WEBEX_BASE_URL) {
            let base_url = base_url.trim();
            if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
                return Err(Error::with_message(
                    ErrorKind::InvalidEnv(WEBEX_BASE_URL),
                    "expected an http(s) URL such as https://webexapis.com/v1",
                ));
            }
            config.base_url = Some(base_url.to_owned());
        }
        if let Some(store) = get(WEBEX_TOKEN_STORE) {
            config.token_store = store.parse().map_err(|error: Error| {
                Error::with_message(
                    ErrorKind::InvalidEnv(WEBEX_TOKEN_STORE),
                    error.message().unwrap_or_default().to_owned(),
                )
            })?;
        }
        config.webhook_secret = get(WEBEX_WEBHOOK_SECRET).map(Secret::from);
        config.webhook_target_url = get(WEBEX_WEBHOOK_TARGET_URL).map(|url| url.trim().to_owned());
        config.datasource_url = get(WEBEX_DATASOURCE_URL)
            .or_else(|| get(WEBEX_MEDIA_DATASOURCE_URL))
            .map(|url| url.trim().to_owned());
        #[cfg(feature = "jws")]
        if let Some(region) = get(WEBEX_REGION) {
            config.region = Some(region.parse().map_err(
                |error: byova_jws::ParseRegionError| {
                    Error::with_message(ErrorKind::InvalidEnv(WEBEX_REGION), error.to_string())
                },
            )?);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::PathBuf;

    use super::*;

    const REQUIRED: [(&str, &str); 4] = [
        (WEBEX_INTEGRATION_CLIENT_ID, "integration-id"),
        (WEBEX_INTEGRATION_CLIENT_SECRET, "integration-secret"),
        (WEBEX_SA_CLIENT_ID, "sa-id"),
        (WEBEX_SA_CLIENT_SECRET, "sa-secret"),
    ];

    fn config(vars: &[(&str, &str)]) -> Result<Config, Error> {
        let env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| env.get(name).cloned())
    }

    fn with_required(extra: &[(&'static str, &'static str)]) -> Result<Config, Error> {
        let mut vars = REQUIRED.to_vec();
        vars.extend_from_slice(extra);
        config(&vars)
    }

    #[test]
    fn every_missing_variable_is_named_in_order() {
        let error = config(&[]).expect_err("nothing set");
        assert_eq!(
            error.kind(),
            &ErrorKind::MissingEnv(vec![
                WEBEX_INTEGRATION_CLIENT_ID,
                WEBEX_INTEGRATION_CLIENT_SECRET,
                WEBEX_SA_CLIENT_ID,
                WEBEX_SA_CLIENT_SECRET,
            ])
        );
        assert_eq!(
            error.to_string(),
            "missing environment variables: WEBEX_INTEGRATION_CLIENT_ID, \
             WEBEX_INTEGRATION_CLIENT_SECRET, WEBEX_SA_CLIENT_ID, WEBEX_SA_CLIENT_SECRET"
        );
        assert!(error.is_config());
    }

    #[test]
    fn empty_and_blank_values_count_as_missing() {
        let error = config(&[
            (WEBEX_INTEGRATION_CLIENT_ID, "id"),
            (WEBEX_INTEGRATION_CLIENT_SECRET, ""),
            (WEBEX_SA_CLIENT_ID, "  "),
            (WEBEX_SA_CLIENT_SECRET, "s"),
        ])
        .expect_err("blanks");
        assert_eq!(
            error.kind(),
            &ErrorKind::MissingEnv(vec![WEBEX_INTEGRATION_CLIENT_SECRET, WEBEX_SA_CLIENT_ID])
        );
    }

    #[test]
    fn defaults_when_only_credentials_are_set() {
        let config = with_required(&[]).expect("config");
        assert_eq!(config.integration.client_id, "integration-id");
        assert_eq!(
            config.integration.client_secret.expose(),
            "integration-secret"
        );
        assert_eq!(
            config.integration.redirect_uri,
            byova_models::DEFAULT_REDIRECT_URI
        );
        assert_eq!(config.service_app.client_id, "sa-id");
        assert_eq!(config.service_app.client_secret.expose(), "sa-secret");
        assert_eq!(config.base_url, None);
        assert_eq!(config.token_store, TokenStore::Memory);
        assert_eq!(config.webhook_secret, None);
        assert_eq!(config.webhook_target_url, None);
        assert_eq!(config.datasource_url, None);
        assert_eq!(config.region, None);
    }

    #[test]
    fn every_optional_variable_is_read() {
        let config = with_required(&[
            (WEBEX_INTEGRATION_REDIRECT_URI, "http://127.0.0.1:9999/cb"),
            (WEBEX_BASE_URL, " https://integration.webexapis.com/v1 "),
            (WEBEX_REGION, "EU"),
            (WEBEX_TOKEN_STORE, "file:/var/lib/byova/tokens.json"),
            (WEBEX_WEBHOOK_SECRET, "hmac-secret"),
            (WEBEX_WEBHOOK_TARGET_URL, "https://hooks.example.com/webex"),
            (WEBEX_DATASOURCE_URL, "https://va.example.com/byova"),
            (WEBEX_MEDIA_DATASOURCE_URL, "https://ignored.example.com"),
        ])
        .expect("config");
        assert_eq!(config.integration.redirect_uri, "http://127.0.0.1:9999/cb");
        assert_eq!(
            config.base_url.as_deref(),
            Some("https://integration.webexapis.com/v1")
        );
        assert_eq!(config.region, Some(byova_jws::Region::Eu));
        assert_eq!(
            config.token_store,
            TokenStore::File(PathBuf::from("/var/lib/byova/tokens.json"))
        );
        assert_eq!(
            config.webhook_secret.as_ref().map(Secret::expose),
            Some("hmac-secret")
        );
        assert_eq!(
            config.webhook_target_url.as_deref(),
            Some("https://hooks.example.com/webex")
        );
        assert_eq!(
            config.datasource_url.as_deref(),
            Some("https://va.example.com/byova")
        );
        let debug = format!("{config:?}");
        for secret in ["integration-secret", "sa-secret", "hmac-secret"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }

    #[test]
    fn the_media_server_variable_is_the_datasource_fallback() {
        let config = with_required(&[(WEBEX_MEDIA_DATASOURCE_URL, "https://va.example.com/m")])
            .expect("config");
        assert_eq!(
            config.datasource_url.as_deref(),
            Some("https://va.example.com/m")
        );
    }

    #[test]
    fn redis_stores_are_accepted() {
        let config =
            with_required(&[(WEBEX_TOKEN_STORE, "redis://:pw@cache:6379/1")]).expect("config");
        assert_eq!(
            config.token_store,
            TokenStore::Redis("redis://:pw@cache:6379/1".to_owned())
        );
        assert!(!format!("{config:?}").contains("pw@"));
    }

    #[test]
    fn unusable_values_name_their_variable() {
        for (name, value) in [
            (WEBEX_TOKEN_STORE, "sqlite:tokens.db"),
            (WEBEX_REGION, "mars"),
            (WEBEX_BASE_URL, "webexapis.com/v1"),
        ] {
            let error = with_required(&[(name, value)]).expect_err(name);
            assert_eq!(error.kind(), &ErrorKind::InvalidEnv(name), "{error}");
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("invalid value of {name}: "))
            );
            assert!(error.is_config());
        }
    }
}
