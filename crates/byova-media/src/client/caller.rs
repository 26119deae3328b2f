//! [`Caller`] (a connection acting as Webex) and [`Call`] (one conversation): each method of a
//! call runs one `ProcessCallerInput` turn.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};

use crate::audio::{AudioEncoding, MULAW_SILENCE};
use crate::json::JsonObject;
use crate::proto::voice_va_request::VoiceVaInputType;
use crate::proto::voice_virtual_agent_client::VoiceVirtualAgentClient;
use crate::proto::{self, VirtualAgentInfo, VoiceVaRequest};

use super::turn::{Turn, TurnResult, has_event};
use super::{ClientError, input};
use super::{EventType, InputEventType};

/// Requests buffered per turn before [`Turn::send`] waits.
const REQUEST_BUFFER: usize = 32;

/// A connection to a media server, acting as Webex. Cheap to clone (clones share the channel).
#[derive(Clone)]
pub struct Caller {
    client: VoiceVirtualAgentClient<Channel>,
    authorization: Option<MetadataValue<Ascii>>,
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The JWS is a credential: never print it.
        f.debug_struct("Caller")
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl Caller {
    /// Connects to `uri` (for example `http://127.0.0.1:50051`; use `https://` with
    /// [`Caller::new`] and a TLS-configured channel for TLS).
    ///
    /// # Errors
    /// [`ClientError::Connect`] when the URI is invalid or nothing answers.
    pub async fn connect(uri: impl Into<String>) -> Result<Self, ClientError> {
        let channel = Endpoint::from_shared(uri.into())
            .map_err(ClientError::Connect)?
            .tcp_nodelay(true)
            .connect()
            .await
            .map_err(ClientError::Connect)?;
        Ok(Self::new(channel))
    }

    /// A caller over an existing channel.
    #[must_use]
    pub fn new(channel: Channel) -> Self {
        Self {
            client: VoiceVirtualAgentClient::new(channel)
                .max_decoding_message_size(64 * 1024 * 1024)
                .max_encoding_message_size(64 * 1024 * 1024),
            authorization: None,
        }
    }

    /// Presents `token` (the data source's JWS) as `authorization: Bearer <token>` on every RPC.
    ///
    /// # Errors
    /// [`ClientError::InvalidToken`] when the token is not valid metadata.
    pub fn with_token(mut self, token: &str) -> Result<Self, ClientError> {
        self.authorization = Some(super::error::bearer(token)?);
        Ok(self)
    }

    /// Calls `ListVirtualAgents`.
    ///
    /// # Errors
    /// The RPC's status when it fails.
    pub async fn list_virtual_agents(
        &self,
        customer_org_id: &str,
    ) -> Result<Vec<VirtualAgentInfo>, Status> {
        let mut request = tonic::Request::new(proto::ListVaRequest {
            customer_org_id: customer_org_id.to_owned(),
            is_default_virtual_agent_enabled: true,
        });
        if let Some(auth) = &self.authorization {
            request.metadata_mut().insert("authorization", auth.clone());
        }
        let mut client = self.client.clone();
        Ok(client
            .list_virtual_agents(request)
            .await?
            .into_inner()
            .virtual_agents)
    }

    /// A conversation with the given id (Webex's call id).
    #[must_use]
    pub fn call(&self, conversation_id: impl Into<String>) -> Call {
        Call {
            caller: self.clone(),
            conversation_id: conversation_id.into(),
            customer_org_id: String::new(),
            virtual_agent_id: String::new(),
            vendor_specific_config: String::new(),
            tracking_id: None,
        }
    }
}

/// One conversation seen from the Webex side: the ids every request carries. Cheap to clone.
#[derive(Clone)]
pub struct Call {
    caller: Caller,
    conversation_id: String,
    customer_org_id: String,
    virtual_agent_id: String,
    vendor_specific_config: String,
    tracking_id: Option<MetadataValue<Ascii>>,
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("conversation_id", &self.conversation_id)
            .field("customer_org_id", &self.customer_org_id)
            .field("virtual_agent_id", &self.virtual_agent_id)
            .finish_non_exhaustive()
    }
}

impl Call {
    /// Sets the customer org id sent on every request.
    #[must_use]
    pub fn customer_org_id(mut self, id: impl Into<String>) -> Self {
        self.customer_org_id = id.into();
        self
    }

    /// Sets the virtual agent id sent on every request (empty: the server's default agent).
    #[must_use]
    pub fn virtual_agent_id(mut self, id: impl Into<String>) -> Self {
        self.virtual_agent_id = id.into();
        self
    }

    /// Sets the vendor-specific config string sent on every request.
    #[must_use]
    pub fn vendor_specific_config(mut self, config: impl Into<String>) -> Self {
        self.vendor_specific_config = config.into();
        self
    }

