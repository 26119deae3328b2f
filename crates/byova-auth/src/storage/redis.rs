//! [`RedisTokenStorage`]: tokens in Redis, shared by several instances behind a load balancer.

use std::fmt;
use std::time::Duration;

use byova_models::{OAuthTokens, OrgId, ServiceAppTokens};
use futures_util::future::BoxFuture;
use redis::aio::ConnectionManager;

use crate::error::{Error, ErrorKind, Result};
use crate::storage::{LockToken, TokenStorage};

/// The key prefix used unless another is set.
pub const DEFAULT_REDIS_PREFIX: &str = "byova:";

/// Deletes a lock only if it still holds the caller's token.
const UNLOCK_SCRIPT: &str = r#"
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
end
return 0
"#;

/// Tokens in Redis.
///
/// Keys (after the prefix, default [`DEFAULT_REDIS_PREFIX`]):
/// - `integration`: the Integration's tokens (JSON string);
/// - `service_apps`: a hash of org id → Service App tokens (JSON);
/// - `lock:<name>`: refresh locks, taken with `SET NX PX` and released by a compare-and-delete
///   script, so two replicas never refresh the same token at once and a lock whose holder died
///   expires by itself.
///
/// The connection reconnects by itself after Redis restarts. Values hold real tokens: protect
/// Redis accordingly (network access, `requirepass` / ACL in the URL).
#[derive(Clone)]
pub struct RedisTokenStorage {
    connection: ConnectionManager,
    prefix: String,
    unlock: redis::Script,
}

impl fmt::Debug for RedisTokenStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStorage")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisTokenStorage {
    /// Connects to `url` (`redis://[user:password@]host:port/db`), with the default prefix.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for a bad URL; [`ErrorKind::Storage`] when Redis is unreachable.
    pub async fn connect(url: &str) -> Result<Self> {
        let client = redis::Client::open(url).map_err(|error| {
            Error::build(
                ErrorKind::InvalidInput,
                Some("invalid Redis URL".into()),
                Some(Box::new(redis_error_without_url(&error))),
            )
        })?;
        Self::from_client(client).await
    }

    /// Uses an existing client (for custom connection settings), with the default prefix.
    ///
    /// # Errors
    /// [`ErrorKind::Storage`] when Redis is unreachable.
    pub async fn from_client(client: redis::Client) -> Result<Self> {
        let connection = ConnectionManager::new(client)
            .await
            .map_err(|error| redis_failure("cannot connect to Redis", &error))?;
        Ok(Self {
            connection,
            prefix: DEFAULT_REDIS_PREFIX.to_owned(),
            unlock: redis::Script::new(UNLOCK_SCRIPT),
        })
    }

    /// Puts every key under `prefix` (for example `myapp:byova:`), to share a Redis database.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    async fn query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T> {
        let mut connection = self.connection.clone();
        command
            .query_async(&mut connection)
            .await
            .map_err(|error| redis_failure("Redis command failed", &error))
    }
}

/// A storage error carrying Redis's description (never a value: commands are not echoed).
fn redis_failure(context: &'static str, error: &redis::RedisError) -> Error {
    Error::build(
        ErrorKind::Storage,
        Some(context.into()),
        Some(Box::new(redis_error_without_url(error))),
    )
}

/// Redis errors can mention the connection URL, which may hold a password: keep only the kind and
/// the server's description.
fn redis_error_without_url(error: &redis::RedisError) -> std::io::Error {
    let detail = match (error.code(), error.detail()) {
        (Some(code), Some(detail)) => format!("{code}: {detail}"),
        (Some(code), None) => code.to_owned(),
        _ => format!("{:?}", error.kind()),
    };
    std::io::Error::other(detail)
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, json: Option<String>) -> Result<Option<T>> {
    json.map(|json| {
        serde_json::from_str(&json).map_err(|error| {
            Error::build(
                ErrorKind::Storage,
                Some(format!("stored {what} are not valid JSON").into()),
                Some(Box::new(error)),
            )
        })
    })
    .transpose()
}

fn encode(tokens: &OAuthTokens) -> Result<String> {
    serde_json::to_string(tokens).map_err(Error::storage)
}

impl TokenStorage for RedisTokenStorage {
    fn integration_tokens(&self) -> BoxFuture<'_, Result<Option<OAuthTokens>>> {
        Box::pin(async move {
            let json: Option<String> = self
                .query(redis::cmd("GET").arg(self.key("integration")))
                .await?;
            decode("Integration tokens", json)
        })
    }

    fn set_integration_tokens<'a>(&'a self, tokens: &'a OAuthTokens) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let json = encode(tokens)?;
            self.query(redis::cmd("SET").arg(self.key("integration")).arg(json))
                .await
        })
    }

    fn clear_integration_tokens(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let _: i64 = self
                .query(redis::cmd("DEL").arg(self.key("integration")))
                .await?;
            Ok(())
        })
    }

    fn service_app_tokens<'a>(
        &'a self,
        org: &'a OrgId,
    ) -> BoxFuture<'a, Result<Option<ServiceAppTokens>>> {
        Box::pin(async move {
            let json: Option<String> = self
                .query(
                    redis::cmd("HGET")
                        .arg(self.key("service_apps"))
                        .arg(org.as_str()),
                )
                .await?;
            decode("Service App tokens", json)
        })
    }

    fn set_service_app_tokens<'a>(
        &'a self,
        org: &'a OrgId,
        tokens: &'a ServiceAppTokens,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let json = encode(tokens)?;
            let _: i64 = self
                .query(
                    redis::cmd("HSET")
                        .arg(self.key("service_apps"))
                        .arg(org.as_str())
                        .arg(json),
                )
                .await?;
            Ok(())
        })
    }

    fn delete_service_app_tokens<'a>(&'a self, org: &'a OrgId) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let removed: i64 = self
                .query(
                    redis::cmd("HDEL")
                        .arg(self.key("service_apps"))
                        .arg(org.as_str()),
                )
                .await?;
            Ok(removed > 0)
        })
    }

    fn registered_orgs(&self) -> BoxFuture<'_, Result<Vec<OrgId>>> {
        Box::pin(async move {
            let keys: Vec<String> = self
                .query(redis::cmd("HKEYS").arg(self.key("service_apps")))
                .await?;
            let mut orgs = keys
                .iter()
                .map(|key| {
                    OrgId::parse(key).map_err(|error| {
                        Error::build(
                            ErrorKind::Storage,
                            Some("a stored org id is invalid".into()),
                            Some(Box::new(error)),
                        )
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            orgs.sort();
            Ok(orgs)
        })
    }

    fn try_lock<'a>(
        &'a self,
        name: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<LockToken>>> {
        Box::pin(async move {
            let token = LockToken::generate();
            let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            let set: Option<String> = self
                .query(
                    redis::cmd("SET")
                        .arg(self.key(&format!("lock:{name}")))
                        .arg(token.as_str())
                        .arg("NX")
                        .arg("PX")
                        .arg(millis),
                )
                .await?;
            Ok(set.map(|_| token))
        })
    }

    fn unlock<'a>(&'a self, name: &'a str, token: LockToken) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let _: i64 = self
                .unlock
                .key(self.key(&format!("lock:{name}")))
                .arg(token.as_str())
                .invoke_async(&mut connection)
                .await
                .map_err(|error| redis_failure("releasing a Redis lock failed", &error))?;
            Ok(())
        })
    }
}
