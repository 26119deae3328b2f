//! Requests encoded once, sent many times.
//!
//! A protobuf message may be split into field groups encoded separately and concatenated: the
//! parser merges them. So each request is two shared pieces: the call's `head` (conversation id,
//! org id, agent id — encoded once per call) and a `body` holding the input oneof (an audio
//! frame, SESSION_START, DTMF… — encoded once per load test). Sending a frame clones two
//! [`Bytes`] handles and copies about 200 bytes into tonic's buffer: no protobuf encoding and no
//! allocation per frame.

use bytes::{BufMut as _, Bytes};
use prost::Message as _;
use tonic::Status;
use tonic::codec::{BufferSettings, Codec, EncodeBuf, Encoder};
use tonic_prost::ProstDecoder;

use crate::proto::VoiceVaRequest;
use crate::proto::VoiceVaResponse;
use crate::proto::voice_va_request::VoiceVaInputType;

/// gRPC path of `ProcessCallerInput`.
pub(super) const PROCESS_CALLER_INPUT: &str =
    "/com.cisco.wcc.ccai.media.v1.VoiceVirtualAgent/ProcessCallerInput";

/// One `VoiceVaRequest`, pre-encoded as the call's ids plus the input.
#[derive(Debug, Clone)]
pub(super) struct RawRequest {
    pub(super) head: Bytes,
    pub(super) body: Bytes,
}

/// The encoded ids of one call (fields 1–3), the head of each of its requests.
pub(super) fn head(conversation_id: &str, customer_org_id: &str, virtual_agent_id: &str) -> Bytes {
    VoiceVaRequest {
        conversation_id: conversation_id.to_owned(),
        customer_org_id: customer_org_id.to_owned(),
        virtual_agent_id: virtual_agent_id.to_owned(),
        ..VoiceVaRequest::default()
    }
    .encode_to_vec()
    .into()
}

/// The encoded input oneof, the body of a request.
pub(super) fn body(input: VoiceVaInputType) -> Bytes {
    VoiceVaRequest {
        voice_va_input_type: Some(input),
        ..VoiceVaRequest::default()
    }
    .encode_to_vec()
    .into()
}

/// Sends [`RawRequest`]s as they are and decodes responses with prost.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RawCodec;

/// The encoder half of [`RawCodec`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RawEncoder;

impl Encoder for RawEncoder {
    type Item = RawRequest;
    type Error = Status;

    fn encode(&mut self, item: RawRequest, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        buf.reserve(item.head.len() + item.body.len());
        buf.put_slice(&item.head);
        buf.put_slice(&item.body);
        Ok(())
    }

    fn buffer_settings(&self) -> BufferSettings {
        // Requests are small (an audio frame is about 200 bytes): a small buffer per RPC.
        BufferSettings::new(1024, 32 * 1024)
    }
}

impl Codec for RawCodec {
    type Encode = RawRequest;
    type Decode = VoiceVaResponse;
    type Encoder = RawEncoder;
    type Decoder = ProstDecoder<VoiceVaResponse>;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> ProstDecoder<VoiceVaResponse> {
        ProstDecoder::new(BufferSettings::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{EventInput, VoiceInput};

    #[test]
    fn head_plus_body_decodes_as_the_whole_request() {
        let input = VoiceVaInputType::AudioInput(VoiceInput {
            caller_audio: Bytes::from_static(&[0xFF; 160]),
            encoding: 2,
            sample_rate_hertz: 8000,
            language_code: "en-US".into(),
            ..VoiceInput::default()
        });
        let mut wire = head("conv-1", "org-1", "agent-1").to_vec();
        wire.extend_from_slice(&body(input.clone()));
        let decoded = VoiceVaRequest::decode(&wire[..]).unwrap();
        assert_eq!(
            decoded,
            VoiceVaRequest {
                conversation_id: "conv-1".into(),
                customer_org_id: "org-1".into(),
                virtual_agent_id: "agent-1".into(),
                voice_va_input_type: Some(input),
                ..VoiceVaRequest::default()
            }
        );
        let event = VoiceVaInputType::EventInput(EventInput {
            event_type: 1,
            ..EventInput::default()
        });
        let mut wire = head("c", "", "").to_vec();
        wire.extend_from_slice(&body(event.clone()));
        let decoded = VoiceVaRequest::decode(&wire[..]).unwrap();
        assert_eq!(decoded.conversation_id, "c");
        assert_eq!(decoded.voice_va_input_type, Some(event));
    }
}
