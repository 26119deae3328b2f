//! An issuer's key set, prepared for verification: one ready verifier per (`kid`, algorithm).

use std::collections::HashMap;
use std::fmt;

use josekit::jwk::{Jwk, JwkSet};
use josekit::jws::JwsVerifier;

use crate::algorithm::Algorithm;
use crate::error::{Error, ErrorKind, quote};

/// The usable keys of one issuer, indexed by `kid`.
pub(crate) struct KeySet {
    by_kid: HashMap<String, KidKeys>,
    usable: usize,
}

#[derive(Default)]
struct KidKeys {
    verifiers: Vec<(Algorithm, Box<dyn JwsVerifier>)>,
    /// Why JWKs under this kid were skipped, for the error message.
    skipped: Vec<String>,
}

impl KeySet {
    /// Prepares every JWK that has a `kid`, for each allowed algorithm its `kty`, `alg`, `use` and
    /// `key_ops` agree with. JWKs without a `kid` can never be selected and are dropped.
    pub(crate) fn prepare(jwks: &JwkSet, allowed: &[Algorithm]) -> Self {
        let mut by_kid: HashMap<String, KidKeys> = HashMap::new();
        let mut usable = 0;
        for jwk in jwks.keys() {
            let Some(kid) = jwk.key_id() else { continue };
            let entry = by_kid.entry(kid.to_owned()).or_default();
            if let Some(key_use) = jwk.key_use()
                && key_use != "sig"
            {
                entry
                    .skipped
                    .push(format!("its `use` is {}", quote(key_use)));
                continue;
            }
            let before = entry.verifiers.len();
            let skipped_before = entry.skipped.len();
            for &alg in allowed {
                if !fits(jwk, alg) {
                    continue;
                }
                match alg.verifier(jwk) {
                    Ok(verifier) => entry.verifiers.push((alg, verifier)),
                    Err(err) => {
                        tracing::debug!(kid, %alg, error = %err, "JWK skipped");
                        entry.skipped.push(format!("it is not a valid {alg} key"));
                    }
                }
            }
            if entry.verifiers.len() == before && entry.skipped.len() == skipped_before {
                if let Some(jwk_alg) = jwk.algorithm() {
                    entry
                        .skipped
                        .push(format!("its `alg` is {}", quote(jwk_alg)));
                } else {
                    entry.skipped.push(format!(
                        "its key type {} fits no allowed algorithm",
                        quote(jwk.key_type())
                    ));
                }
            }
            usable += entry.verifiers.len() - before;
        }
        Self { by_kid, usable }
    }

    /// Parses and prepares a JWKS document.
    pub(crate) fn from_json(body: &[u8], allowed: &[Algorithm]) -> Result<Self, String> {
        let jwks =
            JwkSet::from_bytes(body).map_err(|err| format!("invalid JWKS document: {err}"))?;
        Ok(Self::prepare(&jwks, allowed))
    }

    /// How many (key, algorithm) pairs can verify tokens.
    pub(crate) fn usable(&self) -> usize {
        self.usable
    }

    /// Whether a token with this `kid` and algorithm has a key.
    pub(crate) fn has(&self, kid: &str, alg: Algorithm) -> bool {
        self.by_kid
            .get(kid)
            .is_some_and(|keys| keys.verifiers.iter().any(|(a, _)| *a == alg))
    }

