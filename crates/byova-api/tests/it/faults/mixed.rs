//! Many concurrent requests under a mixed fault schedule: each path has its own script of
//! faults, so each request has one exact expected outcome and request count.

use std::time::Duration;

use byova_api::{ErrorKind, Method, RetryPolicy, StatusCode};
use tokio::task::JoinSet;

use super::raw_client;
use super::raw_server::{Fault, RawServer};

const REQUESTS: usize = 300;
const ATTEMPTS: u32 = 4;

/// The fault schedule of request `i`: method, what the server does on its `nth` attempt,
/// the expected result and how many attempts reach the server.
#[derive(Clone, Copy, Debug)]
enum Schedule {
    /// 200 at once.
    Fine,
    /// 429 with `Retry-After: 1`, then 200.
    RateLimitedOnce,
    /// 503 twice, then 200.
    UnavailableTwice,
    /// Reset once, then 200.
    ResetOnce,
    /// Cut off mid-body once, then 200.
    TruncatedOnce,
    /// Garbage once, then 200.
    GarbageOnce,
    /// 500 (not retried).
    InternalError,
    /// 429 with `Retry-After: 2` forever.
    RateLimitedForever,
    /// Reset forever.
    ResetForever,
    /// POST answered 503: sent once.
    PostUnavailable,
    /// POST reset: sent once.
    PostReset,
    /// POST answered 200.
    PostFine,
}

const SCHEDULES: [Schedule; 12] = [
    Schedule::Fine,
    Schedule::RateLimitedOnce,
    Schedule::UnavailableTwice,
    Schedule::ResetOnce,
    Schedule::TruncatedOnce,
    Schedule::GarbageOnce,
    Schedule::InternalError,
    Schedule::RateLimitedForever,
    Schedule::ResetForever,
    Schedule::PostUnavailable,
    Schedule::PostReset,
    Schedule::PostFine,
];

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Ok(serde_json::Value),
    Err(ErrorKind, Option<StatusCode>),
}

impl Schedule {
    fn of(i: usize) -> Self {
        SCHEDULES[i % SCHEDULES.len()]
    }

    fn method(self) -> Method {
        match self {
            Self::PostUnavailable | Self::PostReset | Self::PostFine => Method::POST,
            _ => Method::GET,
        }
    }

    fn fault(self, nth: usize, i: usize) -> Fault {
        let ok = Fault::ok(format!(r#"{{"i": {i}}}"#));
        match (self, nth) {
            (Self::Fine | Self::PostFine, _) => ok,
            (Self::RateLimitedOnce, 1) => Fault::status(429, Some(1)),
            (Self::UnavailableTwice, 1 | 2) => Fault::status(503, None),
            (Self::ResetOnce, 1) | (Self::ResetForever | Self::PostReset, _) => Fault::Reset,
            (Self::TruncatedOnce, 1) => Fault::TruncatedBody,
            (Self::GarbageOnce, 1) => Fault::Garbage,
            (Self::InternalError, _) => Fault::status(500, None),
            (Self::RateLimitedForever, _) => Fault::status(429, Some(2)),
            (Self::PostUnavailable, _) => Fault::status(503, None),
            _ => ok,
        }
    }

    fn expected(self, i: usize) -> (Outcome, usize) {
        let ok = Outcome::Ok(serde_json::json!({ "i": i }));
        let attempts = ATTEMPTS as usize;
        match self {
            Self::Fine | Self::PostFine => (ok, 1),
            Self::RateLimitedOnce | Self::ResetOnce | Self::TruncatedOnce | Self::GarbageOnce => {
                (ok, 2)
            }
            Self::UnavailableTwice => (ok, 3),
            Self::InternalError => (
                Outcome::Err(ErrorKind::Server, Some(StatusCode::INTERNAL_SERVER_ERROR)),
                1,
            ),
            Self::RateLimitedForever => (
                Outcome::Err(
                    ErrorKind::RateLimited {
                        retry_after: Some(Duration::from_secs(2)),
                    },
                    Some(StatusCode::TOO_MANY_REQUESTS),
                ),
                attempts,
            ),
            Self::ResetForever => (Outcome::Err(ErrorKind::Transport, None), attempts),
            Self::PostUnavailable => (
                Outcome::Err(ErrorKind::Server, Some(StatusCode::SERVICE_UNAVAILABLE)),
                1,
            ),
            Self::PostReset => (Outcome::Err(ErrorKind::Transport, None), 1),
        }
    }
}

fn index_of(path: &str) -> usize {
    path.trim_start_matches("/item/").parse().unwrap()
}

#[tokio::test(start_paused = true)]
async fn concurrent_requests_under_mixed_faults_each_end_as_scheduled() {
    let server = RawServer::scripted(|seen| {
        let i = index_of(&seen.path);
        let schedule = Schedule::of(i);
        if seen.method != schedule.method().as_str() {
            return Fault::status(599, None);
        }
        schedule.fault(seen.nth, i)
    })
    .await;
    let client = raw_client(
        server.uri(),
        RetryPolicy::default()
            .max_attempts(ATTEMPTS)
            // Concurrent requests move the paused clock for each other: no deadline, so every
            // outcome depends on the attempt cap only.
            .deadline(None)
            .backoff(Duration::from_millis(200), Duration::from_secs(1)),
    );

    let mut calls = JoinSet::new();
    for i in 0..REQUESTS {
        let client = client.clone();
        calls.spawn(async move {
            let request = client.request(Schedule::of(i).method(), format!("/item/{i}"));
            let outcome = match request.send().await {
                Ok(response) => Outcome::Ok(response.json().unwrap()),
                Err(err) => Outcome::Err(err.kind(), err.status()),
            };
            (i, outcome)
        });
    }
    let mut ended = vec![false; REQUESTS];
    while let Some(joined) = calls.join_next().await {
        let (i, outcome) = joined.expect("no request task panics");
        let schedule = Schedule::of(i);
        let (expected, attempts) = schedule.expected(i);
        assert_eq!(outcome, expected, "request {i} ({schedule:?})");
        assert_eq!(
            server.requests_to(&format!("/item/{i}")),
            attempts,
            "request {i} ({schedule:?})"
        );
        ended[i] = true;
    }
    assert!(ended.iter().all(|e| *e));
}
