//! 5xx storms under a paused clock: GET (and the other idempotent methods) back off
//! exponentially up to the cap; POST is not retried; 500 is never retried.

use std::time::Duration;

use byova_api::test_util::WebexStandIn;
use byova_api::test_util::matchers::{method, path};
use byova_api::{ErrorKind, RetryPolicy, RetryReason, StatusCode};
use tokio::time::Instant;
use wiremock::{Mock, ResponseTemplate};

use super::{Scripted, hits};
use crate::support::recording_policy;

fn server_error(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(
        serde_json::json!({"message": "upstream trouble", "trackingId": "ROUTER_5XX"}),
    )
}

#[tokio::test(start_paused = true)]
async fn a_gateway_storm_on_get_backs_off_up_to_the_cap() {
    let webex = WebexStandIn::start().await;
    let (storm, counter) = Scripted::cycle([502, 503, 504].map(server_error).to_vec());
    Mock::given(method("GET"))
        .and(path("/storm"))
        .respond_with(storm)
        .mount(webex.server())
        .await;
    let (policy, events) = recording_policy(
        RetryPolicy::default()
            .max_attempts(5)
            .backoff(Duration::from_secs(1), Duration::from_secs(4)),
    );
    let client = webex.client_builder().retry_policy(policy).build().unwrap();

    let start = Instant::now();
    let err = client.get("/storm").send().await.unwrap_err();
    let waited = start.elapsed();

    assert_eq!(hits(&counter), 5);
    // The fifth answer (503) is the error.
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(err.tracking_id(), Some("ROUTER_5XX"));

    let events = events.lock().unwrap().clone();
    let reasons: Vec<RetryReason> = events.iter().map(|e| e.reason.clone()).collect();
    assert_eq!(
        reasons,
        [502, 503, 504, 502].map(|s| RetryReason::Status(StatusCode::from_u16(s).unwrap()))
    );
    // 1, 2, 4, 4 s (capped), each ±20 %.
    for (event, base) in events.iter().zip([1_000_u64, 2_000, 4_000, 4_000]) {
        let (low, high) = (base * 8 / 10, base * 12 / 10);
        assert!(
            event.delay >= Duration::from_millis(low) && event.delay <= Duration::from_millis(high),
            "retry {}: {:?} not in {low}..={high} ms",
            event.attempt,
            event.delay
        );
    }
    let slept: Duration = events.iter().map(|e| e.delay).sum();
    // Timers have millisecond resolution.
    assert!(
        waited >= slept && waited <= slept + Duration::from_millis(5),
        "{waited:?} vs {slept:?}"
    );
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn a_503_storm_honours_retry_after_over_the_backoff() {
    let webex = WebexStandIn::start().await;
    let (storm, counter) =
        Scripted::cycle(vec![server_error(503).insert_header("retry-after", "10")]);
    Mock::given(method("PUT"))
        .and(path("/storm"))
        .respond_with(storm)
        .mount(webex.server())
        .await;
    let policy = RetryPolicy::default()
        .max_attempts(3)
        .backoff(Duration::from_millis(100), Duration::from_millis(100));
    let client = webex.client_builder().retry_policy(policy).build().unwrap();

    let start = Instant::now();
    let err = client.put("/storm").send().await.unwrap_err();
    assert_eq!(hits(&counter), 3);
    assert_eq!(start.elapsed(), Duration::from_secs(20));
    assert!(err.is_server());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(10)));
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn server_errors_on_post_are_sent_once() {
    let webex = WebexStandIn::start().await;
    let mut counters = Vec::new();
    for status in [500, 502, 503, 504] {
        let (storm, counter) = Scripted::cycle(vec![server_error(status)]);
        Mock::given(method("POST"))
            .and(path(format!("/storm/{status}")))
            .respond_with(storm)
            .mount(webex.server())
            .await;
        counters.push((status, counter));
    }
    let (policy, events) = recording_policy(RetryPolicy::default().max_attempts(5));
    let client = webex.client_builder().retry_policy(policy).build().unwrap();

    let start = Instant::now();
    for (status, counter) in &counters {
        let err = client
            .post(format!("/storm/{status}"))
            .json_body(&serde_json::json!({"id": "ds-1"}))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{status}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(*status));
        assert_eq!(hits(counter), 1, "{status}");
    }
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert!(events.lock().unwrap().is_empty());
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn a_post_that_opts_in_is_retried_up_to_the_cap() {
    let webex = WebexStandIn::start().await;
    let (storm, counter) = Scripted::cycle(vec![server_error(502)]);
    Mock::given(method("POST"))
        .and(path("/storm"))
        .respond_with(storm)
        .mount(webex.server())
        .await;
    let policy = RetryPolicy::default()
        .max_attempts(4)
        .backoff(Duration::from_millis(10), Duration::from_millis(10));
    let client = webex.client_builder().retry_policy(policy).build().unwrap();
    let err = client
        .post("/storm")
        .retry_non_idempotent(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(hits(&counter), 4);
    assert_eq!(err.status(), Some(StatusCode::BAD_GATEWAY));
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn a_500_storm_on_get_is_not_retried() {
    let webex = WebexStandIn::start().await;
    let (storm, counter) = Scripted::cycle(vec![server_error(500)]);
    Mock::given(method("GET"))
        .and(path("/storm"))
        .respond_with(storm)
        .mount(webex.server())
        .await;
    let client = webex
        .client_builder()
        .retry_policy(RetryPolicy::default().max_attempts(10))
        .build()
        .unwrap();
    for _ in 0..20 {
        let err = client.get("/storm").send().await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    }
    assert_eq!(hits(&counter), 20);
    webex.verify().await;
}
