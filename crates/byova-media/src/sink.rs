//! The reply encoder: [`ReplySink`] streams agent audio to Webex and turns a [`Reply`] into the
//! wire messages of the call's output mode (WAV or CHUNK).

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use tokio::time::Instant;

use crate::audio::{self, AudioError, MAX_CHUNK, MulawEncoder, StreamChunker};
use crate::outbound::{Closed, Outbound};
use crate::proto::{self, VoiceVaResponse};
use crate::reply::{Audio, InputConfig, InputMode, OutputEventKind, Prompt, Reply};

/// How a call's replies carry audio; fixed per agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum OutputMode {
    /// Audio streams as raw 8 kHz μ-law CHUNK responses (100 B – 64 KiB each) as soon as it
    /// exists, closed by one FINAL without audio. Best for text-to-speech and LLM agents.
    #[default]
    Chunk,
    /// Each reply is one FINAL whose prompts carry complete 8 kHz μ-law WAV files. Best for
    /// scripted agents with recorded prompts.
    Wav,
}

/// Reply settings of one agent, applied where a [`Reply`] leaves them unset.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReplyDefaults {
    pub(crate) mode: OutputMode,
    pub(crate) max_chunk: usize,
    pub(crate) barge_in: bool,
    pub(crate) input_mode: InputMode,
    pub(crate) input_config: InputConfig,
}

impl Default for ReplyDefaults {
    fn default() -> Self {
        Self {
            mode: OutputMode::Chunk,
            max_chunk: MAX_CHUNK,
            barge_in: false,
            input_mode: InputMode::VoiceAndDtmf,
            input_config: InputConfig::gateway_default(),
        }
    }
}

/// Why audio could not be streamed.
#[derive(Debug)]
pub struct SinkError {
    kind: SinkErrorKind,
}

#[derive(Debug)]
enum SinkErrorKind {
    Closed,
    NoReply,
    Audio(AudioError),
}

impl SinkError {
    /// Whether the caller is gone (the RPC was cancelled, the call ended or the server is
    /// stopping); stop producing audio.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        matches!(self.kind, SinkErrorKind::Closed)
    }

    /// Whether this callback cannot reply at all (in
    /// [`on_session_end`](crate::VirtualAgent::on_session_end) and
    /// [`on_audio`](crate::VirtualAgent::on_audio)).
    #[must_use]
    pub fn is_no_reply(&self) -> bool {
        matches!(self.kind, SinkErrorKind::NoReply)
    }

    /// The audio conversion error, if that is the cause.
    #[must_use]
    pub fn audio_error(&self) -> Option<&AudioError> {
        match &self.kind {
            SinkErrorKind::Audio(err) => Some(err),
            _ => None,
        }
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SinkErrorKind::Closed => f.write_str("the caller is gone; the reply cannot be sent"),
            SinkErrorKind::NoReply => f.write_str("this callback cannot send a reply"),
            SinkErrorKind::Audio(_) => f.write_str("reply audio cannot be converted"),
        }
    }
}

impl std::error::Error for SinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            SinkErrorKind::Audio(err) => Some(err),
            _ => None,
        }
    }
}

impl From<Closed> for SinkError {
    fn from(_: Closed) -> Self {
        Self {
            kind: SinkErrorKind::Closed,
        }
    }
}

impl From<AudioError> for SinkError {
    fn from(err: AudioError) -> Self {
        Self {
            kind: SinkErrorKind::Audio(err),
        }
    }
}

/// What sending a reply did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Finished {
    /// The terminal event the reply carried, if any.
    pub(crate) terminal: Option<OutputEventKind>,
    /// When the sink sent its first message (streamed audio or the reply), if it sent any.
    pub(crate) first_sent: Option<Instant>,
}

