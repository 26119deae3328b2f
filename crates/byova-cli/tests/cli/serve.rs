//! `byova serve`: the real binary on 127.0.0.1, driven by the BYOVA caller the way Webex drives
//! it; every reply is checked message by message against `docs/demo-agent.md`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use byova::api::test_util::wiremock::Mock;
use byova::api::test_util::{WebexStandIn, matchers as m, responses};
use byova::jws::{BYOVA_SCHEMA_UUID, Jwk, JwkSet};
use byova::media::audio::{self, MAX_CHUNK};
use byova::media::client::{Caller, EventType, ResponseType, SpeakOptions, Target, TurnResult};
use byova::media::proto::{
    DtmfDigits, DtmfInputConfig, InputHandlingConfig, InputSpeechTimers, OutputEvent, Prompt,
    VirtualAgentInfo, VoiceVaInputMode, VoiceVaResponse,
};
use josekit::jws::{JwsHeader, RS256};
use josekit::jwt::{self, JwtPayload};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{
    DATASOURCE_URL, DEADLINE, Outcome, Running, byova, fixture, tls_fixture, wav_as_mulaw,
};

/// A running `byova serve` and the address it printed.
struct Serve {
    running: Running,
    addr: SocketAddr,
}

/// Starts `byova serve --host 127.0.0.1 --port 0 ARGS…` (clean environment) and waits for its
/// `listening on` line.
async fn serve(args: &[&str]) -> Serve {
    serve_with(args, &[]).await
}

async fn serve_with(args: &[&str], env: &[(&str, &str)]) -> Serve {
    let mut command = byova().args(["serve", "--host", "127.0.0.1", "--port", "0"]);
    command = command.args(args);
    for (name, value) in env {
        command = command.env(name, value);
    }
    let mut running = command.spawn();
    let addr = running.listening_addr().await;
    Serve { running, addr }
}

impl Serve {
    async fn caller(&self) -> Caller {
        tokio::time::timeout(DEADLINE, Caller::connect(format!("http://{}", self.addr)))
            .await
            .expect("connected in time")
            .expect("the client connects")
    }

    /// SIGTERM: a graceful stop with exit 0 and nothing printed but the listening line.
    async fn stop(self) -> Outcome {
        self.running.terminate().await;
        let outcome = self.running.finish().await;
        assert_eq!(outcome.code, 0, "{outcome:#?}");
        assert_eq!(
            outcome.stdout,
            format!("listening on {}\n", self.addr),
            "{outcome:#?}"
        );
        outcome
    }
}

/// A bundled prompt as the server sends it: 8 kHz μ-law.
fn prompt(name: &str) -> Vec<u8> {
    wav_as_mulaw(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/prompts")
            .join(format!("{name}.wav")),
    )
}

/// Sends audio as fast as the server takes it, in 20 ms frames, stopping at END_OF_INPUT.
fn fast() -> SpeakOptions {
    let mut options = SpeakOptions::default();
    options.realtime = false;
    options
}

/// The input handling config of every reply that continues the call (docs/demo-agent.md).
fn demo_config() -> InputHandlingConfig {
    InputHandlingConfig {
        dtmf_config: Some(DtmfInputConfig {
            inter_digit_timeout_msec: 3000,
            termchar: DtmfDigits::DtmfDigitPound as i32,
            dtmf_input_length: 1,
        }),
        speech_timers: Some(InputSpeechTimers {
            complete_timeout_msec: 800,
            no_input_timeout_msec: 10_000,
            ..InputSpeechTimers::default()
        }),
    }
}

/// The FINAL closing a reply that continues the call.
fn closing_final() -> VoiceVaResponse {
    VoiceVaResponse {
        input_mode: VoiceVaInputMode::InputVoiceDtmf as i32,
        input_handling_config: Some(demo_config()),
        response_type: ResponseType::Final as i32,
        ..VoiceVaResponse::default()
    }
}

/// The FINAL of a reply ending with `event`.
fn terminal_final(event: EventType) -> VoiceVaResponse {
    let continues = event != EventType::SessionEnd;
    VoiceVaResponse {
        output_events: vec![output_event(event)],
        input_mode: if continues {
            VoiceVaInputMode::InputVoiceDtmf as i32
        } else {
            0
        },
        input_handling_config: continues.then(demo_config),
        response_type: ResponseType::Final as i32,
        ..VoiceVaResponse::default()
    }
}

fn output_event(event: EventType) -> OutputEvent {
    OutputEvent {
        event_type: event as i32,
        ..OutputEvent::default()
    }
}

