//! Fuzz twin of `fuzz/fuzz_targets/wav_parse.rs`: WAV files (any bytes, or RIFF files built
//! chunk by chunk with hostile fields), the prompt conversion and the CHUNK-mode chunkers.
//!
//! Invariants:
//! - `Wav::parse` never panics; whatever it accepts is self-consistent (at least one channel, a
//!   rate, `data` borrowed from the input, `decode_mono` one sample per complete frame,
//!   `duration` = frames / rate);
//! - a well-formed RIFF file parses as the RIFF/WAVE rules say: the first `fmt ` and `data`
//!   chunks count, odd chunks are padded, unknown chunks are skipped, `WAVE_FORMAT_EXTENSIBLE`
//!   resolves to its sub-format, and PCM 8/16/24/32, float 32/64, μ-law and A-law decode to the
//!   channel average of each frame; everything else is a malformed or unsupported error;
//! - what the writers produce reads back unchanged;
//! - `to_mulaw_8k` gives `ceil(frames × 8000 / rate)` bytes for every convertible rate, and
//!   refuses the others with `UnsupportedSampleRate`;
//! - CHUNK pieces are 100 B – max bytes, as few as possible, and concatenate to the audio plus
//!   less than 100 bytes of μ-law silence.
//!
//! The cargo-fuzz target includes this file; with `cfg(fuzzing)` the input model derives
//! `arbitrary::Arbitrary`.

use byova_media::audio::{
    self, AudioErrorKind, MAX_CHUNK, MIN_CHUNK, MULAW_SILENCE, PromptAudio, StreamChunker, Wav,
    WavFormat, alaw, mulaw,
};

// ---------------------------------------------------------------------------------------------
// Input model
// ---------------------------------------------------------------------------------------------

/// One input.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Input {
    /// Any bytes.
    Raw(Vec<u8>),
    /// A RIFF/WAVE file built from chunks.
    Built(Built),
    /// What the writers produce.
    Written {
        /// μ-law bytes for `mulaw_wav`.
        mulaw: Vec<u8>,
        /// Samples for `pcm16_wav`.
        pcm: Vec<i16>,
        /// Their rate.
        rate: u32,
    },
}

/// A RIFF/WAVE file: chunks, then optionally cut short; its audio is also chunked.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub struct Built {
    /// The chunks after `RIFF....WAVE`.
    pub chunks: Vec<Chunk>,
    /// Keep only this many bytes of the file.
    pub cut: Option<u16>,
    /// The RIFF size field (the parser ignores it; streaming writers leave it wrong).
    pub riff_size: Option<u32>,
    /// `max_chunk` for the chunkers.
    pub max_chunk: u32,
    /// How the stream chunker receives the audio: piece lengths.
    pub pieces: Vec<u16>,
}

/// One RIFF chunk.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Chunk {
    /// `fmt `.
    Fmt(Fmt),
    /// `data`.
    Data(Vec<u8>),
    /// Any other id (`fmt ` and `data` are renamed `fmt_` / `dat_`).
    Other([u8; 4], Vec<u8>),
    /// A chunk whose size field claims more (or less) than its bytes.
    Lying {
        /// 0: `fmt `, 1: `data`, else `LIST`.
        id: u8,
        /// The size field.
        size: u32,
        /// The bytes that follow.
        bytes: Vec<u8>,
    },
}

/// A `fmt ` chunk.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub struct Fmt {
    /// The format tag (the sub-format's with `extensible`).
    pub tag: Tag,
    /// `nChannels`.
    pub channels: u16,
    /// `nSamplesPerSec`.
    pub rate: Rate,
    /// `wBitsPerSample`.
    pub bits: u16,
    /// `WAVE_FORMAT_EXTENSIBLE`.
    pub extensible: Option<Extensible>,
    /// Bytes after the fields (`cbSize` and more for plain formats).
    pub extra: Vec<u8>,
    /// Cut the body to this many bytes when it is shorter.
    pub cut: Option<u8>,
}