    /// Sends `trackingid` metadata on every RPC (ignored when not valid metadata).
    #[must_use]
    pub fn tracking_id(mut self, id: &str) -> Self {
        self.tracking_id = id.parse().ok();
        self
    }

    /// The conversation id.
    #[must_use]
    pub fn conversation_id(&self) -> &str {
        &self.conversation_id
    }

    /// A request of this call carrying `input`.
    #[must_use]
    pub fn request(&self, input: VoiceVaInputType) -> VoiceVaRequest {
        VoiceVaRequest {
            conversation_id: self.conversation_id.clone(),
            customer_org_id: self.customer_org_id.clone(),
            virtual_agent_id: self.virtual_agent_id.clone(),
            allow_partial_responses: false,
            vendor_specific_config: self.vendor_specific_config.clone(),
            voice_va_input_type: Some(input),
            additional_info: std::collections::HashMap::new(),
        }
    }

    /// A request carrying an input event.
    #[must_use]
    pub fn event_request(
        &self,
        kind: InputEventType,
        name: &str,
        parameters: Option<&JsonObject>,
    ) -> VoiceVaRequest {
        self.request(input::event(kind, name, parameters))
    }

    /// A request carrying one piece of caller audio.
    #[must_use]
    pub fn audio_request(
        &self,
        audio: Bytes,
        encoding: AudioEncoding,
        sample_rate: u32,
        language: &str,
    ) -> VoiceVaRequest {
        self.request(input::audio(audio, encoding, sample_rate, language))
    }

    /// Opens a `ProcessCallerInput` RPC (one turn).
    ///
    /// # Errors
    /// The status when the server refuses the RPC before any response (for example
    /// UNAUTHENTICATED).
    pub async fn open_turn(&self) -> Result<Turn, Status> {
        let mut turn = self.start_turn();
        turn.opened().await?;
        Ok(turn)
    }

    /// Opens a `ProcessCallerInput` RPC without waiting for the server's response headers:
    /// requests can be sent at once (a server may hold its headers until it has read them).
    /// The RPC's fate shows in the first [`Turn::next`].
    #[must_use]
    pub fn start_turn(&self) -> Turn {
        let (tx, rx) = mpsc::channel(REQUEST_BUFFER);
        let started = Instant::now();
        Turn::opening(Some(tx), self.dispatch(ReceiverStream::new(rx)), started)
    }

    /// The RPC carrying `requests`, with this call's metadata.
    fn dispatch(
        &self,
        requests: impl tokio_stream::Stream<Item = VoiceVaRequest> + Send + 'static,
    ) -> super::turn::Opening {
        let mut request = tonic::Request::new(requests);
        if let Some(auth) = &self.caller.authorization {
            request.metadata_mut().insert("authorization", auth.clone());
        }
        if let Some(tracking) = &self.tracking_id {
            request
                .metadata_mut()
                .insert("trackingid", tracking.clone());
        }
        let mut client = self.caller.client.clone();
        Box::pin(async move {
            client
                .process_caller_input(request)
                .await
                .map(tonic::Response::into_inner)
        })
    }

    /// Runs a turn that sends `requests`, half-closes and collects the responses.
    pub async fn run_turn(&self, requests: impl IntoIterator<Item = VoiceVaRequest>) -> TurnResult {
        let requests: Vec<VoiceVaRequest> = requests.into_iter().collect();
        let started = Instant::now();
        let turn = Turn::opening(None, self.dispatch(tokio_stream::iter(requests)), started);
        turn.finish().await
    }

    /// `SESSION_START` with a name and parameters (the flow's entry point and data).
    pub async fn session_start(&self, name: &str, parameters: JsonObject) -> TurnResult {
        self.run_turn([self.event_request(InputEventType::SessionStart, name, Some(&parameters))])
            .await
    }

    /// `SESSION_END` (the caller hung up).
    pub async fn session_end(&self) -> TurnResult {
        self.run_turn([self.event_request(InputEventType::SessionEnd, "", None)])
            .await
    }

    /// `NO_INPUT` (Webex's no-input timer expired).
    pub async fn no_input(&self) -> TurnResult {
        self.run_turn([self.event_request(InputEventType::NoInput, "", None)])
            .await
    }

    /// `START_OF_DTMF` (the caller started pressing keys).
    pub async fn start_of_dtmf(&self) -> TurnResult {
        self.run_turn([self.event_request(InputEventType::StartOfDtmf, "", None)])
            .await
    }

