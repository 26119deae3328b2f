//! Hostile input: every case gets a clear status, nothing panics, the server keeps serving and
//! the live-conversation count goes back to zero.

use std::time::Duration;

use byova_media::SessionEndReason;
use byova_media::audio::AudioEncoding;
use byova_media::client::ResponseType;
use byova_media::proto::voice_va_request::VoiceVaInputType;
use byova_media::proto::{DtmfInputs, EventInput, VoiceInput, VoiceVaRequest};
use bytes::{Buf as _, BufMut as _, Bytes};
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

use crate::support::{GREETING, Setup, TestServer, within};

/// Sends `requests` on one RPC and returns its final status code and message.
async fn status_of(t: &TestServer, requests: Vec<VoiceVaRequest>) -> (Code, String) {
    let call = t.call("unused");
    let result = call.run_turn(requests).await;
    (result.code(), result.status.message().to_owned())
}

fn request(id: &str, input: Option<VoiceVaInputType>) -> VoiceVaRequest {
    VoiceVaRequest {
        conversation_id: id.to_owned(),
        voice_va_input_type: input,
        ..VoiceVaRequest::default()
    }
}

fn event(kind: i32) -> Option<VoiceVaInputType> {
    Some(VoiceVaInputType::EventInput(EventInput {
        event_type: kind,
        ..EventInput::default()
    }))
}

fn audio(bytes: Bytes, encoding: i32, rate: i32) -> Option<VoiceVaInputType> {
    Some(VoiceVaInputType::AudioInput(VoiceInput {
        caller_audio: bytes,
        encoding,
        sample_rate_hertz: rate,
        ..VoiceInput::default()
    }))
}

