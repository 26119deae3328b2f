//! A thousand calls, fifty at a time, each cancelled (or not) at a point a seeded random number
//! generator picks: before the first message, mid-audio, right after END_OF_INPUT, mid-reply,
//! by dropping the response stream or the request sender, or by abandoning the whole call at a
//! random moment. Every turn the caller completes ends with OK and the exact messages, every
//! conversation ends exactly once with a reason the schedule allows, the live count returns to
//! zero, and a normal call works afterwards.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use byova_media::client::{Call, Caller, EventType, ResponseType, TurnResult, has_event};
use byova_media::proto::voice_virtual_agent_client::VoiceVirtualAgentClient;
use byova_media::proto::{VoiceVaRequest, VoiceVaResponse};
use byova_media::{
    AgentConfig, AgentResult, Audio, Context, Detector, Dtmf, MediaServer, Reply, RunningServer,
    SessionEnd, SessionEndReason, SessionStart, Utterance, VirtualAgent,
};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tonic::transport::Channel;

use super::{RawRpc, Rng, Tally, metric, proto_client};
use crate::support::{ANSWER, GREETING, fast, fixture, messages, mulaw_frames, within};

const CALLS: usize = 1_000;
const AT_ONCE: usize = 50;
const SEED: u64 = 0x0B10_7A5E_CA11_0001;
/// Bytes of the answer the agent streams before it holds (the mid-reply cancel point).
const STREAMED: usize = 600;

/// Where a call is cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Plan {
    /// No cancel: greeting, an utterance, DTMF, hang-up.
    Complete,
    /// A new call whose first RPC is cancelled before any message: no conversation exists.
    CancelFresh,
    /// After the greeting, an RPC cancelled before its first message: the call goes on.
    CancelBeforeFirstMessage,
    /// Cancelled once START_OF_INPUT arrived, before END_OF_INPUT.
    CancelMidSpeech,
    /// Cancelled after a random number of audio frames (before or during speech, or after it).
    CancelAfterFrames(usize),
    /// Cancelled once END_OF_INPUT arrived, while the agent thinks (it never answers).
    CancelAfterEndOfInput,
    /// Cancelled once the first streamed chunk of the reply arrived (the agent then holds).
    CancelMidReply,
    /// The request sender dropped after a random number of frames: a half-close, not a cancel.
    HalfCloseAfterFrames(usize),
    /// The whole call abandoned after a random number of milliseconds.
    AbandonAfter(u64),
}

impl Plan {
    fn pick(rng: &mut Rng, frames: usize) -> Self {
        match rng.below(9) {
            0 => Self::Complete,
            1 => Self::CancelFresh,
            2 => Self::CancelBeforeFirstMessage,
            3 => Self::CancelMidSpeech,
            4 => Self::CancelAfterFrames(1 + rng.below(frames as u64) as usize),
            5 => Self::CancelAfterEndOfInput,
            6 => Self::CancelMidReply,
            7 => Self::HalfCloseAfterFrames(1 + rng.below(frames as u64) as usize),
            _ => Self::AbandonAfter(rng.below(40)),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::CancelFresh => "cancel-fresh",
            Self::CancelBeforeFirstMessage => "cancel-before-first-message",
            Self::CancelMidSpeech => "cancel-mid-speech",
            Self::CancelAfterFrames(_) => "cancel-after-frames",
            Self::CancelAfterEndOfInput => "hold",
            Self::CancelMidReply => "stream-then-hold",
            Self::HalfCloseAfterFrames(_) => "half-close",
            Self::AbandonAfter(_) => "abandon",
        }
    }

    /// The session-end reasons this plan allows, and whether the conversation may not exist.
    fn allowed(self) -> (&'static [SessionEndReason], bool) {
        use SessionEndReason::{CallerEnded, Cancelled};
        match self {
            Self::Complete | Self::CancelBeforeFirstMessage | Self::HalfCloseAfterFrames(_) => {
                (&[CallerEnded], false)
            }
            Self::CancelFresh => (&[], true),
            Self::CancelMidSpeech | Self::CancelAfterEndOfInput | Self::CancelMidReply => {
                (&[Cancelled], false)
            }
            Self::CancelAfterFrames(_) => (&[Cancelled, CallerEnded], false),
            Self::AbandonAfter(_) => (&[Cancelled, CallerEnded], true),
        }
    }
}

/// Greets with [`GREETING`]; answers utterances with [`ANSWER`], except in the calls the test
/// cancels mid-turn: there it never answers (so only the cancel can end the turn), or, for
/// `stream-then-hold`, streams [`STREAMED`] bytes and then never finishes. Answers DTMF with
/// "ok"; records every session end.
struct Counting {
    tally: Arc<Tally>,
}

