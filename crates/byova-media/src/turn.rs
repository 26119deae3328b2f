//! The turn driver: one `ProcessCallerInput` RPC, from its first message to its status.
//!
//! It reads requests in order, routes them (events and DTMF to the agent, audio through the
//! endpointer), sends START_OF_INPUT / END_OF_INPUT, runs the agent's reply while it keeps
//! reading, and ends the RPC after the reply, after a client SESSION_END, or when the
//! conversation closes elsewhere. It knows the wire messages but not gRPC: the service hands it a
//! request stream and an [`Outbound`].

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::{BoxStream, FuturesUnordered};
use futures_util::{FutureExt as _, StreamExt as _};
use tokio::sync::watch;
use tokio::time::Instant;
use tonic::Status;
use tracing::Instrument as _;

use crate::agent::{AgentError, AgentInput, Parts, TurnInfo};
use crate::agents::AgentEntry;
use crate::audio::AudioEncoding;
use crate::input::{
    AudioFrame, Dtmf, Event, SessionEndReason, SessionStart, Utterance, UtteranceEnd,
};
use crate::json::struct_to_json;
use crate::metrics::Metrics;
use crate::outbound::{self, Outbound};
use crate::proto::{self, VoiceVaRequest, event_input, voice_va_request::VoiceVaInputType};
use crate::registry::{Conversation, CreateError, Lookup, NewCall, panic_message};
use crate::reply::{OutputEvent, Reply};
use crate::shared::Shared;
use crate::sink::{Finished, OutputMode, ReplySink, SinkError};
use crate::vad::{EndpointEvent, Endpointer, EndpointerPhase};

/// How long after the caller's SESSION_END a SESSION_START of the same conversation counts as
/// overtaken (from an RPC cancelled at the hang-up) rather than as the flow entering the
/// virtual agent again.
const OVERTAKEN_START_WINDOW: std::time::Duration = std::time::Duration::from_secs(10);

/// One RPC as the service hands it over.
pub(crate) struct Rpc {
    pub(crate) requests: BoxStream<'static, Result<VoiceVaRequest, Status>>,
    pub(crate) out: Outbound,
    pub(crate) tracking_id: Option<String>,
    pub(crate) extensions: http::Extensions,
}

/// Runs one RPC to its end.
pub(crate) async fn run(shared: Arc<Shared>, rpc: Rpc) {
    let opened = Instant::now();
    shared.metrics.active_turns.inc();
    drive(&shared, rpc).await;
    shared.metrics.active_turns.dec();
    shared.metrics.turn_duration(opened.elapsed());
}

/// A request reduced to what the turn acts on, validated.
#[derive(Debug)]
enum Msg {
    Audio {
        audio: Bytes,
        encoding: Option<AudioEncoding>,
        sample_rate: u32,
        language: String,
    },
    Dtmf(String),
    SessionStart(SessionStart),
    SessionEnd,
    Event(Event),
}

/// Validates a request. Unknown enum values and a missing input are protocol errors.
fn classify(input: Option<VoiceVaInputType>) -> Result<Msg, Status> {
    match input {
        None => Err(Status::invalid_argument(
            "request carries no input: exactly one of audio_input, dtmf_input and event_input is required",
        )),
        Some(VoiceVaInputType::AudioInput(audio)) => {
            let encoding = match audio.encoding {
                0 => None,
                value => Some(AudioEncoding::from_wire(value).ok_or_else(|| {
                    Status::invalid_argument(format!("unknown audio encoding {value}"))
                })?),
            };
            let sample_rate = match audio.sample_rate_hertz {
                0 => 0,
                8000 => 8000,
                16_000 => 16_000,
                other => {
                    return Err(Status::invalid_argument(format!(
                        "unsupported sample rate {other} Hz (8000 or 16000 expected)"
                    )));
                }
            };
            Ok(Msg::Audio {
                audio: audio.caller_audio,
                encoding,
                sample_rate,
                language: audio.language_code,
            })
        }
        Some(VoiceVaInputType::DtmfInput(dtmf)) => {
            let mut digits = String::with_capacity(dtmf.dtmf_events.len());
            for value in dtmf.dtmf_events {
                digits.push(crate::dtmf::digit_to_char(value).ok_or_else(|| {
                    Status::invalid_argument(format!("unknown DTMF digit value {value}"))
                })?);
            }
            Ok(Msg::Dtmf(digits))
        }
        Some(VoiceVaInputType::EventInput(event)) => {
            let kind = event_input::EventType::try_from(event.event_type).map_err(|_| {
                Status::invalid_argument(format!("unknown event type {}", event.event_type))
            })?;
            let parameters = event.parameters.map(struct_to_json).unwrap_or_default();
            Ok(match kind {
                event_input::EventType::UnspecifiedInput => {
                    return Err(Status::invalid_argument(
                        "event_input without an event type",
                    ));
                }
                event_input::EventType::SessionStart => Msg::SessionStart(SessionStart {
                    name: event.name,
                    parameters,
                }),
                event_input::EventType::SessionEnd => Msg::SessionEnd,
                event_input::EventType::NoInput => Msg::Event(Event::NoInput),
                event_input::EventType::StartOfDtmf => Msg::Event(Event::StartOfDtmf),
                event_input::EventType::CustomEvent => Msg::Event(Event::Custom {
                    name: event.name,
                    parameters,
                }),
            })
        }
    }
}

