//! [`Client`] and [`ClientBuilder`]: the pooled HTTPS client every request goes through.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method};
use http_body_util::Full;
use hyper_rustls::{ConfigBuilderExt as _, HttpsConnector};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use url::Url;

use crate::error::Error;
use crate::pagination::ListRequest;
use crate::request::RequestBuilder;
use crate::resources::{Applications, DataSources, OAuth, Schemas, Webhooks};
use crate::retry::RetryPolicy;
use crate::token_source::TokenSource;

/// The production Webex REST base URL.
pub const DEFAULT_BASE_URL: &str = "https://webexapis.com/v1";

/// The `User-Agent` every request sends.
pub const USER_AGENT: &str = concat!("byova-rs/", env!("CARGO_PKG_VERSION"));

pub(crate) type Transport = HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A Webex REST client: pooled HTTP/1.1 and HTTP/2 connections over rustls (ring), a base URL, a
/// per-request timeout and a [`RetryPolicy`]. Cheap to clone; clones share the pool.
///
/// Every request carries `User-Agent: byova-rs/<version>` and a fresh `TrackingID`
/// (`byova-rs_<uuid>_<attempt>`), recorded in a `webex_request` tracing span.
///
/// ```no_run
/// # async fn run() -> Result<(), byova_api::Error> {
/// use byova_api::{Client, StaticToken};
///
/// let client = Client::new()?;
/// let data_sources = client.data_sources(StaticToken::new("service-app-access-token"));
/// for ds in data_sources.list().await? {
///     println!("{} {:?}", ds.id, ds.status);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) transport: Transport,
    pub(crate) base_url: Url,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    pub(crate) user_agent: HeaderValue,
    pub(crate) allow_http: bool,
    pub(crate) max_response_bytes: usize,
}

