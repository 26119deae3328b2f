use proptest::prelude::*;

use super::*;

/// Builds a RIFF/WAVE file from raw chunks (id, body); odd bodies get their pad byte.
fn riff(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut body = b"WAVE".to_vec();
    for (id, data) in chunks {
        body.extend_from_slice(*id);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

fn fmt_chunk(tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
    let block = channels.wrapping_mul(bits) / 8;
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&tag.to_le_bytes());
    fmt.extend_from_slice(&channels.to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&rate.wrapping_mul(u32::from(block)).to_le_bytes());
    fmt.extend_from_slice(&block.to_le_bytes());
    fmt.extend_from_slice(&bits.to_le_bytes());
    fmt
}

fn extensible_fmt(sub_tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
    let mut fmt = fmt_chunk(TAG_EXTENSIBLE, channels, rate, bits);
    fmt.extend_from_slice(&22u16.to_le_bytes()); // cbSize
    fmt.extend_from_slice(&bits.to_le_bytes()); // valid bits
    fmt.extend_from_slice(&0x3u32.to_le_bytes()); // channel mask
    fmt.extend_from_slice(&sub_tag.to_le_bytes());
    fmt.extend_from_slice(&SUBFORMAT_GUID_TAIL);
    fmt
}

fn kind(bytes: &[u8]) -> AudioErrorKind {
    Wav::parse(bytes).unwrap_err().kind().clone()
}

#[test]
fn mulaw_wav_header_is_the_gateway_header_with_a_correct_riff_size() {
    let data = vec![0xFFu8; 100];
    let wav = mulaw_wav(&data);
    assert_eq!(wav.len(), 144);
    let mut expected = Vec::new();
    expected.extend_from_slice(b"RIFF");
    expected.extend_from_slice(&136u32.to_le_bytes()); // file length - 8
    expected.extend_from_slice(b"WAVEfmt ");
    expected.extend_from_slice(&[16, 0, 0, 0]);
    expected.extend_from_slice(&[7, 0]); // μ-law
    expected.extend_from_slice(&[1, 0]); // mono
    expected.extend_from_slice(&8000u32.to_le_bytes());
    expected.extend_from_slice(&8000u32.to_le_bytes()); // byte rate
    expected.extend_from_slice(&[1, 0]); // block align
    expected.extend_from_slice(&[8, 0]); // bits
    expected.extend_from_slice(b"data");
    expected.extend_from_slice(&100u32.to_le_bytes());
    assert_eq!(&wav[..WAV_HEADER_LEN], &expected[..]);
    assert_eq!(&wav[WAV_HEADER_LEN..], &data[..]);

    let parsed = Wav::parse(&wav).unwrap();
    assert_eq!(parsed.format(), WavFormat::Mulaw);
    assert_eq!(parsed.sample_rate(), 8000);
    assert_eq!(parsed.channels(), 1);
    assert_eq!(parsed.data(), &data[..]);
    assert_eq!(
        parsed.duration(),
        Duration::from_millis(12) + Duration::from_micros(500)
    );
}

#[test]
fn odd_length_mulaw_wav_has_no_pad_byte_and_parses_back() {
    let wav = mulaw_wav(&[1, 2, 3]);
    assert_eq!(wav.len(), 47);
    assert_eq!(&wav[4..8], &39u32.to_le_bytes());
    assert_eq!(Wav::parse(&wav).unwrap().data(), &[1, 2, 3]);
    let mut appended = vec![9];
    write_mulaw_wav(&[], &mut appended);
    assert_eq!(appended.len(), 45);
    assert_eq!(&appended[5..9], &36u32.to_le_bytes());
}

#[test]
fn pcm16_wav_round_trips() {
    let samples = [0i16, 1, -1, i16::MAX, i16::MIN, 1234];
    let wav = pcm16_wav(&samples, 16000);
    assert_eq!(wav.len(), WAV_HEADER_LEN + 12);
    assert_eq!(&wav[4..8], &(36u32 + 12).to_le_bytes());
    assert_eq!(&wav[20..22], &[1, 0]);
    assert_eq!(&wav[28..32], &32000u32.to_le_bytes());
    assert_eq!(&wav[32..34], &[2, 0]);
    let parsed = Wav::parse(&wav).unwrap();
    assert_eq!(parsed.format(), WavFormat::Pcm { bits: 16 });
    assert_eq!(parsed.sample_rate(), 16000);
    assert_eq!(parsed.frames(), 6);
    assert_eq!(parsed.decode_mono(), samples);
}

#[test]
fn stereo_is_averaged_to_mono() {
    let mut data = Vec::new();
    for (l, r) in [
        (1000i16, 3000i16),
        (-2, -4),
        (i16::MAX, i16::MAX),
        (i16::MIN, i16::MAX),
    ] {
        data.extend_from_slice(&l.to_le_bytes());
        data.extend_from_slice(&r.to_le_bytes());
    }
    data.extend_from_slice(&[0x11, 0x22]); // a partial frame is ignored
    let wav = riff(&[(b"fmt ", fmt_chunk(1, 2, 44100, 16)), (b"data", data)]);
    let parsed = Wav::parse(&wav).unwrap();
    assert_eq!(parsed.channels(), 2);
    assert_eq!(parsed.frames(), 4);
    assert_eq!(parsed.decode_mono(), [2000, -3, i16::MAX, 0]);
}

#[test]
fn integer_and_float_widths() {
    let cases: Vec<(Vec<u8>, Vec<u8>, Vec<i16>)> = vec![
        (
            fmt_chunk(1, 1, 8000, 8),
            vec![0, 128, 255],
            vec![-32768, 0, 32512],
        ),
        (
            fmt_chunk(1, 1, 8000, 24),
            vec![0x00, 0x34, 0x12, 0xFF, 0xFF, 0xFF],
            vec![0x1234, -1],
        ),
        (
            fmt_chunk(1, 1, 8000, 32),
            [0x7FFF_FFFFi32, -65536]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
            vec![i16::MAX, -1],
        ),
        (
            fmt_chunk(3, 1, 8000, 32),
            [0.5f32, -1.0, 2.0, f32::NAN]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
            vec![16384, -32768, 32767, 0],
        ),
        (
            fmt_chunk(3, 1, 8000, 64),
            [-0.25f64, 1.0]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
            vec![-8192, 32767],
        ),
        (fmt_chunk(6, 1, 8000, 8), vec![0xD5, 0x55], vec![8, -8]),
        (fmt_chunk(7, 1, 8000, 8), vec![0x80, 0xFF], vec![32124, 0]),
        (fmt_chunk(7, 2, 8000, 8), vec![0x80, 0xFF], vec![16062]),
    ];
    for (fmt, data, expected) in cases {
        let wav = riff(&[(b"fmt ", fmt), (b"data", data)]);
        assert_eq!(Wav::parse(&wav).unwrap().decode_mono(), expected);
    }
}

#[test]
fn extensible_formats_use_the_sub_format() {
    let data: Vec<u8> = [100i16, -100]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let wav = riff(&[(b"fmt ", extensible_fmt(1, 1, 24000, 16)), (b"data", data)]);
    let parsed = Wav::parse(&wav).unwrap();
    assert_eq!(parsed.format(), WavFormat::Pcm { bits: 16 });
    assert_eq!(parsed.sample_rate(), 24000);
    assert_eq!(parsed.decode_mono(), [100, -100]);

    let wav = riff(&[
        (b"fmt ", extensible_fmt(7, 1, 8000, 8)),
        (b"data", vec![0x80]),
    ]);
    assert_eq!(Wav::parse(&wav).unwrap().format(), WavFormat::Mulaw);

    let mut bad_guid = extensible_fmt(1, 1, 8000, 16);
    bad_guid[39] ^= 0xFF;
    let wav = riff(&[(b"fmt ", bad_guid), (b"data", vec![0, 0])]);
    assert_eq!(
        kind(&wav),
        AudioErrorKind::UnsupportedWavFormat {
            format_tag: 0xFFFE,
            bits_per_sample: 16
        }
    );

    let mut short = extensible_fmt(1, 1, 8000, 16);
    short.truncate(30);
    let wav = riff(&[(b"fmt ", short), (b"data", vec![0, 0])]);
    assert!(matches!(kind(&wav), AudioErrorKind::MalformedWav(_)));
}

#[test]
fn chunks_are_walked_and_word_aligned() {
    let wav = riff(&[
        (b"LIST", vec![1, 2, 3]), // odd: one pad byte follows
        (b"fmt ", fmt_chunk(7, 1, 8000, 8)),
        (b"fact", 2u32.to_le_bytes().to_vec()),
        (b"data", vec![0x80, 0x00]),
        (b"data", vec![0x11]),
    ]);
    let parsed = Wav::parse(&wav).unwrap();
    assert_eq!(parsed.data(), &[0x80, 0x00]);

    // The data chunk may come before fmt.
    let wav = riff(&[(b"data", vec![0xFF]), (b"fmt ", fmt_chunk(7, 1, 8000, 8))]);
    assert_eq!(Wav::parse(&wav).unwrap().data(), &[0xFF]);
}

#[test]
fn an_oversized_data_chunk_is_cut_to_the_bytes_present() {
    let mut wav = mulaw_wav(&[1, 2, 3, 4]);
    wav[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    wav[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(Wav::parse(&wav).unwrap().data(), &[1, 2, 3, 4]);
}

#[test]
fn malformed_and_unsupported_files_are_typed_errors() {
    assert_eq!(kind(b""), AudioErrorKind::NotWav);
    assert_eq!(kind(b"RIFF\0\0\0\0WAV"), AudioErrorKind::NotWav);
    assert_eq!(kind(b"RIFX\x04\0\0\0WAVE"), AudioErrorKind::NotWav);
    assert_eq!(kind(b"RIFF\x04\0\0\0AVI "), AudioErrorKind::NotWav);

    assert_eq!(
        kind(&riff(&[(b"fmt ", fmt_chunk(7, 1, 8000, 8))])),
        AudioErrorKind::MalformedWav("no data chunk")
    );
    assert_eq!(
        kind(&riff(&[(b"data", vec![1])])),
        AudioErrorKind::MalformedWav("no fmt chunk")
    );
    assert_eq!(
        kind(b"RIFF\x04\0\0\0WAVE"),
        AudioErrorKind::MalformedWav("no fmt chunk")
    );
    assert_eq!(
        kind(&riff(&[(b"fmt ", vec![1, 0, 1, 0]), (b"data", vec![])])),
        AudioErrorKind::MalformedWav("the fmt chunk is shorter than 16 bytes")
    );
    let mut past_end = riff(&[(b"fmt ", fmt_chunk(1, 1, 8000, 16))]);
    past_end[16..20].copy_from_slice(&1000u32.to_le_bytes());
    assert_eq!(
        kind(&past_end),
        AudioErrorKind::MalformedWav("the fmt chunk runs past the end")
    );
    assert_eq!(
        kind(&riff(&[
            (b"fmt ", fmt_chunk(1, 0, 8000, 16)),
            (b"data", vec![])
        ])),
        AudioErrorKind::MalformedWav("the fmt chunk declares 0 channels")
    );
    assert_eq!(
        kind(&riff(&[
            (b"fmt ", fmt_chunk(1, 1, 0, 16)),
            (b"data", vec![])
        ])),
        AudioErrorKind::UnsupportedSampleRate(0)
    );
    for (tag, bits) in [(0x55u16, 0u16), (1, 12), (3, 16), (7, 16), (2, 4)] {
        assert_eq!(
            kind(&riff(&[
                (b"fmt ", fmt_chunk(tag, 1, 8000, bits.max(8))),
                (b"data", vec![])
            ])),
            AudioErrorKind::UnsupportedWavFormat {
                format_tag: tag,
                bits_per_sample: bits.max(8)
            }
        );
    }
}

#[test]
fn read_wav_file_reads_and_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prompt.wav");
    std::fs::write(&path, pcm16_wav(&[5, -5], 22050)).unwrap();
    assert_eq!(read_wav_file(&path).unwrap(), (vec![5, -5], 22050));

    let err = read_wav_file(dir.path().join("missing.wav")).unwrap_err();
    assert_eq!(err.kind(), &AudioErrorKind::Io);
    let bad = dir.path().join("bad.wav");
    std::fs::write(&bad, b"not audio").unwrap();
    assert_eq!(
        read_wav_file(&bad).unwrap_err().kind(),
        &AudioErrorKind::NotWav
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(wav) = Wav::parse(&bytes) {
            let _ = wav.decode_mono();
            let _ = wav.duration();
        }
    }

    #[test]
    fn arbitrary_chunks_after_a_valid_riff_header_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        fmt_first in any::<bool>(),
        tag in prop_oneof![Just(1u16), Just(3), Just(6), Just(7), Just(0xFFFE), any::<u16>()],
        channels in 0u16..8,
        bits in prop_oneof![Just(8u16), Just(16), Just(24), Just(32), Just(64), any::<u16>()],
    ) {
        // A plausible fmt chunk plus arbitrary bytes, so the parser gets past the first checks.
        let fmt = if tag == 0xFFFE {
            extensible_fmt(1, channels, 8000, bits)
        } else {
            fmt_chunk(tag, channels, 8000, bits)
        };
        let mut file = b"RIFF\0\0\0\0WAVE".to_vec();
        if fmt_first {
            file.extend_from_slice(b"fmt ");
            file.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
            file.extend_from_slice(&fmt);
        }
        file.extend_from_slice(&body);
        if let Ok(wav) = Wav::parse(&file) {
            let mono = wav.decode_mono();
            prop_assert_eq!(mono.len(), wav.frames());
        }
    }
}
