//! The agent API: the [`VirtualAgent`] trait users implement, the [`Context`] each callback
//! receives, [`AgentError`], and closure-style agents ([`agent_fn`]).

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::time::Instant;

use crate::input::{AudioFrame, Dtmf, Event, SessionEnd, SessionStart, Utterance};
use crate::reply::{Audio, Reply};
use crate::sink::{OutputMode, ReplySink, SinkError};

/// The result of an agent callback.
pub type AgentResult<T = Reply> = Result<T, AgentError>;

/// A virtual agent: the code that answers callers.
///
/// Every method has a default, so an agent implements only what it needs. Callbacks of one
/// conversation never run at the same time (they share the conversation's [`State`](Self::State));
/// different conversations run in parallel.
///
/// A callback that returns an error or panics fails only its own call: the server plays the
/// configured apology, ends or transfers the call, logs the error with the conversation id, and
/// keeps serving.
///
/// A running callback is never cut short in the normal course of a call: its reply completes
/// the turn. Its future is dropped (at its next `.await`) only when the call itself ends under
/// it — the caller hangs up or cancels, the call reaches its maximum duration, or the server
/// stops after its grace period.
///
/// ```
/// use byova_media::{Context, Dtmf, Reply, SessionStart, Utterance, VirtualAgent, AgentResult};
///
/// #[derive(Debug, Default)]
/// struct Counter {
///     turns: u32,
/// }
///
/// struct Echo;
///
/// impl VirtualAgent for Echo {
///     type State = Counter;
///
///     async fn on_session_start(
///         &self,
///         _ctx: &mut Context<'_, Counter>,
///         _start: SessionStart,
///     ) -> AgentResult {
///         Ok(Reply::say("Hello! Say something or press a key."))
///     }
///
///     async fn on_utterance(
///         &self,
///         ctx: &mut Context<'_, Counter>,
///         utterance: Utterance,
///     ) -> AgentResult {
///         ctx.state().turns += 1;
///         let ms = utterance.duration().as_millis();
///         Ok(Reply::say(format!("You spoke for {ms} milliseconds.")))
///     }
///
///     async fn on_dtmf(&self, _ctx: &mut Context<'_, Counter>, dtmf: Dtmf) -> AgentResult {
///         Ok(match dtmf.digits.as_str() {
///             "0" => Reply::say("Transferring you.").transfer_to_agent(),
///             _ => Reply::say("Goodbye.").end_session(),
///         })
///     }
/// }
/// ```
pub trait VirtualAgent: Send + Sync + 'static {
    /// Per-conversation state, created with `Default` when a conversation starts and handed to
    /// every callback of that conversation as [`Context::state`].
    type State: Default + Send + 'static;

    /// The call entered the virtual agent (`SESSION_START`): answer with the greeting.
    ///
    /// The default answers with an empty reply (no prompt, the next input mode and config).
    fn on_session_start(
        &self,
        ctx: &mut Context<'_, Self::State>,
        start: SessionStart,
    ) -> impl Future<Output = AgentResult> + Send {
        let _ = (ctx, start);
        async { Ok(Reply::new()) }
    }

    /// The caller's complete utterance, after the server sent END_OF_INPUT.
    ///
    /// The default answers with an empty reply.
    fn on_utterance(
        &self,
        ctx: &mut Context<'_, Self::State>,
        utterance: Utterance,
    ) -> impl Future<Output = AgentResult> + Send {
        let _ = (ctx, utterance);
        async { Ok(Reply::new()) }
    }

    /// Whether [`on_audio`](Self::on_audio) should receive every piece of caller audio
    /// (default `false`: only complete utterances are delivered).
    fn wants_audio_frames(&self) -> bool {
        false
    }

    /// A piece of caller audio as it arrives (only when
    /// [`wants_audio_frames`](Self::wants_audio_frames) is `true`), for streaming recognition.
    /// Keep it fast: the next frame is read after it returns.
    fn on_audio(
        &self,
        ctx: &mut Context<'_, Self::State>,
        frame: AudioFrame<'_>,
    ) -> impl Future<Output = AgentResult<()>> + Send {
        let _ = (ctx, frame);
        async { Ok(()) }
    }

    /// DTMF digits the caller entered.
    ///
    /// The default answers with an empty reply.
    fn on_dtmf(
        &self,
        ctx: &mut Context<'_, Self::State>,
        dtmf: Dtmf,
    ) -> impl Future<Output = AgentResult> + Send {
        let _ = (ctx, dtmf);
        async { Ok(Reply::new()) }
    }

    /// An input event: no input, start of DTMF, or a custom flow event.
    ///
    /// The default answers `NO_INPUT` with an empty reply (so the caller is listened to again;
    /// a server-side NO_INPUT event would make the flow leave the activity) and sends nothing for
    /// the other events.
    fn on_event(
        &self,
        ctx: &mut Context<'_, Self::State>,
        event: Event,
    ) -> impl Future<Output = AgentResult> + Send {
        let _ = ctx;
        async move {
            Ok(match event {
                Event::NoInput => Reply::new(),
                _ => Reply::none(),
            })
        }
    }

    /// The conversation ended (whatever the reason); called exactly once per conversation.
    /// Nothing can be sent to the caller any more.
    fn on_session_end(
        &self,
        ctx: &mut Context<'_, Self::State>,
        end: SessionEnd,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, end);
        async {}
    }
}