impl Client {
    /// A client with the defaults of [`ClientBuilder`].
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// The base URL relative paths are resolved against.
    #[must_use]
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The default retry policy.
    #[must_use]
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// A raw request. `target` is a path relative to the base URL (`/dataSources/`) or an
    /// absolute `http(s)://` URL. See [`RequestBuilder`].
    pub fn request(&self, method: Method, target: impl Into<String>) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, target.into())
    }

    /// A raw `GET`.
    pub fn get(&self, target: impl Into<String>) -> RequestBuilder {
        self.request(Method::GET, target)
    }

    /// A raw `POST`.
    pub fn post(&self, target: impl Into<String>) -> RequestBuilder {
        self.request(Method::POST, target)
    }

    /// A raw `PUT`.
    pub fn put(&self, target: impl Into<String>) -> RequestBuilder {
        self.request(Method::PUT, target)
    }

    /// A raw `DELETE`.
    pub fn delete(&self, target: impl Into<String>) -> RequestBuilder {
        self.request(Method::DELETE, target)
    }

    /// A paginated `GET` of a `{"items": [...]}` list that follows `Link: rel="next"`.
    pub fn list<T>(&self, target: impl Into<String>) -> ListRequest<T> {
        ListRequest::new(self.clone(), target.into(), None)
    }

    /// Data sources (`/dataSources`), with a Service App bearer for the org.
    pub fn data_sources(&self, auth: impl TokenSource + 'static) -> DataSources {
        DataSources::new(self.clone(), Arc::new(auth))
    }

    /// Data-source schemas (`/dataSources/schemas`).
    pub fn schemas(&self, auth: impl TokenSource + 'static) -> Schemas {
        Schemas::new(self.clone(), Arc::new(auth))
    }

    /// Webhooks (`/webhooks`), with the Integration bearer.
    pub fn webhooks(&self, auth: impl TokenSource + 'static) -> Webhooks {
        Webhooks::new(self.clone(), Arc::new(auth))
    }

    /// Applications (`/applications/{id}/token`), with the Integration bearer.
    pub fn applications(&self, auth: impl TokenSource + 'static) -> Applications {
        Applications::new(self.clone(), Arc::new(auth))
    }

    /// The OAuth token endpoint (`/access_token`); no bearer.
    #[must_use]
    pub fn oauth(&self) -> OAuth {
        OAuth::new(self.clone())
    }

    /// Resolves a request target to a URL and checks that it may be sent (scheme, origin).
    pub(crate) fn resolve(&self, target: &str, with_bearer: bool) -> Result<Url, Error> {
        let inner = &self.inner;
        let url = if target.starts_with("http://") || target.starts_with("https://") {
            Url::parse(target).map_err(|e| Error::invalid_request(format!("invalid URL: {e}")))?
        } else {
            let base = inner.base_url.as_str().trim_end_matches('/');
            let sep = if target.starts_with('/') { "" } else { "/" };
            Url::parse(&format!("{base}{sep}{target}"))
                .map_err(|e| Error::invalid_request(format!("invalid path: {e}")))?
        };
        if url.scheme() == "http" && !inner.allow_http && !is_loopback(&url) {
            return Err(Error::invalid_request(
                "plain http is only allowed to loopback hosts (see ClientBuilder::allow_http)",
            ));
        }
        if with_bearer && url.origin() != inner.base_url.origin() {
            return Err(Error::invalid_request(
                "refusing to send the bearer token to a host other than the base URL's",
            ));
        }
        Ok(url)
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url.as_str())
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`].
///
/// ```
/// use std::time::Duration;
/// use byova_api::{Client, RetryPolicy};
///
/// let client = Client::builder()
///     .base_url("https://webexapis.com/v1")
///     .timeout(Some(Duration::from_secs(10)))
///     .retry_policy(RetryPolicy::default().max_attempts(3))
///     .build()
///     .unwrap();
/// assert_eq!(client.base_url().as_str(), "https://webexapis.com/v1");
/// ```
#[must_use = "has no effect unless built into a Client"]
pub struct ClientBuilder {
    base_url: String,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    retry: RetryPolicy,
    user_agent_suffix: Option<String>,
    tls: Option<rustls::ClientConfig>,
    allow_http: bool,
    max_response_bytes: usize,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientBuilder {
    /// Defaults: base URL [`DEFAULT_BASE_URL`], 30 s per-request timeout, 10 s connect timeout,
    /// idle connections kept 90 s (up to 16 per host), [`RetryPolicy::default`], Mozilla's root
    /// certificates, responses up to 16 MiB.
    pub fn new() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Some(Duration::from_secs(30)),
            connect_timeout: Some(Duration::from_secs(10)),
            pool_idle_timeout: Some(Duration::from_secs(90)),
            pool_max_idle_per_host: 16,
            retry: RetryPolicy::default(),
            user_agent_suffix: None,
            tls: None,
            allow_http: false,
            max_response_bytes: 16 * 1024 * 1024,
        }
    }

    /// The base URL, e.g. `https://webexapis.com/v1` or a test server's URL.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Per-attempt timeout covering the request and reading the whole response; `None` for none.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Timeout for establishing a connection; `None` for none.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long idle pooled connections are kept; `None` keeps them until the server closes them.
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// Most idle connections kept per host.
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// The default retry policy (requests can override it).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Appends a product token to the `User-Agent`, e.g. `my-app/1.2`.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// A custom rustls configuration (e.g. extra roots). Build it with
    /// `ClientConfig::builder_with_provider` so that no process-wide provider is needed.
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// Allows plain `http://` to non-loopback hosts (e.g. behind a local proxy). Loopback hosts
    /// are always allowed.
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Largest response body read (default 16 MiB); larger ones fail with a decode error.
    pub fn max_response_bytes(mut self, max: usize) -> Self {
        self.max_response_bytes = max;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let base_url = Url::parse(self.base_url.trim_end_matches('/'))
            .map_err(|e| Error::invalid_request(format!("invalid base URL: {e}")))?;
        if base_url.cannot_be_a_base() || !matches!(base_url.scheme(), "http" | "https") {
            return Err(Error::invalid_request(
                "the base URL must be an http(s) URL",
            ));
        }
        let tls = match self.tls {
            Some(tls) => tls,
            None => rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::invalid_request("TLS configuration failed").with_source(e))?
            .with_webpki_roots()
            .with_no_client_auth(),
        };
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(self.connect_timeout);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let mut transport = HyperClient::builder(TokioExecutor::new());
        transport
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host);
        if self.pool_idle_timeout.is_some() {
            transport.pool_timer(TokioTimer::new());
        }
        let transport = transport.build(connector);
        let user_agent = match &self.user_agent_suffix {
            Some(suffix) => HeaderValue::try_from(format!("{USER_AGENT} {suffix}"))
                .map_err(|_| Error::invalid_request("invalid User-Agent suffix"))?,
            None => HeaderValue::from_static(USER_AGENT),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                base_url,
                timeout: self.timeout,
                retry: self.retry,
                user_agent,
                allow_http: self.allow_http,
                max_response_bytes: self.max_response_bytes,
            }),
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("retry", &self.retry)
            .field("allow_http", &self.allow_http)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> Client {
        Client::builder().base_url(base).build().unwrap()
    }

    #[test]
    fn paths_join_the_base_url() {
        let c = client("https://webexapis.com/v1/");
        assert_eq!(
            c.resolve("/dataSources/", true).unwrap().as_str(),
            "https://webexapis.com/v1/dataSources/"
        );
        assert_eq!(
            c.resolve("webhooks", true).unwrap().as_str(),
            "https://webexapis.com/v1/webhooks"
        );
        assert_eq!(
            c.resolve("https://webexapis.com/v1/webhooks?cursor=x", true)
                .unwrap()
                .as_str(),
            "https://webexapis.com/v1/webhooks?cursor=x"
        );
    }

    #[test]
    fn bearer_stays_on_the_base_origin() {
        let c = client("https://webexapis.com/v1");
        let err = c.resolve("https://evil.example/steal", true).unwrap_err();
        assert!(err.is_invalid_request());
        assert_eq!(
            err.to_string(),
            "invalid request: refusing to send the bearer token to a host other than the base URL's"
        );
        assert_eq!(
            c.resolve("https://idbroker.webex.com/keys", false)
                .unwrap()
                .as_str(),
            "https://idbroker.webex.com/keys"
        );
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let c = client("https://webexapis.com/v1");
        let err = c.resolve("http://example.com/x", false).unwrap_err();
        assert!(err.is_invalid_request());
        assert_eq!(
            err.to_string(),
            "invalid request: plain http is only allowed to loopback hosts (see ClientBuilder::allow_http)"
        );
        for loopback in [
            "http://127.0.0.1:8080/x",
            "http://[::1]:8080/x",
            "http://localhost:8080/x",
        ] {
            assert_eq!(c.resolve(loopback, false).unwrap().as_str(), loopback);
        }
    }

    #[test]
    fn bad_base_urls_are_rejected() {
        assert!(
            Client::builder()
                .base_url("not a url")
                .build()
                .unwrap_err()
                .is_invalid_request()
        );
        let err = Client::builder()
            .base_url("mailto:x@y")
            .build()
            .unwrap_err();
        assert!(err.is_invalid_request());
        assert_eq!(
            err.to_string(),
            "invalid request: the base URL must be an http(s) URL"
        );
    }
}