/// An event-only response.
fn event_only(event: EventType, response_type: ResponseType) -> VoiceVaResponse {
    VoiceVaResponse {
        output_events: vec![output_event(event)],
        response_type: response_type as i32,
        ..VoiceVaResponse::default()
    }
}

/// The CHUNK responses of one prompt.
fn chunks(mulaw: &[u8], barge_in: bool) -> Vec<VoiceVaResponse> {
    audio::chunks(mulaw, MAX_CHUNK)
        .map(|piece| {
            assert!((100..=MAX_CHUNK).contains(&piece.len()));
            VoiceVaResponse {
                prompts: vec![Prompt {
                    audio_content: piece.into_owned().into(),
                    is_barge_in_enabled: barge_in,
                    ..Prompt::default()
                }],
                response_type: ResponseType::Chunk as i32,
                ..VoiceVaResponse::default()
            }
        })
        .collect()
}

/// A WAV-mode prompt.
fn wav_prompt(mulaw: &[u8], barge_in: bool) -> Prompt {
    Prompt {
        audio_content: audio::mulaw_wav(mulaw).into(),
        is_barge_in_enabled: barge_in,
        ..Prompt::default()
    }
}

fn messages(result: &TurnResult) -> Vec<VoiceVaResponse> {
    assert!(result.is_ok(), "{:?}", result.status);
    result
        .responses
        .iter()
        .map(|timed| timed.response.clone())
        .collect()
}

/// Checks that `echo` is the caller's own audio: a contiguous piece of what was sent (`sent`
/// followed by μ-law silence) that holds the whole speech of the fixture.
#[track_caller]
fn assert_echo_of(echo: &[u8], sent: &[u8], speech: std::ops::Range<usize>) {
    let mut stream = sent.to_vec();
    stream.extend(std::iter::repeat_n(audio::MULAW_SILENCE, 8000 * 3));
    let start = (0..=stream.len().saturating_sub(echo.len()))
        .find(|&start| stream[start..start + echo.len()] == *echo)
        .unwrap_or_else(|| panic!("the {} B echo is not the caller's audio", echo.len()));
    assert!(
        start <= speech.start && start + echo.len() >= speech.end,
        "the echo [{start}, {}) misses speech {speech:?}",
        start + echo.len()
    );
}

/// `yes.wav`: speech runs from sample 6400 to 9753 (tests/fixtures/speech.json).
const YES_SPEECH: std::ops::Range<usize> = 6400..9753;

/// The audio-carrying responses between `from` and the closing FINAL, concatenated.
fn chunk_audio(responses: &[VoiceVaResponse]) -> Vec<u8> {
    responses
        .iter()
        .inspect(|r| {
            assert_eq!(r.response_type, ResponseType::Chunk as i32, "{r:?}");
            assert!(!r.prompts[0].audio_content.starts_with(b"RIFF"));
            assert!(!r.prompts[0].is_barge_in_enabled);
        })
        .flat_map(|r| r.prompts[0].audio_content.to_vec())
        .collect()
}

#[tokio::test]
async fn chunk_mode_greets_plays_the_utterance_back_and_says_goodbye_after_max_turns() {
    // The default detector (earshot) on a real spoken fixture.
    let server = serve(&["--no-auth", "--max-turns", "2"]).await;
    let call = server
        .caller()
        .await
        .call("call-chunk")
        .customer_org_id("org-1");

    let greeting = call.session_start("entry", Default::default()).await;
    let mut expected = chunks(&prompt("greeting"), true);
    expected.push(closing_final());
    assert_eq!(messages(&greeting), expected);

    let yes = fixture("yes.wav");
    let you_said = prompt("you_said");
    for turn in 1..=2 {
        let result = call.speak(&yes, &fast()).await;
        let got = messages(&result);
        assert_eq!(
            got[..2],
            [
                event_only(EventType::StartOfInput, ResponseType::Final),
                event_only(EventType::EndOfInput, ResponseType::Chunk),
            ],
            "turn {turn}"
        );
        let last = got.last().expect("a FINAL");
        let mut audio = chunk_audio(&got[2..got.len() - 1]);
        if turn == 1 {
            assert_eq!(*last, closing_final());
        } else {
            // The last turn: the goodbye follows the echo, and the session ends.
            assert_eq!(*last, terminal_final(EventType::SessionEnd));
            let goodbye = prompt("goodbye");
            assert!(audio.ends_with(&goodbye));
            audio.truncate(audio.len() - goodbye.len());
        }
        assert!(audio.starts_with(&you_said), "turn {turn}");
        assert_echo_of(&audio[you_said.len()..], &yes, YES_SPEECH);
    }
    server.stop().await;
}

