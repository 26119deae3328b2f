//! The smallest useful BYOVA media server: one virtual agent that greets the caller, answers each
//! utterance, and ends or transfers the call on a key press.
//!
//! Webex Contact Center opens one `ProcessCallerInput` RPC per turn; the server keeps the call
//! between them, detects where the caller starts and stops speaking, and turns each [`Reply`]
//! into the messages Webex expects. Text prompts are spoken by Webex's own text-to-speech.
//!
//! Try it:
//!
//! ```text
//! cargo run --example media_server_minimal                 # listens on 127.0.0.1:50051
//! cargo run --example media_server_minimal -- 0.0.0.0:50051
//! ```
//!
//! then point any BYOVA client at it (for example `byova simulate`). Authentication is switched
//! off here, for local development; `byods_and_media` shows the JWS authentication every
//! production server needs.

use std::net::SocketAddr;

use byova::media::{
    AgentConfig, AgentResult, Context, Dtmf, MediaServer, Reply, SessionStart, Utterance,
    VirtualAgent,
};

/// The virtual agent: it keeps no state between turns (`State = ()`).
struct Greeter;

impl VirtualAgent for Greeter {
    type State = ();

    async fn on_session_start(&self, _: &mut Context<'_, ()>, _: SessionStart) -> AgentResult {
        Ok(Reply::say(
            "Hello! Say something, press 0 for an agent, or any other key to hang up.",
        ))
    }

    async fn on_utterance(&self, _: &mut Context<'_, ()>, utterance: Utterance) -> AgentResult {
        let seconds = utterance.duration().as_secs_f32();
        Ok(Reply::say(format!(
            "I heard {seconds:.1} seconds of speech. Say more, or press a key."
        )))
    }

    async fn on_dtmf(&self, _: &mut Context<'_, ()>, dtmf: Dtmf) -> AgentResult {
        Ok(match dtmf.digits.as_str() {
            "0" => Reply::say("Connecting you to an agent.").transfer_to_agent(),
            _ => Reply::say("Goodbye!").end_session(),
        })
    }
}

/// The server: the agent, on `addr`, without authentication.
fn server(addr: SocketAddr) -> Result<MediaServer, byova::media::Error> {
    MediaServer::builder()
        .addr(addr)
        // Local development only: production servers verify the Webex JWS (`.jws(verifier)`).
        .disable_authentication()
        .agent(AgentConfig::new("greeter", Greeter).name("Greeter"))
        .build()
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
    // Serves until Ctrl-C or SIGTERM, then lets running turns finish.
    server(addr)?.serve().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use byova::media::audio::{self, PromptAudio};
    use byova::media::client::{Caller, EventType, ResponseType, SpeakOptions};

    use super::*;

    /// A spoken fixture of the workspace as 8 kHz μ-law.
    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures")
            .join(name);
        let wav = std::fs::read(&path).expect("fixture");
        audio::to_mulaw_8k(PromptAudio::Wav(&wav)).expect("μ-law WAV")
    }

    #[tokio::test]
    async fn greets_answers_an_utterance_and_ends_on_a_key() {
        let running = server("127.0.0.1:0".parse().unwrap())
            .unwrap()
            .bind()
            .await
            .unwrap();
        let caller = Caller::connect(format!("http://{}", running.local_addr()))
            .await
            .unwrap();
        let call = caller.call("call-1");

        let greeting = call.session_start("entry", Default::default()).await;
        assert!(greeting.is_ok(), "{:?}", greeting.status);
        assert_eq!(greeting.responses.len(), 1);
        let fin = &greeting.responses[0].response;
        assert_eq!(
            fin.prompts[0].text,
            "Hello! Say something, press 0 for an agent, or any other key to hang up."
        );

        // 20 ms μ-law frames, as Webex sends them; sending stops at END_OF_INPUT.
        let mut options = SpeakOptions::default();
        options.realtime = false;
        let turn = call.speak(&fixture("yes.wav"), &options).await;
        assert!(turn.is_ok(), "{:?}", turn.status);
        let kinds: Vec<_> = turn.responses.iter().map(|r| r.events()).collect();
        assert_eq!(
            kinds,
            [
                vec![EventType::StartOfInput],
                vec![EventType::EndOfInput],
                vec![]
            ]
        );
        let answer = &turn.responses[2].response.prompts[0].text;
        assert!(
            answer.starts_with("I heard ")
                && answer.ends_with(" seconds of speech. Say more, or press a key."),
            "{answer}"
        );

        let bye = call.dtmf("9").await;
        let last = bye.last().expect("a reply");
        assert_eq!(last.response_type(), ResponseType::Final);
        assert_eq!(last.events(), [EventType::SessionEnd]);
        assert_eq!(last.response.prompts[0].text, "Goodbye!");
        running.shutdown().await.unwrap();
    }
}
