//! A multi-turn conversation with per-call state: the agent counts the caller's utterances,
//! answers each one, and after three of them hangs up with a summary and a transcript.
//!
//! Every callback of one call gets the same `State` (here [`Conversation`]), created when the
//! call starts and dropped when it ends; different calls run in parallel, each with its own.
//! `on_session_end` runs exactly once per call, however it ends (the caller hangs up, the agent
//! ends it, a timeout, a shutdown).
//!
//! Try it:
//!
//! ```text
//! cargo run --example multiturn                 # listens on 127.0.0.1:50051
//! cargo run --example multiturn -- 0.0.0.0:50051
//! ```
//!
//! Authentication is off (local development); see `byods_and_media` for JWS.

use std::net::SocketAddr;
use std::time::Duration;

use byova::media::{
    AgentConfig, AgentResult, Context, Dtmf, MediaServer, Reply, SessionEnd, SessionStart,
    Utterance, VirtualAgent,
};

/// How many utterances a call gets before the goodbye.
const TURNS: usize = 3;

/// The per-call state.
#[derive(Debug, Default)]
struct Conversation {
    /// How long each utterance was, in order.
    utterances: Vec<Duration>,
}

/// The agent.
struct Interviewer;

impl VirtualAgent for Interviewer {
    type State = Conversation;

    async fn on_session_start(
        &self,
        _: &mut Context<'_, Conversation>,
        _: SessionStart,
    ) -> AgentResult {
        Ok(Reply::say(format!(
            "Hi! Tell me {TURNS} things, one at a time. Press 0 at any moment for an agent."
        )))
    }

    async fn on_utterance(
        &self,
        ctx: &mut Context<'_, Conversation>,
        utterance: Utterance,
    ) -> AgentResult {
        let conversation = ctx.state();
        conversation.utterances.push(utterance.duration());
        let turn = conversation.utterances.len();
        if turn < TURNS {
            return Ok(Reply::say(format!(
                "Got it, that was thing number {turn}. Next one, please."
            )));
        }
        let total: Duration = conversation.utterances.iter().sum();
        let summary = format!(
            "The caller said {TURNS} things in {:.1} seconds of speech.",
            total.as_secs_f32()
        );
        Ok(Reply::say("Thank you, that is all I needed. Goodbye!")
            // Webex keeps the transcript and summary of the last response with the call.
            .transcript(summary.clone())
            .summary(summary)
            .end_session())
    }

    async fn on_dtmf(&self, ctx: &mut Context<'_, Conversation>, dtmf: Dtmf) -> AgentResult {
        Ok(match dtmf.digits.as_str() {
            "0" => Reply::say("Connecting you to an agent.").transfer_to_agent(),
            _ => {
                let left = TURNS - ctx.state_ref().utterances.len();
                Reply::say(format!("Just talk to me: {left} more to go."))
            }
        })
    }

    async fn on_session_end(&self, ctx: &mut Context<'_, Conversation>, end: SessionEnd) {
        tracing::info!(
            conversation_id = ctx.conversation_id(),
            reason = %end.reason,
            utterances = ctx.state_ref().utterances.len(),
            "call ended"
        );
    }
}

/// The server: the agent, on `addr`, without authentication.
fn server(addr: SocketAddr) -> Result<MediaServer, byova::media::Error> {
    MediaServer::builder()
        .addr(addr)
        .disable_authentication()
        .agent(AgentConfig::new("interviewer", Interviewer).name("Interviewer"))
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
    server(addr)?.serve().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use byova::media::RunningServer;
    use byova::media::audio::{self, PromptAudio};
    use byova::media::client::{Caller, EventType, SpeakOptions, TurnResult};
    use byova::media::proto::text_content::InputContent;

    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures")
            .join(name);
        let wav = std::fs::read(&path).expect("fixture");
        audio::to_mulaw_8k(PromptAudio::Wav(&wav)).expect("μ-law WAV")
    }

    /// The text of the reply's prompt (the FINAL closing the turn).
    fn said(turn: &TurnResult) -> &str {
        assert!(turn.is_ok(), "{:?}", turn.status);
        &turn.last().expect("a FINAL").response.prompts[0].text
    }

    /// The server on a free loopback port, and a caller connected to it.
    async fn start() -> (RunningServer, Caller) {
        let running = server("127.0.0.1:0".parse().unwrap())
            .unwrap()
            .bind()
            .await
            .unwrap();
        let caller = Caller::connect(format!("http://{}", running.local_addr()))
            .await
            .unwrap();
        (running, caller)
    }

    #[tokio::test]
    async fn three_utterances_then_a_goodbye_with_the_transcript() {
        let (running, caller) = start().await;
        let call = caller.call("call-1");
        let greeting = call.session_start("", Default::default()).await;
        assert_eq!(
            said(&greeting),
            "Hi! Tell me 3 things, one at a time. Press 0 at any moment for an agent."
        );

        let mut options = SpeakOptions::default();
        options.realtime = false;
        let yes = fixture("yes.wav");
        for turn in 1..=2 {
            let reply = call.speak(&yes, &options).await;
            assert_eq!(
                said(&reply),
                format!("Got it, that was thing number {turn}. Next one, please.")
            );
        }
        // A key between utterances: the state knows how many are left.
        assert_eq!(
            said(&call.dtmf("5").await),
            "Just talk to me: 1 more to go."
        );

        let last = call.speak(&yes, &options).await;
        assert_eq!(said(&last), "Thank you, that is all I needed. Goodbye!");
        let fin = &last.last().unwrap();
        assert_eq!(fin.events(), [EventType::SessionEnd]);
        let Some(InputContent::Text(transcript)) = fin
            .response
            .session_transcript
            .as_ref()
            .and_then(|t| t.input_content.clone())
        else {
            panic!("no transcript: {fin:?}");
        };
        assert!(
            transcript.starts_with("The caller said 3 things in ")
                && transcript.ends_with(" seconds of speech."),
            "{transcript}"
        );
        // The summary is the same text.
        assert_eq!(
            fin.response.session_summary,
            fin.response.session_transcript
        );
        // The agent ended the call: the server forgets it.
        tokio::time::timeout(Duration::from_secs(30), running.wait_live_calls_at_most(0))
            .await
            .expect("the call closed");
        running.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn zero_transfers_to_an_agent() {
        let (running, caller) = start().await;
        let call = caller.call("call-2");
        call.session_start("", Default::default()).await;
        let transfer = call.dtmf("0").await;
        assert_eq!(said(&transfer), "Connecting you to an agent.");
        assert_eq!(
            transfer.last().unwrap().events(),
            [EventType::TransferToAgent]
        );
        running.shutdown().await.unwrap();
    }
}
