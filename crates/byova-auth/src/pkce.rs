//! PKCE (RFC 7636, method `S256`) and random OAuth `state` values.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Error, ErrorKind, Result};

/// Random bytes from the operating system, base64url-encoded without padding.
pub(crate) fn random_token(bytes: usize) -> Result<String> {
    let mut buffer = vec![0_u8; bytes];
    SystemRandom::new()
        .fill(&mut buffer)
        .map_err(|_| Error::with_message(ErrorKind::Internal, "the system random source failed"))?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

/// A fresh OAuth `state`: 16 random bytes, base64url (22 characters).
pub(crate) fn random_state() -> Result<String> {
    random_token(16)
}

/// A PKCE code verifier: 32 random bytes, base64url (43 characters).
///
/// Its `Debug` output is redacted: the verifier proves ownership of the authorization code.
#[derive(Clone, PartialEq, Eq)]
pub struct PkceVerifier(String);

impl PkceVerifier {
    /// A new random verifier.
    ///
    /// # Errors
    /// [`ErrorKind::Internal`] when the system random source fails.
    pub fn generate() -> Result<Self> {
        random_token(32).map(Self)
    }

    /// Wraps an existing verifier (43 to 128 characters of `[A-Za-z0-9-._~]`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the value breaks RFC 7636's rules.
    pub fn new(verifier: impl Into<String>) -> Result<Self> {
        let verifier = verifier.into();
        let valid_len = (43..=128).contains(&verifier.len());
        let valid_chars = verifier
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~'));
        if valid_len && valid_chars {
            Ok(Self(verifier))
        } else {
            Err(Error::with_message(
                ErrorKind::InvalidInput,
                "a PKCE verifier has 43 to 128 characters from [A-Za-z0-9-._~]",
            ))
        }
    }

    /// The verifier, sent as `code_verifier` with the code exchange.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// The `S256` challenge: base64url(SHA-256(verifier)), sent as `code_challenge`.
    pub fn challenge(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.0.as_bytes());
        URL_SAFE_NO_PAD.encode(digest.as_ref())
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier =
            PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").expect("valid");
        assert_eq!(
            verifier.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(format!("{verifier:?}"), "PkceVerifier(<redacted>)");
    }

    #[test]
    fn generated_values_have_the_documented_shape() {
        let verifier = PkceVerifier::generate().expect("random");
        assert_eq!(verifier.secret().len(), 43);
        assert!(PkceVerifier::new(verifier.secret()).is_ok());
        let state = random_state().expect("random");
        assert_eq!(state.len(), 22);
        assert_ne!(state, random_state().expect("random"));
    }

    #[test]
    fn rejects_bad_verifiers() {
        assert!(PkceVerifier::new("short").is_err());
        assert!(PkceVerifier::new("a".repeat(129)).is_err());
        assert!(PkceVerifier::new(format!("{}+", "a".repeat(43))).is_err());
    }
}
