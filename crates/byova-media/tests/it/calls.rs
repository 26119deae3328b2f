//! One call at a time, through a real tonic client: the exact message sequences of every kind
//! of turn.

use byova_media::audio::mulaw_wav;
use byova_media::client::{EventType, ResponseType};
use byova_media::proto::{
    self, DtmfInputConfig, InputHandlingConfig, InputSpeechTimers, OutputEvent, Prompt,
    VoiceVaResponse, text_content::InputContent,
};
use byova_media::{Event, SessionEndReason, SessionStart};
use bytes::Bytes;
use serde_json::json;
use tonic::Code;

use crate::support::{
    ANSWER, GREETING, Greeting, Seen, Setup, TestServer, fast, fixture, messages, object, within,
};

/// The input handling config every non-terminal reply carries by default (Webex's gateway's).
fn default_config() -> Option<InputHandlingConfig> {
    Some(InputHandlingConfig {
        dtmf_config: Some(DtmfInputConfig {
            inter_digit_timeout_msec: 300,
            termchar: proto::DtmfDigits::DtmfDigitPound as i32,
            dtmf_input_length: 1,
        }),
        speech_timers: Some(InputSpeechTimers {
            complete_timeout_msec: 5000,
            ..InputSpeechTimers::default()
        }),
    })
}

/// A closing FINAL: no prompt, voice+DTMF next, the default config.
fn closing_final() -> VoiceVaResponse {
    VoiceVaResponse {
        input_mode: proto::VoiceVaInputMode::InputVoiceDtmf as i32,
        input_handling_config: default_config(),
        ..VoiceVaResponse::default()
    }
}

fn chunk(audio: &[u8]) -> VoiceVaResponse {
    VoiceVaResponse {
        prompts: vec![Prompt {
            audio_content: Bytes::copy_from_slice(audio),
            ..Prompt::default()
        }],
        response_type: ResponseType::Chunk as i32,
        ..VoiceVaResponse::default()
    }
}

fn event(kind: EventType, response_type: ResponseType) -> VoiceVaResponse {
    VoiceVaResponse {
        output_events: vec![OutputEvent {
            event_type: kind as i32,
            ..OutputEvent::default()
        }],
        response_type: response_type as i32,
        ..VoiceVaResponse::default()
    }
}

fn text_prompt(text: &str) -> Prompt {
    Prompt {
        text: text.to_owned(),
        ..Prompt::default()
    }
}

#[tokio::test]
async fn greeting_on_session_start_is_one_chunk_and_a_closing_final() {
    let mut t = TestServer::start().await;
    let call = t.call("greet-1").tracking_id("track-42");
    let result = call
        .session_start(
            "entry",
            object(&[("entry_point", json!("main")), ("n", json!(2))]),
        )
        .await;
    assert!(result.is_ok(), "{:?}", result.status);
    let mut fin = closing_final();
    fin.session_transcript = Some(proto::TextContent {
        input_content: Some(InputContent::Text("greeting played".into())),
        language_code: String::new(),
    });
    assert_eq!(messages(&result), vec![chunk(&GREETING), fin]);

    let Seen::SessionStart {
        conversation_id,
        customer_org_id,
        vendor_specific_config,
        tracking_id,
        start,
        turn,
    } = t.next_seen().await
    else {
        panic!("expected the session start first");
    };
    assert_eq!(conversation_id, "greet-1");
    assert_eq!(customer_org_id, "org-1");
    assert_eq!(vendor_specific_config, "vendor=1");
    assert_eq!(tracking_id.as_deref(), Some("track-42"));
    assert_eq!(turn, 1);
    let mut expected = SessionStart::default();
    expected.name = "entry".into();
    expected.parameters = object(&[("entry_point", json!("main")), ("n", json!(2))]);
    assert_eq!(start, expected);
    assert_eq!(t.server().live_calls(), 1);

    // A duplicate SESSION_START is ignored: no response, no second greeting.
    let again = call.session_start("entry", Default::default()).await;
    assert!(again.is_ok());
    assert!(again.responses.is_empty(), "{:?}", again.responses);
    call.session_end().await;
    let (reason, callbacks) = t.session_end_of("greet-1").await;
    assert_eq!(reason, SessionEndReason::CallerEnded);
    assert_eq!(callbacks, 1);
}

