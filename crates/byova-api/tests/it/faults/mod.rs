//! Fault injection: the Webex stand-in (and a deliberately broken raw HTTP server) answering with
//! 429 storms, 5xx storms, slow responses, connection resets and cut-off responses. Every request
//! ends with a defined result, retries stay within the policy, and nothing panics.

mod connections;
mod mixed;
mod rate_limits;
mod raw_server;
mod server_errors;
mod slow;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use byova_api::Client;
use wiremock::{Request, Respond, ResponseTemplate};

/// Answers with scripted responses in turn, counting the requests.
pub struct Scripted {
    responses: Vec<ResponseTemplate>,
    cycle: bool,
    hits: Arc<AtomicUsize>,
}

impl Scripted {
    /// Answers with `responses` in turn, the last one repeating; returns the request counter.
    pub fn sequence(responses: Vec<ResponseTemplate>) -> (Self, Arc<AtomicUsize>) {
        Self::new(responses, false)
    }

    /// Answers with `responses` in a loop; returns the request counter.
    pub fn cycle(responses: Vec<ResponseTemplate>) -> (Self, Arc<AtomicUsize>) {
        Self::new(responses, true)
    }

    fn new(responses: Vec<ResponseTemplate>, cycle: bool) -> (Self, Arc<AtomicUsize>) {
        let hits = Arc::new(AtomicUsize::new(0));
        let responder = Self {
            responses,
            cycle,
            hits: Arc::clone(&hits),
        };
        (responder, hits)
    }
}

impl Respond for Scripted {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.hits.fetch_add(1, Ordering::SeqCst);
        let len = self.responses.len();
        let index = if self.cycle { n % len } else { n.min(len - 1) };
        self.responses[index].clone()
    }
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

/// A client for a server that is not the stand-in: no timeouts, no pool timer (safe under
/// `tokio::time::pause`).
pub fn raw_client(uri: String, policy: byova_api::RetryPolicy) -> Client {
    Client::builder()
        .base_url(uri)
        .timeout(None)
        .connect_timeout(None)
        .pool_idle_timeout(None)
        .retry_policy(policy)
        .build()
        .unwrap()
}

/// The hits so far.
pub fn hits(counter: &AtomicUsize) -> usize {
    counter.load(Ordering::SeqCst)
}
