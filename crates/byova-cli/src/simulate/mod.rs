//! `byova simulate`: a caller simulator for any BYOVA media server.
//!
//! One call (the default) plays a script as Webex does — SESSION_START, the steps, SESSION_END —
//! prints a timeline of everything received and checks the protocol rules
//! ([`byova::media::client::rules`]). Load mode (`--calls`, `--duration`) runs the same call many
//! times at once through [`byova::media::client::load`] and reports latency percentiles.

mod audio;
mod call;
mod describe;
mod load;
mod prompts;
mod report;
mod script;
mod timeline;

use std::path::PathBuf;
use std::time::Duration;

use byova::media::client::load::LoadConfig;
use byova::media::client::{ClientError, Target};
use clap::ArgGroup;

use self::audio::Utterance;
use self::call::{CallSettings, LoadedStep};
use self::script::{FlagSteps, Step};
use crate::context::Context;
use crate::exit::{self, CliError};
use crate::output;

/// The end of `byova simulate --help`.
const AFTER_HELP: &str = "\
Without steps the call is SESSION_START, the bundled sample utterance \"Yes.\", SESSION_END. \
Utterances go out as 20 ms 8 kHz mu-law frames in real time, then silence, until END_OF_INPUT \
arrives (as Webex does). A server's SESSION_END or TRANSFER_TO_AGENT ends the call. --token \
attaches the JWS as `authorization: Bearer ...`.

Checked on every RPC: the last message is a FINAL; at most one FINAL carries prompts; CHUNK \
audio is 100 B - 64 KiB and has no RIFF header; at most one START_OF_INPUT/END_OF_INPUT pair; \
status OK. Exit status 1 names the rule broken (or, in load mode, any failed call); 2 on a \
usage error.

Load mode measures END_OF_INPUT lateness from the frame after which the server answered \
END_OF_INPUT in a calibration call placed alone before the load.";

/// `byova simulate`: the options.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = AFTER_HELP,
    group = ArgGroup::new("load").args(["calls", "duration"]).multiple(true)
)]
pub(crate) struct SimulateArgs {
    /// The media server: HOST:PORT, http://HOST:PORT or https://HOST:PORT
    #[arg(
        long,
        visible_alias = "addr",
        value_name = "TARGET",
        default_value = "127.0.0.1:50051"
    )]
    target: String,

    /// Use TLS; the server certificate is checked against the Mozilla roots (https:// and
    /// --ca-cert turn TLS on too)
    #[arg(long)]
    tls: bool,

    /// Trust this PEM CA certificate for the server certificate (turns TLS on)
    #[arg(long, value_name = "PEM")]
    ca_cert: Option<PathBuf>,

    /// The name the server certificate must carry [default: the target's host]
    #[arg(long, value_name = "NAME")]
    tls_domain: Option<String>,

    /// The virtual_agent_id sent [default: none, the server's default agent]
    #[arg(long, value_name = "ID", default_value = "")]
    agent_id: String,

    /// The customer_org_id sent
    #[arg(long, value_name = "ID", default_value = "simulated-org")]
    org_id: String,

    /// The conversation_id (in load mode the prefix of ID-N) [default: sim-RANDOM]
    #[arg(long, value_name = "ID")]
    conversation_id: Option<String>,

    /// The call's steps.
    #[command(flatten)]
    steps: FlagSteps,

    /// Read steps from a TOML script (`[[step]]` tables with say, dtmf, event + data, no_input or
    /// pause_ms); they run before the step options
    #[arg(
        long,
        value_name = "FILE.toml",
        help_heading = "Call script (in command-line order)"
    )]
    script: Option<PathBuf>,

    /// Save the prompts received as WAV files in this folder
    #[arg(long, value_name = "DIR", conflicts_with = "load")]
    save_prompts: Option<PathBuf>,

    /// Silence sent after an utterance while waiting for END_OF_INPUT, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 3000)]
    trailing_silence: u64,

    /// The longest one RPC may take, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,

    /// Place this many calls, --concurrency at a time, and report latency percentiles
    #[arg(long, value_name = "N", help_heading = "Load mode", value_parser = clap::value_parser!(u64).range(1..))]
    calls: Option<u64>,

    /// Place calls for this many seconds (with --calls: whichever ends first)
    #[arg(long, value_name = "SECONDS", help_heading = "Load mode", value_parser = positive_seconds)]
    duration: Option<Duration>,

    /// Callers at once
    #[arg(
        long,
        short = 'c',
        value_name = "N",
        default_value_t = 10,
        requires = "load",
        help_heading = "Load mode",
        value_parser = clap::value_parser!(usize)
    )]
    concurrency: usize,

    /// Start the callers spread over this many seconds
    #[arg(long, value_name = "SECONDS", requires = "load", help_heading = "Load mode", value_parser = seconds)]
    ramp: Option<Duration>,

    /// Worker threads of the load generator (1: single-threaded)
    #[arg(long, value_name = "N", default_value_t = 2, requires = "load", help_heading = "Load mode", value_parser = clap::value_parser!(u16).range(1..=64))]
    threads: u16,

    /// HTTP/2 connections the callers share [default: one per 200 callers, 1-16]
    #[arg(long, value_name = "N", requires = "load", help_heading = "Load mode", value_parser = clap::value_parser!(usize))]
    connections: Option<usize>,
}

