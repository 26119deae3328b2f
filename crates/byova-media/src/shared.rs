//! What every turn of a server shares, and the server-wide chores on conversations: reaping
//! idle and over-long calls, and closing everything at shutdown.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::agents::AgentTable;
use crate::config::CallSettings;
use crate::input::SessionEndReason;
use crate::metrics::Metrics;
use crate::registry::{Conversation, Registry};
use crate::tracker::TaskTracker;

/// What every turn shares: agents, conversations, settings, metrics.
pub(crate) struct Shared {
    pub(crate) agents: AgentTable,
    pub(crate) registry: Registry,
    pub(crate) settings: CallSettings,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) tasks: TaskTracker,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

/// Closes every live conversation because the server stops: turns finish their RPCs with the
/// shutdown reply, and each agent is told.
pub(crate) fn close_all(shared: &Arc<Shared>, reason: SessionEndReason) {
    for (conversation, has_turn) in shared.registry.all() {
        close_in_background(shared, conversation, reason, has_turn);
    }
}

/// Closes a conversation and, if this closed it, tells its agent in a tracked task.
fn close_in_background(
    shared: &Shared,
    conversation: Arc<Conversation>,
    reason: SessionEndReason,
    told: bool,
) {
    if shared.registry.close(&conversation, reason, told) {
        let timeout = shared.settings.session_end_timeout;
        shared.tasks.spawn(async move {
            conversation.notify_agent_end(reason, timeout).await;
        });
    }
}

/// Closes idle and over-long conversations every `reap_interval` until `stop` turns true.
pub(crate) async fn reap(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(shared.settings.reap_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = crate::tracker::stopped(&mut stop) => return,
        }
        let expired = shared.registry.expired(
            Instant::now(),
            shared.settings.idle_timeout,
            shared.settings.max_call_duration,
        );
        for (conversation, reason, has_turn) in expired {
            close_in_background(&shared, conversation, reason, has_turn);
        }
    }
}
