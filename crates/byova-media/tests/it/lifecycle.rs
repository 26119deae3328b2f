//! Calls over time and side by side: overlapping turns, cancel, many calls, the call limit,
//! idle reaping, the maximum duration, and graceful shutdown.

use std::time::Duration;

use byova_media::client::{Call, EventType, ResponseType, Turn};
use byova_media::proto::{self, VoiceVaResponse};
use byova_media::{MediaServerBuilder, SessionEndReason};
use tokio::task::JoinSet;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::support::{
    ANSWER, GREETING, Greeting, Seen, Setup, TestServer, fixture, messages, mulaw_frames, within,
};

/// Opens a turn and sends SESSION_START on it (no half-close).
async fn open_session_start(call: &Call) -> Turn {
    let mut turn = call.open_turn().await.expect("the RPC opens");
    turn.send(call.event_request(proto::event_input::EventType::SessionStart, "", None))
        .await
        .unwrap();
    turn
}

/// A server whose scripted agent streams part of its greeting, then waits for
/// [`Gates::greeting`](crate::support::Gates::greeting).
async fn blocked_greeting_server(
    configure: impl FnOnce(MediaServerBuilder) -> MediaServerBuilder,
) -> TestServer {
    let setup = Setup {
        greeting: Greeting::Blocked,
        ..Setup::default()
    };
    TestServer::start_with(setup, configure).await
}

/// Opens a greeting turn, half-closes it, and waits for the first greeting CHUNK (the blocked
/// greeting then waits for its gate).
async fn greeting_under_way(call: &Call) -> Turn {
    let mut rpc = open_session_start(call).await;
    rpc.half_close();
    let first = within("the first greeting chunk", rpc.next())
        .await
        .expect("a greeting chunk");
    assert_eq!(first.response_type(), ResponseType::Chunk);
    rpc
}

/// Sends a fixture as 20 ms frames followed by two seconds of silence, then half-closes.
async fn send_speech(call: &Call, turn: &mut Turn, name: &str) {
    let speech = mulaw_frames(call, &fixture(name));
    let silence = mulaw_frames(call, &[0xFF; 100 * 160]);
    for request in speech.into_iter().chain(silence) {
        if turn.send(request).await.is_err() {
            break;
        }
    }
    turn.half_close();
}

#[tokio::test]
async fn overlapping_turns_of_one_call_do_not_mix_their_outputs() {
    let t = blocked_greeting_server(|builder| builder).await;
    let call = t.call("overlap-1");
    // RPC 1: the greeting starts streaming, then the agent waits.
    let rpc1 = greeting_under_way(&call).await;

    // RPC 2 opens while the greeting still streams: the caller speaks (barge-in).
    let mut rpc2 = call.open_turn().await.unwrap();
    send_speech(&call, &mut rpc2, "yes.wav").await;
    let start = within("START_OF_INPUT on RPC 2", rpc2.next())
        .await
        .unwrap();
    assert_eq!(start.events(), vec![EventType::StartOfInput]);
    let end = within("END_OF_INPUT on RPC 2", rpc2.next()).await.unwrap();
    assert_eq!(end.events(), vec![EventType::EndOfInput]);

    // The greeting finishes; then the utterance is answered on RPC 2.
    t.gates.greeting.notify_one();
    let greeting = within("RPC 1", rpc1.finish()).await;
    let answer = within("RPC 2", rpc2.finish()).await;
    assert!(greeting.is_ok() && answer.is_ok());
    assert_eq!(
        greeting.audio(),
        GREETING,
        "RPC 1 carries the greeting only"
    );
    assert!(
        greeting
            .responses
            .iter()
            .all(|r| r.response.output_events.is_empty()),
        "no endpointing event leaked into RPC 1"
    );
    assert_eq!(
        greeting.last().unwrap().response_type(),
        ResponseType::Final
    );
    assert_eq!(answer.audio(), ANSWER, "RPC 2 carries the answer only");
    assert_eq!(
        answer.response_types(),
        vec![
            ResponseType::Final,
            ResponseType::Chunk,
            ResponseType::Chunk,
            ResponseType::Final
        ]
    );
}

