//! [`MediaServerBuilder::from_env`]: settings from `WEBEX_MEDIA_*` environment variables.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use crate::config::{Detector, TlsConfig};
use crate::error::Error;
use crate::reply::{InputMode, SpeechTimers};
use crate::server::MediaServerBuilder;
use crate::sink::OutputMode;

impl MediaServerBuilder {
    /// A builder configured from the process environment; agents are still registered in code.
    ///
    /// | variable | default | meaning |
    /// |---|---|---|
    /// | `WEBEX_MEDIA_HOST` | `0.0.0.0` | listening IP address |
    /// | `WEBEX_MEDIA_PORT` | `50051` | listening port (0: any free port) |
    /// | `WEBEX_MEDIA_TLS_CERT`, `WEBEX_MEDIA_TLS_KEY` | unset | PEM files; both or neither |
    /// | `WEBEX_MEDIA_TLS_CLIENT_CA` | unset | PEM file of the CA client certificates must chain to (mutual TLS) |
    /// | `WEBEX_MEDIA_VERIFY_TOKENS` | `true` | `false` turns JWS authentication off (local development only) |
    /// | `WEBEX_MEDIA_DATASOURCE_URL` | — | the registered data-source URL the JWS must name; required while tokens are verified |
    /// | `WEBEX_MEDIA_JWS_AUDIENCE` | unset | the audience the JWS must carry |
    /// | `WEBEX_MEDIA_JWS_REGIONS` | all | comma-separated Webex regions whose issuers are accepted (`us`, `eu`, `ca`, `integration`) |
    /// | `WEBEX_MEDIA_AUDIO_MODE` | `chunked` | default output mode: `chunked` (CHUNK) or `full` (WAV) |
    /// | `WEBEX_MEDIA_INPUT_MODE` | `mixed` | default next input: `voice`, `dtmf` or `mixed` |
    /// | `WEBEX_MEDIA_BARGE_IN_ENABLED` | `false` | prompts interruptible by default |
    /// | `WEBEX_MEDIA_NO_INPUT_TIMEOUT` | unset | seconds Webex waits for input before NO_INPUT (sent as `no_input_timeout_msec`) |
    /// | `WEBEX_MEDIA_END_OF_INPUT_SILENCE_MS` | `800` | trailing silence that ends an utterance |
    /// | `WEBEX_MEDIA_MAX_SESSION_DURATION` | `3600` | longest call in seconds; `none` for no limit |
    /// | `WEBEX_MEDIA_IDLE_TIMEOUT` | `600` | seconds without traffic before a call is closed |
    /// | `WEBEX_MEDIA_MAX_CALLS` | `5000` | concurrent calls before RESOURCE_EXHAUSTED |
    /// | `WEBEX_MEDIA_MAX_MESSAGE_BYTES` | `4194304` | largest gRPC message |
    /// | `WEBEX_MEDIA_SHUTDOWN_GRACE` | `20` | seconds running turns get on shutdown |
    /// | `WEBEX_MEDIA_METRICS_PORT` | unset | serve `/metrics`, `/healthz`, `/readyz` on this port (same host) |
    /// | `WEBEX_MEDIA_VAD` | `earshot` | voice detector: `earshot` or `energy` |
    ///
    /// Booleans accept `1`/`true`/`yes`/`on` and `0`/`false`/`no`/`off` (any case); anything else is
    /// an error naming the variable. An empty value counts as unset. The Python SDK's
    /// `WEBEX_MEDIA_SAMPLE_RATE` (replies are always 8 kHz μ-law here), `TURN_DISCONNECT_TIMEOUT`
    /// (see `IDLE_TIMEOUT`) and `LOG_LEVEL` (logging belongs to the binary) are not read.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) naming the variable whose value is invalid,
    /// or a missing `WEBEX_MEDIA_DATASOURCE_URL` while tokens are verified;
    /// [`ErrorKind::Tls`](crate::ErrorKind::Tls) when TLS files cannot be read.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading variables through `lookup` (for tests, or
    /// another configuration source).
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let mut builder = Self::default();

