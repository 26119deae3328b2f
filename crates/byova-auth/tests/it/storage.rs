//! The token stores: one conformance suite run against memory, file and Redis, plus each store's
//! own guarantees.

use std::sync::Arc;
use std::time::Duration;

use byova_auth::storage::{FileTokenStorage, MemoryTokenStorage, RedisTokenStorage, TokenStorage};
use byova_models::{OAuthTokens, OrgId};
use time::macros::datetime;

use crate::support::fs::file_names;
use crate::support::redis_server::RedisServer;

const ORG_A: &str = "63b02f90-0be4-4b43-9e78-cad425ac554c";
const ORG_B: &str = "0a1b2c3d-0000-4000-8000-000000000001";

fn org(id: &str) -> OrgId {
    id.parse().expect("org id")
}

fn tokens(access: &str) -> OAuthTokens {
    OAuthTokens::new(access, 1_209_600, datetime!(2025-03-01 10:00 UTC))
        .with_refresh_token(format!("{access}-refresh"), Some(7_776_000))
}

/// Behaviour every store shares. `other` is a second handle on the same data (another process or
/// replica), used for the lock checks.
async fn conformance(store: Arc<dyn TokenStorage>, other: Arc<dyn TokenStorage>) {
    assert_eq!(store.integration_tokens().await.expect("read"), None);
    assert_eq!(
        store.registered_orgs().await.expect("orgs"),
        Vec::<OrgId>::new()
    );

    let integration = tokens("int-1");
    store
        .set_integration_tokens(&integration)
        .await
        .expect("set");
    assert_eq!(
        other.integration_tokens().await.expect("read"),
        Some(integration)
    );
    store
        .set_integration_tokens(&tokens("int-2"))
        .await
        .expect("replace");
    assert_eq!(
        other.integration_tokens().await.expect("read"),
        Some(tokens("int-2"))
    );

    store
        .set_service_app_tokens(&org(ORG_B), &tokens("b"))
        .await
        .expect("set b");
    other
        .set_service_app_tokens(&org(ORG_A), &tokens("a"))
        .await
        .expect("set a");
    // Sorted, whatever the insertion order.
    assert_eq!(
        store.registered_orgs().await.expect("orgs"),
        vec![org(ORG_B), org(ORG_A)]
    );
    assert_eq!(
        store.service_app_tokens(&org(ORG_A)).await.expect("a"),
        Some(tokens("a"))
    );
    assert_eq!(
        store.service_app_tokens(&org(ORG_B)).await.expect("b"),
        Some(tokens("b"))
    );

    assert!(
        store
            .delete_service_app_tokens(&org(ORG_A))
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_service_app_tokens(&org(ORG_A))
            .await
            .expect("delete again")
    );
    assert_eq!(
        other.service_app_tokens(&org(ORG_A)).await.expect("gone"),
        None
    );
    assert_eq!(
        other.registered_orgs().await.expect("orgs"),
        vec![org(ORG_B)]
    );

    store.clear_integration_tokens().await.expect("clear");
    assert_eq!(other.integration_tokens().await.expect("read"), None);
    assert_eq!(
        other.service_app_tokens(&org(ORG_B)).await.expect("b kept"),
        Some(tokens("b"))
    );

    // Locks exclude the other handle until released by the holder.
    let held = store
        .try_lock("service-app:x", Duration::from_secs(30))
        .await
        .expect("lock")
        .expect("granted");
    assert_eq!(
        other
            .try_lock("service-app:x", Duration::from_secs(30))
            .await
            .expect("lock"),
        None
    );
    let independent = other
        .try_lock("service-app:y", Duration::from_secs(30))
        .await
        .expect("lock")
        .expect("other name is free");
    // A release with the wrong token changes nothing.
    other
        .unlock("service-app:x", independent.clone())
        .await
        .expect("unlock");
    assert_eq!(
        other
            .try_lock("service-app:x", Duration::from_secs(30))
            .await
            .expect("lock"),
        None
    );
    store.unlock("service-app:x", held).await.expect("unlock");
    let again = other
        .try_lock("service-app:x", Duration::from_secs(30))
        .await
        .expect("lock")
        .expect("free again");
    other.unlock("service-app:x", again).await.expect("unlock");
    other
        .unlock("service-app:y", independent)
        .await
        .expect("unlock");
}

