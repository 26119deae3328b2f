//! Streaming text-to-speech in CHUNK mode: audio goes to the caller while it is still being
//! synthesised, so the caller hears the first word long before the last one exists.
//!
//! Real TTS engines (cloud or local) deliver PCM in pieces. Here [`FakeTts`] stands in for one:
//! it "synthesises" a short tone per word at 24 kHz, with a little latency per word, and hands
//! the pieces over a bounded channel. The agent pushes each piece through the reply sink
//! ([`ReplySink::send_pcm16`](byova::media::ReplySink::send_pcm16)), which resamples it to
//! 8 kHz μ-law and sends a CHUNK response as soon as at least 100 bytes are ready. The
//! callback's [`Reply`] then closes the turn with one FINAL.
//!
//! When the caller hangs up mid-sentence the sink reports it (`SinkError::is_closed`), the
//! callback returns, and synthesis stops.
//!
//! Try it:
//!
//! ```text
//! cargo run --example streaming_tts                 # listens on 127.0.0.1:50051
//! cargo run --example streaming_tts -- 0.0.0.0:50051
//! ```
//!
//! Authentication is off (local development); see `byods_and_media` for JWS.

use std::f32::consts::TAU;
use std::net::SocketAddr;
use std::time::Duration;

use byova::media::{
    AgentConfig, AgentResult, Context, Dtmf, MediaServer, OutputMode, Reply, SessionStart,
    Utterance, VirtualAgent,
};
use tokio::sync::mpsc;

/// The rate the fake engine synthesises at (many engines use 16, 22.05 or 24 kHz).
const TTS_RATE: u32 = 24_000;

/// A stand-in for a streaming text-to-speech engine.
#[derive(Debug, Clone)]
struct FakeTts {
    /// How long the engine takes per word before its audio is ready.
    latency_per_word: Duration,
}

impl FakeTts {
    /// The audio of one word: a tone whose length follows the word's length.
    fn word(index: usize, word: &str) -> Vec<i16> {
        let samples = (TTS_RATE as usize / 1000) * (60 + 40 * word.chars().count());
        let pitch = 180.0 + 20.0 * (index % 5) as f32;
        (0..samples)
            .map(|n| {
                let t = n as f32 / TTS_RATE as f32;
                (6000.0 * (TAU * pitch * t).sin()) as i16
            })
            .collect()
    }

    /// Starts synthesising `text`; the pieces (16-bit PCM at [`TTS_RATE`]) arrive on the
    /// returned channel, one per word. Dropping the receiver stops the synthesis.
    fn synthesize(&self, text: &str) -> mpsc::Receiver<Vec<i16>> {
        let (tx, rx) = mpsc::channel(2);
        let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        let latency = self.latency_per_word;
        tokio::spawn(async move {
            for (index, word) in words.iter().enumerate() {
                tokio::time::sleep(latency).await;
                if tx.send(Self::word(index, word)).await.is_err() {
                    return; // Nobody listens any more: the caller hung up.
                }
            }
        });
        rx
    }
}

/// An agent that speaks every reply through [`FakeTts`].
struct Speaker {
    tts: FakeTts,
}

impl Speaker {
    /// Streams `text` to the caller as it is synthesised, then closes the turn with `reply`.
    async fn speak(&self, ctx: &mut Context<'_, ()>, text: &str, reply: Reply) -> AgentResult {
        let mut pieces = self.tts.synthesize(text);
        while let Some(pcm) = pieces.recv().await {
            // Resampled to 8 kHz μ-law and sent as a CHUNK as soon as possible; waits when the
            // caller's connection is slow, fails when the caller is gone.
            ctx.sink().send_pcm16(&pcm, TTS_RATE).await?;
        }
        Ok(reply.transcript(text))
    }
}

impl VirtualAgent for Speaker {
    type State = ();

    async fn on_session_start(&self, ctx: &mut Context<'_, ()>, _: SessionStart) -> AgentResult {
        let text = "Hello! This greeting is synthesised while you already hear it.";
        self.speak(ctx, text, Reply::new()).await
    }

