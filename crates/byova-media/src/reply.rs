//! What a [`VirtualAgent`](crate::VirtualAgent) answers: a [`Reply`] built from prompts, output
//! events, the next input mode and its handling config, transcript and summary.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::audio::{self, AudioEncoding, AudioError, PromptAudio};
use crate::json::{JsonObject, json_to_struct};
use crate::proto;

/// The reply of an agent callback: what Webex plays and does next.
///
/// ```
/// use byova_media::{InputMode, OutputEvent, Prompt, Reply};
///
/// let reply = Reply::say("Your balance is 42 dollars. Anything else?")
///     .input_mode(InputMode::VoiceAndDtmf)
///     .transcript("caller asked for the balance");
/// let bye = Reply::say("Goodbye!").end_session();
/// let transfer = Reply::new()
///     .prompt(Prompt::text("Connecting you to an agent.").barge_in(false))
///     .event(OutputEvent::transfer_to_agent().with_name("billing"));
/// # let _ = (reply, bye, transfer);
/// ```
///
/// An empty [`Reply::new`] still answers (with the next input mode and config, so the call goes on);
/// [`Reply::none`] sends nothing at all.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Reply {
    pub(crate) silent: bool,
    pub(crate) prompts: Vec<Prompt>,
    pub(crate) events: Vec<OutputEvent>,
    pub(crate) input_mode: Option<InputMode>,
    pub(crate) input_config: Option<InputConfig>,
    pub(crate) input_sensitive: bool,
    pub(crate) transcript: Option<TextContent>,
    pub(crate) summary: Option<TextContent>,
    pub(crate) disable_prompt_cancellation: bool,
}

impl Reply {
    /// An empty reply: no prompt, the agent's default next input mode and config.
    pub fn new() -> Self {
        Self::default()
    }

    /// No response message at all (for example for `START_OF_DTMF`).
    ///
    /// Audio already streamed through the reply sink is still closed with a FINAL.
    pub fn none() -> Self {
        Self {
            silent: true,
            ..Self::default()
        }
    }

    /// A reply with one text prompt.
    ///
    /// Webex speaks prompt text with its own text-to-speech where the flow allows it.
    pub fn say(text: impl Into<String>) -> Self {
        Self::new().prompt(Prompt::text(text))
    }

    /// A reply with one audio prompt.
    pub fn play(audio: Audio) -> Self {
        Self::new().prompt(Prompt::audio(audio))
    }

    /// Appends a prompt (prompts play in order).
    pub fn prompt(mut self, prompt: impl Into<Prompt>) -> Self {
        self.silent = false;
        self.prompts.push(prompt.into());
        self
    }

    /// Appends an output event. A terminal event (session end, transfer) is always sent first,
    /// because Webex acts on the first event only.
    pub fn event(mut self, event: OutputEvent) -> Self {
        self.silent = false;
        self.events.push(event);
        self
    }

    /// Ends the session after the prompts (the flow leaves on its handled branch).
    pub fn end_session(self) -> Self {
        self.event(OutputEvent::end_session())
    }

    /// Transfers the call to a human agent after the prompts (the flow's escalate branch).
    pub fn transfer_to_agent(self) -> Self {
        self.event(OutputEvent::transfer_to_agent())
    }

    /// Sends a custom event with a name and JSON metadata.
    pub fn custom_event(self, name: impl Into<String>, metadata: JsonObject) -> Self {
        self.event(OutputEvent::custom(name).with_metadata(metadata))
    }

    /// Sets the input mode for the caller's next input.
    pub fn input_mode(mut self, mode: InputMode) -> Self {
        self.silent = false;
        self.input_mode = Some(mode);
        self
    }

    /// Sets DTMF collection and speech timers for the caller's next input.
    pub fn input_config(mut self, config: InputConfig) -> Self {
        self.silent = false;
        self.input_config = Some(config);
        self
    }

    /// Marks the caller's next input as sensitive (for example card numbers).
    pub fn input_sensitive(mut self, sensitive: bool) -> Self {
        self.silent = false;
        self.input_sensitive = sensitive;
        self
    }

    /// Sets the session transcript (Webex keeps the one on the last response).
    pub fn transcript(mut self, transcript: impl Into<TextContent>) -> Self {
        self.silent = false;
        self.transcript = Some(transcript.into());
        self
    }

    /// Sets the session summary (Webex keeps the one on the last response).
    pub fn summary(mut self, summary: impl Into<TextContent>) -> Self {
        self.silent = false;
        self.summary = Some(summary.into());
        self
    }

