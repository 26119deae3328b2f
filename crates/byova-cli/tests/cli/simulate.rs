//! `byova simulate` against a real media server (in process, with a test agent) and against a
//! deliberately broken server that breaks one protocol rule at a time.

use std::net::SocketAddr;
use std::pin::Pin;

use byova::media::audio::{Wav, mulaw_wav};
use byova::media::proto::voice_va_request::VoiceVaInputType;
use byova::media::proto::voice_virtual_agent_server::{VoiceVirtualAgent, VoiceVirtualAgentServer};
use byova::media::proto::{
    ListVaRequest, ListVaResponse, OutputEvent, Prompt, VoiceVaRequest, VoiceVaResponse,
};
use byova::media::{
    AgentConfig, AgentResult, Audio, Context, Detector, Dtmf, MediaServer, OutputMode, Reply,
    RunningServer, SessionStart, TlsConfig, Utterance, VirtualAgent,
};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::support::{byova, tls_fixture};

// ---------------------------------------------------------------------------------------------
// A real server with a small agent.

/// Greets with 0.5 s of audio, plays every utterance back, transfers on `0`, ends on `#`.
struct Echo;

impl VirtualAgent for Echo {
    type State = ();

    async fn on_session_start(&self, _: &mut Context<'_, ()>, _: SessionStart) -> AgentResult {
        Ok(Reply::play(Audio::mulaw(vec![0x2A; 4000])).prompt("Welcome"))
    }

    async fn on_utterance(&self, _: &mut Context<'_, ()>, utterance: Utterance) -> AgentResult {
        let heard = utterance.received().unwrap_or_default().to_vec();
        Ok(Reply::play(Audio::mulaw(heard)))
    }

    async fn on_dtmf(&self, _: &mut Context<'_, ()>, dtmf: Dtmf) -> AgentResult {
        Ok(match dtmf.digits.as_str() {
            "0" => Reply::say("Transferring you").transfer_to_agent(),
            "#" => Reply::say("Goodbye").end_session(),
            _ => Reply::say("Press 0 or pound"),
        })
    }
}

async fn echo_server(mode: OutputMode) -> RunningServer {
    MediaServer::builder()
        .addr("127.0.0.1:0".parse().unwrap())
        .disable_authentication()
        .detector(Detector::Energy)
        .output_mode(mode)
        .agent(AgentConfig::new("echo", Echo).name("Echo"))
        .build()
        .expect("server settings")
        .bind()
        .await
        .expect("bind")
}

fn target(addr: SocketAddr) -> String {
    addr.to_string()
}

