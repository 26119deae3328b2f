//! The demo agent of `byova serve`, exactly as `docs/demo-agent.md` specifies it (the Python
//! capacity baseline implements the same contract).

use std::sync::Arc;
use std::time::Duration;

use byova::media::audio::{AudioEncoding, AudioError};
use byova::media::{
    AgentResult, Audio, Context, Dtmf, DtmfConfig, Event, InputConfig, Prompt, Reply, SessionEnd,
    SessionStart, SpeechTimers, Utterance, VirtualAgent,
};

/// The bundled prompts: 8 kHz μ-law WAV files, built into the binary so it runs from anywhere.
mod files {
    pub(super) const GREETING: &[u8] = include_bytes!("../../assets/prompts/greeting.wav");
    pub(super) const YOU_SAID: &[u8] = include_bytes!("../../assets/prompts/you_said.wav");
    pub(super) const MENU_HELP: &[u8] = include_bytes!("../../assets/prompts/menu_help.wav");
    pub(super) const TRANSFER: &[u8] = include_bytes!("../../assets/prompts/transfer.wav");
    pub(super) const GOODBYE: &[u8] = include_bytes!("../../assets/prompts/goodbye.wav");
    pub(super) const NO_INPUT: &[u8] = include_bytes!("../../assets/prompts/no_input.wav");
}

/// The demo prompts as raw 8 kHz μ-law, converted once and shared by every call.
#[derive(Debug, Clone)]
pub(crate) struct Prompts(Arc<PromptAudio>);

#[derive(Debug)]
struct PromptAudio {
    greeting: Audio,
    you_said: Audio,
    menu_help: Audio,
    transfer: Audio,
    goodbye: Audio,
    no_input: Audio,
}

impl Prompts {
    /// The prompts bundled with the binary.
    pub(crate) fn bundled() -> Result<Self, AudioError> {
        let load = |wav: &'static [u8]| Audio::wav(wav).prepared();
        Ok(Self(Arc::new(PromptAudio {
            greeting: load(files::GREETING)?,
            you_said: load(files::YOU_SAID)?,
            menu_help: load(files::MENU_HELP)?,
            transfer: load(files::TRANSFER)?,
            goodbye: load(files::GOODBYE)?,
            no_input: load(files::NO_INPUT)?,
        })))
    }
}

/// DTMF: one digit, 3 s between digits, `#` ends input; speech: complete after 800 ms of
/// silence, NO_INPUT after 10 s. Sent with every reply that continues the call.
pub(crate) fn input_config() -> InputConfig {
    let mut speech = SpeechTimers::no_input(Duration::from_secs(10));
    speech.complete = Some(Duration::from_millis(800));
    InputConfig::new(
        Some(DtmfConfig::new(1, Duration::from_secs(3), Some('#'))),
        Some(speech),
    )
}

/// The demo agent: greets, plays each utterance back, answers the DTMF menu, and says goodbye
/// after `max_turns` utterances.
#[derive(Debug)]
pub(crate) struct DemoAgent {
    prompts: Prompts,
    max_turns: u32,
}

/// Per call: how many utterances were answered.
#[derive(Debug, Default)]
pub(crate) struct Turns {
    answered: u32,
}

impl DemoAgent {
    /// An agent ending calls after `max_turns` utterances.
    pub(crate) fn new(prompts: Prompts, max_turns: u32) -> Self {
        Self { prompts, max_turns }
    }

    fn audio(&self) -> &PromptAudio {
        &self.prompts.0
    }

    /// A bundled prompt; only the greeting and the menu help may be interrupted.
    fn prompt(audio: &Audio, barge_in: bool) -> Prompt {
        Prompt::audio(audio.clone()).barge_in(barge_in)
    }

    fn greeting(&self) -> Reply {
        Reply::new().prompt(Self::prompt(&self.audio().greeting, true))
    }

    fn menu_help(&self) -> Reply {
        Reply::new().prompt(Self::prompt(&self.audio().menu_help, true))
    }

    fn goodbye(&self) -> Reply {
        Reply::new()
            .prompt(Self::prompt(&self.audio().goodbye, false))
            .end_session()
    }
}

/// The caller's utterance as received (8 kHz μ-law from Webex), else converted from PCM.
fn caller_audio(utterance: &Utterance) -> Audio {
    match utterance.received() {
        Some(mulaw)
            if utterance.encoding() == AudioEncoding::Mulaw && utterance.sample_rate() == 8000 =>
        {
            Audio::mulaw(mulaw.to_vec())
        }
        _ => Audio::pcm16(utterance.pcm16().to_vec(), utterance.sample_rate()),
    }
}