/// Streams reply audio to the caller while an agent callback runs.
///
/// In CHUNK mode every piece goes out as soon as at least 100 bytes of μ-law are ready (the
/// first audio reaches Webex long before the last exists); the callback's [`Reply`] then follows
/// and one FINAL closes the turn. In WAV mode streamed audio is collected into the first prompt of
/// the reply's FINAL.
///
/// Sending waits while the RPC's response buffer is full, so a fast producer is paced by the
/// network, never buffered without bound.
pub struct ReplySink {
    out: Option<Outbound>,
    defaults: Arc<ReplyDefaults>,
    barge_in: bool,
    chunker: StreamChunker,
    wav: Vec<u8>,
    encoder: Option<(u32, MulawEncoder)>,
    scratch: Vec<u8>,
    streamed: bool,
    first_sent: Option<Instant>,
}

impl fmt::Debug for ReplySink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplySink")
            .field("mode", &self.defaults.mode)
            .field("barge_in", &self.barge_in)
            .field("streamed", &self.streamed)
            .finish_non_exhaustive()
    }
}

impl ReplySink {
    pub(crate) fn new(out: Outbound, defaults: Arc<ReplyDefaults>) -> Self {
        Self::build(Some(out), defaults)
    }

    /// A sink that refuses everything (session end, audio frames).
    pub(crate) fn disabled(defaults: Arc<ReplyDefaults>) -> Self {
        Self::build(None, defaults)
    }

    fn build(out: Option<Outbound>, defaults: Arc<ReplyDefaults>) -> Self {
        Self {
            out,
            barge_in: defaults.barge_in,
            chunker: StreamChunker::new(defaults.max_chunk),
            defaults,
            wav: Vec::new(),
            encoder: None,
            scratch: Vec::new(),
            streamed: false,
            first_sent: None,
        }
    }

    /// The output mode of this call.
    #[must_use]
    pub fn mode(&self) -> OutputMode {
        self.defaults.mode
    }

    /// Whether the caller may interrupt the streamed audio (default: the agent's setting).
    pub fn set_barge_in(&mut self, enabled: bool) {
        self.barge_in = enabled;
    }