#[tokio::test]
async fn wav_mode_sends_one_final_with_wav_prompts() {
    let server = serve(&["--no-auth", "--mode", "wav", "--detector", "energy"]).await;
    let call = server.caller().await.call("call-wav");

    let greeting = call.session_start("", Default::default()).await;
    let mut expected = closing_final();
    expected.prompts = vec![wav_prompt(&prompt("greeting"), true)];
    assert_eq!(messages(&greeting), [expected]);

    let yes = fixture("yes.wav");
    let got = messages(&call.speak(&yes, &fast()).await);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        got[..2],
        [
            event_only(EventType::StartOfInput, ResponseType::Final),
            event_only(EventType::EndOfInput, ResponseType::Final),
        ]
    );
    let reply = &got[2];
    assert_eq!(reply.prompts.len(), 2);
    assert_eq!(reply.prompts[0], wav_prompt(&prompt("you_said"), false));
    let echo = audio::Wav::parse(&reply.prompts[1].audio_content).expect("a WAV echo");
    assert_eq!(echo.format(), audio::WavFormat::Mulaw);
    assert_eq!(echo.sample_rate(), 8000);
    assert!(!reply.prompts[1].is_barge_in_enabled);
    assert_echo_of(echo.data(), &yes, YES_SPEECH);
    let mut rest = reply.clone();
    rest.prompts.clear();
    assert_eq!(rest, closing_final());

    // WAV mode, DTMF: one FINAL with the prompt.
    let got = messages(&call.dtmf("0").await);
    let mut expected = terminal_final(EventType::TransferToAgent);
    expected.prompts = vec![wav_prompt(&prompt("transfer"), false)];
    assert_eq!(got, [expected]);
    server.stop().await;
}

#[tokio::test]
async fn the_dtmf_menu_no_input_and_other_events() {
    let server = serve(&["--no-auth", "--detector", "energy"]).await;
    let caller = server.caller().await;
    let call = caller.call("call-menu");
    call.session_start("", Default::default()).await;

    // 1: the greeting again.
    let mut expected = chunks(&prompt("greeting"), true);
    expected.push(closing_final());
    assert_eq!(messages(&call.dtmf("1").await), expected);

    // Any other key: the menu help.
    for digits in ["5", "*", "12"] {
        let mut expected = chunks(&prompt("menu_help"), true);
        expected.push(closing_final());
        assert_eq!(messages(&call.dtmf(digits).await), expected, "{digits}");
    }

    // NO_INPUT: "sorry", then the menu help.
    let mut expected = chunks(&prompt("no_input"), false);
    expected.extend(chunks(&prompt("menu_help"), true));
    expected.push(closing_final());
    assert_eq!(messages(&call.no_input().await), expected);

    // START_OF_DTMF and custom events: just the closing FINAL.
    assert_eq!(messages(&call.start_of_dtmf().await), [closing_final()]);
    let result = call.custom_event("note", Default::default()).await;
    assert_eq!(messages(&result), [closing_final()]);

    // 0: the transfer prompt (not interruptible) and TRANSFER_TO_AGENT.
    let mut expected = chunks(&prompt("transfer"), false);
    expected.push(terminal_final(EventType::TransferToAgent));
    assert_eq!(messages(&call.dtmf("0").await), expected);

    // #: the goodbye and SESSION_END.
    let call = caller.call("call-pound");
    call.session_start("", Default::default()).await;
    let mut expected = chunks(&prompt("goodbye"), false);
    expected.push(terminal_final(EventType::SessionEnd));
    assert_eq!(messages(&call.dtmf("#").await), expected);

    // The caller hangs up: an empty response, nothing else.
    let call = caller.call("call-hangup");
    call.session_start("", Default::default()).await;
    assert_eq!(
        messages(&call.session_end().await),
        [VoiceVaResponse::default()]
    );
    server.stop().await;
}