fn seconds(value: &str) -> Result<Duration, String> {
    let seconds: f64 = value
        .parse()
        .map_err(|_| "expected a number of seconds".to_owned())?;
    Duration::try_from_secs_f64(seconds).map_err(|_| "expected a number of seconds".to_owned())
}

fn positive_seconds(value: &str) -> Result<Duration, String> {
    let duration = seconds(value)?;
    if duration.is_zero() {
        return Err("must be more than zero".to_owned());
    }
    Ok(duration)
}

/// Runs `byova simulate`.
pub(crate) async fn run(ctx: &Context, args: SimulateArgs) -> Result<(), CliError> {
    let target = target(&args)?;
    let token = ctx.static_token().map(str::to_owned);
    let mut steps = match &args.script {
        Some(path) => script::read_script(path)?,
        None => Vec::new(),
    };
    steps.extend(args.steps.0.iter().cloned());
    let mut loaded = steps
        .into_iter()
        .map(|step| {
            Ok(match step {
                Step::Say(path) => LoadedStep::Say(Utterance::read(&path)?),
                Step::Dtmf(digits) => LoadedStep::Dtmf(digits),
                Step::Event { name, data } => LoadedStep::Event { name, data },
                Step::NoInput => LoadedStep::NoInput,
                Step::Pause(pause) => LoadedStep::Pause(pause),
            })
        })
        .collect::<Result<Vec<_>, CliError>>()?;
    if loaded.is_empty() {
        loaded.push(LoadedStep::Say(Utterance::sample()));
    }
    let conversation_id = args
        .conversation_id
        .clone()
        .unwrap_or_else(|| format!("sim-{}", random_suffix()));
    let timeout = Duration::from_secs(args.timeout);
    let trailing_silence = Duration::from_millis(args.trailing_silence);

    if args.calls.is_some() || args.duration.is_some() {
        let mut config = LoadConfig::default();
        config.calls = args.calls;
        config.duration = args.duration;
        config.concurrency = args.concurrency.max(1);
        config.ramp = args.ramp.unwrap_or_default();
        config.connections = args.connections.unwrap_or(0);
        config.steps = load::steps(loaded);
        config.conversation_prefix = conversation_id;
        config.customer_org_id = args.org_id.clone();
        config.virtual_agent_id = args.agent_id.clone();
        config.trailing_silence = trailing_silence;
        config.rpc_timeout = timeout;
        let settings = load::LoadSettings {
            target,
            token,
            config,
            threads: usize::from(args.threads),
        };
        return load::run(settings, ctx.output()).await;
    }

    let settings = CallSettings {
        target,
        token,
        conversation_id,
        org_id: args.org_id.clone(),
        agent_id: args.agent_id.clone(),
        timeout,
        trailing_silence,
    };
    let record = call::run(&settings, loaded).await?;
    let saved = match &args.save_prompts {
        Some(dir) => prompts::save(&record, dir)?,
        None => Vec::new(),
    };
    let output = ctx.output();
    if output.json {
        output.json(&report::call_json(&record, &saved))?;
    } else {
        output::write_stdout(&timeline::render(&record));
        for path in &saved {
            output::line(format!("saved {path}"));
        }
    }
    let violations = record.violations();
    if violations.is_empty() {
        return Ok(());
    }
    let first = violations
        .iter()
        .map(|(rpc, violation)| format!("RPC {rpc}: {violation}"))
        .collect::<Vec<_>>()
        .join("; ");
    Err(CliError::Refused {
        kind: "protocol_violation",
        message: format!(
            "the server broke the protocol ({} violation{}): {first}",
            violations.len(),
            if violations.len() == 1 { "" } else { "s" }
        ),
    })
}

/// The target with its TLS settings.
fn target(args: &SimulateArgs) -> Result<Target, CliError> {
    let mut target: Target = args
        .target
        .parse()
        .map_err(|error: ClientError| CliError::usage(error.to_string()))?;
    if args.tls {
        target = target.tls(true);
    }
    if let Some(path) = &args.ca_cert {
        let pem = std::fs::read(path).map_err(|error| {
            CliError::usage(format!("cannot read --ca-cert {}: {error}", path.display()))
        })?;
        target = target.ca_pem(pem);
    }
    if let Some(domain) = &args.tls_domain {
        target = target.domain(domain.clone());
    }
    Ok(target)
}

/// A failure to reach the server, with the causes.
pub(super) fn client_error(target: &Target, error: &ClientError) -> CliError {
    CliError::Refused {
        kind: "connect",
        message: format!("{target}: {}", exit::with_causes(error)),
    }
}

/// Eight hex digits, different per run.
fn random_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{:08x}", nanos ^ std::process::id().rotate_left(13))
}
