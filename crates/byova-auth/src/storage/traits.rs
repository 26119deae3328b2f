//! The [`TokenStorage`] trait.

use std::fmt;
use std::time::Duration;

use byova_models::{OAuthTokens, OrgId, ServiceAppTokens};
use futures_util::future::BoxFuture;

use crate::error::Result;
use crate::storage::LockToken;

/// Persistent home of the Integration's tokens and of each org's Service App tokens.
///
/// "Registered org" means "Service App tokens are stored for that org". Every method is async and
/// object safe, so managers hold an `Arc<dyn TokenStorage>` chosen at run time.
///
/// Shared stores (several processes or replicas) also implement [`try_lock`](Self::try_lock) /
/// [`unlock`](Self::unlock) so that only one of them refreshes a given token at a time. The default
/// implementations grant every lock at once, which is right for a store only one process uses
/// (within a process, the managers already run one refresh per token).
///
/// Implementations must never log or print token values.
pub trait TokenStorage: Send + Sync + fmt::Debug + 'static {
    /// The Integration's tokens, if stored.
    fn integration_tokens(&self) -> BoxFuture<'_, Result<Option<OAuthTokens>>>;

    /// Stores the Integration's tokens, replacing any.
    fn set_integration_tokens<'a>(&'a self, tokens: &'a OAuthTokens) -> BoxFuture<'a, Result<()>>;

    /// Forgets the Integration's tokens (sign-out).
    fn clear_integration_tokens(&self) -> BoxFuture<'_, Result<()>>;

    /// The Service App tokens of `org`, if registered.
    fn service_app_tokens<'a>(
        &'a self,
        org: &'a OrgId,
    ) -> BoxFuture<'a, Result<Option<ServiceAppTokens>>>;

    /// Stores the Service App tokens of `org`, replacing any.
    fn set_service_app_tokens<'a>(
        &'a self,
        org: &'a OrgId,
        tokens: &'a ServiceAppTokens,
    ) -> BoxFuture<'a, Result<()>>;

    /// Forgets the Service App tokens of `org`; returns whether there were any.
    fn delete_service_app_tokens<'a>(&'a self, org: &'a OrgId) -> BoxFuture<'a, Result<bool>>;

    /// Every org with stored Service App tokens, sorted.
    fn registered_orgs(&self) -> BoxFuture<'_, Result<Vec<OrgId>>>;

    /// Tries to take the named lock for at most `ttl`; `None` when someone else holds it.
    ///
    /// Used around token refreshes (`integration`, `service-app:<org>`) and data-source renewals.
    /// The default grants every lock immediately (no cross-process coordination).
    fn try_lock<'a>(
        &'a self,
        name: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<LockToken>>> {
        let _ = (name, ttl);
        Box::pin(async { Ok(Some(LockToken::generate())) })
    }

    /// Releases a lock taken with [`try_lock`](Self::try_lock). Releasing a lock that expired or
    /// was taken over by someone else does nothing.
    fn unlock<'a>(&'a self, name: &'a str, token: LockToken) -> BoxFuture<'a, Result<()>> {
        let _ = (name, token);
        Box::pin(async { Ok(()) })
    }
}
