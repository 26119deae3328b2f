//! Fault injection at the token endpoint: 429 storms, 5xx, slow answers, connection resets and
//! cut-off answers while tokens are refreshed. Every failure is a typed error, the file store
//! keeps every token exactly as it was (valid JSON, mode 0600, no stray temporary file), and the
//! next refresh after the fault succeeds.

mod concurrent;
mod connections;
mod raw_server;
mod storms;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use byova_api::test_util::wiremock::{Request, Respond, ResponseTemplate};
use byova_api::{Client, ErrorKind as ApiErrorKind};
use byova_auth::storage::{FileTokenStorage, TokenStorage};
use byova_auth::{Error, IntegrationAuth, RefreshSettings, ServiceAppAuth};
use serde_json::Value;
use tempfile::TempDir;

use crate::support::fs::file_names;
use crate::support::webex::{
    INTEGRATION_SECRET, SA_SECRET, expired, fresh, managers, org, other_org,
};

/// A token file in a temporary directory, seeded with an expired Integration token, an expired
/// Service App token for [`org`] and a valid one for [`other_org`].
pub struct Store {
    _dir: TempDir,
    pub path: PathBuf,
    pub storage: Arc<FileTokenStorage>,
}

impl Store {
    pub async fn seeded() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("byova").join("tokens.json");
        let storage = Arc::new(FileTokenStorage::new(&path));
        storage
            .set_integration_tokens(&expired("int-old", "int-refresh"))
            .await
            .expect("seed");
        storage
            .set_service_app_tokens(&org(), &expired("sa-old", "sa-refresh"))
            .await
            .expect("seed");
        storage
            .set_service_app_tokens(&other_org(), &fresh("other-access", "other-refresh"))
            .await
            .expect("seed");
        Self {
            _dir: dir,
            path,
            storage,
        }
    }

    /// Both token managers on `client` and this store.
    pub fn managers(&self, client: Client) -> (IntegrationAuth, ServiceAppAuth) {
        managers(client, self.storage.clone(), RefreshSettings::default())
    }

    /// The file as JSON, after checking it is complete, private and alone.
    pub fn snapshot(&self) -> Value {
        let bytes = std::fs::read(&self.path).expect("the token file exists");
        let json: Value = serde_json::from_slice(&bytes).expect("the token file is valid JSON");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&self.path)
                .expect("metadata")
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600, "the token file must stay private");
        }
        let dir = self.path.parent().expect("parent");
        let stray: Vec<String> = file_names(dir)
            .into_iter()
            .filter(|name| name.contains(".tmp-"))
            .collect();
        assert!(stray.is_empty(), "temporary files left behind: {stray:?}");
        json
    }

    /// A second, independent handle on the same file.
    pub fn reopen(&self) -> FileTokenStorage {
        FileTokenStorage::new(&self.path)
    }
}

/// Answers with `responses` in turn (the last one repeats), counting the requests.
pub struct Sequence {
    responses: Vec<ResponseTemplate>,
    hits: Arc<AtomicUsize>,
}

impl Sequence {
    pub fn new(responses: Vec<ResponseTemplate>) -> (Self, Arc<AtomicUsize>) {
        let hits = Arc::new(AtomicUsize::new(0));
        (
            Self {
                responses,
                hits: Arc::clone(&hits),
            },
            hits,
        )
    }
}

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.hits.fetch_add(1, Ordering::SeqCst);
        self.responses[n.min(self.responses.len() - 1)].clone()
    }
}

pub fn hits(counter: &AtomicUsize) -> usize {
    counter.load(Ordering::SeqCst)
}

/// A 429 with an optional `Retry-After` (seconds).
pub fn too_many(retry_after: Option<u64>) -> ResponseTemplate {
    let template = ResponseTemplate::new(429).set_body_json(
        serde_json::json!({"message": "Too many requests", "trackingId": "ROUTER_429"}),
    );
    match retry_after {
        Some(secs) => template.insert_header("retry-after", secs.to_string().as_str()),
        None => template,
    }
}

/// A typed API error of `kind`, showing no secret.
pub fn assert_api_error(error: &Error, kind: ApiErrorKind, secrets: &[&str]) {
    assert!(error.is_api(), "{error:?}");
    let api = error
        .api_error()
        .unwrap_or_else(|| panic!("no API error behind {error:?}"));
    assert_eq!(api.kind(), kind, "{api}");
    let shown = format!("{error} {error:?} {api} {api:?}");
    for secret in secrets.iter().chain([&INTEGRATION_SECRET, &SA_SECRET]) {
        assert!(!shown.contains(secret), "a secret leaked: {shown}");
    }
}