    /// Whether the caller is gone (sending would fail).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.out.as_ref().is_none_or(Outbound::is_closed)
    }

    /// Streams 8 kHz μ-law bytes.
    ///
    /// # Errors
    /// When the caller is gone.
    pub async fn send_mulaw(&mut self, mulaw: &[u8]) -> Result<(), SinkError> {
        self.check_open()?;
        if let Some((_, mut encoder)) = self.encoder.take() {
            // Keep the order: the held-back tail of earlier PCM goes first.
            let mut tail = std::mem::take(&mut self.scratch);
            tail.clear();
            encoder.finish(&mut tail);
            self.push_mulaw(&tail).await?;
            self.scratch = tail;
        }
        self.push_mulaw(mulaw).await
    }

    /// Streams 16-bit PCM at any rate from 1 kHz to 384 kHz; consecutive pieces at one rate are
    /// resampled seamlessly, so feed text-to-speech output as it comes.
    ///
    /// # Errors
    /// When the caller is gone or the rate is not supported.
    pub async fn send_pcm16(&mut self, samples: &[i16], sample_rate: u32) -> Result<(), SinkError> {
        self.check_open()?;
        let mut bytes = std::mem::take(&mut self.scratch);
        bytes.clear();
        match &mut self.encoder {
            Some((rate, encoder)) if *rate == sample_rate => encoder.push(samples, &mut bytes),
            current => {
                if let Some((_, mut previous)) = current.take() {
                    previous.finish(&mut bytes);
                }
                let mut encoder = MulawEncoder::new(sample_rate)?;
                encoder.push(samples, &mut bytes);
                *current = Some((sample_rate, encoder));
            }
        }
        let result = self.push_mulaw(&bytes).await;
        self.scratch = bytes;
        result
    }

    /// Streams a complete piece of audio of any supported shape.
    ///
    /// # Errors
    /// When the caller is gone or the audio cannot be converted.
    pub async fn send_audio(&mut self, audio: &Audio) -> Result<(), SinkError> {
        self.check_open()?;
        let mulaw = audio.to_mulaw().await?;
        self.send_mulaw(&mulaw).await
    }

    fn check_open(&self) -> Result<(), SinkError> {
        match &self.out {
            None => Err(SinkError {
                kind: SinkErrorKind::NoReply,
            }),
            Some(out) if out.is_closed() => Err(Closed.into()),
            Some(_) => Ok(()),
        }
    }

    async fn push_mulaw(&mut self, mulaw: &[u8]) -> Result<(), SinkError> {
        if mulaw.is_empty() {
            return Ok(());
        }
        self.streamed = true;
        match self.defaults.mode {
            OutputMode::Wav => self.wav.extend_from_slice(mulaw),
            OutputMode::Chunk => {
                self.chunker.push(mulaw);
                while let Some(piece) = self.chunker.pop() {
                    self.send_chunk(Bytes::from(piece), self.barge_in, String::new())
                        .await?;
                }
            }
        }
        Ok(())
    }

    async fn send_chunk(
        &mut self,
        audio: Bytes,
        barge_in: bool,
        text: String,
    ) -> Result<(), SinkError> {
        let out = self.out.as_ref().ok_or(SinkError {
            kind: SinkErrorKind::NoReply,
        })?;
        out.send(VoiceVaResponse {
            prompts: vec![proto::Prompt {
                text,
                audio_uri: String::new(),
                audio_content: audio,
                is_barge_in_enabled: barge_in,
            }],
            response_type: proto::voice_va_response::ResponseType::Chunk as i32,
            ..VoiceVaResponse::default()
        })
        .await?;
        self.first_sent.get_or_insert_with(Instant::now);
        Ok(())
    }

    /// Flushes streamed audio, then sends `reply` in the call's output mode.
    ///
    /// Prompt audio is converted before anything is sent, so a conversion error leaves the
    /// sink usable for an apology.
    pub(crate) async fn finish(&mut self, reply: Reply) -> Result<Finished, SinkError> {
        let terminal = reply.terminal_event().map(|event| event.kind());
        if reply.silent && !self.streamed {
            return Ok(Finished {
                terminal: None,
                first_sent: self.first_sent,
            });
        }
        let mut converted = Vec::with_capacity(reply.prompts.len());
        for prompt in &reply.prompts {
            let audio = match &prompt.audio {
                Some(audio) => Some(audio.to_mulaw().await?),
                None => None,
            };
            converted.push(audio);
        }
        // Prompts that accompany a session end or transfer cannot be interrupted on Webex.
        let barge_in_allowed = terminal.is_none();

        let mut tail = Vec::new();
        if let Some((_, mut encoder)) = self.encoder.take() {
            encoder.finish(&mut tail);
        }
        let mut final_prompts = Vec::new();
        match self.defaults.mode {
            OutputMode::Chunk => {
                self.chunker.push(&tail);
                let streamed_barge_in = self.barge_in && barge_in_allowed;
                while let Some(piece) = self.chunker.finish() {
                    self.send_chunk(Bytes::from(piece), streamed_barge_in, String::new())
                        .await?;
                }
                for (prompt, audio) in reply.prompts.iter().zip(converted) {
                    let barge_in = self.prompt_barge_in(prompt) && barge_in_allowed;
                    match audio {
                        Some(audio) if !audio.is_empty() => {
                            let mut text = prompt.text.clone().unwrap_or_default();
                            for piece in audio::chunks(&audio, self.defaults.max_chunk) {
                                let piece = match piece {
                                    std::borrow::Cow::Borrowed(slice) => audio.slice_ref(slice),
                                    std::borrow::Cow::Owned(owned) => Bytes::from(owned),
                                };
                                self.send_chunk(piece, barge_in, std::mem::take(&mut text))
                                    .await?;
                            }
                        }
                        _ => {
                            if prompt.text.is_some() || prompt.audio_uri.is_some() {
                                final_prompts.push(wire_prompt(prompt, Bytes::new(), barge_in));
                            }
                        }
                    }
                }
            }
            OutputMode::Wav => {
                self.wav.extend_from_slice(&tail);
                if !self.wav.is_empty() {
                    let wav = audio::mulaw_wav(&std::mem::take(&mut self.wav));
                    let barge_in = self.barge_in && barge_in_allowed;
                    final_prompts.push(proto::Prompt {
                        audio_content: Bytes::from(wav),
                        is_barge_in_enabled: barge_in,
                        ..proto::Prompt::default()
                    });
                }
                for (prompt, audio) in reply.prompts.iter().zip(converted) {
                    let barge_in = self.prompt_barge_in(prompt) && barge_in_allowed;
                    let wav = audio
                        .filter(|audio| !audio.is_empty())
                        .map(|audio| Bytes::from(audio::mulaw_wav(&audio)))
                        .unwrap_or_default();
                    final_prompts.push(wire_prompt(prompt, wav, barge_in));
                }
            }
        }
        self.streamed = false;
        let response = final_response(final_prompts, &reply, &self.defaults, terminal);
        let out = self.out.as_ref().ok_or(SinkError {
            kind: SinkErrorKind::NoReply,
        })?;
        out.send(response).await?;
        let first_sent = *self.first_sent.get_or_insert_with(Instant::now);
        Ok(Finished {
            terminal,
            first_sent: Some(first_sent),
        })
    }

    fn prompt_barge_in(&self, prompt: &Prompt) -> bool {
        prompt.barge_in.unwrap_or(self.defaults.barge_in)
    }
}

