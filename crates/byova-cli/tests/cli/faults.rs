//! SIGTERM under load: a real `byova serve --no-auth --port 0` with fifty calls in the middle of
//! an utterance receives SIGTERM. New calls are refused at once (nothing reaches the agent),
//! every turn that was running completes with OK and its full reply, the server ends the calls
//! itself (`reason=shutdown`), exits 0, and nothing panics.

use std::sync::Arc;

use byova::media::audio::{AudioEncoding, MULAW_SILENCE};
use byova::media::client::{Caller, Code, EventType, ResponseType, TurnResult, has_event};
use tokio::sync::{Barrier, watch};
use tokio::task::JoinSet;

use crate::support::{DEADLINE, byova, fixture};

/// Calls in flight when SIGTERM arrives.
const CALLS: usize = 50;
/// Connections they share (as Webex spreads calls over a few).
const CONNECTIONS: usize = 10;
/// `yes.wav` has speech in frames 40 to 61 (20 ms each): this many frames end mid-word.
const FRAMES_BEFORE_SIGTERM: usize = 56;

/// `tests/fixtures/yes.wav` as 8 kHz μ-law, then two seconds of silence.
fn utterance() -> Vec<u8> {
    let mut mulaw = fixture("yes.wav");
    mulaw.extend(std::iter::repeat_n(MULAW_SILENCE, 2 * 8000));
    mulaw
}

async fn within<F: std::future::Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(DEADLINE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_finishes_running_turns_refuses_new_calls_and_exits_0() {
    let mut running = byova()
        .args([
            "-v",
            "serve",
            "--no-auth",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--detector",
            "energy",
        ])
        .env("WEBEX_MEDIA_SHUTDOWN_GRACE", "60")
        .spawn();
    let addr = running.listening_addr().await;
    let mut callers = Vec::new();
    for _ in 0..CONNECTIONS {
        callers.push(
            within("a connection", Caller::connect(format!("http://{addr}")))
                .await
                .expect("the client connects"),
        );
    }

    // Every call greets, then speaks until the server has heard the start of speech, and waits
    // there (mid-word) for the go-ahead.
    let speech = Arc::new(utterance());
    let in_flight = Arc::new(Barrier::new(CALLS + 1));
    let (go, go_rx) = watch::channel(false);
    let mut calls = JoinSet::new();
    for i in 0..CALLS {
        let call = callers[i % CONNECTIONS].call(format!("sigterm-{i}"));
        let speech = Arc::clone(&speech);
        let in_flight = Arc::clone(&in_flight);
        let mut go = go_rx.clone();
        calls.spawn(async move {
            let id = call.conversation_id().to_owned();
            let greeting = call.session_start("", Default::default()).await;
            assert!(greeting.is_ok(), "{id}: {:?}", greeting.status);
            assert!(!greeting.audio().is_empty(), "{id}");

            let mut turn = call.open_turn().await.expect("the RPC opens");
            let mut frames = speech.chunks(160).map(|frame| {
                call.audio_request(frame.to_vec().into(), AudioEncoding::Mulaw, 8000, "en-US")
            });
            for frame in frames.by_ref().take(FRAMES_BEFORE_SIGTERM) {
                turn.send(frame).await.expect("the turn is open");
            }
            let first = turn.next().await.expect("START_OF_INPUT");
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
            let result = turn.finish().await;
            (id, result)
        });
    }
    within("every call in flight", in_flight.wait()).await;

    running.terminate().await;
    running
        .stderr_until(|line| line.contains("shutting down: no new calls"))
        .await;

    // New calls are refused, on a connection that was open and on a new one. Which status the
    // caller sees depends on how far the shutdown got: UNAVAILABLE from the draining server, or,
    // once the connection stopped taking streams (GOAWAY) or closed, what tonic makes of that
    // (INTERNAL for a stream refused by GOAWAY, CANCELLED or UNAVAILABLE for a closed
    // connection). Either way nothing reached the agent (checked in the log below).
    let assert_refused = |refused: TurnResult| {
        assert!(
            [Code::Unavailable, Code::Cancelled, Code::Internal].contains(&refused.code()),
            "{:?}",
            refused.status
        );
        assert_eq!(refused.responses, []);
    };
    assert_refused(
        within(
            "a refusal",
            callers[0]
                .call("sigterm-new")
                .session_start("", Default::default()),
        )
        .await,
    );
    match within(
        "a new connection",
        Caller::connect(format!("http://{addr}")),
    )
    .await
    {
        Err(_) => {}
        Ok(caller) => assert_refused(
            within(
                "a refusal",
                caller
                    .call("sigterm-new-2")
                    .session_start("", Default::default()),
            )
            .await,
        ),
    }

    // The running turns finish in full within the grace period.
    go.send_replace(true);
    let mut finished = 0;
    while let Some(joined) = within("the running turns", calls.join_next()).await {
        let (id, result) = joined.expect("the call task");
        assert!(
            result.is_ok(),
            "{id}: a turn running at SIGTERM must complete: {:?}",
            result.status
        );
        let events: Vec<EventType> = result.responses.iter().flat_map(|r| r.events()).collect();
        assert_eq!(
            events,
            [EventType::StartOfInput, EventType::EndOfInput],
            "{id}"
        );
        assert!(!result.audio().is_empty(), "{id}: the reply was played");
        assert_eq!(
            result.last().map(|r| r.response_type()),
            Some(ResponseType::Final),
            "{id}"
        );
        assert!(
            result.responses.iter().all(|r| r
                .response
                .output_events
                .iter()
                .all(|e| e.name != "server_shutdown")),
            "{id}: the turn was cut short"
        );
        finished += 1;
    }
    assert_eq!(finished, CALLS);

    let outcome = running.finish().await;
    assert_eq!(outcome.code, 0, "{outcome:#?}");
    assert_eq!(
        outcome.stdout,
        format!("listening on {addr}\n"),
        "{outcome:#?}"
    );
    assert!(!outcome.stderr.contains("panicked"), "{}", outcome.stderr);
    assert!(!outcome.stderr.contains("ERROR"), "{}", outcome.stderr);
    // The server ended every call itself, once, after its running turn (counted from the demo
    // agent's log line; the server logs a "call ended" line of its own inside the call's span).
    let ended: Vec<&str> = outcome
        .stderr
        .lines()
        .filter(|line| line.contains("call ended conversation_id="))
        .collect();
    assert_eq!(ended.len(), CALLS, "{}", outcome.stderr);
    assert!(
        ended.iter().all(|line| line.contains("reason=shutdown")),
        "{ended:#?}"
    );
    assert!(
        !outcome.stderr.contains("sigterm-new"),
        "a refused call reached the agent: {}",
        outcome.stderr
    );
    for i in 0..CALLS {
        let id = format!("conversation_id=\"sigterm-{i}\"");
        assert_eq!(
            ended.iter().filter(|line| line.contains(&id)).count(),
            1,
            "sigterm-{i}: {ended:#?}"
        );
    }
}
