//! Fuzz twin of `fuzz/fuzz_targets/rpc_state_machine.rs`: arbitrary sequences of
//! `ProcessCallerInput` RPCs against a real media server on 127.0.0.1, through a raw gRPC client
//! that reads responses while it sends.
//!
//! Every RPC carries any requests: each oneof (and none), the lifecycle events, unknown event
//! types, DTMF with unknown digit values, audio in every encoding (and unknown ones) at valid and
//! invalid rates, speech and silence of any length, a changed conversation or agent id. RPCs
//! target a few conversations (and the empty id), each agent (WAV, CHUNK of 3200 B and of
//! 64 KiB, the default one, an unknown one), may overlap the previous RPC and may be cancelled
//! after some responses. The agent's reply is chosen by the input too: text, audio of any length,
//! streamed audio, end of session, transfer, an error, a panic, nothing.
//!
//! Invariants:
//! - nothing panics, and every RPC that is not cancelled ends within a deadline with a defined
//!   status (OK, or INVALID_ARGUMENT / NOT_FOUND for protocol errors), never UNKNOWN or INTERNAL;
//! - when OK, the last message is a FINAL; at most one FINAL carries prompts;
//! - CHUNK audio is 100 B – 64 KiB per message (WAV agents send no CHUNK; their prompts are
//!   8 kHz μ-law WAV files);
//! - at most one START_OF_INPUT and one END_OF_INPUT per RPC, END only after START;
//! - once every conversation got a SESSION_END, the live-conversation count returns to 0.
//!
//! The cargo-fuzz target includes this file; with `cfg(fuzzing)` the input model derives
//! `arbitrary::Arbitrary`.

use std::sync::OnceLock;
use std::time::Duration;

use byova_media::audio::{AudioEncoding, MAX_CHUNK, MIN_CHUNK, Wav, WavFormat};
use byova_media::client::{EventType, InputEventType, ResponseType};
use byova_media::proto::voice_va_request::VoiceVaInputType;
use byova_media::proto::voice_virtual_agent_client::VoiceVirtualAgentClient;
use byova_media::proto::{DtmfInputs, EventInput, VoiceInput, VoiceVaRequest, VoiceVaResponse};
use byova_media::vad::EndpointerConfig;
use byova_media::{
    AgentConfig, AgentResult, Audio, Context, Detector, Dtmf, Event, MediaServer, OutputMode,
    Reply, RunningServer, SessionStart, Utterance, VirtualAgent,
};
use tokio::sync::mpsc;
use tonic::Code;
use tonic::transport::Channel;

// ---------------------------------------------------------------------------------------------
// Input model
// ---------------------------------------------------------------------------------------------

/// A sequence of RPCs.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub struct Input {
    /// The RPCs, in order (an RPC may overlap the one before).
    pub rpcs: Vec<Rpc>,
}

/// One `ProcessCallerInput` RPC.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub struct Rpc {
    /// Conversation: 0–2, or 3 for the empty id.
    pub conversation: u8,
    /// Index into [`AGENTS`].
    pub agent: u8,
    /// The requests, sent in order, then the RPC is half-closed.
    pub requests: Vec<Req>,
    /// Cancel the RPC after this many responses.
    pub cancel_after: Option<u8>,
    /// Run alongside the previous RPC.
    pub concurrent: bool,
}

/// One request (some expand to several audio messages).
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Req {
    /// SESSION_START whose name selects the agent's reply.
    SessionStart(Action),
    /// SESSION_END.
    SessionEnd,
    /// NO_INPUT.
    NoInput,
    /// START_OF_DTMF.
    StartOfDtmf,
    /// CUSTOM_EVENT whose name selects the agent's reply.
    Custom(Action),
    /// An event with this raw type (0 is UNSPECIFIED; 6 and more are unknown).
    EventType(i32),
    /// DTMF digits: raw values (17 and more are unknown); the first selects the reply.
    Dtmf(Vec<u8>),
    /// One audio message.
    Audio(AudioMsg),
    /// 100 ms of silence, speech, then silence, as 20 ms μ-law messages; the language selects
    /// the reply.
    Speech {
        /// Speech length in 20 ms frames.
        speech: u8,
        /// Silence length in 20 ms frames.
        silence: u8,
        /// The reply to the utterance.
        action: Action,
    },
    /// A request without input.
    Empty,
    /// NO_INPUT naming another conversation.
    OtherConversation,
    /// NO_INPUT naming another agent.
    OtherAgent,
}

