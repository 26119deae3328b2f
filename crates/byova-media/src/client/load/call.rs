//! One load-test call: its script prepared once, run by every caller.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;

use super::clock::{ClockHandle, Speaker, SpeakerState};
use super::report::{Stats, record};
use super::wire::{self, PROCESS_CALLER_INPUT, RawCodec, RawRequest};
use super::{LoadConfig, LoadProgress, LoadStep};
use crate::audio::AudioEncoding;
use crate::audio::MULAW_SILENCE;
use crate::client::input;
use crate::client::rules::{RpcCheck, Rule};
use crate::client::{ends_call, has_event};
use crate::proto::output_event::EventType;
use crate::proto::voice_va_response::ResponseType;
use crate::proto::{VoiceVaResponse, event_input};

/// One 20 ms frame of 8 kHz μ-law.
const FRAME_BYTES: usize = 160;
/// Audio time of one frame.
const FRAME: Duration = Duration::from_millis(20);
/// Requests buffered per speaking RPC before the clock defers a frame.
const REQUEST_BUFFER: usize = 8;
/// The largest response accepted (WAV-mode prompts can be large).
const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// An utterance ready to send.
#[derive(Debug)]
struct Spoken {
    /// Encoded request bodies: the audio frames, then trailing silence.
    frames: Arc<[Bytes]>,
    /// Index of the frame after which the server, unloaded, sends END_OF_INPUT (found by the
    /// calibration call; `usize::MAX` until then, or when it sent none).
    mark: AtomicUsize,
}

/// A step with its requests encoded.
#[derive(Debug)]
enum PreparedStep {
    Say(Spoken),
    Dtmf(Bytes),
    Event(Bytes),
    Pause(Duration),
}

/// The script, encoded once.
#[derive(Debug)]
pub(super) struct Prepared {
    session_start: Bytes,
    session_end: Bytes,
    start_of_dtmf: Bytes,
    steps: Vec<PreparedStep>,
}

fn event_body(
    kind: event_input::EventType,
    name: &str,
    parameters: Option<&crate::JsonObject>,
) -> Bytes {
    wire::body(input::event(kind, name, parameters))
}

impl Prepared {
    pub(super) fn new(config: &LoadConfig) -> Self {
        let steps = config
            .steps
            .iter()
            .map(|step| match step {
                LoadStep::Say(audio) => PreparedStep::Say(spoken(audio, config)),
                LoadStep::Dtmf(digits) => PreparedStep::Dtmf(wire::body(input::dtmf(digits))),
                LoadStep::Event { name, parameters } => PreparedStep::Event(event_body(
                    event_input::EventType::CustomEvent,
                    name,
                    Some(parameters),
                )),
                LoadStep::NoInput => {
                    PreparedStep::Event(event_body(event_input::EventType::NoInput, "", None))
                }
                LoadStep::Pause(pause) => PreparedStep::Pause(*pause),
            })
            .collect();
        Self {
            session_start: event_body(event_input::EventType::SessionStart, "", None),
            session_end: event_body(event_input::EventType::SessionEnd, "", None),
            start_of_dtmf: event_body(event_input::EventType::StartOfDtmf, "", None),
            steps,
        }
    }
}

/// Splits `audio` into encoded 20 ms frames (the last one padded with silence) and adds the
/// trailing silence.
fn spoken(audio: &[u8], config: &LoadConfig) -> Spoken {
    let encode =
        |frame: Bytes| wire::body(input::audio(frame, AudioEncoding::Mulaw, 8000, "en-US"));
    let mut frames: Vec<Bytes> = audio
        .chunks(FRAME_BYTES)
        .map(|chunk| {
            let mut frame = chunk.to_vec();
            frame.resize(FRAME_BYTES, MULAW_SILENCE);
            encode(Bytes::from(frame))
        })
        .collect();
    let silence = encode(Bytes::from_static(&[MULAW_SILENCE; FRAME_BYTES]));
    let silence_frames = usize::try_from(config.trailing_silence.as_millis() / FRAME.as_millis())
        .unwrap_or(usize::MAX);
    frames.extend(std::iter::repeat_n(silence, silence_frames));
    Spoken {
        frames: frames.into(),
        mark: AtomicUsize::new(usize::MAX),
    }
}