    /// Asks Webex not to cancel this reply's prompts when a later reply arrives
    /// (`disable_prompt_cancellation`, newest schema revision; not caller barge-in).
    pub fn disable_prompt_cancellation(mut self, disable: bool) -> Self {
        self.silent = false;
        self.disable_prompt_cancellation = disable;
        self
    }

    /// Whether this reply sends nothing ([`Reply::none`]).
    #[must_use]
    pub fn is_none(&self) -> bool {
        self.silent
    }

    /// The terminal event of this reply (session end or transfer), if any.
    #[must_use]
    pub fn terminal_event(&self) -> Option<&OutputEvent> {
        self.events.iter().find(|event| event.kind.is_terminal())
    }
}

/// A prompt: text, audio, or both, and whether the caller may interrupt it.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Prompt {
    pub(crate) text: Option<String>,
    pub(crate) audio: Option<Audio>,
    pub(crate) audio_uri: Option<String>,
    pub(crate) barge_in: Option<bool>,
}

impl Prompt {
    /// A text prompt (Webex speaks it with its own text-to-speech).
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }

    /// An audio prompt.
    pub fn audio(audio: Audio) -> Self {
        Self {
            audio: Some(audio),
            ..Self::default()
        }
    }

    /// A prompt Webex fetches from a URI (`Prompt.audio_uri`; support on the Webex side is
    /// unverified).
    pub fn uri(uri: impl Into<String>) -> Self {
        Self {
            audio_uri: Some(uri.into()),
            ..Self::default()
        }
    }

    /// Adds text to an audio prompt. Webex may speak the text too, so leave it out unless you
    /// tested the flow.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// Whether the caller may interrupt this prompt (default: the agent's setting).
    pub fn barge_in(mut self, enabled: bool) -> Self {
        self.barge_in = Some(enabled);
        self
    }
}

impl From<Audio> for Prompt {
    fn from(audio: Audio) -> Self {
        Self::audio(audio)
    }
}

impl From<&str> for Prompt {
    fn from(text: &str) -> Self {
        Self::text(text)
    }
}

impl From<String> for Prompt {
    fn from(text: String) -> Self {
        Self::text(text)
    }
}

/// Prompt audio in any shape the crate converts to the 8 kHz μ-law Webex plays.
///
/// Cloning is cheap (the audio is shared). Convert prompts you play often once, with
/// [`Audio::load_file`] or [`Audio::prepared`], so that each call only shares the bytes.
#[derive(Clone)]
pub struct Audio(AudioSource);

#[derive(Clone)]
enum AudioSource {
    /// 8 kHz μ-law, ready to send.
    Mulaw(Bytes),
    Pcm16 {
        samples: Arc<[i16]>,
        sample_rate: u32,
    },
    Encoded {
        bytes: Bytes,
        encoding: AudioEncoding,
        sample_rate: u32,
    },
    Wav(Bytes),
    File(PathBuf),
}

impl Audio {
    /// Raw 8 kHz μ-law bytes (no header): sent as they are.
    pub fn mulaw(bytes: impl Into<Bytes>) -> Self {
        Self(AudioSource::Mulaw(bytes.into()))
    }

    /// 16-bit mono PCM samples at any rate from 1 kHz to 384 kHz (resampled to 8 kHz).
    pub fn pcm16(samples: impl Into<Arc<[i16]>>, sample_rate: u32) -> Self {
        Self(AudioSource::Pcm16 {
            samples: samples.into(),
            sample_rate,
        })
    }

    /// Raw mono bytes in a BYOVA encoding (LINEAR16 little-endian, μ-law or A-law) at a rate.
    pub fn encoded(bytes: impl Into<Bytes>, encoding: AudioEncoding, sample_rate: u32) -> Self {
        Self(AudioSource::Encoded {
            bytes: bytes.into(),
            encoding,
            sample_rate,
        })
    }

    /// A complete WAV file in memory (PCM, float, μ-law or A-law; any rate; mixed down to mono).
    pub fn wav(bytes: impl Into<Bytes>) -> Self {
        Self(AudioSource::Wav(bytes.into()))
    }

