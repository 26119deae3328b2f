//! The proxy against a real WebSocket server on 127.0.0.1.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64_ENGINE;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::*;
use crate::agent::{AgentError, CallInfo, TurnInfo};
use crate::input::{SessionEndReason, UtteranceEnd};
use crate::reply::OutputEventKind;
use crate::sink::{ReplyDefaults, ReplySink};

/// Generous: the machine may be loaded; nothing waits this long when things work.
const DEADLINE: Duration = Duration::from_secs(20);

/// A stand-in for the AI backend.
struct Backend {
    listener: TcpListener,
    url: String,
}

impl Backend {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/bot?token=secret", listener.local_addr().unwrap());
        Self { listener, url }
    }

    async fn accept(&self) -> Peer {
        let (stream, _) = tokio::time::timeout(DEADLINE, self.listener.accept())
            .await
            .expect("the proxy connects")
            .unwrap();
        Peer {
            ws: tokio_tungstenite::accept_async(stream).await.unwrap(),
        }
    }
}

/// One backend-side connection.
struct Peer {
    ws: WebSocketStream<TcpStream>,
}

impl Peer {
    /// The next message from the proxy, as JSON.
    async fn recv(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(DEADLINE, self.ws.next())
                .await
                .expect("the proxy sends a message")
                .expect("the connection is open")
                .unwrap();
            match frame {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    async fn send(&mut self, value: Value) {
        self.ws
            .send(Message::text(value.to_string()))
            .await
            .unwrap();
    }

    /// The proxy closes the socket (close frame or end of stream) without sending more.
    async fn expect_closed(&mut self) {
        let frame = tokio::time::timeout(DEADLINE, self.ws.next())
            .await
            .expect("the proxy closes the socket");
        match frame {
            None | Some(Ok(Message::Close(_)) | Err(_)) => {}
            Some(Ok(other)) => panic!("expected the close, got {other:?}"),
        }
    }
}

/// What an agent callback needs around it.
struct Harness {
    call: CallInfo,
    turn: TurnInfo,
    state: ProxySession,
    sink: ReplySink,
}

impl Harness {
    fn new() -> Self {
        Self {
            call: CallInfo::new(
                "conv-1".into(),
                "org-1".into(),
                "bot".into(),
                String::new(),
                HashMap::new(),
                false,
                tokio::time::Instant::now(),
            ),
            turn: TurnInfo {
                number: 1,
                ..TurnInfo::default()
            },
            state: ProxySession::default(),
            sink: ReplySink::disabled(Arc::new(ReplyDefaults::default())),
        }
    }

    fn ctx(&mut self) -> Context<'_, ProxySession> {
        Context::new(&self.call, &self.turn, &mut self.state, &mut self.sink)
    }

    fn next_turn(&mut self) {
        self.turn.number += 1;
    }
}

fn proxy(backend: &Backend) -> WebSocketProxy {
    WebSocketProxy::new(&backend.url).unwrap()
}

fn start_event() -> SessionStart {
    let mut parameters = crate::json::JsonObject::new();
    parameters.insert("language".into(), Value::from("en-US"));
    SessionStart {
        name: "SESSION_START".into(),
        parameters,
    }
}

fn assert_envelope(message: &Value, kind: &str, turn_id: &str) {
    assert_eq!(message["type"], kind, "{message}");
    assert_eq!(message["conversation_id"], "conv-1", "{message}");
    assert_eq!(message["turn_id"], turn_id, "{message}");
    let stamp = message["timestamp"].as_str().unwrap();
    assert!(stamp.ends_with('Z') && stamp.len() == 27, "{stamp}");
}

fn proxy_error(err: &AgentError) -> ProxyErrorKind {
    err.get_ref()
        .downcast_ref::<ProxyError>()
        .unwrap_or_else(|| panic!("not a proxy error: {err}"))
        .kind()
}

fn utterance(received: Option<Vec<u8>>, pcm16: Vec<i16>) -> Utterance {
    Utterance {
        recorded: match received {
            Some(received) => crate::vad::Utterance::from_received(
                received,
                AudioEncoding::Mulaw,
                8000,
                Duration::ZERO,
                false,
            ),
            None => crate::vad::Utterance::from_pcm16(
                pcm16,
                AudioEncoding::Mulaw,
                8000,
                Duration::ZERO,
                false,
            ),
        },
        language: None,
        end: UtteranceEnd::Silence,
    }
}

/// Connects and completes the greeting turn; returns the backend side.
async fn greeted(proxy: &WebSocketProxy, backend: &Backend, harness: &mut Harness) -> Peer {
    let (reply, peer) = tokio::join!(
        async {
            proxy
                .on_session_start(&mut harness.ctx(), start_event())
                .await
        },
        async {
            let mut peer = backend.accept().await;
            let message = peer.recv().await;
            assert_envelope(&message, "session_start", "1");
            assert_eq!(message["payload"], json!({"language": "en-US"}));
            peer.send(json!({"type": "prompt", "payload": {"text": "Welcome!"}}))
                .await;
            peer
        }
    );
    let reply = reply.unwrap();
    assert_eq!(reply.prompts.len(), 1);
    assert_eq!(reply.prompts[0].text.as_deref(), Some("Welcome!"));
    assert!(reply.prompts[0].audio.is_none());
    harness.next_turn();
    peer
}

#[tokio::test]
async fn greeting_then_streamed_audio_then_a_spoken_answer() {
    let backend = Backend::start().await;
    let proxy = proxy(&backend);
    let mut harness = Harness::new();
    let mut peer = greeted(&proxy, &backend, &mut harness).await;
    assert!(proxy.wants_audio_frames());

    for frame in [[0xFFu8; 160], [0x7F; 160], [0x00; 160]] {
        let audio = AudioFrame {
            audio: &frame,
            encoding: AudioEncoding::Mulaw,
            sample_rate: 8000,
            in_speech: true,
        };
        proxy.on_audio(&mut harness.ctx(), audio).await.unwrap();
        let message = peer.recv().await;
        assert_envelope(&message, "audio_input", "2");
        let expected = json!({
            "encoding": "mulaw", "sample_rate": 8000, "channels": 1,
            "data": BASE64_ENGINE.encode(frame), "is_final": false,
        });
        assert_eq!(message["payload"], expected);
    }

    let answer = vec![0x80u8; 400];
    let (reply, ()) = tokio::join!(
        async {
            proxy
                .on_utterance(
                    &mut harness.ctx(),
                    utterance(Some(vec![1; 480]), vec![0; 480]),
                )
                .await
        },
        async {
            let message = peer.recv().await;
            assert_envelope(&message, "audio_input", "2");
            assert_eq!(message["payload"]["data"], "");
            assert_eq!(message["payload"]["is_final"], true);
            peer.send(json!({"type": "prompt", "payload": {
                "text": "Here you go", "audio": BASE64_ENGINE.encode(&answer), "barge_in": true,
            }}))
            .await;
        }
    );
    let reply = reply.unwrap();
    let prompt = &reply.prompts[0];
    // Audio goes out without the text (Webex would speak it a second time).
    assert_eq!(prompt.text, None);
    assert_eq!(prompt.barge_in, Some(true));
    let audio = prompt.audio.as_ref().unwrap().to_mulaw().await.unwrap();
    assert_eq!(&audio[..], &answer[..]);
}

#[tokio::test]
async fn dtmf_events_and_terminal_answers() {
    let backend = Backend::start().await;
    let proxy = proxy(&backend);
    let mut harness = Harness::new();
    let mut peer = greeted(&proxy, &backend, &mut harness).await;

    let (reply, ()) = tokio::join!(
        async { proxy.on_dtmf(&mut harness.ctx(), Dtmf::new("12#")).await },
        async {
            let message = peer.recv().await;
            assert_envelope(&message, "dtmf_input", "2");
            assert_eq!(message["payload"], json!({"digits": "12#"}));
            // Noise first: all ignored, the call goes on.
            peer.send(json!({"type": "typing", "payload": {}})).await;
            peer.ws.send(Message::text("{not json")).await.unwrap();
            peer.ws
                .send(Message::binary(vec![0xFF, 0xFE]))
                .await
                .unwrap();
            peer.send(json!({"type": "prompt", "payload": {"audio": "***"}}))
                .await;
            peer.send(json!({"type": "transfer_to_agent"})).await;
        }
    );
    let reply = reply.unwrap();
    assert!(reply.prompts.is_empty());
    assert_eq!(
        reply.terminal_event().map(|event| event.kind()),
        Some(OutputEventKind::TransferToAgent)
    );
    harness.next_turn();

    // START_OF_DTMF is not forwarded and answers nothing.
    let reply = proxy
        .on_event(&mut harness.ctx(), Event::StartOfDtmf)
        .await
        .unwrap();
    assert!(reply.is_none());

    let (reply, ()) = tokio::join!(
        async { proxy.on_event(&mut harness.ctx(), Event::NoInput).await },
        async {
            let message = peer.recv().await;
            assert_envelope(&message, "no_input", "3");
            assert_eq!(message["payload"], json!({}));
            peer.send(
                json!({"type": "prompt", "payload": {"ssml": "<speak>Still there?</speak>"}}),
            )
            .await;
        }
    );
    assert_eq!(
        reply.unwrap().prompts[0].text.as_deref(),
        Some("<speak>Still there?</speak>")
    );
    harness.next_turn();

    let mut parameters = crate::json::JsonObject::new();
    parameters.insert("step".into(), Value::from(2));
    let custom = Event::Custom {
        name: "menu".into(),
        parameters,
    };
    let (reply, ()) = tokio::join!(
        async { proxy.on_event(&mut harness.ctx(), custom).await },
        async {
            let message = peer.recv().await;
            assert_envelope(&message, "custom_event", "4");
            assert_eq!(
                message["payload"],
                json!({"name": "menu", "parameters": {"step": 2}})
            );
            peer.send(json!({"type": "end_session"})).await;
        }
    );
    let reply = reply.unwrap();
    assert_eq!(
        reply.terminal_event().map(|event| event.kind()),
        Some(OutputEventKind::SessionEnd)
    );

    // The session end is forwarded, then the socket is closed.
    let end = SessionEnd {
        reason: SessionEndReason::AgentEnded,
        duration: Duration::from_millis(1500),
    };
    let ((), ()) = tokio::join!(
        async { proxy.on_session_end(&mut harness.ctx(), end).await },
        async {
            let message = peer.recv().await;
            assert_envelope(&message, "session_end", "4");
            assert_eq!(
                message["payload"],
                json!({"reason": "agent_ended", "duration_seconds": 1.5})
            );
            peer.expect_closed().await;
        }
    );
    assert!(harness.state.connection.is_none());
}

#[tokio::test]
async fn prompts_with_wav_audio_and_empty_prompts() {
    let backend = Backend::start().await;
    let proxy = proxy(&backend);
    let mut harness = Harness::new();
    let mut peer = greeted(&proxy, &backend, &mut harness).await;
    let wav = crate::audio::pcm16_wav(&[0; 160], 16_000);
    let (reply, ()) = tokio::join!(
        async { proxy.on_dtmf(&mut harness.ctx(), Dtmf::new("1")).await },
        async {
            peer.recv().await;
            peer.send(json!({"type": "prompt", "payload": {"audio": BASE64_ENGINE.encode(&wav), "barge_in": false}}))
            .await;
        }
    );
    let reply = reply.unwrap();
    assert_eq!(reply.prompts[0].barge_in, Some(false));
    // The WAV (16 kHz PCM) is converted to 8 kHz μ-law: 80 samples of silence.
    let audio = reply.prompts[0]
        .audio
        .as_ref()
        .unwrap()
        .to_mulaw()
        .await
        .unwrap();
    assert_eq!(&audio[..], &[0xFFu8; 80][..]);

    let (reply, ()) = tokio::join!(
        async { proxy.on_dtmf(&mut harness.ctx(), Dtmf::new("2")).await },
        async {
            peer.recv().await;
            peer.send(json!({"type": "prompt", "payload": {}})).await;
        }
    );
    let reply = reply.unwrap();
    assert!(reply.prompts.is_empty() && !reply.is_none() && reply.terminal_event().is_none());
}

#[tokio::test]
async fn a_dropped_connection_is_reopened_and_the_session_replayed() {
    let backend = Backend::start().await;
    let proxy = proxy(&backend).reconnect(3, Duration::from_millis(10));
    let mut harness = Harness::new();
    let peer = greeted(&proxy, &backend, &mut harness).await;
    drop(peer);
    // Wait (with a deadline) until the proxy has noticed.
    tokio::time::timeout(DEADLINE, async {
        while harness
            .state
            .connection
            .as_ref()
            .is_some_and(Connection::is_open)
        {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the proxy notices the closed socket");

    let (reply, ()) = tokio::join!(
        async { proxy.on_dtmf(&mut harness.ctx(), Dtmf::new("9")).await },
        async {
            let mut peer = backend.accept().await;
            let replay = peer.recv().await;
            assert_envelope(&replay, "session_start", "");
            assert_eq!(replay["payload"], json!({"language": "en-US"}));
            let message = peer.recv().await;
            assert_envelope(&message, "dtmf_input", "2");
            peer.send(json!({"type": "prompt", "payload": {"text": "Back again."}}))
                .await;
        }
    );
    assert_eq!(
        reply.unwrap().prompts[0].text.as_deref(),
        Some("Back again.")
    );
}

#[tokio::test]
async fn connect_failures_and_silent_backends_fail_the_turn() {
    // Nothing listens on this port any more.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", closed.local_addr().unwrap());
    drop(closed);
    let proxy = WebSocketProxy::new(url)
        .unwrap()
        .reconnect(2, Duration::from_millis(5));
    let mut harness = Harness::new();
    let err = proxy
        .on_session_start(&mut harness.ctx(), start_event())
        .await
        .unwrap_err();
    assert_eq!(proxy_error(&err), ProxyErrorKind::Connect);
    assert_eq!(
        err.to_string().split(':').next(),
        Some("cannot connect to the proxy backend")
    );

    let backend = Backend::start().await;
    let proxy = proxy_for_timeout(&backend);
    let mut harness = Harness::new();
    let (reply, _peer) = tokio::join!(
        async {
            proxy
                .on_session_start(&mut harness.ctx(), start_event())
                .await
        },
        async {
            let mut peer = backend.accept().await;
            peer.recv().await;
            peer // keeps the socket open, never answers
        }
    );
    assert_eq!(
        proxy_error(&reply.unwrap_err()),
        ProxyErrorKind::ResponseTimeout
    );
}

fn proxy_for_timeout(backend: &Backend) -> WebSocketProxy {
    proxy(backend).response_timeout(Duration::from_millis(100))
}

#[tokio::test]
async fn a_small_send_queue_drains_without_losing_audio() {
    let backend = Backend::start().await;
    let proxy = proxy(&backend).send_queue(4);
    let mut harness = Harness::new();
    let mut peer = greeted(&proxy, &backend, &mut harness).await;
    const FRAMES: usize = 500;
    let ((), ()) = tokio::join!(
        async {
            for n in 0..FRAMES {
                let bytes = (n as u32).to_le_bytes();
                let frame = AudioFrame {
                    audio: &bytes,
                    encoding: AudioEncoding::Linear16,
                    sample_rate: 16_000,
                    in_speech: false,
                };
                proxy.on_audio(&mut harness.ctx(), frame).await.unwrap();
            }
        },
        async {
            for n in 0..FRAMES {
                let message = peer.recv().await;
                assert_eq!(message["payload"]["encoding"], "linear16");
                assert_eq!(message["payload"]["sample_rate"], 16_000);
                let data = BASE64_ENGINE
                    .decode(message["payload"]["data"].as_str().unwrap())
                    .unwrap();
                assert_eq!(data, (n as u32).to_le_bytes(), "frame {n}");
            }
        }
    );
}

#[tokio::test]
async fn without_streaming_the_whole_utterance_is_sent() {
    let backend = Backend::start().await;
    let proxy = proxy(&backend).stream_audio(false);
    assert!(!proxy.wants_audio_frames());
    let mut harness = Harness::new();
    let mut peer = greeted(&proxy, &backend, &mut harness).await;
    let received = vec![0x42u8; 800];
    let (reply, ()) = tokio::join!(
        async {
            proxy
                .on_utterance(
                    &mut harness.ctx(),
                    utterance(Some(received.clone()), vec![0; 800]),
                )
                .await
        },
        async {
            let message = peer.recv().await;
            assert_eq!(message["payload"]["encoding"], "mulaw");
            assert_eq!(message["payload"]["is_final"], true);
            assert_eq!(message["payload"]["data"], BASE64_ENGINE.encode(&received));
            peer.send(json!({"type": "prompt", "payload": {"text": "ok"}}))
                .await;
        }
    );
    assert_eq!(reply.unwrap().prompts[0].text.as_deref(), Some("ok"));
    // Without the received bytes, the PCM goes out as LINEAR16.
    let (reply, ()) = tokio::join!(
        async {
            proxy
                .on_utterance(&mut harness.ctx(), utterance(None, vec![1, -1]))
                .await
        },
        async {
            let message = peer.recv().await;
            assert_eq!(message["payload"]["encoding"], "linear16");
            assert_eq!(
                message["payload"]["data"],
                BASE64_ENGINE.encode([1, 0, 0xFF, 0xFF])
            );
            peer.send(json!({"type": "prompt", "payload": {"text": "ok"}}))
                .await;
        }
    );
    assert_eq!(reply.unwrap().prompts[0].text.as_deref(), Some("ok"));
}

#[test]
fn urls_are_validated_and_never_printed_whole() {
    for bad in [
        "http://example.com/",
        "ws://",
        "example.com",
        "",
        "wss:///path",
    ] {
        let err = WebSocketProxy::new(bad).unwrap_err();
        assert_eq!(err.kind(), ProxyErrorKind::InvalidUrl, "{bad}");
    }
    let proxy = WebSocketProxy::new("wss://bot.example.com/webex?token=secret")
        .unwrap()
        .connect_timeout(Duration::from_secs(1));
    let text = format!("{proxy:?}");
    assert!(text.contains("wss://bot.example.com"), "{text}");
    assert!(
        !text.contains("secret") && !text.contains("webex"),
        "{text}"
    );
    // Settings are copied on write: a clone keeps its own.
    let fast = proxy.clone().response_timeout(Duration::from_secs(1));
    assert_eq!(proxy.settings.response_timeout, Duration::from_secs(30));
    assert_eq!(fast.settings.response_timeout, Duration::from_secs(1));
}
