//! The load engine against a real media server on loopback.

use std::time::Duration;

use super::{LoadConfig, LoadReport, LoadStep, LoadTest};
use crate::audio::{MULAW_SILENCE, mulaw};
use crate::client::{ClientError, Target};
use crate::{
    AgentConfig, AgentResult, Audio, Context, Detector, Dtmf, MediaServer, OutputMode, Reply,
    RunningServer, SessionStart, Utterance, VirtualAgent,
};

/// Greets, plays utterances back, answers DTMF with a prompt and `#` with the end.
struct Echo;

impl VirtualAgent for Echo {
    type State = ();

    async fn on_session_start(&self, _: &mut Context<'_, ()>, _: SessionStart) -> AgentResult {
        Ok(Reply::play(Audio::mulaw(vec![0x2A; 1600])))
    }

    async fn on_utterance(&self, _: &mut Context<'_, ()>, utterance: Utterance) -> AgentResult {
        Ok(Reply::play(Audio::mulaw(
            utterance.received().unwrap_or_default().to_vec(),
        )))
    }

    async fn on_dtmf(&self, _: &mut Context<'_, ()>, dtmf: Dtmf) -> AgentResult {
        Ok(match dtmf.digits.as_str() {
            "#" => Reply::say("Goodbye").end_session(),
            _ => Reply::say("Press pound"),
        })
    }
}

async fn server() -> RunningServer {
    MediaServer::builder()
        .addr("127.0.0.1:0".parse().unwrap())
        .disable_authentication()
        .detector(Detector::Energy)
        .output_mode(OutputMode::Chunk)
        .agent(AgentConfig::new("echo", Echo))
        .build()
        .unwrap()
        .bind()
        .await
        .unwrap()
}

/// 0.3 s of silence, 0.3 s of a loud tone, 0.2 s of silence (8 kHz μ-law).
fn utterance() -> Vec<u8> {
    let tone: Vec<i16> = (0..2400)
        .map(|i| (8000.0 * (i as f32 * 0.25).sin()) as i16)
        .collect();
    let mut audio = vec![MULAW_SILENCE; 2400];
    audio.extend(mulaw::encode(&tone));
    audio.extend([MULAW_SILENCE; 1600]);
    audio
}

fn target(server: &RunningServer) -> Target {
    server.local_addr().to_string().parse().unwrap()
}

async fn run(server: &RunningServer, config: LoadConfig) -> LoadReport {
    LoadTest::new(target(server), config)
        .unwrap()
        .run()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_run_their_script_and_are_measured() {
    let server = server().await;
    let config = LoadConfig {
        calls: Some(5),
        concurrency: 2,
        steps: vec![
            LoadStep::Say(utterance().into()),
            LoadStep::Dtmf("1".into()),
            LoadStep::Pause(Duration::from_millis(5)),
            LoadStep::NoInput,
        ],
        conversation_prefix: "engine".into(),
        ..LoadConfig::default()
    };
    let test = LoadTest::new(target(&server), config).unwrap();
    let progress = test.progress();
    let report = test.run().await.unwrap();
    assert!(report.is_clean(), "{report:#?}");
    assert_eq!(report.calls, 5);
    assert_eq!((progress.completed(), progress.failed()), (5, 0));
    // Per call: SESSION_START, the utterance, START_OF_DTMF, DTMF, NO_INPUT, SESSION_END.
    assert_eq!(report.rpcs, 5 * 6);
    assert_eq!(report.greeting.count, 5);
    assert_eq!(report.reply.count, 5);
    // DTMF (after START_OF_DTMF) and NO_INPUT.
    assert_eq!(report.other_turns.count, 10);
    assert_eq!(report.session_end.count, 5);
    // The calibration call found the END_OF_INPUT frame: every utterance is measured.
    assert_eq!(
        report.end_of_input_lateness.count + report.end_of_input_early,
        5
    );
    assert!(report.frames_sent >= 5 * 35, "{report:#?}");
    assert_eq!(report.connections, 1);
    server.wait_live_calls_at_most(0).await;
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_ending_the_call_skips_the_rest_and_refusals_are_counted() {
    let server = server().await;
    // `#` ends the session: no NO_INPUT, no SESSION_END.
    let config = LoadConfig {
        calls: Some(3),
        concurrency: 3,
        steps: vec![LoadStep::Dtmf("#".into()), LoadStep::NoInput],
        ..LoadConfig::default()
    };
    let report = run(&server, config).await;
    assert!(report.is_clean(), "{report:#?}");
    assert_eq!(report.rpcs, 3 * 3);
    assert_eq!(report.session_end.count, 0);
    // An unknown agent: NOT_FOUND on the greeting, by status name.
    let config = LoadConfig {
        calls: Some(2),
        concurrency: 1,
        virtual_agent_id: "nobody".into(),
        conversation_prefix: "refused".into(),
        ..LoadConfig::default()
    };
    let report = run(&server, config).await;
    assert!(!report.is_clean());
    assert_eq!(report.failed_calls, 2);
    assert_eq!(report.errors.get("NOT_FOUND"), Some(&2), "{report:#?}");
    // One caller: the calls run in order.
    assert_eq!(
        report.error_samples,
        [0, 1].map(|n| format!(
            "refused-{n} SESSION_START: [status-ok] status NOT_FOUND: \
             unknown virtual agent id \"nobody\""
        )),
        "{report:#?}"
    );
    server.shutdown().await.unwrap();
}

#[test]
fn unusable_settings_are_refused() {
    let target: Target = "127.0.0.1:1".parse().unwrap();
    for (config, why) in [
        (
            LoadConfig {
                concurrency: 0,
                ..LoadConfig::default()
            },
            "concurrency must be at least 1",
        ),
        (
            LoadConfig {
                calls: None,
                duration: None,
                ..LoadConfig::default()
            },
            "give a number of calls or a duration",
        ),
        (
            LoadConfig {
                calls: Some(0),
                ..LoadConfig::default()
            },
            "calls must be at least 1",
        ),
        (
            LoadConfig {
                rpc_timeout: Duration::ZERO,
                ..LoadConfig::default()
            },
            "the RPC timeout must be positive",
        ),
        (
            LoadConfig {
                steps: vec![LoadStep::Say(Vec::new().into())],
                ..LoadConfig::default()
            },
            "an utterance has no audio",
        ),
    ] {
        let error = LoadTest::new(target.clone(), config).unwrap_err();
        assert!(
            matches!(&error, ClientError::InvalidConfig(message) if message == why),
            "{error:?}"
        );
    }
}