    /// A WAV file read (and converted) each time a reply carrying it is sent.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self(AudioSource::File(path.into()))
    }

    /// Reads a WAV file and converts it to 8 kHz μ-law now, for prompts played on many calls.
    ///
    /// # Errors
    /// When the file cannot be read or is not a WAV file this crate reads.
    pub async fn load_file(path: impl Into<PathBuf>) -> Result<Self, AudioError> {
        let bytes = tokio::fs::read(path.into()).await.map_err(AudioError::io)?;
        Self::wav(bytes).prepared()
    }

    /// Converts this audio to 8 kHz μ-law now (a no-op for [`Audio::mulaw`]).
    ///
    /// # Errors
    /// When the audio cannot be converted; [`Audio::file`] sources are rejected here (use
    /// [`Audio::load_file`]).
    pub fn prepared(self) -> Result<Self, AudioError> {
        Ok(Self::mulaw(self.to_mulaw_sync()?))
    }

    /// The 8 kHz μ-law bytes of this audio.
    ///
    /// # Errors
    /// When the audio cannot be read or converted.
    pub async fn to_mulaw(&self) -> Result<Bytes, AudioError> {
        if let AudioSource::File(path) = &self.0 {
            let bytes = tokio::fs::read(path).await.map_err(AudioError::io)?;
            return audio::to_mulaw_8k(PromptAudio::Wav(&bytes)).map(Bytes::from);
        }
        self.to_mulaw_sync()
    }

    fn to_mulaw_sync(&self) -> Result<Bytes, AudioError> {
        let converted = match &self.0 {
            AudioSource::Mulaw(bytes) => return Ok(bytes.clone()),
            AudioSource::Pcm16 {
                samples,
                sample_rate,
            } => audio::to_mulaw_8k(PromptAudio::Pcm16 {
                samples,
                sample_rate: *sample_rate,
            })?,
            AudioSource::Encoded {
                bytes,
                encoding,
                sample_rate,
            } => audio::to_mulaw_8k(PromptAudio::Encoded {
                bytes,
                encoding: *encoding,
                sample_rate: *sample_rate,
            })?,
            AudioSource::Wav(bytes) => audio::to_mulaw_8k(PromptAudio::Wav(bytes))?,
            AudioSource::File(path) => {
                let bytes = std::fs::read(path).map_err(AudioError::io)?;
                audio::to_mulaw_8k(PromptAudio::Wav(&bytes))?
            }
        };
        Ok(Bytes::from(converted))
    }
}

impl fmt::Debug for Audio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            AudioSource::Mulaw(bytes) => write!(f, "Audio::mulaw({} bytes)", bytes.len()),
            AudioSource::Pcm16 {
                samples,
                sample_rate,
            } => write!(
                f,
                "Audio::pcm16({} samples @ {sample_rate} Hz)",
                samples.len()
            ),
            AudioSource::Encoded {
                bytes,
                encoding,
                sample_rate,
            } => write!(
                f,
                "Audio::encoded({} bytes {encoding:?} @ {sample_rate} Hz)",
                bytes.len()
            ),
            AudioSource::Wav(bytes) => write!(f, "Audio::wav({} bytes)", bytes.len()),
            AudioSource::File(path) => write!(f, "Audio::file({})", path.display()),
        }
    }
}

/// An event sent to Webex in a reply.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct OutputEvent {
    pub(crate) kind: OutputEventKind,
    pub(crate) name: String,
    pub(crate) metadata: Option<JsonObject>,
}

/// The kinds of [`OutputEvent`] an agent sends.
///
/// START_OF_INPUT and END_OF_INPUT are sent by the server's endpointing, not by agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OutputEventKind {
    /// End the virtual-agent session (terminal).
    SessionEnd,
    /// Transfer the call to a human agent (terminal).
    TransferToAgent,
    /// A custom event with a name and metadata.
    Custom,
    /// The input matched nothing acceptable (Webex's flow may leave the activity).
    NoMatch,
    /// No input arrived (Webex's flow may leave the activity).
    NoInput,
}

impl OutputEventKind {
    /// Whether the event ends the conversation (session end, transfer).
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::SessionEnd | Self::TransferToAgent)
    }

    fn wire(self) -> proto::output_event::EventType {
        use proto::output_event::EventType;
        match self {
            Self::SessionEnd => EventType::SessionEnd,
            Self::TransferToAgent => EventType::TransferToAgent,
            Self::Custom => EventType::CustomEvent,
            Self::NoMatch => EventType::NoMatch,
            Self::NoInput => EventType::NoInput,
        }
    }
}

impl OutputEvent {
    /// A session-end event.
    pub fn end_session() -> Self {
        Self::of(OutputEventKind::SessionEnd)
    }

    /// A transfer-to-agent event.
    pub fn transfer_to_agent() -> Self {
        Self::of(OutputEventKind::TransferToAgent)
    }