impl VirtualAgent for Counting {
    type State = ();

    async fn on_session_start(&self, _: &mut Context<'_, ()>, _: SessionStart) -> AgentResult {
        Ok(Reply::play(Audio::mulaw(GREETING.to_vec())))
    }

    async fn on_utterance(&self, ctx: &mut Context<'_, ()>, _: Utterance) -> AgentResult {
        let id = ctx.conversation_id().to_owned();
        if id.ends_with(Plan::CancelMidReply.name()) {
            ctx.sink().send_mulaw(&ANSWER[..STREAMED]).await?;
            return std::future::pending().await;
        }
        let holds = [
            Plan::CancelMidSpeech,
            Plan::CancelAfterFrames(0),
            Plan::CancelAfterEndOfInput,
        ];
        if holds.iter().any(|plan| id.ends_with(plan.name())) {
            return std::future::pending().await;
        }
        Ok(Reply::play(Audio::mulaw(ANSWER.to_vec())))
    }

    async fn on_dtmf(&self, _: &mut Context<'_, ()>, _: Dtmf) -> AgentResult {
        Ok(Reply::say("ok"))
    }

    async fn on_session_end(&self, ctx: &mut Context<'_, ()>, end: SessionEnd) {
        self.tally.record(ctx.conversation_id(), end.reason);
    }
}

/// What every call task shares.
struct Fixture {
    caller: Caller,
    client: VoiceVirtualAgentClient<Channel>,
    tally: Arc<Tally>,
    /// `yes.wav` then three seconds of silence, as 20 ms audio frames.
    speech: Vec<u8>,
}

impl Fixture {
    fn call(&self, id: &str) -> Call {
        self.caller.call(id).customer_org_id("org-faults")
    }

    /// The audio requests of one utterance for `call`.
    fn frames(&self, call: &Call) -> Vec<VoiceVaRequest> {
        mulaw_frames(call, &self.speech)
    }
}

async fn start_server(tally: &Arc<Tally>) -> RunningServer {
    MediaServer::builder()
        .addr("127.0.0.1:0".parse().unwrap())
        .disable_authentication()
        .detector(Detector::Energy)
        .agent(AgentConfig::new(
            "bot",
            Counting {
                tally: Arc::clone(tally),
            },
        ))
        .build()
        .expect("valid configuration")
        .bind()
        .await
        .expect("the server binds")
}

fn assert_greeting(result: &TurnResult, id: &str) {
    assert!(result.is_ok(), "{id}: greeting {:?}", result.status);
    assert_eq!(result.audio(), GREETING, "{id}");
    assert_eq!(
        result.last().map(|r| r.response_type()),
        Some(ResponseType::Final),
        "{id}"
    );
}

fn assert_answered(result: &TurnResult, id: &str) {
    assert!(result.is_ok(), "{id}: utterance {:?}", result.status);
    assert!(
        result.first_event(EventType::StartOfInput).is_some(),
        "{id}"
    );
    assert!(result.first_event(EventType::EndOfInput).is_some(), "{id}");
    assert_eq!(result.audio(), ANSWER, "{id}");
    assert_eq!(
        result.last().map(|r| r.response_type()),
        Some(ResponseType::Final),
        "{id}"
    );
}

/// Hangs up; whether the conversation is live, already ended or unknown, the answer is one empty
/// FINAL.
async fn hang_up(call: &Call) {
    let id = call.conversation_id().to_owned();
    let result = within(&format!("{id}: hang-up"), call.session_end()).await;
    assert!(result.is_ok(), "{id}: hang-up {:?}", result.status);
    assert_eq!(
        messages(&result),
        [VoiceVaResponse::default()],
        "{id}: hang-up"
    );
}

/// Sends audio frames on `rpc` until a response satisfies `stop` (reading responses as they
/// come, as Webex does); never half-closes. Returns the responses read.
async fn speak_until(
    rpc: &mut RawRpc,
    frames: Vec<VoiceVaRequest>,
    stop: impl Fn(&VoiceVaResponse) -> bool,
) -> Vec<VoiceVaResponse> {
    let tx = rpc.tx.clone().expect("open");
    let rx = rpc.rx.as_mut().expect("open");
    let mut frames = frames.into_iter();
    let mut seen = Vec::new();
    within("the stop response", async {
        loop {
            tokio::select! {
                biased;
                message = rx.message() => {
                    let response = message
                        .expect("the RPC is still running")
                        .expect("the RPC does not end before the stop response");
                    let done = stop(&response);
                    seen.push(response);
                    if done {
                        return;
                    }
                }
                permit = tx.reserve(), if frames.len() > 0 => {
                    permit.expect("open").send(frames.next().expect("a frame left"));
                }
            }
        }
    })
    .await;
    seen
}