    /// A flow `CUSTOM_EVENT` with a name and parameters.
    pub async fn custom_event(&self, name: &str, parameters: JsonObject) -> TurnResult {
        self.run_turn([self.event_request(InputEventType::CustomEvent, name, Some(&parameters))])
            .await
    }

    /// Collected DTMF digits (`0`–`9`, `A`–`D`, `*`, `#`; other characters are skipped).
    pub async fn dtmf(&self, digits: &str) -> TurnResult {
        self.run_turn([self.request(input::dtmf(digits))]).await
    }

    /// Speaks `audio` (raw bytes in `options.encoding` at `options.sample_rate`) as Webex
    /// forwards a caller: frames of `options.frame`, in real time when `options.realtime`, then
    /// silence for up to `options.trailing_silence`, and stops sending as soon as END_OF_INPUT
    /// arrives (when `options.stop_on_end_of_input`), then half-closes and collects the reply.
    pub async fn speak(&self, audio: &[u8], options: &SpeakOptions) -> TurnResult {
        let mut turn = self.start_turn();
        let bytes_per_frame = options.frame_bytes();
        let silence_byte = match options.encoding {
            AudioEncoding::Mulaw => MULAW_SILENCE,
            AudioEncoding::Alaw => crate::audio::ALAW_SILENCE,
            AudioEncoding::Linear16 => 0,
        };
        let silence_frames = if options.frame.is_zero() {
            0
        } else {
            usize::try_from(options.trailing_silence.as_nanos() / options.frame.as_nanos())
                .unwrap_or(usize::MAX)
        };
        let audio = Bytes::copy_from_slice(audio);
        let silence = Bytes::from(vec![silence_byte; bytes_per_frame]);
        let mut frames = audio
            .chunks(bytes_per_frame)
            .map(|chunk| audio.slice_ref(chunk))
            .chain(std::iter::repeat_n(silence, silence_frames));
        let template = self.audio_request(
            Bytes::new(),
            options.encoding,
            options.sample_rate,
            &options.language,
        );
        let mut ticker = tokio::time::interval(options.frame.max(Duration::from_micros(1)));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut sending = true;
        let mut open = true;
        while sending && open {
            tokio::select! {
                biased;
                response = turn.next() => match response {
                    Some(response) => {
                        if options.stop_on_end_of_input
                            && has_event(&response.response, EventType::EndOfInput)
                        {
                            sending = false;
                        }
                    }
                    None => open = false,
                },
                _ = ticker.tick(), if options.realtime => {
                    sending = send_frame(&mut turn, &mut frames, &template).await;
                }
                () = std::future::ready(()), if !options.realtime => {
                    sending = send_frame(&mut turn, &mut frames, &template).await;
                }
            }
        }
        turn.finish().await
    }
}

/// Sends the next frame; `false` when there is none left or the RPC ended.
async fn send_frame(
    turn: &mut Turn,
    frames: &mut impl Iterator<Item = Bytes>,
    template: &VoiceVaRequest,
) -> bool {
    let Some(frame) = frames.next() else {
        return false;
    };
    let mut request = template.clone();
    if let Some(VoiceVaInputType::AudioInput(input)) = &mut request.voice_va_input_type {
        input.caller_audio = frame;
    }
    turn.send_audio(request).await.is_ok()
}

/// How [`Call::speak`] sends audio.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpeakOptions {
    /// Encoding of the audio (default μ-law).
    pub encoding: AudioEncoding,
    /// Sample rate of the audio (default 8000).
    pub sample_rate: u32,
    /// Frame length (default 20 ms: 160 bytes of 8 kHz μ-law).
    pub frame: Duration,
    /// Send one frame per frame length (default `true`); `false` sends as fast as possible.
    pub realtime: bool,
    /// Silence sent after the audio while waiting for END_OF_INPUT (default 3 s).
    pub trailing_silence: Duration,
    /// Stop sending once END_OF_INPUT arrives, as Webex does (default `true`).
    pub stop_on_end_of_input: bool,
    /// The caller language sent with each frame (default `en-US`).
    pub language: String,
}

impl Default for SpeakOptions {
    fn default() -> Self {
        Self {
            encoding: AudioEncoding::Mulaw,
            sample_rate: 8000,
            frame: Duration::from_millis(20),
            realtime: true,
            trailing_silence: Duration::from_secs(3),
            stop_on_end_of_input: true,
            language: "en-US".to_owned(),
        }
    }
}

impl SpeakOptions {
    /// Bytes in one frame.
    #[must_use]
    pub fn frame_bytes(&self) -> usize {
        let samples = u128::from(self.sample_rate) * self.frame.as_micros() / 1_000_000;
        usize::try_from(samples)
            .unwrap_or(usize::MAX)
            .saturating_mul(self.encoding.bytes_per_sample())
            .max(1)
    }
}