        if let Some(host) = get("WEBEX_MEDIA_HOST") {
            builder = builder.host(parse::<IpAddr>("WEBEX_MEDIA_HOST", &host)?);
        }
        if let Some(port) = get("WEBEX_MEDIA_PORT") {
            builder = builder.port(parse::<u16>("WEBEX_MEDIA_PORT", &port)?);
        }
        match (get("WEBEX_MEDIA_TLS_CERT"), get("WEBEX_MEDIA_TLS_KEY")) {
            (Some(cert), Some(key)) => {
                let mut tls = TlsConfig::from_pem_files(cert.trim(), key.trim())?;
                if let Some(ca) = get("WEBEX_MEDIA_TLS_CLIENT_CA") {
                    tls = tls.client_ca_file(ca.trim())?;
                }
                builder = builder.tls(tls);
            }
            (None, None) => {
                if get("WEBEX_MEDIA_TLS_CLIENT_CA").is_some() {
                    return Err(Error::config(
                        "WEBEX_MEDIA_TLS_CLIENT_CA needs WEBEX_MEDIA_TLS_CERT and WEBEX_MEDIA_TLS_KEY",
                    ));
                }
            }
            _ => {
                return Err(Error::config(
                    "set both WEBEX_MEDIA_TLS_CERT and WEBEX_MEDIA_TLS_KEY, or neither",
                ));
            }
        }

        let verify = match get("WEBEX_MEDIA_VERIFY_TOKENS") {
            Some(value) => parse_bool("WEBEX_MEDIA_VERIFY_TOKENS", &value)?,
            None => true,
        };
        if verify {
            builder = with_verifier(builder, &get)?;
        } else {
            builder = builder.disable_authentication();
        }

        if let Some(mode) = get("WEBEX_MEDIA_AUDIO_MODE") {
            let mode = match mode.trim().to_ascii_lowercase().as_str() {
                "chunked" | "chunk" => OutputMode::Chunk,
                "full" | "wav" => OutputMode::Wav,
                _ => return Err(invalid("WEBEX_MEDIA_AUDIO_MODE", &mode, "chunked or full")),
            };
            builder = builder.output_mode(mode);
        }
        if let Some(mode) = get("WEBEX_MEDIA_INPUT_MODE") {
            let mode = match mode.trim().to_ascii_lowercase().as_str() {
                "voice" => InputMode::Voice,
                "dtmf" => InputMode::Dtmf,
                "mixed" | "voice_dtmf" => InputMode::VoiceAndDtmf,
                _ => {
                    return Err(invalid(
                        "WEBEX_MEDIA_INPUT_MODE",
                        &mode,
                        "voice, dtmf or mixed",
                    ));
                }
            };
            builder = builder.input_mode(mode);
        }
        if let Some(value) = get("WEBEX_MEDIA_BARGE_IN_ENABLED") {
            builder = builder.barge_in(parse_bool("WEBEX_MEDIA_BARGE_IN_ENABLED", &value)?);
        }
        if let Some(value) = get("WEBEX_MEDIA_NO_INPUT_TIMEOUT") {
            let timeout = seconds("WEBEX_MEDIA_NO_INPUT_TIMEOUT", &value)?;
            let mut config = builder.reply_input_config();
            let speech = config.speech.get_or_insert_with(SpeechTimers::default);
            speech.no_input = (!timeout.is_zero()).then_some(timeout);
            builder = builder.input_config(config);
        }
        if let Some(value) = get("WEBEX_MEDIA_END_OF_INPUT_SILENCE_MS") {
            let ms = parse::<u64>("WEBEX_MEDIA_END_OF_INPUT_SILENCE_MS", &value)?;
            let config = builder
                .endpointing_config()
                .with_end_silence(Duration::from_millis(ms));
            builder = builder.endpointing(config);
        }
        if let Some(value) = get("WEBEX_MEDIA_MAX_SESSION_DURATION") {
            let limit = if value.trim().eq_ignore_ascii_case("none") {
                None
            } else {
                Some(seconds("WEBEX_MEDIA_MAX_SESSION_DURATION", &value)?)
            };
            builder = builder.max_call_duration(limit);
        }
        if let Some(value) = get("WEBEX_MEDIA_IDLE_TIMEOUT") {
            builder = builder.idle_timeout(seconds("WEBEX_MEDIA_IDLE_TIMEOUT", &value)?);
        }
        if let Some(value) = get("WEBEX_MEDIA_MAX_CALLS") {
            builder = builder.max_calls(parse::<usize>("WEBEX_MEDIA_MAX_CALLS", &value)?);
        }
        if let Some(value) = get("WEBEX_MEDIA_MAX_MESSAGE_BYTES") {
            builder =
                builder.max_message_size(parse::<usize>("WEBEX_MEDIA_MAX_MESSAGE_BYTES", &value)?);
        }
        if let Some(value) = get("WEBEX_MEDIA_SHUTDOWN_GRACE") {
            builder = builder.shutdown_grace(seconds("WEBEX_MEDIA_SHUTDOWN_GRACE", &value)?);
        }
        if let Some(value) = get("WEBEX_MEDIA_METRICS_PORT") {
            let port = parse::<u16>("WEBEX_MEDIA_METRICS_PORT", &value)?;
            let host = builder.addr_value().ip();
            builder = builder.metrics_addr(SocketAddr::new(host, port));
        }
        if let Some(value) = get("WEBEX_MEDIA_VAD") {
            let detector = match value.trim().to_ascii_lowercase().as_str() {
                "earshot" => Detector::Earshot,
                "energy" => Detector::Energy,
                _ => return Err(invalid("WEBEX_MEDIA_VAD", &value, "earshot or energy")),
            };
            builder = builder.detector(detector);
        }
        Ok(builder)
    }
}