/// One audio message.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub struct AudioMsg {
    /// Wire encoding: 0 unspecified, 1–3 known, else unknown.
    pub encoding: u8,
    /// 0: none, 1: 8000, 2: 16000, 3: 44100 (invalid), else any.
    pub rate: u8,
    /// What it sounds like.
    pub sound: Sound,
    /// Bytes: this value % 8001.
    pub len: u16,
}

/// Audio content.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Sound {
    /// Silence of the encoding.
    Silence,
    /// A loud tone.
    Tone,
    /// Pseudo-random bytes from this seed.
    Noise(u32),
}

/// The reply an agent callback gives.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub struct Action {
    /// What: see [`Scripted`].
    pub kind: u8,
    /// Audio length in bytes: this value × 7.
    pub len: u16,
}

/// The message of the agent's deliberate panic (the fuzz target lets exactly this one unwind).
pub const AGENT_PANIC: &str = "the scripted agent panics";

/// Agent ids: the default (empty), three agents, an unknown one.
pub const AGENTS: [&str; 5] = ["", "wav", "chunk", "big", "no-such-agent"];

// ---------------------------------------------------------------------------------------------
// The agent
// ---------------------------------------------------------------------------------------------

/// Replies as the input says. Kinds: 0 text, 1 audio, 2 text and end of session, 3 transfer,
/// 4 error, 5 panic, 6 streamed audio then text, 7 nothing, 8 custom event, 9 16 kHz PCM audio,
/// 10 audio that cannot be converted, else an empty reply.
#[derive(Debug)]
pub struct Scripted;

impl Action {
    fn encode(self) -> String {
        format!("act:{}:{}", self.kind, self.len)
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.strip_prefix("act:")?.split(':');
        Some(Self {
            kind: parts.next()?.parse().ok()?,
            len: parts.next()?.parse().ok()?,
        })
    }

    fn audio_len(self) -> usize {
        usize::from(self.len) * 7
    }
}

async fn reply(ctx: &mut Context<'_, ()>, action: Option<Action>) -> AgentResult {
    let Some(action) = action else {
        return Ok(Reply::say("Hello."));
    };
    let tone = |len: usize| -> Vec<u8> { (0..len).map(|i| (i % 251) as u8).collect() };
    Ok(match action.kind % 12 {
        0 => Reply::say("Some text."),
        1 => Reply::play(Audio::mulaw(tone(action.audio_len()))).transcript("audio"),
        2 => Reply::say("Goodbye.").end_session(),
        3 => Reply::say("Transferring.").transfer_to_agent(),
        4 => return Err("the scripted agent fails".into()),
        5 => std::panic::panic_any(AGENT_PANIC),
        6 => {
            let audio = tone(action.audio_len());
            let (first, second) = audio.split_at(audio.len() / 2);
            ctx.sink().send_mulaw(first).await?;
            ctx.sink().send_mulaw(second).await?;
            Reply::say("Streamed.")
        }
        7 => Reply::none(),
        8 => Reply::new().custom_event("fuzz", Default::default()),
        9 => {
            let samples: Vec<i16> = (0..action.audio_len())
                .map(|i| ((i % 64) as i16 - 32) * 500)
                .collect();
            Reply::play(Audio::pcm16(samples, 16_000))
        }
        10 => Reply::play(Audio::wav(b"RIFF, but not really".to_vec())),
        _ => Reply::new(),
    })
}

impl VirtualAgent for Scripted {
    type State = ();

    async fn on_session_start(
        &self,
        ctx: &mut Context<'_, ()>,
        start: SessionStart,
    ) -> AgentResult {
        reply(ctx, Action::decode(&start.name)).await
    }