/// Reads the first message, finds or creates the conversation, and runs the turn.
async fn drive(shared: &Arc<Shared>, rpc: Rpc) {
    let Rpc {
        mut requests,
        out,
        tracking_id,
        extensions,
    } = rpc;
    let first = tokio::select! {
        biased;
        () = out.closed() => return,
        first = tokio::time::timeout(shared.settings.first_message_timeout, requests.next()) => first,
    };
    let request = match first {
        Err(_) => {
            out.fail(Status::deadline_exceeded(format!(
                "no request within {} ms of opening the RPC",
                shared.settings.first_message_timeout.as_millis()
            )))
            .await;
            return;
        }
        // Half-closed without a message: nothing to do.
        Ok(None) => return,
        Ok(Some(Err(status))) => {
            out.fail(status).await;
            return;
        }
        Ok(Some(Ok(request))) => request,
    };
    let VoiceVaRequest {
        conversation_id,
        customer_org_id,
        virtual_agent_id,
        allow_partial_responses,
        vendor_specific_config,
        voice_va_input_type,
        additional_info,
    } = request;
    if conversation_id.is_empty() {
        out.fail(Status::invalid_argument("conversation_id is empty"))
            .await;
        return;
    }
    let msg = match classify(voice_va_input_type) {
        Ok(msg) => msg,
        Err(status) => {
            tracing::warn!(%conversation_id, error = status.message(), "invalid first request");
            if let Lookup::Live(conversation) = shared.registry.lookup(&conversation_id) {
                close_and_notify(
                    shared,
                    &conversation,
                    SessionEndReason::ProtocolError,
                    false,
                )
                .await;
            }
            out.fail(status).await;
            return;
        }
    };

    let conversation = match shared.registry.lookup(&conversation_id) {
        Lookup::Live(conversation) => {
            if !virtual_agent_id.is_empty() && *conversation.agent.id != *virtual_agent_id {
                out.fail(Status::invalid_argument(format!(
                    "conversation {conversation_id} is served by virtual agent {:?}, not {virtual_agent_id:?}",
                    &*conversation.agent.id
                )))
                .await;
                return;
            }
            conversation
        }
        Lookup::Ended(tombstone) if !matches!(msg, Msg::SessionStart(_)) => {
            // A late RPC of a finished call. Tell Webex the session is over if it never heard.
            let response = if matches!(msg, Msg::SessionEnd) || tombstone.told {
                outbound::empty_final()
            } else {
                shared.registry.mark_told(&conversation_id);
                terminal_response(tombstone.reason)
            };
            let _ = out.send(response).await;
            return;
        }
        Lookup::Ended(tombstone)
            if tombstone.reason == SessionEndReason::CallerEnded
                && tombstone.at.elapsed() < OVERTAKEN_START_WINDOW =>
        {
            // A SESSION_START overtaken by the caller's SESSION_END (its RPC was cancelled
            // when the caller hung up): the caller is gone, so no call opens.
            tracing::debug!(%conversation_id, "SESSION_START after the caller ended the call: ignored");
            let _ = out.send(outbound::empty_final()).await;
            return;
        }
        Lookup::Unknown if matches!(msg, Msg::SessionEnd) => {
            // Nothing to end: answer as Cisco's samples do, and remember the end in case the
            // call's SESSION_START is still on its way.
            shared.registry.remember_caller_end(&conversation_id);
            let _ = out.send(outbound::empty_final()).await;
            return;
        }
        Lookup::Ended(_) | Lookup::Unknown => {
            let Some(agent) = shared.agents.resolve(&virtual_agent_id) else {
                out.fail(Status::not_found(format!(
                    "unknown virtual agent id {virtual_agent_id:?}"
                )))
                .await;
                return;
            };
            let call = NewCall {
                conversation_id,
                customer_org_id,
                vendor_specific_config,
                additional_info,
                allow_partial_responses,
            };
            match shared.registry.create(call, agent) {
                Ok(conversation) => conversation,
                Err(err @ CreateError::TooManyCalls(_)) => {
                    out.fail(Status::resource_exhausted(err.to_string())).await;
                    return;
                }
                Err(err @ CreateError::Draining) => {
                    out.fail(Status::unavailable(err.to_string())).await;
                    return;
                }
            }
        }
    };

    let Some(guard) = conversation.begin_turn() else {
        // The conversation closed between the lookup and now.
        let _ = out.send(outbound::empty_final()).await;
        return;
    };
    let span = tracing::info_span!(
        parent: &conversation.span,
        "turn",
        turn = guard.number,
        tracking_id = tracking_id.as_deref().unwrap_or(""),
    );
    let mut turn = Turn {
        shared,
        agent: Arc::clone(&conversation.agent),
        closed: conversation.watch_closed(),
        conversation: Arc::clone(&conversation),
        info: TurnInfo {
            number: guard.number,
            tracking_id,
            extensions,
        },
        out,
        endpointer: None,
        language: None,
        input_done: false,
        replying: false,
    };
    let ending = turn.run(requests, msg).instrument(span).await;
    // The turn (and with it the RPC's response stream) is gone: Webex has its status.
    drop(turn);
    drop(guard);
    if let Ending::Close { reason, told } = ending {
        close_and_notify(shared, &conversation, reason, told).await;
    }
}

