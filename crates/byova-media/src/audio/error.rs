//! The error of the audio functions: malformed or unsupported input.

use std::fmt;

/// Why audio could not be parsed or converted.
///
/// Returned by WAV parsing, resampling and prompt conversion. Look at [`kind`](Self::kind) for
/// the reason; the message never contains audio bytes.
#[derive(Debug)]
pub struct AudioError {
    kind: AudioErrorKind,
    source: Option<std::io::Error>,
}

/// The reason of an [`AudioError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AudioErrorKind {
    /// The bytes are not a RIFF/WAVE file.
    NotWav,
    /// The WAV file is cut short or a chunk is inconsistent.
    MalformedWav(&'static str),
    /// The WAV file holds a codec this crate does not read.
    UnsupportedWavFormat {
        /// The `fmt ` format tag (for WAVE_FORMAT_EXTENSIBLE, the sub-format's tag).
        format_tag: u16,
        /// Bits per sample.
        bits_per_sample: u16,
    },
    /// A sample rate that is zero, out of range, or not convertible.
    UnsupportedSampleRate(u32),
    /// Reading an audio file failed; the I/O error is the [`source`](std::error::Error::source).
    Io,
}

impl AudioError {
    pub(crate) fn new(kind: AudioErrorKind) -> Self {
        Self { kind, source: None }
    }

    pub(crate) fn io(source: std::io::Error) -> Self {
        Self {
            kind: AudioErrorKind::Io,
            source: Some(source),
        }
    }

    pub(crate) fn malformed(what: &'static str) -> Self {
        Self::new(AudioErrorKind::MalformedWav(what))
    }

    /// The reason.
    #[must_use]
    pub fn kind(&self) -> &AudioErrorKind {
        &self.kind
    }

    /// Whether the input is broken (not a WAV file, or a malformed one).
    #[must_use]
    pub fn is_malformed(&self) -> bool {
        matches!(
            self.kind,
            AudioErrorKind::NotWav | AudioErrorKind::MalformedWav(_)
        )
    }

    /// Whether the input is well formed but uses a format or sample rate this crate does not convert.
    #[must_use]
    pub fn is_unsupported(&self) -> bool {
        matches!(
            self.kind,
            AudioErrorKind::UnsupportedWavFormat { .. } | AudioErrorKind::UnsupportedSampleRate(_)
        )
    }
}

impl fmt::Display for AudioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            AudioErrorKind::NotWav => f.write_str("not a RIFF/WAVE file"),
            AudioErrorKind::MalformedWav(what) => write!(f, "malformed WAV file: {what}"),
            AudioErrorKind::UnsupportedWavFormat {
                format_tag,
                bits_per_sample,
            } => write!(
                f,
                "unsupported WAV format: tag {format_tag:#06x} with {bits_per_sample} bits per sample"
            ),
            AudioErrorKind::UnsupportedSampleRate(rate) => {
                write!(f, "unsupported sample rate: {rate} Hz")
            }
            AudioErrorKind::Io => f.write_str("cannot read the audio file"),
        }
    }
}

impl std::error::Error for AudioError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|err| err as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_predicates() {
        let err = AudioError::malformed("fmt chunk shorter than 16 bytes");
        assert!(err.is_malformed());
        assert!(!err.is_unsupported());
        assert_eq!(
            err.to_string(),
            "malformed WAV file: fmt chunk shorter than 16 bytes"
        );
        let err = AudioError::new(AudioErrorKind::UnsupportedWavFormat {
            format_tag: 0x55,
            bits_per_sample: 0,
        });
        assert!(err.is_unsupported());
        assert_eq!(
            err.to_string(),
            "unsupported WAV format: tag 0x0055 with 0 bits per sample"
        );
        let err = AudioError::new(AudioErrorKind::UnsupportedSampleRate(7));
        assert!(err.is_unsupported());
        assert_eq!(err.kind(), &AudioErrorKind::UnsupportedSampleRate(7));
        assert_eq!(err.to_string(), "unsupported sample rate: 7 Hz");
        let err = AudioError::new(AudioErrorKind::NotWav);
        assert_eq!(err.to_string(), "not a RIFF/WAVE file");
        let err = AudioError::io(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert_eq!(err.kind(), &AudioErrorKind::Io);
        assert_eq!(err.to_string(), "cannot read the audio file");
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("entity not found"));
    }
}