impl Prepared {
    /// Whether the script speaks (and so needs calibrating).
    pub(super) fn speaks(&self) -> bool {
        self.steps
            .iter()
            .any(|step| matches!(step, PreparedStep::Say(_)))
    }
}

/// How one RPC went.
struct RpcOutcome {
    /// The RPC carried SESSION_END or TRANSFER_TO_AGENT: the server ended the call.
    terminal: bool,
    ended: Instant,
}

/// Everything the callers share.
pub(super) struct Ctx {
    prepared: Prepared,
    prefix: String,
    customer_org_id: String,
    virtual_agent_id: String,
    authorization: Option<MetadataValue<Ascii>>,
    rpc_timeout: Duration,
    clock: Option<ClockHandle>,
    epoch: Instant,
    progress: LoadProgress,
    stats: Mutex<Stats>,
    /// The calibration call runs: find each utterance's END_OF_INPUT frame, count nothing.
    calibrating: AtomicBool,
}

impl Ctx {
    pub(super) fn new(
        prepared: Prepared,
        config: &LoadConfig,
        authorization: Option<MetadataValue<Ascii>>,
        clock: ClockHandle,
        epoch: Instant,
        progress: LoadProgress,
    ) -> Self {
        Self {
            prepared,
            prefix: config.conversation_prefix.clone(),
            customer_org_id: config.customer_org_id.clone(),
            virtual_agent_id: config.virtual_agent_id.clone(),
            authorization,
            rpc_timeout: config.rpc_timeout,
            clock: Some(clock),
            epoch,
            progress,
            stats: Mutex::new(Stats::new()),
            calibrating: AtomicBool::new(false),
        }
    }

    /// Runs one call alone, before the load: for each utterance, the frame after which the
    /// unloaded server answers END_OF_INPUT becomes the reference its lateness is measured
    /// from. Nothing it measures is kept. Returns whether it went through.
    pub(super) async fn calibrate(&self, channel: &Channel) -> bool {
        self.calibrating.store(true, Ordering::Release);
        let ok = self
            .script(channel, &format!("{}-calibration", self.prefix))
            .await;
        self.calibrating.store(false, Ordering::Release);
        *self.stats() = Stats::new();
        ok
    }

    fn is_calibrating(&self) -> bool {
        self.calibrating.load(Ordering::Acquire)
    }

