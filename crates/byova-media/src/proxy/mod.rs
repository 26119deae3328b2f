//! WebSocket proxy connector: a [`VirtualAgent`] that forwards each call to an external AI backend.
//!
//! One WebSocket per conversation, opened on the first callback and closed at the session end.
//! The JSON contract is the Python SDK's (`DefaultProxyAdapter`), so backends written for it keep
//! working, with its bugs fixed:
//!
//! - **to the backend**, one text frame per event:
//!   `{"type", "conversation_id", "turn_id", "timestamp", "payload"}` (timestamp in UTC, ISO-8601
//!   with microseconds and `Z`), with these types and payloads:
//!   - `session_start`: the `SESSION_START` parameters;
//!   - `audio_input`: `{"encoding", "sample_rate", "channels": 1, "data": <base64>, "is_final"}` —
//!     caller audio as it arrives (`is_final: false`), then, when the server detects the end of
//!     the utterance, an empty `is_final: true` message. The encoding is the real one (`mulaw`,
//!     `alaw` or `linear16`; the Python SDK always said `mulaw`). With
//!     [`stream_audio(false)`](WebSocketProxy::stream_audio) only the complete utterance is sent,
//!     in one `is_final: true` message;
//!   - `dtmf_input`: `{"digits": "12#"}`; `no_input`: `{}`;
//!   - `custom_event`: `{"name", "parameters"}` (new: flow events);
//!   - `session_end`: `{"reason", "duration_seconds"}` (the Python SDK sent `{}`).
//! - **from the backend**: `{"type": "prompt", "payload": {"text", "ssml", "audio": <base64>,
//!   "barge_in"}}` answers the pending turn (audio is a WAV file or raw 8 kHz μ-law; `barge_in` is
//!   honoured now); `{"type": "end_session"}` ends the call; `{"type": "transfer_to_agent"}` (new)
//!   transfers it. Other types and invalid JSON are ignored with a warning (the Python SDK ended
//!   the call or stopped reading).
//!
//! `session_start`, the end of an utterance, `dtmf_input`, `no_input` and `custom_event` each
//! wait for one backend message (up to the [response timeout](WebSocketProxy::response_timeout))
//! and turn it into the turn's [`Reply`]. Messages the backend sends while no turn waits are kept
//! (up to 16) for the next one.
//!
//! Sending goes through a bounded queue drained by a writer task: a slow backend slows the call
//! down instead of growing memory (the Python SDK's buffer never drained and killed calls after
//! 64 KiB). When the socket drops, the next callback reconnects with exponential backoff and
//! replays `session_start` first, so the backend knows the conversation again.
//!
//! ```no_run
//! use byova_media::proxy::WebSocketProxy;
//! use byova_media::{AgentConfig, MediaServer};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let proxy = WebSocketProxy::new("wss://bot.example.com/webex")?
//!     .response_timeout(std::time::Duration::from_secs(10));
//! let server = MediaServer::builder()
//!     .agent(AgentConfig::new("ai-bot", proxy))
//!     .build()?;
//! server.serve().await?;
//! # Ok(())
//! # }
//! ```

mod connection;
mod error;
mod messages;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use self::connection::Connection;
pub use self::error::{ProxyError, ProxyErrorKind};
use self::messages::{BackendMessage, EventType, audio_payload, envelope};
use crate::agent::{AgentResult, Context, VirtualAgent};
use crate::audio::{self, AudioEncoding};
use crate::input::{AudioFrame, Dtmf, Event, SessionEnd, SessionStart, Utterance};
use crate::reply::{Audio, Prompt, Reply};

/// A [`VirtualAgent`] that forwards calls to a WebSocket backend; see the [module docs](self).
#[derive(Clone)]
pub struct WebSocketProxy {
    settings: Arc<Settings>,
}

/// The connector's settings.
#[derive(Clone)]
pub(crate) struct Settings {
    url: String,
    connect_timeout: Duration,
    response_timeout: Duration,
    queue_capacity: usize,
    reconnect_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    stream_audio: bool,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl WebSocketProxy {
    /// A connector to the backend at `url` (`ws://` or `wss://`; TLS uses the webpki roots unless
    /// [`tls_config`](Self::tls_config) says otherwise).
    ///
    /// Defaults: connect timeout 10 s, response timeout 30 s, send queue of 256 messages,
    /// 5 reconnection attempts with backoff from 100 ms doubling to 5 s, audio streamed.
    ///
    /// # Errors
    /// [`ProxyErrorKind::InvalidUrl`] when `url` is not a `ws://` or `wss://` URL with a host.
    pub fn new(url: impl Into<String>) -> Result<Self, ProxyError> {
        let url = url.into();
        let uri: http::Uri = url.parse().map_err(|_| ProxyError::invalid_url())?;
        let scheme_ok = matches!(uri.scheme_str(), Some("ws" | "wss"));
        if !scheme_ok || uri.host().is_none_or(str::is_empty) {
            return Err(ProxyError::invalid_url());
        }
        Ok(Self {
            settings: Arc::new(Settings {
                url,
                connect_timeout: Duration::from_secs(10),
                response_timeout: Duration::from_secs(30),
                queue_capacity: 256,
                reconnect_attempts: 5,
                initial_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(5),
                stream_audio: true,
                tls: None,
            }),
        })
    }

    fn settings_mut(&mut self) -> &mut Settings {
        Arc::make_mut(&mut self.settings)
    }

    /// How long one connection attempt may take.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings_mut().connect_timeout = timeout;
        self
    }

