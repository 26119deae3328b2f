//! What a load test measured: latency histograms, error counts, and the [`LoadReport`].

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::LoadConfig;
use super::clock::ClockStats;
use crate::client::Target;

/// Error examples kept for the report.
const MAX_SAMPLES: usize = 10;

/// A latency distribution, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Latency {
    /// Measurements.
    pub count: u64,
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Latency {
    fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            count: histogram.len(),
            mean_ms: histogram.mean() / 1000.0,
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p95_ms: ms(histogram.value_at_quantile(0.95)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            max_ms: ms(histogram.max()),
        }
    }
}

/// The result of a load test.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LoadReport {
    /// The server called.
    pub target: String,
    /// Callers at once.
    pub concurrency: usize,
    /// HTTP/2 connections used.
    pub connections: usize,
    /// Calls finished (successful or not).
    pub calls: u64,
    /// Calls with at least one error.
    pub failed_calls: u64,
    /// RPCs made.
    pub rpcs: u64,
    /// From the start to the end of the last call, in seconds.
    pub elapsed_seconds: f64,
    /// Finished calls per second.
    pub calls_per_second: f64,
    /// SESSION_START sent → first response.
    pub greeting: Latency,
    /// END_OF_INPUT arrival − sending of the frame after which the unloaded server sent
    /// END_OF_INPUT (found by the calibration call).
    pub end_of_input_lateness: Latency,
    /// END_OF_INPUTs that arrived before that frame was sent (the server decided earlier than
    /// in the calibration call); not in `endOfInputLateness`.
    pub end_of_input_early: u64,
    /// END_OF_INPUT → first response carrying the reply (prompts, or the closing FINAL).
    pub reply: Latency,
    /// DTMF, NO_INPUT and custom-event turns: request sent → first response (or the RPC's end
    /// when there is none).
    pub other_turns: Latency,
    /// SESSION_END sent → RPC completed.
    pub session_end: Latency,
    /// How late the load generator's frame clock ticked (its own health, not the server's).
    pub frame_lag: Latency,
    /// Audio frames sent.
    pub frames_sent: u64,
    /// Frames that waited a period because their RPC's request buffer was full (flow control).
    pub frames_deferred: u64,
    /// Errors by kind: a gRPC status code name (`UNAVAILABLE`), `protocol:<rule>`,
    /// `no-greeting` or `no-end-of-input`.
    pub errors: BTreeMap<String, u64>,
    /// The first few errors, described.
    pub error_samples: Vec<String>,
}

impl LoadReport {
    /// Errors of every kind.
    #[must_use]
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Whether every call went through without an error.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.failed_calls == 0 && self.errors.is_empty()
    }
}

/// Histograms and counters, shared by the callers under a lock.
#[derive(Debug)]
pub(super) struct Stats {
    pub(super) greeting: Histogram<u64>,
    pub(super) end_of_input: Histogram<u64>,
    pub(super) end_of_input_early: u64,
    pub(super) reply: Histogram<u64>,
    pub(super) other_turns: Histogram<u64>,
    pub(super) session_end: Histogram<u64>,
    pub(super) calls: u64,
    pub(super) failed_calls: u64,
    pub(super) rpcs: u64,
    errors: BTreeMap<String, u64>,
    samples: Vec<String>,
}

impl Stats {
    pub(super) fn new() -> Self {
        Self {
            greeting: histogram(),
            end_of_input: histogram(),
            end_of_input_early: 0,
            reply: histogram(),
            other_turns: histogram(),
            session_end: histogram(),
            calls: 0,
            failed_calls: 0,
            rpcs: 0,
            errors: BTreeMap::new(),
            samples: Vec::new(),
        }
    }

    /// Counts an error of `kind`, keeping its description among the first few.
    pub(super) fn error(&mut self, kind: String, describe: impl FnOnce() -> String) {
        *self.errors.entry(kind).or_insert(0) += 1;
        if self.samples.len() < MAX_SAMPLES {
            self.samples.push(describe());
        }
    }

    pub(super) fn report(
        self,
        target: &Target,
        config: &LoadConfig,
        connections: usize,
        elapsed: Duration,
        clock: Option<&ClockStats>,
    ) -> LoadReport {
        let seconds = elapsed.as_secs_f64();
        LoadReport {
            target: target.uri(),
            concurrency: config.concurrency,
            connections,
            calls: self.calls,
            failed_calls: self.failed_calls,
            rpcs: self.rpcs,
            elapsed_seconds: seconds,
            calls_per_second: if seconds > 0.0 {
                self.calls as f64 / seconds
            } else {
                0.0
            },
            greeting: Latency::of(&self.greeting),
            end_of_input_lateness: Latency::of(&self.end_of_input),
            end_of_input_early: self.end_of_input_early,
            reply: Latency::of(&self.reply),
            other_turns: Latency::of(&self.other_turns),
            session_end: Latency::of(&self.session_end),
            frame_lag: clock
                .map(|c| Latency::of(&c.tick_lag_us))
                .unwrap_or_default(),
            frames_sent: clock.map_or(0, |c| c.frames),
            frames_deferred: clock.map_or(0, |c| c.deferred),
            errors: self.errors,
            error_samples: self.samples,
        }
    }
}

/// A histogram of microseconds from 1 µs to one hour, 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("static histogram bounds are valid")
}

/// Records `duration` in microseconds (at least 1, saturating at the upper bound).
pub(super) fn record(histogram: &mut Histogram<u64>, duration: Duration) {
    let us = u64::try_from(duration.as_micros())
        .unwrap_or(u64::MAX)
        .max(1);
    histogram.saturating_record(us);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_in_milliseconds() {
        let mut h = histogram();
        for ms in 1..=100u64 {
            record(&mut h, Duration::from_millis(ms));
        }
        let latency = Latency::of(&h);
        assert_eq!(latency.count, 100);
        assert!((latency.p50_ms - 50.0).abs() < 0.1, "{latency:?}");
        assert!((latency.p99_ms - 99.0).abs() < 0.1, "{latency:?}");
        assert!((latency.max_ms - 100.0).abs() < 0.1, "{latency:?}");
        assert!((latency.mean_ms - 50.5).abs() < 0.1, "{latency:?}");
        assert_eq!(Latency::of(&histogram()), Latency::default());
    }

    #[test]
    fn errors_are_counted_and_sampled() {
        let mut stats = Stats::new();
        for i in 0..12 {
            stats.error("UNAVAILABLE".into(), || format!("call {i}"));
        }
        stats.error("protocol:chunk-size".into(), || "x".into());
        assert_eq!(stats.errors["UNAVAILABLE"], 12);
        assert_eq!(stats.errors["protocol:chunk-size"], 1);
        // The first MAX_SAMPLES descriptions are kept; later ones are not even built.
        let kept: Vec<String> = (0..MAX_SAMPLES).map(|i| format!("call {i}")).collect();
        assert_eq!(stats.samples, kept);
    }
}
