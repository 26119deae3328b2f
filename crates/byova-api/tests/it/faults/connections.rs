//! Connection resets and responses cut off mid-head or mid-body: `Transport` errors, retried for
//! idempotent methods up to the cap, sent once for POST unless it opts in. A body that is
//! complete on the wire but not valid JSON is a `Decode` error. Never a panic.

use std::time::Duration;

use byova_api::{ErrorKind, RetryPolicy, RetryReason, StaticToken};
use tokio::time::Instant;

use super::raw_client;
use super::raw_server::{Fault, RawServer};
use crate::support::recording_policy;

fn policy(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(attempts)
        .backoff(Duration::from_secs(1), Duration::from_secs(1))
}

#[tokio::test(start_paused = true)]
async fn resets_on_get_are_retried_up_to_the_cap() {
    let server = RawServer::resetting().await;
    let (policy, events) = recording_policy(policy(4));
    let client = raw_client(server.uri(), policy);

    let err = client.get("/reset").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(
        err.to_string().starts_with("transport error (GET /reset)"),
        "{err}"
    );
    assert_eq!(server.accepted(), 4);
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 3);
    assert!(
        events.iter().all(|e| e.reason == RetryReason::Transport),
        "{events:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn resets_on_post_are_not_retried_unless_opted_in() {
    let server = RawServer::resetting().await;
    let (policy, events) = recording_policy(policy(4));
    let client = raw_client(server.uri(), policy);

    let err = client
        .post("/reset")
        .json_body(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(server.accepted(), 1);
    assert!(events.lock().unwrap().is_empty());

    let err = client
        .post("/reset")
        .retry_non_idempotent(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(server.accepted(), 1 + 4);
}

#[tokio::test(start_paused = true)]
async fn every_cut_off_response_is_a_transport_error() {
    let cases = [
        ("/reset-after-request", Fault::Reset),
        ("/truncated-head", Fault::TruncatedHead),
        ("/truncated-body", Fault::TruncatedBody),
        ("/truncated-chunked", Fault::TruncatedChunked),
        ("/garbage", Fault::Garbage),
        ("/dataSources/ds-1", Fault::Reset),
    ];
    let script = cases.clone();
    let server = RawServer::scripted(move |seen| {
        script
            .iter()
            .find(|(path, _)| *path == seen.path)
            .map(|(_, fault)| fault.clone())
            .unwrap_or_else(|| Fault::status(599, None))
    })
    .await;
    let client = raw_client(server.uri(), policy(3));

    for (path, _) in &cases[..5] {
        // GET: retried as a transport failure, three attempts.
        let err = client.get(*path).send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport, "GET {path}: {err}");
        assert_eq!(server.requests_to(path), 3, "GET {path}");
        // POST: the request may have been acted on, so it is sent once.
        let err = client.post(*path).send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport, "POST {path}: {err}");
        assert_eq!(server.requests_to(path), 3 + 1, "POST {path}");
    }
    // The typed resources see the same errors.
    let err = client
        .data_sources(StaticToken::new("sa-token"))
        .get("ds-1")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(server.requests_to("/dataSources/ds-1"), 3);
}

#[tokio::test(start_paused = true)]
async fn a_response_cut_off_mid_body_then_a_good_one_succeeds() {
    let server = RawServer::scripted(|seen| match seen.nth {
        1 => Fault::TruncatedBody,
        2 => Fault::Reset,
        3 => Fault::TruncatedChunked,
        _ => Fault::ok(r#"{"id": "ds-1"}"#),
    })
    .await;
    let (policy, events) = recording_policy(policy(4));
    let client = raw_client(server.uri(), policy);

    let start = Instant::now();
    let body: serde_json::Value = client.get("/flaky").json().await.unwrap();
    assert_eq!(body, serde_json::json!({"id": "ds-1"}));
    assert_eq!(server.requests_to("/flaky"), 4);
    assert_eq!(events.lock().unwrap().len(), 3);
    // Three waits of 1 s ± 20 %.
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(2_400) && waited <= Duration::from_millis(3_610),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_complete_response_with_cut_off_json_is_a_decode_error() {
    let server = RawServer::scripted(|seen| match seen.path.as_str() {
        "/dataSources/ds-1" => Fault::ok(r#"{"id": "ds-1", "status": "act"#),
        "/dataSources/" => Fault::ok(r#"{"items": [{"id": "ds-1"}"#),
        _ => Fault::status(599, None),
    })
    .await;
    let client = raw_client(server.uri(), policy(4));
    let data_sources = client.data_sources(StaticToken::new("sa-token"));

    let err = data_sources.get("ds-1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    let err = data_sources.list().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    // Decoding happens after the exchange succeeded: nothing is retried.
    assert_eq!(server.requests_to("/dataSources/ds-1"), 1);
    assert_eq!(server.requests_to("/dataSources/"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_body_over_the_limit_is_a_decode_error() {
    let big = format!(r#"{{"pad": "{}"}}"#, "x".repeat(64 * 1024));
    let server = RawServer::scripted(move |_| Fault::ok(big.clone())).await;
    let client = byova_api::Client::builder()
        .base_url(server.uri())
        .timeout(None)
        .connect_timeout(None)
        .pool_idle_timeout(None)
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let err = client.get("/big").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert_eq!(server.requests_to("/big"), 1);
}