#[cfg(feature = "jws")]
fn with_verifier(
    builder: MediaServerBuilder,
    get: &impl Fn(&str) -> Option<String>,
) -> Result<MediaServerBuilder, Error> {
    let url = get("WEBEX_MEDIA_DATASOURCE_URL").ok_or_else(|| {
        Error::config(
            "WEBEX_MEDIA_DATASOURCE_URL is required while tokens are verified \
             (or set WEBEX_MEDIA_VERIFY_TOKENS=false for local development)",
        )
    })?;
    let mut verifier = byova_jws::Verifier::builder(url.trim());
    if let Some(audience) = get("WEBEX_MEDIA_JWS_AUDIENCE") {
        verifier = verifier.audience(audience.trim());
    }
    if let Some(regions) = get("WEBEX_MEDIA_JWS_REGIONS") {
        let regions = regions
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| {
                name.parse::<byova_jws::Region>()
                    .map_err(|err| Error::config(format!("WEBEX_MEDIA_JWS_REGIONS: {err}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        verifier = verifier.regions(regions);
    }
    let verifier = verifier
        .build()
        .map_err(|err| Error::config("the JWS verifier cannot be built").with_source(err))?;
    Ok(builder.jws(verifier))
}

#[cfg(not(feature = "jws"))]
fn with_verifier(
    _builder: MediaServerBuilder,
    _get: &impl Fn(&str) -> Option<String>,
) -> Result<MediaServerBuilder, Error> {
    Err(Error::config(
        "this build has no JWS support (the `jws` feature is off): set WEBEX_MEDIA_VERIFY_TOKENS=false",
    ))
}

fn parse<T: FromStr>(name: &str, value: &str) -> Result<T, Error> {
    value
        .trim()
        .parse()
        .map_err(|_| invalid(name, value, std::any::type_name::<T>()))
}

fn parse_bool(name: &str, value: &str) -> Result<bool, Error> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(invalid(name, value, "true or false")),
    }
}

fn seconds(name: &str, value: &str) -> Result<Duration, Error> {
    let secs: f64 = parse(name, value)?;
    Duration::try_from_secs_f64(secs).map_err(|_| invalid(name, value, "a number of seconds ≥ 0"))
}

fn invalid(name: &str, value: &str, expected: &str) -> Error {
    Error::config(format!("{name}={value:?} is invalid: expected {expected}"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<MediaServerBuilder, Error> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        MediaServerBuilder::from_env_with(|name| map.get(name).cloned())
    }

    #[test]
    fn reads_the_documented_variables() {
        let builder = from(&[
            ("WEBEX_MEDIA_HOST", "127.0.0.1"),
            ("WEBEX_MEDIA_PORT", "0"),
            ("WEBEX_MEDIA_VERIFY_TOKENS", "off"),
            ("WEBEX_MEDIA_AUDIO_MODE", "full"),
            ("WEBEX_MEDIA_INPUT_MODE", "dtmf"),
            ("WEBEX_MEDIA_BARGE_IN_ENABLED", "YES"),
            ("WEBEX_MEDIA_NO_INPUT_TIMEOUT", "7.5"),
            ("WEBEX_MEDIA_END_OF_INPUT_SILENCE_MS", "600"),
            ("WEBEX_MEDIA_MAX_SESSION_DURATION", "none"),
            ("WEBEX_MEDIA_IDLE_TIMEOUT", "30"),
            ("WEBEX_MEDIA_MAX_CALLS", "12"),
            ("WEBEX_MEDIA_METRICS_PORT", "9100"),
            ("WEBEX_MEDIA_VAD", "energy"),
        ])
        .unwrap();
        let text = format!("{builder:?}");
        assert_eq!(builder.addr_value(), "127.0.0.1:0".parse().unwrap());
        assert!(text.contains("Disabled"), "{text}");
        assert!(text.contains("mode: Wav"), "{text}");
        assert!(text.contains("input_mode: Dtmf"), "{text}");
        assert!(text.contains("barge_in: true"), "{text}");
        assert!(text.contains("no_input: Some(7.5s)"), "{text}");
        assert!(text.contains("end_silence: 600ms"), "{text}");
        assert!(text.contains("max_call_duration: None"), "{text}");
        assert!(text.contains("idle_timeout: 30s"), "{text}");
        assert!(text.contains("max_calls: 12"), "{text}");
        assert!(text.contains("127.0.0.1:9100"), "{text}");
        assert!(text.contains("detector: Energy"), "{text}");
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (vars, needle) in [
            (
                vec![("WEBEX_MEDIA_PORT", "http")],
                "WEBEX_MEDIA_PORT=\"http\" is invalid",
            ),
            (
                vec![("WEBEX_MEDIA_VERIFY_TOKENS", "maybe")],
                "WEBEX_MEDIA_VERIFY_TOKENS",
            ),
            (
                vec![
                    ("WEBEX_MEDIA_VERIFY_TOKENS", "0"),
                    ("WEBEX_MEDIA_TLS_CERT", "/x.pem"),
                ],
                "both WEBEX_MEDIA_TLS_CERT and WEBEX_MEDIA_TLS_KEY",
            ),
            (
                vec![
                    ("WEBEX_MEDIA_VERIFY_TOKENS", "0"),
                    ("WEBEX_MEDIA_IDLE_TIMEOUT", "-1"),
                ],
                "WEBEX_MEDIA_IDLE_TIMEOUT",
            ),
        ] {
            let err = from(&vars).unwrap_err();
            assert!(err.is_config());
            assert!(err.to_string().contains(needle), "{err} lacks {needle}");
        }
    }

    #[test]
    fn verifying_tokens_needs_the_datasource_url() {
        let err = from(&[]).unwrap_err();
        assert!(err.is_config());
        assert!(
            err.to_string().contains("WEBEX_MEDIA_DATASOURCE_URL")
                || err.to_string().contains("jws"),
            "{err}"
        );
    }

    #[cfg(feature = "jws")]
    #[test]
    fn a_datasource_url_configures_the_verifier() {
        let builder = from(&[
            ("WEBEX_MEDIA_DATASOURCE_URL", "https://va.example.com/byova"),
            ("WEBEX_MEDIA_JWS_REGIONS", "us, eu"),
        ])
        .unwrap();
        assert!(format!("{builder:?}").contains("Jws"));
        let err = from(&[
            ("WEBEX_MEDIA_DATASOURCE_URL", "https://va.example.com/byova"),
            ("WEBEX_MEDIA_JWS_REGIONS", "mars"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("mars"), "{err}");
    }
}