    /// A custom event with a name.
    pub fn custom(name: impl Into<String>) -> Self {
        Self::of(OutputEventKind::Custom).with_name(name)
    }

    /// A no-match event.
    pub fn no_match() -> Self {
        Self::of(OutputEventKind::NoMatch)
    }

    /// A no-input event.
    pub fn no_input() -> Self {
        Self::of(OutputEventKind::NoInput)
    }

    fn of(kind: OutputEventKind) -> Self {
        Self {
            kind,
            name: String::new(),
            metadata: None,
        }
    }

    /// Sets the event name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the event metadata (a JSON object, sent as a `google.protobuf.Struct`).
    pub fn with_metadata(mut self, metadata: JsonObject) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// The kind of event.
    #[must_use]
    pub fn kind(&self) -> OutputEventKind {
        self.kind
    }

    /// The event name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn to_wire(&self) -> proto::OutputEvent {
        proto::OutputEvent {
            event_type: self.kind.wire() as i32,
            name: self.name.clone(),
            metadata: self.metadata.as_ref().map(json_to_struct),
        }
    }
}

/// What input Webex collects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum InputMode {
    /// Caller speech only.
    Voice,
    /// DTMF keys only (Webex opens no audio RPC).
    Dtmf,
    /// Speech and DTMF (Webex's default).
    #[default]
    VoiceAndDtmf,
}

impl InputMode {
    pub(crate) fn wire(self) -> proto::VoiceVaInputMode {
        match self {
            Self::Voice => proto::VoiceVaInputMode::InputVoice,
            Self::Dtmf => proto::VoiceVaInputMode::InputEventDtmf,
            Self::VoiceAndDtmf => proto::VoiceVaInputMode::InputVoiceDtmf,
        }
    }
}

/// DTMF collection and speech timers for the caller's next input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct InputConfig {
    /// How Webex collects DTMF digits; `None` leaves it unset.
    pub dtmf: Option<DtmfConfig>,
    /// Speech timers; `None` leaves them unset.
    pub speech: Option<SpeechTimers>,
}

impl InputConfig {
    /// A config with both parts.
    #[must_use]
    pub fn new(dtmf: Option<DtmfConfig>, speech: Option<SpeechTimers>) -> Self {
        Self { dtmf, speech }
    }

    /// The config Webex's own gateway sends: one digit, 300 ms between digits, `#` ends input,
    /// and 5 s of trailing silence completes speech.
    #[must_use]
    pub fn gateway_default() -> Self {
        Self {
            dtmf: Some(DtmfConfig::new(1, Duration::from_millis(300), Some('#'))),
            speech: Some(SpeechTimers {
                complete: Some(Duration::from_secs(5)),
                ..SpeechTimers::default()
            }),
        }
    }

    pub(crate) fn to_wire(self) -> proto::InputHandlingConfig {
        proto::InputHandlingConfig {
            dtmf_config: self.dtmf.map(DtmfConfig::to_wire),
            speech_timers: self.speech.map(SpeechTimers::to_wire),
        }
    }
}

/// How Webex collects DTMF digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DtmfConfig {
    /// Number of digits that ends collection.
    pub max_digits: u32,
    /// Gap between two digits that ends collection.
    pub inter_digit_timeout: Duration,
    /// Key that ends collection (`0`–`9`, `A`–`D`, `*`, `#`); `None` for no terminator.
    pub terminator: Option<char>,
}

impl DtmfConfig {
    /// A DTMF config.
    #[must_use]
    pub fn new(max_digits: u32, inter_digit_timeout: Duration, terminator: Option<char>) -> Self {
        Self {
            max_digits,
            inter_digit_timeout,
            terminator,
        }
    }

    fn to_wire(self) -> proto::DtmfInputConfig {
        proto::DtmfInputConfig {
            inter_digit_timeout_msec: millis(Some(self.inter_digit_timeout)),
            termchar: self
                .terminator
                .and_then(crate::dtmf::char_to_digit)
                .unwrap_or_default(),
            dtmf_input_length: i32::try_from(self.max_digits).unwrap_or(i32::MAX),
        }
    }
}

/// Speech timers Webex applies to the caller's next input; `None` leaves a timer unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SpeechTimers {
    /// Longest allowed utterance.
    pub max_speech: Option<Duration>,
    /// Trailing silence after which an utterance counts as complete.
    pub complete: Option<Duration>,
    /// Trailing silence after which an utterance counts as incomplete.
    pub incomplete: Option<Duration>,
    /// How long Webex waits for any input before it raises NO_INPUT.
    pub no_input: Option<Duration>,
}

