//! [`MemoryTokenStorage`]: tokens in process memory (tests, short-lived tools).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use byova_models::{OAuthTokens, OrgId, ServiceAppTokens};
use futures_util::future::BoxFuture;
use tokio::time::Instant;

use crate::error::Result;
use crate::storage::{LockToken, TokenStorage};

/// Tokens kept in memory: lost when the process exits.
///
/// Its locks are real (with expiry), so several managers sharing one store in a process coordinate
/// as replicas sharing Redis would.
#[derive(Debug, Default)]
pub struct MemoryTokenStorage {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    integration: Option<OAuthTokens>,
    service_apps: BTreeMap<OrgId, ServiceAppTokens>,
    locks: HashMap<String, (LockToken, Instant)>,
}

impl MemoryTokenStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl TokenStorage for MemoryTokenStorage {
    fn integration_tokens(&self) -> BoxFuture<'_, Result<Option<OAuthTokens>>> {
        let tokens = self.with(|state| state.integration.clone());
        Box::pin(async move { Ok(tokens) })
    }

    fn set_integration_tokens<'a>(&'a self, tokens: &'a OAuthTokens) -> BoxFuture<'a, Result<()>> {
        self.with(|state| state.integration = Some(tokens.clone()));
        Box::pin(async { Ok(()) })
    }

    fn clear_integration_tokens(&self) -> BoxFuture<'_, Result<()>> {
        self.with(|state| state.integration = None);
        Box::pin(async { Ok(()) })
    }

    fn service_app_tokens<'a>(
        &'a self,
        org: &'a OrgId,
    ) -> BoxFuture<'a, Result<Option<ServiceAppTokens>>> {
        let tokens = self.with(|state| state.service_apps.get(org).cloned());
        Box::pin(async move { Ok(tokens) })
    }

    fn set_service_app_tokens<'a>(
        &'a self,
        org: &'a OrgId,
        tokens: &'a ServiceAppTokens,
    ) -> BoxFuture<'a, Result<()>> {
        self.with(|state| state.service_apps.insert(org.clone(), tokens.clone()));
        Box::pin(async { Ok(()) })
    }

    fn delete_service_app_tokens<'a>(&'a self, org: &'a OrgId) -> BoxFuture<'a, Result<bool>> {
        let existed = self.with(|state| state.service_apps.remove(org).is_some());
        Box::pin(async move { Ok(existed) })
    }

    fn registered_orgs(&self) -> BoxFuture<'_, Result<Vec<OrgId>>> {
        let orgs = self.with(|state| state.service_apps.keys().cloned().collect());
        Box::pin(async move { Ok(orgs) })
    }

    fn try_lock<'a>(
        &'a self,
        name: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<LockToken>>> {
        let now = Instant::now();
        let token = self.with(|state| {
            if state
                .locks
                .get(name)
                .is_some_and(|(_, expires)| *expires > now)
            {
                return None;
            }
            let token = LockToken::generate();
            state
                .locks
                .insert(name.to_owned(), (token.clone(), now + ttl));
            Some(token)
        });
        Box::pin(async move { Ok(token) })
    }

    fn unlock<'a>(&'a self, name: &'a str, token: LockToken) -> BoxFuture<'a, Result<()>> {
        self.with(|state| {
            if state
                .locks
                .get(name)
                .is_some_and(|(held, _)| *held == token)
            {
                state.locks.remove(name);
            }
        });
        Box::pin(async { Ok(()) })
    }
}
