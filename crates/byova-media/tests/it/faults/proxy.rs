//! The WebSocket proxy's backend failing mid-call, through a real media server and caller: a
//! backend that drops the socket while a turn waits for its answer, that drops it mid-utterance
//! and comes back (the proxy reconnects and replays the session), that drops it and stays away,
//! or that never answers. Each call ends the way the failure policy says (or carries on after
//! the reconnect), and the server keeps serving.

use std::time::Duration;

use byova_media::client::{Call, Caller, EventType, ResponseType, TurnResult};
use byova_media::proto::{self, VoiceVaResponse};
use byova_media::proxy::WebSocketProxy;
use byova_media::{
    AgentConfig, Detector, FailureAction, FailurePolicy, MediaServer, Prompt, RunningServer,
};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::metric;
use crate::support::{fast, fixture, messages, mulaw_frames, object, within};

/// The backend's side: a WebSocket server on 127.0.0.1 the test drives by hand.
struct Backend {
    listener: TcpListener,
    url: String,
}

impl Backend {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("ws://{}/bot", listener.local_addr().expect("addr"));
        Self { listener, url }
    }

    async fn accept(&self) -> Peer {
        let (stream, _) = within("the proxy to connect", self.listener.accept())
            .await
            .expect("accept");
        Peer {
            ws: within(
                "the WebSocket handshake",
                tokio_tungstenite::accept_async(stream),
            )
            .await
            .expect("handshake"),
        }
    }
}

/// One connection from the proxy.
struct Peer {
    ws: WebSocketStream<TcpStream>,
}

impl Peer {
    /// The next message from the proxy, as JSON.
    async fn recv(&mut self) -> Value {
        loop {
            let frame = within("a message from the proxy", self.ws.next())
                .await
                .expect("the connection is open")
                .expect("a frame");
            match frame {
                Message::Text(text) => return serde_json::from_str(&text).expect("JSON"),
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// Skips streamed audio until a message of another kind, or the end of the utterance.
    async fn recv_past_audio(&mut self) -> Value {
        loop {
            let message = self.recv().await;
            if message["type"] != "audio_input" || message["payload"]["is_final"] == true {
                return message;
            }
        }
    }

    async fn send(&mut self, value: Value) {
        self.ws
            .send(Message::text(value.to_string()))
            .await
            .expect("send");
    }

    async fn prompt(&mut self, text: &str) {
        self.send(json!({"type": "prompt", "payload": {"text": text}}))
            .await;
    }

    /// Drops the connection without a close frame (the TCP connection is reset).
    fn drop_hard(self) {
        self.ws.get_ref().set_zero_linger().expect("linger");
        drop(self.ws);
    }
}

async fn start_server(backend_url: &str, policy: FailurePolicy) -> (RunningServer, Caller) {
    let proxy = WebSocketProxy::new(backend_url)
        .expect("url")
        .response_timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(5))
        .reconnect(2, Duration::from_millis(10));
    let server = MediaServer::builder()
        .addr("127.0.0.1:0".parse().unwrap())
        .disable_authentication()
        .detector(Detector::Energy)
        .on_failure(policy)
        .agent(AgentConfig::new("proxy", proxy))
        .build()
        .expect("valid configuration")
        .bind()
        .await
        .expect("bind");
    let caller = Caller::connect(format!("http://{}", server.local_addr()))
        .await
        .expect("connect");
    (server, caller)
}

/// Greets `call` through a new backend connection that answers "Welcome".
async fn greeted(call: &Call, backend: &Backend) -> Peer {
    let (greeting, peer) = tokio::join!(
        call.session_start("", object(&[("language", json!("en-US"))])),
        async {
            let mut peer = backend.accept().await;
            let start = peer.recv().await;
            assert_eq!(start["type"], "session_start");
            assert_eq!(start["conversation_id"], call.conversation_id());
            assert_eq!(start["payload"], json!({"language": "en-US"}));
            peer.prompt("Welcome").await;
            peer
        }
    );
    assert!(greeting.is_ok(), "{:?}", greeting.status);
    assert_eq!(last_text(&greeting), "Welcome");
    peer
}

fn last_text(result: &TurnResult) -> String {
    let last = result.last().expect("a response");
    assert_eq!(last.response_type(), ResponseType::Final);
    last.response
        .prompts
        .first()
        .map(|prompt| prompt.text.clone())
        .unwrap_or_default()
}

/// The FINAL the failure policy prescribes, with its input settings taken from `actual` (they
/// are the agent's defaults, checked elsewhere).
fn policy_final(apology: &str, event: EventType, actual: &VoiceVaResponse) -> VoiceVaResponse {
    VoiceVaResponse {
        prompts: vec![proto::Prompt {
            text: apology.to_owned(),
            ..proto::Prompt::default()
        }],
        output_events: vec![proto::OutputEvent {
            event_type: event as i32,
            name: "agent_error".to_owned(),
            metadata: None,
        }],
        response_type: ResponseType::Final as i32,
        input_mode: actual.input_mode,
        input_handling_config: actual.input_handling_config,
        ..VoiceVaResponse::default()
    }
}

/// Checks that the turn ended OK with the policy's FINAL as its only message.
fn assert_only_policy_final(result: &TurnResult, apology: &str, event: EventType) {
    assert!(result.is_ok(), "{:?}", result.status);
    let messages = messages(result);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0], policy_final(apology, event, &messages[0]));
}