/// What a callback knows about its call and turn, its conversation's state, and the sink to
/// stream reply audio through.
pub struct Context<'a, S> {
    call: &'a CallInfo,
    turn: &'a TurnInfo,
    state: &'a mut S,
    sink: &'a mut ReplySink,
}

impl<'a, S> Context<'a, S> {
    pub(crate) fn new(
        call: &'a CallInfo,
        turn: &'a TurnInfo,
        state: &'a mut S,
        sink: &'a mut ReplySink,
    ) -> Self {
        Self {
            call,
            turn,
            state,
            sink,
        }
    }

    /// The call.
    #[must_use]
    pub fn call(&self) -> &CallInfo {
        self.call
    }

    /// The Webex call (interaction) id.
    #[must_use]
    pub fn conversation_id(&self) -> &str {
        self.call.conversation_id()
    }

    /// The Webex `trackingid` metadata of this turn's RPC, if sent.
    #[must_use]
    pub fn tracking_id(&self) -> Option<&str> {
        self.turn.tracking_id.as_deref()
    }

    /// The number of this turn in the conversation (1 for the first RPC).
    #[must_use]
    pub fn turn_number(&self) -> u64 {
        self.turn.number
    }

    /// A value the transport stored for this RPC, such as the verified JWS claims.
    #[must_use]
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.turn.extensions.get::<T>()
    }

    /// The verified claims of the Webex JWS that authenticated this RPC (`None` when
    /// authentication is off).
    #[cfg(feature = "jws")]
    #[must_use]
    pub fn claims(&self) -> Option<&byova_jws::Claims> {
        self.extension::<byova_jws::Claims>()
    }

    /// The conversation's state.
    pub fn state(&mut self) -> &mut S {
        self.state
    }

    /// The conversation's state, read-only.
    #[must_use]
    pub fn state_ref(&self) -> &S {
        self.state
    }

    /// The sink to stream reply audio through while the callback runs.
    pub fn sink(&mut self) -> &mut ReplySink {
        self.sink
    }

    /// The output mode of this call's replies.
    #[must_use]
    pub fn output_mode(&self) -> OutputMode {
        self.sink.mode()
    }

    /// Streams audio to the caller now (CHUNK mode), ahead of the callback's [`Reply`]; in WAV
    /// mode the audio becomes the first prompt of the reply. Shorthand for
    /// [`ReplySink::send_audio`].
    ///
    /// # Errors
    /// [`SinkError`] when the caller is gone or the audio cannot be converted.
    pub async fn send_audio(&mut self, audio: &Audio) -> Result<(), SinkError> {
        self.sink.send_audio(audio).await
    }
}

