//! Many callers on one flight: count each one once it has joined (or started) its flight, and
//! wait until all of them have.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Polls `call` once (which joins or starts the flight), counts it in `started`, then finishes it.
pub async fn counted<F: std::future::Future>(call: F, started: &AtomicUsize) -> F::Output {
    let mut call = std::pin::pin!(call);
    let early = tokio::select! {
        biased;
        output = &mut call => Some(output),
        () = std::future::ready(()) => None,
    };
    started.fetch_add(1, Ordering::SeqCst);
    match early {
        Some(output) => output,
        None => call.await,
    }
}

/// Waits (with a deadline) until `started` reaches `n`, that is until every caller waits on its
/// flight.
pub async fn all_started(started: &AtomicUsize, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while started.load(Ordering::SeqCst) < n {
        assert!(Instant::now() < deadline, "callers did not start");
        tokio::task::yield_now().await;
    }
}
