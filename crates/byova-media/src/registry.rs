//! Conversations: `conversation_id` → [`Conversation`], created on the first message of a call,
//! closed exactly once (session end, terminal reply, cancel, idle timeout, maximum duration,
//! failure, shutdown), and remembered briefly afterwards so that late RPCs get a clear answer.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::FutureExt as _;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::agent::{CallInfo, Parts, TurnInfo};
use crate::agents::AgentEntry;
use crate::input::{SessionEnd, SessionEndReason};
use crate::metrics::Metrics;
use crate::sink::ReplySink;

/// One call: what Webex told us about it, its agent, the agent's state, and its lifecycle.
pub(crate) struct Conversation {
    pub(crate) info: CallInfo,
    pub(crate) agent: Arc<AgentEntry>,
    /// The agent's per-conversation state; holding the lock serializes the agent's callbacks.
    pub(crate) state: tokio::sync::Mutex<Box<dyn Any + Send>>,
    /// Set once, when the conversation closes; turns watch it.
    closed: watch::Sender<Option<SessionEndReason>>,
    life: Mutex<Life>,
    /// Milliseconds since the registry's epoch of the last message in either direction.
    last_activity: AtomicU64,
    epoch: Instant,
    pub(crate) span: tracing::Span,
}

#[derive(Debug, Default)]
struct Life {
    open_turns: u32,
    turns: u64,
}

impl std::fmt::Debug for Conversation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conversation")
            .field("info", &self.info)
            .field("agent", &self.agent.id)
            .field("closed", &*self.closed.borrow())
            .finish_non_exhaustive()
    }
}

impl Conversation {
    /// Records traffic on the conversation (keeps it from being reaped as idle).
    pub(crate) fn touch(&self) {
        self.last_activity
            .store(millis_since(self.epoch), Ordering::Relaxed);
    }

    fn idle_for(&self, now: Instant) -> Duration {
        let last = Duration::from_millis(self.last_activity.load(Ordering::Relaxed));
        now.saturating_duration_since(self.epoch + last)
    }

    /// Why the conversation closed, if it did.
    pub(crate) fn closed_reason(&self) -> Option<SessionEndReason> {
        *self.closed.borrow()
    }

    /// A receiver that changes when the conversation closes.
    pub(crate) fn watch_closed(&self) -> watch::Receiver<Option<SessionEndReason>> {
        self.closed.subscribe()
    }

    /// Opens a turn (an RPC) on the conversation; `None` when it has closed.
    pub(crate) fn begin_turn(self: &Arc<Self>) -> Option<TurnGuard> {
        let mut life = lock(&self.life);
        if self.closed_reason().is_some() {
            return None;
        }
        life.open_turns += 1;
        life.turns += 1;
        let number = life.turns;
        drop(life);
        self.touch();
        Some(TurnGuard {
            conversation: Arc::clone(self),
            number,
        })
    }

    fn open_turns(&self) -> u32 {
        lock(&self.life).open_turns
    }

    /// Tells the agent the conversation ended: `on_session_end` under the state lock, bounded by
    /// `timeout`, panics caught and logged.
    pub(crate) async fn notify_agent_end(&self, reason: SessionEndReason, timeout: Duration) {
        let end = SessionEnd {
            reason,
            duration: self.info.started_at().elapsed(),
        };
        let call = async {
            let mut state = self.state.lock().await;
            let turn = TurnInfo::default();
            let mut sink = ReplySink::disabled(Arc::clone(&self.agent.reply));
            let parts = Parts {
                call: &self.info,
                turn: &turn,
                state: &mut **state,
                sink: &mut sink,
            };
            std::panic::AssertUnwindSafe(self.agent.agent.end(parts, end))
                .catch_unwind()
                .await
        };
        match tokio::time::timeout(timeout, call).await {
            Ok(Ok(())) => {}
            Ok(Err(panic)) => tracing::error!(
                parent: &self.span,
                panic = %panic_message(&*panic),
                "the agent panicked in on_session_end"
            ),
            Err(_) => tracing::error!(
                parent: &self.span,
                timeout_ms = timeout.as_millis(),
                "the agent's on_session_end did not finish in time; it was abandoned"
            ),
        }
    }
}

/// The text of a caught panic.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// An open turn; dropping it closes the turn.
#[derive(Debug)]
pub(crate) struct TurnGuard {
    pub(crate) conversation: Arc<Conversation>,
    pub(crate) number: u64,
}

impl Drop for TurnGuard {
    fn drop(&mut self) {
        let mut life = lock(&self.conversation.life);
        life.open_turns = life.open_turns.saturating_sub(1);
        drop(life);
        self.conversation.touch();
    }
}

/// What the registry remembers about a closed conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tombstone {
    pub(crate) reason: SessionEndReason,
    /// When the conversation ended.
    pub(crate) at: Instant,
    /// Whether Webex learned of the end (it ended the call, or a turn delivered the terminal
    /// reply); when not, the next RPC of the conversation gets a session-end reply.
    pub(crate) told: bool,
}

