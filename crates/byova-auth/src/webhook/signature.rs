//! `X-Spark-Signature`: the HMAC-SHA1 Webex puts on webhook deliveries when the hook has a secret.

use std::fmt;

use ring::hmac;

use crate::error::{Error, ErrorKind, Result};

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "x-spark-signature";

/// Checks webhook signatures: lowercase hex HMAC-SHA1 of the **raw** request body, keyed with the
/// webhook's secret, compared in constant time.
///
/// Always verify the bytes exactly as received: a re-serialized JSON body has a different signature.
#[derive(Clone)]
pub struct WebhookVerifier {
    key: hmac::Key,
}

impl WebhookVerifier {
    /// A verifier for the secret given when the webhook was created.
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_ref()),
        }
    }

    /// The signature Webex would send for `body` (lowercase hex).
    pub fn sign(&self, body: &[u8]) -> String {
        let tag = hmac::sign(&self.key, body);
        let mut hex = String::with_capacity(tag.as_ref().len() * 2);
        for byte in tag.as_ref() {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        hex
    }

    /// Checks the value of the signature header against `body`.
    ///
    /// # Errors
    /// [`ErrorKind::MissingSignature`] when `signature` is `None`;
    /// [`ErrorKind::InvalidSignature`] when it is not 40 hex digits or does not match.
    pub fn verify(&self, signature: Option<&[u8]>, body: &[u8]) -> Result<()> {
        let signature = signature.ok_or_else(|| Error::new(ErrorKind::MissingSignature))?;
        let tag = decode_hex(signature.trim_ascii())
            .ok_or_else(|| Error::new(ErrorKind::InvalidSignature))?;
        hmac::verify(&self.key, body, &tag).map_err(|_| Error::new(ErrorKind::InvalidSignature))
    }

    /// Reads the signature from `headers` and checks it against `body`.
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    pub fn verify_headers(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<()> {
        self.verify(
            headers
                .get(SIGNATURE_HEADER)
                .map(http::HeaderValue::as_bytes),
            body,
        )
    }
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("secret", &"<redacted>")
            .finish()
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn decode_hex(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() != 40 {
        return None;
    }
    text.chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_known_hmac_sha1() {
        // RFC 2202 test case 2.
        let verifier = WebhookVerifier::new("Jefe");
        let body = b"what do ya want for nothing?";
        assert_eq!(
            verifier.sign(body),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert!(
            verifier
                .verify(Some(b"effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"), body)
                .is_ok()
        );
    }

    #[test]
    fn rejects_malformed_signatures() {
        let verifier = WebhookVerifier::new("secret");
        for bad in [
            &b""[..],
            b"zz",
            b"effcdf6ae5eb2fa2d27416d5f184df9c259a7c7",
            b"g".repeat(40).as_slice(),
        ] {
            let error = verifier
                .verify(Some(bad), b"{}")
                .expect_err("bad signature");
            assert_eq!(error.kind(), &ErrorKind::InvalidSignature);
        }
        assert_eq!(
            verifier.verify(None, b"{}").expect_err("missing").kind(),
            &ErrorKind::MissingSignature
        );
        assert_eq!(
            format!("{verifier:?}"),
            "WebhookVerifier { secret: \"<redacted>\" }"
        );
    }
}
