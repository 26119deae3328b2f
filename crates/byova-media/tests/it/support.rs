//! Shared test support: a scripted agent that reports every callback, a server on 127.0.0.1:0,
//! the spoken fixtures, and deadlines for event-driven waits.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use byova_media::audio::{self, AudioEncoding, PromptAudio};
use byova_media::client::{Call, Caller, SpeakOptions, TurnResult};
use byova_media::proto::{VoiceVaRequest, VoiceVaResponse};
use byova_media::{
    AgentConfig, AgentResult, Audio, Context, Detector, Dtmf, Event, JsonObject, MediaServer,
    MediaServerBuilder, Reply, RunningServer, SessionEnd, SessionEndReason, SessionStart,
    Utterance, VirtualAgent,
};
use bytes::Bytes;
use tokio::sync::{Notify, mpsc};
use tonic::Streaming;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

/// How long any event-driven wait may take before the test fails (generous: the machine is
/// shared and loaded).
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Awaits `future`, failing the test after [`DEADLINE`].
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(DEADLINE, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {DEADLINE:?} waiting for {what}"),
    }
}

/// What the scripted agent saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    SessionStart {
        conversation_id: String,
        customer_org_id: String,
        vendor_specific_config: String,
        tracking_id: Option<String>,
        start: SessionStart,
        turn: u64,
    },
    Utterance {
        samples: usize,
        sample_rate: u32,
        duration: Duration,
        language: Option<String>,
    },
    Dtmf(String),
    Event(Event),
    SessionEnd {
        conversation_id: String,
        reason: SessionEndReason,
        duration: Duration,
        turns_seen: u32,
    },
    Claims {
        subject: String,
    },
}

/// Gates a scripted agent can wait on (released by the test).
#[derive(Debug, Default)]
pub struct Gates {
    /// Released by the test to let a blocked greeting finish.
    pub greeting: Notify,
    /// Released by the test to let a streamed utterance reply finish.
    pub stream: Notify,
}

/// The greeting audio of the scripted agent (1000 bytes of 0x11).
pub const GREETING: [u8; 1000] = [0x11; 1000];
/// The utterance reply audio of the scripted agent (3000 bytes of 0x22).
pub const ANSWER: [u8; 3000] = [0x22; 3000];

/// How the scripted agent greets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Greeting {
    /// One audio prompt ([`GREETING`]) with a transcript.
    #[default]
    Audio,
    /// Streams 400 bytes of the greeting, waits for [`Gates::greeting`], then returns the rest.
    Blocked,
}

/// An agent with fixed, observable behaviour:
///
/// - greeting: see [`Greeting`];
/// - utterance: an audio reply ([`ANSWER`]); with `stream_answer`, 600 bytes are streamed, then
///   it waits for [`Gates::stream`] before returning the rest;
/// - DTMF `0` → transfer, `9` → goodbye and end, `*` → panic, `#` → error, `7` → an audio reply
///   that cannot be converted, otherwise a text reply echoing the digits;
/// - NO_INPUT → "Are you still there?"; CUSTOM_EVENT → a custom `ack` event echoing the
///   parameters; START_OF_DTMF → nothing.
pub struct Scripted {
    pub seen: mpsc::UnboundedSender<Seen>,
    pub gates: Arc<Gates>,
    pub greeting: Greeting,
    pub stream_answer: bool,
}

/// Per-conversation state: how many callbacks ran.
#[derive(Debug, Default)]
pub struct Count {
    pub calls: u32,
}

impl VirtualAgent for Scripted {
    type State = Count;