#[tokio::test]
async fn an_utterance_turn_sends_start_end_of_input_then_a_chunk_reply() {
    let mut t = TestServer::start().await;
    let call = t.call("speak-1");
    call.session_start("", Default::default()).await;
    let _ = t.next_seen().await;

    let result = call.speak(&fixture("balance.wav"), &fast()).await;
    assert!(result.is_ok(), "{:?}", result.status);
    assert_eq!(
        messages(&result),
        vec![
            event(EventType::StartOfInput, ResponseType::Final),
            event(EventType::EndOfInput, ResponseType::Chunk),
            chunk(&ANSWER),
            closing_final(),
        ]
    );
    let Seen::Utterance {
        samples,
        sample_rate,
        duration,
        language,
    } = t.next_seen().await
    else {
        panic!("expected the utterance");
    };
    assert_eq!(sample_rate, 8000);
    assert_eq!(language.as_deref(), Some("en-US"));
    // Speech runs 1.0 s – 3.9 s: with 300 ms of pre-roll and 800 ms of trailing silence the
    // utterance is about 4.0 s long.
    assert!(
        (3.5..=4.6).contains(&duration.as_secs_f64()),
        "utterance of {duration:?}"
    );
    assert_eq!(samples as f64 / 8000.0, duration.as_secs_f64());
    // The caller stopped sending audio once END_OF_INPUT arrived, well before its 3 s of
    // trailing silence were used up.
    let audio_frames = fixture("balance.wav").len().div_ceil(160);
    assert!(
        result.frames_sent < audio_frames + 150,
        "{}",
        result.frames_sent
    );
    assert_eq!(t.server().live_calls(), 1);
}

#[tokio::test]
async fn wav_mode_sends_end_of_input_then_one_final_with_the_wav_prompt() {
    let mut t = TestServer::start_with(
        Setup {
            wav: true,
            ..Setup::default()
        },
        |builder| builder,
    )
    .await;
    let call = t.call("wav-1");
    let greeting = call.session_start("", Default::default()).await;
    let mut fin = closing_final();
    fin.prompts = vec![Prompt {
        audio_content: Bytes::from(mulaw_wav(&GREETING)),
        ..Prompt::default()
    }];
    fin.session_transcript = Some(proto::TextContent {
        input_content: Some(InputContent::Text("greeting played".into())),
        language_code: String::new(),
    });
    assert_eq!(messages(&greeting), vec![fin]);

    let result = call.speak(&fixture("yes.wav"), &fast()).await;
    assert!(result.is_ok(), "{:?}", result.status);
    let mut fin = closing_final();
    fin.prompts = vec![Prompt {
        audio_content: Bytes::from(mulaw_wav(&ANSWER)),
        ..Prompt::default()
    }];
    assert_eq!(
        messages(&result),
        vec![
            event(EventType::StartOfInput, ResponseType::Final),
            event(EventType::EndOfInput, ResponseType::Final),
            fin,
        ]
    );
    let _ = t.next_seen().await;
    assert!(matches!(t.next_seen().await, Seen::Utterance { .. }));
}

#[tokio::test]
async fn a_dtmf_turn_gets_one_final_and_digits_arrive_as_characters() {
    let mut t = TestServer::start().await;
    let call = t.call("dtmf-1");
    let result = call.dtmf("5A*").await;
    // `*` alone panics; with other digits it is just a key.
    assert!(result.is_ok());
    let mut fin = closing_final();
    fin.prompts = vec![text_prompt("You pressed 5A*.")];
    assert_eq!(messages(&result), vec![fin]);
    assert_eq!(t.next_seen().await, Seen::Dtmf("5A*".into()));
    assert_eq!(
        t.server().live_calls(),
        1,
        "a DTMF first message opens the call"
    );

    // START_OF_DTMF: the agent answers nothing and the RPC completes.
    let result = call.start_of_dtmf().await;
    assert!(result.is_ok());
    assert!(result.responses.is_empty());
    assert_eq!(t.next_seen().await, Seen::Event(Event::StartOfDtmf));
}

#[tokio::test]
async fn no_input_and_custom_events_reach_the_agent() {
    let mut t = TestServer::start().await;
    let call = t.call("events-1");
    let result = call.no_input().await;
    let mut fin = closing_final();
    fin.prompts = vec![text_prompt("Are you still there?")];
    assert_eq!(messages(&result), vec![fin]);
    assert_eq!(t.next_seen().await, Seen::Event(Event::NoInput));

    let params = object(&[("order", json!("A-17")), ("items", json!([1, 2]))]);
    let result = call.custom_event("order_status", params.clone()).await;
    assert!(result.is_ok());
    let mut fin = closing_final();
    fin.output_events = vec![OutputEvent {
        event_type: EventType::CustomEvent as i32,
        name: "ack".into(),
        metadata: Some(prost_struct(&params)),
    }];
    assert_eq!(messages(&result), vec![fin]);
    let Seen::Event(Event::Custom { name, parameters }) = t.next_seen().await else {
        panic!("expected the custom event");
    };
    assert_eq!(name, "order_status");
    assert_eq!(parameters, params);
}