/// A format tag.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Tag {
    /// 1.
    Pcm,
    /// 3.
    Float,
    /// 6.
    Alaw,
    /// 7.
    Mulaw,
    /// Any value.
    Other(u16),
}

/// A sample rate.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Rate {
    /// One of [`COMMON_RATES`].
    Common(u8),
    /// Any value.
    Any(u32),
}

/// The `WAVE_FORMAT_EXTENSIBLE` fields.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub struct Extensible {
    /// `cbSize` (22 for a complete extension).
    pub cb_size: u16,
    /// Whether the GUID tail is the standard `KSDATAFORMAT_SUBTYPE_*` one.
    pub standard_guid: bool,
}

/// Rates prompt audio comes in (the first one is 0).
pub const COMMON_RATES: [u32; 10] = [
    0, 8000, 16_000, 11_025, 22_050, 24_000, 32_000, 44_100, 48_000, 1,
];

const GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

// ---------------------------------------------------------------------------------------------
// Building files
// ---------------------------------------------------------------------------------------------

impl Tag {
    fn value(self) -> u16 {
        match self {
            Self::Pcm => 1,
            Self::Float => 3,
            Self::Alaw => 6,
            Self::Mulaw => 7,
            Self::Other(tag) => tag,
        }
    }
}

impl Rate {
    fn value(self) -> u32 {
        match self {
            Self::Common(index) => COMMON_RATES[usize::from(index) % COMMON_RATES.len()],
            Self::Any(rate) => rate,
        }
    }
}

impl Fmt {
    fn body(&self) -> Vec<u8> {
        let mut body = Vec::new();
        let tag = if self.extensible.is_some() {
            0xFFFE
        } else {
            self.tag.value()
        };
        let block_align = self.channels.wrapping_mul(self.bits / 8);
        body.extend_from_slice(&tag.to_le_bytes());
        body.extend_from_slice(&self.channels.to_le_bytes());
        body.extend_from_slice(&self.rate.value().to_le_bytes());
        body.extend_from_slice(
            &self
                .rate
                .value()
                .wrapping_mul(u32::from(block_align))
                .to_le_bytes(),
        );
        body.extend_from_slice(&block_align.to_le_bytes());
        body.extend_from_slice(&self.bits.to_le_bytes());
        if let Some(extensible) = &self.extensible {
            body.extend_from_slice(&extensible.cb_size.to_le_bytes());
            body.extend_from_slice(&self.bits.to_le_bytes()); // wValidBitsPerSample
            body.extend_from_slice(&0_u32.to_le_bytes()); // dwChannelMask
            body.extend_from_slice(&self.tag.value().to_le_bytes());
            if extensible.standard_guid {
                body.extend_from_slice(&GUID_TAIL);
            } else {
                body.extend_from_slice(&[0x5A; 14]);
            }
        }
        body.extend_from_slice(&self.extra);
        if let Some(cut) = self.cut {
            body.truncate(usize::from(cut));
        }
        body
    }

    /// The RIFF/WAVE rules for a `fmt ` chunk: the format, or the class of the error.
    fn expected(&self) -> Result<(WavFormat, u16, u32), Class> {
        let body = self.body();
        if body.len() < 16 {
            return Err(Class::Malformed);
        }
        let mut tag = u16::from_le_bytes([body[0], body[1]]);
        if tag == 0xFFFE {
            if body.len() < 40 || u16::from_le_bytes([body[16], body[17]]) < 22 {
                return Err(Class::Malformed);
            }
            if body[26..40] != GUID_TAIL {
                return Err(Class::Unsupported);
            }
            tag = u16::from_le_bytes([body[24], body[25]]);
        }
        let channels = u16::from_le_bytes([body[2], body[3]]);
        let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
        let bits = u16::from_le_bytes([body[14], body[15]]);
        if channels == 0 {
            return Err(Class::Malformed);
        }
        if rate == 0 {
            return Err(Class::Unsupported);
        }
        let format = match (tag, bits) {
            (1, 8 | 16 | 24 | 32) => WavFormat::Pcm { bits },
            (3, 32 | 64) => WavFormat::Float { bits },
            (6, 8) => WavFormat::Alaw,
            (7, 8) => WavFormat::Mulaw,
            _ => return Err(Class::Unsupported),
        };
        Ok((format, channels, rate))
    }
}