#[tokio::test]
async fn malformed_requests_get_invalid_argument() {
    let t = TestServer::start().await;
    let cases: Vec<(VoiceVaRequest, &str)> = vec![
        (request("h-1", None), "no input"),
        (request("", event(1)), "conversation_id is empty"),
        (request("h-2", event(42)), "unknown event type 42"),
        (request("h-3", event(0)), "without an event type"),
        (
            request("h-4", audio(Bytes::from_static(&[0xFF; 160]), 9, 8000)),
            "unknown audio encoding 9",
        ),
        (
            request("h-5", audio(Bytes::from_static(&[0xFF; 160]), 2, 44_100)),
            "unsupported sample rate 44100",
        ),
        (
            request(
                "h-6",
                Some(VoiceVaInputType::DtmfInput(DtmfInputs {
                    dtmf_events: vec![1, 99],
                })),
            ),
            "unknown DTMF digit value 99",
        ),
        (
            request(
                "h-7",
                Some(VoiceVaInputType::DtmfInput(DtmfInputs {
                    dtmf_events: vec![0],
                })),
            ),
            "unknown DTMF digit value 0",
        ),
    ];
    for (request, needle) in cases {
        let (code, message) = status_of(&t, vec![request]).await;
        assert_eq!(code, Code::InvalidArgument, "{needle}: {message}");
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
    assert_eq!(t.server().live_calls(), 0);
}

#[tokio::test]
async fn a_bad_message_in_a_live_call_closes_it_and_tells_the_agent() {
    let mut t = TestServer::start().await;
    let call = t.call("bad-mid-1");
    call.session_start("", Default::default()).await;
    let result = call
        .run_turn([
            call.request(VoiceVaInputType::DtmfInput(DtmfInputs::default())),
            call.event_request(byova_media::client::InputEventType::SessionStart, "", None),
        ])
        .await;
    // The first message starts a reply; a second reply-worthy input on the same RPC is
    // ignored, not an error.
    assert!(result.is_ok(), "{:?}", result.status);
    assert_eq!(result.response_types(), [ResponseType::Final]);
    assert_eq!(
        result.last().unwrap().response.prompts[0].text,
        "You pressed ."
    );

    let mut bad = call.request(VoiceVaInputType::EventInput(EventInput::default()));
    if let Some(VoiceVaInputType::EventInput(input)) = &mut bad.voice_va_input_type {
        input.event_type = 77;
    }
    let result = call.run_turn([bad]).await;
    assert_eq!(result.code(), Code::InvalidArgument);
    let (reason, callbacks) = t.session_end_of("bad-mid-1").await;
    assert_eq!(reason, SessionEndReason::ProtocolError);
    assert_eq!(
        callbacks, 2,
        "the greeting and the DTMF; not the ignored SESSION_START"
    );
    t.wait_no_calls().await;

    // Another conversation id within one RPC.
    let call = t.call("switch-1");
    let mut other = call.request(VoiceVaInputType::DtmfInput(DtmfInputs {
        dtmf_events: vec![1],
    }));
    other.conversation_id = "switch-2".into();
    let silence = call.audio_request(
        Bytes::from_static(&[0xFF; 160]),
        AudioEncoding::Mulaw,
        8000,
        "",
    );
    let result = call.run_turn([silence, other]).await;
    assert_eq!(result.code(), Code::InvalidArgument);
    assert!(result.status.message().contains("conversation_id changed"));
    t.wait_no_calls().await;
}

#[tokio::test]
async fn a_10_mb_audio_message_is_refused() {
    let t = TestServer::start().await;
    let call = t.call("huge-1");
    let huge = call.audio_request(
        Bytes::from(vec![0xFF; 10 * 1024 * 1024]),
        AudioEncoding::Mulaw,
        8000,
        "",
    );
    let result = within("the oversized RPC", call.run_turn([huge])).await;
    assert_eq!(result.code(), Code::OutOfRange, "{:?}", result.status);
    assert!(result.status.message().contains("too large"));
    assert_eq!(t.server().live_calls(), 0);
    // The server keeps serving.
    let greeting = call.session_start("", Default::default()).await;
    assert!(greeting.is_ok(), "{:?}", greeting.status);
    assert_eq!(greeting.audio(), GREETING);
}

#[tokio::test]
async fn ten_thousand_tiny_frames_are_ignored() {
    let mut t = TestServer::start().await;
    let call = t.call("tiny-1");
    let frame = call.audio_request(
        Bytes::from_static(&[0x00; 15]),
        AudioEncoding::Mulaw,
        8000,
        "en-US",
    );
    let result = within(
        "10,000 frames",
        call.run_turn(std::iter::repeat_n(frame, 10_000)),
    )
    .await;
    assert!(result.is_ok(), "{:?}", result.status);
    assert!(
        result.responses.is_empty(),
        "no endpointing on ≤ 15-byte frames"
    );
    call.session_end().await;
    let (reason, callbacks) = t.session_end_of("tiny-1").await;
    assert_eq!(reason, SessionEndReason::CallerEnded);
    assert_eq!(callbacks, 0, "the agent never heard an utterance");
    t.wait_no_calls().await;
}

#[tokio::test]
async fn an_rpc_without_a_first_message_times_out() {
    let t = TestServer::start_with(Setup::default(), |builder| {
        builder.first_message_timeout(Duration::from_millis(200))
    })
    .await;
    let call = t.call("silent-1");
    let turn = call.open_turn().await.unwrap();
    // Nothing sent, not half-closed: the server gives up.
    let mut turn = turn;
    let none = within("the timeout", turn.next()).await;
    assert!(none.is_none());
    let result = turn.finish().await;
    assert_eq!(result.code(), Code::DeadlineExceeded);
    assert_eq!(t.server().live_calls(), 0);
}

/// Passes raw bytes as gRPC messages, to put garbage on the wire.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

#[derive(Debug, Clone, Copy, Default)]
struct Raw;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

#[tokio::test]
async fn garbage_bytes_on_the_wire_get_a_status() {
    let t = TestServer::start().await;
    let channel = t.channel().await;
    for garbage in [
        Bytes::from_static(&[0xFF; 64]),
        Bytes::from_static(b"\x0a\xff\xff\xff\xff\x0f"),
        Bytes::from_static(b"\x42"),
    ] {
        let mut grpc = tonic::client::Grpc::new(channel.clone());
        grpc.ready().await.unwrap();
        let path = http::uri::PathAndQuery::from_static(
            "/com.cisco.wcc.ccai.media.v1.VoiceVirtualAgent/ProcessCallerInput",
        );
        let request = tonic::Request::new(tokio_stream::iter(vec![garbage]));
        let response = grpc.streaming(request, path, RawCodec).await;
        let status = match response {
            Err(status) => status,
            Ok(response) => {
                let mut stream = response.into_inner();
                match within("the status", stream.message()).await {
                    Ok(Some(_)) => panic!("garbage produced a response"),
                    Ok(None) => panic!("garbage ended with OK"),
                    Err(status) => status,
                }
            }
        };
        assert_eq!(status.code(), Code::Internal, "{status:?}");
        assert!(status.message().contains("decode"), "{status:?}");
    }
    assert_eq!(t.server().live_calls(), 0);
    // The server keeps serving on the same connection.
    assert!(
        t.call("after-garbage")
            .session_start("", Default::default())
            .await
            .is_ok()
    );
}