/// The outcome of looking up a conversation for a new RPC.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// A live conversation.
    Live(Arc<Conversation>),
    /// The conversation ended recently.
    Ended(Tombstone),
    /// Unknown id.
    Unknown,
}

/// Why a conversation could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CreateError {
    #[error("too many concurrent calls (the limit is {0})")]
    TooManyCalls(usize),
    #[error("the server is shutting down")]
    Draining,
}

/// The facts of a new conversation, from the first message of its first RPC.
#[derive(Debug)]
pub(crate) struct NewCall {
    pub(crate) conversation_id: String,
    pub(crate) customer_org_id: String,
    pub(crate) vendor_specific_config: String,
    pub(crate) additional_info: HashMap<String, String>,
    pub(crate) allow_partial_responses: bool,
}

/// All conversations of a server.
pub(crate) struct Registry {
    inner: Mutex<Inner>,
    max_calls: usize,
    tombstone_ttl: Duration,
    max_tombstones: usize,
    draining: AtomicBool,
    live: AtomicUsize,
    changed: Notify,
    epoch: Instant,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("live", &self.live())
            .field("max_calls", &self.max_calls)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Inner {
    live: HashMap<Arc<str>, Arc<Conversation>>,
    tombstones: HashMap<Arc<str>, (Tombstone, Instant)>,
    /// Tombstone ids in insertion order, for expiry and the size cap.
    tombstone_order: VecDeque<(Arc<str>, Instant)>,
}

impl Registry {
    pub(crate) fn new(max_calls: usize, tombstone_ttl: Duration, metrics: Arc<Metrics>) -> Self {
        Self {
            inner: Mutex::default(),
            max_calls,
            tombstone_ttl,
            max_tombstones: max_calls.saturating_mul(4).max(1024),
            draining: AtomicBool::new(false),
            live: AtomicUsize::new(0),
            changed: Notify::new(),
            epoch: Instant::now(),
            metrics,
        }
    }

    /// How many conversations are live.
    pub(crate) fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }

    /// Resolves when the number of live conversations is `count` or fewer.
    pub(crate) async fn wait_live_at_most(&self, count: usize) {
        loop {
            let notified = self.changed.notified();
            if self.live() <= count {
                return;
            }
            notified.await;
        }
    }

    /// Refuses new conversations from now on.
    pub(crate) fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Whether the server is shutting down.
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Looks a conversation up.
    pub(crate) fn lookup(&self, id: &str) -> Lookup {
        let inner = lock(&self.inner);
        if let Some(conversation) = inner.live.get(id) {
            return Lookup::Live(Arc::clone(conversation));
        }
        match inner.tombstones.get(id) {
            Some((tombstone, _)) => Lookup::Ended(*tombstone),
            None => Lookup::Unknown,
        }
    }

    /// Marks the tombstone of `id` as told (its late RPC got the session-end reply).
    pub(crate) fn mark_told(&self, id: &str) {
        if let Some((tombstone, _)) = lock(&self.inner).tombstones.get_mut(id) {
            tombstone.told = true;
        }
    }

    /// Remembers that the caller ended `id` although no conversation was live: the caller's
    /// SESSION_END overtook the RPC that carried its SESSION_START (a cancelled first turn).
    /// The SESSION_START that arrives later must not open a call nobody will ever end.
    pub(crate) fn remember_caller_end(&self, id: &str) {
        let mut inner = lock(&self.inner);
        if inner.live.contains_key(id) || inner.tombstones.contains_key(id) {
            return;
        }
        let tombstone = Tombstone {
            reason: SessionEndReason::CallerEnded,
            at: Instant::now(),
            told: true,
        };
        self.bury(&mut inner, Arc::from(id), tombstone);
    }

    /// Records a tombstone, forgetting the oldest beyond the bound.
    fn bury(&self, inner: &mut Inner, key: Arc<str>, tombstone: Tombstone) {
        let at = tombstone.at;
        inner.tombstones.insert(Arc::clone(&key), (tombstone, at));
        inner.tombstone_order.push_back((key, at));
        while inner.tombstone_order.len() > self.max_tombstones {
            if let Some((old, at)) = inner.tombstone_order.pop_front() {
                remove_tombstone_if(&mut inner.tombstones, &old, at);
            }
        }
    }

