//! [`TokenStore`]: where tokens live, as written in `WEBEX_TOKEN_STORE`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use byova_auth::storage::{FileTokenStorage, MemoryTokenStorage, TokenStorage};

use crate::error::Error;

/// A token store: `memory`, `file:PATH` or `redis://…` (`rediss://…` for TLS).
///
/// `Display` writes the same form back, with any Redis password hidden.
///
/// ```
/// use byova::TokenStore;
///
/// assert_eq!("memory".parse::<TokenStore>().unwrap(), TokenStore::Memory);
/// assert_eq!(
///     "file:/var/lib/byova/tokens.json".parse::<TokenStore>().unwrap(),
///     TokenStore::File("/var/lib/byova/tokens.json".into()),
/// );
/// let redis: TokenStore = "redis://:hunter2@cache.internal:6379/0".parse().unwrap();
/// assert_eq!(redis.to_string(), "redis://:***@cache.internal:6379/0");
/// assert!("sqlite:tokens.db".parse::<TokenStore>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenStore {
    /// In this process only: tokens are lost when it exits.
    #[default]
    Memory,
    /// One JSON file (mode 0600), shared safely by the processes of one host.
    File(PathBuf),
    /// Redis, shared by every replica (needs the `redis` feature to open).
    Redis(String),
}

impl TokenStore {
    /// The default file store of the `byova` command: `$XDG_CONFIG_HOME/byova/tokens.json`, else
    /// `$HOME/.config/byova/tokens.json`; `None` when neither variable is set.
    #[must_use]
    pub fn default_file() -> Option<Self> {
        FileTokenStorage::default_path().map(Self::File)
    }

    /// Opens the store (connects to Redis).
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for `redis://…` without the `redis`
    /// feature; [`ErrorKind::Auth`](crate::ErrorKind::Auth) when Redis cannot be reached.
    pub async fn open(&self) -> Result<Arc<dyn TokenStorage>, Error> {
        match self {
            Self::Memory => Ok(Arc::new(MemoryTokenStorage::new())),
            Self::File(path) => Ok(Arc::new(FileTokenStorage::new(path.clone()))),
            #[cfg(feature = "redis")]
            Self::Redis(url) => Ok(Arc::new(
                byova_auth::storage::RedisTokenStorage::connect(url).await?,
            )),
            #[cfg(not(feature = "redis"))]
            Self::Redis(_) => Err(Error::config(
                "a redis:// token store needs the `redis` feature of the `byova` crate",
            )),
        }
    }
}

impl FromStr for TokenStore {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self, Error> {
        let spec = spec.trim();
        if spec.eq_ignore_ascii_case("memory") {
            return Ok(Self::Memory);
        }
        if let Some(path) = spec.strip_prefix("file:") {
            if path.is_empty() {
                return Err(Error::config("the token store `file:` needs a path"));
            }
            return Ok(Self::File(PathBuf::from(path)));
        }
        if spec.starts_with("redis://") || spec.starts_with("rediss://") {
            return Ok(Self::Redis(spec.to_owned()));
        }
        Err(Error::config(
            "the token store must be `memory`, `file:PATH` or `redis://…`",
        ))
    }
}

impl fmt::Display for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Memory => f.write_str("memory"),
            Self::File(path) => write!(f, "file:{}", path.display()),
            Self::Redis(url) => f.write_str(&redact_password(url)),
        }
    }
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenStore({self})")
    }
}

/// `scheme://user:password@host…` → `scheme://user:***@host…`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            let hidden = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                "***".to_owned()
            };
            format!("{scheme}://{hidden}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_round_trip_without_passwords() {
        for (spec, shown) in [
            ("memory", "memory"),
            (" MEMORY ", "memory"),
            ("file:tokens.json", "file:tokens.json"),
            ("redis://localhost:6379", "redis://localhost:6379"),
            ("redis://user:pw@h:1/2?x=@", "redis://user:***@h:1/2?x=@"),
            ("rediss://token@h", "rediss://***@h"),
        ] {
            let store: TokenStore = spec.parse().expect(spec);
            assert_eq!(store.to_string(), shown);
            assert!(!format!("{store:?}").contains("pw"));
        }
    }

    #[test]
    fn bad_specs_are_config_errors() {
        for spec in ["", "file:", "postgres://x", "files:/x"] {
            let error = spec.parse::<TokenStore>().expect_err(spec);
            assert!(error.is_config(), "{spec}: {error}");
        }
    }
}