    /// Verifies `signature` over `message` with the key named by `kid` for `alg`; there is never
    /// a fallback to another `kid`. `None` when this set has no such key.
    pub(crate) fn verify(
        &self,
        kid: &str,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Option<bool> {
        let keys = self.by_kid.get(kid)?;
        let mut candidates = keys.verifiers.iter().filter(|(a, _)| *a == alg).peekable();
        candidates.peek()?;
        // Several JWKs may share a kid (all published by the issuer); any of them may verify.
        Some(candidates.any(|(_, verifier)| verifier.verify(message, signature).is_ok()))
    }

    /// The error for a token whose `kid` this set cannot serve.
    pub(crate) fn unknown_key(&self, issuer: &str, kid: &str, alg: Algorithm) -> Error {
        let detail = match self.by_kid.get(kid) {
            Some(keys) if !keys.verifiers.is_empty() => {
                let mut algs: Vec<&str> = keys.verifiers.iter().map(|(a, _)| a.name()).collect();
                algs.sort_unstable();
                algs.dedup();
                format!(
                    "key {} of {issuer} verifies {} only, the token says {alg}",
                    quote(kid),
                    algs.join(", ")
                )
            }
            Some(keys) => format!(
                "key {} of {issuer} cannot verify {alg}: {}",
                quote(kid),
                keys.skipped.join("; ")
            ),
            None => format!(
                "no key with kid {} in the key set of {issuer} ({} kids)",
                quote(kid),
                self.by_kid.len()
            ),
        };
        Error::new(ErrorKind::UnknownKey, detail)
    }
}

/// Cheap pre-filter so josekit is only asked about plausible pairs.
fn fits(jwk: &Jwk, alg: Algorithm) -> bool {
    jwk.key_type() == alg.key_type() && jwk.algorithm().is_none_or(|name| name == alg.name())
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kids: Vec<&String> = self.by_kid.keys().collect();
        kids.sort_unstable();
        f.debug_struct("KeySet")
            .field("kids", &kids)
            .field("usable", &self.usable)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use josekit::jwk::alg::ec::EcCurve;

    use super::*;

    fn rsa_public(kid: &str) -> Jwk {
        let mut jwk = Jwk::generate_rsa_key(2048)
            .unwrap()
            .to_public_key()
            .unwrap();
        jwk.set_key_id(kid);
        jwk
    }

    #[test]
    fn prepares_by_kid_alg_and_use() {
        let mut set = JwkSet::new();
        set.push_key(rsa_public("plain"));
        let mut with_alg = rsa_public("rs512");
        with_alg.set_algorithm("RS512");
        set.push_key(with_alg);
        let mut enc = rsa_public("enc");
        enc.set_key_use("enc");
        set.push_key(enc);
        let mut ec = Jwk::generate_ec_key(EcCurve::P256)
            .unwrap()
            .to_public_key()
            .unwrap();
        ec.set_key_id("ec");
        set.push_key(ec);
        let mut no_kid = rsa_public("x");
        no_kid.set_parameter("kid", None).unwrap();
        set.push_key(no_kid);

        let keys = KeySet::prepare(&set, &[Algorithm::Rs256]);
        assert_eq!(keys.usable(), 1);
        assert!(keys.has("plain", Algorithm::Rs256));
        assert!(!keys.has("rs512", Algorithm::Rs256));
        assert_eq!(keys.verify("nope", Algorithm::Rs256, b"m", b"s"), None);
        assert_eq!(keys.verify("rs512", Algorithm::Rs256, b"m", b"s"), None);
        assert_eq!(
            keys.verify("plain", Algorithm::Rs256, b"m", b"s"),
            Some(false)
        );
        let why = keys
            .unknown_key("iss", "rs512", Algorithm::Rs256)
            .to_string();
        assert!(why.contains("`alg` is \"RS512\""), "{why}");
        let why = keys.unknown_key("iss", "enc", Algorithm::Rs256).to_string();
        assert!(why.contains("`use` is \"enc\""), "{why}");
        let why = keys
            .unknown_key("iss", "nope", Algorithm::Rs256)
            .to_string();
        assert!(why.contains("no key with kid \"nope\""), "{why}");

        let wide = KeySet::prepare(
            &set,
            &[Algorithm::Rs256, Algorithm::Rs512, Algorithm::Es256],
        );
        assert_eq!(wide.usable(), 4);
        assert!(wide.has("rs512", Algorithm::Rs512));
        assert!(wide.has("plain", Algorithm::Rs512));
        assert!(wide.has("ec", Algorithm::Es256));
    }

    #[test]
    fn refuses_invalid_documents() {
        for document in [&b"not json"[..], br#"{"nokeys":[]}"#] {
            let Err(why) = KeySet::from_json(document, &[Algorithm::Rs256]) else {
                panic!("accepted {document:?}");
            };
            assert!(why.starts_with("invalid JWKS document: "), "{why}");
        }
        let empty = KeySet::from_json(br#"{"keys":[]}"#, &[Algorithm::Rs256]).unwrap();
        assert_eq!(empty.usable(), 0);
    }
}
