//! Caller audio: WAV files turned into what Webex sends (8 kHz μ-law), and the bundled sample.

use std::path::Path;
use std::time::Duration;

use byova::media::audio::{PromptAudio, to_mulaw_8k};

use crate::exit::CliError;

/// The utterance played when no step is given: "Yes." with silence around it (8 kHz μ-law WAV).
const SAMPLE: &[u8] = include_bytes!("sample_yes.wav");

/// An utterance ready to send.
#[derive(Debug, Clone)]
pub(crate) struct Utterance {
    /// What to call it in the timeline (the file name).
    pub(crate) name: String,
    /// 8 kHz μ-law bytes.
    pub(crate) mulaw: Vec<u8>,
}

impl Utterance {
    /// Its length.
    pub(crate) fn duration(&self) -> Duration {
        Duration::from_micros(self.mulaw.len() as u64 * 125)
    }

    /// The bundled sample.
    pub(crate) fn sample() -> Self {
        Self {
            name: "the bundled sample \"Yes.\"".to_owned(),
            mulaw: to_mulaw_8k(PromptAudio::Wav(SAMPLE))
                .expect("the bundled sample is an 8 kHz mu-law WAV file"),
        }
    }

    /// Reads a WAV file in any common format and converts it.
    pub(crate) fn read(path: &Path) -> Result<Self, CliError> {
        let bytes = std::fs::read(path)
            .map_err(|error| CliError::usage(format!("cannot read {}: {error}", path.display())))?;
        let mulaw = to_mulaw_8k(PromptAudio::Wav(&bytes)).map_err(|error| {
            CliError::usage(format!(
                "{} is not a usable WAV file: {error}",
                path.display()
            ))
        })?;
        if mulaw.is_empty() {
            return Err(CliError::usage(format!(
                "{} holds no audio",
                path.display()
            )));
        }
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        Ok(Self { name, mulaw })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_the_yes_fixture() {
        let sample = Utterance::sample();
        // 21,753 samples: 2.72 s.
        assert_eq!(sample.mulaw.len(), 21_753);
        assert_eq!(sample.duration(), Duration::from_micros(21_753 * 125));
    }

    #[test]
    fn bad_files_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Utterance::read(&dir.path().join("missing.wav")).unwrap_err();
        assert!(matches!(missing, CliError::Usage(_)), "{missing}");
        let junk = dir.path().join("junk.wav");
        std::fs::write(&junk, b"not a wav").unwrap();
        let error = Utterance::read(&junk).unwrap_err();
        assert!(
            error.to_string().contains("not a usable WAV file"),
            "{error}"
        );
    }
}