#[tokio::test]
async fn list_virtual_agents_offers_the_demo_agent_or_the_agents_file() {
    let server = serve(&["--no-auth"]).await;
    let agents = server
        .caller()
        .await
        .list_virtual_agents("org-1")
        .await
        .expect("ListVirtualAgents");
    assert_eq!(
        agents,
        [VirtualAgentInfo {
            virtual_agent_id: "demo".into(),
            virtual_agent_name: "byova demo agent".into(),
            is_default: true,
            attributes: Default::default(),
        }]
    );
    server.stop().await;

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("agents.toml");
    std::fs::write(
        &file,
        r#"
        [[agents]]
        id = "support"
        name = "Support line"

        [[agents]]
        id = "sales"
        name = "Sales line"
        default = true
        attributes = { language = "en-US", team = "sales" }
        "#,
    )
    .expect("write");
    let server = serve(&[
        "--no-auth",
        "--detector",
        "energy",
        "--agents",
        file.to_str().expect("utf-8 path"),
    ])
    .await;
    let caller = server.caller().await;
    let agents = caller
        .list_virtual_agents("org-1")
        .await
        .expect("ListVirtualAgents");
    assert_eq!(
        agents,
        [
            VirtualAgentInfo {
                virtual_agent_id: "support".into(),
                virtual_agent_name: "Support line".into(),
                is_default: false,
                attributes: Default::default(),
            },
            VirtualAgentInfo {
                virtual_agent_id: "sales".into(),
                virtual_agent_name: "Sales line".into(),
                is_default: true,
                attributes: [
                    ("language".to_owned(), "en-US".to_owned()),
                    ("team".to_owned(), "sales".to_owned()),
                ]
                .into(),
            },
        ]
    );
    // Every listed agent is the demo agent.
    let mut expected = chunks(&prompt("greeting"), true);
    expected.push(closing_final());
    for id in ["support", "sales", ""] {
        let call = caller.call(format!("call-{id}")).virtual_agent_id(id);
        let greeting = call.session_start("", Default::default()).await;
        assert_eq!(messages(&greeting), expected, "agent {id:?}");
    }
    let unknown = caller.call("call-x").virtual_agent_id("nope");
    let result = unknown.session_start("", Default::default()).await;
    assert_eq!(code(&result), NOT_FOUND, "{:?}", result.status);
    server.stop().await;
}

/// gRPC status codes, as numbers (the CLI tests do not depend on tonic directly).
const NOT_FOUND: i32 = 5;
const RESOURCE_EXHAUSTED: i32 = 8;
const UNAUTHENTICATED: i32 = 16;

/// The gRPC status code of a turn.
fn code(result: &TurnResult) -> i32 {
    i32::from(result.code())
}

#[tokio::test]
async fn max_calls_refuses_the_call_beyond_the_limit() {
    let server = serve(&["--no-auth", "--detector", "energy", "--max-calls", "1"]).await;
    let caller = server.caller().await;
    let first = caller
        .call("call-1")
        .session_start("", Default::default())
        .await;
    assert!(first.is_ok(), "{:?}", first.status);
    let second = caller
        .call("call-2")
        .session_start("", Default::default())
        .await;
    assert_eq!(code(&second), RESOURCE_EXHAUSTED, "{:?}", second.status);
    // SIGTERM with a live call: still a clean exit.
    server.stop().await;
}

#[tokio::test]
async fn metrics_are_served_on_the_metrics_port() {
    let server = serve(&["--no-auth", "--metrics-port", "0", "-v"]).await;
    let caller = server.caller().await;
    let greeting = caller
        .call("call-m")
        .session_start("", Default::default())
        .await;
    let mut expected = chunks(&prompt("greeting"), true);
    expected.push(closing_final());
    assert_eq!(messages(&greeting), expected);
    let mut server = server;
    let line = server
        .running
        .stderr_until(|line| line.contains("serving /metrics"))
        .await;
    let metrics: SocketAddr = line
        .split("metrics=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("metrics=ADDR")
        .parse()
        .expect("an address");
    let mut socket = tokio::net::TcpStream::connect(metrics)
        .await
        .expect("connect");
    socket
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .expect("request");
    let mut response = String::new();
    tokio::time::timeout(DEADLINE, socket.read_to_string(&mut response))
        .await
        .expect("answered in time")
        .expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("byova_media_"), "{response}");
    server.stop().await;
}