/// Waits until no call is live, then checks how many ended for `reason`.
async fn assert_ended(server: &RunningServer, reason: &str, count: u64) {
    within("no live calls", server.wait_live_calls_at_most(0)).await;
    let ended = metric(&server.metrics_text(), "byova_media_calls_ended_total");
    assert_eq!(
        ended.get(&format!("{{reason=\"{reason}\"}}")),
        Some(&count),
        "{ended:?}"
    );
}

/// The server keeps serving: a fresh call through a fresh backend connection, then a hang-up
/// the backend hears about.
async fn a_normal_call_works(caller: &Caller, backend: &Backend, id: &str) {
    let call = caller.call(id);
    let mut peer = greeted(&call, backend).await;
    let (dtmf, ()) = tokio::join!(call.dtmf("5"), async {
        let message = peer.recv().await;
        assert_eq!(message["type"], "dtmf_input");
        assert_eq!(message["payload"], json!({"digits": "5"}));
        peer.prompt("Five").await;
    });
    assert_eq!(last_text(&dtmf), "Five");
    let end = call.session_end().await;
    assert!(end.is_ok(), "{:?}", end.status);
    let message = peer.recv().await;
    assert_eq!(message["type"], "session_end");
    assert_eq!(message["payload"]["reason"], "caller_ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_drops_while_a_turn_waits_fails_the_call_per_the_policy() {
    let backend = Backend::start().await;
    let (server, caller) = start_server(&backend.url, FailurePolicy::default()).await;
    let call = caller.call("proxy-drop-1");
    let mut peer = greeted(&call, &backend).await;

    let (dtmf, ()) = tokio::join!(call.dtmf("1"), async {
        let message = peer.recv().await;
        assert_eq!(message["type"], "dtmf_input");
        assert_eq!(message["payload"], json!({"digits": "1"}));
        peer.drop_hard();
    });
    assert_only_policy_final(
        &dtmf,
        "I'm sorry, something went wrong.",
        EventType::TransferToAgent,
    );
    assert_ended(&server, "agent_failed", 1).await;
    // Webex was told: a late turn of the call learns nothing more.
    let late = call.dtmf("2").await;
    assert!(late.is_ok());
    assert_eq!(messages(&late), [VoiceVaResponse::default()]);

    a_normal_call_works(&caller, &backend, "proxy-after-drop").await;
    assert_ended(&server, "caller_ended", 1).await;
    within("the server to stop", server.shutdown())
        .await
        .expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_drops_mid_utterance_and_comes_back_gets_the_session_replayed() {
    let backend = Backend::start().await;
    let (server, caller) = start_server(&backend.url, FailurePolicy::default()).await;
    let call = caller.call("proxy-reconnect-1");
    let mut first = greeted(&call, &backend).await;

    // The caller starts speaking; the backend drops the socket as soon as the first audio
    // arrives, and only then does the rest of the utterance follow.
    let mut frames = mulaw_frames(&call, &fixture("yes.wav")).into_iter();
    let mut turn = call.open_turn().await.expect("the RPC opens");
    turn.send(frames.next().expect("a frame"))
        .await
        .expect("open");
    let audio = first.recv().await;
    assert_eq!(audio["type"], "audio_input");
    assert_eq!(audio["payload"]["is_final"], false);
    first.drop_hard();

    let (spoken, mut second) = tokio::join!(
        async {
            for frame in frames {
                if turn.send(frame).await.is_err() {
                    break;
                }
            }
            turn.finish().await
        },
        async {
            // The proxy reconnects and says which conversation this is before anything else.
            let mut second = backend.accept().await;
            let replay = second.recv().await;
            assert_eq!(replay["type"], "session_start");
            assert_eq!(replay["conversation_id"], "proxy-reconnect-1");
            assert_eq!(replay["turn_id"], "");
            assert_eq!(replay["payload"], json!({"language": "en-US"}));
            let end = second.recv_past_audio().await;
            assert_eq!(end["type"], "audio_input");
            assert_eq!(end["payload"]["is_final"], true);
            assert_eq!(end["payload"]["data"], "");
            second.prompt("Yes, noted").await;
            second
        }
    );
    assert!(spoken.is_ok(), "{:?}", spoken.status);
    assert!(spoken.first_event(EventType::StartOfInput).is_some());
    assert!(spoken.first_event(EventType::EndOfInput).is_some());
    assert_eq!(last_text(&spoken), "Yes, noted");

    // The call goes on over the new connection.
    let end = call.session_end().await;
    assert!(end.is_ok(), "{:?}", end.status);
    let message = second.recv().await;
    assert_eq!(message["type"], "session_end");
    assert_eq!(message["payload"]["reason"], "caller_ended");
    assert_ended(&server, "caller_ended", 1).await;
    within("the server to stop", server.shutdown())
        .await
        .expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_drops_and_stays_away_ends_the_call_per_the_policy() {
    let backend = Backend::start().await;
    let policy = FailurePolicy::new(
        Some(Prompt::text("Sorry, we have to stop here.")),
        FailureAction::EndSession,
    );
    let (server, caller) = start_server(&backend.url, policy).await;
    let call = caller.call("proxy-gone-1");
    let mut peer = greeted(&call, &backend).await;
    let url = backend.url.clone();

    let (speech, options) = (fixture("yes.wav"), fast());
    let (spoken, ()) = tokio::join!(call.speak(&speech, &options), async {
        let audio = peer.recv().await;
        assert_eq!(audio["type"], "audio_input");
        // The backend goes away for good: its port refuses connections from now on.
        drop(backend);
        peer.drop_hard();
    });
    assert!(spoken.is_ok(), "{:?}", spoken.status);
    // Whether the proxy fails while forwarding audio or when the utterance ends, the caller
    // hears the apology and the session ends; nothing but the endpointing events comes first.
    let messages = messages(&spoken);
    let (last, before) = messages.split_last().expect("a response");
    assert_eq!(
        *last,
        policy_final("Sorry, we have to stop here.", EventType::SessionEnd, last)
    );
    for response in before {
        assert!(response.prompts.is_empty(), "{response:?}");
        assert!(
            response.output_events.iter().all(|e| {
                e.event_type == EventType::StartOfInput as i32
                    || e.event_type == EventType::EndOfInput as i32
            }),
            "{response:?}"
        );
    }
    assert_ended(&server, "agent_failed", 1).await;

    // A new call finds no backend: its greeting fails the same way, and the server keeps
    // serving.
    let next = caller
        .call("proxy-gone-2")
        .session_start("", Default::default())
        .await;
    assert!(next.is_ok(), "{:?}", next.status);
    let last = &next.last().expect("a response").response;
    assert_eq!(
        *last,
        policy_final("Sorry, we have to stop here.", EventType::SessionEnd, last)
    );
    assert_ended(&server, "agent_failed", 2).await;

    // The backend is back (on the same port): calls work again.
    let backend = Backend {
        listener: TcpListener::bind(url.trim_start_matches("ws://").trim_end_matches("/bot"))
            .await
            .expect("rebind the backend port"),
        url,
    };
    a_normal_call_works(&caller, &backend, "proxy-back").await;
    within("the server to stop", server.shutdown())
        .await
        .expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_never_answers_times_out_per_the_policy() {
    let backend = Backend::start().await;
    let (server, caller) = start_server(&backend.url, FailurePolicy::default()).await;
    let call = caller.call("proxy-silent-1");
    let mut peer = greeted(&call, &backend).await;

    let (dtmf, ()) = tokio::join!(call.dtmf("3"), async {
        let message = peer.recv().await;
        assert_eq!(message["type"], "dtmf_input");
        // Says nothing; the response timeout (2 s) runs out.
    });
    assert_only_policy_final(
        &dtmf,
        "I'm sorry, something went wrong.",
        EventType::TransferToAgent,
    );
    assert_ended(&server, "agent_failed", 1).await;
    // The proxy closed its side: the backend sees the session end (or the close).
    let message = within("the proxy's goodbye", peer.ws.next()).await;
    match message {
        Some(Ok(Message::Text(text))) => {
            let value: Value = serde_json::from_str(&text).expect("JSON");
            assert_eq!(value["type"], "session_end");
            assert_eq!(value["payload"]["reason"], "agent_failed");
        }
        None | Some(Ok(Message::Close(_)) | Err(_)) => {}
        Some(Ok(other)) => panic!("unexpected frame {other:?}"),
    }

    a_normal_call_works(&caller, &backend, "proxy-after-silence").await;
    within("the server to stop", server.shutdown())
        .await
        .expect("clean stop");
}