fn wire_prompt(prompt: &Prompt, audio: Bytes, barge_in: bool) -> proto::Prompt {
    proto::Prompt {
        text: prompt.text.clone().unwrap_or_default(),
        audio_uri: prompt.audio_uri.clone().unwrap_or_default(),
        audio_content: audio,
        is_barge_in_enabled: barge_in,
    }
}

/// The FINAL that closes a reply: prompts (WAV mode, or text-only prompts in CHUNK mode),
/// events with the terminal one first, and — unless the session ends — the next input mode and
/// its handling config.
fn final_response(
    prompts: Vec<proto::Prompt>,
    reply: &Reply,
    defaults: &ReplyDefaults,
    terminal: Option<OutputEventKind>,
) -> VoiceVaResponse {
    let mut events: Vec<&crate::reply::OutputEvent> = reply.events.iter().collect();
    // Stable: terminal events first, the others in the order the agent added them.
    events.sort_by_key(|event| !event.kind().is_terminal());
    let session_ends = terminal == Some(OutputEventKind::SessionEnd);
    VoiceVaResponse {
        prompts,
        output_events: events.into_iter().map(|event| event.to_wire()).collect(),
        input_sensitive: reply.input_sensitive,
        input_mode: if session_ends {
            0
        } else {
            reply.input_mode.unwrap_or(defaults.input_mode).wire() as i32
        },
        input_handling_config: if session_ends {
            None
        } else {
            Some(
                reply
                    .input_config
                    .unwrap_or(defaults.input_config)
                    .to_wire(),
            )
        },
        session_transcript: reply.transcript.as_ref().map(|t| t.to_wire()),
        session_summary: reply.summary.as_ref().map(|t| t.to_wire()),
        response_type: proto::voice_va_response::ResponseType::Final as i32,
        disable_prompt_cancellation: reply.disable_prompt_cancellation,
    }
}

#[cfg(test)]
mod tests {
    use futures_util::{FutureExt as _, StreamExt as _};

    use super::*;
    use crate::outbound::ResponseStream;
    use crate::reply::OutputEvent;

    fn sink(mode: OutputMode) -> (ReplySink, ResponseStream) {
        let (out, rx) = crate::outbound::channel(64);
        let defaults = Arc::new(ReplyDefaults {
            mode,
            ..ReplyDefaults::default()
        });
        (ReplySink::new(out, defaults), rx)
    }