impl<S: fmt::Debug> fmt::Debug for Context<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("call", self.call)
            .field("turn", self.turn)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Facts about a call, fixed by the first message Webex sent for it. Cheap to clone.
#[derive(Clone)]
pub struct CallInfo(Arc<CallInner>);

struct CallInner {
    conversation_id: String,
    customer_org_id: String,
    virtual_agent_id: String,
    vendor_specific_config: String,
    additional_info: HashMap<String, String>,
    allow_partial_responses: bool,
    started_at: Instant,
    session_start: OnceLock<SessionStart>,
}

impl CallInfo {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        conversation_id: String,
        customer_org_id: String,
        virtual_agent_id: String,
        vendor_specific_config: String,
        additional_info: HashMap<String, String>,
        allow_partial_responses: bool,
        started_at: Instant,
    ) -> Self {
        Self(Arc::new(CallInner {
            conversation_id,
            customer_org_id,
            virtual_agent_id,
            vendor_specific_config,
            additional_info,
            allow_partial_responses,
            started_at,
            session_start: OnceLock::new(),
        }))
    }

    /// The Webex call (interaction) id.
    #[must_use]
    pub fn conversation_id(&self) -> &str {
        &self.0.conversation_id
    }

    /// The customer's Webex organization id.
    #[must_use]
    pub fn customer_org_id(&self) -> &str {
        &self.0.customer_org_id
    }

    /// The id of the virtual agent serving the call (the default agent's id when Webex sent none).
    #[must_use]
    pub fn virtual_agent_id(&self) -> &str {
        &self.0.virtual_agent_id
    }

    /// The vendor-specific config string from the Contact Center AI config in Control Hub.
    #[must_use]
    pub fn vendor_specific_config(&self) -> &str {
        &self.0.vendor_specific_config
    }

    /// Additional info Webex sent (reserved by Webex; usually empty).
    #[must_use]
    pub fn additional_info(&self) -> &HashMap<String, String> {
        &self.0.additional_info
    }

    /// Whether Webex allows PARTIAL responses on this call.
    #[must_use]
    pub fn allow_partial_responses(&self) -> bool {
        self.0.allow_partial_responses
    }

    /// The `SESSION_START` event of the call, if one arrived (a call this server picked up midway
    /// has none).
    #[must_use]
    pub fn session_start(&self) -> Option<&SessionStart> {
        self.0.session_start.get()
    }

    /// How long the call has lasted so far.
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        self.0.started_at.elapsed()
    }

    pub(crate) fn started_at(&self) -> Instant {
        self.0.started_at
    }

    /// Records the session start; `false` when one was recorded already.
    pub(crate) fn set_session_start(&self, start: SessionStart) -> bool {
        self.0.session_start.set(start).is_ok()
    }
}

impl fmt::Debug for CallInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The vendor config may hold credentials of the vendor's bot: never print it.
        f.debug_struct("CallInfo")
            .field("conversation_id", &self.0.conversation_id)
            .field("customer_org_id", &self.0.customer_org_id)
            .field("virtual_agent_id", &self.0.virtual_agent_id)
            .field(
                "vendor_specific_config",
                &format_args!("<{} bytes>", self.0.vendor_specific_config.len()),
            )
            .field("session_start", &self.0.session_start.get())
            .finish_non_exhaustive()
    }
}

/// Facts about one turn (one `ProcessCallerInput` RPC).
#[derive(Debug, Clone, Default)]
pub(crate) struct TurnInfo {
    pub(crate) number: u64,
    pub(crate) tracking_id: Option<String>,
    pub(crate) extensions: http::Extensions,
}