/// Runs one call according to its plan, asserting every outcome the caller sees.
async fn run_call(fx: Arc<Fixture>, i: usize, plan: Plan) {
    let id = format!("call-{i}-{}", plan.name());
    let call = fx.call(&id);
    match plan {
        Plan::Complete => {
            assert_greeting(&call.session_start("", Default::default()).await, &id);
            assert_answered(&call.speak(&fx.speech, &fast()).await, &id);
            let dtmf = call.dtmf("1").await;
            assert!(dtmf.is_ok(), "{id}: {:?}", dtmf.status);
            assert_eq!(dtmf.responses.len(), 1, "{id}");
            assert_eq!(dtmf.responses[0].response.prompts[0].text, "ok", "{id}");
            hang_up(&call).await;
        }
        Plan::CancelFresh => {
            let mut rpc = RawRpc::open(&fx.client).await;
            rpc.cancel();
            hang_up(&call).await;
        }
        Plan::CancelBeforeFirstMessage => {
            assert_greeting(&call.session_start("", Default::default()).await, &id);
            let mut rpc = RawRpc::open(&fx.client).await;
            rpc.cancel();
            // The call goes on: DTMF is answered.
            let dtmf = call.dtmf("1").await;
            assert!(dtmf.is_ok(), "{id}: {:?}", dtmf.status);
            assert_eq!(dtmf.responses.len(), 1, "{id}");
            hang_up(&call).await;
        }
        Plan::CancelMidSpeech | Plan::CancelAfterEndOfInput | Plan::CancelMidReply => {
            assert_greeting(&call.session_start("", Default::default()).await, &id);
            let mut rpc = RawRpc::open(&fx.client).await;
            let seen = speak_until(&mut rpc, fx.frames(&call), |response| match plan {
                Plan::CancelMidSpeech => has_event(response, EventType::StartOfInput),
                Plan::CancelAfterEndOfInput => has_event(response, EventType::EndOfInput),
                _ => response.prompts.iter().any(|p| !p.audio_content.is_empty()),
            })
            .await;
            if plan == Plan::CancelMidSpeech {
                assert_eq!(seen.len(), 1, "{id}: START_OF_INPUT comes first");
            }
            if plan == Plan::CancelMidReply {
                let streamed: Vec<u8> = seen
                    .iter()
                    .flat_map(|r| r.prompts.iter().flat_map(|p| p.audio_content.to_vec()))
                    .collect();
                // The first streamed chunk (the sink may cut the streamed bytes in several).
                assert!(
                    !streamed.is_empty()
                        && streamed.len() <= STREAMED
                        && streamed[..] == ANSWER[..streamed.len()],
                    "{id}: {} bytes streamed",
                    streamed.len()
                );
            }
            rpc.cancel();
            assert_eq!(
                fx.tally.ended(&id).await,
                SessionEndReason::Cancelled,
                "{id}: a cancel ends the call"
            );
            hang_up(&call).await;
        }
        Plan::CancelAfterFrames(count) => {
            assert_greeting(&call.session_start("", Default::default()).await, &id);
            let mut rpc = RawRpc::open(&fx.client).await;
            for frame in fx.frames(&call).into_iter().take(count) {
                if !rpc.send(frame).await {
                    break;
                }
            }
            rpc.cancel();
            hang_up(&call).await;
        }
        Plan::HalfCloseAfterFrames(count) => {
            assert_greeting(&call.session_start("", Default::default()).await, &id);
            let mut rpc = RawRpc::open(&fx.client).await;
            for frame in fx.frames(&call).into_iter().take(count) {
                if !rpc.send(frame).await {
                    break;
                }
            }
            rpc.half_close();
            let mut messages = Vec::new();
            while let Some(message) = rpc.next().await {
                messages.push(message);
            }
            // Either no speech was heard yet (nothing to say), or the utterance was cut by the
            // half-close (or had ended already) and is answered in full.
            if !messages.is_empty() {
                assert!(has_event(&messages[0], EventType::StartOfInput), "{id}");
                assert!(has_event(&messages[1], EventType::EndOfInput), "{id}");
                let audio: Vec<u8> = messages
                    .iter()
                    .flat_map(|r| r.prompts.iter().flat_map(|p| p.audio_content.to_vec()))
                    .collect();
                assert_eq!(audio, ANSWER, "{id}");
                assert_eq!(
                    messages.last().map(|r| r.response_type),
                    Some(ResponseType::Final as i32),
                    "{id}"
                );
            }
            hang_up(&call).await;
        }
        Plan::AbandonAfter(ms) => {
            let whole_call = async {
                call.session_start("", Default::default()).await;
                call.speak(&fx.speech, &fast()).await;
                call.dtmf("1").await;
            };
            let _ = tokio::time::timeout(Duration::from_millis(ms), whole_call).await;
            hang_up(&call).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_calls_cancelled_at_random_points_all_end_cleanly() {
    let tally = Arc::new(Tally::default());
    let server = start_server(&tally).await;
    let caller = Caller::connect(format!("http://{}", server.local_addr()))
        .await
        .expect("connect");
    let mut speech = fixture("yes.wav");
    speech.extend(std::iter::repeat_n(0xFF_u8, 3 * 8000));
    let frames = speech.len().div_ceil(160);
    let fx = Arc::new(Fixture {
        caller,
        client: proto_client(&server).await,
        tally: Arc::clone(&tally),
        speech,
    });

    let mut rng = Rng::new(SEED);
    let plans: Vec<Plan> = (0..CALLS).map(|_| Plan::pick(&mut rng, frames)).collect();
    let slots = Arc::new(Semaphore::new(AT_ONCE));
    let mut calls = JoinSet::new();
    for (i, plan) in plans.iter().copied().enumerate() {
        let slot = Arc::clone(&slots).acquire_owned().await.expect("open");
        let fx = Arc::clone(&fx);
        calls.spawn(async move {
            run_call(fx, i, plan).await;
            drop(slot);
        });
        // Surface a failed call at once rather than after the thousand.
        while let Some(done) = calls.try_join_next() {
            done.expect("the call's assertions hold");
        }
    }
    while let Some(done) = within("the remaining calls", calls.join_next()).await {
        done.expect("the call's assertions hold");
    }

    // Every conversation is gone, and its agent was told exactly once, with an allowed reason.
    within("no live calls", server.wait_live_calls_at_most(0)).await;
    assert_eq!(server.live_calls(), 0);
    let ends = tally.all();
    let mut by_reason: HashMap<&'static str, u64> = HashMap::new();
    let mut by_plan: HashMap<&'static str, usize> = HashMap::new();
    for (i, plan) in plans.iter().copied().enumerate() {
        *by_plan.entry(plan.name()).or_default() += 1;
        let id = format!("call-{i}-{}", plan.name());
        let reasons = ends.get(&id).cloned().unwrap_or_default();
        let (allowed, may_not_exist) = plan.allowed();
        match reasons.as_slice() {
            [] => assert!(
                may_not_exist,
                "{id}: the agent was never told the call ended"
            ),
            [reason] => {
                assert!(allowed.contains(reason), "{id}: ended as {reason:?}");
                *by_reason.entry(reason.as_str()).or_default() += 1;
            }
            more => panic!("{id}: the agent was told {} times: {more:?}", more.len()),
        }
    }
    assert_eq!(
        ends.len(),
        ends.values().map(Vec::len).sum::<usize>(),
        "no conversation outside the schedule ended"
    );
    // Every plan ran a fair number of times.
    for plan in by_plan.values() {
        assert!(*plan > CALLS / 20, "{by_plan:?}");
    }

    // The server's own books agree: as many calls started as ended, by the same reasons, and
    // no agent failed.
    let metrics = server.metrics_text();
    let started = metric(&metrics, "byova_media_calls_started_total");
    assert_eq!(started.get(""), Some(&(ends.len() as u64)), "{metrics}");
    let ended = metric(&metrics, "byova_media_calls_ended_total");
    for (reason, count) in &by_reason {
        assert_eq!(
            ended.get(&format!("{{reason=\"{reason}\"}}")),
            Some(count),
            "{reason}: {metrics}"
        );
    }
    assert_eq!(ended.values().sum::<u64>(), ends.len() as u64, "{metrics}");
    let failures = metric(&metrics, "byova_media_agent_failures_total");
    assert!(failures.values().all(|n| *n == 0), "{failures:?}");

    // A normal call afterwards works.
    let call = fx.call("after-the-storm");
    assert_greeting(&call.session_start("", Default::default()).await, "after");
    assert_answered(&call.speak(&fx.speech, &fast()).await, "after");
    hang_up(&call).await;
    assert_eq!(
        tally.ended("after-the-storm").await,
        SessionEndReason::CallerEnded
    );
    within("the server to stop", server.shutdown())
        .await
        .expect("the server stops cleanly");
}