    async fn on_session_start(
        &self,
        ctx: &mut Context<'_, Count>,
        start: SessionStart,
    ) -> AgentResult {
        ctx.state().calls += 1;
        let _ = self.seen.send(Seen::SessionStart {
            conversation_id: ctx.conversation_id().to_owned(),
            customer_org_id: ctx.call().customer_org_id().to_owned(),
            vendor_specific_config: ctx.call().vendor_specific_config().to_owned(),
            tracking_id: ctx.tracking_id().map(str::to_owned),
            start,
            turn: ctx.turn_number(),
        });
        #[cfg(feature = "jws")]
        if let Some(claims) = ctx.claims() {
            let _ = self.seen.send(Seen::Claims {
                subject: claims.subject().to_owned(),
            });
        }
        match self.greeting {
            Greeting::Audio => {
                Ok(Reply::play(Audio::mulaw(GREETING.to_vec())).transcript("greeting played"))
            }
            Greeting::Blocked => {
                ctx.sink().send_mulaw(&GREETING[..400]).await?;
                self.gates.greeting.notified().await;
                Ok(Reply::play(Audio::mulaw(GREETING[400..].to_vec())))
            }
        }
    }

    async fn on_utterance(
        &self,
        ctx: &mut Context<'_, Count>,
        utterance: Utterance,
    ) -> AgentResult {
        ctx.state().calls += 1;
        let _ = self.seen.send(Seen::Utterance {
            samples: utterance.pcm16().len(),
            sample_rate: utterance.sample_rate(),
            duration: utterance.duration(),
            language: utterance.language().map(str::to_owned),
        });
        if self.stream_answer {
            ctx.sink().send_mulaw(&ANSWER[..600]).await?;
            self.gates.stream.notified().await;
            return Ok(Reply::play(Audio::mulaw(ANSWER[600..].to_vec())));
        }
        Ok(Reply::play(Audio::mulaw(ANSWER.to_vec())))
    }

    async fn on_dtmf(&self, ctx: &mut Context<'_, Count>, dtmf: Dtmf) -> AgentResult {
        ctx.state().calls += 1;
        let _ = self.seen.send(Seen::Dtmf(dtmf.digits.clone()));
        match dtmf.digits.as_str() {
            "0" => Ok(Reply::say("Transferring you now.").transfer_to_agent()),
            "9" => Ok(Reply::say("Goodbye.").end_session()),
            "*" => panic!("the scripted agent panics on *"),
            "#" => Err("the scripted agent fails on #".into()),
            "7" => Ok(Reply::play(Audio::wav(b"RIFF, but not really".to_vec()))),
            digits => Ok(Reply::say(format!("You pressed {digits}."))),
        }
    }

    async fn on_event(&self, ctx: &mut Context<'_, Count>, event: Event) -> AgentResult {
        ctx.state().calls += 1;
        let _ = self.seen.send(Seen::Event(event.clone()));
        Ok(match event {
            Event::NoInput => Reply::say("Are you still there?"),
            Event::Custom { parameters, .. } => Reply::new().custom_event("ack", parameters),
            _ => Reply::none(),
        })
    }

    async fn on_session_end(&self, ctx: &mut Context<'_, Count>, end: SessionEnd) {
        let _ = self.seen.send(Seen::SessionEnd {
            conversation_id: ctx.conversation_id().to_owned(),
            reason: end.reason,
            duration: end.duration,
            turns_seen: ctx.state_ref().calls,
        });
    }
}

/// A server with the scripted agent (id `bot`, default) on 127.0.0.1:0, and a caller.
pub struct TestServer {
    pub server: Option<RunningServer>,
    pub caller: Caller,
    pub seen: mpsc::UnboundedReceiver<Seen>,
    pub gates: Arc<Gates>,
}

/// Options of [`TestServer::start_with`].
#[derive(Default)]
pub struct Setup {
    pub greeting: Greeting,
    pub stream_answer: bool,
    pub wav: bool,
}

impl TestServer {
    /// The scripted agent, CHUNK mode, authentication off.
    pub async fn start() -> Self {
        Self::start_with(Setup::default(), |builder| builder).await
    }