fn prost_struct(object: &byova_media::JsonObject) -> prost_types::Struct {
    use prost_types::value::Kind;
    fn value(v: &serde_json::Value) -> prost_types::Value {
        let kind = match v {
            serde_json::Value::Null => Kind::NullValue(0),
            serde_json::Value::Bool(b) => Kind::BoolValue(*b),
            serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap()),
            serde_json::Value::String(s) => Kind::StringValue(s.clone()),
            serde_json::Value::Array(items) => Kind::ListValue(prost_types::ListValue {
                values: items.iter().map(value).collect(),
            }),
            serde_json::Value::Object(o) => Kind::StructValue(prost_struct(o)),
        };
        prost_types::Value { kind: Some(kind) }
    }
    prost_types::Struct {
        fields: object.iter().map(|(k, v)| (k.clone(), value(v))).collect(),
    }
}

/// Sends one DTMF request without half-closing and reads until the server ends the RPC.
async fn terminal_turn(t: &TestServer, id: &str, digits: &str) -> byova_media::client::TurnResult {
    let call = t.call(id);
    let mut turn = call.open_turn().await.expect("the RPC opens");
    let events = digits
        .chars()
        .filter_map(byova_media::dtmf::char_to_digit)
        .collect();
    turn.send(
        call.request(proto::voice_va_request::VoiceVaInputType::DtmfInput(
            proto::DtmfInputs {
                dtmf_events: events,
            },
        )),
    )
    .await
    .unwrap();
    // No half-close: the server must end the RPC itself right after the terminal event.
    while within("the terminal turn", turn.next()).await.is_some() {}
    turn.finish().await
}

#[tokio::test]
async fn transfer_ends_the_rpc_and_the_call() {
    let mut t = TestServer::start().await;
    let result = terminal_turn(&t, "transfer-1", "0").await;
    assert!(result.is_ok(), "{:?}", result.status);
    let mut fin = closing_final();
    fin.prompts = vec![text_prompt("Transferring you now.")];
    fin.output_events = vec![OutputEvent {
        event_type: EventType::TransferToAgent as i32,
        ..OutputEvent::default()
    }];
    assert_eq!(messages(&result), vec![fin]);
    assert_eq!(t.next_seen().await, Seen::Dtmf("0".into()));
    let (reason, _) = t.session_end_of("transfer-1").await;
    assert_eq!(reason, SessionEndReason::Transferred);
    t.wait_no_calls().await;

    // A late RPC of the transferred call learns nothing new: an empty FINAL, no new call.
    let late = t.call("transfer-1").dtmf("1").await;
    assert_eq!(messages(&late), vec![VoiceVaResponse::default()]);
    assert_eq!(t.server().live_calls(), 0);
}

#[tokio::test]
async fn session_end_reply_is_terminal_only_and_ends_the_rpc() {
    let mut t = TestServer::start().await;
    let result = terminal_turn(&t, "bye-1", "9").await;
    assert!(result.is_ok());
    let fin = VoiceVaResponse {
        prompts: vec![text_prompt("Goodbye.")],
        output_events: vec![OutputEvent {
            event_type: EventType::SessionEnd as i32,
            ..OutputEvent::default()
        }],
        ..VoiceVaResponse::default()
    };
    assert_eq!(messages(&result), vec![fin]);
    let (reason, _) = t.session_end_of("bye-1").await;
    assert_eq!(reason, SessionEndReason::AgentEnded);
    t.wait_no_calls().await;

    // A new SESSION_START with the same id starts a new conversation (the flow re-entered).
    let again = t.call("bye-1").session_start("", Default::default()).await;
    assert_eq!(again.responses.len(), 2);
    assert_eq!(t.server().live_calls(), 1);
}