/// An error returned by agent code. Anything that converts into a boxed error converts into it,
/// so `?` works on most errors, and `"message".into()` makes one.
pub struct AgentError(Box<dyn std::error::Error + Send + Sync>);

impl AgentError {
    /// Wraps an error.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(error.into())
    }

    /// The wrapped error.
    #[must_use]
    pub fn get_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }

    /// Unwraps the error.
    #[must_use]
    pub fn into_inner(self) -> Box<dyn std::error::Error + Send + Sync> {
        self.0
    }
}

impl<E: Into<Box<dyn std::error::Error + Send + Sync>>> From<E> for AgentError {
    fn from(error: E) -> Self {
        Self(error.into())
    }
}

impl fmt::Debug for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// An input that asks for a reply: what a closure agent ([`agent_fn`]) is given, and what the
/// server dispatches to a [`VirtualAgent`]'s callbacks.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AgentInput {
    /// The call entered the virtual agent.
    SessionStart(SessionStart),
    /// The caller's complete utterance.
    Utterance(Utterance),
    /// DTMF digits.
    Dtmf(Dtmf),
    /// Another input event.
    Event(Event),
}

/// An agent made of one async closure receiving the call and each input; see [`agent_fn`].
pub struct FnAgent<F> {
    f: F,
}

impl<F> fmt::Debug for FnAgent<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnAgent").finish_non_exhaustive()
    }
}

/// Builds a stateless agent from one async closure, for small agents and tests.
///
/// ```
/// use byova_media::{agent_fn, AgentInput, Reply};
///
/// let agent = agent_fn(|_call, input| async move {
///     Ok(match input {
///         AgentInput::SessionStart(_) => Reply::say("Welcome!"),
///         AgentInput::Dtmf(dtmf) if dtmf.digits == "0" => Reply::new().transfer_to_agent(),
///         AgentInput::Event(_) => Reply::none(),
///         _ => Reply::say("Goodbye.").end_session(),
///     })
/// });
/// # let _ = agent;
/// ```
pub fn agent_fn<F, Fut>(f: F) -> FnAgent<F>
where
    F: Fn(CallInfo, AgentInput) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = AgentResult> + Send + 'static,
{
    FnAgent { f }
}

impl<F, Fut> VirtualAgent for FnAgent<F>
where
    F: Fn(CallInfo, AgentInput) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = AgentResult> + Send + 'static,
{
    type State = ();

    fn on_session_start(
        &self,
        ctx: &mut Context<'_, ()>,
        start: SessionStart,
    ) -> impl Future<Output = AgentResult> + Send {
        (self.f)(ctx.call().clone(), AgentInput::SessionStart(start))
    }

    fn on_utterance(
        &self,
        ctx: &mut Context<'_, ()>,
        utterance: Utterance,
    ) -> impl Future<Output = AgentResult> + Send {
        (self.f)(ctx.call().clone(), AgentInput::Utterance(utterance))
    }

    fn on_dtmf(
        &self,
        ctx: &mut Context<'_, ()>,
        dtmf: Dtmf,
    ) -> impl Future<Output = AgentResult> + Send {
        (self.f)(ctx.call().clone(), AgentInput::Dtmf(dtmf))
    }

    fn on_event(
        &self,
        ctx: &mut Context<'_, ()>,
        event: Event,
    ) -> impl Future<Output = AgentResult> + Send {
        (self.f)(ctx.call().clone(), AgentInput::Event(event))
    }
}

impl AgentInput {
    /// A short stable name (logs, metrics labels).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::SessionStart(_) => "session_start",
            Self::Utterance(_) => "utterance",
            Self::Dtmf(_) => "dtmf",
            Self::Event(Event::NoInput) => "no_input",
            Self::Event(Event::StartOfDtmf) => "start_of_dtmf",
            Self::Event(_) => "custom_event",
        }
    }
}