    /// A server built from `configure(builder)`; authentication is off unless `configure`
    /// configures it.
    pub async fn start_with(
        setup: Setup,
        configure: impl FnOnce(MediaServerBuilder) -> MediaServerBuilder,
    ) -> Self {
        let (tx, seen) = mpsc::unbounded_channel();
        let gates = Arc::new(Gates::default());
        let agent = Scripted {
            seen: tx,
            gates: Arc::clone(&gates),
            greeting: setup.greeting,
            stream_answer: setup.stream_answer,
        };
        let mut config = AgentConfig::new("bot", agent)
            .name("Scripted bot")
            .attribute("purpose", "tests");
        if setup.wav {
            config = config.output_mode(byova_media::OutputMode::Wav);
        }
        let builder = MediaServer::builder()
            .addr("127.0.0.1:0".parse().unwrap())
            .disable_authentication()
            .detector(Detector::Energy)
            .agent(config);
        let server = configure(builder)
            .build()
            .expect("valid test configuration")
            .bind()
            .await
            .expect("the server binds 127.0.0.1:0");
        let caller = Caller::connect(format!("http://{}", server.local_addr()))
            .await
            .expect("the client connects");
        Self {
            server: Some(server),
            caller,
            seen,
            gates,
        }
    }

    /// The running server.
    pub fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("the server runs")
    }

    /// A call with a fresh conversation id.
    pub fn call(&self, id: &str) -> Call {
        self.caller
            .call(id)
            .customer_org_id("org-1")
            .vendor_specific_config("vendor=1")
    }

    /// The next thing the agent saw.
    pub async fn next_seen(&mut self) -> Seen {
        within("an agent callback", self.seen.recv())
            .await
            .expect("the agent is alive")
    }

    /// Waits for the session end of `conversation_id` (skipping other callbacks).
    pub async fn session_end_of(&mut self, conversation_id: &str) -> (SessionEndReason, u32) {
        loop {
            if let Seen::SessionEnd {
                conversation_id: id,
                reason,
                turns_seen,
                ..
            } = self.next_seen().await
                && id == conversation_id
            {
                return (reason, turns_seen);
            }
        }
    }

    /// A plain channel to the server (for the health and reflection services).
    pub async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Endpoint::from_shared(format!("http://{}", self.server().local_addr()))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect")
    }

    /// Watches the serving status of the `VoiceVirtualAgent` service.
    pub async fn health_watch(&self) -> Streaming<HealthCheckResponse> {
        HealthClient::new(self.channel().await)
            .watch(HealthCheckRequest {
                service: "com.cisco.wcc.ccai.media.v1.VoiceVirtualAgent".into(),
            })
            .await
            .expect("the health service answers")
            .into_inner()
    }

    /// Waits until no conversation is live.
    pub async fn wait_no_calls(&self) {
        within("no live calls", self.server().wait_live_calls_at_most(0)).await;
        assert_eq!(self.server().live_calls(), 0);
    }
}

/// A spoken fixture (`tests/fixtures/*.wav` at the workspace root) as 8 kHz μ-law bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    audio::to_mulaw_8k(PromptAudio::Wav(&bytes)).expect("a readable WAV fixture")
}

/// Options that send audio as fast as possible and stop at END_OF_INPUT.
pub fn fast() -> SpeakOptions {
    let mut options = SpeakOptions::default();
    options.realtime = false;
    options
}

/// A JSON object from pairs.
pub fn object(pairs: &[(&str, serde_json::Value)]) -> JsonObject {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// The audio requests of `call` carrying 8 kHz μ-law `audio` in 20 ms frames (160 bytes).
pub fn mulaw_frames(call: &Call, audio: &[u8]) -> Vec<VoiceVaRequest> {
    audio
        .chunks(160)
        .map(|frame| {
            call.audio_request(
                Bytes::copy_from_slice(frame),
                AudioEncoding::Mulaw,
                8000,
                "en-US",
            )
        })
        .collect()
}

/// The messages of a turn, in order.
pub fn messages(result: &TurnResult) -> Vec<VoiceVaResponse> {
    result
        .responses
        .iter()
        .map(|r| r.response.clone())
        .collect()
}