#[tokio::test]
async fn a_client_cancel_cleans_up_and_tells_the_agent() {
    let mut t = blocked_greeting_server(|builder| builder).await;
    let call = t.call("cancel-1");
    let mut rpc = open_session_start(&call).await;
    within("the first greeting chunk", rpc.next())
        .await
        .unwrap();
    assert_eq!(t.server().live_calls(), 1);
    drop(rpc);
    let (reason, _) = t.session_end_of("cancel-1").await;
    assert_eq!(reason, SessionEndReason::Cancelled);
    t.wait_no_calls().await;
    assert!(
        t.server()
            .metrics_text()
            .contains("byova_media_calls_ended_total{reason=\"cancelled\"} 1")
    );
}

#[tokio::test]
async fn a_hundred_concurrent_calls() {
    let mut t = TestServer::start().await;
    let mut calls = JoinSet::new();
    for i in 0..100 {
        let call = t.call(&format!("many-{i}"));
        calls.spawn(async move {
            let greeting = call.session_start("", Default::default()).await;
            let dtmf = call.dtmf("1").await;
            let end = call.session_end().await;
            (greeting, dtmf, end)
        });
    }
    let mut done = 0;
    while let Some(joined) = within("100 calls", calls.join_next()).await {
        let (greeting, dtmf, end) = joined.unwrap();
        assert!(greeting.is_ok() && dtmf.is_ok() && end.is_ok());
        assert_eq!(greeting.audio(), GREETING);
        assert_eq!(dtmf.responses.len(), 1);
        assert_eq!(end.responses.len(), 1);
        assert_eq!(end.responses[0].response, VoiceVaResponse::default());
        done += 1;
    }
    assert_eq!(done, 100);
    t.wait_no_calls().await;
    let mut ended = 0;
    while ended < 100 {
        if let Seen::SessionEnd { reason, .. } = t.next_seen().await {
            assert_eq!(reason, SessionEndReason::CallerEnded);
            ended += 1;
        }
    }
    assert!(
        t.server()
            .metrics_text()
            .contains("byova_media_calls_started_total 100")
    );
}

#[tokio::test]
async fn over_the_call_limit_is_resource_exhausted_at_once() {
    let t = TestServer::start_with(Setup::default(), |builder| builder.max_calls(2)).await;
    let a = t.call("limit-a");
    let b = t.call("limit-b");
    assert!(a.session_start("", Default::default()).await.is_ok());
    assert!(b.session_start("", Default::default()).await.is_ok());
    let refused = t
        .call("limit-c")
        .session_start("", Default::default())
        .await;
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(
        refused.status.message().contains("limit is 2"),
        "{:?}",
        refused.status
    );
    assert!(refused.responses.is_empty());
    // Turns of live calls still work.
    assert!(a.dtmf("1").await.is_ok());
    a.session_end().await;
    within("a free slot", t.server().wait_live_calls_at_most(1)).await;
    assert!(
        t.call("limit-c")
            .session_start("", Default::default())
            .await
            .is_ok()
    );
    assert!(
        t.server()
            .metrics_text()
            .contains("byova_media_calls_rejected_total 1")
    );
}

#[tokio::test]
async fn idle_calls_are_reaped_and_a_late_rpc_learns_the_session_ended() {
    let mut t = TestServer::start_with(Setup::default(), |builder| {
        builder
            .idle_timeout(Duration::from_millis(300))
            .reap_interval(Duration::from_millis(20))
    })
    .await;
    let call = t.call("idle-1");
    call.session_start("", Default::default()).await;
    t.wait_no_calls().await;
    let (reason, _) = t.session_end_of("idle-1").await;
    assert_eq!(reason, SessionEndReason::IdleTimeout);

    let late = call.dtmf("1").await;
    assert!(late.is_ok());
    assert_eq!(late.responses.len(), 1);
    let response = &late.responses[0].response;
    assert_eq!(response.response_type, 0);
    assert_eq!(response.output_events.len(), 1);
    assert_eq!(
        response.output_events[0].event_type,
        EventType::SessionEnd as i32
    );
    assert_eq!(response.output_events[0].name, "idle_timeout");
    assert_eq!(t.server().live_calls(), 0, "the late RPC opened no call");
    // Webex was told once; a further RPC gets an empty answer.
    let later = call.dtmf("1").await;
    assert_eq!(later.responses[0].response, VoiceVaResponse::default());
}

