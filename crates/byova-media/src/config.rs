//! Settings of a media server that are more than a number: TLS material, the failure policy,
//! the voice detector, and the per-call settings the turn driver reads.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, ErrorKind};
use crate::reply::{OutputEvent, Prompt, Reply};
use crate::vad::{EarshotDetector, Endpointer, EndpointerConfig, EnergyDetector, VoiceDetector};

/// TLS for the gRPC listener: the server's certificate chain and key, and optionally the CA
/// that client certificates must chain to (mutual TLS; Webex presents a certificate issued under
/// the IdenTrust Commercial Root CA).
///
/// TLS uses rustls with the ring provider. The private key never appears in `Debug` output or
/// errors.
#[derive(Clone)]
pub struct TlsConfig {
    pub(crate) cert_pem: Vec<u8>,
    pub(crate) key_pem: Vec<u8>,
    pub(crate) client_ca_pem: Option<Vec<u8>>,
    pub(crate) client_auth_optional: bool,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("cert_pem", &format_args!("<{} bytes>", self.cert_pem.len()))
            .field("key_pem", &"<redacted>")
            .field("mutual_tls", &self.client_ca_pem.is_some())
            .field("client_auth_optional", &self.client_auth_optional)
            .finish()
    }
}

impl TlsConfig {
    /// TLS from a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or SEC1).
    ///
    /// # Errors
    /// [`ErrorKind::Tls`] when the PEM holds no certificate or no private key.
    pub fn from_pem(
        cert_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<Vec<u8>>,
    ) -> Result<Self, Error> {
        let config = Self {
            cert_pem: cert_pem.into(),
            key_pem: key_pem.into(),
            client_ca_pem: None,
            client_auth_optional: false,
        };
        config.validate()?;
        Ok(config)
    }

    /// TLS from PEM files.
    ///
    /// # Errors
    /// [`ErrorKind::Tls`] when a file cannot be read or holds no certificate or key.
    pub fn from_pem_files(cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<Self, Error> {
        let cert_pem = read(cert.as_ref(), "certificate")?;
        let key_pem = read(key.as_ref(), "private key")?;
        Self::from_pem(cert_pem, key_pem)
    }

    /// Requires client certificates chaining to the CA(s) in `ca_pem` (mutual TLS).
    ///
    /// # Errors
    /// [`ErrorKind::Tls`] when the PEM holds no certificate.
    pub fn client_ca_pem(mut self, ca_pem: impl Into<Vec<u8>>) -> Result<Self, Error> {
        let ca_pem = ca_pem.into();
        if count_certs(&ca_pem)? == 0 {
            return Err(Error::new(
                ErrorKind::Tls,
                "the client CA PEM holds no certificate",
            ));
        }
        self.client_ca_pem = Some(ca_pem);
        Ok(self)
    }

    /// As [`client_ca_pem`](Self::client_ca_pem), from a file.
    ///
    /// # Errors
    /// [`ErrorKind::Tls`] when the file cannot be read or holds no certificate.
    pub fn client_ca_file(self, path: impl AsRef<Path>) -> Result<Self, Error> {
        let pem = read(path.as_ref(), "client CA")?;
        self.client_ca_pem(pem)
    }

    /// With mutual TLS, also accepts clients that present no certificate (those that do must
    /// still present a valid one). Default `false`.
    #[must_use]
    pub fn client_auth_optional(mut self, optional: bool) -> Self {
        self.client_auth_optional = optional;
        self
    }

    fn validate(&self) -> Result<(), Error> {
        if count_certs(&self.cert_pem)? == 0 {
            return Err(Error::new(
                ErrorKind::Tls,
                "the certificate PEM holds no certificate",
            ));
        }
        let mut reader = self.key_pem.as_slice();
        match rustls_pemfile::private_key(&mut reader) {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(Error::new(
                ErrorKind::Tls,
                "the private key PEM holds no private key",
            )),
            Err(_) => Err(Error::new(
                ErrorKind::Tls,
                "the private key PEM cannot be parsed",
            )),
        }
    }

    pub(crate) fn to_tonic(&self) -> tonic::transport::ServerTlsConfig {
        let identity = tonic::transport::Identity::from_pem(&self.cert_pem, &self.key_pem);
        let mut config = tonic::transport::ServerTlsConfig::new().identity(identity);
        if let Some(ca) = &self.client_ca_pem {
            config = config
                .client_ca_root(tonic::transport::Certificate::from_pem(ca))
                .client_auth_optional(self.client_auth_optional);
        }
        config
    }
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|err| {
        Error::new(
            ErrorKind::Tls,
            format!("cannot read the TLS {what} file {}", path.display()),
        )
        .with_source(err)
    })
}

fn count_certs(pem: &[u8]) -> Result<usize, Error> {
    let mut reader = pem;
    let mut count = 0;
    for cert in rustls_pemfile::certs(&mut reader) {
        cert.map_err(|err| {
            Error::new(ErrorKind::Tls, "a certificate PEM cannot be parsed").with_source(err)
        })?;
        count += 1;
    }
    Ok(count)
}

