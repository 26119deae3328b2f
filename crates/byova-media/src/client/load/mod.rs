//! Load testing: many simulated Webex callers at once, with latency histograms.
//!
//! A [`LoadTest`] runs `calls` calls (or calls for a `duration`) with `concurrency` callers at a
//! time, each call a script: SESSION_START, the [`LoadStep`]s, SESSION_END (unless the server
//! ended the call). Utterances go out as 20 ms μ-law frames in real time until END_OF_INPUT, as
//! Webex sends them. The result is a [`LoadReport`].
//!
//! # Built to measure the server, not itself
//!
//! - **One clock for all audio.** A single timer task sends every caller's frames (see the
//!   private `clock` module): no timer and no task wake-up per caller per frame. Callers are
//!   spread over four phases of the 20 ms period so frames leave in even batches.
//! - **Requests encoded once.** Every request is the call's encoded ids plus a shared, encoded
//!   input ([`bytes::Bytes`]): sending a frame copies 200 bytes, with no protobuf encoding and no
//!   allocation.
//! - **Several HTTP/2 connections** (`connections`; by default one per 200 callers, 1–16), so
//!   one connection's flow control or task does not serialise every call.
//! - **Latency from the trigger.** Greeting latency runs from sending SESSION_START to the first
//!   response. END_OF_INPUT lateness is measured from the frame that let the server decide:
//!   before the load starts, one calibration call runs alone and notes, for each utterance, the
//!   last frame sent before END_OF_INPUT came back (unloaded, a server answers well within the
//!   20 ms to the next frame). Under load, lateness is the arrival of END_OF_INPUT minus the
//!   moment that same frame was sent. This holds for any server and any detector (its decision
//!   depends on the audio only), and excludes delays of the load generator itself, which the
//!   report gives separately (`frameLag`).
//! - **Every response is checked** against the [protocol rules](super::rules); violations count
//!   as errors, next to failed RPCs by gRPC status.
//!
//! ```no_run
//! use byova_media::client::Target;
//! use byova_media::client::load::{LoadConfig, LoadStep, LoadTest};
//!
//! # async fn run(utterance_mulaw_8k: Vec<u8>) -> Result<(), byova_media::client::ClientError> {
//! let mut config = LoadConfig::default();
//! config.calls = Some(1000);
//! config.concurrency = 200;
//! config.steps = vec![LoadStep::Say(utterance_mulaw_8k.into())];
//! let report = LoadTest::new("127.0.0.1:50051".parse::<Target>()?, config)?.run().await?;
//! println!("{:.1} calls/s, greeting p99 {:.1} ms", report.calls_per_second, report.greeting.p99_ms);
//! assert!(report.is_clean());
//! # Ok(())
//! # }
//! ```

mod call;
mod clock;
mod report;
#[cfg(test)]
mod tests;
mod wire;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;

pub use self::report::{Latency, LoadReport};

use self::call::{Ctx, Prepared};
use super::{ClientError, Target};
use crate::json::JsonObject;

/// A step of each load-test call, between SESSION_START and SESSION_END.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LoadStep {
    /// An utterance: 8 kHz μ-law audio, sent as 20 ms frames in real time, then silence, until
    /// END_OF_INPUT arrives.
    Say(Bytes),
    /// DTMF digits (`0`–`9`, `A`–`D`, `*`, `#`), after a START_OF_DTMF turn as Webex sends them.
    Dtmf(String),
    /// A flow `CUSTOM_EVENT` with a name and parameters.
    Event {
        /// The event name.
        name: String,
        /// Its parameters.
        parameters: JsonObject,
    },
    /// Webex's `NO_INPUT` event.
    NoInput,
    /// Wait before the next step.
    Pause(Duration),
}

/// What a [`LoadTest`] does. Start from [`default`](Self::default) and set what you need.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoadConfig {
    /// Calls in total (default 100). With [`duration`](Self::duration) too, whichever ends
    /// first.
    pub calls: Option<u64>,
    /// Start calls for this long, then let the running calls finish (default none).
    pub duration: Option<Duration>,
    /// Callers at once (default 10).
    pub concurrency: usize,
    /// The callers start spread evenly over this time (default zero: at once).
    pub ramp: Duration,
    /// HTTP/2 connections the callers share (0, the default: one per 200 callers, 1–16).
    pub connections: usize,
    /// The steps of each call.
    pub steps: Vec<LoadStep>,
    /// Conversation ids are `{prefix}-{n}` (default `load-` and a random suffix).
    pub conversation_prefix: String,
    /// Sent as `customer_org_id` (default `load-org`).
    pub customer_org_id: String,
    /// Sent as `virtual_agent_id` (default empty: the server's default agent).
    pub virtual_agent_id: String,
    /// Silence sent after an utterance while waiting for END_OF_INPUT (default 3 s); then the
    /// RPC is half-closed.
    pub trailing_silence: Duration,
    /// The longest one RPC may take (default 30 s; then it counts as DEADLINE_EXCEEDED).
    pub rpc_timeout: Duration,
}

impl Default for LoadConfig {
    fn default() -> Self {
        Self {
            calls: Some(100),
            duration: None,
            concurrency: 10,
            ramp: Duration::ZERO,
            connections: 0,
            steps: Vec::new(),
            conversation_prefix: format!("load-{:08x}", fastrand_u32()),
            customer_org_id: "load-org".to_owned(),
            virtual_agent_id: String::new(),
            trailing_silence: Duration::from_secs(3),
            rpc_timeout: Duration::from_secs(30),
        }
    }
}

/// A random-enough suffix so two runs against one server use distinct conversation ids.
fn fastrand_u32() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    nanos ^ std::process::id().rotate_left(16)
}