impl VirtualAgent for DemoAgent {
    type State = Turns;

    async fn on_session_start(
        &self,
        ctx: &mut Context<'_, Turns>,
        start: SessionStart,
    ) -> AgentResult {
        tracing::info!(
            conversation_id = ctx.conversation_id(),
            virtual_agent_id = ctx.call().virtual_agent_id(),
            event = start.name,
            "call started"
        );
        Ok(self.greeting())
    }

    async fn on_utterance(
        &self,
        ctx: &mut Context<'_, Turns>,
        utterance: Utterance,
    ) -> AgentResult {
        let turns = ctx.state();
        turns.answered += 1;
        let answered = turns.answered;
        tracing::info!(
            conversation_id = ctx.conversation_id(),
            turn = answered,
            seconds = utterance.duration().as_secs_f32(),
            "utterance played back"
        );
        let reply = Reply::new()
            .prompt(Self::prompt(&self.audio().you_said, false))
            .prompt(Prompt::audio(caller_audio(&utterance)).barge_in(false));
        Ok(if answered >= self.max_turns {
            reply
                .prompt(Self::prompt(&self.audio().goodbye, false))
                .end_session()
        } else {
            reply
        })
    }

    async fn on_dtmf(&self, ctx: &mut Context<'_, Turns>, dtmf: Dtmf) -> AgentResult {
        tracing::info!(
            conversation_id = ctx.conversation_id(),
            digits = dtmf.digits,
            "DTMF"
        );
        Ok(match dtmf.digits.as_str() {
            "1" => self.greeting(),
            "0" => Reply::new()
                .prompt(Self::prompt(&self.audio().transfer, false))
                .transfer_to_agent(),
            "#" => self.goodbye(),
            _ => self.menu_help(),
        })
    }

    async fn on_event(&self, ctx: &mut Context<'_, Turns>, event: Event) -> AgentResult {
        tracing::debug!(conversation_id = ctx.conversation_id(), ?event, "event");
        Ok(match event {
            Event::NoInput => Reply::new()
                .prompt(Self::prompt(&self.audio().no_input, false))
                .prompt(Self::prompt(&self.audio().menu_help, true)),
            // START_OF_DTMF, CUSTOM_EVENT: just the closing FINAL (input mode and config).
            _ => Reply::new(),
        })
    }

    async fn on_session_end(&self, ctx: &mut Context<'_, Turns>, end: SessionEnd) {
        tracing::info!(
            conversation_id = ctx.conversation_id(),
            reason = %end.reason,
            utterances = ctx.state_ref().answered,
            seconds = end.duration.as_secs_f32(),
            "call ended"
        );
    }
}

#[cfg(test)]
mod tests {
    use byova::media::audio::{Wav, WavFormat};

    use super::*;

    #[test]
    fn the_bundled_prompts_are_8khz_mulaw_wav_files() {
        for (name, bytes) in [
            ("greeting", files::GREETING),
            ("you_said", files::YOU_SAID),
            ("menu_help", files::MENU_HELP),
            ("transfer", files::TRANSFER),
            ("goodbye", files::GOODBYE),
            ("no_input", files::NO_INPUT),
        ] {
            let wav = Wav::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(wav.format(), WavFormat::Mulaw, "{name}");
            assert_eq!(wav.sample_rate(), 8000, "{name}");
            assert_eq!(wav.channels(), 1, "{name}");
            assert!(wav.data().len() >= 4000, "{name} is shorter than 0.5 s");
        }
        Prompts::bundled().expect("the prompts convert");
    }

    #[test]
    fn the_input_config_is_the_contracts() {
        let config = input_config();
        let dtmf = config.dtmf.expect("DTMF config");
        assert_eq!(dtmf.max_digits, 1);
        assert_eq!(dtmf.inter_digit_timeout, Duration::from_secs(3));
        assert_eq!(dtmf.terminator, Some('#'));
        let speech = config.speech.expect("speech timers");
        assert_eq!(speech.complete, Some(Duration::from_millis(800)));
        assert_eq!(speech.no_input, Some(Duration::from_secs(10)));
        assert_eq!(speech.max_speech, None);
        assert_eq!(speech.incomplete, None);
    }
}