#[tokio::test]
async fn memory_store_conformance() {
    let store = Arc::new(MemoryTokenStorage::new());
    conformance(store.clone(), store).await;
}

#[tokio::test(start_paused = true)]
async fn memory_locks_expire_after_their_ttl() {
    let store = MemoryTokenStorage::new();
    let _held = store
        .try_lock("k", Duration::from_secs(10))
        .await
        .expect("lock")
        .expect("granted");
    tokio::time::advance(Duration::from_secs(9)).await;
    assert!(
        store
            .try_lock("k", Duration::from_secs(10))
            .await
            .expect("lock")
            .is_none()
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    assert!(
        store
            .try_lock("k", Duration::from_secs(10))
            .await
            .expect("lock")
            .is_some()
    );
}

#[tokio::test]
async fn file_store_conformance_across_two_handles() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("nested").join("tokens.json");
    conformance(
        Arc::new(FileTokenStorage::new(&path)),
        Arc::new(FileTokenStorage::new(&path)),
    )
    .await;
}

#[cfg(unix)]
#[tokio::test]
async fn file_store_is_private_and_leaves_no_temporary_files() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("state").join("tokens.json");
    let store = FileTokenStorage::new(&path);
    store
        .set_integration_tokens(&tokens("x"))
        .await
        .expect("write");
    store
        .set_service_app_tokens(&org(ORG_A), &tokens("a"))
        .await
        .expect("write");
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(path.parent().expect("parent"))
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    assert_eq!(
        file_names(path.parent().expect("parent")),
        ["tokens.json", "tokens.json.lock"]
    );
    // The content is the documented JSON layout with real values.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    assert_eq!(json["version"], 1);
    assert_eq!(json["integration"]["access_token"], "x");
    assert_eq!(json["serviceApps"][ORG_A]["refresh_token"], "a-refresh");
}

#[tokio::test]
async fn file_store_never_overwrites_a_file_it_cannot_read() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("tokens.json");
    std::fs::write(&path, b"{ not json").expect("write");
    let store = FileTokenStorage::new(&path);
    let error = store
        .set_integration_tokens(&tokens("x"))
        .await
        .expect_err("corrupt");
    assert!(error.is_storage(), "{error:?}");
    assert!(
        error.to_string().contains("not a valid token file"),
        "{error}"
    );
    assert_eq!(std::fs::read(&path).expect("read"), b"{ not json");

    std::fs::write(&path, br#"{"version": 99, "serviceApps": {}}"#).expect("write");
    let error = store.registered_orgs().await.expect_err("newer format");
    assert!(error.to_string().contains("newer byova"), "{error}");
    let error = store
        .delete_service_app_tokens(&org(ORG_A))
        .await
        .expect_err("newer format");
    assert!(error.is_storage());
    assert_eq!(
        std::fs::read(&path).expect("read"),
        br#"{"version": 99, "serviceApps": {}}"#
    );
}