impl Chunk {
    fn id(&self) -> [u8; 4] {
        match self {
            Self::Fmt(_) => *b"fmt ",
            Self::Data(_) => *b"data",
            Self::Other(id, _) => match id {
                b"fmt " => *b"fmt_",
                b"data" => *b"dat_",
                id => *id,
            },
            Self::Lying { id: 0, .. } => *b"fmt ",
            Self::Lying { id: 1, .. } => *b"data",
            Self::Lying { .. } => *b"LIST",
        }
    }

    fn body(&self) -> Vec<u8> {
        match self {
            Self::Fmt(fmt) => fmt.body(),
            Self::Data(bytes) | Self::Other(_, bytes) | Self::Lying { bytes, .. } => bytes.clone(),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        let body = self.body();
        let size = match self {
            Self::Lying { size, .. } => *size,
            _ => u32::try_from(body.len()).expect("small"),
        };
        out.extend_from_slice(&self.id());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&body);
        if body.len() % 2 == 1 {
            out.push(0); // RIFF pad byte
        }
    }
}

impl Built {
    fn bytes(&self) -> Vec<u8> {
        let mut chunks = Vec::new();
        for chunk in &self.chunks {
            chunk.write(&mut chunks);
        }
        let riff_size = self
            .riff_size
            .unwrap_or_else(|| u32::try_from(chunks.len() + 4).expect("small"));
        let mut file = Vec::with_capacity(chunks.len() + 12);
        file.extend_from_slice(b"RIFF");
        file.extend_from_slice(&riff_size.to_le_bytes());
        file.extend_from_slice(b"WAVE");
        file.extend_from_slice(&chunks);
        if let Some(cut) = self.cut {
            file.truncate(usize::from(cut));
        }
        file
    }

    /// What parsing must give, when the file is well formed enough to know.
    fn expected(&self) -> Option<Result<Expected, Class>> {
        if self.cut.is_some()
            || self
                .chunks
                .iter()
                .any(|chunk| matches!(chunk, Chunk::Lying { .. }))
        {
            return None;
        }
        let mut fmt = None;
        let mut data = None;
        for chunk in &self.chunks {
            if fmt.is_some() && data.is_some() {
                break;
            }
            match chunk {
                Chunk::Fmt(chunk) if fmt.is_none() => match chunk.expected() {
                    Ok(parsed) => fmt = Some(parsed),
                    Err(class) => return Some(Err(class)),
                },
                Chunk::Data(bytes) if data.is_none() => data = Some(bytes.clone()),
                _ => {}
            }
        }
        Some(match (fmt, data) {
            (Some((format, channels, rate)), Some(data)) => Ok(Expected {
                format,
                channels,
                rate,
                data,
            }),
            _ => Err(Class::Malformed),
        })
    }
}

/// What a well-formed file parses to.
#[derive(Debug)]
struct Expected {
    format: WavFormat,
    channels: u16,
    rate: u32,
    data: Vec<u8>,
}

/// The class of a parse error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Malformed,
    Unsupported,
}

// ---------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------