/// Closes the conversation and, if this call closed it, tells the agent.
async fn close_and_notify(
    shared: &Shared,
    conversation: &Arc<Conversation>,
    reason: SessionEndReason,
    told: bool,
) {
    if shared.registry.close(conversation, reason, told) {
        // Boxed: rare, and large next to the per-frame path of the turn's future.
        Box::pin(conversation.notify_agent_end(reason, shared.settings.session_end_timeout)).await;
    }
}

/// How a turn ended, for the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The conversation goes on (or was closed by someone else).
    Done,
    /// Close the conversation after the RPC completed.
    Close {
        reason: SessionEndReason,
        told: bool,
    },
}

impl Ending {
    /// The caller side cancelled the RPC (it knows the call is over).
    const CANCELLED: Self = Self::Close {
        reason: SessionEndReason::Cancelled,
        told: true,
    };
}

/// What an agent callback (and the reply it produced) came to.
enum WorkDone {
    Replied {
        finished: Finished,
        kind: &'static str,
        started: Instant,
    },
    ClientGone,
    Failed {
        delivered: bool,
    },
}

/// What handling one message asks of the loop.
enum Flow {
    Continue,
    Start(BoxFuture<'static, WorkDone>),
    End(Ending),
}

struct Turn<'a> {
    shared: &'a Shared,
    conversation: Arc<Conversation>,
    agent: Arc<AgentEntry>,
    closed: watch::Receiver<Option<SessionEndReason>>,
    info: TurnInfo,
    out: Outbound,
    /// Boxed: only audio RPCs have one, and it is large.
    endpointer: Option<Box<Endpointer>>,
    language: Option<String>,
    /// No more caller input is taken on this RPC (END_OF_INPUT sent, DTMF or an event arrived).
    input_done: bool,
    /// A reply is under way (or done): the RPC ends after it.
    replying: bool,
}