    /// Creates a conversation, or returns the live one that won a race for the same id.
    pub(crate) fn create(
        &self,
        call: NewCall,
        agent: &Arc<AgentEntry>,
    ) -> Result<Arc<Conversation>, CreateError> {
        if self.is_draining() {
            return Err(CreateError::Draining);
        }
        let mut inner = lock(&self.inner);
        if let Some(existing) = inner.live.get(call.conversation_id.as_str()) {
            return Ok(Arc::clone(existing));
        }
        if inner.live.len() >= self.max_calls {
            drop(inner);
            self.metrics.rejected_calls.inc();
            return Err(CreateError::TooManyCalls(self.max_calls));
        }
        let id: Arc<str> = Arc::from(call.conversation_id.as_str());
        inner.tombstones.remove(&id);
        let now = Instant::now();
        let span = tracing::info_span!(
            "call",
            conversation_id = %call.conversation_id,
            agent = %agent.id,
        );
        let info = CallInfo::new(
            call.conversation_id,
            call.customer_org_id,
            agent.id.to_string(),
            call.vendor_specific_config,
            call.additional_info,
            call.allow_partial_responses,
            now,
        );
        let conversation = Arc::new(Conversation {
            info,
            agent: Arc::clone(agent),
            state: tokio::sync::Mutex::new(agent.agent.new_state()),
            closed: watch::Sender::new(None),
            life: Mutex::default(),
            last_activity: AtomicU64::new(millis_since(self.epoch)),
            epoch: self.epoch,
            span,
        });
        inner.live.insert(id, Arc::clone(&conversation));
        let live = inner.live.len();
        drop(inner);
        self.live.store(live, Ordering::Release);
        self.metrics.calls_started.inc();
        self.metrics
            .active_calls
            .set(i64::try_from(live).unwrap_or(i64::MAX));
        Ok(conversation)
    }

    /// Closes a conversation: removes it, remembers a tombstone, and wakes its turns.
    ///
    /// Returns `true` for the one caller that closed it; that caller must then tell the agent
    /// ([`Conversation::notify_agent_end`]).
    pub(crate) fn close(
        &self,
        conversation: &Arc<Conversation>,
        reason: SessionEndReason,
        told: bool,
    ) -> bool {
        let mut first = false;
        conversation.closed.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason);
                first = true;
                true
            } else {
                false
            }
        });
        if !first {
            return false;
        }
        let now = Instant::now();
        let mut inner = lock(&self.inner);
        let id = conversation.info.conversation_id();
        let is_this = inner
            .live
            .get(id)
            .is_some_and(|live| Arc::ptr_eq(live, conversation));
        if is_this {
            let (key, _) = inner
                .live
                .remove_entry(id)
                .expect("the entry was just found");
            self.bury(
                &mut inner,
                key,
                Tombstone {
                    reason,
                    at: now,
                    told,
                },
            );
        }
        let live = inner.live.len();
        drop(inner);
        self.live.store(live, Ordering::Release);
        self.metrics
            .active_calls
            .set(i64::try_from(live).unwrap_or(i64::MAX));
        self.metrics.call_ended(reason);
        tracing::info!(
            parent: &conversation.span,
            reason = reason.as_str(),
            duration_ms = conversation.info.started_at().elapsed().as_millis(),
            "call ended"
        );
        self.changed.notify_waiters();
        true
    }

    /// Conversations to close now: over the maximum duration, or idle too long.
    pub(crate) fn expired(
        &self,
        now: Instant,
        idle_timeout: Duration,
        max_duration: Option<Duration>,
    ) -> Vec<(Arc<Conversation>, SessionEndReason, bool)> {
        let mut inner = lock(&self.inner);
        while let Some((id, at)) = inner.tombstone_order.front().cloned() {
            if now.saturating_duration_since(at) < self.tombstone_ttl {
                break;
            }
            inner.tombstone_order.pop_front();
            remove_tombstone_if(&mut inner.tombstones, &id, at);
        }
        inner
            .live
            .values()
            .filter_map(|conversation| {
                let reason = if max_duration.is_some_and(|max| {
                    now.saturating_duration_since(conversation.info.started_at()) >= max
                }) {
                    SessionEndReason::MaxDuration
                } else if conversation.idle_for(now) >= idle_timeout {
                    SessionEndReason::IdleTimeout
                } else {
                    return None;
                };
                Some((
                    Arc::clone(conversation),
                    reason,
                    conversation.open_turns() > 0,
                ))
            })
            .collect()
    }

    /// Every live conversation, each with whether a turn is open on it.
    pub(crate) fn all(&self) -> Vec<(Arc<Conversation>, bool)> {
        lock(&self.inner)
            .live
            .values()
            .map(|conversation| (Arc::clone(conversation), conversation.open_turns() > 0))
            .collect()
    }
}

fn remove_tombstone_if(
    tombstones: &mut HashMap<Arc<str>, (Tombstone, Instant)>,
    id: &Arc<str>,
    at: Instant,
) {
    // A newer tombstone for the same id (the id was reused) stays.
    if tombstones.get(id).is_some_and(|(_, when)| *when == at) {
        tombstones.remove(id);
    }
}

fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Locks a std mutex; the data stays consistent even if a holder panicked (every critical
/// section here is a few field updates), so poisoning is ignored.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