#[tokio::test]
async fn the_maximum_call_duration_ends_a_running_turn_with_session_end() {
    let mut t = blocked_greeting_server(|builder| {
        builder
            .max_call_duration(Some(Duration::from_millis(400)))
            .reap_interval(Duration::from_millis(20))
    })
    .await;
    let call = t.call("long-1");
    let rpc = open_session_start(&call).await;
    let result = within("the ended turn", rpc.finish()).await;
    assert!(result.is_ok(), "{:?}", result.status);
    let last = result.last().unwrap();
    assert_eq!(last.response_type(), ResponseType::Final);
    assert_eq!(last.events(), vec![EventType::SessionEnd]);
    assert_eq!(
        last.response.output_events[0].name,
        "max_call_duration_exceeded"
    );
    let (reason, _) = t.session_end_of("long-1").await;
    assert_eq!(reason, SessionEndReason::MaxDuration);
    t.wait_no_calls().await;
}

#[tokio::test]
async fn graceful_shutdown_lets_running_turns_finish() {
    let mut t =
        blocked_greeting_server(|builder| builder.shutdown_grace(Duration::from_secs(60))).await;
    let mut watch = t.health_watch().await;
    let status = within("health", watch.message()).await.unwrap().unwrap();
    assert_eq!(status.status, ServingStatus::Serving as i32);

    // A call between turns, and a call whose greeting is still running.
    let idle = t.call("drain-idle");
    idle.dtmf("1").await;
    let running = t.call("drain-running");
    let rpc = greeting_under_way(&running).await;

    let server = t.server.take().unwrap();
    let handle = server.shutdown_handle();
    handle.shutdown();
    let status = within("NOT_SERVING", watch.message())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.status, ServingStatus::NotServing as i32);
    drop(watch);
    // No new calls.
    let refused = t
        .call("drain-new")
        .session_start("", Default::default())
        .await;
    assert!(!refused.is_ok());
    assert!(refused.responses.is_empty(), "{:?}", refused.responses);

    // The running greeting completes in full.
    t.gates.greeting.notify_one();
    let greeting = within("the greeting", rpc.finish()).await;
    assert!(greeting.is_ok(), "{:?}", greeting.status);
    assert_eq!(greeting.audio(), GREETING);
    within("the server to stop", server.wait()).await.unwrap();
    let mut reasons = Vec::new();
    while reasons.len() < 2 {
        if let Seen::SessionEnd {
            conversation_id,
            reason,
            ..
        } = t.next_seen().await
        {
            reasons.push((conversation_id, reason));
        }
    }
    reasons.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        reasons,
        vec![
            ("drain-idle".to_owned(), SessionEndReason::Shutdown),
            ("drain-running".to_owned(), SessionEndReason::Shutdown),
        ]
    );
}

#[tokio::test]
async fn after_the_grace_period_running_turns_are_ended_with_the_shutdown_reply() {
    let mut t =
        blocked_greeting_server(|builder| builder.shutdown_grace(Duration::from_millis(200))).await;
    let call = t.call("grace-1");
    let rpc = greeting_under_way(&call).await;
    let server = t.server.take().unwrap();
    let stopping = tokio::spawn(server.shutdown());
    let result = within("the ended turn", rpc.finish()).await;
    assert!(result.is_ok());
    let last = result.last().unwrap();
    assert_eq!(last.response_type(), ResponseType::Final);
    assert_eq!(last.events(), vec![EventType::TransferToAgent]);
    assert_eq!(last.response.output_events[0].name, "server_shutdown");
    assert_eq!(
        last.response.prompts[0].text,
        "I'm sorry, something went wrong."
    );
    within("the server to stop", stopping)
        .await
        .unwrap()
        .unwrap();
    let (reason, _) = t.session_end_of("grace-1").await;
    assert_eq!(reason, SessionEndReason::Shutdown);
}

#[tokio::test]
async fn a_hang_up_on_another_rpc_ends_a_streaming_turn_with_a_final() {
    let mut t = blocked_greeting_server(|builder| builder).await;
    let call = t.call("hangup-mid-1");
    let rpc = greeting_under_way(&call).await;
    // The caller hangs up while the greeting still streams.
    let hangup = call.session_end().await;
    assert_eq!(messages(&hangup), vec![VoiceVaResponse::default()]);
    let greeting = within("the cut greeting", rpc.finish()).await;
    assert!(greeting.is_ok(), "{:?}", greeting.status);
    assert_eq!(
        greeting.response_types(),
        vec![ResponseType::Chunk, ResponseType::Final],
        "the streamed chunk, then a closing FINAL"
    );
    assert_eq!(
        greeting.last().unwrap().response,
        VoiceVaResponse::default()
    );
    let (reason, _) = t.session_end_of("hangup-mid-1").await;
    assert_eq!(reason, SessionEndReason::CallerEnded);
    t.wait_no_calls().await;
}