    /// The statistics, once every caller is done (this also lets the clock end).
    pub(super) fn into_stats(mut self) -> Stats {
        self.clock = None;
        self.stats
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn stats(&self) -> MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs call number `n` and records what it measured.
    pub(super) async fn run_call(&self, channel: &Channel, n: u64) {
        self.progress.start();
        let ok = self.script(channel, &format!("{}-{n}", self.prefix)).await;
        {
            let mut stats = self.stats();
            stats.calls += 1;
            if !ok {
                stats.failed_calls += 1;
            }
        }
        self.progress.finish(ok);
    }

    /// The turns of the call with conversation id `id`; `false` at the first error.
    async fn script(&self, channel: &Channel, id: &str) -> bool {
        let head = &wire::head(id, &self.customer_org_id, &self.virtual_agent_id);
        // Greeting.
        let sent = Instant::now();
        let mut first = None;
        let request = single(head, &self.prepared.session_start);
        let Some(outcome) = self
            .rpc(channel, id, "SESSION_START", request, |_, at| {
                first.get_or_insert(at);
            })
            .await
        else {
            return false;
        };
        match first {
            Some(at) => record(&mut self.stats().greeting, at - sent),
            None => {
                self.stats().error("no-greeting".into(), || {
                    format!("{id}: SESSION_START got no response")
                });
                return false;
            }
        }
        if outcome.terminal {
            return true;
        }
        for step in &self.prepared.steps {
            let outcome = match step {
                PreparedStep::Say(spoken) => self.speak(channel, id, head, spoken).await,
                PreparedStep::Dtmf(digits) => {
                    let start = single(head, &self.prepared.start_of_dtmf);
                    match self
                        .rpc(channel, id, "START_OF_DTMF", start, |_, _| {})
                        .await
                    {
                        Some(outcome) if outcome.terminal => Some(outcome),
                        Some(_) => self.turn(channel, id, "DTMF", head, digits).await,
                        None => None,
                    }
                }
                PreparedStep::Event(body) => self.turn(channel, id, "event", head, body).await,
                PreparedStep::Pause(pause) => {
                    tokio::time::sleep(*pause).await;
                    continue;
                }
            };
            match outcome {
                None => return false,
                Some(outcome) if outcome.terminal => return true,
                Some(_) => {}
            }
        }
        let sent = Instant::now();
        let request = single(head, &self.prepared.session_end);
        let Some(outcome) = self
            .rpc(channel, id, "SESSION_END", request, |_, _| {})
            .await
        else {
            return false;
        };
        record(&mut self.stats().session_end, outcome.ended - sent);
        true
    }

    /// A one-message turn (DTMF, NO_INPUT, custom event), timed to its first response.
    async fn turn(
        &self,
        channel: &Channel,
        id: &str,
        what: &str,
        head: &Bytes,
        body: &Bytes,
    ) -> Option<RpcOutcome> {
        let sent = Instant::now();
        let mut first = None;
        let outcome = self
            .rpc(channel, id, what, single(head, body), |_, at| {
                first.get_or_insert(at);
            })
            .await?;
        record(
            &mut self.stats().other_turns,
            first.unwrap_or(outcome.ended) - sent,
        );
        Some(outcome)
    }

    /// An utterance turn: frames from the clock until END_OF_INPUT, then the reply.
    async fn speak(
        &self,
        channel: &Channel,
        id: &str,
        head: &Bytes,
        spoken: &Spoken,
    ) -> Option<RpcOutcome> {
        let clock = self.clock.as_ref()?;
        let (tx, rx) = mpsc::channel(REQUEST_BUFFER);
        let mark = spoken.mark.load(Ordering::Acquire);
        let state = SpeakerState::new(mark);
        if !clock
            .start(Speaker {
                tx,
                head: head.clone(),
                frames: Arc::clone(&spoken.frames),
                state: Arc::clone(&state),
            })
            .await
        {
            return None;
        }
        let mut end_of_input = None;
        let mut frames_at_end = 0;
        let mut reply = None;
        let outcome = self
            .rpc(
                channel,
                id,
                "utterance",
                ReceiverStream::new(rx),
                |response, at| {
                    if end_of_input.is_none() {
                        if has_event(response, EventType::EndOfInput) {
                            end_of_input = Some(at);
                            frames_at_end = state.sent();
                            // Webex stops sending audio at once.
                            state.stop();
                        }
                    } else if reply.is_none()
                        && (!response.prompts.is_empty()
                            || response.response_type == ResponseType::Final as i32)
                    {
                        reply = Some(at);
                    }
                },
            )
            .await;
        state.stop();
        let outcome = outcome?;
        let mut stats = self.stats();
        match end_of_input {
            Some(_) if self.is_calibrating() => {
                if let Some(last) = usize::try_from(frames_at_end)
                    .ok()
                    .and_then(|sent| sent.checked_sub(1))
                {
                    spoken.mark.fetch_min(last, Ordering::AcqRel);
                }
            }
            Some(end) => {
                match state.mark_sent(self.epoch) {
                    Some(due) if end >= due => record(&mut stats.end_of_input, end - due),
                    Some(_) => stats.end_of_input_early += 1,
                    None if mark != usize::MAX => stats.end_of_input_early += 1,
                    None => {}
                }
                if let Some(reply) = reply {
                    record(&mut stats.reply, reply - end);
                }
            }
            None if !outcome.terminal => {
                let sent = state.sent();
                stats.error("no-end-of-input".into(), || {
                    format!("{id}: no END_OF_INPUT after {sent} frames")
                });
                return None;
            }
            None => {}
        }
        Some(outcome)
    }

    /// Runs one RPC, handing each response to `on_response` with its arrival time; checks the
    /// protocol rules. `None` when it failed (the error is counted).
    async fn rpc<S>(
        &self,
        channel: &Channel,
        id: &str,
        what: &str,
        requests: S,
        mut on_response: impl FnMut(&VoiceVaResponse, Instant),
    ) -> Option<RpcOutcome>
    where
        S: tokio_stream::Stream<Item = RawRequest> + Send + 'static,
    {
        let mut check = RpcCheck::new();
        let mut terminal = false;
        let exchange = async {
            let mut grpc =
                tonic::client::Grpc::new(channel.clone()).max_decoding_message_size(MAX_RESPONSE);
            grpc.ready()
                .await
                .map_err(|error| Status::unavailable(format!("connection not ready: {error}")))?;
            let mut request = tonic::Request::new(requests);
            if let Some(authorization) = &self.authorization {
                request
                    .metadata_mut()
                    .insert("authorization", authorization.clone());
            }
            let path = http::uri::PathAndQuery::from_static(PROCESS_CALLER_INPUT);
            let mut responses = grpc.streaming(request, path, RawCodec).await?.into_inner();
            while let Some(response) = responses.message().await? {
                let at = Instant::now();
                check.response(&response);
                terminal |= ends_call(&response);
                on_response(&response, at);
            }
            Ok::<(), Status>(())
        };
        let status = match tokio::time::timeout(self.rpc_timeout, exchange).await {
            Ok(Ok(())) => Status::ok(""),
            Ok(Err(status)) => status,
            Err(_) => Status::deadline_exceeded(format!(
                "no end within {} s",
                self.rpc_timeout.as_secs_f32()
            )),
        };
        let ended = Instant::now();
        let violations = check.finish(&status);
        let mut stats = self.stats();
        stats.rpcs += 1;
        if violations.is_empty() {
            return Some(RpcOutcome { terminal, ended });
        }
        for violation in violations {
            let kind = if violation.rule == Rule::StatusOk {
                crate::client::code_name(status.code()).to_owned()
            } else {
                format!("protocol:{}", violation.rule)
            };
            stats.error(kind, || format!("{id} {what}: {violation}"));
        }
        None
    }
}

/// A request stream of one message (the RPC half-closes after it).
fn single(head: &Bytes, body: &Bytes) -> tokio_stream::Once<RawRequest> {
    tokio_stream::once(RawRequest {
        head: head.clone(),
        body: body.clone(),
    })
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;
    use crate::proto::voice_va_request::VoiceVaInputType;

    #[test]
    fn utterances_become_frames_then_silence() {
        let config = LoadConfig {
            trailing_silence: Duration::from_secs(1),
            ..LoadConfig::default()
        };
        // 250 ms of audio → 13 frames (the last one padded), then 50 frames of silence.
        let spoken = spoken(&[0x10; 2000], &config);
        assert_eq!(spoken.frames.len(), 13 + 50);
        let decode = |body: &Bytes| {
            let request = crate::proto::VoiceVaRequest::decode(&body[..]).unwrap();
            match request.voice_va_input_type {
                Some(VoiceVaInputType::AudioInput(audio)) => audio,
                other => panic!("{other:?}"),
            }
        };
        let first = decode(&spoken.frames[0]);
        assert_eq!(first.caller_audio.len(), 160);
        assert_eq!((first.encoding, first.sample_rate_hertz), (2, 8000));
        let last_audio = decode(&spoken.frames[12]);
        assert_eq!(&last_audio.caller_audio[..80], &[0x10; 80]);
        assert_eq!(&last_audio.caller_audio[80..], &[MULAW_SILENCE; 80]);
        assert_eq!(
            &decode(&spoken.frames[13]).caller_audio[..],
            &[MULAW_SILENCE; 160]
        );
        assert_eq!(spoken.mark.load(Ordering::Relaxed), usize::MAX);
    }
}