    async fn on_utterance(&self, ctx: &mut Context<'_, ()>, utterance: Utterance) -> AgentResult {
        let text = format!(
            "You spoke for {:.1} seconds. Press any key to hang up.",
            utterance.duration().as_secs_f32()
        );
        self.speak(ctx, &text, Reply::new()).await
    }

    async fn on_dtmf(&self, ctx: &mut Context<'_, ()>, _: Dtmf) -> AgentResult {
        self.speak(ctx, "Goodbye!", Reply::new().end_session())
            .await
    }
}

/// The server: the agent in CHUNK mode, on `addr`, without authentication.
fn server(addr: SocketAddr, tts: FakeTts) -> Result<MediaServer, byova::media::Error> {
    MediaServer::builder()
        .addr(addr)
        .disable_authentication()
        .agent(
            AgentConfig::new("speaker", Speaker { tts })
                .name("Streaming TTS demo")
                // CHUNK is the default; it is what makes streaming possible.
                .output_mode(OutputMode::Chunk),
        )
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
    let tts = FakeTts {
        latency_per_word: Duration::from_millis(80),
    };
    server(addr, tts)?.serve().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use byova::media::audio::{MAX_CHUNK, MIN_CHUNK};
    use byova::media::client::{Caller, EventType, ResponseType, TurnResult};
    use byova::media::proto::text_content::InputContent;

    use super::*;

    /// Checks that `turn` streamed the synthesised `text`: CHUNKs within Webex's rules, at least
    /// one per word (a reply built after synthesis would be one CHUNK: every reply here is under
    /// 64 KiB), all of the audio, then one FINAL without audio carrying `text` as transcript.
    fn assert_streamed(turn: &TurnResult, text: &str) {
        assert!(turn.is_ok(), "{:?}", turn.status);
        let (last, chunks) = turn.responses.split_last().expect("responses");
        assert_eq!(last.response_type(), ResponseType::Final);
        assert_eq!(last.audio_bytes(), 0, "the FINAL carries no audio");
        let sizes: Vec<usize> = chunks
            .iter()
            .map(|chunk| {
                assert_eq!(chunk.response_type(), ResponseType::Chunk);
                let audio = &chunk.response.prompts[0].audio_content;
                assert!((MIN_CHUNK..=MAX_CHUNK).contains(&audio.len()));
                assert!(!audio.starts_with(b"RIFF"), "raw μ-law only in CHUNK mode");
                audio.len()
            })
            .collect();
        let words = text.split_whitespace().count();
        assert!(sizes.len() >= words, "{sizes:?}");
        let total: usize = sizes.iter().sum();
        let expected = expected_bytes(text);
        assert!(
            total.abs_diff(expected) <= 2,
            "{total} bytes of audio for {expected} samples at 8 kHz"
        );
        let fin = &last.response;
        let Some(InputContent::Text(transcript)) = fin
            .session_transcript
            .as_ref()
            .and_then(|t| t.input_content.clone())
        else {
            panic!("no transcript: {fin:?}");
        };
        assert_eq!(transcript, text);
    }

    /// 8 kHz μ-law bytes of the words of `text` (one byte per 8 kHz sample).
    fn expected_bytes(text: &str) -> usize {
        text.split_whitespace()
            .enumerate()
            .map(|(i, word)| FakeTts::word(i, word).len() / 3)
            .sum()
    }

    #[tokio::test]
    async fn audio_streams_word_by_word_then_one_final_closes_the_turn() {
        let tts = FakeTts {
            latency_per_word: Duration::from_millis(5),
        };
        let running = server("127.0.0.1:0".parse().unwrap(), tts)
            .unwrap()
            .bind()
            .await
            .unwrap();
        let caller = Caller::connect(format!("http://{}", running.local_addr()))
            .await
            .unwrap();
        let call = caller.call("call-1");

        let greeting = call.session_start("", Default::default()).await;
        assert_streamed(
            &greeting,
            "Hello! This greeting is synthesised while you already hear it.",
        );

        let bye = call.dtmf("1").await;
        assert_streamed(&bye, "Goodbye!");
        assert_eq!(bye.last().unwrap().events(), [EventType::SessionEnd]);
        running.shutdown().await.unwrap();
    }
}