impl Turn<'_> {
    async fn run(
        &mut self,
        requests: BoxStream<'static, Result<VoiceVaRequest, Status>>,
        first: Msg,
    ) -> Ending {
        let ending = self.run_loop(requests, first).await;
        // Whatever happened, the last message of the RPC is a FINAL.
        if !self.out.is_closed() {
            Box::pin(self.close_with_final()).await;
        }
        ending
    }

    async fn run_loop(
        &mut self,
        mut requests: BoxStream<'static, Result<VoiceVaRequest, Status>>,
        first: Msg,
    ) -> Ending {
        let mut work: Option<BoxFuture<'static, WorkDone>> = None;
        let mut reading = true;
        // Boxed: the first message is handled once, and its future is as large as the loop's.
        match Box::pin(self.handle(first)).await {
            Flow::Continue => {}
            Flow::Start(future) => work = Some(future),
            Flow::End(ending) => return ending,
        }
        // The two ways a turn is stopped from outside, created once and polled only when one of
        // them was woken: polling a `Notify`-backed future takes its waiter lock, and the turn
        // wakes once per 20 ms audio frame.
        let mut closed = self.closed.clone();
        let out = self.out.clone();
        let mut stopped: FuturesUnordered<Pin<Box<dyn Future<Output = Stop> + Send + '_>>> =
            FuturesUnordered::new();
        stopped.push(Box::pin(closed_reason(&mut closed).map(Stop::Closed)));
        stopped.push(Box::pin(out.closed().map(|()| Stop::CallerGone)));
        loop {
            if !reading && work.is_none() {
                return Ending::Done;
            }
            tokio::select! {
                biased;
                Some(stop) = stopped.next() => {
                    drop(work);
                    return match stop {
                        Stop::Closed(reason) => Box::pin(self.on_closed(reason)).await,
                        Stop::CallerGone => {
                            tracing::info!("the caller side cancelled the RPC");
                            Ending::CANCELLED
                        }
                    };
                }
                done = async { work.as_mut().expect("guarded by is_some").await }, if work.is_some() => {
                    return self.after_work(done);
                }
                next = requests.next(), if reading => {
                    let flow = match next {
                        None => {
                            reading = false;
                            self.on_half_close().await
                        }
                        Some(Err(status)) => {
                            drop(work.take());
                            return Box::pin(self.on_stream_error(status)).await;
                        }
                        Some(Ok(request)) => {
                            self.conversation.touch();
                            match self.check_request(&request).and_then(|()| classify(request.voice_va_input_type)) {
                                Ok(msg) => {
                                    if matches!(msg, Msg::SessionEnd) {
                                        // The agent's running reply holds the state the
                                        // session-end callback needs: stop it first.
                                        drop(work.take());
                                    }
                                    self.handle(msg).await
                                }
                                Err(status) => {
                                    drop(work.take());
                                    return Box::pin(self.protocol_error(status)).await;
                                }
                            }
                        }
                    };
                    match flow {
                        Flow::Continue => {}
                        Flow::Start(future) => work = Some(future),
                        Flow::End(ending) => {
                            drop(work);
                            return ending;
                        }
                    }
                }
            }
        }
    }

    /// Messages after the first must belong to the same conversation and agent.
    fn check_request(&self, request: &VoiceVaRequest) -> Result<(), Status> {
        if !request.conversation_id.is_empty()
            && request.conversation_id != self.conversation.info.conversation_id()
        {
            return Err(Status::invalid_argument(
                "conversation_id changed within one RPC",
            ));
        }
        if !request.virtual_agent_id.is_empty() && *request.virtual_agent_id != *self.agent.id {
            return Err(Status::invalid_argument(
                "virtual_agent_id changed within one RPC",
            ));
        }
        Ok(())
    }

    async fn handle(&mut self, msg: Msg) -> Flow {
        let input = match msg {
            Msg::Audio {
                audio,
                encoding,
                sample_rate,
                language,
            } => return self.on_audio(&audio, encoding, sample_rate, language).await,
            Msg::SessionEnd => return Box::pin(self.on_session_end()).await,
            Msg::Dtmf(digits) => AgentInput::Dtmf(Dtmf::new(digits)),
            Msg::SessionStart(start) => AgentInput::SessionStart(start),
            Msg::Event(event) => AgentInput::Event(event),
        };
        if self.replying {
            tracing::warn!(
                input = input.kind(),
                "input ignored: a reply is already under way on this RPC"
            );
            return Flow::Continue;
        }
        if let AgentInput::SessionStart(start) = &input
            && !self.conversation.info.set_session_start(start.clone())
        {
            tracing::warn!("duplicate SESSION_START ignored");
            return Flow::Continue;
        }
        self.input_done = true;
        self.start(input, Instant::now())
    }

    async fn on_audio(
        &mut self,
        audio: &Bytes,
        encoding: Option<AudioEncoding>,
        sample_rate: u32,
        language: String,
    ) -> Flow {
        if self.input_done {
            return Flow::Continue;
        }
        if !language.is_empty() && self.language.as_deref() != Some(language.as_str()) {
            self.language = Some(language);
        }
        let endpointer = match &mut self.endpointer {
            Some(endpointer) => endpointer,
            slot => slot.insert(Box::new(self.shared.settings.endpointer())),
        };
        let events = match endpointer.push(audio, encoding, sample_rate) {
            Ok(events) => events,
            Err(err) => {
                let status =
                    Status::invalid_argument(format!("caller audio cannot be processed: {err}"));
                return Flow::End(Box::pin(self.protocol_error(status)).await);
            }
        };
        if self.agent.agent.wants_audio_frames() && audio.len() >= crate::vad::MIN_AUDIO_MESSAGE {
            let in_speech = endpointer.phase() == EndpointerPhase::Speaking;
            let frame = AudioFrame {
                audio,
                encoding: encoding.unwrap_or(AudioEncoding::Mulaw),
                sample_rate: if sample_rate == 0 { 8000 } else { sample_rate },
                in_speech,
            };
            if let Err(failure) = Box::pin(self.agent_audio(frame)).await {
                return Flow::End(Box::pin(self.fail(failure)).await);
            }
        }
        for event in events {
            match event {
                EndpointEvent::SpeechStarted(_) => {
                    tracing::debug!("speech started");
                    if self.out.send(outbound::start_of_input()).await.is_err() {
                        return Flow::End(Ending::CANCELLED);
                    }
                }
                EndpointEvent::SpeechEnded(ended) => {
                    let end = match ended.reason {
                        crate::vad::EndReason::MaxLength => UtteranceEnd::MaxLength,
                        _ => UtteranceEnd::Silence,
                    };
                    return self.end_of_input(end).await;
                }
            }
        }
        Flow::Continue
    }

    /// Sends END_OF_INPUT and starts the agent on the utterance.
    async fn end_of_input(&mut self, end: UtteranceEnd) -> Flow {
        let detected = Instant::now();
        self.input_done = true;
        let recorded = self
            .endpointer
            .as_mut()
            .and_then(|endpointer| endpointer.take_utterance());
        tracing::debug!(?end, "speech ended");
        let chunk_mode = self.agent.reply.mode == OutputMode::Chunk;
        if self
            .out
            .send(outbound::end_of_input(chunk_mode))
            .await
            .is_err()
        {
            return Flow::End(Ending::CANCELLED);
        }
        let Some(recorded) = recorded else {
            return Flow::Continue;
        };
        if self.replying {
            return Flow::Continue;
        }
        let utterance = Utterance {
            recorded,
            language: self.language.clone(),
            end,
        };
        self.start(AgentInput::Utterance(utterance), detected)
    }

    async fn on_half_close(&mut self) -> Flow {
        let speaking = self
            .endpointer
            .as_ref()
            .is_some_and(|endpointer| endpointer.phase() == EndpointerPhase::Speaking);
        if speaking && !self.input_done {
            return self.end_of_input(UtteranceEnd::InputClosed).await;
        }
        Flow::Continue
    }

    async fn on_session_end(&mut self) -> Flow {
        tracing::info!("the caller side ended the session");
        let conversation = Arc::clone(&self.conversation);
        close_and_notify(
            self.shared,
            &conversation,
            SessionEndReason::CallerEnded,
            true,
        )
        .await;
        let _ = self.out.send(outbound::empty_final()).await;
        Flow::End(Ending::Done)
    }

    /// Starts the agent on an input; the reply streams out while the turn keeps reading.
    fn start(&mut self, input: AgentInput, trigger: Instant) -> Flow {
        self.replying = true;
        let kind = input.kind();
        let conversation = Arc::clone(&self.conversation);
        let turn = self.info.clone();
        let out = self.out.clone();
        let metrics = Arc::clone(&self.shared.metrics);
        let on_failure = self.shared.settings.on_failure.clone();
        let span = tracing::Span::current();
        Flow::Start(Box::pin(
            async move {
                let mut state = conversation.state.lock().await;
                let mut sink = ReplySink::new(out, Arc::clone(&conversation.agent.reply));
                let result = {
                    let parts = Parts {
                        call: &conversation.info,
                        turn: &turn,
                        state: &mut **state,
                        sink: &mut sink,
                    };
                    AssertUnwindSafe(conversation.agent.agent.reply(parts, input))
                        .catch_unwind()
                        .await
                };
                let failure = match result {
                    Ok(Ok(reply)) => match sink.finish(reply).await {
                        Ok(finished) => {
                            return WorkDone::Replied {
                                finished,
                                kind,
                                started: trigger,
                            };
                        }
                        Err(err) if err.is_closed() => return WorkDone::ClientGone,
                        Err(err) => Failure::Reply(err),
                    },
                    Ok(Err(err)) => Failure::Error(err),
                    Err(panic) => Failure::Panic(panic_message(&*panic)),
                };
                drop(state);
                failure.log(kind, &metrics);
                match sink.finish(on_failure.reply()).await {
                    Ok(_) => WorkDone::Failed { delivered: true },
                    Err(_) => WorkDone::Failed { delivered: false },
                }
            }
            .instrument(span),
        ))
    }

    fn after_work(&mut self, done: WorkDone) -> Ending {
        match done {
            WorkDone::Replied {
                finished,
                kind,
                started,
            } => {
                self.shared.metrics.turn(kind);
                if let Some(first) = finished.first_sent {
                    self.shared
                        .metrics
                        .reply_latency(kind, first.saturating_duration_since(started));
                }
                match finished.terminal {
                    Some(crate::reply::OutputEventKind::SessionEnd) => Ending::Close {
                        reason: SessionEndReason::AgentEnded,
                        told: true,
                    },
                    Some(_) => Ending::Close {
                        reason: SessionEndReason::Transferred,
                        told: true,
                    },
                    None => Ending::Done,
                }
            }
            WorkDone::ClientGone => Ending::CANCELLED,
            WorkDone::Failed { delivered } => Ending::Close {
                reason: SessionEndReason::AgentFailed,
                told: delivered,
            },
        }
    }

    /// Runs the agent's `on_audio` for one frame.
    async fn agent_audio(&mut self, frame: AudioFrame<'_>) -> Result<(), Failure> {
        let mut state = self.conversation.state.lock().await;
        let mut sink = ReplySink::disabled(Arc::clone(&self.agent.reply));
        let parts = Parts {
            call: &self.conversation.info,
            turn: &self.info,
            state: &mut **state,
            sink: &mut sink,
        };
        match AssertUnwindSafe(self.agent.agent.audio(parts, frame))
            .catch_unwind()
            .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(Failure::Error(err)),
            Err(panic) => Err(Failure::Panic(panic_message(&*panic))),
        }
    }

    /// Logs an agent failure, plays the apology and asks for the call to close.
    async fn fail(&mut self, failure: Failure) -> Ending {
        failure.log("audio_frame", &self.shared.metrics);
        let mut sink = ReplySink::new(self.out.clone(), Arc::clone(&self.agent.reply));
        let timeout = self.shared.settings.session_end_timeout;
        let delivered = bounded(
            timeout,
            sink.finish(self.shared.settings.on_failure.reply()),
        )
        .await
        .is_some_and(|result| result.is_ok());
        Ending::Close {
            reason: SessionEndReason::AgentFailed,
            told: delivered,
        }
    }

    /// The conversation closed elsewhere (client SESSION_END on another RPC, terminal reply,
    /// idle timeout, maximum duration, shutdown): finish this RPC cleanly.
    async fn on_closed(&mut self, reason: SessionEndReason) -> Ending {
        let reply = match reason {
            SessionEndReason::MaxDuration | SessionEndReason::IdleTimeout => Some(
                Reply::new().event(OutputEvent::end_session().with_name(terminal_name(reason))),
            ),
            SessionEndReason::Shutdown => Some(self.shared.settings.on_failure.shutdown_reply()),
            _ => None,
        };
        match reply {
            Some(reply) => {
                let mut sink = ReplySink::new(self.out.clone(), Arc::clone(&self.agent.reply));
                let _ = bounded(self.shared.settings.session_end_timeout, sink.finish(reply)).await;
            }
            None => self.close_with_final().await,
        }
        Ending::Done
    }

    /// Sends an empty FINAL when the last message sent was a CHUNK.
    async fn close_with_final(&mut self) {
        if self.out.owes_final() {
            let out = self.out.clone();
            let _ = bounded(
                self.shared.settings.session_end_timeout,
                out.send(outbound::empty_final()),
            )
            .await;
        }
    }

    async fn on_stream_error(&mut self, status: Status) -> Ending {
        if status.code() == tonic::Code::Cancelled || self.out.is_closed() {
            tracing::info!("the caller side cancelled the RPC");
            return Ending::CANCELLED;
        }
        self.protocol_error(status).await
    }

    async fn protocol_error(&mut self, status: Status) -> Ending {
        tracing::warn!(code = ?status.code(), error = status.message(), "protocol error; the call is closed");
        self.out.fail(status).await;
        Ending::Close {
            reason: SessionEndReason::ProtocolError,
            told: false,
        }
    }
}