impl LoadConfig {
    /// The connections used: [`connections`](Self::connections), or one per 200 callers
    /// (1–16).
    #[must_use]
    pub fn effective_connections(&self) -> usize {
        if self.connections > 0 {
            self.connections
        } else {
            self.concurrency.div_ceil(200).clamp(1, 16)
        }
    }

    fn validate(&self) -> Result<(), ClientError> {
        let invalid = |why: &str| Err(ClientError::InvalidConfig(why.to_owned()));
        if self.concurrency == 0 {
            return invalid("concurrency must be at least 1");
        }
        if self.calls.is_none() && self.duration.is_none() {
            return invalid("give a number of calls or a duration");
        }
        if self.calls == Some(0) {
            return invalid("calls must be at least 1");
        }
        if self.rpc_timeout.is_zero() {
            return invalid("the RPC timeout must be positive");
        }
        for step in &self.steps {
            if let LoadStep::Say(audio) = step
                && audio.is_empty()
            {
                return invalid("an utterance has no audio");
            }
        }
        Ok(())
    }
}

/// Live counters of a running [`LoadTest`], for a progress display. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct LoadProgress {
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    started: AtomicU64,
    completed: AtomicU64,
    failed: AtomicU64,
}

impl LoadProgress {
    /// Calls started so far.
    #[must_use]
    pub fn started(&self) -> u64 {
        self.counters.started.load(Ordering::Relaxed)
    }

    /// Calls finished so far (successful or not).
    #[must_use]
    pub fn completed(&self) -> u64 {
        self.counters.completed.load(Ordering::Relaxed)
    }

    /// Calls that failed so far.
    #[must_use]
    pub fn failed(&self) -> u64 {
        self.counters.failed.load(Ordering::Relaxed)
    }

    /// Calls in progress.
    #[must_use]
    pub fn active(&self) -> u64 {
        self.started().saturating_sub(self.completed())
    }

    pub(super) fn start(&self) {
        self.counters.started.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn finish(&self, ok: bool) {
        if !ok {
            self.counters.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.counters.completed.fetch_add(1, Ordering::Relaxed);
    }
}

/// A load test ready to run.
pub struct LoadTest {
    target: Target,
    config: LoadConfig,
    authorization: Option<MetadataValue<Ascii>>,
    progress: LoadProgress,
}

impl fmt::Debug for LoadTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadTest")
            .field("target", &self.target)
            .field("config", &self.config)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl LoadTest {
    /// A load test of `target`.
    ///
    /// # Errors
    /// [`ClientError::InvalidConfig`] for unusable settings (no calls and no duration, zero
    /// concurrency, an empty utterance).
    pub fn new(target: Target, config: LoadConfig) -> Result<Self, ClientError> {
        config.validate()?;
        Ok(Self {
            target,
            config,
            authorization: None,
            progress: LoadProgress::default(),
        })
    }

    /// Presents `token` as `authorization: Bearer <token>` on every RPC.
    ///
    /// # Errors
    /// [`ClientError::InvalidToken`] when the token is not valid metadata.
    pub fn with_token(mut self, token: &str) -> Result<Self, ClientError> {
        self.authorization = Some(super::error::bearer(token)?);
        Ok(self)
    }

    /// Live counters, to show progress while [`run`](Self::run) runs.
    #[must_use]
    pub fn progress(&self) -> LoadProgress {
        self.progress.clone()
    }

    /// Connects, runs every call and reports.
    ///
    /// # Errors
    /// [`ClientError::Connect`] when the server cannot be reached at the start. Failures during
    /// the test are counted in the report instead.
    pub async fn run(self) -> Result<LoadReport, ClientError> {
        let Self {
            target,
            config,
            authorization,
            progress,
        } = self;
        let connections = config.effective_connections();
        let mut channels: Vec<Channel> = Vec::with_capacity(connections);
        for _ in 0..connections {
            channels.push(target.connect().await?);
        }
        let epoch = Instant::now();
        let (clock, clock_task) =
            clock::start(Duration::from_millis(20), epoch, config.concurrency.max(64));
        let prepared = Prepared::new(&config);
        let speaks = prepared.speaks();
        let ctx = Arc::new(Ctx::new(
            prepared,
            &config,
            authorization,
            clock,
            epoch,
            progress,
        ));
        if speaks {
            // Failures here show up again in the measured calls.
            ctx.calibrate(&channels[0]).await;
        }
        let begin = Instant::now();
        let next_call = Arc::new(AtomicU64::new(0));
        let deadline = config.duration.map(|duration| begin + duration);
        let mut callers = tokio::task::JoinSet::new();
        for index in 0..config.concurrency {
            let ctx = Arc::clone(&ctx);
            let channel = channels[index % channels.len()].clone();
            let next_call = Arc::clone(&next_call);
            let offset = config
                .ramp
                .mul_f64(index as f64 / config.concurrency as f64);
            let calls = config.calls;
            callers.spawn(async move {
                tokio::time::sleep_until(begin + offset).await;
                loop {
                    if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                        break;
                    }
                    let n = next_call.fetch_add(1, Ordering::Relaxed);
                    if calls.is_some_and(|calls| n >= calls) {
                        break;
                    }
                    ctx.run_call(&channel, n).await;
                }
            });
        }
        while let Some(joined) = callers.join_next().await {
            if let Err(error) = joined
                && error.is_panic()
            {
                std::panic::resume_unwind(error.into_panic());
            }
        }
        let elapsed = begin.elapsed();
        let ctx = Arc::into_inner(ctx).expect("every caller task has ended");
        let stats = ctx.into_stats();
        let clock_stats = match clock_task.await {
            Ok(stats) => Some(stats),
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => None,
        };
        Ok(stats.report(&target, &config, connections, elapsed, clock_stats.as_ref()))
    }
}
