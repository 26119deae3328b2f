//! Cutting μ-law prompt audio into CHUNK-mode pieces of 100 B to 64 KiB.
//!
//! Webex requires every CHUNK response to carry between [`MIN_CHUNK`] and [`MAX_CHUNK`] bytes.
//! Both chunkers here never emit a piece shorter than [`MIN_CHUNK`]: they size the last pieces so
//! the tail is long enough, and only when no valid split exists (the whole prompt is shorter than
//! 100 B, or a maximum below 200 B with an awkward length) they pad the tail with μ-law silence
//! ([`MULAW_SILENCE`], less than 12.5 ms).

use std::borrow::Cow;

use super::mulaw::MULAW_SILENCE;

/// The smallest CHUNK Webex accepts, in bytes.
pub const MIN_CHUNK: usize = 100;
/// The largest CHUNK Webex accepts, in bytes (64 KiB).
pub const MAX_CHUNK: usize = 65_536;

/// Splits a complete μ-law prompt into CHUNK pieces of at most `max_chunk` bytes (clamped to
/// 100 B – 64 KiB). Empty audio gives no chunks.
///
/// Uses as few pieces as possible, each as large as possible, none shorter than [`MIN_CHUNK`]:
/// near the end the pieces are sized so the last one is long enough. Only when no such split
/// exists (the whole prompt is shorter than 100 B, or a maximum below 200 B meets an awkward
/// length) is the last piece padded with μ-law silence ([`MULAW_SILENCE`], under 12.5 ms).
///
/// Chunks borrow from `audio`; only a padded tail is owned.
#[must_use]
pub fn chunks(audio: &[u8], max_chunk: usize) -> Chunks<'_> {
    Chunks {
        rest: audio,
        max: max_chunk.clamp(MIN_CHUNK, MAX_CHUNK),
    }
}

/// The iterator of [`chunks`].
#[derive(Debug, Clone)]
pub struct Chunks<'a> {
    rest: &'a [u8],
    max: usize,
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Cow<'a, [u8]>;

    fn next(&mut self) -> Option<Self::Item> {
        let len = next_len(self.rest.len(), self.max)?;
        let (chunk, rest) = self.rest.split_at(len);
        self.rest = rest;
        Some(if chunk.len() < MIN_CHUNK {
            Cow::Owned(padded(chunk))
        } else {
            Cow::Borrowed(chunk)
        })
    }
}

/// Length of the next chunk cut from `remaining` bytes when nothing more will follow.
///
/// Uses as few pieces as possible, each as large as possible; when `remaining` cannot be split into
/// pieces of `MIN_CHUNK..=max` bytes, it cuts full pieces and leaves a short tail to be padded.
fn next_len(remaining: usize, max: usize) -> Option<usize> {
    if remaining == 0 {
        return None;
    }
    if remaining <= max {
        return Some(remaining);
    }
    let pieces = remaining.div_ceil(max);
    if MIN_CHUNK * pieces > remaining {
        return Some(max);
    }
    // The other `pieces - 1` pieces need at least MIN_CHUNK bytes each.
    Some(max.min(remaining - MIN_CHUNK * (pieces - 1)))
}

fn padded(chunk: &[u8]) -> Vec<u8> {
    let mut owned = Vec::with_capacity(MIN_CHUNK);
    owned.extend_from_slice(chunk);
    owned.resize(MIN_CHUNK, MULAW_SILENCE);
    owned
}

/// Buffers μ-law audio that arrives in pieces (streaming text-to-speech) and hands out CHUNK-sized
/// pieces as soon as possible.
///
/// [`pop`](Self::pop) returns everything buffered (up to the maximum) except [`MIN_CHUNK`] bytes it
/// holds back, so that the final piece can never be too short; [`finish`](Self::finish) returns
/// the rest at the end. Call both until they return `None`.
#[derive(Debug, Clone)]
pub struct StreamChunker {
    buf: Vec<u8>,
    max: usize,
}

impl StreamChunker {
    /// A chunker emitting pieces of at most `max_chunk` bytes (clamped to 100 B – 64 KiB).
    #[must_use]
    pub fn new(max_chunk: usize) -> Self {
        Self {
            buf: Vec::new(),
            max: max_chunk.clamp(MIN_CHUNK, MAX_CHUNK),
        }
    }

    /// Appends audio.
    pub fn push(&mut self, audio: &[u8]) {
        self.buf.extend_from_slice(audio);
    }

    /// Bytes buffered and not yet handed out.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next piece that can go out now, if any.
    pub fn pop(&mut self) -> Option<Vec<u8>> {
        if self.buf.len() < 2 * MIN_CHUNK {
            return None;
        }
        let len = (self.buf.len() - MIN_CHUNK).min(self.max);
        Some(self.buf.drain(..len).collect())
    }

