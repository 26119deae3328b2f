//! 429 storms under a paused clock: the attempt cap, the deadline and the `Retry-After` cap hold,
//! the final error is `RateLimited` with the last `Retry-After`, and exactly the allowed number
//! of requests reach the stand-in.

use std::time::Duration;

use byova_api::test_util::WebexStandIn;
use byova_api::test_util::matchers::{method, path};
use byova_api::{ErrorKind, RetryPolicy, RetryReason};
use tokio::time::Instant;
use wiremock::Mock;

use super::{Scripted, hits, too_many};
use crate::support::recording_policy;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[tokio::test(start_paused = true)]
async fn a_storm_with_and_without_retry_after_stops_at_the_attempt_cap() {
    let webex = WebexStandIn::start().await;
    let (storm, counter) =
        Scripted::cycle(vec![too_many(Some(3)), too_many(None), too_many(Some(1))]);
    Mock::given(method("GET"))
        .and(path("/storm"))
        .respond_with(storm)
        .mount(webex.server())
        .await;
    let (policy, events) = recording_policy(
        RetryPolicy::default()
            .max_attempts(7)
            .deadline(None)
            .default_retry_after(secs(5)),
    );
    let client = webex.client_builder().retry_policy(policy).build().unwrap();

    let start = Instant::now();
    let err = client.get("/storm").send().await.unwrap_err();

    // Seven attempts; the waits follow each answer: Retry-After 3, the default 5, Retry-After 1.
    assert_eq!(hits(&counter), 7);
    assert_eq!(start.elapsed(), secs(3 + 5 + 1 + 3 + 5 + 1));
    let delays: Vec<Duration> = events.lock().unwrap().iter().map(|e| e.delay).collect();
    assert_eq!(delays, [3, 5, 1, 3, 5, 1].map(secs));
    let reasons: Vec<RetryReason> = events
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.reason.clone())
        .collect();
    assert_eq!(
        reasons,
        [Some(3), None, Some(1), Some(3), None, Some(1)].map(|after| RetryReason::RateLimited {
            retry_after: after.map(secs)
        })
    );
    // The seventh answer (Retry-After: 3) is the error.
    assert_eq!(
        err.kind(),
        ErrorKind::RateLimited {
            retry_after: Some(secs(3))
        }
    );
    assert_eq!(err.retry_after(), Some(secs(3)));
    assert_eq!(err.tracking_id(), Some("ROUTER_429"));
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn a_storm_without_retry_after_stops_at_the_deadline() {
    let webex = WebexStandIn::start().await;
    let (storm, counter) = Scripted::cycle(vec![too_many(None)]);
    Mock::given(method("POST"))
        .and(path("/storm"))
        .respond_with(storm)
        .mount(webex.server())
        .await;
    let policy = RetryPolicy::default()
        .max_attempts(1_000)
        .deadline(Some(secs(30)))
        .default_retry_after(secs(4));
    let client = webex.client_builder().retry_policy(policy).build().unwrap();

    let start = Instant::now();
    let err = client
        .post("/storm")
        .retry_non_idempotent(true)
        .send()
        .await
        .unwrap_err();
    // Attempts at 0, 4, …, 28 s; the next wait would end at 32 s, past the 30 s deadline.
    assert_eq!(hits(&counter), 8);
    assert_eq!(start.elapsed(), secs(28));
    assert_eq!(err.kind(), ErrorKind::RateLimited { retry_after: None });
    assert!(err.is_rate_limited());
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn a_growing_retry_after_stops_at_the_deadline_with_the_last_value() {
    let webex = WebexStandIn::start().await;
    let (storm, counter) =
        Scripted::sequence([1, 2, 4, 8, 16, 32, 64].map(|s| too_many(Some(s))).to_vec());
    Mock::given(method("GET"))
        .and(path("/storm"))
        .respond_with(storm)
        .mount(webex.server())
        .await;
    let policy = RetryPolicy::default()
        .max_attempts(100)
        .deadline(Some(secs(40)));
    let client = webex.client_builder().retry_policy(policy).build().unwrap();

    let start = Instant::now();
    let err = client.get("/storm").send().await.unwrap_err();
    // Attempts at 0, 1, 3, 7, 15 and 31 s; waiting 32 s more would end past 40 s.
    assert_eq!(hits(&counter), 6);
    assert_eq!(start.elapsed(), secs(31));
    assert_eq!(
        err.kind(),
        ErrorKind::RateLimited {
            retry_after: Some(secs(32))
        }
    );
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_cap_mid_storm_ends_it_at_once() {
    let webex = WebexStandIn::start().await;
    let (storm, counter) = Scripted::sequence(vec![
        too_many(Some(2)),
        too_many(Some(2)),
        too_many(Some(2)),
        too_many(Some(3_600)),
    ]);
    Mock::given(method("DELETE"))
        .and(path("/storm"))
        .respond_with(storm)
        .mount(webex.server())
        .await;
    let policy = RetryPolicy::default()
        .max_attempts(10)
        .max_retry_after(secs(60));
    let client = webex.client_builder().retry_policy(policy).build().unwrap();

    let start = Instant::now();
    let err = client.delete("/storm").send().await.unwrap_err();
    assert_eq!(hits(&counter), 4);
    assert_eq!(start.elapsed(), secs(6));
    assert_eq!(
        err.kind(),
        ErrorKind::RateLimited {
            retry_after: Some(secs(3_600))
        }
    );
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn a_storm_on_post_is_not_retried_unless_opted_in() {
    let webex = WebexStandIn::start().await;
    let (storm, counter) = Scripted::cycle(vec![too_many(Some(1))]);
    Mock::given(method("POST"))
        .and(path("/storm"))
        .respond_with(storm)
        .mount(webex.server())
        .await;
    let client = webex.client();

    let start = Instant::now();
    let err = client.post("/storm").send().await.unwrap_err();
    assert_eq!(hits(&counter), 1);
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(
        err.kind(),
        ErrorKind::RateLimited {
            retry_after: Some(secs(1))
        }
    );

    // Opted in: the default policy's four attempts.
    let err = client
        .post("/storm")
        .retry_non_idempotent(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(hits(&counter), 1 + 4);
    assert_eq!(start.elapsed(), secs(3));
    assert!(err.is_rate_limited());
    webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn a_storm_that_passes_lets_the_request_through() {
    let webex = WebexStandIn::start().await;
    let mut answers: Vec<_> = (0..5)
        .map(|i| too_many((i % 2 == 0).then_some(2)))
        .collect();
    answers.push(byova_api::test_util::responses::json(
        serde_json::json!({"id": "ds-1"}),
    ));
    let (storm, counter) = Scripted::sequence(answers);
    Mock::given(method("GET"))
        .and(path("/storm"))
        .respond_with(storm)
        .mount(webex.server())
        .await;
    let policy = RetryPolicy::default()
        .max_attempts(6)
        .default_retry_after(secs(1));
    let client = webex.client_builder().retry_policy(policy).build().unwrap();

    let start = Instant::now();
    let body: serde_json::Value = client.get("/storm").json().await.unwrap();
    assert_eq!(body, serde_json::json!({"id": "ds-1"}));
    assert_eq!(hits(&counter), 6);
    assert_eq!(start.elapsed(), secs(2 + 1 + 2 + 1 + 2));
    webex.verify().await;
}