    fn drain(rx: &mut ResponseStream) -> Vec<VoiceVaResponse> {
        let mut out = Vec::new();
        while let Some(Some(item)) = rx.next().now_or_never() {
            out.push(item.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn chunk_mode_streams_then_closes_with_one_final() {
        let (mut sink, mut rx) = sink(OutputMode::Chunk);
        sink.send_mulaw(&[0x11; 150]).await.unwrap();
        // 150 B: held back until more arrives (100 B are kept for the tail).
        assert!(drain(&mut rx).is_empty());
        sink.send_mulaw(&[0x22; 250]).await.unwrap();
        let early = drain(&mut rx);
        assert_eq!(early.len(), 1);
        assert_eq!(early[0].prompts[0].audio_content.len(), 300);
        let finished = sink
            .finish(Reply::play(Audio::mulaw(vec![0x33; 70_000])).transcript("t"))
            .await
            .unwrap();
        assert_eq!(finished.terminal, None);
        let rest = drain(&mut rx);
        let sizes: Vec<usize> = rest
            .iter()
            .map(|r| r.prompts.first().map_or(0, |p| p.audio_content.len()))
            .collect();
        assert_eq!(sizes, [100, 65_536, 4464, 0]);
        assert!(rest[..3].iter().all(|r| r.response_type == 2));
        let last = rest.last().unwrap();
        assert_eq!(last.response_type, 0);
        assert!(last.prompts.is_empty());
        assert_eq!(last.input_mode, 3);
        assert_eq!(
            last.input_handling_config,
            Some(ReplyDefaults::default().input_config.to_wire())
        );
        assert_eq!(
            last.session_transcript,
            Some(proto::TextContent {
                input_content: Some(proto::text_content::InputContent::Text("t".into())),
                language_code: String::new(),
            })
        );
    }

    #[tokio::test]
    async fn wav_mode_sends_one_final_with_wav_prompts() {
        let (mut sink, mut rx) = sink(OutputMode::Wav);
        sink.send_pcm16(&[0; 1600], 16_000).await.unwrap();
        assert!(drain(&mut rx).is_empty());
        sink.finish(
            Reply::play(Audio::mulaw(vec![0xFF; 400]))
                .prompt(Prompt::text("hello"))
                .disable_prompt_cancellation(true)
                .end_session(),
        )
        .await
        .unwrap();
        let sent = drain(&mut rx);
        assert_eq!(sent.len(), 1);
        let fin = &sent[0];
        assert_eq!(fin.response_type, 0);
        assert_eq!(fin.prompts.len(), 3);
        assert_eq!(&fin.prompts[0].audio_content[..4], b"RIFF");
        assert_eq!(fin.prompts[0].audio_content.len(), 44 + 800);
        assert_eq!(fin.prompts[1].audio_content.len(), 44 + 400);
        assert_eq!(fin.prompts[2].text, "hello");
        assert!(fin.prompts[2].audio_content.is_empty());
        // Terminal session end: no next-input settings.
        assert_eq!(fin.input_mode, 0);
        assert!(fin.input_handling_config.is_none());
        assert_eq!(fin.output_events[0].event_type, 1);
        assert!(fin.disable_prompt_cancellation);
    }

    #[tokio::test]
    async fn terminal_event_goes_first_and_silent_reply_sends_nothing() {
        let (mut sink, mut rx) = sink(OutputMode::Chunk);
        sink.finish(Reply::none()).await.unwrap();
        assert!(drain(&mut rx).is_empty());
        let finished = sink
            .finish(
                Reply::new()
                    .event(OutputEvent::custom("note"))
                    .transfer_to_agent(),
            )
            .await
            .unwrap();
        assert_eq!(finished.terminal, Some(OutputEventKind::TransferToAgent));
        let sent = drain(&mut rx);
        assert_eq!(sent.len(), 1);
        let kinds: Vec<i32> = sent[0].output_events.iter().map(|e| e.event_type).collect();
        assert_eq!(kinds, [2, 3]);
        // A transfer still tells Webex what to collect next.
        assert_eq!(sent[0].input_mode, 3);
    }

    #[tokio::test]
    async fn bad_audio_fails_before_anything_is_sent() {
        let (mut sink, mut rx) = sink(OutputMode::Chunk);
        let err = sink
            .finish(Reply::play(Audio::wav(vec![1, 2, 3])))
            .await
            .unwrap_err();
        assert!(err.audio_error().is_some());
        assert!(drain(&mut rx).is_empty());
        let disabled = ReplySink::disabled(Arc::default());
        assert!(disabled.is_closed());
    }
}
