//! The facade's [`Error`]: configuration problems of its own, and the errors of the sub-crates it
//! drives, with their Webex tracking id.

use std::error::Error as StdError;
use std::fmt;

/// What went wrong in the [`Byova`](crate::Byova) facade or its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Required environment variables are unset or empty; every missing name is listed.
    MissingEnv(Vec<&'static str>),
    /// An environment variable has a value that cannot be used.
    InvalidEnv(&'static str),
    /// A configuration value is invalid (token store, base URL, data-source URL, ...).
    Config,
    /// An optional setting the call needs is not configured (for example the data-source URL
    /// for `Byova::verify_jws`); the payload names it.
    NotConfigured(&'static str),
    /// The org has no Service App registration in the token store.
    OrgNotRegistered {
        /// The org id (a UUID).
        org_id: String,
    },
    /// A Webex REST call failed ([`Error::api_error`]).
    Api,
    /// Tokens, storage, webhooks or the keeper failed ([`Error::auth_error`]).
    Auth,
    /// JWS verification failed (`Error::jws_error`).
    Jws,
    /// The media server failed.
    Media,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingEnv(names) => {
                write!(f, "missing environment variables: {}", names.join(", "))
            }
            Self::InvalidEnv(name) => write!(f, "invalid value of {name}"),
            Self::Config => f.write_str("invalid configuration"),
            Self::NotConfigured(what) => write!(f, "{what} is not configured"),
            Self::OrgNotRegistered { org_id } => write!(
                f,
                "org {org_id} has no Service App registration in the token store; handle its \
                 `authorized` webhook or register it with a refresh token first"
            ),
            Self::Api => f.write_str("Webex API call failed"),
            Self::Auth => f.write_str("authorization failed"),
            Self::Jws => f.write_str("JWS verification failed"),
            Self::Media => f.write_str("media server error"),
        }
    }
}

/// An error of the [`Byova`](crate::Byova) facade.
///
/// [`kind`](Self::kind) says what failed; the error of the sub-crate behind it is its
/// [`source`](StdError::source) and available typed ([`api_error`](Self::api_error),
/// [`auth_error`](Self::auth_error), `jws_error`). `Display` shows the whole
/// chain, including Webex's `trackingId`; no token or secret ever appears in it.
pub struct Error {
    kind: ErrorKind,
    message: Option<String>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            message: None,
            source: None,
        }
    }

    pub(crate) fn with_message(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: Some(message.into()),
            source: None,
        }
    }

    pub(crate) fn with_source(
        kind: ErrorKind,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Self {
            kind,
            message: None,
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::with_message(ErrorKind::Config, message)
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Extra detail given when the error was made, if any.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The REST error behind this one: for [`ErrorKind::Api`], and for [`ErrorKind::Auth`]
    /// errors caused by a Webex call.
    #[must_use]
    pub fn api_error(&self) -> Option<&byova_api::Error> {
        let source = self.source.as_deref()?;
        if let Some(api) = source.downcast_ref::<byova_api::Error>() {
            return Some(api);
        }
        source
            .downcast_ref::<byova_auth::Error>()
            .and_then(byova_auth::Error::api_error)
    }

    /// The byova-auth error behind an [`ErrorKind::Auth`] error.
    #[must_use]
    pub fn auth_error(&self) -> Option<&byova_auth::Error> {
        self.source.as_deref()?.downcast_ref()
    }

    /// The verification error behind an [`ErrorKind::Jws`] error.
    #[cfg(feature = "jws")]
    #[must_use]
    pub fn jws_error(&self) -> Option<&byova_jws::Error> {
        self.source.as_deref()?.downcast_ref()
    }

    /// The media-server error behind an [`ErrorKind::Media`] error.
    #[cfg(feature = "media")]
    #[must_use]
    pub fn media_error(&self) -> Option<&byova_media::Error> {
        self.source.as_deref()?.downcast_ref()
    }

    /// Webex's `trackingId` of the failed REST call, to quote to Webex support.
    #[must_use]
    pub fn tracking_id(&self) -> Option<&str> {
        self.api_error().and_then(byova_api::Error::tracking_id)
    }

    /// The environment or configuration is incomplete or invalid (the caller's to fix).
    #[must_use]
    pub fn is_config(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::MissingEnv(_)
                | ErrorKind::InvalidEnv(_)
                | ErrorKind::Config
                | ErrorKind::NotConfigured(_)
        )
    }

    /// The org has no Service App registration.
    #[must_use]
    pub fn is_org_not_registered(&self) -> bool {
        matches!(self.kind, ErrorKind::OrgNotRegistered { .. })
    }
}

impl From<byova_api::Error> for Error {
    fn from(error: byova_api::Error) -> Self {
        // A bearer failure of byova-auth's token managers ("not authorized", "org not
        // registered") keeps its own kind through the REST layer.
        if error.is_token_source()
            && let Some(auth) = std::error::Error::source(&error)
                .and_then(|source| source.downcast_ref::<byova_auth::Error>())
        {
            return auth.clone().into();
        }
        Self::with_source(ErrorKind::Api, error)
    }
}

impl From<byova_auth::Error> for Error {
    fn from(error: byova_auth::Error) -> Self {
        if let byova_auth::ErrorKind::OrgNotRegistered { org_id } = error.kind() {
            return Self {
                kind: ErrorKind::OrgNotRegistered {
                    org_id: org_id.clone(),
                },
                message: None,
                source: Some(Box::new(error)),
            };
        }
        Self::with_source(ErrorKind::Auth, error)
    }
}

#[cfg(feature = "jws")]
impl From<byova_jws::Error> for Error {
    fn from(error: byova_jws::Error) -> Self {
        if error.is_config() {
            return Self::with_source(ErrorKind::Config, error);
        }
        Self::with_source(ErrorKind::Jws, error)
    }
}

#[cfg(feature = "media")]
impl From<byova_media::Error> for Error {
    fn from(error: byova_media::Error) -> Self {
        Self::with_source(ErrorKind::Media, error)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        // REST and auth errors describe themselves; other kinds say what area failed.
        let self_describing =
            matches!(self.kind, ErrorKind::Api | ErrorKind::Auth) && self.message.is_none();
        if !self_describing || self.source.is_none() {
            parts.push(self.kind.to_string());
        }
        if let Some(message) = &self.message {
            parts.push(message.clone());
        }
        // The org error already says everything its source would.
        if !matches!(self.kind, ErrorKind::OrgNotRegistered { .. }) {
            // The cause chain: byova-auth keeps the REST error (with its trackingId) as a source.
            let mut cause = self
                .source
                .as_deref()
                .map(|source| source as &(dyn StdError + 'static));
            while let Some(error) = cause {
                let text = error.to_string();
                // Some errors print their own causes: skip what was already said.
                if parts.last().is_none_or(|last| !last.contains(&text)) {
                    parts.push(text);
                }
                cause = error.source();
            }
        }
        f.write_str(&parts.join(": "))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Error");
        debug.field("kind", &self.kind);
        if let Some(message) = &self.message {
            debug.field("message", message);
        }
        if let Some(source) = &self.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}