    /// How long a turn waits for the backend's reply before the call fails.
    #[must_use]
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.settings_mut().response_timeout = timeout;
        self
    }

    /// Messages queued for sending per conversation (at least 1); sending waits while it is full.
    #[must_use]
    pub fn send_queue(mut self, capacity: usize) -> Self {
        self.settings_mut().queue_capacity = capacity.max(1);
        self
    }

    /// Reconnection attempts after a failed connect, and the first backoff (doubling up to 5 s).
    #[must_use]
    pub fn reconnect(mut self, attempts: u32, initial_backoff: Duration) -> Self {
        let settings = self.settings_mut();
        settings.reconnect_attempts = attempts;
        settings.initial_backoff = initial_backoff;
        self
    }

    /// Whether caller audio is forwarded as it arrives (default) or only as complete utterances.
    #[must_use]
    pub fn stream_audio(mut self, stream: bool) -> Self {
        self.settings_mut().stream_audio = stream;
        self
    }

    /// The TLS client configuration for `wss://` (for private roots or client certificates).
    #[must_use]
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.settings_mut().tls = Some(config);
        self
    }
}

impl fmt::Debug for WebSocketProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry credentials in its path or query: show only scheme and host.
        let uri: Option<http::Uri> = self.settings.url.parse().ok();
        let backend = uri.as_ref().map(|uri| {
            format!(
                "{}://{}",
                uri.scheme_str().unwrap_or_default(),
                uri.host().unwrap_or_default()
            )
        });
        f.debug_struct("WebSocketProxy")
            .field("backend", &backend)
            .field("response_timeout", &self.settings.response_timeout)
            .field("stream_audio", &self.settings.stream_audio)
            .finish_non_exhaustive()
    }
}

/// Per-conversation state of the [`WebSocketProxy`]: its connection and what a reconnect replays.
#[derive(Debug, Default)]
pub struct ProxySession {
    connection: Option<Connection>,
    /// The `session_start` payload, replayed first after a reconnect.
    session_start: Option<Value>,
}

impl WebSocketProxy {
    /// The open connection of the conversation, connecting (with backoff) when there is none.
    async fn connection<'s>(
        &self,
        session: &'s mut ProxySession,
        conversation_id: &str,
    ) -> Result<&'s mut Connection, ProxyError> {
        if session.connection.as_ref().is_some_and(Connection::is_open) {
            return session.connection.as_mut().ok_or_else(ProxyError::closed);
        }
        session.connection = None;
        let settings = &*self.settings;
        let mut backoff = settings.initial_backoff;
        let mut attempt = 0;
        let connection = loop {
            match Connection::open(settings).await {
                Ok(connection) => break connection,
                Err(err) if attempt >= settings.reconnect_attempts => return Err(err),
                Err(err) => {
                    tracing::warn!(error = %err, attempt, "proxy: connecting failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(settings.max_backoff);
                    attempt += 1;
                }
            }
        };
        if let Some(payload) = &session.session_start {
            // A reconnect: tell the backend which conversation this is first.
            let replay = envelope(
                EventType::SessionStart,
                conversation_id,
                "",
                payload.clone(),
            );
            connection.send(replay).await?;
        }
        Ok(session.connection.insert(connection))
    }

    /// Sends one event, reconnecting once if the connection turns out to be gone.
    async fn send(
        &self,
        ctx: &mut Context<'_, ProxySession>,
        event: EventType,
        payload: Value,
    ) -> Result<(), ProxyError> {
        let conversation_id = ctx.conversation_id().to_owned();
        let text = envelope(
            event,
            &conversation_id,
            &ctx.turn_number().to_string(),
            payload,
        );
        let session = ctx.state();
        let connection = self.connection(session, &conversation_id).await?;
        if connection.send(text.clone()).await.is_ok() {
            return Ok(());
        }
        session.connection = None;
        self.connection(session, &conversation_id)
            .await?
            .send(text)
            .await
    }

    /// Sends one event and turns the backend's answer into the turn's reply.
    async fn request(
        &self,
        ctx: &mut Context<'_, ProxySession>,
        event: EventType,
        payload: Value,
    ) -> AgentResult {
        self.send(ctx, event, payload).await?;
        self.reply(ctx).await
    }

    /// Waits for the backend's answer to the pending turn.
    async fn reply(&self, ctx: &mut Context<'_, ProxySession>) -> AgentResult {
        let timeout = self.settings.response_timeout;
        let session = ctx.state();
        let connection = session.connection.as_mut().ok_or_else(ProxyError::closed)?;
        match connection.next_message(timeout).await {
            Ok(message) => Ok(reply_for(message)),
            Err(err) => {
                if err.kind() == ProxyErrorKind::Closed {
                    session.connection = None;
                }
                Err(err.into())
            }
        }
    }
}

