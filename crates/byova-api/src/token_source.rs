//! [`TokenSource`]: where requests get their bearer token.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use byova_models::Secret;

use crate::error::Error;

/// A boxed, `Send` future, the return type of [`TokenSource`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Supplies the bearer token of requests; byova-auth plugs in refreshing Integration and Service
/// App tokens, tests use [`StaticToken`].
///
/// Dyn-compatible: the client holds an `Arc<dyn TokenSource>`.
///
/// The client calls [`token`](Self::token) before each attempt. When Webex answers **401**, it
/// calls [`refresh`](Self::refresh) with the rejected token exactly once per request and, if that
/// yields a different token, retries once. A 403 never triggers a refresh.
///
/// ```
/// use byova_api::{BoxFuture, Error, TokenSource};
/// use byova_models::Secret;
///
/// #[derive(Debug)]
/// struct FromEnv;
///
/// impl TokenSource for FromEnv {
///     fn token(&self) -> BoxFuture<'_, Result<Secret, Error>> {
///         Box::pin(async {
///             std::env::var("WEBEX_TOKEN").map(Secret::from).map_err(Error::token_source)
///         })
///     }
/// }
/// ```
pub trait TokenSource: Send + Sync {
    /// A bearer token that is currently valid (refreshing it first if it is about to expire).
    fn token(&self) -> BoxFuture<'_, Result<Secret, Error>>;

    /// Called after Webex rejected `rejected` with a 401: force a refresh and return the new
    /// token, or `Ok(None)` when no refresh is possible (the 401 is then returned to the caller).
    ///
    /// Another task may already have refreshed; then return that newer token without refreshing
    /// again. An error is returned to the caller of the request as is. The default implementation
    /// cannot refresh.
    fn refresh<'a>(&'a self, rejected: &'a Secret) -> BoxFuture<'a, Result<Option<Secret>, Error>> {
        let _ = rejected;
        Box::pin(async { Ok(None) })
    }
}

impl<T: TokenSource + ?Sized> TokenSource for Arc<T> {
    fn token(&self) -> BoxFuture<'_, Result<Secret, Error>> {
        (**self).token()
    }

    fn refresh<'a>(&'a self, rejected: &'a Secret) -> BoxFuture<'a, Result<Option<Secret>, Error>> {
        (**self).refresh(rejected)
    }
}

impl<T: TokenSource + ?Sized> TokenSource for Box<T> {
    fn token(&self) -> BoxFuture<'_, Result<Secret, Error>> {
        (**self).token()
    }

    fn refresh<'a>(&'a self, rejected: &'a Secret) -> BoxFuture<'a, Result<Option<Secret>, Error>> {
        (**self).refresh(rejected)
    }
}

/// A bearer used as is (a personal access token, a token from elsewhere, tests). It cannot
/// refresh, so a 401 is returned to the caller without a retry.
///
/// ```
/// use byova_api::StaticToken;
///
/// let token = StaticToken::new("my-token");
/// assert_eq!(format!("{token:?}"), "StaticToken(Secret([redacted]))");
/// ```
#[derive(Clone, Debug)]
pub struct StaticToken(Secret);

impl StaticToken {
    /// Wraps a bearer token.
    pub fn new(token: impl Into<Secret>) -> Self {
        Self(token.into())
    }
}

impl TokenSource for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<Secret, Error>> {
        let token = self.0.clone();
        Box::pin(async move { Ok(token) })
    }
}
