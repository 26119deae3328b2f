//! The gRPC codec of the generated service and client: prost, with small per-RPC buffers.
//!
//! Tonic allocates a decode and an encode buffer for every RPC (8 KiB each by default). Caller
//! audio arrives in frames of a few hundred bytes, and a server holds thousands of RPCs open, so
//! the buffers start at 1 KiB and grow only for the messages that need it (prompt chunks).

use std::marker::PhantomData;

use tonic::codec::{BufferSettings, Codec};
use tonic_prost::{ProstDecoder, ProstEncoder};

/// The initial per-RPC buffer, in bytes.
const BUFFER_SIZE: usize = 1024;
/// How much ready-to-send data is batched into one write.
const YIELD_THRESHOLD: usize = 32 * 1024;

/// A prost codec with 1 KiB initial buffers (used by the generated code through
/// `codec_path`).
#[derive(Debug, Clone, Copy)]
pub struct ByovaCodec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> Default for ByovaCodec<T, U> {
    fn default() -> Self {
        Self {
            _types: PhantomData,
        }
    }
}

impl<T, U> Codec for ByovaCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::new(BufferSettings::new(BUFFER_SIZE, YIELD_THRESHOLD))
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstDecoder::new(BufferSettings::new(BUFFER_SIZE, YIELD_THRESHOLD))
    }
}
