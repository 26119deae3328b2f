//! `cargo xtask fixtures`: spoken test fixtures with espeak-ng.
//!
//! Synthesises a few utterances with espeak-ng, converts them to 8 kHz with sox, trims each
//! phrase to its audible part, joins phrases with exact pauses, surrounds the speech with exact
//! digital silence and writes 8 kHz mono μ-law WAV files (the format Webex sends) to
//! `tests/fixtures/`, plus `tests/fixtures/speech.json` with the exact speech boundaries in samples.
//!
//! The boundaries are measured on the final μ-law audio itself: a speech segment runs from the
//! first to the last sample whose decoded magnitude reaches [`THRESHOLD`].

use std::path::Path;

use anyhow::{Context, bail};
use serde_json::json;

use crate::sh;

/// Output sample rate (Webex's caller audio).
const RATE: u32 = 8000;
/// Magnitude (of 32768) a sample must reach to count as speech: about −40 dBFS.
const THRESHOLD: i32 = 328;
/// Where the fixtures go, relative to the workspace root.
const DIR: &str = "tests/fixtures";

/// One phrase spoken by espeak-ng.
struct Phrase {
    text: &'static str,
    voice: &'static str,
    words_per_minute: u32,
}

/// One fixture file: phrases joined by pauses, with silence around.
struct Fixture {
    file: &'static str,
    description: &'static str,
    phrases: &'static [Phrase],
    /// Digital silence between consecutive phrases, in milliseconds.
    pause_ms: u32,
    leading_silence_ms: u32,
    trailing_silence_ms: u32,
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        file: "yes.wav",
        description: "a short word, American male voice",
        phrases: &[Phrase {
            text: "Yes.",
            voice: "en-us",
            words_per_minute: 160,
        }],
        pause_ms: 0,
        leading_silence_ms: 800,
        trailing_silence_ms: 1500,
    },
    Fixture {
        file: "balance.wav",
        description: "a sentence, British female voice",
        phrases: &[Phrase {
            text: "I would like to check the balance of my savings account.",
            voice: "en-gb+f3",
            words_per_minute: 165,
        }],
        pause_ms: 0,
        leading_silence_ms: 1000,
        trailing_silence_ms: 1500,
    },
    Fixture {
        file: "two_phrases.wav",
        description: "two phrases with a 300 ms pause (one utterance at 800 ms end silence), \
                      American voice, slow",
        phrases: &[
            Phrase {
                text: "My account number",
                voice: "en-us+m3",
                words_per_minute: 140,
            },
            Phrase {
                text: "is four five six.",
                voice: "en-us+m3",
                words_per_minute: 140,
            },
        ],
        pause_ms: 300,
        leading_silence_ms: 600,
        trailing_silence_ms: 1500,
    },
    Fixture {
        file: "agent.wav",
        description: "a short request, Scottish voice, fast",
        phrases: &[Phrase {
            text: "Talk to an agent, please.",
            voice: "en-gb-scotland",
            words_per_minute: 190,
        }],
        pause_ms: 0,
        leading_silence_ms: 1200,
        trailing_silence_ms: 1500,
    },
];

