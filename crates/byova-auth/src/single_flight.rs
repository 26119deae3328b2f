//! Single flight: concurrent callers asking for the same key share one piece of work.
//!
//! The first caller for a key starts the work on a Tokio task; everyone who asks for the same key
//! while it runs waits for that task and gets a clone of its result. The key is forgotten the moment
//! the work finishes (inside the task, before anyone sees the result), so a failure reaches every
//! waiter of that flight and the next call starts fresh. Because the work runs on its own task, it
//! finishes (and stores what it fetched) even when every caller gave up waiting.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};

use crate::error::{Error, ErrorKind, Result};

type Flight<T> = Shared<BoxFuture<'static, Result<T>>>;
/// Running flights by key, each tagged with an id so a finished flight only removes itself.
type Flights<K, T> = Arc<Mutex<HashMap<K, (u64, Flight<T>)>>>;

/// Deduplicates concurrent work per key.
pub(crate) struct SingleFlight<K, T> {
    flights: Flights<K, T>,
    next_id: std::sync::atomic::AtomicU64,
}

impl<K, T> fmt::Debug for SingleFlight<K, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let in_flight = self.flights.lock().map_or(0, |flights| flights.len());
        f.debug_struct("SingleFlight")
            .field("in_flight", &in_flight)
            .finish()
    }
}

impl<K, T> Default for SingleFlight<K, T> {
    fn default() -> Self {
        Self {
            flights: Arc::new(Mutex::new(HashMap::new())),
            next_id: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl<K, T> SingleFlight<K, T>
where
    K: Hash + Eq + Clone + Send + 'static,
    T: Clone + Send + Sync + 'static,
{
    /// Runs `work` for `key` unless a flight for `key` is already running, in which case waits for
    /// that one. `work` is only called (and its future only built) when this call starts the flight.
    pub(crate) async fn run<F, Fut>(&self, key: K, work: F) -> Result<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let flight = {
            let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, flight)) = flights.get(&key) {
                flight.clone()
            } else {
                let id = self
                    .next_id
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let registry = Arc::clone(&self.flights);
                let task_key = key.clone();
                let work = work();
                let task = tokio::spawn(async move {
                    let result = work.await;
                    // Forget the flight before anyone can observe the result: callers arriving
                    // after this point start a new flight instead of reusing this outcome.
                    let mut flights = registry.lock().unwrap_or_else(PoisonError::into_inner);
                    if flights
                        .get(&task_key)
                        .is_some_and(|(current, _)| *current == id)
                    {
                        flights.remove(&task_key);
                    }
                    result
                });
                let registry = Arc::clone(&self.flights);
                let cleanup_key = key.clone();
                let flight = async move {
                    match task.await {
                        Ok(result) => result,
                        Err(join_error) => {
                            // The task panicked or its runtime shut down: it never reached its own
                            // cleanup, so do it here.
                            let mut flights =
                                registry.lock().unwrap_or_else(PoisonError::into_inner);
                            if flights
                                .get(&cleanup_key)
                                .is_some_and(|(current, _)| *current == id)
                            {
                                flights.remove(&cleanup_key);
                            }
                            Err(Error::with_message(
                                ErrorKind::Internal,
                                if join_error.is_panic() {
                                    "the token refresh task panicked"
                                } else {
                                    "the token refresh task was cancelled"
                                },
                            ))
                        }
                    }
                }
                .boxed()
                .shared();
                flights.insert(key, (id, flight.clone()));
                flight
            }
        };
        flight.await
    }

    /// How many callers currently wait for the flight of `key` (0 when none runs).
    #[cfg(test)]
    pub(crate) fn waiters(&self, key: &K) -> usize {
        let flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
        flights
            .get(key)
            .and_then(|(_, flight)| flight.strong_count())
            .map_or(0, |clones| clones - 1)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::Notify;

    use super::*;

    #[tokio::test]
    async fn concurrent_callers_share_one_run_and_the_next_call_runs_again() {
        let flights = Arc::new(SingleFlight::<&'static str, u32>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Notify::new());
        let mut waiters = Vec::new();
        for _ in 0..50 {
            let flights = Arc::clone(&flights);
            let runs = Arc::clone(&runs);
            let gate = Arc::clone(&gate);
            waiters.push(tokio::spawn(async move {
                flights
                    .run("org", move || async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        gate.notified().await;
                        Ok(7)
                    })
                    .await
            }));
        }
        // Let every waiter join the flight, then release it.
        while flights.waiters(&"org") < 50 {
            tokio::task::yield_now().await;
        }
        gate.notify_one();
        for waiter in waiters {
            assert_eq!(waiter.await.expect("join").expect("result"), 7);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        let again = flights
            .run("org", || async { Ok(8) })
            .await
            .expect("second");
        assert_eq!(again, 8);
    }

    #[tokio::test]
    async fn a_panicking_flight_is_an_error_and_not_remembered() {
        let flights = SingleFlight::<u8, u8>::default();
        let error = flights
            .run(1, || async { panic!("boom") })
            .await
            .expect_err("panic becomes an error");
        assert_eq!(error.kind(), &ErrorKind::Internal);
        assert_eq!(flights.run(1, || async { Ok(2) }).await.expect("fresh"), 2);
    }
}
