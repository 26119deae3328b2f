//! Fault injection against a real media server: callers cancelling at random points across a
//! thousand calls, and the WebSocket proxy's backend dropping mid-call. Nothing panics, every
//! call ends with a defined outcome, every conversation ends exactly once, and the server keeps
//! serving.

mod cancel;
mod proxy;

use std::collections::HashMap;
use std::sync::Mutex;

use byova_media::proto::voice_virtual_agent_client::VoiceVirtualAgentClient;
use byova_media::proto::{VoiceVaRequest, VoiceVaResponse};
use byova_media::{RunningServer, SessionEndReason};
use tokio::sync::{Notify, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Streaming;
use tonic::transport::Channel;

use crate::support::within;

/// A small deterministic random number generator (SplitMix64): the same seed gives the same
/// schedule of faults on every run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..end`.
    pub fn below(&mut self, end: u64) -> u64 {
        self.next_u64() % end
    }
}

/// How a conversation ended, as its agent was told: every `on_session_end`, by conversation.
#[derive(Debug, Default)]
pub struct Tally {
    ends: Mutex<HashMap<String, Vec<SessionEndReason>>>,
    changed: Notify,
}

impl Tally {
    pub fn record(&self, conversation_id: &str, reason: SessionEndReason) {
        self.ends
            .lock()
            .unwrap()
            .entry(conversation_id.to_owned())
            .or_default()
            .push(reason);
        self.changed.notify_waiters();
    }

    /// The reasons `conversation_id` was ended with so far.
    pub fn ends_of(&self, conversation_id: &str) -> Vec<SessionEndReason> {
        self.ends
            .lock()
            .unwrap()
            .get(conversation_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Every conversation's reasons.
    pub fn all(&self) -> HashMap<String, Vec<SessionEndReason>> {
        self.ends.lock().unwrap().clone()
    }

    /// Waits (within the test deadline) until `conversation_id` has ended; returns its reason.
    pub async fn ended(&self, conversation_id: &str) -> SessionEndReason {
        within(&format!("the session end of {conversation_id}"), async {
            loop {
                let notified = self.changed.notified();
                if let Some(reason) = self.ends_of(conversation_id).first() {
                    return *reason;
                }
                notified.await;
            }
        })
        .await
    }
}

/// One `ProcessCallerInput` RPC driven by hand: the request sender and the response stream can
/// be dropped separately. Dropping the sender alone is a half-close; dropping the response
/// stream cancels the RPC (HTTP/2 `RST_STREAM`) once the sender is gone too, as with any tonic
/// client.
pub struct RawRpc {
    pub tx: Option<mpsc::Sender<VoiceVaRequest>>,
    pub rx: Option<Streaming<VoiceVaResponse>>,
}

impl RawRpc {
    pub async fn open(client: &VoiceVirtualAgentClient<Channel>) -> Self {
        let (tx, rx) = mpsc::channel(256);
        let response = within(
            "the RPC to open",
            client.clone().process_caller_input(ReceiverStream::new(rx)),
        )
        .await
        .expect("the server accepts the RPC");
        Self {
            tx: Some(tx),
            rx: Some(response.into_inner()),
        }
    }

    /// Sends a request; `false` once the RPC has ended (the server answered and finished it).
    pub async fn send(&self, request: VoiceVaRequest) -> bool {
        self.tx
            .as_ref()
            .expect("not half-closed")
            .send(request)
            .await
            .is_ok()
    }

    /// The next response; `None` at the end of the RPC (a status other than OK fails the test).
    pub async fn next(&mut self) -> Option<VoiceVaResponse> {
        let rx = self.rx.as_mut().expect("not cancelled");
        within("a response", rx.message())
            .await
            .expect("the RPC ends with OK")
    }

    /// Cancels the RPC: drops the response stream, then the request sender.
    pub fn cancel(&mut self) {
        self.rx = None;
        self.tx = None;
    }

    /// Half-closes: no more requests.
    pub fn half_close(&mut self) {
        self.tx = None;
    }
}

/// A proto client on a channel to `server`.
pub async fn proto_client(server: &RunningServer) -> VoiceVirtualAgentClient<Channel> {
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://{}", server.local_addr()))
            .expect("endpoint")
            .tcp_nodelay(true)
            .connect()
            .await
            .expect("connect");
    VoiceVirtualAgentClient::new(channel)
}

/// The values of a metric's series in the Prometheus text, by label set (`""` when none).
pub fn metric(text: &str, name: &str) -> HashMap<String, u64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let labels = series.strip_prefix(name)?;
            if !(labels.is_empty() || labels.starts_with('{')) {
                return None;
            }
            Some((labels.to_owned(), value.parse::<f64>().ok()? as u64))
        })
        .collect()
}