    async fn on_utterance(&self, ctx: &mut Context<'_, ()>, utterance: Utterance) -> AgentResult {
        reply(ctx, utterance.language().and_then(Action::decode)).await
    }

    async fn on_dtmf(&self, ctx: &mut Context<'_, ()>, dtmf: Dtmf) -> AgentResult {
        let mut digits = dtmf.digits.chars();
        let action = digits.next().and_then(|first| {
            Some(Action {
                kind: u8::try_from(first.to_digit(16)?).ok()?,
                len: u16::try_from(digits.count() * 150).ok()?,
            })
        });
        reply(ctx, action).await
    }

    async fn on_event(&self, ctx: &mut Context<'_, ()>, event: Event) -> AgentResult {
        match event {
            Event::Custom { name, .. } => reply(ctx, Action::decode(&name)).await,
            Event::NoInput => Ok(Reply::say("Are you there?")),
            _ => Ok(Reply::none()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The server, shared by all checks
// ---------------------------------------------------------------------------------------------

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
    })
}

/// A fresh server (so that a check sees only its own calls) and a channel to it.
async fn start() -> (RunningServer, Channel) {
    let server = MediaServer::builder()
        .addr("127.0.0.1:0".parse().expect("addr"))
        .disable_authentication()
        .detector(Detector::Energy)
        .endpointing(
            EndpointerConfig::default()
                .with_start_debounce(Duration::from_millis(40))
                .with_end_silence(Duration::from_millis(200)),
        )
        .session_end_timeout(Duration::from_secs(5))
        .agent(
            AgentConfig::new("chunk", Scripted)
                .default_agent(true)
                .max_chunk_bytes(3200),
        )
        .agent(AgentConfig::new("wav", Scripted).output_mode(OutputMode::Wav))
        .agent(AgentConfig::new("big", Scripted))
        .build()
        .expect("configuration")
        .bind()
        .await
        .expect("bind");
    let channel = Channel::from_shared(format!("http://{}", server.local_addr()))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    (server, channel)
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// The conversation ids of a check.
const CONVERSATIONS: [&str; 3] = ["conversation-0", "conversation-1", "conversation-2"];

/// Conversation `index` (3 is the empty id).
fn conversation_id(index: u8) -> &'static str {
    CONVERSATIONS
        .get(usize::from(index % 4))
        .copied()
        .unwrap_or_default()
}

fn request(conversation: &str, agent: &str, input: Option<VoiceVaInputType>) -> VoiceVaRequest {
    VoiceVaRequest {
        conversation_id: conversation.to_owned(),
        customer_org_id: "org-fuzz".to_owned(),
        virtual_agent_id: agent.to_owned(),
        voice_va_input_type: input,
        ..VoiceVaRequest::default()
    }
}

fn event(kind: i32, name: &str) -> Option<VoiceVaInputType> {
    Some(VoiceVaInputType::EventInput(EventInput {
        event_type: kind,
        name: name.to_owned(),
        parameters: None,
    }))
}

fn audio(encoding: i32, rate: i32, bytes: Vec<u8>, language: &str) -> Option<VoiceVaInputType> {
    Some(VoiceVaInputType::AudioInput(VoiceInput {
        caller_audio: bytes.into(),
        encoding,
        sample_rate_hertz: rate,
        language_code: language.to_owned(),
        ..VoiceInput::default()
    }))
}

/// `len` bytes of `sound` in the wire encoding (μ-law when unspecified or unknown).
fn sound(sound: Sound, encoding: i32, len: usize) -> Vec<u8> {
    let encoding = AudioEncoding::from_wire(encoding).unwrap_or(AudioEncoding::Mulaw);
    match sound {
        Sound::Noise(seed) => {
            let mut state = u64::from(seed) | 1;
            (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 24) as u8
                })
                .collect()
        }
        Sound::Silence | Sound::Tone => {
            let samples: Vec<i16> = (0..len.div_ceil(encoding.bytes_per_sample()))
                .map(|i| match sound {
                    Sound::Tone => ((i as f32 * 0.35).sin() * 12_000.0) as i16,
                    _ => 0,
                })
                .collect();
            let mut bytes = Vec::with_capacity(len);
            encoding.encode_into(&samples, &mut bytes);
            bytes.truncate(len);
            bytes
        }
    }
}