#[tokio::test]
async fn client_session_end_tells_the_agent_and_gets_an_empty_response() {
    let mut t = TestServer::start().await;
    let call = t.call("hangup-1");
    call.session_start("", Default::default()).await;
    call.dtmf("1").await;
    let result = call.session_end().await;
    assert!(result.is_ok());
    assert_eq!(messages(&result), vec![VoiceVaResponse::default()]);
    let (reason, callbacks) = t.session_end_of("hangup-1").await;
    assert_eq!(reason, SessionEndReason::CallerEnded);
    assert_eq!(callbacks, 2, "the state slot kept its count across turns");
    t.wait_no_calls().await;

    // SESSION_END for a call the server does not know: an empty response, nothing created.
    let result = t.call("never-seen").session_end().await;
    assert_eq!(messages(&result), vec![VoiceVaResponse::default()]);
    assert_eq!(t.server().live_calls(), 0);

    // Its SESSION_START, overtaken by the hang-up (its RPC was cancelled), opens no call that
    // nobody would ever end; nor does one arriving after the caller's own SESSION_END.
    for id in ["never-seen", "hangup-1"] {
        let late = t.call(id).session_start("", Default::default()).await;
        assert!(late.is_ok());
        assert_eq!(messages(&late), vec![VoiceVaResponse::default()], "{id}");
        assert_eq!(t.server().live_calls(), 0, "{id}");
    }
}

#[tokio::test]
async fn session_end_duration_is_measured() {
    let mut t = TestServer::start().await;
    let call = t.call("duration-1");
    call.session_start("", Default::default()).await;
    let started = std::time::Instant::now();
    // Let measurable time pass on the call, event-driven: three more turns.
    for _ in 0..3 {
        call.dtmf("1").await;
    }
    call.session_end().await;
    let elapsed_bound = started.elapsed();
    loop {
        if let Seen::SessionEnd { duration, .. } = t.next_seen().await {
            assert!(duration > std::time::Duration::ZERO);
            assert!(duration < elapsed_bound + std::time::Duration::from_secs(5));
            break;
        }
    }
}