impl SpeechTimers {
    /// Timers with only the no-input timeout set.
    #[must_use]
    pub fn no_input(timeout: Duration) -> Self {
        Self {
            no_input: Some(timeout),
            ..Self::default()
        }
    }

    fn to_wire(self) -> proto::InputSpeechTimers {
        proto::InputSpeechTimers {
            max_speech_timeout_msec: millis(self.max_speech),
            complete_timeout_msec: millis(self.complete),
            incomplete_timeout_msec: millis(self.incomplete),
            no_input_timeout_msec: millis(self.no_input),
        }
    }
}

fn millis(duration: Option<Duration>) -> i32 {
    duration.map_or(0, |d| i32::try_from(d.as_millis()).unwrap_or(i32::MAX))
}

/// Text for a transcript or summary: plain text or SSML, with an optional language.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct TextContent {
    content: TextKind,
    language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TextKind {
    Text(String),
    Ssml(String),
}

impl TextContent {
    /// Plain text.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            content: TextKind::Text(text.into()),
            language: None,
        }
    }

    /// SSML markup.
    pub fn ssml(ssml: impl Into<String>) -> Self {
        Self {
            content: TextKind::Ssml(ssml.into()),
            language: None,
        }
    }

    /// Sets the language (for example `en-US`).
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    pub(crate) fn to_wire(&self) -> proto::TextContent {
        use proto::text_content::InputContent;
        proto::TextContent {
            input_content: Some(match &self.content {
                TextKind::Text(text) => InputContent::Text(text.clone()),
                TextKind::Ssml(ssml) => InputContent::Ssml(ssml.clone()),
            }),
            language_code: self.language.clone().unwrap_or_default(),
        }
    }
}

impl From<&str> for TextContent {
    fn from(text: &str) -> Self {
        Self::text(text)
    }
}

impl From<String> for TextContent {
    fn from(text: String) -> Self {
        Self::text(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_collects_everything() {
        let reply = Reply::say("hi")
            .custom_event("x", JsonObject::new())
            .transfer_to_agent()
            .input_mode(InputMode::Dtmf)
            .input_sensitive(true)
            .summary("s");
        assert!(!reply.is_none());
        assert_eq!(reply.prompts.len(), 1);
        assert_eq!(
            reply.terminal_event().map(OutputEvent::kind),
            Some(OutputEventKind::TransferToAgent)
        );
        assert!(Reply::none().is_none());
        assert!(!Reply::new().is_none());
    }

    #[test]
    fn input_config_maps_to_the_wire() {
        let wire = InputConfig::new(
            Some(DtmfConfig::new(5, Duration::from_secs(3), Some('#'))),
            Some(SpeechTimers {
                no_input: Some(Duration::from_secs(10)),
                complete: Some(Duration::from_millis(800)),
                ..SpeechTimers::default()
            }),
        )
        .to_wire();
        let dtmf = wire.dtmf_config.unwrap();
        assert_eq!(dtmf.dtmf_input_length, 5);
        assert_eq!(dtmf.inter_digit_timeout_msec, 3000);
        assert_eq!(dtmf.termchar, 16);
        let speech = wire.speech_timers.unwrap();
        assert_eq!(speech.no_input_timeout_msec, 10_000);
        assert_eq!(speech.complete_timeout_msec, 800);
        assert_eq!(speech.max_speech_timeout_msec, 0);
        let zero = DtmfConfig::new(1, Duration::ZERO, Some('0')).to_wire();
        assert_eq!(zero.termchar, 10);
    }

    #[test]
    fn audio_converts_to_mulaw() {
        let mulaw = Audio::mulaw(vec![1u8, 2, 3]).to_mulaw_sync().unwrap();
        assert_eq!(&mulaw[..], &[1, 2, 3]);
        let pcm = Audio::pcm16(vec![0i16; 160], 16_000)
            .to_mulaw_sync()
            .unwrap();
        assert_eq!(pcm.len(), 80);
        let wav = Audio::wav(audio::mulaw_wav(&[0xFF; 50]))
            .prepared()
            .unwrap()
            .to_mulaw_sync()
            .unwrap();
        assert_eq!(wav.len(), 50);
        assert!(Audio::wav(vec![1, 2, 3]).prepared().is_err());
        assert_eq!(
            format!("{:?}", Audio::pcm16(vec![0i16; 3], 8000)),
            "Audio::pcm16(3 samples @ 8000 Hz)"
        );
    }
}