impl Req {
    fn expand(&self, conversation: &str, agent: &str, out: &mut Vec<VoiceVaRequest>) {
        let here = |input| request(conversation, agent, input);
        match self {
            Self::SessionStart(action) => out.push(here(event(
                InputEventType::SessionStart as i32,
                &action.encode(),
            ))),
            Self::SessionEnd => out.push(here(event(InputEventType::SessionEnd as i32, ""))),
            Self::NoInput => out.push(here(event(InputEventType::NoInput as i32, ""))),
            Self::StartOfDtmf => out.push(here(event(InputEventType::StartOfDtmf as i32, ""))),
            Self::Custom(action) => out.push(here(event(
                InputEventType::CustomEvent as i32,
                &action.encode(),
            ))),
            Self::EventType(kind) => out.push(here(event(*kind, "raw"))),
            Self::Dtmf(digits) => out.push(here(Some(VoiceVaInputType::DtmfInput(DtmfInputs {
                dtmf_events: digits.iter().map(|d| i32::from(d % 20)).collect(),
            })))),
            Self::Audio(message) => {
                let encoding = match message.encoding % 6 {
                    4 => 9,
                    5 => -1,
                    known => i32::from(known),
                };
                let rate = match message.rate % 5 {
                    0 => 0,
                    1 => 8000,
                    2 => 16_000,
                    3 => 44_100,
                    _ => i32::from(message.rate) * 1000,
                };
                let bytes = sound(message.sound, encoding, usize::from(message.len % 8001));
                out.push(here(audio(encoding, rate, bytes, "")));
            }
            Self::Speech {
                speech,
                silence,
                action,
            } => {
                let language = action.encode();
                let frames = [
                    (Sound::Silence, 5),
                    (Sound::Tone, *speech % 60),
                    (Sound::Silence, *silence % 30),
                ];
                for (kind, count) in frames {
                    for _ in 0..count {
                        let bytes = sound(kind, 2, 160);
                        out.push(here(audio(2, 8000, bytes, &language)));
                    }
                }
            }
            Self::Empty => out.push(here(None)),
            Self::OtherConversation => {
                let other = CONVERSATIONS
                    .iter()
                    .find(|id| **id != conversation)
                    .copied()
                    .unwrap_or_default();
                out.push(request(other, agent, event(3, "")));
            }
            Self::OtherAgent => out.push(request(conversation, "another-agent", event(3, ""))),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running RPCs
// ---------------------------------------------------------------------------------------------

/// How long an RPC may take before it counts as hung (generous: the machine is loaded).
const DEADLINE: Duration = Duration::from_secs(60);

/// What one RPC produced.
#[derive(Debug)]
struct Outcome {
    responses: Vec<VoiceVaResponse>,
    /// `None` when the RPC was cancelled on purpose.
    status: Option<tonic::Status>,
}

/// Sends `requests` while reading responses; cancels after `cancel_after` responses.
async fn run_rpc(
    channel: Channel,
    requests: Vec<VoiceVaRequest>,
    cancel_after: Option<u8>,
) -> Outcome {
    let (tx, rx) = mpsc::channel::<VoiceVaRequest>(8);
    let sender = tokio::spawn(async move {
        for request in requests {
            if tx.send(request).await.is_err() {
                break;
            }
        }
        // Dropping the sender half-closes the request stream.
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|request| (request, rx))
    });
    let mut client = VoiceVirtualAgentClient::new(channel);
    let mut responses = Vec::new();
    let status = match client.process_caller_input(stream).await {
        Err(status) => Some(status),
        Ok(response) => {
            let mut stream = response.into_inner();
            loop {
                if cancel_after.is_some_and(|n| responses.len() >= usize::from(n)) {
                    break None; // Dropping the stream cancels the RPC.
                }
                match stream.message().await {
                    Ok(Some(message)) => responses.push(message),
                    Ok(None) => break Some(tonic::Status::ok("")),
                    Err(status) => break Some(status),
                }
            }
        }
    };
    sender.abort();
    Outcome { responses, status }
}

fn has(response: &VoiceVaResponse, event: EventType) -> bool {
    response
        .output_events
        .iter()
        .any(|candidate| candidate.event_type == event as i32)
}

/// The invariants of one RPC.
fn check_rpc(outcome: &Outcome) {
    let responses = &outcome.responses;
    if let Some(status) = &outcome.status {
        assert!(
            matches!(
                status.code(),
                Code::Ok | Code::InvalidArgument | Code::NotFound
            ),
            "undefined status {status:?} after {responses:?}"
        );
        if status.code() == Code::Ok
            && let Some(last) = responses.last()
        {
            assert_eq!(
                last.response_type,
                ResponseType::Final as i32,
                "an OK RPC ended on a non-FINAL: {responses:?}"
            );
        }
    }
    let finals_with_prompts = responses
        .iter()
        .filter(|r| r.response_type == ResponseType::Final as i32 && !r.prompts.is_empty())
        .count();
    assert!(
        finals_with_prompts <= 1,
        "{finals_with_prompts} FINALs with prompts: {responses:?}"
    );
    let chunked = responses
        .iter()
        .any(|r| r.response_type == ResponseType::Chunk as i32);
    for response in responses {
        for prompt in &response.prompts {
            let audio = &prompt.audio_content;
            if audio.is_empty() {
                continue;
            }
            if response.response_type == ResponseType::Chunk as i32 {
                assert!(
                    (MIN_CHUNK..=MAX_CHUNK).contains(&audio.len()),
                    "a {} B CHUNK",
                    audio.len()
                );
            } else {
                assert!(!chunked, "WAV audio in a CHUNK-mode RPC");
                let wav = Wav::parse(audio).expect("WAV prompts are WAV files");
                assert_eq!(
                    (wav.format(), wav.channels(), wav.sample_rate()),
                    (WavFormat::Mulaw, 1, 8000)
                );
            }
        }
    }
    let position = |event| responses.iter().position(|r| has(r, event));
    let count = |event| responses.iter().filter(|r| has(r, event)).count();
    assert!(count(EventType::StartOfInput) <= 1, "{responses:?}");
    assert!(count(EventType::EndOfInput) <= 1, "{responses:?}");
    if let Some(end) = position(EventType::EndOfInput) {
        let start = position(EventType::StartOfInput).expect("END_OF_INPUT without START");
        assert!(start < end, "END_OF_INPUT before START_OF_INPUT");
    }
}

// ---------------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------------

/// Runs one input against a fresh server and asserts the invariants.
pub fn check(input: &Input) {
    runtime().block_on(async {
        let (server, channel) = start().await;
        run(&server, &channel, input).await;
        server.shutdown().await.expect("clean shutdown");
    });
}

async fn run(server: &RunningServer, channel: &Channel, input: &Input) {
    let mut previous: Option<tokio::task::JoinHandle<Outcome>> = None;
    for rpc in &input.rpcs {
        let conversation = conversation_id(rpc.conversation);
        let agent = AGENTS[usize::from(rpc.agent) % AGENTS.len()];
        let mut requests = Vec::new();
        for req in &rpc.requests {
            req.expand(conversation, agent, &mut requests);
        }
        if !rpc.concurrent
            && let Some(previous) = previous.take()
        {
            check_rpc(&previous.await.expect("the RPC completes"));
        }
        let channel = channel.clone();
        let cancel_after = rpc.cancel_after;
        let task = tokio::spawn(async move {
            tokio::time::timeout(DEADLINE, run_rpc(channel, requests, cancel_after))
                .await
                .expect("the RPC ends within the deadline")
        });
        // An overlapping RPC runs alongside the previous one; both are checked.
        if let Some(overlapped) = previous.replace(task) {
            check_rpc(&overlapped.await.expect("the RPC completes"));
        }
    }
    if let Some(last) = previous {
        check_rpc(&last.await.expect("the RPC completes"));
    }

    // Hang up every conversation: the server must then hold none of this check's calls.
    for conversation in CONVERSATIONS {
        let end = request(
            conversation,
            "",
            event(InputEventType::SessionEnd as i32, ""),
        );
        let outcome = tokio::time::timeout(DEADLINE, run_rpc(channel.clone(), vec![end], None))
            .await
            .expect("SESSION_END is answered");
        check_rpc(&outcome);
        assert_eq!(
            outcome.status.as_ref().map(tonic::Status::code),
            Some(Code::Ok),
            "SESSION_END of {conversation}"
        );
    }
    tokio::time::timeout(Duration::from_secs(20), server.wait_live_calls_at_most(0))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{} conversations still live after every SESSION_END",
                server.live_calls()
            )
        });
}

