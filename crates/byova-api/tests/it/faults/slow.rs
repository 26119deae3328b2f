//! Slow responses: a `Timeout` error, not a hang and not a retry; the client keeps working.
//! Real time with a few seconds' timeouts (a paused clock would fire them before the request
//! reaches the server); every test is bounded by an outer deadline.

use std::time::Duration;

use byova_api::test_util::matchers::{method, path};
use byova_api::test_util::{WebexStandIn, responses};
use byova_api::{ErrorKind, RetryPolicy};
use serde_json::json;
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout};
use wiremock::Mock;

use super::raw_client;
use super::raw_server::{Fault, RawServer};

/// Long enough for a request to reach a loopback server on a loaded machine.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// Nothing here may take longer.
const NO_HANG: Duration = Duration::from_secs(60);

#[tokio::test]
async fn slow_answers_to_concurrent_requests_all_time_out_once() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/slow"))
        .respond_with(responses::json(json!({})).set_delay(Duration::from_secs(600)))
        .expect(10)
        .mount(webex.server())
        .await;
    Mock::given(method("GET"))
        .and(path("/fast"))
        .respond_with(responses::json(json!({"ok": true})))
        .expect(1)
        .mount(webex.server())
        .await;
    let client = webex
        .client_builder()
        .timeout(Some(ATTEMPT_TIMEOUT))
        .retry_policy(RetryPolicy::default().max_attempts(5))
        .build()
        .unwrap();

    timeout(NO_HANG, async {
        let mut calls = JoinSet::new();
        for _ in 0..10 {
            let client = client.clone();
            calls.spawn(async move { client.get("/slow").send().await });
        }
        while let Some(outcome) = calls.join_next().await {
            let err = outcome.unwrap().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        }
        let body: serde_json::Value = client.get("/fast").json().await.unwrap();
        assert_eq!(body, json!({"ok": true}));
    })
    .await
    .expect("slow responses must not hang the client");
    // `.expect(10)`: each slow request was sent once, never retried.
    webex.verify().await;
}

#[tokio::test]
async fn a_body_that_never_comes_times_out() {
    let server = RawServer::scripted(|_| Fault::StallBody).await;
    let client = byova_api::Client::builder()
        .base_url(server.uri())
        .timeout(Some(ATTEMPT_TIMEOUT))
        .retry_policy(RetryPolicy::default().max_attempts(5))
        .build()
        .unwrap();
    let err = timeout(NO_HANG, client.get("/stall").send())
        .await
        .expect("a stalled body must not hang the client")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    // The head arrived, so the request certainly reached the server: once.
    assert_eq!(server.requests_to("/stall"), 1);
}

#[tokio::test]
async fn the_retry_deadline_bounds_a_slow_attempt() {
    let server = RawServer::scripted(|_| Fault::StallBody).await;
    let client = raw_client(
        server.uri(),
        RetryPolicy::default().deadline(Some(ATTEMPT_TIMEOUT)),
    );
    // A per-attempt timeout far beyond the deadline: the deadline cuts the attempt short.
    let start = Instant::now();
    let err = timeout(
        NO_HANG,
        client
            .get("/stall")
            .timeout(Some(Duration::from_secs(3_600)))
            .send(),
    )
    .await
    .expect("the deadline must bound the attempt")
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(start.elapsed() >= ATTEMPT_TIMEOUT);
    assert_eq!(server.requests_to("/stall"), 1);
}