/// What the turn driver lends an erased agent for one callback.
pub(crate) struct Parts<'a> {
    pub(crate) call: &'a CallInfo,
    pub(crate) turn: &'a TurnInfo,
    pub(crate) state: &'a mut (dyn Any + Send),
    pub(crate) sink: &'a mut ReplySink,
}

/// A [`VirtualAgent`] with its state type erased, so agents of different types share a server.
pub(crate) trait DynAgent: Send + Sync {
    fn new_state(&self) -> Box<dyn Any + Send>;
    fn wants_audio_frames(&self) -> bool;
    fn reply<'a>(&'a self, parts: Parts<'a>, input: AgentInput) -> BoxFuture<'a, AgentResult>;
    fn audio<'a>(
        &'a self,
        parts: Parts<'a>,
        frame: AudioFrame<'a>,
    ) -> BoxFuture<'a, AgentResult<()>>;
    fn end<'a>(&'a self, parts: Parts<'a>, end: SessionEnd) -> BoxFuture<'a, ()>;
}

/// The adapter from a typed [`VirtualAgent`] to [`DynAgent`].
pub(crate) struct Erased<A>(pub(crate) A);

fn typed_state<S: 'static>(state: &mut (dyn Any + Send)) -> &mut S {
    // The slot is created by `new_state` of the same agent, so the type always matches.
    state
        .downcast_mut::<S>()
        .expect("the state slot holds the agent's own state type")
}

impl<A: VirtualAgent> DynAgent for Erased<A> {
    fn new_state(&self) -> Box<dyn Any + Send> {
        Box::new(A::State::default())
    }

    fn wants_audio_frames(&self) -> bool {
        self.0.wants_audio_frames()
    }

    fn reply<'a>(&'a self, parts: Parts<'a>, input: AgentInput) -> BoxFuture<'a, AgentResult> {
        Box::pin(async move {
            let state = typed_state::<A::State>(parts.state);
            let mut ctx = Context::new(parts.call, parts.turn, state, parts.sink);
            match input {
                AgentInput::SessionStart(start) => self.0.on_session_start(&mut ctx, start).await,
                AgentInput::Utterance(utterance) => self.0.on_utterance(&mut ctx, utterance).await,
                AgentInput::Dtmf(dtmf) => self.0.on_dtmf(&mut ctx, dtmf).await,
                AgentInput::Event(event) => self.0.on_event(&mut ctx, event).await,
            }
        })
    }

    fn audio<'a>(
        &'a self,
        parts: Parts<'a>,
        frame: AudioFrame<'a>,
    ) -> BoxFuture<'a, AgentResult<()>> {
        Box::pin(async move {
            let state = typed_state::<A::State>(parts.state);
            let mut ctx = Context::new(parts.call, parts.turn, state, parts.sink);
            self.0.on_audio(&mut ctx, frame).await
        })
    }

    fn end<'a>(&'a self, parts: Parts<'a>, end: SessionEnd) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let state = typed_state::<A::State>(parts.state);
            let mut ctx = Context::new(parts.call, parts.turn, state, parts.sink);
            self.0.on_session_end(&mut ctx, end).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_error_converts_and_prints_its_chain() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("tts failed")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let err = AgentError::from(Outer(std::io::Error::other("socket closed")));
        assert_eq!(err.to_string(), "tts failed: socket closed");
        let err: AgentError = "plain".into();
        assert_eq!(err.to_string(), "plain");
    }

    #[test]
    fn call_info_debug_hides_the_vendor_config() {
        let call = CallInfo::new(
            "conv".into(),
            "org".into(),
            "bot".into(),
            "api-key=secret".into(),
            HashMap::new(),
            false,
            Instant::now(),
        );
        let text = format!("{call:?}");
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("<14 bytes>"), "{text}");
        assert!(call.set_session_start(SessionStart::default()));
        assert!(!call.set_session_start(SessionStart::default()));
    }
}