#[tokio::test]
async fn file_store_keeps_unknown_fields() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("tokens.json");
    std::fs::write(
        &path,
        br#"{"version": 1, "serviceApps": {}, "addedLater": {"keep": true}}"#,
    )
    .expect("write");
    let store = FileTokenStorage::new(&path);
    store
        .set_integration_tokens(&tokens("x"))
        .await
        .expect("write");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    assert_eq!(json["addedLater"]["keep"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_writers_in_two_handles_lose_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("tokens.json");
    let first = Arc::new(FileTokenStorage::new(&path));
    let second = Arc::new(FileTokenStorage::new(&path));
    let mut writers = Vec::new();
    for i in 0..40_u32 {
        let store = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        writers.push(tokio::spawn(async move {
            let org: OrgId = format!("00000000-0000-4000-8000-{i:012}")
                .parse()
                .expect("org");
            store
                .set_service_app_tokens(&org, &tokens(&format!("t{i}")))
                .await
                .expect("write");
        }));
    }
    for writer in writers {
        writer.await.expect("join");
    }
    let orgs = first.registered_orgs().await.expect("orgs");
    assert_eq!(orgs.len(), 40);
}

#[tokio::test]
async fn redis_store_conformance_and_key_layout() {
    let server = RedisServer::start();
    let store = RedisTokenStorage::connect(&server.url())
        .await
        .expect("connect")
        .with_prefix("it:conf:");
    let other = RedisTokenStorage::connect(&server.url())
        .await
        .expect("connect")
        .with_prefix("it:conf:");
    conformance(Arc::new(store.clone()), Arc::new(other)).await;

    store
        .set_service_app_tokens(&org(ORG_A), &tokens("a"))
        .await
        .expect("set");
    store
        .set_integration_tokens(&tokens("i"))
        .await
        .expect("set");
    let client = redis::Client::open(server.url()).expect("client");
    let mut raw = client
        .get_multiplexed_async_connection()
        .await
        .expect("raw connection");
    let stored: String = redis::cmd("HGET")
        .arg("it:conf:service_apps")
        .arg(ORG_A)
        .query_async(&mut raw)
        .await
        .expect("hget");
    let stored: OAuthTokens = serde_json::from_str(&stored).expect("json");
    assert_eq!(stored, tokens("a"));
    let stored: String = redis::cmd("GET")
        .arg("it:conf:integration")
        .query_async(&mut raw)
        .await
        .expect("get");
    assert_eq!(
        serde_json::from_str::<OAuthTokens>(&stored).expect("json"),
        tokens("i")
    );

    // Another prefix is another namespace.
    let elsewhere = RedisTokenStorage::connect(&server.url())
        .await
        .expect("connect")
        .with_prefix("it:other:");
    assert_eq!(
        elsewhere.registered_orgs().await.expect("orgs"),
        Vec::<OrgId>::new()
    );
    assert_eq!(elsewhere.integration_tokens().await.expect("read"), None);
}

#[tokio::test]
async fn redis_lock_is_set_nx_px_and_expires_by_itself() {
    let server = RedisServer::start();
    let replica_a = RedisTokenStorage::connect(&server.url())
        .await
        .expect("connect");
    let replica_b = RedisTokenStorage::connect(&server.url())
        .await
        .expect("connect");
    let held = replica_a
        .try_lock("service-app:o", Duration::from_secs(2))
        .await
        .expect("lock")
        .expect("granted");

    let client = redis::Client::open(server.url()).expect("client");
    let mut raw = client
        .get_multiplexed_async_connection()
        .await
        .expect("raw connection");
    let value: String = redis::cmd("GET")
        .arg("byova:lock:service-app:o")
        .query_async(&mut raw)
        .await
        .expect("get");
    assert_eq!(value, held.as_str());
    let ttl: i64 = redis::cmd("PTTL")
        .arg("byova:lock:service-app:o")
        .query_async(&mut raw)
        .await
        .expect("pttl");
    assert!((1..=2000).contains(&ttl), "PX ttl {ttl}");

    assert!(
        replica_b
            .try_lock("service-app:o", Duration::from_secs(5))
            .await
            .expect("lock")
            .is_none()
    );
    // The holder "dies": the lock expires without an unlock (poll with a deadline).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let taken = loop {
        if let Some(token) = replica_b
            .try_lock("service-app:o", Duration::from_secs(5))
            .await
            .expect("lock")
        {
            break token;
        }
        assert!(std::time::Instant::now() < deadline, "lock never expired");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // The late release by the first holder must not free the new holder's lock.
    replica_a
        .unlock("service-app:o", held)
        .await
        .expect("unlock");
    assert!(
        replica_a
            .try_lock("service-app:o", Duration::from_secs(5))
            .await
            .expect("lock")
            .is_none()
    );
    replica_b
        .unlock("service-app:o", taken)
        .await
        .expect("unlock");
    assert!(
        replica_a
            .try_lock("service-app:o", Duration::from_secs(5))
            .await
            .expect("lock")
            .is_some()
    );
}

#[tokio::test]
async fn redis_bad_url_and_unreachable_server_are_typed_errors() {
    let error = RedisTokenStorage::connect("not a url")
        .await
        .expect_err("bad url");
    assert_eq!(error.kind(), &byova_auth::ErrorKind::InvalidInput);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let error = RedisTokenStorage::connect(&format!("redis://:hunter2@127.0.0.1:{port}/"))
        .await
        .expect_err("nothing listens");
    assert!(error.is_storage(), "{error:?}");
    assert!(!format!("{error} {error:?}").contains("hunter2"));
}
