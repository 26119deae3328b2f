//! [`Turn`]: one open `ProcessCallerInput` RPC, and what it produced ([`TurnResult`]).

use std::fmt;
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tonic::{Code, Status, Streaming};

use crate::proto::{VoiceVaRequest, VoiceVaResponse};

use super::{EventType, ResponseType};

/// The RPC being dispatched: resolves with the response stream once the server's headers
/// arrive.
pub(super) type Opening = BoxFuture<'static, Result<Streaming<VoiceVaResponse>, Status>>;

/// Where a turn's responses come from (one per turn: the size difference does not matter).
#[allow(clippy::large_enum_variant)]
enum Responses {
    Opening(Opening),
    Open(Streaming<VoiceVaResponse>),
}

/// An open `ProcessCallerInput` RPC.
pub struct Turn {
    tx: Option<mpsc::Sender<VoiceVaRequest>>,
    responses: Responses,
    started: Instant,
    received: Vec<TimedResponse>,
    status: Option<Status>,
    audio_started: Option<Duration>,
    frames_sent: usize,
}

impl fmt::Debug for Turn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Turn")
            .field("open", &self.tx.is_some())
            .field("received", &self.received.len())
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The RPC's request side is closed (half-closed, or the RPC ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the turn no longer accepts requests")]
pub struct TurnClosed;

impl Turn {
    /// A turn whose RPC is being dispatched by `opening`.
    pub(super) fn opening(
        tx: Option<mpsc::Sender<VoiceVaRequest>>,
        opening: Opening,
        started: Instant,
    ) -> Self {
        Self {
            tx,
            responses: Responses::Opening(opening),
            started,
            received: Vec::new(),
            status: None,
            audio_started: None,
            frames_sent: 0,
        }
    }

    /// Sends a request.
    ///
    /// # Errors
    /// [`TurnClosed`] after [`half_close`](Self::half_close) or when the RPC has ended.
    pub async fn send(&mut self, request: VoiceVaRequest) -> Result<(), TurnClosed> {
        let tx = self.tx.as_ref().ok_or(TurnClosed)?;
        tx.send(request).await.map_err(|_| TurnClosed)
    }

    pub(super) async fn send_audio(&mut self, request: VoiceVaRequest) -> Result<(), TurnClosed> {
        self.send(request).await?;
        self.audio_started
            .get_or_insert_with(|| self.started.elapsed());
        self.frames_sent += 1;
        Ok(())
    }

    /// Half-closes: no more requests (Webex's `onCompleted`).
    pub fn half_close(&mut self) {
        self.tx = None;
    }

    /// Time since the RPC was opened.
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Waits for the server's response headers: `Err` with the status when it refused the RPC.
    pub(super) async fn opened(&mut self) -> Result<(), Status> {
        if let Some(status) = &self.status {
            return if status.code() == Code::Ok {
                Ok(())
            } else {
                Err(status.clone())
            };
        }
        if let Responses::Opening(opening) = &mut self.responses {
            // Polled by reference: a caller that gives up waiting leaves it to resume later.
            match opening.as_mut().await {
                Ok(stream) => self.responses = Responses::Open(stream),
                Err(status) => {
                    self.status = Some(status.clone());
                    return Err(status);
                }
            }
        }
        Ok(())
    }

    /// The next response, `None` once the RPC has ended (its status is then kept for
    /// [`finish`](Self::finish)).
    pub async fn next(&mut self) -> Option<TimedResponse> {
        if self.status.is_some() || self.opened().await.is_err() {
            return None;
        }
        let Responses::Open(responses) = &mut self.responses else {
            return None;
        };
        match responses.next().await {
            Some(Ok(response)) => {
                let timed = TimedResponse {
                    at: self.started.elapsed(),
                    response,
                };
                self.received.push(timed.clone());
                Some(timed)
            }
            Some(Err(status)) => {
                self.status = Some(status);
                None
            }
            None => {
                self.status = Some(Status::ok(""));
                None
            }
        }
    }

    /// Half-closes, reads the remaining responses and returns everything with the status.
    pub async fn finish(mut self) -> TurnResult {
        self.half_close();
        while self.next().await.is_some() {}
        TurnResult {
            responses: self.received,
            status: self.status.unwrap_or_else(|| Status::ok("")),
            duration: self.started.elapsed(),
            audio_started: self.audio_started,
            frames_sent: self.frames_sent,
        }
    }
}

/// A response with the time it arrived, counted from the opening of its RPC.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedResponse {
    /// When it arrived.
    pub at: Duration,
    /// The response.
    pub response: VoiceVaResponse,
}

impl TimedResponse {
    /// The response type (FINAL, PARTIAL, CHUNK; unknown values read as FINAL).
    #[must_use]
    pub fn response_type(&self) -> ResponseType {
        ResponseType::try_from(self.response.response_type).unwrap_or(ResponseType::Final)
    }

    /// The output events' types, in order (unknown values are skipped).
    #[must_use]
    pub fn events(&self) -> Vec<EventType> {
        self.response
            .output_events
            .iter()
            .filter_map(|event| EventType::try_from(event.event_type).ok())
            .collect()
    }

    /// Bytes of prompt audio carried.
    #[must_use]
    pub fn audio_bytes(&self) -> usize {
        self.response
            .prompts
            .iter()
            .map(|prompt| prompt.audio_content.len())
            .sum()
    }
}

/// Everything one turn produced.
#[derive(Debug, Clone)]
pub struct TurnResult {
    /// The responses, in order.
    pub responses: Vec<TimedResponse>,
    /// The RPC's final status (code OK on success).
    pub status: Status,
    /// From opening the RPC to its end.
    pub duration: Duration,
    /// When the first audio frame was sent (speaking turns).
    pub audio_started: Option<Duration>,
    /// How many audio frames were sent.
    pub frames_sent: usize,
}

impl TurnResult {
    /// Whether the RPC ended with OK.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.status.code() == Code::Ok
    }

    /// The status code.
    #[must_use]
    pub fn code(&self) -> Code {
        self.status.code()
    }

    /// The first response carrying `event`, if any.
    #[must_use]
    pub fn first_event(&self, event: EventType) -> Option<&TimedResponse> {
        self.responses
            .iter()
            .find(|response| has_event(&response.response, event))
    }

    /// The response types, in order.
    #[must_use]
    pub fn response_types(&self) -> Vec<ResponseType> {
        self.responses
            .iter()
            .map(TimedResponse::response_type)
            .collect()
    }

    /// All prompt audio received, concatenated (CHUNK payloads, or WAV files as sent).
    #[must_use]
    pub fn audio(&self) -> Vec<u8> {
        let mut audio = Vec::new();
        for response in &self.responses {
            for prompt in &response.response.prompts {
                audio.extend_from_slice(&prompt.audio_content);
            }
        }
        audio
    }

    /// The last response, if any.
    #[must_use]
    pub fn last(&self) -> Option<&TimedResponse> {
        self.responses.last()
    }
}

/// Whether `response` carries an output event of type `event`.
#[must_use]
pub fn has_event(response: &VoiceVaResponse, event: EventType) -> bool {
    response
        .output_events
        .iter()
        .any(|candidate| candidate.event_type == event as i32)
}

/// Whether `response` ends the call from the server's side: it carries SESSION_END or
/// TRANSFER_TO_AGENT.
#[must_use]
pub fn ends_call(response: &VoiceVaResponse) -> bool {
    has_event(response, EventType::SessionEnd) || has_event(response, EventType::TransferToAgent)
}
