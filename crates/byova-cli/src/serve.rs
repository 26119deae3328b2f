//! `byova serve`: the BYOVA media server with the built-in demo agent (`docs/demo-agent.md`),
//! in the foreground until Ctrl-C or SIGTERM.
//!
//! Prints one line, `listening on HOST:PORT` (the real port when `--port 0`), once the listener is
//! bound; everything else goes to stderr through `tracing`.

mod agents_file;
mod demo_agent;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use byova::jws::{Region, Verifier};
use byova::media::{Detector, MediaServerBuilder, OutputMode, TlsConfig};
use clap::{Args, ValueEnum};

use self::agents_file::AgentEntry;
use self::demo_agent::{DemoAgent, Prompts};
use crate::exit::{self, CliError};
use crate::output;

/// `WEBEX_MEDIA_*` variables that `byova serve` reads through its own options (each option names
/// its variable); the other `WEBEX_MEDIA_*` variables of
/// `byova::media::MediaServerBuilder::from_env` apply as they are.
const OPTION_VARIABLES: &[&str] = &[
    "WEBEX_MEDIA_HOST",
    "WEBEX_MEDIA_PORT",
    "WEBEX_MEDIA_TLS_CERT",
    "WEBEX_MEDIA_TLS_KEY",
    "WEBEX_MEDIA_TLS_CLIENT_CA",
    "WEBEX_MEDIA_DATASOURCE_URL",
    "WEBEX_MEDIA_JWS_AUDIENCE",
    "WEBEX_MEDIA_JWS_REGIONS",
    "WEBEX_MEDIA_AUDIO_MODE",
    "WEBEX_MEDIA_MAX_CALLS",
    "WEBEX_MEDIA_METRICS_PORT",
    "WEBEX_MEDIA_VAD",
];

/// The end of `byova serve --help`.
const AFTER_HELP: &str = "\
The demo agent greets the caller, plays each utterance back, answers a DTMF menu (1 repeat, \
0 transfer to an agent, # hang up) and says goodbye after --max-turns utterances \
(docs/demo-agent.md). `listening on HOST:PORT` is printed once the port is bound; logs go to \
stderr. Ctrl-C or SIGTERM stops it gracefully.

These WEBEX_MEDIA_* variables apply too: END_OF_INPUT_SILENCE_MS, MAX_SESSION_DURATION, \
IDLE_TIMEOUT, MAX_MESSAGE_BYTES, SHUTDOWN_GRACE; WEBEX_MEDIA_VERIFY_TOKENS=false is --no-auth.";

/// The variable that turns JWS authentication off when false (as `--no-auth` does).
const VERIFY_TOKENS: &str = "WEBEX_MEDIA_VERIFY_TOKENS";

/// `byova serve`: the options.
#[derive(Debug, Args)]
#[command(after_long_help = AFTER_HELP)]
pub(crate) struct ServeArgs {
    /// The IP address to listen on
    #[arg(long, env = "WEBEX_MEDIA_HOST", default_value_t = IpAddr::V4(Ipv4Addr::UNSPECIFIED))]
    host: IpAddr,

    /// The gRPC port (0: any free port; the port bound is printed)
    #[arg(long, env = "WEBEX_MEDIA_PORT", default_value_t = 50051)]
    port: u16,

    /// Serve TLS with this PEM certificate chain (with --tls-key)
    #[arg(
        long,
        env = "WEBEX_MEDIA_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,

    /// The PEM private key of --tls-cert
    #[arg(
        long,
        env = "WEBEX_MEDIA_TLS_KEY",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,

    /// Require client certificates issued under this PEM CA (mutual TLS; needs --tls-cert)
    #[arg(
        long,
        env = "WEBEX_MEDIA_TLS_CLIENT_CA",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    tls_client_ca: Option<PathBuf>,

    /// The data-source URL registered with Webex: every call's JWS must name it (required unless
    /// --no-auth)
    #[arg(
        long,
        env = "WEBEX_MEDIA_DATASOURCE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    datasource_url: Option<String>,

    /// Also accept JWS signed by this issuer; its keys come from
    /// {ISS}/oauth2/v2/keys/verificationjwk (repeatable)
    #[arg(long = "issuer", value_name = "ISS")]
    issuers: Vec<String>,