#[tokio::test]
async fn unknown_agent_id_is_not_found_and_the_default_is_used_for_none() {
    let t = TestServer::start().await;
    let result = t
        .call("routing-1")
        .virtual_agent_id("nobody")
        .session_start("", Default::default())
        .await;
    assert_eq!(result.code(), Code::NotFound);
    assert!(result.status.message().contains("nobody"));
    assert_eq!(t.server().live_calls(), 0);

    let named = t
        .call("routing-2")
        .virtual_agent_id("bot")
        .session_start("", Default::default())
        .await;
    assert!(named.is_ok());
    // Once the call runs on `bot`, another agent id on it is refused.
    let other = t
        .call("routing-2")
        .virtual_agent_id("other")
        .dtmf("1")
        .await;
    assert_eq!(other.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn a_panicking_or_failing_agent_fails_only_its_call() {
    let mut t = TestServer::start().await;
    for (id, digits) in [("panic-1", "*"), ("error-1", "#"), ("bad-audio-1", "7")] {
        let result = t.call(id).dtmf(digits).await;
        assert!(result.is_ok(), "{id}: {:?}", result.status);
        let mut fin = closing_final();
        fin.prompts = vec![text_prompt("I'm sorry, something went wrong.")];
        fin.output_events = vec![OutputEvent {
            event_type: EventType::TransferToAgent as i32,
            name: "agent_error".into(),
            metadata: None,
        }];
        assert_eq!(messages(&result), vec![fin], "{id}");
        let (reason, _) = t.session_end_of(id).await;
        assert_eq!(reason, SessionEndReason::AgentFailed, "{id}");
    }
    t.wait_no_calls().await;
    assert!(
        t.server()
            .metrics_text()
            .contains("byova_media_agent_failures_total{kind=\"panic\"} 1")
    );
    // The server keeps serving.
    let result = t
        .call("after-panic")
        .session_start("", Default::default())
        .await;
    assert!(result.is_ok());
    assert_eq!(result.responses.len(), 2);
}

#[tokio::test]
async fn streamed_audio_reaches_the_caller_before_the_reply_exists() {
    let t = TestServer::start_with(
        Setup {
            stream_answer: true,
            greeting: Greeting::Audio,
            wav: false,
        },
        |builder| builder,
    )
    .await;
    let call = t.call("stream-1");
    call.session_start("", Default::default()).await;
    let mut turn = call.open_turn().await.unwrap();
    let audio = Bytes::from(fixture("yes.wav"));
    let silence = Bytes::from(vec![0xFF; 160]);
    let template = call.audio_request(
        Bytes::new(),
        byova_media::audio::AudioEncoding::Mulaw,
        8000,
        "en-US",
    );
    let frames = audio
        .chunks(160)
        .map(|c| audio.slice_ref(c))
        .chain(std::iter::repeat_n(silence, 100));
    for frame in frames {
        let mut request = template.clone();
        if let Some(proto::voice_va_request::VoiceVaInputType::AudioInput(input)) =
            &mut request.voice_va_input_type
        {
            input.caller_audio = frame;
        }
        turn.send(request).await.unwrap();
    }
    turn.half_close();
    let start = within("START_OF_INPUT", turn.next()).await.unwrap();
    assert_eq!(start.events(), vec![EventType::StartOfInput]);
    let end = within("END_OF_INPUT", turn.next()).await.unwrap();
    assert_eq!(end.events(), vec![EventType::EndOfInput]);
    // The agent streamed 600 bytes and now waits: 500 are out (100 are held back so that the
    // last chunk can never be shorter than 100 bytes).
    let first = within("the first streamed chunk", turn.next())
        .await
        .unwrap();
    assert_eq!(first.response_type(), ResponseType::Chunk);
    assert_eq!(first.response.prompts[0].audio_content.len(), 500);
    t.gates.stream.notify_one();
    let result = turn.finish().await;
    assert!(result.is_ok());
    let types = result.response_types();
    assert_eq!(types.last(), Some(&ResponseType::Final));
    assert!(
        types[1..types.len() - 1]
            .iter()
            .all(|t| *t == ResponseType::Chunk),
        "{types:?}"
    );
    assert_eq!(result.audio(), ANSWER, "every byte in order, nothing lost");
}

#[tokio::test]
async fn a_half_close_during_speech_ends_the_utterance() {
    let mut t = TestServer::start().await;
    let call = t.call("cut-1");
    // Speech runs from 1.0 s to 3.9 s: stop sending at 2.5 s, mid-sentence.
    let audio = fixture("balance.wav");
    let mut options = fast();
    options.trailing_silence = std::time::Duration::ZERO;
    let result = call.speak(&audio[..20_000], &options).await;
    assert!(result.is_ok(), "{:?}", result.status);
    assert_eq!(
        messages(&result),
        vec![
            event(EventType::StartOfInput, ResponseType::Final),
            event(EventType::EndOfInput, ResponseType::Chunk),
            chunk(&ANSWER),
            closing_final(),
        ]
    );
    let Seen::Utterance { duration, .. } = t.next_seen().await else {
        panic!("expected the utterance");
    };
    // From 0.7 s (onset minus pre-roll) to the 2.5 s cut.
    assert!(
        (1.6..=2.0).contains(&duration.as_secs_f64()),
        "utterance of {duration:?}"
    );
}

/// Counts the caller audio it is streamed, and answers the utterance with the count.
struct Streaming {
    frames: tokio::sync::mpsc::UnboundedSender<(usize, bool)>,
}

impl byova_media::VirtualAgent for Streaming {
    type State = usize;

    fn wants_audio_frames(&self) -> bool {
        true
    }

    async fn on_audio(
        &self,
        ctx: &mut byova_media::Context<'_, usize>,
        frame: byova_media::AudioFrame<'_>,
    ) -> byova_media::AgentResult<()> {
        *ctx.state() += frame.audio.len();
        assert!(
            ctx.sink()
                .send_mulaw(&[0; 200])
                .await
                .unwrap_err()
                .is_no_reply()
        );
        let _ = self.frames.send((frame.audio.len(), frame.in_speech));
        Ok(())
    }

    async fn on_utterance(
        &self,
        ctx: &mut byova_media::Context<'_, usize>,
        _utterance: byova_media::Utterance,
    ) -> byova_media::AgentResult {
        Ok(byova_media::Reply::say(format!(
            "{} bytes",
            ctx.state_ref()
        )))
    }
}

#[tokio::test]
async fn agents_can_receive_every_audio_frame() {
    let (tx, mut frames) = tokio::sync::mpsc::unbounded_channel();
    let server = byova_media::MediaServer::builder()
        .addr("127.0.0.1:0".parse().unwrap())
        .disable_authentication()
        .detector(byova_media::Detector::Energy)
        .agent(byova_media::AgentConfig::new(
            "asr",
            Streaming { frames: tx },
        ))
        .build()
        .unwrap()
        .bind()
        .await
        .unwrap();
    let caller = byova_media::client::Caller::connect(format!("http://{}", server.local_addr()))
        .await
        .unwrap();
    let result = caller
        .call("asr-1")
        .speak(&fixture("yes.wav"), &fast())
        .await;
    assert!(result.is_ok(), "{:?}", result.status);
    drop(server);
    let mut bytes = 0;
    let mut speech_frames = 0;
    while let Ok((len, in_speech)) = frames.try_recv() {
        assert_eq!(len, 160);
        bytes += len;
        speech_frames += usize::from(in_speech);
    }
    assert!(speech_frames > 10, "{speech_frames} frames in speech");
    let last = result.last().unwrap();
    assert_eq!(last.response.prompts[0].text, format!("{bytes} bytes"));
}
