//! Retries under a paused clock: 429 + Retry-After, 5xx backoff, methods, caps, deadline.

use std::time::{Duration, SystemTime};

use byova_api::test_util::matchers::{method, path};
use byova_api::test_util::{WebexStandIn, responses};
use byova_api::{ErrorKind, RetryPolicy, RetryReason, StatusCode};
use tokio::time::Instant;
use wiremock::{Mock, ResponseTemplate};

use crate::support::{received, recording_policy, tracking_id};

/// Answers `status` (with `Retry-After: retry_after` if given) `times` times, then the lower
/// priority success mock takes over.
async fn fail_then_succeed(
    webex: &WebexStandIn,
    http_method: &str,
    status: u16,
    retry_after: Option<&str>,
    times: u64,
) {
    let mut failure =
        ResponseTemplate::new(status).set_body_json(serde_json::json!({"message": "slow down"}));
    if let Some(value) = retry_after {
        failure = failure.insert_header("retry-after", value);
    }
    Mock::given(method(http_method))
        .and(path("/thing"))
        .respond_with(failure)
        .up_to_n_times(times)
        .expect(times)
        .with_priority(1)
        .mount(webex.server())
        .await;
    Mock::given(method(http_method))
        .and(path("/thing"))
        .respond_with(responses::json(serde_json::json!({"ok": true})))
        .expect(1)
        .with_priority(2)
        .mount(webex.server())
        .await;
}

#[tokio::test(start_paused = true)]
async fn rate_limit_waits_retry_after_seconds() {
    let webex = WebexStandIn::start().await;
    fail_then_succeed(&webex, "GET", 429, Some("7"), 1).await;
    let (policy, events) = recording_policy(RetryPolicy::default());
    let client = webex.client_builder().retry_policy(policy).build().unwrap();

    let start = Instant::now();
    let response = client.get("/thing").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(start.elapsed(), Duration::from_secs(7));

    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].reason,
        RetryReason::RateLimited {
            retry_after: Some(Duration::from_secs(7))
        }
    );
    assert_eq!(events[0].delay, Duration::from_secs(7));
    assert_eq!(events[0].attempt, 1);
    assert_eq!(events[0].path, "/thing");
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn rate_limit_waits_until_an_http_date() {
    let webex = WebexStandIn::start().await;
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
    fail_then_succeed(&webex, "GET", 429, Some(&date), 1).await;
    let client = webex.client();

    let start = Instant::now();
    client.get("/thing").send().await.unwrap();
    let waited = start.elapsed();
    // The date has one-second resolution and real time passes while the test runs.
    assert!(
        waited > Duration::from_secs(27) && waited <= Duration::from_secs(30),
        "{waited:?}"
    );
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn rate_limit_without_retry_after_waits_15_seconds() {
    let webex = WebexStandIn::start().await;
    fail_then_succeed(&webex, "DELETE", 429, None, 2).await;
    let start = Instant::now();
    webex.client().delete("/thing").send().await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(30));
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn retry_after_beyond_the_cap_fails_at_once_with_the_delay() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .expect(1)
        .mount(webex.server())
        .await;
    let start = Instant::now();
    let err = webex.client().get("/thing").send().await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(
        err.kind(),
        ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(3600))
        }
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn service_unavailable_twice_then_success_backs_off() {
    let webex = WebexStandIn::start().await;
    fail_then_succeed(&webex, "GET", 503, None, 2).await;
    let (policy, events) = recording_policy(
        RetryPolicy::default().backoff(Duration::from_secs(1), Duration::from_secs(60)),
    );
    let client = webex.client_builder().retry_policy(policy).build().unwrap();

    let start = Instant::now();
    client.get("/thing").send().await.unwrap();
    let waited = start.elapsed();

    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 2);
    assert!(
        events
            .iter()
            .all(|e| e.reason == RetryReason::Status(StatusCode::SERVICE_UNAVAILABLE))
    );
    // 1 s then 2 s, each ±20 %.
    assert!(
        events[0].delay >= Duration::from_millis(800)
            && events[0].delay <= Duration::from_millis(1200)
    );
    assert!(
        events[1].delay >= Duration::from_millis(1600)
            && events[1].delay <= Duration::from_millis(2400)
    );
    // The paused clock advanced by exactly the two waits (timers have millisecond resolution).
    let slept = events[0].delay + events[1].delay;
    assert!(
        waited >= slept && waited <= slept + Duration::from_millis(2),
        "{waited:?} vs {slept:?}"
    );

    // Every attempt has its own TrackingID; the hook saw the failed ones.
    let requests = received(&webex).await;
    let ids: Vec<String> = requests.iter().map(tracking_id).collect();
    assert_eq!(ids.len(), 3);
    let prefix = ids[0].strip_suffix("_1").unwrap();
    assert_eq!(
        ids,
        [
            format!("{prefix}_1"),
            format!("{prefix}_2"),
            format!("{prefix}_3")
        ]
    );
    assert_eq!(events[0].tracking_id, ids[0]);
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn bad_gateway_and_gateway_timeout_are_retried_too() {
    for status in [502, 504] {
        let webex = WebexStandIn::start().await;
        fail_then_succeed(&webex, "PUT", status, None, 1).await;
        webex.client().put("/thing").send().await.unwrap();
        webex.verify().await;
    }
}

