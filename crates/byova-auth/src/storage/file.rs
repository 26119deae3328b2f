//! [`FileTokenStorage`]: one JSON file, replaced atomically, safe across processes.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use byova_models::{OAuthTokens, OrgId, ServiceAppTokens};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::storage::{LockToken, TokenStorage};

/// The file format version this code writes.
const FORMAT_VERSION: u32 = 1;

/// Tokens in one JSON file: the default store for real deployments on one host.
///
/// - The file is created with mode `0600` (its directory `0700`) and holds real token values.
/// - Every change rewrites the whole file to a temporary file in the same directory, syncs it,
///   renames it over the old one and syncs the directory: readers and crashes see the old or the
///   new content, never a mix.
/// - Writers hold an advisory lock on `<file>.lock`, so several processes (a server and the
///   `byova` CLI) never lose each other's changes: each change re-reads the file under the lock.
/// - A file it cannot read (corrupt, or written by a newer version) is never overwritten: every
///   call fails with [`ErrorKind::Storage`] until it is fixed.
/// - Named refresh locks are advisory locks on files in `<file>.locks/`, released when the holder
///   exits, however it exits.
#[derive(Debug, Clone)]
pub struct FileTokenStorage {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    lock_path: PathBuf,
    locks_dir: PathBuf,
    /// Serialises this process's writers before they queue on the file lock.
    writer: tokio::sync::Mutex<()>,
    /// Named locks this process holds: the open file keeps the advisory lock.
    held: Mutex<HashMap<String, (LockToken, File)>>,
    warned_mode: AtomicBool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    #[serde(default)]
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    integration: Option<OAuthTokens>,
    #[serde(default)]
    service_apps: BTreeMap<OrgId, ServiceAppTokens>,
    /// Fields a newer version may add, kept as they are.
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl FileTokenStorage {
    /// A store at `path` (created on first write, with its parent directories).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let lock_path = with_suffix(&path, ".lock");
        let locks_dir = with_suffix(&path, ".locks");
        Self {
            inner: Arc::new(Inner {
                path,
                lock_path,
                locks_dir,
                writer: tokio::sync::Mutex::new(()),
                held: Mutex::new(HashMap::new()),
                warned_mode: AtomicBool::new(false),
            }),
        }
    }

    /// `$XDG_CONFIG_HOME/byova/tokens.json`, else `$HOME/.config/byova/tokens.json`.
    pub fn default_path() -> Option<PathBuf> {
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|dir| !dir.is_empty())
                    .map(|home| PathBuf::from(home).join(".config"))
            })?;
        Some(config.join("byova").join("tokens.json"))
    }

    /// The token file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn read<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(Document) -> R + Send + 'static,
        R: Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        blocking(move || Ok(f(inner.read_document()?))).await
    }

    /// Applies `change` to the current file content under the file lock; writes when it returns
    /// `true` alongside its result.
    async fn update<R, F>(&self, change: F) -> Result<R>
    where
        F: FnOnce(&mut Document) -> (R, bool) + Send + 'static,
        R: Send + 'static,
    {
        let _writer = self.inner.writer.lock().await;
        let inner = Arc::clone(&self.inner);
        blocking(move || inner.update(change)).await
    }
}

