//! The frame clock: one timer paces every caller's audio.
//!
//! Webex sends each caller's audio as a 20 ms frame every 20 ms. A timer per caller costs a
//! timer-wheel entry, a task wake-up and a trip through the scheduler per frame; with thousands
//! of callers on two cores that is what made a load generator fall behind. Here one task owns one
//! timer ticking every `frame / SLOTS`: speakers are spread over the slots (so frames leave in
//! small, even batches rather than all at once), and on each tick the clock pushes the next
//! pre-encoded frame of every speaker of the current slot straight into that RPC's request
//! channel. A caller's own task wakes only for responses.
//!
//! The clock also measures itself: how late each tick ran (if the load generator cannot keep
//! real time, its figures say so).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use hdrhistogram::Histogram;
use tokio::sync::mpsc::{self, error::TryRecvError, error::TrySendError};
use tokio::time::{Instant, MissedTickBehavior};

use super::wire::RawRequest;

/// Ticks per frame period: speakers are spread over this many phases.
pub(super) const SLOTS: u32 = 4;

/// Sentinel for "not sent yet" in [`SpeakerState::mark_sent`].
const NOT_SENT: u64 = u64::MAX;

/// What a speaking turn and the clock share.
#[derive(Debug)]
pub(super) struct SpeakerState {
    /// Set by the turn (END_OF_INPUT arrived, or the RPC ended): stop sending and half-close.
    stop: AtomicBool,
    /// Index of the frame whose sending time is recorded (see `mark_sent`).
    mark: usize,
    /// When frame `mark` was handed to the RPC, in nanoseconds since the clock's epoch.
    mark_sent: AtomicU64,
    /// Frames handed to the RPC.
    sent: AtomicU64,
}

impl SpeakerState {
    /// A speaker that records when frame `mark` leaves.
    pub(super) fn new(mark: usize) -> Arc<Self> {
        Arc::new(Self {
            stop: AtomicBool::new(false),
            mark,
            mark_sent: AtomicU64::new(NOT_SENT),
            sent: AtomicU64::new(0),
        })
    }

    /// Asks the clock to stop sending (it half-closes the RPC on its next visit).
    pub(super) fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    /// When the marked frame was sent, if it was.
    pub(super) fn mark_sent(&self, epoch: Instant) -> Option<Instant> {
        match self.mark_sent.load(Ordering::Acquire) {
            NOT_SENT => None,
            nanos => Some(epoch + Duration::from_nanos(nanos)),
        }
    }

    /// Frames sent so far.
    pub(super) fn sent(&self) -> u64 {
        self.sent.load(Ordering::Acquire)
    }
}

/// A speaking turn handed to the clock.
#[derive(Debug)]
pub(super) struct Speaker {
    /// The RPC's request channel; dropping it half-closes the RPC.
    pub(super) tx: mpsc::Sender<RawRequest>,
    /// The call's encoded ids.
    pub(super) head: Bytes,
    /// The encoded audio frames, then trailing silence.
    pub(super) frames: Arc<[Bytes]>,
    pub(super) state: Arc<SpeakerState>,
}

struct Active {
    speaker: Speaker,
    next: usize,
}

/// Registers speakers with the running clock. Cheap to clone; the clock ends when every handle
/// is dropped and its last speaker finished.
#[derive(Debug, Clone)]
pub(super) struct ClockHandle {
    tx: mpsc::Sender<Speaker>,
}

impl ClockHandle {
    /// Starts sending `speaker`'s frames (its first frame leaves on the next tick of its slot).
    pub(super) async fn start(&self, speaker: Speaker) -> bool {
        self.tx.send(speaker).await.is_ok()
    }
}

/// What the clock measured.
#[derive(Debug)]
pub(super) struct ClockStats {
    /// How late ticks ran, in microseconds.
    pub(super) tick_lag_us: Histogram<u64>,
    /// Frames handed to RPCs.
    pub(super) frames: u64,
    /// Frames that found their RPC's request buffer full and were retried a period later.
    pub(super) deferred: u64,
}

/// Starts the clock for `frame`-long frames; returns its handle and its task.
pub(super) fn start(
    frame: Duration,
    epoch: Instant,
    capacity: usize,
) -> (ClockHandle, tokio::task::JoinHandle<ClockStats>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let task = tokio::spawn(run(rx, frame, epoch));
    (ClockHandle { tx }, task)
}