// ---------------------------------------------------------------------------------------------
// The proptest twin
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod twin {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    fn action() -> impl Strategy<Value = Action> {
        (0_u8..12, prop_oneof![0_u16..100, 0_u16..2000, Just(9400)])
            .prop_map(|(kind, len)| Action { kind, len })
    }

    fn req() -> impl Strategy<Value = Req> {
        let message = (
            any::<u8>(),
            any::<u8>(),
            any::<u16>(),
            any::<u32>(),
            0_u8..3,
        )
            .prop_map(|(encoding, rate, len, seed, kind)| AudioMsg {
                encoding,
                rate,
                len,
                sound: match kind {
                    0 => Sound::Silence,
                    1 => Sound::Tone,
                    _ => Sound::Noise(seed),
                },
            });
        prop_oneof![
            4 => action().prop_map(Req::SessionStart),
            2 => Just(Req::SessionEnd),
            1 => Just(Req::NoInput),
            1 => Just(Req::StartOfDtmf),
            2 => action().prop_map(Req::Custom),
            1 => prop_oneof![Just(0_i32), 6_i32..9, any::<i32>()].prop_map(Req::EventType),
            2 => vec(0_u8..20, 0..4).prop_map(Req::Dtmf),
            2 => message.prop_map(Req::Audio),
            3 => speech(),
            1 => Just(Req::Empty),
            1 => Just(Req::OtherConversation),
            1 => Just(Req::OtherAgent),
        ]
    }

    fn speech() -> impl Strategy<Value = Req> {
        (
            prop_oneof![0_u8..10, 10_u8..40],
            prop_oneof![0_u8..10, 12_u8..30],
            action(),
        )
            .prop_map(|(speech, silence, action)| Req::Speech {
                speech,
                silence,
                action,
            })
    }

    /// The turns Webex sends (greeting, speech, DTMF, events, hang-up), sometimes followed by
    /// anything, or any requests at all.
    fn requests() -> impl Strategy<Value = Vec<Req>> {
        let turn = prop_oneof![
            3 => action().prop_map(Req::SessionStart),
            4 => speech(),
            2 => vec(0_u8..17, 1..4).prop_map(Req::Dtmf),
            1 => Just(Req::NoInput),
            1 => action().prop_map(Req::Custom),
            1 => Just(Req::SessionEnd),
        ];
        prop_oneof![
            3 => (turn, vec(req(), 0..2)).prop_map(|(turn, extra)| {
                let mut requests = vec![turn];
                requests.extend(extra);
                requests
            }),
            1 => vec(req(), 0..4),
        ]
    }

    fn rpc() -> impl Strategy<Value = Rpc> {
        (
            prop_oneof![8 => 0_u8..3, 1 => Just(3)],
            prop_oneof![8 => 0_u8..4, 1 => Just(4)],
            requests(),
            proptest::option::weighted(0.1, 0_u8..3),
            proptest::bool::weighted(0.2),
        )
            .prop_map(
                |(conversation, agent, requests, cancel_after, concurrent)| Rpc {
                    conversation,
                    agent,
                    requests,
                    cancel_after,
                    concurrent,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(64),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn arbitrary_rpc_sequences_keep_the_protocol_and_leave_no_call_behind(
            input in vec(rpc(), 1..6).prop_map(|rpcs| Input { rpcs })
        ) {
            check(&input);
        }
    }
}