impl Inner {
    fn read_document(&self) -> Result<Document> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Document::default()),
            Err(error) => return Err(self.io_error("cannot read", error)),
        };
        self.check_mode();
        let document: Document = serde_json::from_slice(&bytes).map_err(|error| {
            Error::build(
                ErrorKind::Storage,
                Some(
                    format!(
                        "{} is not a valid token file; fix or remove it",
                        self.path.display()
                    )
                    .into(),
                ),
                Some(Box::new(error)),
            )
        })?;
        if document.version > FORMAT_VERSION {
            return Err(Error::with_message(
                ErrorKind::Storage,
                format!(
                    "{} was written by a newer byova (format {}); refusing to touch it",
                    self.path.display(),
                    document.version
                ),
            ));
        }
        Ok(document)
    }

    fn update<R>(&self, change: impl FnOnce(&mut Document) -> (R, bool)) -> Result<R> {
        let dir = self.directory();
        create_private_dir(dir)
            .map_err(|error| self.io_error("cannot create the directory of", error))?;
        let lock = private_file(&self.lock_path)
            .map_err(|error| self.io_error("cannot open the lock file of", error))?;
        lock.lock()
            .map_err(|error| self.io_error("cannot lock", error))?;
        let mut document = self.read_document()?;
        let (result, changed) = change(&mut document);
        if changed {
            document.version = FORMAT_VERSION;
            self.write_document(&document)?;
        }
        drop(lock);
        Ok(result)
    }

    fn write_document(&self, document: &Document) -> Result<()> {
        let dir = self.directory();
        let name = self
            .path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "tokens".to_owned());
        let temp_prefix = format!(".{name}.tmp-");
        // Writers hold the file lock, so any temporary file still here was left by a writer that
        // died mid-write.
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(&temp_prefix)
                {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        let temp = dir.join(format!(
            "{temp_prefix}{}-{:016x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        let bytes = serde_json::to_vec_pretty(document).map_err(Error::storage)?;
        let written = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode_private()
                .open(&temp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            fs::rename(&temp, &self.path)?;
            sync_dir(dir)
        })();
        if let Err(error) = written {
            let _ = fs::remove_file(&temp);
            return Err(self.io_error("cannot write", error));
        }
        Ok(())
    }

    fn directory(&self) -> &Path {
        match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        }
    }

    fn io_error(&self, what: &str, error: io::Error) -> Error {
        Error::build(
            ErrorKind::Storage,
            Some(format!("{what} {}", self.path.display()).into()),
            Some(Box::new(error)),
        )
    }

    #[cfg(unix)]
    fn check_mode(&self) {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(metadata) = fs::metadata(&self.path)
            && metadata.permissions().mode() & 0o077 != 0
            && !self.warned_mode.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                path = %self.path.display(),
                "the token file is readable by other users; it is rewritten with mode 0600 on the next change"
            );
        }
    }

    #[cfg(not(unix))]
    fn check_mode(&self) {
        let _ = &self.warned_mode;
    }

    fn named_lock_path(&self, name: &str) -> PathBuf {
        let readable: String = name
            .chars()
            .take(64)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let digest = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
        let hash: String = digest.as_ref()[..8]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        self.locks_dir.join(format!("{readable}-{hash}.lock"))
    }

    fn try_lock(&self, name: &str) -> Result<Option<LockToken>> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held.contains_key(name) {
            return Ok(None);
        }
        create_private_dir(&self.locks_dir)
            .map_err(|error| self.io_error("cannot create the lock directory of", error))?;
        let file = private_file(&self.named_lock_path(name))
            .map_err(|error| self.io_error("cannot open a lock file of", error))?;
        match file.try_lock() {
            Ok(()) => {
                let token = LockToken::generate();
                held.insert(name.to_owned(), (token.clone(), file));
                Ok(Some(token))
            }
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(error)) => {
                Err(self.io_error("cannot lock a lock file of", error))
            }
        }
    }

    fn unlock(&self, name: &str, token: &LockToken) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held
            .get(name)
            .is_some_and(|(held_token, _)| held_token == token)
        {
            // Closing the file releases the advisory lock.
            held.remove(name);
        }
    }
}

impl TokenStorage for FileTokenStorage {
    fn integration_tokens(&self) -> BoxFuture<'_, Result<Option<OAuthTokens>>> {
        Box::pin(self.read(|document| document.integration))
    }

    fn set_integration_tokens<'a>(&'a self, tokens: &'a OAuthTokens) -> BoxFuture<'a, Result<()>> {
        let tokens = tokens.clone();
        Box::pin(self.update(move |document| {
            document.integration = Some(tokens);
            ((), true)
        }))
    }

    fn clear_integration_tokens(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.update(|document| ((), document.integration.take().is_some())))
    }

    fn service_app_tokens<'a>(
        &'a self,
        org: &'a OrgId,
    ) -> BoxFuture<'a, Result<Option<ServiceAppTokens>>> {
        let org = org.clone();
        Box::pin(self.read(move |mut document| document.service_apps.remove(&org)))
    }

    fn set_service_app_tokens<'a>(
        &'a self,
        org: &'a OrgId,
        tokens: &'a ServiceAppTokens,
    ) -> BoxFuture<'a, Result<()>> {
        let (org, tokens) = (org.clone(), tokens.clone());
        Box::pin(self.update(move |document| {
            document.service_apps.insert(org, tokens);
            ((), true)
        }))
    }

    fn delete_service_app_tokens<'a>(&'a self, org: &'a OrgId) -> BoxFuture<'a, Result<bool>> {
        let org = org.clone();
        Box::pin(self.update(move |document| {
            let existed = document.service_apps.remove(&org).is_some();
            (existed, existed)
        }))
    }

    fn registered_orgs(&self) -> BoxFuture<'_, Result<Vec<OrgId>>> {
        Box::pin(self.read(|document| document.service_apps.into_keys().collect()))
    }

    fn try_lock<'a>(
        &'a self,
        name: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<LockToken>>> {
        // The lock lives as long as the holder's process: no expiry needed.
        let _ = ttl;
        let inner = Arc::clone(&self.inner);
        let name = name.to_owned();
        Box::pin(blocking(move || inner.try_lock(&name)))
    }

    fn unlock<'a>(&'a self, name: &'a str, token: LockToken) -> BoxFuture<'a, Result<()>> {
        self.inner.unlock(name, &token);
        Box::pin(async { Ok(()) })
    }
}

async fn blocking<R: Send + 'static>(f: impl FnOnce() -> Result<R> + Send + 'static) -> Result<R> {
    tokio::task::spawn_blocking(f).await.map_err(|error| {
        Error::build(
            ErrorKind::Internal,
            Some("a token file operation panicked or was cancelled".into()),
            Some(Box::new(error)),
        )
    })?
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

trait PrivateMode {
    fn mode_private(&mut self) -> &mut Self;
}

impl PrivateMode for OpenOptions {
    #[cfg(unix)]
    fn mode_private(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt as _;
        self.mode(0o600)
    }

    #[cfg(not(unix))]
    fn mode_private(&mut self) -> &mut Self {
        self
    }
}

fn private_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode_private()
        .open(path)
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}
