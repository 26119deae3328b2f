//! Closing connections on shutdown loses no reply: fifty calls spread over ten connections are
//! mid-word when the server is asked to shut down; each caller then finishes its utterance the
//! way Webex does (keeps sending audio while reading, stops at END_OF_INPUT, half-closes). The
//! server closes each connection once its last turn is done, while audio the caller sent
//! before it saw END_OF_INPUT is still arriving; every turn must still complete with OK and its
//! full reply (a connection closed with unread data is reset by the kernel, and the caller then
//! loses the reply bytes it had not read yet).

use std::sync::Arc;
use std::time::Duration;

use byova_media::SessionEndReason;
use byova_media::client::{Caller, EventType, ResponseType, has_event};
use tokio::sync::{Barrier, watch};
use tokio::task::JoinSet;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::support::{ANSWER, GREETING, Seen, Setup, TestServer, fixture, mulaw_frames, within};

/// Calls in flight when shutdown is requested.
const CALLS: usize = 50;
/// Connections they share (Webex spreads calls over a few).
const CONNECTIONS: usize = 10;
/// How often the scenario runs (each time with a new server): whether a reset overtakes a reply
/// depends on timing, so one round alone may miss the loss.
const ROUNDS: usize = 3;
/// `yes.wav` has speech in frames 40 to 61 (20 ms each): this many frames end mid-word.
const FRAMES_BEFORE_SHUTDOWN: usize = 56;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_while_callers_still_send_audio_loses_no_reply() {
    for round in 0..ROUNDS {
        shutdown_round(round).await;
    }
}

/// One server, fifty calls mid-word, a shutdown, and every running turn checked.
async fn shutdown_round(round: usize) {
    let mut t = TestServer::start_with(Setup::default(), |builder| {
        builder.shutdown_grace(Duration::from_secs(60))
    })
    .await;
    let addr = t.server().local_addr();
    let mut callers = Vec::new();
    for _ in 0..CONNECTIONS {
        callers.push(
            within("a connection", Caller::connect(format!("http://{addr}")))
                .await
                .expect("the client connects"),
        );
    }
    let mut speech = fixture("yes.wav");
    speech.extend(std::iter::repeat_n(0xFF_u8, 2 * 8000));
    let speech = Arc::new(speech);

    // Every call greets, then speaks until the server has heard the start of speech, and waits
    // there (mid-word) for the go-ahead.
    let in_flight = Arc::new(Barrier::new(CALLS + 1));
    let (go, go_rx) = watch::channel(false);
    let mut calls = JoinSet::new();
    for i in 0..CALLS {
        let call = callers[i % CONNECTIONS].call(format!("linger-{round}-{i}"));
        let speech = Arc::clone(&speech);
        let in_flight = Arc::clone(&in_flight);
        let mut go = go_rx.clone();
        calls.spawn(async move {
            let id = call.conversation_id().to_owned();
            let greeting = call.session_start("", Default::default()).await;
            assert!(greeting.is_ok(), "{id}: {:?}", greeting.status);
            assert_eq!(greeting.audio(), GREETING, "{id}");

            let mut turn = call.open_turn().await.expect("the RPC opens");
            let mut frames = mulaw_frames(&call, &speech).into_iter();
            for frame in frames.by_ref().take(FRAMES_BEFORE_SHUTDOWN) {
                turn.send(frame).await.expect("the turn is open");
            }
            let first = within("START_OF_INPUT", turn.next())
                .await
                .expect("START_OF_INPUT");
            assert!(
                has_event(&first.response, EventType::StartOfInput),
                "{id}: {first:?}"
            );
            in_flight.wait().await;

            go.wait_for(|go| *go).await.expect("the go-ahead");
            // As Webex does: keep sending while reading, stop at END_OF_INPUT, half-close.
            let mut sending = true;
            while sending {
                tokio::select! {
                    biased;
                    response = turn.next() => match response {
                        Some(response) => {
                            sending = !has_event(&response.response, EventType::EndOfInput);
                        }
                        None => sending = false,
                    },
                    () = std::future::ready(()) => match frames.next() {
                        Some(frame) => sending = turn.send(frame).await.is_ok(),
                        None => sending = false,
                    },
                }
            }
            (id, turn.finish().await)
        });
    }
    within("every call in flight", in_flight.wait()).await;

    // Shut down, and wait until the server drains (it reports NOT_SERVING).
    let mut watch = t.health_watch().await;
    let server = t.server.take().unwrap();
    server.shutdown_handle().shutdown();
    loop {
        let status = within("NOT_SERVING", watch.message())
            .await
            .expect("the health stream")
            .expect("a health status");
        if status.status == ServingStatus::NotServing as i32 {
            break;
        }
    }
    drop(watch);

    // The running turns finish in full.
    go.send_replace(true);
    let mut finished = 0;
    while let Some(joined) = within("the running turns", calls.join_next()).await {
        let (id, result) = joined.expect("the call task");
        assert!(
            result.is_ok(),
            "{id}: a turn running at shutdown must complete: {:?}",
            result.status
        );
        let events: Vec<EventType> = result.responses.iter().flat_map(|r| r.events()).collect();
        assert_eq!(
            events,
            [EventType::StartOfInput, EventType::EndOfInput],
            "{id}"
        );
        assert_eq!(result.audio(), ANSWER, "{id}: the whole reply arrived");
        assert_eq!(
            result.last().map(|r| r.response_type()),
            Some(ResponseType::Final),
            "{id}"
        );
        finished += 1;
    }
    assert_eq!(finished, CALLS);
    within("the server to stop", server.wait())
        .await
        .expect("a clean stop");
    // The server then ended each call itself.
    let mut ended = 0;
    while ended < CALLS {
        if let Seen::SessionEnd { reason, .. } = t.next_seen().await {
            assert_eq!(reason, SessionEndReason::Shutdown);
            ended += 1;
        }
    }
}