    /// Accept only the Webex issuers of this region: us, eu, ca, integration (repeatable)
    /// [default: all]
    #[arg(
        long = "region",
        env = "WEBEX_MEDIA_JWS_REGIONS",
        value_name = "REGION",
        value_delimiter = ','
    )]
    regions: Vec<Region>,

    /// Require this JWS audience
    #[arg(long, env = "WEBEX_MEDIA_JWS_AUDIENCE", value_name = "AUDIENCE")]
    audience: Option<String>,

    /// Accept calls without a JWS: anyone who reaches the port can drive calls (local development
    /// only)
    #[arg(long)]
    no_auth: bool,

    /// Serve /metrics, /healthz and /readyz over HTTP on this port (same host)
    #[arg(long, env = "WEBEX_MEDIA_METRICS_PORT", value_name = "PORT")]
    metrics_port: Option<u16>,

    /// How replies carry audio
    #[arg(long, env = "WEBEX_MEDIA_AUDIO_MODE", value_enum, default_value_t = Mode::Chunk)]
    mode: Mode,

    /// A TOML file listing the virtual agents offered by ListVirtualAgents, all answered by the
    /// demo agent (`[[agents]]` with id, name, default, attributes) [default: one agent, id
    /// "demo"]
    #[arg(long, value_name = "FILE")]
    agents: Option<PathBuf>,

    /// Utterances answered before the goodbye and SESSION_END
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    max_turns: u32,

    /// Concurrent calls before new ones are refused with RESOURCE_EXHAUSTED
    #[arg(long, env = "WEBEX_MEDIA_MAX_CALLS", value_name = "N", default_value_t = 5000, value_parser = clap::value_parser!(usize))]
    max_calls: usize,

    /// The voice detector that finds where the caller starts and stops speaking
    #[arg(long, env = "WEBEX_MEDIA_VAD", value_enum, default_value_t = DetectorArg::Earshot)]
    detector: DetectorArg,
}

/// `--mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Raw μ-law CHUNK responses as audio is ready, then one FINAL
    #[value(alias = "chunked")]
    Chunk,
    /// One FINAL per reply carrying complete μ-law WAV prompts
    #[value(alias = "full")]
    Wav,
}

/// `--detector`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DetectorArg {
    /// A small neural network, robust to noise
    Earshot,
    /// Level over an adaptive noise floor: much cheaper, fine for clean lines and load tests
    Energy,
}

/// Runs `byova serve` until Ctrl-C or SIGTERM.
pub(crate) async fn run(args: ServeArgs) -> Result<(), CliError> {
    let builder = configure(&args)?;
    let server = builder.build().map_err(media_error)?;
    // Before anything is printed: a SIGTERM sent as soon as the listening line appears must
    // already find its handler.
    let mut signals = StopSignals::install().map_err(|error| CliError::Refused {
        kind: "signals",
        message: format!("cannot listen for Ctrl-C and SIGTERM: {error}"),
    })?;
    let running = server.bind().await.map_err(media_error)?;
    output::line(format!("listening on {}", running.local_addr()));
    if let Some(metrics) = running.metrics_addr() {
        tracing::info!(%metrics, "serving /metrics, /healthz and /readyz");
    }

    let handle = running.shutdown_handle();
    let stopper = tokio::spawn(async move {
        let signal = signals.recv().await;
        tracing::info!(signal, "stopping: no new calls, running turns may finish");
        handle.shutdown();
    });
    let result = running.wait().await;
    stopper.abort();
    result.map_err(media_error)
}

/// The server builder for `args`: `WEBEX_MEDIA_*` settings without an option first, then the
/// options, the authentication and the agents.
fn configure(args: &ServeArgs) -> Result<MediaServerBuilder, CliError> {
    let agents = match &args.agents {
        Some(path) => agents_file::read(path)?,
        None => vec![AgentEntry::demo()],
    };
    let prompts = Prompts::bundled().map_err(|error| CliError::Refused {
        kind: "prompts",
        message: format!("the bundled demo prompts cannot be read: {error}"),
    })?;

    // Authentication is configured below, from the options.
    let mut builder = MediaServerBuilder::from_env_with(|name| {
        if name == VERIFY_TOKENS {
            Some("false".to_owned())
        } else if OPTION_VARIABLES.contains(&name) {
            None
        } else {
            std::env::var(name).ok()
        }
    })
    .map_err(media_error)?
    .addr(SocketAddr::new(args.host, args.port))
    .output_mode(match args.mode {
        Mode::Chunk => OutputMode::Chunk,
        Mode::Wav => OutputMode::Wav,
    })
    .detector(match args.detector {
        DetectorArg::Earshot => Detector::Earshot,
        DetectorArg::Energy => Detector::Energy,
    })
    .max_calls(args.max_calls);

    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let mut tls = TlsConfig::from_pem_files(cert, key).map_err(media_error)?;
        if let Some(ca) = &args.tls_client_ca {
            tls = tls.client_ca_file(ca).map_err(media_error)?;
        }
        builder = builder.tls(tls);
    }
    if let Some(port) = args.metrics_port {
        builder = builder.metrics_addr(SocketAddr::new(args.host, port));
    }
    builder = authenticate(builder, args)?;

    for entry in agents {
        let agent = DemoAgent::new(prompts.clone(), args.max_turns);
        builder = builder.agent(entry.into_config(agent));
    }
    Ok(builder)
}