/// Runs `future`, giving up after `timeout` (sends to a caller that stopped reading).
///
/// A plain function, not an `async fn`: that would hold `future` twice in its state.
fn bounded<F: Future>(
    timeout: std::time::Duration,
    future: F,
) -> impl Future<Output = Option<F::Output>> {
    tokio::time::timeout(timeout, future).map(Result::ok)
}

/// Why a turn was stopped from outside.
enum Stop {
    /// The conversation was closed (by another RPC, the reaper or shutdown).
    Closed(SessionEndReason),
    /// The caller cancelled the RPC (its response stream is gone).
    CallerGone,
}

/// Resolves with the reason once the conversation is closed (at once if it already is).
async fn closed_reason(closed: &mut watch::Receiver<Option<SessionEndReason>>) -> SessionEndReason {
    match closed.wait_for(Option::is_some).await {
        Ok(reason) => (*reason).unwrap_or(SessionEndReason::Shutdown),
        // The sender lives in the conversation, which this turn holds; it cannot be gone.
        Err(_) => SessionEndReason::Shutdown,
    }
}

/// The session-end reply a late RPC of a conversation closed by the server gets.
fn terminal_response(reason: SessionEndReason) -> proto::VoiceVaResponse {
    proto::VoiceVaResponse {
        output_events: vec![
            OutputEvent::end_session()
                .with_name(terminal_name(reason))
                .to_wire(),
        ],
        ..proto::VoiceVaResponse::default()
    }
}

/// The name of the session-end event the server sends when it ends a call itself.
fn terminal_name(reason: SessionEndReason) -> &'static str {
    match reason {
        SessionEndReason::MaxDuration => "max_call_duration_exceeded",
        SessionEndReason::IdleTimeout => "idle_timeout",
        SessionEndReason::Shutdown => "server_shutdown",
        SessionEndReason::AgentFailed => "agent_error",
        _ => "conversation_ended",
    }
}

/// Why an agent callback failed.
enum Failure {
    Error(AgentError),
    Panic(String),
    Reply(SinkError),
}

impl Failure {
    fn log(&self, kind: &'static str, metrics: &Metrics) {
        match self {
            Self::Error(err) => {
                metrics.agent_failure(false);
                tracing::error!(input = kind, error = %err, "the agent returned an error; the call fails");
            }
            Self::Panic(message) => {
                metrics.agent_failure(true);
                tracing::error!(input = kind, panic = %message, "the agent panicked; the call fails");
            }
            Self::Reply(err) => {
                metrics.agent_failure(false);
                let cause = err
                    .audio_error()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                tracing::error!(input = kind, error = %err, %cause, "the agent's reply cannot be sent; the call fails");
            }
        }
    }
}
