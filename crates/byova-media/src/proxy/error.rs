//! The error of the WebSocket proxy connector.

use std::fmt;
use std::time::Duration;

/// Why the proxy could not talk to the backend.
///
/// Agent callbacks return it (as an [`AgentError`](crate::AgentError)), so the call fails the way
/// every agent failure does: the configured apology, then end or transfer. The message never
/// contains the backend URL (it may carry credentials).
#[derive(Debug)]
pub struct ProxyError {
    kind: ProxyErrorKind,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The reason of a [`ProxyError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyErrorKind {
    /// The URL is not a `ws://` or `wss://` URL.
    InvalidUrl,
    /// Connecting failed (after all reconnection attempts).
    Connect,
    /// The backend sent no reply within the response timeout.
    ResponseTimeout,
    /// The connection closed while a reply was awaited.
    Closed,
}

impl ProxyError {
    fn new(kind: ProxyErrorKind) -> Self {
        Self { kind, source: None }
    }

    pub(super) fn invalid_url() -> Self {
        Self::new(ProxyErrorKind::InvalidUrl)
    }

    pub(super) fn connect(source: tokio_tungstenite::tungstenite::Error) -> Self {
        Self {
            kind: ProxyErrorKind::Connect,
            source: Some(Box::new(source)),
        }
    }

    pub(super) fn connect_timeout() -> Self {
        Self {
            kind: ProxyErrorKind::Connect,
            source: Some("connect timeout".into()),
        }
    }

    pub(super) fn response_timeout(after: Duration) -> Self {
        Self {
            kind: ProxyErrorKind::ResponseTimeout,
            source: Some(format!("no reply within {after:?}").into()),
        }
    }

    pub(super) fn closed() -> Self {
        Self::new(ProxyErrorKind::Closed)
    }

    /// The reason.
    #[must_use]
    pub fn kind(&self) -> ProxyErrorKind {
        self.kind
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            ProxyErrorKind::InvalidUrl => "the proxy backend URL is not a ws:// or wss:// URL",
            ProxyErrorKind::Connect => "cannot connect to the proxy backend",
            ProxyErrorKind::ResponseTimeout => "the proxy backend did not reply in time",
            ProxyErrorKind::Closed => "the proxy backend connection closed",
        })
    }
}

impl std::error::Error for ProxyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|err| err as &(dyn std::error::Error + 'static))
    }
}