async fn run(mut rx: mpsc::Receiver<Speaker>, frame: Duration, epoch: Instant) -> ClockStats {
    let mut stats = ClockStats {
        tick_lag_us: Histogram::new_with_bounds(1, 60_000_000, 3)
            .expect("static histogram bounds are valid"),
        frames: 0,
        deferred: 0,
    };
    let period = (frame / SLOTS).max(Duration::from_micros(100));
    let mut ticker = tokio::time::interval(period);
    // A late tick is followed by catch-up ticks: audio time keeps up with real time, as a
    // phone call's does.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut wheel: Vec<Vec<Active>> = (0..SLOTS).map(|_| Vec::new()).collect();
    let mut slot = 0usize;
    let mut open = true;
    loop {
        let scheduled = ticker.tick().await;
        let now = Instant::now();
        let lag = now.saturating_duration_since(scheduled);
        // Saturates at the upper bound.
        let _ = stats.tick_lag_us.record(
            u64::try_from(lag.as_micros())
                .unwrap_or(u64::MAX)
                .clamp(1, 60_000_000),
        );
        while open {
            match rx.try_recv() {
                Ok(speaker) => {
                    // Into the least busy slot, so batches stay even.
                    let target = (0..wheel.len())
                        .min_by_key(|&i| wheel[i].len())
                        .unwrap_or(0);
                    wheel[target].push(Active { speaker, next: 0 });
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => open = false,
            }
        }
        let nanos = u64::try_from(now.saturating_duration_since(epoch).as_nanos()).unwrap_or(0);
        wheel[slot].retain_mut(|active| send_next(active, nanos, &mut stats));
        slot = (slot + 1) % wheel.len();
        if !open && wheel.iter().all(Vec::is_empty) {
            return stats;
        }
    }
}

/// Sends `active`'s next frame; `false` when it is done (its request channel is then dropped,
/// which half-closes the RPC).
fn send_next(active: &mut Active, now_nanos: u64, stats: &mut ClockStats) -> bool {
    let speaker = &active.speaker;
    if speaker.state.stop.load(Ordering::Acquire) {
        return false;
    }
    let Some(body) = speaker.frames.get(active.next) else {
        return false;
    };
    let request = RawRequest {
        head: speaker.head.clone(),
        body: body.clone(),
    };
    match speaker.tx.try_send(request) {
        Ok(()) => {
            if active.next == speaker.state.mark {
                speaker.state.mark_sent.store(now_nanos, Ordering::Release);
            }
            speaker.state.sent.fetch_add(1, Ordering::AcqRel);
            stats.frames += 1;
            active.next += 1;
            true
        }
        Err(TrySendError::Full(_)) => {
            stats.deferred += 1;
            true
        }
        Err(TrySendError::Closed(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn frames_leave_every_period_until_stopped_or_done() {
        let epoch = Instant::now();
        let (clock, task) = start(Duration::from_millis(20), epoch, 8);
        let frames: Arc<[Bytes]> = (0u8..5).map(|i| Bytes::from(vec![i])).collect();
        let (tx, mut rx) = mpsc::channel(8);
        let state = SpeakerState::new(2);
        assert!(
            clock
                .start(Speaker {
                    tx,
                    head: Bytes::from_static(b"h"),
                    frames: Arc::clone(&frames),
                    state: Arc::clone(&state),
                })
                .await
        );
        let first = rx.recv().await.unwrap();
        assert_eq!((&first.head[..], &first.body[..]), (&b"h"[..], &[0u8][..]));
        let t0 = Instant::now();
        let second = rx.recv().await.unwrap();
        assert_eq!(&second.body[..], &[1]);
        assert_eq!(Instant::now() - t0, Duration::from_millis(20));
        let third = rx.recv().await.unwrap();
        assert_eq!(&third.body[..], &[2]);
        let marked = state.mark_sent(epoch).unwrap();
        assert_eq!(marked, Instant::now());
        // Stopping half-closes: the channel ends without frames 3 and 4.
        state.stop();
        assert!(rx.recv().await.is_none());
        assert_eq!(state.sent(), 3);
        drop(clock);
        let stats = task.await.unwrap();
        assert_eq!(stats.frames, 3);
        assert_eq!(stats.deferred, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_finished_speaker_half_closes_and_the_clock_ends() {
        let epoch = Instant::now();
        let (clock, task) = start(Duration::from_millis(20), epoch, 8);
        let (tx, mut rx) = mpsc::channel(1);
        let frames: Arc<[Bytes]> = (0u8..3).map(|i| Bytes::from(vec![i])).collect();
        clock
            .start(Speaker {
                tx,
                head: Bytes::new(),
                frames,
                state: SpeakerState::new(99),
            })
            .await;
        drop(clock);
        // While nobody reads, a full buffer defers the next frame instead of dropping it.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut bodies = Vec::new();
        while let Some(request) = rx.recv().await {
            bodies.push(request.body[0]);
        }
        assert_eq!(bodies, [0, 1, 2]);
        let stats = task.await.unwrap();
        assert_eq!(stats.frames, 3);
        assert!(stats.deferred >= 1);
    }
}
