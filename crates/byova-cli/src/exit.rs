//! Exit statuses and how failures are reported on stderr.
//!
//! 0: success. 1: Webex, the token store or a verification refused ([`CliError::Failed`]).
//! 2: usage — bad arguments or configuration, nothing was attempted ([`CliError::Usage`];
//! clap's own usage errors exit 2 too).

use std::fmt;
use std::process::ExitCode;

use serde_json::{Map, Value, json};

/// Exit status of a usage error.
pub const USAGE: u8 = 2;
/// Exit status of a failed operation.
pub const FAILURE: u8 = 1;

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// The command line or the configuration is wrong; nothing was attempted.
    Usage(String),
    /// Webex, the token store or a verification refused.
    Failed(byova::Error),
    /// A refusal the command explains itself (`kind` names it for `--json`).
    Refused {
        /// The machine-readable kind.
        kind: &'static str,
        /// What happened.
        message: String,
    },
}

impl CliError {
    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    /// The exit status.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Self::Usage(_) => USAGE,
            Self::Failed(_) | Self::Refused { .. } => FAILURE,
        })
    }

    /// Writes the error to stderr: `error: …` lines, or one JSON object with `--json`.
    pub fn report(&self, json: bool) {
        if json {
            eprintln!("{}", self.to_json());
        } else {
            eprintln!("error: {self}");
            if let Self::Usage(_) = self {
                eprintln!("\nFor more information, try '--help'.");
            }
        }
    }

    fn to_json(&self) -> Value {
        let mut error = Map::new();
        error.insert("kind".into(), json!(self.kind()));
        error.insert("message".into(), json!(self.to_string()));
        if let Self::Failed(failure) = self {
            if let Some(status) = failure.api_error().and_then(byova::api::Error::status) {
                error.insert("status".into(), json!(status.as_u16()));
            }
            if let Some(tracking_id) = failure.tracking_id() {
                error.insert("trackingId".into(), json!(tracking_id));
            }
        }
        json!({ "error": error })
    }

    /// A stable, machine-readable name of what failed.
    pub fn kind(&self) -> &'static str {
        let failure = match self {
            Self::Usage(_) => return "usage",
            Self::Refused { kind, .. } => return kind,
            Self::Failed(failure) => failure,
        };
        if let Some(jws) = failure.jws_error() {
            return jws_kind(jws.kind());
        }
        if let Some(auth) = failure.auth_error() {
            use byova::auth::ErrorKind as K;
            let kind = match auth.kind() {
                K::NotAuthorized => Some("not_authorized"),
                K::ReauthorizationRequired => Some("reauthorization_required"),
                K::OrgNotRegistered { .. } => Some("org_not_registered"),
                K::Storage => Some("storage"),
                K::LockTimeout => Some("lock_timeout"),
                K::Redirect { .. } => Some("redirect"),
                K::RedirectTimeout => Some("redirect_timeout"),
                K::StateMismatch => Some("state_mismatch"),
                K::Listener => Some("listener"),
                K::DataSource => Some("data_source"),
                // API failures are named after the REST error below.
                _ => None,
            };
            if let Some(kind) = kind {
                return kind;
            }
        }
        if let Some(api) = failure.api_error() {
            return api_kind(api);
        }
        match failure.kind() {
            byova::ErrorKind::OrgNotRegistered { .. } => "org_not_registered",
            byova::ErrorKind::Jws => "jws",
            byova::ErrorKind::Media => "media",
            _ => "error",
        }
    }
}

fn jws_kind(kind: byova::jws::ErrorKind) -> &'static str {
    use byova::jws::ErrorKind as K;
    match kind {
        K::Malformed => "malformed",
        K::DisallowedAlgorithm => "disallowed_algorithm",
        K::UnknownIssuer => "unknown_issuer",
        K::UnknownKey => "unknown_key",
        K::BadSignature => "bad_signature",
        K::Expired => "expired",
        K::NotYetValid => "not_yet_valid",
        K::MissingClaim(_) => "missing_claim",
        K::ClaimMismatch(_) => "claim_mismatch",
        K::KeySetUnavailable => "key_set_unavailable",
        K::Config => "config",
        _ => "jws",
    }
}

fn api_kind(error: &byova::api::Error) -> &'static str {
    use byova::api::ErrorKind as K;
    match error.kind() {
        K::Unauthorized => "unauthorized",
        K::Forbidden => "forbidden",
        K::NotFound => "not_found",
        K::Validation => "validation",
        K::RateLimited { .. } => "rate_limited",
        K::Server => "server",
        K::OtherStatus => "unexpected_status",
        K::Timeout => "timeout",
        K::Transport => "transport",
        K::Decode => "decode",
        K::InvalidRequest => "invalid_request",
        K::TokenSource => "token_source",
        _ => "api",
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) | Self::Refused { message, .. } => f.write_str(message),
            Self::Failed(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl From<byova::Error> for CliError {
    fn from(error: byova::Error) -> Self {
        if error.is_config() {
            return Self::Usage(error.to_string());
        }
        // An invalid request was refused before anything was sent: the arguments are at fault.
        if error
            .api_error()
            .is_some_and(byova::api::Error::is_invalid_request)
            || error
                .auth_error()
                .is_some_and(|auth| matches!(auth.kind(), byova::auth::ErrorKind::InvalidInput))
        {
            return Self::Usage(error.to_string());
        }
        Self::Failed(error)
    }
}

impl From<byova::api::Error> for CliError {
    fn from(error: byova::api::Error) -> Self {
        byova::Error::from(error).into()
    }
}

impl From<byova::auth::Error> for CliError {
    fn from(error: byova::auth::Error) -> Self {
        byova::Error::from(error).into()
    }
}

impl From<byova::jws::Error> for CliError {
    fn from(error: byova::jws::Error) -> Self {
        byova::Error::from(error).into()
    }
}

/// `error` followed by each of its causes, separated by `: `.
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        message.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    message
}

/// Clap's own errors: help and version exit 0, usage errors 2.
pub fn clap_exit(error: &clap::Error) -> ExitCode {
    // Printing can only fail when stderr/stdout is closed; the exit status still tells.
    let _ = error.print();
    ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(USAGE))
}