/// Runs one input and asserts the invariants.
pub fn check(input: &Input) {
    match input {
        Input::Raw(bytes) => {
            let _ = check_any(bytes);
            check_chunkers(bytes, 3200, &[]);
        }
        Input::Built(built) => {
            let bytes = built.bytes();
            let parsed = check_any(&bytes);
            if let Some(expected) = built.expected() {
                match (&parsed, expected) {
                    (
                        Ok(wav),
                        Ok(Expected {
                            format,
                            channels,
                            rate,
                            data,
                        }),
                    ) => {
                        assert_eq!(
                            (wav.format(), wav.channels(), wav.sample_rate()),
                            (format, channels, rate)
                        );
                        assert_eq!(wav.data(), &data[..]);
                        assert_eq!(wav.decode_mono(), reference_decode(format, channels, &data));
                    }
                    (Err(error), Err(class)) => {
                        let got = if error.is_malformed() {
                            Class::Malformed
                        } else {
                            assert!(error.is_unsupported(), "{error}");
                            Class::Unsupported
                        };
                        assert_eq!(got, class, "{error}");
                    }
                    (parsed, expected) => panic!("parsed {parsed:?}, expected {expected:?}"),
                }
            }
            let audio = parsed.map(|wav| wav.data().to_vec()).unwrap_or(bytes);
            check_chunkers(&audio, built.max_chunk as usize, &built.pieces);
        }
        Input::Written { mulaw, pcm, rate } => {
            let file = audio::mulaw_wav(mulaw);
            assert_eq!(file.len(), audio::WAV_HEADER_LEN + mulaw.len());
            let wav = Wav::parse(&file).expect("mulaw_wav output parses");
            assert_eq!(
                (wav.format(), wav.channels(), wav.sample_rate()),
                (WavFormat::Mulaw, 1, 8000)
            );
            assert_eq!(wav.data(), &mulaw[..]);
            assert_eq!(wav.decode_mono(), mulaw::decode(mulaw));
            assert_eq!(
                audio::to_mulaw_8k(PromptAudio::Wav(&file)).expect("8 kHz μ-law"),
                *mulaw
            );

            let rate = match rate % 4 {
                0 => 8000,
                1 => 16_000,
                2 => 48_000,
                _ => 1 + rate % 400_000,
            };
            let file = audio::pcm16_wav(pcm, rate);
            let wav = Wav::parse(&file).expect("pcm16_wav output parses");
            assert_eq!(
                (wav.format(), wav.channels(), wav.sample_rate()),
                (WavFormat::Pcm { bits: 16 }, 1, rate)
            );
            assert_eq!(wav.decode_mono(), *pcm);
            check_conversion(&wav, &file);
        }
    }
}

/// What holds for any bytes.
fn check_any(bytes: &[u8]) -> Result<Wav<'_>, audio::AudioError> {
    let parsed = Wav::parse(bytes);
    match &parsed {
        Ok(wav) => {
            assert!(wav.channels() >= 1 && wav.sample_rate() >= 1);
            let data = wav.data();
            let inside = bytes.as_ptr_range();
            assert!(
                data.is_empty()
                    || (inside.start <= data.as_ptr() && data.as_ptr_range().end <= inside.end),
                "data is not borrowed from the input"
            );
            let frame = wav.format().bytes_per_sample() * usize::from(wav.channels());
            assert_eq!(wav.frames(), data.len() / frame);
            assert_eq!(wav.decode_mono().len(), wav.frames());
            let nanos = wav.frames() as u128 * 1_000_000_000 / u128::from(wav.sample_rate());
            assert_eq!(wav.duration().as_nanos(), nanos);
            check_conversion(wav, bytes);
        }
        Err(error) => {
            assert!(error.is_malformed() || error.is_unsupported(), "{error:?}");
            let _ = error.to_string();
        }
    }
    parsed
}