#[tokio::test]
async fn usage_errors_exit_2_before_anything_is_bound() {
    // Authentication is on by default: a data-source URL or --no-auth is required.
    let outcome = byova().args(["serve", "--port", "0"]).run().await;
    outcome.assert_usage();
    assert_eq!(
        outcome.stderr,
        "error: JWS authentication is on by default: pass --datasource-url URL (the data-source \
         URL registered with Webex; env WEBEX_MEDIA_DATASOURCE_URL), or --no-auth to accept calls \
         without a token (local development only)\n\nFor more information, try '--help'.\n"
    );

    let outcome = byova()
        .args([
            "serve",
            "--port",
            "0",
            "--agents",
            "/nonexistent/agents.toml",
        ])
        .run()
        .await;
    outcome.assert_usage();
    assert!(
        outcome
            .stderr
            .starts_with("error: cannot read the agents file /nonexistent/agents.toml"),
        "{outcome:?}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("agents.toml");
    std::fs::write(
        &file,
        "[[agents]]\nid = \"a\"\ndefault = true\n[[agents]]\nid = \"b\"\ndefault = true\n",
    )
    .expect("write");
    let outcome = byova()
        .args(["serve", "--no-auth", "--port", "0", "--agents"])
        .args([file.to_str().expect("utf-8")])
        .run()
        .await;
    outcome.assert_usage();
    assert!(
        outcome
            .stderr
            .contains("more than one default agent: \"a\" and \"b\""),
        "{outcome:?}"
    );

    for (args, env, needle) in [
        (
            vec!["--no-auth", "--tls-cert", "cert.pem"],
            vec![],
            "--tls-key <PEM>",
        ),
        (
            vec![
                "--no-auth",
                "--tls-cert",
                "/nonexistent/c.pem",
                "--tls-key",
                "/nonexistent/k.pem",
            ],
            vec![],
            "cannot read the TLS certificate file /nonexistent/c.pem",
        ),
        (vec!["--no-auth", "--max-turns", "0"], vec![], "--max-turns"),
        (vec!["--no-auth", "--mode", "mp3"], vec![], "--mode"),
        (
            vec![],
            vec![("WEBEX_MEDIA_VERIFY_TOKENS", "maybe")],
            "WEBEX_MEDIA_VERIFY_TOKENS=\"maybe\" is invalid",
        ),
        (
            vec!["--no-auth"],
            vec![("WEBEX_MEDIA_IDLE_TIMEOUT", "soon")],
            "WEBEX_MEDIA_IDLE_TIMEOUT",
        ),
    ] {
        let mut command = byova().args(["serve", "--port", "0"]).args(&args);
        for (name, value) in &env {
            command = command.env(name, value);
        }
        let outcome = command.run().await;
        outcome.assert_usage();
        assert!(outcome.stderr.contains(needle), "{args:?}: {outcome:?}");
    }
}

#[tokio::test]
async fn the_environment_configures_what_the_options_do() {
    // WEBEX_MEDIA_VERIFY_TOKENS=false is --no-auth; WEBEX_MEDIA_AUDIO_MODE=full is --mode wav.
    let server = serve_with(
        &["--detector", "energy"],
        &[
            ("WEBEX_MEDIA_VERIFY_TOKENS", "false"),
            ("WEBEX_MEDIA_AUDIO_MODE", "full"),
        ],
    )
    .await;
    let call = server.caller().await.call("call-env");
    let greeting = call.session_start("", Default::default()).await;
    let mut expected = closing_final();
    expected.prompts = vec![wav_prompt(&prompt("greeting"), true)];
    assert_eq!(messages(&greeting), [expected]);
    server.stop().await;
}

/// A caller over TLS trusting the test CA.
async fn tls_caller(addr: SocketAddr) -> Result<Caller, String> {
    let ca = std::fs::read(tls_fixture("ca.pem")).expect("the test CA");
    let target: Target = format!("https://{addr}").parse().expect("a target");
    let channel = tokio::time::timeout(DEADLINE, target.ca_pem(ca).domain("localhost").connect())
        .await
        .expect("connected in time")
        .map_err(|error| error.to_string())?;
    Ok(Caller::new(channel))
}

#[tokio::test]
async fn tls_serves_calls_and_mutual_tls_requires_a_client_certificate() {
    let (cert, key) = (tls_fixture("server.pem"), tls_fixture("server.key"));
    let server = serve(&["--no-auth", "--tls-cert", &cert, "--tls-key", &key]).await;
    let caller = tls_caller(server.addr).await.expect("a TLS connection");
    let greeting = caller
        .call("call-tls")
        .session_start("", Default::default())
        .await;
    let mut expected = chunks(&prompt("greeting"), true);
    expected.push(closing_final());
    assert_eq!(messages(&greeting), expected);
    // Plain text to the TLS port gets nowhere.
    let plain = server.caller().await;
    let result = plain
        .call("call-plain")
        .session_start("", Default::default())
        .await;
    assert!(!result.is_ok(), "a plain-text call got through");
    server.stop().await;

    // Mutual TLS: a client without a certificate issued under the CA is refused.
    let ca = tls_fixture("ca.pem");
    let server = serve(&[
        "--no-auth",
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
        "--tls-client-ca",
        &ca,
    ])
    .await;
    let refused = match tls_caller(server.addr).await {
        Err(_) => true,
        Ok(anonymous) => !anonymous
            .call("call-anon")
            .session_start("", Default::default())
            .await
            .is_ok(),
    };
    assert!(refused, "a client without a certificate got through");
    server.stop().await;
}

// --- JWS authentication ------------------------------------------------------------------------

const KEYS_PATH: &str = "/idb/oauth2/v2/keys/verificationjwk";

fn private_key() -> &'static Jwk {
    static KEY: OnceLock<Jwk> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = Jwk::generate_rsa_key(2048).expect("RSA key");
        key.set_key_id("serve-key");
        key
    })
}

