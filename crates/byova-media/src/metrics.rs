//! Prometheus metrics of the media server and the small HTTP endpoint serving them with
//! `/healthz` and `/readyz`.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::input::SessionEndReason;

/// One label, `kind` or `reason`, with a static value.
type Label = [(&'static str, &'static str); 1];

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The server's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) active_calls: Gauge,
    pub(crate) active_turns: Gauge,
    pub(crate) calls_started: Counter,
    pub(crate) rejected_calls: Counter,
    calls_ended: Family<Label, Counter>,
    turns: Family<Label, Counter>,
    agent_failures: Family<Label, Counter>,
    reply_latency: Family<Label, Histogram, fn() -> Histogram>,
    turn_duration: Histogram,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("byova_media");
        let active_calls = Gauge::default();
        registry.register("active_calls", "Live conversations", active_calls.clone());
        let active_turns = Gauge::default();
        registry.register(
            "active_turns",
            "Open ProcessCallerInput RPCs",
            active_turns.clone(),
        );
        let calls_started = Counter::default();
        registry.register(
            "calls_started",
            "Conversations started",
            calls_started.clone(),
        );
        let rejected_calls = Counter::default();
        registry.register(
            "calls_rejected",
            "Calls refused with RESOURCE_EXHAUSTED (over the concurrent-call limit)",
            rejected_calls.clone(),
        );
        let calls_ended = Family::default();
        registry.register(
            "calls_ended",
            "Conversations ended, by reason",
            calls_ended.clone(),
        );
        let turns = Family::default();
        registry.register("turns", "Turns answered, by input kind", turns.clone());
        let agent_failures = Family::default();
        registry.register(
            "agent_failures",
            "Agent callbacks that returned an error or panicked",
            agent_failures.clone(),
        );
        let reply_latency =
            Family::<Label, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register(
            "reply_latency_seconds",
            "From the input that asks for a reply (SESSION_START, END_OF_INPUT, DTMF, event) to the first reply message",
            reply_latency.clone(),
        );
        let turn_duration = latency_histogram();
        registry.register(
            "turn_duration_seconds",
            "Duration of ProcessCallerInput RPCs",
            turn_duration.clone(),
        );
        Self {
            registry,
            active_calls,
            active_turns,
            calls_started,
            rejected_calls,
            calls_ended,
            turns,
            agent_failures,
            reply_latency,
            turn_duration,
        }
    }

    pub(crate) fn call_ended(&self, reason: SessionEndReason) {
        self.calls_ended
            .get_or_create(&[("reason", reason.as_str())])
            .inc();
    }

    pub(crate) fn turn(&self, kind: &'static str) {
        self.turns.get_or_create(&[("kind", kind)]).inc();
    }

    pub(crate) fn agent_failure(&self, panicked: bool) {
        let kind = if panicked { "panic" } else { "error" };
        self.agent_failures.get_or_create(&[("kind", kind)]).inc();
    }

    pub(crate) fn reply_latency(&self, kind: &'static str, latency: Duration) {
        self.reply_latency
            .get_or_create(&[("kind", kind)])
            .observe(latency.as_secs_f64());
    }

    pub(crate) fn turn_duration(&self, duration: Duration) {
        self.turn_duration.observe(duration.as_secs_f64());
    }

    /// The metrics in the Prometheus text format.
    pub(crate) fn encode(&self) -> String {
        let mut out = String::with_capacity(4096);
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Serves `/metrics`, `/healthz` and `/readyz` until `shutdown` turns true.
pub(crate) async fn serve_http(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    ready: Arc<AtomicBool>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = crate::tracker::stopped(&mut shutdown) => return,
        };
        let Ok((stream, _peer)) = accepted else {
            continue;
        };
        let metrics = Arc::clone(&metrics);
        let ready = Arc::clone(&ready);
        let service = service_fn(move |request: Request<Incoming>| {
            let response = route(&request, &metrics, &ready);
            async move { Ok::<_, Infallible>(response) }
        });
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = crate::tracker::stopped(&mut stop) => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
}

fn route(
    request: &Request<Incoming>,
    metrics: &Metrics,
    ready: &AtomicBool,
) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    match request.uri().path() {
        "/metrics" => Response::builder()
            .status(StatusCode::OK)
            .header(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )
            .body(Full::new(Bytes::from(metrics.encode())))
            .unwrap_or_else(|_| text(StatusCode::INTERNAL_SERVER_ERROR, "error\n")),
        "/healthz" => text(StatusCode::OK, "ok\n"),
        "/readyz" if ready.load(Ordering::Acquire) => text(StatusCode::OK, "ready\n"),
        "/readyz" => text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n"),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_every_metric() {
        let metrics = Metrics::new();
        metrics.calls_started.inc();
        metrics.active_calls.set(3);
        metrics.call_ended(SessionEndReason::CallerEnded);
        metrics.turn("utterance");
        metrics.agent_failure(true);
        metrics.reply_latency("session_start", Duration::from_millis(2));
        metrics.turn_duration(Duration::from_millis(30));
        let text = metrics.encode();
        for needle in [
            "byova_media_active_calls 3",
            "byova_media_calls_started_total 1",
            "byova_media_calls_ended_total{reason=\"caller_ended\"} 1",
            "byova_media_turns_total{kind=\"utterance\"} 1",
            "byova_media_agent_failures_total{kind=\"panic\"} 1",
            "byova_media_reply_latency_seconds_count{kind=\"session_start\"} 1",
            "byova_media_turn_duration_seconds_count 1",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
    }
}
