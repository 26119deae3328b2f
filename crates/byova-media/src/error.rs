//! The error of building and running a media server.

use std::fmt;

/// Why a media server could not be configured, started or run.
///
/// Look at [`kind`](Self::kind); the message names the setting or address involved and never
/// holds secrets (keys, tokens).
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The category of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A setting is invalid or missing (including environment variables).
    Config,
    /// A listening socket could not be bound.
    Bind,
    /// TLS material could not be read or used.
    Tls,
    /// The gRPC server failed while running.
    Serve,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// The category.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether a setting is invalid or missing.
    #[must_use]
    pub fn is_config(&self) -> bool {
        self.kind == ErrorKind::Config
    }

    /// Whether a socket could not be bound.
    #[must_use]
    pub fn is_bind(&self) -> bool {
        self.kind == ErrorKind::Bind
    }

    /// Whether TLS material could not be read or used.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        self.kind == ErrorKind::Tls
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_message_and_source() {
        let err = Error::new(ErrorKind::Bind, "cannot bind 127.0.0.1:1")
            .with_source(std::io::Error::from(std::io::ErrorKind::AddrInUse));
        assert!(err.is_bind());
        assert!(!err.is_config());
        assert_eq!(err.to_string(), "cannot bind 127.0.0.1:1");
        assert!(std::error::Error::source(&err).is_some());
        assert!(Error::config("x").is_config());
        assert!(Error::new(ErrorKind::Tls, "t").is_tls());
    }
}