pub(crate) fn run() -> anyhow::Result<()> {
    for program in ["espeak-ng", "sox"] {
        if !sh::has_program(program) {
            bail!("`{program}` is missing: install it with `apt-get install -y espeak-ng sox`");
        }
    }
    let work = tempfile::tempdir()?;
    std::fs::create_dir_all(DIR)?;
    let mut manifest = Vec::new();
    for fixture in FIXTURES {
        let mut pcm: Vec<i16> = silence(fixture.leading_silence_ms);
        for (index, phrase) in fixture.phrases.iter().enumerate() {
            if index > 0 {
                pcm.extend(silence(fixture.pause_ms));
            }
            let spoken = synthesize(phrase, work.path())
                .with_context(|| format!("cannot synthesise {:?}", phrase.text))?;
            pcm.extend_from_slice(trim(&spoken));
        }
        pcm.extend(silence(fixture.trailing_silence_ms));

        let mulaw: Vec<u8> = pcm.iter().map(|&s| mulaw_encode(s)).collect();
        let decoded: Vec<i16> = mulaw.iter().map(|&b| mulaw_decode(b)).collect();
        let segments = speech_segments(&decoded, fixture.pause_ms);
        if segments.len() != fixture.phrases.len() {
            bail!(
                "{}: found {} speech segments for {} phrases",
                fixture.file,
                segments.len(),
                fixture.phrases.len()
            );
        }
        let path = Path::new(DIR).join(fixture.file);
        std::fs::write(&path, mulaw_wav(&mulaw))
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!(
            "wrote {} ({} bytes, speech {:?})",
            path.display(),
            mulaw.len() + 44,
            segments
        );
        manifest.push(json!({
            "file": fixture.file,
            "description": fixture.description,
            "text": fixture.phrases.iter().map(|p| p.text).collect::<Vec<_>>().join(" "),
            "voices": fixture.phrases.iter().map(|p| p.voice).collect::<Vec<_>>(),
            "samples": mulaw.len(),
            "speech_start_sample": segments[0].0,
            "speech_end_sample": segments[segments.len() - 1].1,
            "segments": segments.iter().map(|&(start, end)| json!([start, end])).collect::<Vec<_>>(),
        }));
    }
    let manifest = json!({
        "about": "Spoken endpointing fixtures generated by `cargo xtask fixtures` (espeak-ng + sox). \
                  Sample indices at sample_rate; a segment [start, end) runs from the first to one \
                  past the last sample whose decoded magnitude reaches threshold.",
        "sample_rate": RATE,
        "encoding": "mulaw",
        "threshold": THRESHOLD,
        "fixtures": manifest,
    });
    let path = Path::new(DIR).join("speech.json");
    std::fs::write(&path, serde_json::to_string_pretty(&manifest)? + "\n")?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// Speaks `phrase` and returns it as 8 kHz 16-bit PCM.
fn synthesize(phrase: &Phrase, work: &Path) -> anyhow::Result<Vec<i16>> {
    let wav = work.join("phrase.wav");
    let raw = work.join("phrase.raw");
    let wav_arg = wav.to_string_lossy();
    let raw_arg = raw.to_string_lossy();
    let speed = phrase.words_per_minute.to_string();
    sh::run(
        "espeak-ng",
        &[
            "-v",
            phrase.voice,
            "-s",
            &speed,
            "-w",
            &wav_arg,
            phrase.text,
        ],
    )?;
    // -D: no dither, so the output is deterministic.
    let rate = RATE.to_string();
    sh::run(
        "sox",
        &[
            &wav_arg,
            "-D",
            "-r",
            &rate,
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            "-t",
            "raw",
            &raw_arg,
        ],
    )?;
    let bytes = std::fs::read(&raw)?;
    Ok(bytes
        .chunks_exact(2)
        .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
        .collect())
}

/// The part of `pcm` from the first to the last sample reaching the threshold.
fn trim(pcm: &[i16]) -> &[i16] {
    let loud = |s: &i16| i32::from(*s).abs() >= THRESHOLD;
    match (pcm.iter().position(loud), pcm.iter().rposition(loud)) {
        (Some(first), Some(last)) => &pcm[first..=last],
        _ => &[],
    }
}

/// Speech segments `[start, end)`: runs of loud samples split only at quiet gaps of at least 90 %
/// of `pause_ms` (the pauses inserted between phrases); `0` gives one segment.
fn speech_segments(pcm: &[i16], pause_ms: u32) -> Vec<(usize, usize)> {
    let min_gap = match pause_ms {
        0 => usize::MAX,
        ms => (ms * RATE / 1000 * 9 / 10) as usize,
    };
    let mut segments: Vec<(usize, usize)> = Vec::new();
    for (index, &sample) in pcm.iter().enumerate() {
        if i32::from(sample).abs() < THRESHOLD {
            continue;
        }
        match segments.last_mut() {
            Some((_, end)) if index - *end < min_gap => *end = index + 1,
            _ => segments.push((index, index + 1)),
        }
    }
    segments
}

fn silence(ms: u32) -> Vec<i16> {
    vec![0; (ms * RATE / 1000) as usize]
}

/// G.711 μ-law encoding (Sun algorithm, bias 0x84, clip 32635), as byova-media's codec.
fn mulaw_encode(sample: i16) -> u8 {
    let mut value = i32::from(sample);
    let sign: u8 = if value < 0 { 0x80 } else { 0 };
    value = value.abs().min(32635) + 0x84;
    let exponent = 24 - (value as u32).leading_zeros();
    let mantissa = ((value >> (exponent + 3)) & 0x0F) as u8;
    !(sign | ((exponent as u8) << 4) | mantissa)
}

fn mulaw_decode(code: u8) -> i16 {
    let u = !code;
    let magnitude = ((((i32::from(u) & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)) - 0x84;
    (if u & 0x80 != 0 { -magnitude } else { magnitude }) as i16
}

/// An 8 kHz mono μ-law WAV file with the 44-byte header Webex uses.
fn mulaw_wav(data: &[u8]) -> Vec<u8> {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX - 36);
    let mut out = Vec::with_capacity(44 + data.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&7u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(data);
    out
}
