//! Forwarding calls to an AI backend over a WebSocket: the media server handles Webex (turns,
//! endpointing, audio formats), the backend only exchanges JSON.
//!
//! [`WebSocketProxy`] is a ready-made virtual agent: one WebSocket per call; caller audio, DTMF
//! and events go to the backend as JSON frames (the Python SDK's contract, see
//! `byova::media::proxy`), and the backend answers each turn with a `prompt` (text, SSML or
//! base64 audio), `end_session` or `transfer_to_agent`.
//!
//! So that it runs on its own, this example starts a tiny backend in-process ([`echo_backend`]):
//! it greets, reports how much audio it received, and answers keys (`0` transfer, `#` hang up).
//!
//! Try it:
//!
//! ```text
//! cargo run --example proxy                                   # built-in backend
//! BACKEND_URL=wss://bot.example.com/webex cargo run --example proxy
//! cargo run --example proxy -- 0.0.0.0:50051                  # listen elsewhere
//! ```
//!
//! Authentication is off (local development); see `byods_and_media` for JWS.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use byova::media::proxy::WebSocketProxy;
use byova::media::{AgentConfig, MediaServer};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::{self, Message};

/// The server: every call goes to the backend at `backend_url`.
fn server(addr: SocketAddr, backend_url: &str) -> anyhow::Result<MediaServer> {
    let proxy = WebSocketProxy::new(backend_url)?.response_timeout(Duration::from_secs(10));
    Ok(MediaServer::builder()
        .addr(addr)
        .disable_authentication()
        .agent(AgentConfig::new("ai-bot", proxy).name("AI bot (proxied)"))
        .build()?)
}

/// A minimal backend: accepts WebSocket connections on `listener` and answers each event.
async fn echo_backend(listener: TcpListener) {
    while let Ok((stream, peer)) = listener.accept().await {
        tokio::spawn(async move {
            if let Err(error) = backend_connection(stream).await {
                tracing::warn!(%peer, %error, "backend connection failed");
            }
        });
    }
}

/// One call, from the backend's side.
async fn backend_connection(stream: TcpStream) -> Result<(), tungstenite::Error> {
    let mut ws = tokio_tungstenite::accept_async(stream).await?;
    let mut audio_bytes = 0;
    while let Some(message) = ws.next().await {
        let Message::Text(text) = message? else {
            continue;
        };
        let Ok(event) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let payload = &event["payload"];
        let answer = match event["type"].as_str().unwrap_or_default() {
            "session_start" => Some(prompt("Hello from the backend! Say something.")),
            "audio_input" => {
                // Caller audio streams in as it arrives; `is_final` marks the end of an utterance.
                let data = payload["data"].as_str().unwrap_or_default();
                audio_bytes += BASE64.decode(data).map_or(0, |audio| audio.len());
                (payload["is_final"] == true).then(|| {
                    let received = std::mem::take(&mut audio_bytes);
                    prompt(&format!("I received {received} bytes of your audio."))
                })
            }
            "dtmf_input" => Some(match payload["digits"].as_str().unwrap_or_default() {
                "0" => json!({ "type": "transfer_to_agent" }),
                "#" => json!({ "type": "end_session" }),
                digits => prompt(&format!("You pressed {digits}.")),
            }),
            "no_input" => Some(prompt("Are you still there?")),
            "custom_event" => Some(prompt("Noted.")),
            // `session_end`: the call is over; nothing to answer.
            _ => None,
        };
        if let Some(answer) = answer {
            ws.send(Message::text(answer.to_string())).await?;
        }
    }
    Ok(())
}

/// A text prompt, answering the pending turn.
fn prompt(text: &str) -> Value {
    json!({ "type": "prompt", "payload": { "text": text } })
}

/// Starts the built-in backend on a free loopback port; returns its URL.
async fn start_echo_backend() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("ws://{}/bot", listener.local_addr()?);
    tokio::spawn(echo_backend(listener));
    Ok(url)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:50051".to_owned())
        .parse()?;
    let backend_url = match std::env::var("BACKEND_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            let url = start_echo_backend().await?;
            tracing::info!(%url, "BACKEND_URL is not set: using the built-in backend");
            url
        }
    };
    server(addr, &backend_url)?.serve().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use byova::media::audio::{self, PromptAudio};
    use byova::media::client::{Caller, EventType, SpeakOptions, TurnResult};

    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures")
            .join(name);
        let wav = std::fs::read(&path).expect("fixture");
        audio::to_mulaw_8k(PromptAudio::Wav(&wav)).expect("μ-law WAV")
    }

    fn said(turn: &TurnResult) -> &str {
        assert!(turn.is_ok(), "{:?}", turn.status);
        &turn.last().expect("a FINAL").response.prompts[0].text
    }

    #[tokio::test]
    async fn calls_are_answered_by_the_backend() {
        let backend = start_echo_backend().await.unwrap();
        let running = server("127.0.0.1:0".parse().unwrap(), &backend)
            .unwrap()
            .bind()
            .await
            .unwrap();
        let caller = Caller::connect(format!("http://{}", running.local_addr()))
            .await
            .unwrap();
        let call = caller.call("call-1");

        let greeting = call.session_start("", Default::default()).await;
        assert_eq!(said(&greeting), "Hello from the backend! Say something.");

        let yes = fixture("yes.wav");
        let mut options = SpeakOptions::default();
        options.realtime = false;
        let turn = call.speak(&yes, &options).await;
        // The backend got the caller's audio as it was streamed, up to the end of the utterance.
        let answer = said(&turn);
        let received: usize = answer
            .strip_prefix("I received ")
            .and_then(|rest| rest.strip_suffix(" bytes of your audio."))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected answer {answer:?}"));
        assert!(
            (yes.len() / 2..=yes.len() + 8000 * 3).contains(&received),
            "{received} bytes for a {} byte utterance",
            yes.len()
        );

        assert_eq!(said(&call.dtmf("5").await), "You pressed 5.");
        let bye = call.dtmf("#").await;
        assert!(bye.is_ok());
        assert_eq!(bye.last().unwrap().events(), [EventType::SessionEnd]);

        let other = caller.call("call-2");
        other.session_start("", Default::default()).await;
        let transfer = other.dtmf("0").await;
        assert_eq!(
            transfer.last().unwrap().events(),
            [EventType::TransferToAgent]
        );
        running.shutdown().await.unwrap();
    }
}
