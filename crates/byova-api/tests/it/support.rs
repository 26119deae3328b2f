//! Shared helpers: a recording retry hook, a refreshing token source, request inspection.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use byova_api::test_util::WebexStandIn;
use byova_api::{BoxFuture, Error, RetryEvent, RetryPolicy, TokenSource};
use byova_models::Secret;

/// A retry policy whose hook records every event.
pub fn recording_policy(policy: RetryPolicy) -> (RetryPolicy, Arc<Mutex<Vec<RetryEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let policy = policy.on_retry(move |event| sink.lock().unwrap().push(event.clone()));
    (policy, events)
}

/// The requests the stand-in received (all of them, matched or not).
pub async fn received(webex: &WebexStandIn) -> Vec<wiremock::Request> {
    webex
        .server()
        .received_requests()
        .await
        .expect("recording is on")
}

/// The `TrackingID` header of a received request.
pub fn tracking_id(request: &wiremock::Request) -> String {
    request.headers["trackingid"].to_str().unwrap().to_owned()
}

/// A token source that hands out `current` and, on refresh, records the rejected token and
/// switches to `next` (or declines when `next` is `None`).
#[derive(Debug)]
pub struct Refreshing {
    pub current: Mutex<Secret>,
    pub next: Option<Secret>,
    pub refreshes: AtomicUsize,
    pub rejected: Mutex<Vec<Secret>>,
}

impl Refreshing {
    pub fn new(current: &str, next: Option<&str>) -> Arc<Self> {
        Arc::new(Self {
            current: Mutex::new(Secret::new(current)),
            next: next.map(Secret::new),
            refreshes: AtomicUsize::new(0),
            rejected: Mutex::new(Vec::new()),
        })
    }

    pub fn refreshes(&self) -> usize {
        self.refreshes.load(Ordering::SeqCst)
    }
}

impl TokenSource for Refreshing {
    fn token(&self) -> BoxFuture<'_, Result<Secret, Error>> {
        let token = self.current.lock().unwrap().clone();
        Box::pin(async move { Ok(token) })
    }

    fn refresh<'a>(&'a self, rejected: &'a Secret) -> BoxFuture<'a, Result<Option<Secret>, Error>> {
        Box::pin(async move {
            self.refreshes.fetch_add(1, Ordering::SeqCst);
            self.rejected.lock().unwrap().push(rejected.clone());
            if let Some(next) = &self.next {
                *self.current.lock().unwrap() = next.clone();
            }
            Ok(self.next.clone())
        })
    }
}