/// `to_mulaw_8k` of a parsed file: `ceil(frames × 8000 / rate)` bytes for convertible rates.
fn check_conversion(wav: &Wav<'_>, file: &[u8]) {
    let rate = wav.sample_rate();
    let phases = u64::from(8000 / gcd(rate, 8000));
    let convertible = (1000..=384_000).contains(&rate) && phases <= 1024;
    // Designing a filter costs phases × taps (about 45 taps per 8 kHz of input); the rare rates
    // whose filter takes long to design (e.g. 383 992 Hz: 1000 phases of 2160 taps) are skipped.
    let taps = (u64::from(rate) * 45 / 8000).max(48);
    if convertible && phases * taps > 300_000 {
        return;
    }
    let converted = audio::to_mulaw_8k(PromptAudio::Wav(file));
    if convertible {
        let converted = converted.expect("convertible");
        let expected = (wav.frames() as u64 * 8000).div_ceil(u64::from(rate));
        assert_eq!(converted.len() as u64, expected);
        if wav.format() == WavFormat::Mulaw && wav.channels() == 1 && rate == 8000 {
            assert_eq!(converted, wav.data());
        }
    } else {
        let error = converted.expect_err("rate not convertible");
        assert!(
            matches!(error.kind(), AudioErrorKind::UnsupportedSampleRate(_)),
            "{error}"
        );
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Each frame's channels decoded to 16 bits and averaged (rounding toward zero).
fn reference_decode(format: WavFormat, channels: u16, data: &[u8]) -> Vec<i16> {
    let width = format.bytes_per_sample();
    let sample = |s: &[u8]| -> i64 {
        let value = match format {
            WavFormat::Mulaw => mulaw::decode_sample(s[0]),
            WavFormat::Alaw => alaw::decode_sample(s[0]),
            WavFormat::Pcm { bits: 8 } => (i16::from(s[0]) - 128) * 256,
            // Wider PCM keeps its two most significant bytes.
            WavFormat::Pcm { .. } => i16::from_le_bytes([s[width - 2], s[width - 1]]),
            WavFormat::Float { bits: 32 } => {
                float(f64::from(f32::from_le_bytes(s.try_into().expect("4"))))
            }
            WavFormat::Float { .. } => float(f64::from_le_bytes(s.try_into().expect("8"))),
        };
        i64::from(value)
    };
    let frame = width * usize::from(channels);
    data.chunks_exact(frame)
        .map(|frame| {
            let sum: i64 = frame.chunks_exact(width).map(sample).sum();
            i16::try_from(sum / i64::from(channels)).expect("a mean of i16 is an i16")
        })
        .collect()
}

/// A float sample in [-1, 1] as 16 bits: rounded, saturated, NaN as 0.
fn float(value: f64) -> i16 {
    let scaled = (value * 32768.0).round();
    if scaled.is_nan() {
        0
    } else {
        scaled.clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
    }
}

/// Both chunkers: pieces of 100 B – max, as few as possible, the audio then < 100 B of silence.
fn check_chunkers(audio: &[u8], max_chunk: usize, pieces: &[u16]) {
    let max = max_chunk.clamp(MIN_CHUNK, MAX_CHUNK);
    let whole: Vec<Vec<u8>> = audio::chunks(audio, max_chunk)
        .map(|piece| piece.into_owned())
        .collect();
    assert_eq!(whole.len(), audio.len().div_ceil(max), "{max} B pieces");
    check_pieces(audio, max, &whole);

    let mut chunker = StreamChunker::new(max_chunk);
    let mut streamed = Vec::new();
    let mut rest = audio;
    let mut lengths = pieces.iter().map(|n| usize::from(*n));
    while !rest.is_empty() {
        let n = lengths.next().unwrap_or(rest.len()).min(rest.len());
        let (piece, tail) = rest.split_at(n);
        chunker.push(piece);
        rest = tail;
        while let Some(piece) = chunker.pop() {
            streamed.push(piece);
        }
    }
    while let Some(piece) = chunker.finish() {
        streamed.push(piece);
    }
    assert_eq!(chunker.buffered(), 0);
    check_pieces(audio, max, &streamed);
}

fn check_pieces(audio: &[u8], max: usize, pieces: &[Vec<u8>]) {
    for piece in pieces {
        assert!(
            (MIN_CHUNK..=max).contains(&piece.len()),
            "a {} B piece (max {max})",
            piece.len()
        );
    }
    let joined = pieces.concat();
    assert!(joined.len() >= audio.len());
    assert_eq!(&joined[..audio.len()], audio);
    let padding = &joined[audio.len()..];
    assert!(padding.len() < MIN_CHUNK);
    assert!(padding.iter().all(|b| *b == MULAW_SILENCE));
}

// ---------------------------------------------------------------------------------------------
// The proptest twin
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod twin {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    fn fmt() -> impl Strategy<Value = Fmt> {
        let supported = prop_oneof![
            Just((Tag::Pcm, 8_u16)),
            Just((Tag::Pcm, 16)),
            Just((Tag::Pcm, 24)),
            Just((Tag::Pcm, 32)),
            Just((Tag::Float, 32)),
            Just((Tag::Float, 64)),
            Just((Tag::Alaw, 8)),
            Just((Tag::Mulaw, 8)),
        ];
        let tag = prop_oneof![
            4 => Just(Tag::Pcm),
            2 => Just(Tag::Float),
            2 => Just(Tag::Alaw),
            3 => Just(Tag::Mulaw),
            1 => any::<u16>().prop_map(Tag::Other),
        ];
        let channels =
            prop_oneof![4 => Just(1_u16), 2 => 2_u16..4, 1 => Just(0), 1 => any::<u16>()];
        let rate = prop_oneof![
            6 => any::<u8>().prop_map(Rate::Common),
            1 => any::<u32>().prop_map(Rate::Any),
        ];
        let bits = prop_oneof![
            6 => prop_oneof![Just(8_u16), Just(16), Just(24), Just(32), Just(64)],
            1 => any::<u16>(),
        ];
        let format = prop_oneof![3 => supported, 1 => (tag, bits)];
        let extensible = proptest::option::weighted(
            0.2,
            (
                prop_oneof![4 => Just(22_u16), 1 => any::<u16>()],
                proptest::bool::weighted(0.85),
            )
                .prop_map(|(cb_size, standard_guid)| Extensible {
                    cb_size,
                    standard_guid,
                }),
        );
        (
            format,
            channels,
            rate,
            extensible,
            prop_oneof![4 => Just(Vec::new()), 1 => vec(any::<u8>(), 0..5)],
            proptest::option::weighted(0.05, any::<u8>()),
        )
            .prop_map(
                |((tag, bits), channels, rate, extensible, extra, cut)| Fmt {
                    tag,
                    channels,
                    rate,
                    bits,
                    extensible,
                    extra,
                    cut,
                },
            )
    }

    fn chunk() -> impl Strategy<Value = Chunk> {
        prop_oneof![
            4 => fmt().prop_map(Chunk::Fmt),
            4 => vec(any::<u8>(), 0..600).prop_map(Chunk::Data),
            2 => (any::<[u8; 4]>(), vec(any::<u8>(), 0..9))
                .prop_map(|(id, bytes)| Chunk::Other(id, bytes)),
            1 => (0_u8..3, any::<u32>(), vec(any::<u8>(), 0..40))
                .prop_map(|(id, size, bytes)| Chunk::Lying { id, size, bytes }),
        ]
    }

    fn built() -> impl Strategy<Value = Built> {
        let other = || {
            (any::<[u8; 4]>(), vec(any::<u8>(), 0..9))
                .prop_map(|(id, bytes)| Chunk::Other(id, bytes))
        };
        // Mostly the usual layout (`fmt `, then `data`, maybe with other chunks around).
        let usual = (
            vec(other(), 0..2),
            fmt(),
            vec(other(), 0..2),
            vec(any::<u8>(), 0..600),
        )
            .prop_map(|(before, fmt, between, data)| {
                let mut chunks = before;
                chunks.push(Chunk::Fmt(fmt));
                chunks.extend(between);
                chunks.push(Chunk::Data(data));
                chunks
            });
        (
            prop_oneof![3 => usual, 2 => vec(chunk(), 0..5)],
            proptest::option::weighted(0.1, any::<u16>()),
            proptest::option::weighted(0.2, any::<u32>()),
            prop_oneof![Just(3200_u32), 0_u32..400, any::<u32>()],
            vec(0_u16..700, 0..6),
        )
            .prop_map(|(chunks, cut, riff_size, max_chunk, pieces)| Built {
                chunks,
                cut,
                riff_size,
                max_chunk,
                pieces,
            })
    }

    fn input() -> impl Strategy<Value = Input> {
        prop_oneof![
            1 => vec(any::<u8>(), 0..200).prop_map(Input::Raw),
            8 => built().prop_map(Input::Built),
            1 => (vec(any::<u8>(), 0..300), vec(any::<i16>(), 0..300), any::<u32>())
                .prop_map(|(mulaw, pcm, rate)| Input::Written { mulaw, pcm, rate }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(256),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn wav_files_prompt_conversion_and_chunking(input in input()) {
            check(&input);
        }
    }
}
