//! [`Target`]: where a caller connects — `host:port` or `http(s)://host:port`, with TLS settings.

use std::fmt;
use std::time::Duration;

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use super::ClientError;

/// The port of a target given without one.
pub const DEFAULT_PORT: u16 = 50051;

/// How long connecting may take before it fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A media server to call: its address and whether (and how) to use TLS.
///
/// ```
/// use byova_media::client::Target;
///
/// let plain: Target = "127.0.0.1:50051".parse()?;
/// assert_eq!(plain.uri(), "http://127.0.0.1:50051");
/// assert!(!plain.is_tls());
///
/// let tls: Target = "https://va.example.com".parse()?;
/// assert_eq!(tls.uri(), "https://va.example.com:443");
/// assert!(tls.is_tls());
/// # Ok::<(), byova_media::client::ClientError>(())
/// ```
#[derive(Clone)]
pub struct Target {
    host: String,
    port: u16,
    tls: bool,
    ca_pem: Option<Vec<u8>>,
    domain: Option<String>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("uri", &self.uri())
            .field("custom_ca", &self.ca_pem.is_some())
            .field("domain", &self.domain)
            .finish()
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri())
    }
}

impl std::str::FromStr for Target {
    type Err = ClientError;

    /// Parses `host:port`, `host` (port 50051), `http://host[:port]` or `https://host[:port]`
    /// (`https` turns TLS on; its default port is 443). IPv6 hosts go in brackets.
    fn from_str(text: &str) -> Result<Self, ClientError> {
        let text = text.trim();
        let invalid = |why: &str| ClientError::InvalidTarget(format!("{text:?}: {why}"));
        let (tls, rest, default_port) = if let Some(rest) = text.strip_prefix("https://") {
            (true, rest, 443)
        } else if let Some(rest) = text.strip_prefix("http://") {
            (false, rest, 80)
        } else if text.contains("://") {
            return Err(invalid("the scheme must be http or https"));
        } else {
            (false, text, DEFAULT_PORT)
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() {
            return Err(invalid("no host"));
        }
        if rest.contains('/') {
            return Err(invalid("a gRPC target has no path"));
        }
        let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| invalid("unclosed '['"))?;
            let port = match after {
                "" => None,
                after => Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| invalid("expected ':' after ']'"))?,
                ),
            };
            (format!("[{host}]"), port)
        } else {
            match rest.rsplit_once(':') {
                Some((host, port)) => (host.to_owned(), Some(port)),
                None => (rest.to_owned(), None),
            }
        };
        if host.is_empty() || host == "[]" {
            return Err(invalid("no host"));
        }
        let port = match port {
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|&port| port != 0)
                .ok_or_else(|| invalid("the port must be 1-65535"))?,
            None => default_port,
        };
        Ok(Self {
            host,
            port,
            tls,
            ca_pem: None,
            domain: None,
        })
    }
}

impl Target {
    /// The URI channels connect to (`http://…` or `https://…`, with the port).
    #[must_use]
    pub fn uri(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}:{}", self.host, self.port)
    }

    /// Whether the connection uses TLS.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Turns TLS on (server certificates are checked against the Mozilla roots unless
    /// [`ca_pem`](Self::ca_pem) is given).
    #[must_use]
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Trusts the PEM certificate(s) in `pem` (instead of the Mozilla roots) and turns TLS on.
    #[must_use]
    pub fn ca_pem(mut self, pem: Vec<u8>) -> Self {
        self.ca_pem = Some(pem);
        self.tls = true;
        self
    }

    /// The name the server certificate must carry (default: the host).
    #[must_use]
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// The tonic endpoint for this target (HTTP/2, TCP_NODELAY, a 10 s connect timeout).
    ///
    /// # Errors
    /// [`ClientError::Connect`] when the URI or the TLS settings are unusable.
    pub fn endpoint(&self) -> Result<Endpoint, ClientError> {
        let mut endpoint = Endpoint::from_shared(self.uri())
            .map_err(ClientError::Connect)?
            .tcp_nodelay(true)
            .connect_timeout(CONNECT_TIMEOUT);
        if self.tls {
            install_crypto_provider();
            let mut tls = ClientTlsConfig::new();
            tls = match &self.ca_pem {
                Some(pem) => tls.ca_certificate(Certificate::from_pem(pem)),
                None => tls.with_webpki_roots(),
            };
            let domain = self
                .domain
                .clone()
                .unwrap_or_else(|| self.host.trim_matches(['[', ']']).to_owned());
            tls = tls.domain_name(domain);
            endpoint = endpoint.tls_config(tls).map_err(ClientError::Connect)?;
        }
        Ok(endpoint)
    }

    /// Opens one HTTP/2 connection.
    ///
    /// # Errors
    /// [`ClientError::Connect`] when nothing answers or the TLS handshake fails.
    pub async fn connect(&self) -> Result<Channel, ClientError> {
        self.endpoint()?
            .connect()
            .await
            .map_err(ClientError::Connect)
    }
}

/// Installs ring as the process's rustls provider when none is installed (TLS is rustls with
/// ring throughout this workspace).
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may win the race; either way a ring provider is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Target, ClientError> {
        text.parse()
    }

    #[test]
    fn addresses_and_urls() {
        assert_eq!(parse("127.0.0.1:7").unwrap().uri(), "http://127.0.0.1:7");
        assert_eq!(parse("localhost").unwrap().uri(), "http://localhost:50051");
        assert_eq!(parse("http://h:9/").unwrap().uri(), "http://h:9");
        assert_eq!(parse("http://h").unwrap().uri(), "http://h:80");
        assert_eq!(parse("https://h").unwrap().uri(), "https://h:443");
        assert_eq!(parse("[::1]:8").unwrap().uri(), "http://[::1]:8");
        assert_eq!(parse("https://[::1]").unwrap().uri(), "https://[::1]:443");
        assert!(parse("https://h:1").unwrap().is_tls());
        assert!(parse("h:1").unwrap().tls(true).is_tls());
        assert!(
            parse("h:1")
                .unwrap()
                .ca_pem(b"pem".to_vec())
                .uri()
                .starts_with("https://")
        );
    }

    #[test]
    fn bad_targets_say_why() {
        for (text, why) in [
            ("", "no host"),
            (":5", "no host"),
            ("grpc://h:1", "scheme"),
            ("h:0", "port"),
            ("h:99999", "port"),
            ("h:x", "port"),
            ("http://h:1/path", "no path"),
            ("[::1", "unclosed"),
            ("[::1]x", "':'"),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
    }
}
