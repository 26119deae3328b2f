//! The error type of this crate: an opaque [`Error`] holding an [`ErrorKind`].

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from byova-auth.
///
/// Cheap to clone (one reference count), so that a failed token refresh can reach every caller that
/// waited for it. Neither [`Display`](fmt::Display) nor [`Debug`](fmt::Debug) ever shows a secret:
/// messages name what failed, never token values.
#[derive(Clone)]
pub struct Error {
    inner: Arc<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: Option<Cow<'static, str>>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No Integration tokens are stored: run the OAuth flow (`byova auth login`) first.
    #[error("the Integration is not authorized yet; run the OAuth flow (`byova auth login`) first")]
    NotAuthorized,
    /// The refresh token expired or Webex rejected it: the Integration must be authorized again.
    #[error(
        "the refresh token expired or was rejected; authorize again (`byova auth login`, or a new \
         Service App registration for the org)"
    )]
    ReauthorizationRequired,
    /// No Service App tokens are stored for the org: wait for its `authorized` webhook or call
    /// `save_registration`.
    #[error(
        "org {org_id} has no Service App registration; handle its `authorized` webhook or call \
         save_registration"
    )]
    OrgNotRegistered {
        /// The org id (a UUID).
        org_id: String,
    },
    /// A Webex API call failed; the source is the [`byova_api::Error`].
    #[error("Webex API call failed")]
    Api,
    /// The token storage failed (I/O, encoding, Redis).
    #[error("token storage failed")]
    Storage,
    /// Another process or replica held the refresh lock for too long.
    #[error("timed out waiting for the token refresh lock")]
    LockTimeout,
    /// The authorization server redirected back with an error (for example `access_denied`).
    #[error("authorization failed: {error}")]
    Redirect {
        /// The `error` query parameter.
        error: String,
        /// The `error_description` query parameter, when given.
        description: Option<String>,
    },
    /// No redirect arrived at the local listener before the timeout.
    #[error("no OAuth redirect arrived before the timeout")]
    RedirectTimeout,
    /// The redirect's `state` differs from the one sent (possible CSRF); the code was discarded.
    #[error(
        "the OAuth redirect carried an unexpected state (possible CSRF); the code was discarded"
    )]
    StateMismatch,
    /// The local redirect listener could not start (bad redirect URI, port in use, I/O error).
    #[error("the local OAuth redirect listener failed")]
    Listener,
    /// An argument or configuration value is invalid.
    #[error("invalid input")]
    InvalidInput,
    /// The webhook request has no `X-Spark-Signature` header.
    #[error("the webhook request has no X-Spark-Signature header")]
    MissingSignature,
    /// The webhook signature does not match the body and secret.
    #[error("the webhook signature does not match")]
    InvalidSignature,
    /// The webhook payload is not a valid Service App event (bad JSON, missing or invalid `orgId`).
    #[error("invalid webhook payload")]
    InvalidPayload,
    /// The webhook is about a resource other than `serviceApp`.
    #[error("unexpected webhook resource {resource:?} (expected \"serviceApp\")")]
    UnexpectedResource {
        /// The resource named by the payload.
        resource: String,
    },
    /// The Service App webhook carries an event other than `authorized` / `deauthorized`.
    #[error("unexpected serviceApp webhook event {event:?}")]
    UnexpectedEvent {
        /// The event named by the payload.
        event: String,
    },
    /// The webhook is about another application than our Service App.
    #[error("the webhook is for another application")]
    UnexpectedApplication,
    /// The data source cannot be kept (several candidates match, no token in the answer, ...).
    #[error("data source")]
    DataSource,
    /// A background task failed unexpectedly (for example a refresh task panicked).
    #[error("internal error")]
    Internal,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self {
            inner: Arc::new(Inner {
                kind,
                message: None,
                source: None,
            }),
        }
    }

    pub(crate) fn with_message(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self::build(kind, Some(message.into()), None)
    }

    pub(crate) fn with_source(
        kind: ErrorKind,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self::build(kind, None, Some(source.into()))
    }

    pub(crate) fn build(
        kind: ErrorKind,
        message: Option<Cow<'static, str>>,
        source: Option<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                kind,
                message,
                source,
            }),
        }
    }

    pub(crate) fn storage(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::with_source(ErrorKind::Storage, source)
    }

    /// Wraps a REST error. A bearer failure that came from one of our own token sources is
    /// unwrapped, so that (for example) "not authorized" keeps its kind through the API layer.
    pub(crate) fn api(source: byova_api::Error) -> Self {
        if source.is_token_source() {
            match source.into_source().map(|inner| inner.downcast::<Self>()) {
                Some(Ok(ours)) => return *ours,
                Some(Err(other)) => {
                    return Self::with_source(
                        ErrorKind::Api,
                        byova_api::Error::token_source(other),
                    );
                }
                None => return Self::with_message(ErrorKind::Api, "the token source failed"),
            }
        }
        Self::with_source(ErrorKind::Api, source)
    }

    /// This error as the error of a [`byova_api::TokenSource`].
    pub(crate) fn into_token_source_error(self) -> byova_api::Error {
        byova_api::Error::token_source(self)
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The extra context given when the error was made, if any.
    pub fn message(&self) -> Option<&str> {
        self.inner.message.as_deref()
    }

    /// The [`byova_api::Error`] behind an [`ErrorKind::Api`] error.
    pub fn api_error(&self) -> Option<&byova_api::Error> {
        self.inner
            .source
            .as_deref()
            .and_then(|source| source.downcast_ref::<byova_api::Error>())
    }

    /// No Integration tokens are stored yet.
    pub fn is_not_authorized(&self) -> bool {
        matches!(self.kind(), ErrorKind::NotAuthorized)
    }

    /// The refresh token expired or was rejected: authorize again.
    pub fn is_reauthorization_required(&self) -> bool {
        matches!(self.kind(), ErrorKind::ReauthorizationRequired)
    }

    /// The org has no Service App registration.
    pub fn is_org_not_registered(&self) -> bool {
        matches!(self.kind(), ErrorKind::OrgNotRegistered { .. })
    }

    /// A Webex API call failed.
    pub fn is_api(&self) -> bool {
        matches!(self.kind(), ErrorKind::Api)
    }

    /// The token storage failed.
    pub fn is_storage(&self) -> bool {
        matches!(self.kind(), ErrorKind::Storage | ErrorKind::LockTimeout)
    }

    /// The redirect carried an error, timed out, or had the wrong state.
    pub fn is_redirect(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::Redirect { .. } | ErrorKind::RedirectTimeout | ErrorKind::StateMismatch
        )
    }

    /// No redirect arrived before the timeout.
    pub fn is_redirect_timeout(&self) -> bool {
        matches!(self.kind(), ErrorKind::RedirectTimeout)
    }

    /// The redirect's state did not match.
    pub fn is_state_mismatch(&self) -> bool {
        matches!(self.kind(), ErrorKind::StateMismatch)
    }

    /// The webhook signature is missing or wrong.
    pub fn is_signature(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::MissingSignature | ErrorKind::InvalidSignature
        )
    }

    /// The webhook payload was rejected (bad JSON, unexpected resource, event or application).
    pub fn is_webhook_payload(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::InvalidPayload
                | ErrorKind::UnexpectedResource { .. }
                | ErrorKind::UnexpectedEvent { .. }
                | ErrorKind::UnexpectedApplication
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner.kind, f)?;
        if let Some(message) = &self.inner.message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Error");
        debug.field("kind", &self.inner.kind);
        if let Some(message) = &self.inner.message {
            debug.field("message", message);
        }
        if let Some(source) = &self.inner.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self::new(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_joins_kind_and_message() {
        let error = Error::with_message(ErrorKind::InvalidInput, "redirect URI has no host");
        assert_eq!(error.to_string(), "invalid input: redirect URI has no host");
        assert_eq!(error.message(), Some("redirect URI has no host"));
        assert!(!error.is_storage());
    }

    #[test]
    fn source_is_exposed_and_clones_share_it() {
        let error = Error::storage(std::io::Error::other("disk full"));
        let copy = error.clone();
        assert!(copy.is_storage());
        assert_eq!(
            copy.source().map(ToString::to_string).as_deref(),
            Some("disk full")
        );
        // Clones share the source instead of copying it.
        let original: *const _ = error.source().expect("source");
        let cloned: *const _ = copy.source().expect("source");
        assert!(std::ptr::addr_eq(original, cloned));
    }
}