/// The reply for one backend message.
fn reply_for(message: BackendMessage) -> Reply {
    match message {
        BackendMessage::Prompt {
            text,
            ssml,
            audio,
            barge_in,
        } => {
            let prompt = match audio {
                // Webex may also speak a prompt's text, so audio goes out alone.
                Some(bytes) if bytes.starts_with(b"RIFF") => Prompt::audio(Audio::wav(bytes)),
                Some(bytes) => Prompt::audio(Audio::mulaw(bytes)),
                None => match text.or(ssml) {
                    Some(text) => Prompt::text(text),
                    None => return Reply::new(),
                },
            };
            let prompt = match barge_in {
                Some(enabled) => prompt.barge_in(enabled),
                None => prompt,
            };
            Reply::new().prompt(prompt)
        }
        BackendMessage::EndSession => Reply::new().end_session(),
        BackendMessage::TransferToAgent => Reply::new().transfer_to_agent(),
    }
}

impl VirtualAgent for WebSocketProxy {
    type State = ProxySession;

    async fn on_session_start(
        &self,
        ctx: &mut Context<'_, ProxySession>,
        start: SessionStart,
    ) -> AgentResult {
        let payload = Value::Object(start.parameters);
        self.send(ctx, EventType::SessionStart, payload.clone())
            .await?;
        // From now on a reconnect replays it.
        ctx.state().session_start = Some(payload);
        self.reply(ctx).await
    }

    fn wants_audio_frames(&self) -> bool {
        self.settings.stream_audio
    }

    async fn on_audio(
        &self,
        ctx: &mut Context<'_, ProxySession>,
        frame: AudioFrame<'_>,
    ) -> AgentResult<()> {
        let payload = audio_payload(frame.audio, frame.encoding, frame.sample_rate, false);
        self.send(ctx, EventType::AudioInput, payload).await?;
        Ok(())
    }

    async fn on_utterance(
        &self,
        ctx: &mut Context<'_, ProxySession>,
        utterance: Utterance,
    ) -> AgentResult {
        let payload = if self.settings.stream_audio {
            // The audio went out as it arrived; mark its end.
            audio_payload(&[], utterance.encoding(), utterance.sample_rate(), true)
        } else if let Some(received) = utterance.received() {
            audio_payload(
                received,
                utterance.encoding(),
                utterance.sample_rate(),
                true,
            )
        } else {
            let mut bytes = Vec::with_capacity(utterance.pcm16().len() * 2);
            audio::pcm16_le_encode_into(utterance.pcm16(), &mut bytes);
            audio_payload(
                &bytes,
                AudioEncoding::Linear16,
                utterance.sample_rate(),
                true,
            )
        };
        self.request(ctx, EventType::AudioInput, payload).await
    }

    async fn on_dtmf(&self, ctx: &mut Context<'_, ProxySession>, dtmf: Dtmf) -> AgentResult {
        let payload = json!({ "digits": dtmf.digits });
        self.request(ctx, EventType::DtmfInput, payload).await
    }

    async fn on_event(&self, ctx: &mut Context<'_, ProxySession>, event: Event) -> AgentResult {
        match event {
            Event::NoInput => self.request(ctx, EventType::NoInput, json!({})).await,
            Event::Custom { name, parameters } => {
                let payload = json!({ "name": name, "parameters": parameters });
                self.request(ctx, EventType::CustomEvent, payload).await
            }
            // The caller started keying digits: wait for them, answer nothing.
            _ => Ok(Reply::none()),
        }
    }

    async fn on_session_end(&self, ctx: &mut Context<'_, ProxySession>, end: SessionEnd) {
        let Some(connection) = ctx.state().connection.take() else {
            return;
        };
        if connection.is_open() {
            let payload = json!({
                "reason": end.reason.as_str(),
                "duration_seconds": end.duration.as_secs_f64(),
            });
            let text = envelope(
                EventType::SessionEnd,
                ctx.conversation_id(),
                &ctx.turn_number().to_string(),
                payload,
            );
            if connection.send(text).await.is_err() {
                tracing::debug!("proxy: the backend was gone before the session end");
            }
        }
        connection.close().await;
    }
}

#[cfg(test)]
mod tests;