    /// After the last [`push`](Self::push): the remaining pieces, one per call, the last one padded
    /// with silence if it would be shorter than [`MIN_CHUNK`].
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        let len = next_len(self.buf.len(), self.max)?;
        let chunk: Vec<u8> = self.buf.drain(..len).collect();
        Some(if chunk.len() < MIN_CHUNK {
            padded(&chunk)
        } else {
            chunk
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn lens(audio: &[u8], max: usize) -> Vec<usize> {
        chunks(audio, max).map(|c| c.len()).collect()
    }

    #[test]
    fn fixed_size_with_a_rebalanced_tail() {
        let audio: Vec<u8> = (0..=255).cycle().take(500).collect();
        assert_eq!(lens(&audio, 160), [160, 140, 100, 100]);
        assert_eq!(lens(&audio, 200), [200, 200, 100]);
        assert_eq!(lens(&audio, 250), [250, 250]);
        assert_eq!(lens(&audio, 1000), [500]);
        // Content and order are preserved.
        let joined: Vec<u8> = chunks(&audio, 160).flat_map(|c| c.into_owned()).collect();
        assert_eq!(joined, audio);
    }

    #[test]
    fn sizes_are_clamped_to_the_webex_limits() {
        let audio = vec![1u8; 200_000];
        assert_eq!(lens(&audio, 1_000_000), [65_536, 65_536, 65_536, 3_392]);
        assert_eq!(lens(&audio[..250], 1), [100, 100, 100]);
        assert_eq!(lens(&audio[..250], 130), [130, 120]);
        let audio = vec![1u8; 65_536 + 50];
        assert_eq!(lens(&audio, MAX_CHUNK), [65_486, 100]);
    }

    #[test]
    fn short_prompts_and_awkward_tails_are_padded_with_silence() {
        let short = chunks(&[7, 8, 9], 160).collect::<Vec<_>>();
        assert_eq!(short.len(), 1);
        assert_eq!(short[0].len(), MIN_CHUNK);
        assert_eq!(&short[0][..3], &[7, 8, 9]);
        assert!(short[0][3..].iter().all(|&b| b == MULAW_SILENCE));
        // 150 bytes at a 100-byte maximum cannot be split into two valid pieces.
        let audio = vec![5u8; 150];
        let pieces: Vec<_> = chunks(&audio, 100).collect();
        assert_eq!(pieces.len(), 2);
        assert_eq!(&pieces[0][..], &[5u8; 100][..]);
        assert_eq!(&pieces[1][..50], &[5u8; 50][..]);
        assert_eq!(&pieces[1][50..], &[MULAW_SILENCE; 50][..]);
        assert_eq!(chunks(&[], 160).count(), 0);
    }

    #[test]
    fn stream_chunker_holds_back_a_minimal_tail() {
        let mut chunker = StreamChunker::new(1000);
        chunker.push(&[1; 150]);
        assert_eq!(chunker.pop(), None);
        chunker.push(&[2; 850]);
        let first = chunker.pop().unwrap();
        assert_eq!(first.len(), 900);
        assert_eq!(chunker.pop(), None);
        assert_eq!(chunker.buffered(), 100);
        chunker.push(&[3; 30]);
        assert_eq!(chunker.pop(), None);
        assert_eq!(chunker.finish().unwrap().len(), 130);
        assert_eq!(chunker.finish(), None);

        let mut chunker = StreamChunker::new(0);
        chunker.push(&[4; 10]);
        assert_eq!(
            chunker.finish().unwrap(),
            [&[4u8; 10][..], &[MULAW_SILENCE; 90][..]].concat()
        );
        assert_eq!(chunker.finish(), None);
    }

    proptest! {
        #[test]
        fn every_chunk_is_within_limits_and_content_is_kept(
            len in 0usize..140_000,
            max in 0usize..70_000,
        ) {
            let audio: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let pieces: Vec<_> = chunks(&audio, max).collect();
            let max = max.clamp(MIN_CHUNK, MAX_CHUNK);
            let mut joined = Vec::new();
            for piece in &pieces {
                prop_assert!((MIN_CHUNK..=max).contains(&piece.len()), "{}", piece.len());
                joined.extend_from_slice(piece);
            }
            // Only the padding of the last piece may be added.
            prop_assert_eq!(&joined[..len], &audio[..]);
            prop_assert!(joined[len..].iter().all(|&b| b == MULAW_SILENCE));
            prop_assert!(joined.len() - len < MIN_CHUNK);
            // Padding only when no split into valid pieces exists.
            let padding_needed = len > 0 && MIN_CHUNK * len.div_ceil(max) > len;
            prop_assert_eq!(joined.len() > len, padding_needed);
        }

        #[test]
        fn stream_chunker_obeys_the_same_limits(
            pieces in proptest::collection::vec(0usize..3000, 0..30),
            max in 0usize..5000,
        ) {
            let mut chunker = StreamChunker::new(max);
            let max = max.clamp(MIN_CHUNK, MAX_CHUNK);
            let mut sent = Vec::new();
            let mut out = Vec::new();
            for (n, len) in pieces.iter().enumerate() {
                let piece = vec![n as u8; *len];
                sent.extend_from_slice(&piece);
                chunker.push(&piece);
                while let Some(chunk) = chunker.pop() {
                    out.push(chunk);
                }
            }
            while let Some(chunk) = chunker.finish() {
                out.push(chunk);
            }
            let joined: Vec<u8> = out.concat();
            for chunk in &out {
                prop_assert!((MIN_CHUNK..=max).contains(&chunk.len()), "{}", chunk.len());
            }
            prop_assert_eq!(&joined[..sent.len()], &sent[..]);
            prop_assert!(joined[sent.len()..].iter().all(|&b| b == MULAW_SILENCE));
            prop_assert!(joined.len() - sent.len() < MIN_CHUNK);
        }
    }
}