/// What the server does when an agent fails (returns an error, panics, or replies with audio
/// that cannot be converted), and when it shuts down while a turn is still running: an optional
/// apology prompt, then end the session or transfer to a human.
#[derive(Debug, Clone)]
pub struct FailurePolicy {
    apology: Option<Prompt>,
    action: FailureAction,
}

/// How a failed call leaves the virtual agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum FailureAction {
    /// Transfer to a human agent (the flow's escalate branch).
    #[default]
    TransferToAgent,
    /// End the virtual-agent session (the flow's handled branch).
    EndSession,
}

impl Default for FailurePolicy {
    /// A spoken "I'm sorry, something went wrong." then a transfer to a human agent.
    fn default() -> Self {
        Self {
            apology: Some(Prompt::text("I'm sorry, something went wrong.")),
            action: FailureAction::TransferToAgent,
        }
    }
}

impl FailurePolicy {
    /// A policy with an apology (or none) and an action.
    #[must_use]
    pub fn new(apology: Option<Prompt>, action: FailureAction) -> Self {
        Self { apology, action }
    }

    /// The reply sent when an agent fails.
    pub(crate) fn reply(&self) -> Reply {
        self.reply_named("agent_error")
    }

    /// The reply sent to a turn still running when the server stops.
    pub(crate) fn shutdown_reply(&self) -> Reply {
        self.reply_named("server_shutdown")
    }

    fn reply_named(&self, name: &str) -> Reply {
        let mut reply = Reply::new();
        if let Some(apology) = &self.apology {
            reply = reply.prompt(apology.clone().barge_in(false));
        }
        let event = match self.action {
            FailureAction::TransferToAgent => OutputEvent::transfer_to_agent(),
            FailureAction::EndSession => OutputEvent::end_session(),
        };
        reply.event(event.with_name(name))
    }
}

/// The voice detector the endpointer runs on caller audio.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Detector {
    /// [`EarshotDetector`]: a small neural network, robust to noise (the default).
    #[default]
    Earshot,
    /// [`EnergyDetector`]: level over an adaptive noise floor; much cheaper, fine for clean
    /// lines and load tests.
    Energy,
    /// Your own detector, created once per audio turn.
    Custom(Arc<dyn Fn() -> Box<dyn VoiceDetector> + Send + Sync>),
}

impl Detector {
    /// A custom detector factory.
    pub fn custom<F>(factory: F) -> Self
    where
        F: Fn() -> Box<dyn VoiceDetector> + Send + Sync + 'static,
    {
        Self::Custom(Arc::new(factory))
    }

    fn create(&self) -> Box<dyn VoiceDetector> {
        match self {
            Self::Earshot => Box::new(EarshotDetector::new()),
            Self::Energy => Box::new(EnergyDetector::new()),
            Self::Custom(factory) => factory(),
        }
    }
}

impl fmt::Debug for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Earshot => f.write_str("Earshot"),
            Self::Energy => f.write_str("Energy"),
            Self::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// The settings every turn reads.
#[derive(Debug, Clone)]
pub(crate) struct CallSettings {
    pub(crate) idle_timeout: Duration,
    pub(crate) max_call_duration: Option<Duration>,
    pub(crate) first_message_timeout: Duration,
    pub(crate) session_end_timeout: Duration,
    pub(crate) reap_interval: Duration,
    pub(crate) endpointing: EndpointerConfig,
    pub(crate) detector: Detector,
    pub(crate) on_failure: FailurePolicy,
}

impl CallSettings {
    /// Checks that the detector can be used by the endpointer.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        Endpointer::with_detector(self.endpointing.clone(), self.detector.create())
            .map(drop)
            .map_err(|err| {
                Error::config("the voice detector's sample rate is not supported").with_source(err)
            })
    }

    /// A fresh endpointer for an audio turn.
    pub(crate) fn endpointer(&self) -> Endpointer {
        Endpointer::with_detector(self.endpointing.clone(), self.detector.create())
            .unwrap_or_else(|_| Endpointer::new(self.endpointing.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_config_checks_pem_and_hides_the_key() {
        let err = TlsConfig::from_pem("not a pem", "nor this").unwrap_err();
        assert!(err.is_tls());
        assert!(err.to_string().contains("no certificate"), "{err}");
        let err =
            TlsConfig::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem").unwrap_err();
        assert!(err.is_tls());
        assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
    }

    #[test]
    fn failure_policy_builds_terminal_replies() {
        let reply = FailurePolicy::default().reply();
        assert_eq!(reply.prompts.len(), 1);
        assert_eq!(reply.prompts[0].barge_in, Some(false));
        let event = reply.terminal_event().unwrap();
        assert_eq!(event.kind(), crate::reply::OutputEventKind::TransferToAgent);
        assert_eq!(event.name(), "agent_error");
        let reply = FailurePolicy::new(None, FailureAction::EndSession).shutdown_reply();
        assert!(reply.prompts.is_empty());
        assert_eq!(reply.terminal_event().unwrap().name(), "server_shutdown");
    }
}