#[tokio::test]
async fn a_spoken_call_prints_its_timeline() {
    let server = echo_server(OutputMode::Chunk).await;
    let out = byova()
        .args(["simulate", "--addr", &target(server.local_addr())])
        .args(["--conversation-id", "call-7"])
        .run()
        .await;
    out.assert_success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!("call call-7 to http://{}", server.local_addr())
    );
    let text = &out.stdout;
    for wanted in [
        "RPC 1 → SESSION_START",
        "← CHUNK · prompt 4000 B (0.50 s μ-law)",
        "RPC 2 → say the bundled sample \"Yes.\" (2.72 s)",
        "← FINAL · START_OF_INPUT",
        "← CHUNK · END_OF_INPUT",
        "RPC 3 → SESSION_END",
        "protocol check: every rule kept (3 RPCs",
    ] {
        assert!(text.contains(wanted), "missing {wanted:?} in\n{text}");
    }
    // The spoken RPC: sending stopped at END_OF_INPUT, long before the trailing silence ran out.
    let spoken = lines
        .iter()
        .find(|line| line.contains("frames sent"))
        .expect("a spoken turn");
    assert!(spoken.contains("✓ OK"), "{spoken}");
    assert!(spoken.contains("speech ended at 1.22 s"), "{spoken}");
    assert_eq!(
        lines.iter().filter(|line| line.contains("✓ OK")).count(),
        3,
        "{text}"
    );
    server.wait_live_calls_at_most(0).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn json_reports_every_rpc_and_a_transfer_ends_the_call() {
    let server = echo_server(OutputMode::Wav).await;
    let out = byova()
        .args([
            "simulate",
            "--target",
            &format!("http://{}", server.local_addr()),
        ])
        .args(["--json", "--org-id", "org-9", "--agent-id", "echo"])
        .args([
            "--dtmf",
            "5",
            "--event",
            r#"status={"order":42}"#,
            "--dtmf",
            "0",
        ])
        .args(["--no-input"])
        .run()
        .await;
    out.assert_success();
    let report = out.json();
    assert_eq!(report["ok"], true);
    assert_eq!(report["violations"], json!([]));
    let sent: Vec<Value> = report["rpcs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rpc| rpc["sent"].clone())
        .collect();
    assert_eq!(
        sent,
        [
            json!({"type": "SESSION_START"}),
            json!({"type": "START_OF_DTMF"}),
            json!({"type": "DTMF", "digits": "5"}),
            json!({"type": "CUSTOM_EVENT", "name": "status", "parameters": {"order": 42}}),
            json!({"type": "START_OF_DTMF"}),
            json!({"type": "DTMF", "digits": "0"}),
        ]
    );
    // WAV mode: the greeting is one FINAL with a WAV prompt and the input settings.
    let greeting = &report["rpcs"][0]["responses"];
    assert_eq!(greeting.as_array().unwrap().len(), 1, "{greeting}");
    assert_eq!(greeting[0]["type"], "FINAL");
    assert_eq!(
        greeting[0]["prompts"][0]["audioFormat"],
        "WAV μ-law 8000 Hz"
    );
    assert_eq!(greeting[0]["prompts"][0]["audioMs"], 500.0);
    assert_eq!(greeting[0]["prompts"][1]["text"], "Welcome");
    assert_eq!(greeting[0]["inputMode"], "INPUT_VOICE_DTMF");
    assert_eq!(report["rpcs"][0]["status"]["code"], "OK");
    // The transfer is the last RPC; NO_INPUT and SESSION_END were not played.
    let transfer = &report["rpcs"][5]["responses"][0];
    assert_eq!(transfer["events"][0]["type"], "TRANSFER_TO_AGENT");
    assert_eq!(transfer["prompts"][0]["text"], "Transferring you");
    assert_eq!(
        report["skipped"],
        json!({"steps": 2, "why": "the server ended the call"})
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn prompts_are_saved_as_wav_files() {
    let server = echo_server(OutputMode::Chunk).await;
    let dir = tempfile::tempdir().unwrap();
    let out = byova()
        .args(["simulate", "--target", &target(server.local_addr())])
        .args(["--save-prompts", dir.path().to_str().unwrap()])
        .run()
        .await;
    out.assert_success();
    let greeting = dir.path().join("rpc01-chunks.wav");
    let echo = dir.path().join("rpc02-chunks.wav");
    assert!(
        out.stdout
            .contains(&format!("saved {}", greeting.display())),
        "{}",
        out.stdout
    );
    let greeting = std::fs::read(&greeting).unwrap();
    assert_eq!(greeting, mulaw_wav(&[0x2A; 4000]));
    // The echo is the caller's utterance: up to END_OF_INPUT, at least the spoken word.
    let echo = std::fs::read(&echo).unwrap();
    let wav = Wav::parse(&echo).unwrap();
    assert_eq!(wav.sample_rate(), 8000);
    assert!(wav.duration().as_millis() > 1000, "{:?}", wav.duration());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_script_file_runs_before_the_step_options() {
    let server = echo_server(OutputMode::Chunk).await;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("call.toml");
    std::fs::write(
        &script,
        "[[step]]\ndtmf = \"5\"\n[[step]]\npause_ms = 10\n[[step]]\nno_input = true\n",
    )
    .unwrap();
    let out = byova()
        .args(["simulate", "--target", &target(server.local_addr())])
        .args([
            "--script",
            script.to_str().unwrap(),
            "--dtmf",
            "#",
            "--json",
        ])
        .run()
        .await;
    out.assert_success();
    let report = out.json();
    let kinds: Vec<&str> = report["rpcs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rpc| rpc["sent"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "SESSION_START",
            "START_OF_DTMF",
            "DTMF",
            "NO_INPUT",
            "START_OF_DTMF",
            "DTMF"
        ]
    );
    assert_eq!(report["pauses"].as_array().unwrap().len(), 1);
    // `#` ended the call: the caller's SESSION_END was not needed.
    assert_eq!(report["skipped"]["steps"], 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn load_mode_reports_latency_percentiles() {
    let server = echo_server(OutputMode::Chunk).await;
    let out = byova()
        .args(["simulate", "--target", &target(server.local_addr())])
        .args(["--calls", "4", "--concurrency", "2", "--json"])
        .run()
        .await;
    out.assert_success();
    let report = out.json();
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["calls"], 4);
    assert_eq!(report["failedCalls"], 0);
    assert_eq!(report["concurrency"], 2);
    assert_eq!(report["connections"], 1);
    // Per call: SESSION_START, the utterance, SESSION_END.
    assert_eq!(report["rpcs"], 12);
    assert_eq!(report["errors"], json!({}));
    assert_eq!(report["greeting"]["count"], 4);
    assert_eq!(report["sessionEnd"]["count"], 4);
    let late = report["endOfInputLateness"]["count"].as_u64().unwrap();
    let early = report["endOfInputEarly"].as_u64().unwrap();
    assert_eq!(late + early, 4, "{report:#}");
    assert_eq!(report["reply"]["count"], 4);
    for key in ["p50Ms", "p95Ms", "p99Ms", "maxMs"] {
        assert!(report["greeting"][key].as_f64().unwrap() > 0.0, "{key}");
    }
    // Every frame went out: about 2 s of audio per call until END_OF_INPUT.
    assert!(
        report["framesSent"].as_u64().unwrap() >= 4 * 90,
        "{report:#}"
    );
    server.wait_live_calls_at_most(0).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn load_mode_prints_a_readable_report() {
    let server = echo_server(OutputMode::Chunk).await;
    let out = byova()
        .args(["simulate", "--target", &target(server.local_addr())])
        .args(["--calls", "3", "-c", "3", "--dtmf", "5"])
        .run()
        .await;
    out.assert_success();
    for wanted in [
        "load test of http://",
        "calls: 3 in ",
        "greeting (SESSION_START → first response)",
        "DTMF / event turns",
        "errors: none",
    ] {
        assert!(
            out.stdout.contains(wanted),
            "missing {wanted:?} in\n{}",
            out.stdout
        );
    }
    server.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// A server that breaks the rules on purpose.

type Responses = Pin<Box<dyn Stream<Item = Result<VoiceVaResponse, Status>> + Send>>;

/// Answers SESSION_START with `greeting` (then `status`); every other RPC with one FINAL.
#[derive(Clone)]
struct Broken {
    greeting: Vec<VoiceVaResponse>,
    status: Option<Status>,
    token: Option<String>,
}

#[tonic::async_trait]
impl VoiceVirtualAgent for Broken {
    type ProcessCallerInputStream = Responses;

    async fn process_caller_input(
        &self,
        request: Request<Streaming<VoiceVaRequest>>,
    ) -> Result<Response<Responses>, Status> {
        if let Some(token) = &self.token {
            let presented = request
                .metadata()
                .get("authorization")
                .and_then(|value| value.to_str().ok());
            if presented != Some(format!("Bearer {token}").as_str()) {
                return Err(Status::unauthenticated("no valid JWS"));
            }
        }
        let mut requests = request.into_inner();
        let first = requests.message().await?;
        while requests.message().await?.is_some() {}
        let start = matches!(
            first.and_then(|r| r.voice_va_input_type),
            Some(VoiceVaInputType::EventInput(event)) if event.event_type == 1
        );
        let mut items: Vec<Result<VoiceVaResponse, Status>> = if start {
            self.greeting.iter().cloned().map(Ok).collect()
        } else {
            vec![Ok(VoiceVaResponse::default())]
        };
        if start && let Some(status) = &self.status {
            items.push(Err(status.clone()));
        }
        Ok(Response::new(Box::pin(tokio_stream::iter(items))))
    }

    async fn list_virtual_agents(
        &self,
        _: Request<ListVaRequest>,
    ) -> Result<Response<ListVaResponse>, Status> {
        Ok(Response::new(ListVaResponse::default()))
    }
}

async fn broken_server(broken: Broken) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(VoiceVirtualAgentServer::new(broken))
            .serve_with_incoming(incoming),
    );
    addr
}

fn response(kind: i32, audio: &[&[u8]], events: &[i32]) -> VoiceVaResponse {
    VoiceVaResponse {
        response_type: kind,
        prompts: audio
            .iter()
            .map(|bytes| Prompt {
                audio_content: bytes.to_vec().into(),
                ..Prompt::default()
            })
            .collect(),
        output_events: events
            .iter()
            .map(|&event_type| OutputEvent {
                event_type,
                ..OutputEvent::default()
            })
            .collect(),
        ..VoiceVaResponse::default()
    }
}

const FINAL: i32 = 0;
const CHUNK: i32 = 2;
const START_OF_INPUT: i32 = 4;

fn broken(greeting: Vec<VoiceVaResponse>) -> Broken {
    Broken {
        greeting,
        status: None,
        token: None,
    }
}

#[tokio::test]
async fn each_broken_rule_fails_the_run_and_is_named() {
    let mut riff = b"RIFF".to_vec();
    riff.resize(400, 0);
    let cases: Vec<(&str, Broken)> = vec![
        (
            "one-prompt-final",
            broken(vec![
                response(FINAL, &[b"hello"], &[]),
                response(FINAL, &[b"again"], &[]),
            ]),
        ),
        (
            "chunk-size",
            broken(vec![
                response(CHUNK, &[&[0xFF; 50]], &[]),
                response(FINAL, &[], &[]),
            ]),
        ),
        (
            "no-riff-in-chunk",
            broken(vec![
                response(CHUNK, &[&riff], &[]),
                response(FINAL, &[], &[]),
            ]),
        ),
        (
            "last-message-final",
            broken(vec![response(CHUNK, &[&[0xFF; 800]], &[])]),
        ),
        (
            "one-start-end-pair",
            broken(vec![
                response(FINAL, &[], &[START_OF_INPUT]),
                response(FINAL, &[], &[START_OF_INPUT]),
            ]),
        ),
        (
            "status-ok",
            Broken {
                status: Some(Status::internal("the agent fell over")),
                ..broken(vec![response(FINAL, &[b"x"], &[])])
            },
        ),
    ];
    for (rule, server) in cases {
        let addr = broken_server(server).await;
        let out = byova()
            .args(["simulate", "--target", &target(addr), "--dtmf", "1"])
            .run()
            .await;
        assert_eq!(out.code, 1, "{rule}: {out:#?}");
        assert!(
            out.stderr
                .starts_with("error: the server broke the protocol (1 violation): RPC 1: ["),
            "{rule}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(&format!("[{rule}]")),
            "{rule}: {}",
            out.stderr
        );
        assert!(
            out.stdout
                .contains(&format!("✗ protocol violation [{rule}]")),
            "{rule}: {}",
            out.stdout
        );
        assert!(
            out.stdout.contains("protocol check: 1 violation in"),
            "{}",
            out.stdout
        );
    }
}

#[tokio::test]
async fn a_violation_in_json_mode() {
    let addr = broken_server(broken(vec![
        response(CHUNK, &[&[0xFF; 50]], &[]),
        response(FINAL, &[], &[]),
    ]))
    .await;
    let out = byova()
        .args([
            "simulate",
            "--target",
            &target(addr),
            "--dtmf",
            "1",
            "--json",
        ])
        .run()
        .await;
    assert_eq!(out.code, 1, "{out:#?}");
    let report = out.json();
    assert_eq!(report["ok"], false);
    assert_eq!(
        report["violations"],
        json!([{
            "rpc": 1,
            "rule": "chunk-size",
            "response": 1,
            "message": "CHUNK prompt 1 carries 50 bytes of audio",
        }])
    );
    assert_eq!(out.error_json()["error"]["kind"], "protocol_violation");
}

#[tokio::test]
async fn load_mode_counts_violations_and_failed_statuses() {
    let addr = broken_server(broken(vec![
        response(CHUNK, &[&[0xFF; 50]], &[]),
        response(FINAL, &[], &[]),
    ]))
    .await;
    let out = byova()
        .args(["simulate", "--target", &target(addr), "--dtmf", "1"])
        .args(["--calls", "3", "-c", "2", "--json"])
        .run()
        .await;
    assert_eq!(out.code, 1, "{out:#?}");
    let report = out.json();
    assert_eq!(report["ok"], false);
    assert_eq!(report["calls"], 3);
    assert_eq!(report["failedCalls"], 3);
    assert_eq!(report["errors"], json!({"protocol:chunk-size": 3}));
    assert!(
        report["errorSamples"][0]
            .as_str()
            .unwrap()
            .contains("SESSION_START: [chunk-size]"),
        "{report:#}"
    );
    let error = out.error_json();
    assert_eq!(error["error"]["kind"], "calls_failed");
    assert_eq!(
        error["error"]["message"],
        "3 of 3 calls failed (3 errors: protocol:chunk-size 3)"
    );
}

#[tokio::test]
async fn the_token_is_presented_as_a_bearer() {
    let addr = broken_server(Broken {
        token: Some("jws.for.this.call".into()),
        ..broken(vec![response(FINAL, &[b"hi"], &[])])
    })
    .await;
    byova()
        .args(["simulate", "--target", &target(addr), "--dtmf", "1"])
        .args(["--token", "jws.for.this.call"])
        .run()
        .await
        .assert_success();
    let refused = byova()
        .args(["simulate", "--target", &target(addr), "--dtmf", "1"])
        .args(["--token", "another"])
        .run()
        .await;
    assert_eq!(refused.code, 1, "{refused:#?}");
    assert!(
        refused.stdout.contains("✗ UNAUTHENTICATED: no valid JWS"),
        "{}",
        refused.stdout
    );
    assert!(
        refused
            .stderr
            .contains("[status-ok] status UNAUTHENTICATED: no valid JWS"),
        "{}",
        refused.stderr
    );
    // The token never shows in the output.
    assert!(!refused.stdout.contains("another") && !refused.stderr.contains("another"));
}

#[tokio::test]
async fn usage_errors_exit_2() {
    for args in [
        &["simulate", "--concurrency", "5"][..],
        &["simulate", "--target", "grpc://h:1"],
        &["simulate", "--say", "/nonexistent/hello.wav"],
        &["simulate", "--calls", "0"],
        &["simulate", "--calls", "2", "--save-prompts", "/tmp/x"],
        &["simulate", "--dtmf", "12x"],
        &["simulate", "--script", "/nonexistent/call.toml"],
    ] {
        byova().args(args).run().await.assert_usage();
    }
}

#[tokio::test]
async fn an_unreachable_server_fails_cleanly() {
    // A port that was free a moment ago: nothing listens there.
    let port = crate::support::free_port();
    let out = byova()
        .args(["simulate", "--target", &format!("127.0.0.1:{port}")])
        .run()
        .await;
    out.assert_failure();
    assert!(
        out.stderr.starts_with(&format!(
            "error: http://127.0.0.1:{port}: cannot connect to the media server"
        )),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn tls_with_the_servers_ca_and_without_it() {
    let tls = TlsConfig::from_pem(
        std::fs::read(tls_fixture("server.pem")).unwrap(),
        std::fs::read(tls_fixture("server.key")).unwrap(),
    )
    .unwrap();
    let server = MediaServer::builder()
        .addr("127.0.0.1:0".parse().unwrap())
        .disable_authentication()
        .tls(tls)
        .agent(AgentConfig::new("echo", Echo))
        .build()
        .unwrap()
        .bind()
        .await
        .unwrap();
    let addr = server.local_addr();
    // The certificate names localhost and 127.0.0.1.
    let out = byova()
        .args([
            "simulate",
            "--target",
            &format!("https://{addr}"),
            "--dtmf",
            "1",
        ])
        .args(["--ca-cert", &tls_fixture("ca.pem")])
        .run()
        .await;
    out.assert_success();
    assert!(out.stdout.starts_with("call sim-"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("to https://{addr}")),
        "{}",
        out.stdout
    );
    // The test CA is not among the Mozilla roots: the handshake fails, exit 1.
    let out = byova()
        .args([
            "simulate",
            "--target",
            &target(addr),
            "--tls",
            "--dtmf",
            "1",
        ])
        .run()
        .await;
    out.assert_failure();
    assert!(
        out.stderr
            .contains(&format!("error: https://{addr}: cannot connect")),
        "{}",
        out.stderr
    );
    server.shutdown().await.unwrap();
}