/// A JWS as Webex mints it for `datasource_url`, signed by `issuer`.
fn token(issuer: &str, datasource_url: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let claims = json!({
        "iss": issuer,
        "aud": "BYOVAGateway",
        "sub": "callAudioData",
        "jti": "jti-serve",
        "exp": now + 3600,
        "com.cisco.datasource.url": datasource_url,
        "com.cisco.datasource.schema.uuid": BYOVA_SCHEMA_UUID,
    });
    let Value::Object(map) = claims else {
        unreachable!()
    };
    let mut header = JwsHeader::new();
    header.set_key_id("serve-key");
    let signer = RS256.signer_from_jwk(private_key()).expect("signer");
    jwt::encode_with_signer(
        &JwtPayload::from_map(map).expect("payload"),
        &header,
        &signer,
    )
    .expect("token")
}

/// The identity broker's key set on the stand-in (no bearer: the key set is public).
async fn broker(webex: &WebexStandIn) {
    let mut public = private_key().to_public_key().expect("public key");
    public.set_key_id("serve-key");
    let mut set = JwkSet::new();
    set.push_key(public);
    Mock::given(m::method("GET"))
        .and(m::path(KEYS_PATH))
        .and(m::no_header("authorization"))
        .respond_with(responses::json(
            serde_json::to_value(set.as_ref()).expect("jwks"),
        ))
        .expect(1..)
        .mount(webex.server())
        .await;
}

#[tokio::test]
async fn with_jws_authentication_only_calls_with_a_valid_token_get_through() {
    let webex = WebexStandIn::start().await;
    broker(&webex).await;
    let issuer = webex.url("/idb");
    let server = serve(&[
        "--datasource-url",
        DATASOURCE_URL,
        "--issuer",
        &issuer,
        "--detector",
        "energy",
    ])
    .await;
    let caller = server.caller().await;

    // No token: refused before the agent runs.
    let anonymous = caller
        .call("call-anon")
        .session_start("", Default::default())
        .await;
    assert_eq!(code(&anonymous), UNAUTHENTICATED, "{:?}", anonymous.status);
    assert!(anonymous.responses.is_empty());
    let listed = caller.list_virtual_agents("org-1").await.unwrap_err();
    assert_eq!(i32::from(listed.code()), UNAUTHENTICATED, "{listed:?}");

    // A token minted for another data source: refused.
    let elsewhere = caller
        .clone()
        .with_token(&token(&issuer, "https://elsewhere.example.com/byova"))
        .expect("metadata");
    let result = elsewhere
        .call("call-other")
        .session_start("", Default::default())
        .await;
    assert_eq!(code(&result), UNAUTHENTICATED, "{:?}", result.status);
    assert!(
        !result.status.message().contains("eyJ"),
        "the status leaks the token: {:?}",
        result.status
    );

    // The data source's own token: the demo agent answers.
    let authorized = caller
        .with_token(&token(&issuer, DATASOURCE_URL))
        .expect("metadata");
    let greeting = authorized
        .call("call-ok")
        .session_start("", Default::default())
        .await;
    let mut expected = chunks(&prompt("greeting"), true);
    expected.push(closing_final());
    assert_eq!(messages(&greeting), expected);
    let agents = authorized
        .list_virtual_agents("org-1")
        .await
        .expect("listed");
    assert_eq!(agents.len(), 1);
    let outcome = server.stop().await;
    assert!(
        !outcome.stderr.contains("eyJ"),
        "a token reached the logs: {outcome:?}"
    );
    webex.verify().await;
}
