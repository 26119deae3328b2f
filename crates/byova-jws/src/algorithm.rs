//! The asymmetric signature algorithms a verifier may accept.
//!
//! `none` and the HMAC algorithms have no variant here, so no configuration can allow them.

use std::fmt;
use std::str::FromStr;

use josekit::JoseError;
use josekit::jwk::Jwk;
use josekit::jws::JwsVerifier;

use crate::error::{Error, ErrorKind, quote};

/// An asymmetric JWS algorithm (RFC 7518 §3). Webex signs with [`Algorithm::Rs256`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`RS256`), the Webex algorithm and the default.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384 (`RS384`).
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (`RS512`).
    Rs512,
    /// RSASSA-PSS with SHA-256 (`PS256`).
    Ps256,
    /// RSASSA-PSS with SHA-384 (`PS384`).
    Ps384,
    /// RSASSA-PSS with SHA-512 (`PS512`).
    Ps512,
    /// ECDSA on P-256 with SHA-256 (`ES256`).
    Es256,
    /// ECDSA on P-384 with SHA-384 (`ES384`).
    Es384,
    /// ECDSA on P-521 with SHA-512 (`ES512`).
    Es512,
    /// EdDSA on Ed25519 or Ed448 (`EdDSA`).
    EdDsa,
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Self; 10] = [
        Self::Rs256,
        Self::Rs384,
        Self::Rs512,
        Self::Ps256,
        Self::Ps384,
        Self::Ps512,
        Self::Es256,
        Self::Es384,
        Self::Es512,
        Self::EdDsa,
    ];

    /// The name used in the JWS header `alg` and in a JWK's `alg`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
            Self::EdDsa => "EdDSA",
        }
    }

    /// The algorithm with this exact (case-sensitive) name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// A josekit verifier for `jwk` with this algorithm; josekit checks `kty`, `crv`, `use`,
    /// `key_ops`, `alg` and the RSA key size (at least 2048 bits).
    pub(crate) fn verifier(self, jwk: &Jwk) -> Result<Box<dyn JwsVerifier>, JoseError> {
        use josekit::jws;
        Ok(match self {
            Self::Rs256 => Box::new(jws::RS256.verifier_from_jwk(jwk)?),
            Self::Rs384 => Box::new(jws::RS384.verifier_from_jwk(jwk)?),
            Self::Rs512 => Box::new(jws::RS512.verifier_from_jwk(jwk)?),
            Self::Ps256 => Box::new(jws::PS256.verifier_from_jwk(jwk)?),
            Self::Ps384 => Box::new(jws::PS384.verifier_from_jwk(jwk)?),
            Self::Ps512 => Box::new(jws::PS512.verifier_from_jwk(jwk)?),
            Self::Es256 => Box::new(jws::ES256.verifier_from_jwk(jwk)?),
            Self::Es384 => Box::new(jws::ES384.verifier_from_jwk(jwk)?),
            Self::Es512 => Box::new(jws::ES512.verifier_from_jwk(jwk)?),
            Self::EdDsa => Box::new(jws::EdDSA.verifier_from_jwk(jwk)?),
        })
    }

    /// The key type (`kty`) this algorithm needs.
    pub(crate) fn key_type(self) -> &'static str {
        match self {
            Self::Rs256 | Self::Rs384 | Self::Rs512 | Self::Ps256 | Self::Ps384 | Self::Ps512 => {
                "RSA"
            }
            Self::Es256 | Self::Es384 | Self::Es512 => "EC",
            Self::EdDsa => "OKP",
        }
    }

    /// Resolves a header `alg` against an allow-list, with a typed error for everything refused.
    pub(crate) fn from_header(name: &str, allowed: &[Self]) -> Result<Self, Error> {
        if name.eq_ignore_ascii_case("none") {
            return Err(Error::new(
                ErrorKind::DisallowedAlgorithm,
                "unsigned tokens (`alg: none`) are never accepted",
            ));
        }
        if name.starts_with("HS") {
            return Err(Error::new(
                ErrorKind::DisallowedAlgorithm,
                format!("symmetric algorithm {} is never accepted", quote(name)),
            ));
        }
        match Self::from_name(name) {
            Some(alg) if allowed.contains(&alg) => Ok(alg),
            Some(alg) => Err(Error::new(
                ErrorKind::DisallowedAlgorithm,
                format!("algorithm {alg} is not in the allow-list"),
            )),
            None => Err(Error::new(
                ErrorKind::DisallowedAlgorithm,
                format!("unsupported algorithm {}", quote(name)),
            )),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an [`Algorithm`] name that is not a supported asymmetric algorithm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unsupported JWS algorithm {name:?} (asymmetric algorithms only: RS256, PS256, ES256, EdDSA, …)"
)]
pub struct ParseAlgorithmError {
    name: String,
}

impl FromStr for Algorithm {
    type Err = ParseAlgorithmError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| ParseAlgorithmError { name: s.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.name().parse::<Algorithm>(), Ok(alg));
        }
        for refused in ["rs256", "HS256", "none"] {
            assert_eq!(
                refused.parse::<Algorithm>(),
                Err(ParseAlgorithmError {
                    name: refused.to_owned()
                })
            );
        }
    }

    #[test]
    fn header_resolution_refuses_none_hmac_and_unlisted() {
        let allowed = [Algorithm::Rs256];
        assert_eq!(
            Algorithm::from_header("RS256", &allowed).ok(),
            Some(Algorithm::Rs256)
        );
        for refused in [
            "none", "NONE", "HS256", "HS512", "RS512", "ES256", "XX1", "",
        ] {
            let err = Algorithm::from_header(refused, &allowed).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::DisallowedAlgorithm, "{refused}");
        }
    }
}
