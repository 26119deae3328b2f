//! Counting the server's own tasks (turns, session-end notifications) so that shutdown can wait
//! for them.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::FutureExt;
use tokio::sync::Notify;

/// Counts running tasks; [`idle`](Self::idle) resolves when none is left.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaskTracker {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    running: AtomicUsize,
    idle: Notify,
}

/// Held by a tracked task; dropping it marks the task done.
#[derive(Debug)]
pub(crate) struct TaskToken {
    inner: Arc<Inner>,
}

impl Drop for TaskToken {
    fn drop(&mut self) {
        if self.inner.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.inner.idle.notify_waiters();
        }
    }
}

impl TaskTracker {
    /// Registers a task.
    pub(crate) fn token(&self) -> TaskToken {
        self.inner.running.fetch_add(1, Ordering::AcqRel);
        TaskToken {
            inner: Arc::clone(&self.inner),
        }
    }

    /// Spawns a tracked task.
    pub(crate) fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let token = self.token();
        // `map`, not an `async move` block: such a block would hold the future twice (once as
        // captured, once as awaited), doubling the task's allocation.
        tokio::spawn(future.map(move |()| drop(token)));
    }

    /// How many tasks are running.
    pub(crate) fn running(&self) -> usize {
        self.inner.running.load(Ordering::Acquire)
    }

    /// Resolves once no task is running.
    pub(crate) async fn idle(&self) {
        loop {
            let notified = self.inner.idle.notified();
            if self.running() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Resolves once the flag turns true (or its sender is gone).
pub(crate) async fn stopped(flag: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = flag.wait_for(|stop| *stop).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_waits_for_every_task() {
        let tracker = TaskTracker::default();
        tracker.idle().await;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tracker.spawn(async move {
            let _ = rx.await;
        });
        assert_eq!(tracker.running(), 1);
        let waiter = {
            let tracker = tracker.clone();
            tokio::spawn(async move { tracker.idle().await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        tx.send(()).unwrap();
        waiter.await.unwrap();
        assert_eq!(tracker.running(), 0);
    }
}
