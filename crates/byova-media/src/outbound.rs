//! The response side of one RPC: a bounded channel into the tonic response stream, plus the
//! bookkeeping the protocol rules need (was the last message a FINAL?).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use tokio::sync::mpsc;

use crate::proto::{self, VoiceVaResponse};

/// One item of the tonic response stream.
pub(crate) type ResponseItem = Result<VoiceVaResponse, tonic::Status>;

/// Items travel boxed: a channel allocates its slots up front, and a boxed slot is 8 bytes
/// instead of a few hundred (thousands of RPCs are open at once; each sends only a few
/// messages).
type Slot = Box<ResponseItem>;

/// The receiving half, as the tonic response stream.
#[derive(Debug)]
pub(crate) struct ResponseStream {
    rx: mpsc::Receiver<Slot>,
}

impl futures_util::Stream for ResponseStream {
    type Item = ResponseItem;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<ResponseItem>> {
        self.rx.poll_recv(cx).map(|slot| slot.map(|item| *item))
    }
}

/// A bounded response channel of `capacity` messages.
pub(crate) fn channel(capacity: usize) -> (Outbound, ResponseStream) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (Outbound::new(tx), ResponseStream { rx })
}

/// The receiver side went away: the caller cancelled the RPC or the connection broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

/// The sending half of an RPC's response stream. Clones share the bookkeeping.
#[derive(Debug, Clone)]
pub(crate) struct Outbound {
    tx: mpsc::Sender<Slot>,
    state: Arc<State>,
}

#[derive(Debug, Default)]
struct State {
    sent: AtomicU32,
    last_final: AtomicBool,
}

impl Outbound {
    fn new(tx: mpsc::Sender<Slot>) -> Self {
        Self {
            tx,
            state: Arc::default(),
        }
    }

    /// Sends one response, waiting while the stream is full (backpressure).
    pub(crate) async fn send(&self, response: VoiceVaResponse) -> Result<(), Closed> {
        let is_final =
            response.response_type == proto::voice_va_response::ResponseType::Final as i32;
        self.tx
            .send(Box::new(Ok(response)))
            .await
            .map_err(|_| Closed)?;
        self.state.sent.fetch_add(1, Ordering::Relaxed);
        self.state.last_final.store(is_final, Ordering::Relaxed);
        Ok(())
    }

    /// Ends the RPC with an error status (nothing can be sent after it).
    pub(crate) async fn fail(&self, status: tonic::Status) {
        // Nothing can follow a status: no closing FINAL is owed any more.
        self.state.last_final.store(true, Ordering::Relaxed);
        // When the receiver is gone there is nobody to tell.
        let _ = self.tx.send(Box::new(Err(status))).await;
    }

    /// How many responses were sent.
    pub(crate) fn sent(&self) -> u32 {
        self.state.sent.load(Ordering::Relaxed)
    }

    /// Whether something was sent and the last message was not a FINAL (a CHUNK or PARTIAL),
    /// so a closing FINAL is owed.
    pub(crate) fn owes_final(&self) -> bool {
        self.sent() > 0 && !self.state.last_final.load(Ordering::Relaxed)
    }

    /// Whether the receiver went away.
    pub(crate) fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Resolves when the receiver goes away.
    pub(crate) async fn closed(&self) {
        self.tx.closed().await;
    }
}

/// The event-only FINAL that announces speech onset (START_OF_INPUT).
pub(crate) fn start_of_input() -> VoiceVaResponse {
    event_only(
        proto::output_event::EventType::StartOfInput,
        proto::voice_va_response::ResponseType::Final,
    )
}

/// The END_OF_INPUT response: a CHUNK in CHUNK mode (it opens the streamed reply), a FINAL in
/// WAV mode (the reply's FINAL follows).
pub(crate) fn end_of_input(chunk_mode: bool) -> VoiceVaResponse {
    let response_type = if chunk_mode {
        proto::voice_va_response::ResponseType::Chunk
    } else {
        proto::voice_va_response::ResponseType::Final
    };
    event_only(proto::output_event::EventType::EndOfInput, response_type)
}

/// An empty FINAL: the answer to a client SESSION_END, and the closing message owed after
/// CHUNKs when a reply is cut short.
pub(crate) fn empty_final() -> VoiceVaResponse {
    VoiceVaResponse::default()
}

fn event_only(
    event: proto::output_event::EventType,
    response_type: proto::voice_va_response::ResponseType,
) -> VoiceVaResponse {
    VoiceVaResponse {
        output_events: vec![proto::OutputEvent {
            event_type: event as i32,
            name: String::new(),
            metadata: None,
        }],
        response_type: response_type as i32,
        ..VoiceVaResponse::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tracks_whether_a_final_is_owed() {
        use futures_util::StreamExt as _;
        let (out, mut rx) = channel(4);
        assert!(!out.owes_final());
        out.send(end_of_input(true)).await.unwrap();
        assert!(out.owes_final());
        out.send(empty_final()).await.unwrap();
        assert!(!out.owes_final());
        assert_eq!(out.sent(), 2);
        let first = rx.next().await.unwrap().unwrap();
        assert_eq!(first.response_type, 2);
        assert_eq!(first.output_events[0].event_type, 5);
        drop(rx);
        assert_eq!(out.send(start_of_input()).await, Err(Closed));
        assert!(out.is_closed());
    }

    #[test]
    fn boundary_events_are_event_only() {
        let start = start_of_input();
        assert_eq!(start.response_type, 0);
        assert_eq!(start.output_events.len(), 1);
        assert_eq!(start.output_events[0].event_type, 4);
        assert!(start.prompts.is_empty() && start.input_handling_config.is_none());
        assert_eq!(start.input_mode, 0);
        let end = end_of_input(false);
        assert_eq!(end.response_type, 0);
        assert_eq!(end.output_events[0].event_type, 5);
    }
}