/// JWS verification from the options, or none with `--no-auth`.
fn authenticate(
    builder: MediaServerBuilder,
    args: &ServeArgs,
) -> Result<MediaServerBuilder, CliError> {
    if args.no_auth || !verify_tokens_from_env()? {
        if args.datasource_url.is_some() || !args.issuers.is_empty() {
            tracing::warn!("authentication is off: --datasource-url and --issuer are ignored");
        }
        return Ok(builder.disable_authentication());
    }
    let Some(url) = args.datasource_url.as_deref().map(str::trim) else {
        return Err(CliError::usage(
            "JWS authentication is on by default: pass --datasource-url URL (the data-source URL \
             registered with Webex; env WEBEX_MEDIA_DATASOURCE_URL), or --no-auth to accept calls \
             without a token (local development only)",
        ));
    };
    let mut verifier = Verifier::builder(url);
    if !args.regions.is_empty() {
        verifier = verifier.regions(args.regions.iter().copied());
    }
    for issuer in &args.issuers {
        verifier = verifier.issuer(issuer.trim());
    }
    if let Some(audience) = &args.audience {
        verifier = verifier.audience(audience.trim());
    }
    let verifier = verifier.build()?;
    Ok(builder.jws(verifier))
}

/// `WEBEX_MEDIA_VERIFY_TOKENS` (default true).
fn verify_tokens_from_env() -> Result<bool, CliError> {
    let Ok(value) = std::env::var(VERIFY_TOKENS) else {
        return Ok(true);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(CliError::usage(format!(
            "{VERIFY_TOKENS}={value:?} is invalid: expected true or false"
        ))),
    }
}

/// Configuration and TLS problems are the caller's to fix (exit 2); binding and serving
/// failures exit 1.
fn media_error(error: byova::media::Error) -> CliError {
    if error.is_config() || error.is_tls() {
        CliError::usage(exit::with_causes(&error))
    } else {
        CliError::Failed(error.into())
    }
}

/// Ctrl-C (SIGINT) and SIGTERM, listened for from [`install`](Self::install) on.
struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Installs the handlers (they replace the default action of ending the process).
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// Resolves with the signal's name when one arrives.
    async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    #[test]
    fn defaults_match_the_demo_contract() {
        let Serve { args } = Serve::try_parse_from(["serve", "--no-auth"]).unwrap();
        assert_eq!(args.host, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(args.port, 50051);
        assert_eq!(args.mode, Mode::Chunk);
        assert_eq!(args.max_turns, 3);
        assert_eq!(args.detector, DetectorArg::Earshot);
        assert!(args.no_auth);
        assert!(args.agents.is_none());
    }

    #[test]
    fn modes_accept_the_environment_spellings() {
        for (value, mode) in [
            ("wav", Mode::Wav),
            ("full", Mode::Wav),
            ("chunk", Mode::Chunk),
            ("chunked", Mode::Chunk),
        ] {
            let Serve { args } = Serve::try_parse_from(["serve", "--mode", value]).unwrap();
            assert_eq!(args.mode, mode, "{value}");
        }
        let kind = |args: &[&str]| Serve::try_parse_from(args).unwrap_err().kind();
        assert_eq!(
            kind(&["serve", "--max-turns", "0"]),
            clap::error::ErrorKind::ValueValidation
        );
        assert_eq!(
            kind(&["serve", "--tls-cert", "c.pem"]),
            clap::error::ErrorKind::MissingRequiredArgument
        );
    }
}
