//! The crate's error type: an opaque [`Error`] with a [`ErrorKind`] to match on.
//!
//! Messages name the failing step and, for claim mismatches, the expected and received values
//! (claims are not secret). The token itself never appears in an error.

use std::borrow::Cow;
use std::fmt;

/// A claim that [`ErrorKind::MissingClaim`] or [`ErrorKind::ClaimMismatch`] refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Claim {
    /// `exp`, the expiry time.
    Exp,
    /// `nbf`, the time before which the token must not be accepted.
    Nbf,
    /// `iss`, the issuer.
    Iss,
    /// `aud`, the audience chosen when the data source was registered.
    Aud,
    /// `sub`, the subject chosen when the data source was registered.
    Sub,
    /// `jti`, the token id.
    Jti,
    /// `com.cisco.datasource.url`, the data-source URL registered with Webex.
    DataSourceUrl,
    /// `com.cisco.datasource.schema.uuid`, the data-source schema.
    SchemaUuid,
}

impl Claim {
    /// The claim's name as it appears in the token payload.
    pub fn name(self) -> &'static str {
        match self {
            Self::Exp => "exp",
            Self::Nbf => "nbf",
            Self::Iss => "iss",
            Self::Aud => "aud",
            Self::Sub => "sub",
            Self::Jti => "jti",
            Self::DataSourceUrl => crate::claims::DATASOURCE_URL_CLAIM,
            Self::SchemaUuid => crate::claims::SCHEMA_UUID_CLAIM,
        }
    }
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What went wrong, without the details (see [`Error::kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The token is not a compact JWS: too large, wrong number of segments, bad base64, bad JSON,
    /// a missing `alg` or an unsupported `crit` header.
    Malformed,
    /// The header names an algorithm that is not allowed: `none`, any HMAC algorithm, or an
    /// asymmetric algorithm outside the configured allow-list.
    DisallowedAlgorithm,
    /// The `iss` claim is missing or not in the issuer allow-list; no key set was fetched for it.
    UnknownIssuer,
    /// The issuer's key set has no usable key for the header's `kid` and `alg` (or the header has
    /// no `kid`).
    UnknownKey,
    /// The signature does not verify with the key named by `kid`.
    BadSignature,
    /// `exp` has passed (beyond the leeway).
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// A required claim is absent or empty.
    MissingClaim(Claim),
    /// A claim does not have the expected value or type.
    ClaimMismatch(Claim),
    /// The issuer's key set could not be fetched and none is cached.
    KeySetUnavailable,
    /// The verifier configuration is invalid (returned by [`VerifierBuilder::build`]).
    ///
    /// [`VerifierBuilder::build`]: crate::VerifierBuilder::build
    Config,
}

impl ErrorKind {
    fn describe(self) -> &'static str {
        match self {
            Self::Malformed => "malformed token",
            Self::DisallowedAlgorithm => "algorithm not allowed",
            Self::UnknownIssuer => "issuer not allowed",
            Self::UnknownKey => "unknown signing key",
            Self::BadSignature => "bad signature",
            Self::Expired => "token expired",
            Self::NotYetValid => "token not yet valid",
            Self::MissingClaim(_) => "missing claim",
            Self::ClaimMismatch(_) => "claim mismatch",
            Self::KeySetUnavailable => "key set unavailable",
            Self::Config => "invalid verifier configuration",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingClaim(claim) | Self::ClaimMismatch(claim) => {
                write!(f, "{} `{claim}`", self.describe())
            }
            _ => f.write_str(self.describe()),
        }
    }
}

/// An error from building a verifier or verifying a token.
///
/// Match on [`Error::kind`]; the `Display` text adds a human-readable detail. Neither contains
/// the token.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    detail: Cow<'static, str>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                detail: detail.into(),
            }),
        }
    }

    pub(crate) fn malformed(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Malformed, detail)
    }

    pub(crate) fn config(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Config, detail)
    }

    pub(crate) fn missing(claim: Claim) -> Self {
        Self::new(
            ErrorKind::MissingClaim(claim),
            format!("the token has no `{claim}` claim"),
        )
    }

    pub(crate) fn mismatch(claim: Claim, detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::ClaimMismatch(claim), detail)
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The human-readable detail (the `Display` text without the kind).
    pub fn detail(&self) -> &str {
        &self.inner.detail
    }

    /// The claim a [`MissingClaim`](ErrorKind::MissingClaim) or
    /// [`ClaimMismatch`](ErrorKind::ClaimMismatch) error refers to.
    pub fn claim(&self) -> Option<Claim> {
        match self.inner.kind {
            ErrorKind::MissingClaim(claim) | ErrorKind::ClaimMismatch(claim) => Some(claim),
            _ => None,
        }
    }

    /// The token is not a well-formed compact JWS (including over the size limit).
    pub fn is_malformed(&self) -> bool {
        self.kind() == ErrorKind::Malformed
    }

    /// The header's algorithm is refused.
    pub fn is_disallowed_algorithm(&self) -> bool {
        self.kind() == ErrorKind::DisallowedAlgorithm
    }

    /// The issuer is not in the allow-list.
    pub fn is_unknown_issuer(&self) -> bool {
        self.kind() == ErrorKind::UnknownIssuer
    }

    /// No key matches the header's `kid`.
    pub fn is_unknown_key(&self) -> bool {
        self.kind() == ErrorKind::UnknownKey
    }

    /// The signature does not verify.
    pub fn is_bad_signature(&self) -> bool {
        self.kind() == ErrorKind::BadSignature
    }

    /// The token has expired.
    pub fn is_expired(&self) -> bool {
        self.kind() == ErrorKind::Expired
    }

    /// The token is not valid yet.
    pub fn is_not_yet_valid(&self) -> bool {
        self.kind() == ErrorKind::NotYetValid
    }

    /// A claim is missing or has the wrong value.
    pub fn is_claim_error(&self) -> bool {
        self.claim().is_some()
    }

    /// No key set could be fetched for the issuer. This is the only verification failure that
    /// says nothing about the token: the caller may retry later.
    pub fn is_key_set_unavailable(&self) -> bool {
        self.kind() == ErrorKind::KeySetUnavailable
    }

    /// The verifier configuration is invalid.
    pub fn is_config(&self) -> bool {
        self.kind() == ErrorKind::Config
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("detail", &self.inner.detail)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.inner.kind, self.inner.detail)
    }
}

impl std::error::Error for Error {}

/// Quotes an untrusted string for an error message: escaped and cut to a bounded length.
pub(crate) fn quote(value: &str) -> String {
    const MAX_CHARS: usize = 200;
    let mut cut: String = value.chars().take(MAX_CHARS).collect();
    if cut.len() < value.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_kind_and_claim() {
        let err = Error::mismatch(Claim::DataSourceUrl, "expected \"a\", got \"b\"");
        assert_eq!(
            err.to_string(),
            "claim mismatch `com.cisco.datasource.url`: expected \"a\", got \"b\""
        );
        assert_eq!(err.claim(), Some(Claim::DataSourceUrl));
        assert!(err.is_claim_error());
        assert!(!err.is_expired());
    }

    #[test]
    fn quote_escapes_and_bounds() {
        assert_eq!(quote("a\"b\n"), "\"a\\\"b\\n\"");
        let long = "x".repeat(1000);
        let quoted = quote(&long);
        assert_eq!(quoted.chars().count(), 200 + 3);
        assert!(quoted.ends_with("…\""));
    }
}