#[tokio::test(start_paused = true)]
async fn server_errors_on_post_are_not_retried() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("POST"))
        .and(path("/thing"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(webex.server())
        .await;
    let (policy, events) = recording_policy(RetryPolicy::default());
    let client = webex.client_builder().retry_policy(policy).build().unwrap();
    let err = client
        .post("/thing")
        .json_body(&serde_json::json!({}))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_server());
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert!(events.lock().unwrap().is_empty());
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn post_can_opt_in() {
    let webex = WebexStandIn::start().await;
    fail_then_succeed(&webex, "POST", 503, None, 1).await;
    webex
        .client()
        .post("/thing")
        .retry_non_idempotent(true)
        .send()
        .await
        .unwrap();
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn internal_server_error_is_not_retried() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(webex.server())
        .await;
    assert!(
        webex
            .client()
            .get("/thing")
            .send()
            .await
            .unwrap_err()
            .is_server()
    );
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn attempts_are_capped() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(webex.server())
        .await;
    let client = webex
        .client_builder()
        .retry_policy(RetryPolicy::default().max_attempts(3))
        .build()
        .unwrap();
    let err = client.get("/thing").send().await.unwrap_err();
    assert!(err.is_server());
    webex.verify().await;

    // A disabled policy makes exactly one attempt.
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .expect(1)
        .mount(webex.server())
        .await;
    let err = webex
        .client()
        .get("/thing")
        .retry_policy(RetryPolicy::disabled())
        .send()
        .await
        .unwrap_err();
    assert!(err.is_rate_limited());
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn no_wait_starts_past_the_deadline() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "10"))
        .expect(3)
        .mount(webex.server())
        .await;
    let policy = RetryPolicy::default()
        .max_attempts(10)
        .deadline(Some(Duration::from_secs(25)));
    let client = webex.client_builder().retry_policy(policy).build().unwrap();
    let start = Instant::now();
    let err = client.get("/thing").send().await.unwrap_err();
    // Attempts at 0 s, 10 s and 20 s; a third wait would end at 30 s > 25 s.
    assert_eq!(start.elapsed(), Duration::from_secs(20));
    assert_eq!(
        err.kind(),
        ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(10))
        }
    );
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn connection_failures_back_off_for_any_method() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let (policy, events) = recording_policy(RetryPolicy::default().max_attempts(3));
    let client = byova_api::Client::builder()
        .base_url(url)
        .connect_timeout(None)
        .timeout(None)
        .pool_idle_timeout(None)
        .retry_policy(policy)
        .build()
        .unwrap();
    let err = client.post("/thing").send().await.unwrap_err();
    assert!(err.is_transport(), "{err}");
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.reason == RetryReason::Connect));
}
