//! Fuzz twin of `fuzz/fuzz_targets/jws_token.rs`: hostile compact JWS against a real verifier
//! (static RS256 and ES256 key sets, audience and subject configured).
//!
//! Invariants:
//! - nothing panics, and no error names the token;
//! - text that was not signed by the issuer's key never verifies, and any edit of a signed
//!   token makes it fail;
//! - a token minted from a claim model gets exactly the outcome the verification order
//!   prescribes (size, segments, header, algorithm allow-list, `crit`, signature segment,
//!   issuer, `kid`, signature, then `exp`, `nbf`, `aud`, `sub`, `jti`, data-source URL,
//!   schema), and when it verifies its claims read back as minted and it is cached.
//!
//! The cargo-fuzz target includes this file; with `cfg(fuzzing)` the input model derives
//! `arbitrary::Arbitrary`.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byova_jws::{Algorithm, BYOVA_SCHEMA_UUID, Claim, ErrorKind, Jwk, JwkSet, Verifier};
use josekit::jwk::alg::ec::EcCurve;
use josekit::jws::{ES256, JwsSigner as _, RS256};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------------
// Input model
// ---------------------------------------------------------------------------------------------

/// One token to verify.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Input {
    /// Any text.
    Raw(String),
    /// Three base64url segments of any bytes.
    Segments {
        /// Header bytes.
        header: Vec<u8>,
        /// Payload bytes.
        payload: Vec<u8>,
        /// Signature bytes.
        signature: Vec<u8>,
    },
    /// A token built from a model, then optionally edited.
    Minted(Minted),
}

/// A token built from a model of its header, claims and signature.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub struct Minted {
    /// Header `alg`.
    pub alg: Alg,
    /// Header `kid`.
    pub kid: Kid,
    /// A `crit` header.
    pub crit: bool,
    /// The claims.
    pub claims: Claims,
    /// How the signature segment is made.
    pub signer: Signer,
    /// Byte edits of the compact text after signing: (position, byte).
    pub edits: Vec<(u16, u8)>,
}

/// Header `alg`.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Alg {
    /// `RS256` (allowed).
    Rs256,
    /// `ES256` (allowed).
    Es256,
    /// `PS256` (supported, not allowed).
    Ps256,
    /// `none`.
    None,
    /// `NoNe`.
    NoneMixedCase,
    /// `HS256`.
    Hs256,
    /// Any other text.
    Other(String),
    /// No `alg`.
    Missing,
    /// A number.
    Number,
}

/// Header `kid`.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Kid {
    /// The key id of the key for the header's algorithm.
    Matching,
    /// The key id of the key for the other algorithm.
    Swapped,
    /// Any text.
    Other(String),
    /// No `kid`.
    Missing,
    /// A number.
    Number,
}

/// The signature segment.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Signer {
    /// Signed by the issuer's key for the header's algorithm.
    Issuer,
    /// Signed by another key of the same type, claiming the same `kid`.
    Impostor,
    /// Empty.
    Empty,
    /// These bytes (an empty list gives one zero byte).
    Bytes(Vec<u8>),
}

/// The payload.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub struct Claims {
    /// `iss`.
    pub iss: Text,
    /// `exp`.
    pub exp: Time,
    /// `nbf`.
    pub nbf: Time,
    /// `aud`.
    pub aud: Aud,
    /// `sub`.
    pub sub: Text,
    /// `jti`.
    pub jti: Text,
    /// `com.cisco.datasource.url`.
    pub url: Text,
    /// `com.cisco.datasource.schema.uuid`.
    pub schema: Text,
    /// `iat`.
    pub iat: Time,
}

/// A string claim.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Text {
    /// The value the verifier expects (any non-empty string where it expects none).
    Expected,
    /// Any text (at most 64 characters).
    Other(String),
    /// `""`.
    Empty,
    /// `null`.
    Null,
    /// Absent.
    Missing,
    /// A number.
    Number,
    /// An array holding the expected value.
    Array,
}

/// A NumericDate claim.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Time {
    /// Absent.
    Missing,
    /// `null`.
    Null,
    /// Now plus this many minutes (a whole minute keeps clear of the 30 s leeway).
    Minutes(i8),
    /// Now plus this many minutes, plus half a second, as a float.
    FractionalMinutes(i8),
    /// A string.
    Text,
    /// `1e300`.
    Huge,
    /// `-1e300`.
    NegativeHuge,
    /// `i64::MAX`.
    MaxInteger,
    /// `u64::MAX`.
    MaxUnsigned,
}

/// `aud`.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Aud {
    /// A string claim: see [`Text`].
    Single(Text),
    /// An array: `true` is the expected audience, `false` another one.
    List(Vec<bool>),
    /// An array with a non-string item after the expected audience.
    ListWithNumber,
    /// An array with an empty string.
    ListWithEmpty,
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// The issuer of the static key set.
pub const ISSUER: &str = "https://idbroker.fuzz.test/idb";
/// The data-source URL the verifier expects.
pub const DATASOURCE_URL: &str = "https://byova.fuzz.test/va";
/// The expected audience.
pub const AUDIENCE: &str = "BYOVAGateway";
/// The expected subject.
pub const SUBJECT: &str = "callAudioData";
const RSA_KID: &str = "rsa-1";
const EC_KID: &str = "ec-1";

struct Fixtures {
    verifier: Verifier,
    rsa: Jwk,
    rsa_impostor: Jwk,
    ec: Jwk,
    ec_impostor: Jwk,
}

fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let rsa = Jwk::generate_rsa_key(2048).expect("RSA key");
        let rsa_impostor = Jwk::generate_rsa_key(2048).expect("RSA key");
        let ec = Jwk::generate_ec_key(EcCurve::P256).expect("EC key");
        let ec_impostor = Jwk::generate_ec_key(EcCurve::P256).expect("EC key");
        let mut keys = JwkSet::new();
        for (private, kid) in [(&rsa, RSA_KID), (&ec, EC_KID)] {
            let mut public = private.to_public_key().expect("public key");
            public.set_key_id(kid);
            keys.push_key(public);
        }
        let verifier = Verifier::builder(DATASOURCE_URL)
            .regions([])
            .static_key_set(ISSUER, keys)
            .algorithms([Algorithm::Rs256, Algorithm::Es256])
            .audience(AUDIENCE)
            .subject(SUBJECT)
            .build()
            .expect("verifier");
        Fixtures {
            verifier,
            rsa,
            rsa_impostor,
            ec,
            ec_impostor,
        }
    })
}

fn unix_now() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since.as_secs()).expect("seconds fit")
}

fn short(text: &str) -> String {
    text.chars().take(64).collect()
}

// ---------------------------------------------------------------------------------------------
// Minting
// ---------------------------------------------------------------------------------------------

impl Text {
    /// The JSON value, `None` when absent.
    fn json(&self, expected: &str) -> Option<Value> {
        match self {
            Self::Expected => Some(expected.into()),
            Self::Other(text) => Some(short(text).into()),
            Self::Empty => Some("".into()),
            Self::Null => Some(Value::Null),
            Self::Missing => None,
            Self::Number => Some(42.into()),
            Self::Array => Some(json!([expected])),
        }
    }

    /// The claim check: `expected` is `None` where any non-empty string passes.
    fn outcome(&self, claim: Claim, expected: Option<&str>) -> Result<(), ErrorKind> {
        match self {
            Self::Expected => Ok(()),
            Self::Other(text) => {
                let text = short(text);
                if text.is_empty() {
                    Err(ErrorKind::MissingClaim(claim))
                } else if expected.is_some_and(|expected| expected != text) {
                    Err(ErrorKind::ClaimMismatch(claim))
                } else {
                    Ok(())
                }
            }
            Self::Empty | Self::Null | Self::Missing => Err(ErrorKind::MissingClaim(claim)),
            Self::Number | Self::Array => Err(ErrorKind::ClaimMismatch(claim)),
        }
    }
}

impl Time {
    fn json(&self, now: i64) -> Option<Value> {
        match self {
            Self::Missing => None,
            Self::Null => Some(Value::Null),
            Self::Minutes(minutes) => Some((now + i64::from(*minutes) * 60).into()),
            Self::FractionalMinutes(minutes) => {
                Some(((now + i64::from(*minutes) * 60) as f64 + 0.5).into())
            }
            Self::Text => Some("tomorrow".into()),
            Self::Huge => Some(1e300.into()),
            Self::NegativeHuge => Some((-1e300).into()),
            Self::MaxInteger => Some(i64::MAX.into()),
            Self::MaxUnsigned => Some(u64::MAX.into()),
        }
    }

    /// The date relative to now in minutes; `Err` for a value that is not a usable date.
    fn minutes(&self, claim: Claim) -> Result<Option<i64>, ErrorKind> {
        match self {
            Self::Missing | Self::Null => Ok(None),
            Self::Minutes(minutes) | Self::FractionalMinutes(minutes) => {
                Ok(Some(i64::from(*minutes)))
            }
            Self::Text | Self::Huge | Self::NegativeHuge | Self::MaxInteger | Self::MaxUnsigned => {
                Err(ErrorKind::ClaimMismatch(claim))
            }
        }
    }
}

impl Aud {
    fn json(&self) -> Option<Value> {
        match self {
            Self::Single(text) => text.json(AUDIENCE),
            Self::List(items) => Some(Value::Array(
                items
                    .iter()
                    .map(|expected| if *expected { AUDIENCE } else { "other" }.into())
                    .collect(),
            )),
            Self::ListWithNumber => Some(json!([AUDIENCE, 7])),
            Self::ListWithEmpty => Some(json!([AUDIENCE, ""])),
        }
    }

    fn outcome(&self) -> Result<(), ErrorKind> {
        let mismatch = Err(ErrorKind::ClaimMismatch(Claim::Aud));
        match self {
            // An array claim is a string claim's mismatch only for `Text::Array` (expected inside).
            Self::Single(Text::Array) => Ok(()),
            Self::Single(text) => text.outcome(Claim::Aud, Some(AUDIENCE)),
            Self::List(items) if items.is_empty() => Err(ErrorKind::MissingClaim(Claim::Aud)),
            Self::List(items) if items.contains(&true) => Ok(()),
            Self::List(_) | Self::ListWithNumber | Self::ListWithEmpty => mismatch,
        }
    }
}

impl Alg {
    fn json(&self) -> Option<Value> {
        Some(match self {
            Self::Rs256 => "RS256".into(),
            Self::Es256 => "ES256".into(),
            Self::Ps256 => "PS256".into(),
            Self::None => "none".into(),
            Self::NoneMixedCase => "NoNe".into(),
            Self::Hs256 => "HS256".into(),
            Self::Other(text) => short(text).into(),
            Self::Missing => return None,
            Self::Number => 256.into(),
        })
    }

    /// The allowed algorithm, or why the header is refused.
    fn outcome(&self) -> Result<Algorithm, ErrorKind> {
        match self {
            Self::Rs256 => Ok(Algorithm::Rs256),
            Self::Es256 => Ok(Algorithm::Es256),
            Self::Other(text) if short(text) == "RS256" => Ok(Algorithm::Rs256),
            Self::Other(text) if short(text) == "ES256" => Ok(Algorithm::Es256),
            Self::Missing | Self::Number => Err(ErrorKind::Malformed),
            Self::Ps256 | Self::None | Self::NoneMixedCase | Self::Hs256 | Self::Other(_) => {
                Err(ErrorKind::DisallowedAlgorithm)
            }
        }
    }
}

impl Minted {
    fn kid(&self, alg: Option<Algorithm>) -> Option<Value> {
        let (matching, swapped) = match alg {
            Some(Algorithm::Es256) => (EC_KID, RSA_KID),
            _ => (RSA_KID, EC_KID),
        };
        match &self.kid {
            Kid::Matching => Some(matching.into()),
            Kid::Swapped => Some(swapped.into()),
            Kid::Other(text) => Some(short(text).into()),
            Kid::Missing => None,
            Kid::Number => Some(1.into()),
        }
    }

    /// The compact token before edits.
    fn compact(&self, now: i64) -> String {
        let alg = self.alg.outcome().ok();
        let mut header = Map::new();
        if let Some(value) = self.alg.json() {
            header.insert("alg".into(), value);
        }
        if let Some(value) = self.kid(alg) {
            header.insert("kid".into(), value);
        }
        if self.crit {
            header.insert("crit".into(), json!(["exp"]));
        }
        let claims = &self.claims;
        let mut payload = Map::new();
        let mut put = |name: &str, value: Option<Value>| {
            if let Some(value) = value {
                payload.insert(name.into(), value);
            }
        };
        put("iss", claims.iss.json(ISSUER));
        put("exp", claims.exp.json(now));
        put("nbf", claims.nbf.json(now));
        put("iat", claims.iat.json(now));
        put("aud", claims.aud.json());
        put("sub", claims.sub.json(SUBJECT));
        put("jti", claims.jti.json("jti-1"));
        put("com.cisco.datasource.url", claims.url.json(DATASOURCE_URL));
        put(
            "com.cisco.datasource.schema.uuid",
            claims.schema.json(BYOVA_SCHEMA_UUID),
        );

        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("json")),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).expect("json")),
        );
        let fixtures = fixtures();
        let signature = match (&self.signer, alg) {
            (Signer::Issuer, Some(Algorithm::Es256)) => sign_es256(&fixtures.ec, &signing_input),
            (Signer::Impostor, Some(Algorithm::Es256)) => {
                sign_es256(&fixtures.ec_impostor, &signing_input)
            }
            (Signer::Issuer, _) => sign_rs256(&fixtures.rsa, &signing_input),
            (Signer::Impostor, _) => sign_rs256(&fixtures.rsa_impostor, &signing_input),
            (Signer::Empty, _) => Vec::new(),
            (Signer::Bytes(bytes), _) if bytes.is_empty() => vec![0],
            (Signer::Bytes(bytes), _) => bytes.clone(),
        };
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// What verification must answer, step by step in the verifier's order.
    fn outcome(&self) -> Result<(), ErrorKind> {
        // Header: shape first, then the algorithm, then `crit`.
        if matches!(self.kid, Kid::Number) {
            return Err(ErrorKind::Malformed);
        }
        let alg = self.alg.outcome()?;
        if self.crit {
            return Err(ErrorKind::Malformed);
        }
        if matches!(self.signer, Signer::Empty) {
            return Err(ErrorKind::Malformed);
        }
        // Issuer before any key.
        let issuer = match &self.claims.iss {
            Text::Expected => true,
            Text::Other(text) => short(text) == ISSUER,
            _ => false,
        };
        if !issuer {
            return Err(ErrorKind::UnknownIssuer);
        }
        // Keys only by kid, and the kid's key must fit the algorithm.
        let kid = self.kid(Some(alg));
        let matching = if alg == Algorithm::Es256 {
            EC_KID
        } else {
            RSA_KID
        };
        if kid.as_ref().and_then(Value::as_str) != Some(matching) {
            return Err(ErrorKind::UnknownKey);
        }
        if !matches!(self.signer, Signer::Issuer) {
            return Err(ErrorKind::BadSignature);
        }
        // Claims.
        let claims = &self.claims;
        match claims.exp.minutes(Claim::Exp)? {
            None => return Err(ErrorKind::MissingClaim(Claim::Exp)),
            Some(minutes) if minutes < 0 => return Err(ErrorKind::Expired),
            Some(_) => {}
        }
        if claims
            .nbf
            .minutes(Claim::Nbf)?
            .is_some_and(|minutes| minutes > 0)
        {
            return Err(ErrorKind::NotYetValid);
        }
        claims.aud.outcome()?;
        claims.sub.outcome(Claim::Sub, Some(SUBJECT))?;
        claims.jti.outcome(Claim::Jti, None)?;
        claims
            .url
            .outcome(Claim::DataSourceUrl, Some(DATASOURCE_URL))?;
        claims
            .schema
            .outcome(Claim::SchemaUuid, Some(BYOVA_SCHEMA_UUID))
    }
}

fn sign_rs256(key: &Jwk, input: &str) -> Vec<u8> {
    let signer = RS256.signer_from_jwk(key).expect("signer");
    signer.sign(input.as_bytes()).expect("signature")
}

fn sign_es256(key: &Jwk, input: &str) -> Vec<u8> {
    let signer = ES256.signer_from_jwk(key).expect("signer");
    signer.sign(input.as_bytes()).expect("signature")
}

// ---------------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------------

/// Verifies one input and asserts the invariants.
pub fn check(input: &Input) {
    let now = unix_now();
    // Verified tokens are cached until `exp`; the leeway past it is not cached.
    let mut cacheable = false;
    let (token, expected) = match input {
        Input::Raw(text) => (text.clone(), None),
        Input::Segments {
            header,
            payload,
            signature,
        } => (
            format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(payload),
                URL_SAFE_NO_PAD.encode(signature)
            ),
            None,
        ),
        Input::Minted(minted) => {
            let compact = minted.compact(now);
            let mut bytes = compact.clone().into_bytes();
            for &(position, byte) in &minted.edits {
                if !bytes.is_empty() {
                    let at = usize::from(position) % bytes.len();
                    bytes[at] = byte;
                }
            }
            let edited = String::from_utf8_lossy(&bytes).into_owned();
            cacheable = matches!(minted.claims.exp.minutes(Claim::Exp), Ok(Some(1..)));
            let expected = if edited == compact {
                Some(minted.outcome())
            } else {
                None
            };
            (edited, expected)
        }
    };
    let verifier = &fixtures().verifier;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let result = runtime.block_on(verifier.verify(&token));

    match (&result, expected) {
        (Ok(claims), Some(Ok(()))) => {
            assert_eq!(claims.issuer(), ISSUER);
            assert_eq!(claims.subject(), SUBJECT);
            assert_eq!(claims.datasource_url(), DATASOURCE_URL);
            assert_eq!(claims.schema_uuid(), BYOVA_SCHEMA_UUID);
            assert!(claims.audience().iter().any(|aud| aud == AUDIENCE));
            assert!(claims.expires_at().unix_timestamp() >= now - 1);
            if cacheable {
                assert_eq!(verifier.cached(&token).as_ref(), Some(claims));
            }
        }
        (Ok(claims), expected) => {
            panic!("verified {claims:?}, expected {expected:?}: {input:?}")
        }
        (Err(error), Some(Ok(()))) => panic!("refused ({error}) a valid token: {input:?}"),
        (Err(error), Some(Err(kind))) => assert_eq!(error.kind(), kind, "{error}: {input:?}"),
        (Err(error), None) => assert!(
            !matches!(
                error.kind(),
                ErrorKind::KeySetUnavailable | ErrorKind::Config
            ),
            "{error}"
        ),
    }
    if let Err(error) = &result {
        let shown = format!("{error} {error:?}");
        // Short texts may occur in any message by chance; a token-sized one must not.
        if token.len() >= 32 {
            assert!(
                !shown.contains(&token),
                "the error names the token: {shown}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The proptest twin
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod twin {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    fn text() -> impl Strategy<Value = Text> {
        // Mostly valid, so that whole tokens verify often and each fault is met alone.
        prop_oneof![
            60 => Just(Text::Expected),
            1 => "[ -~]{0,12}".prop_map(Text::Other),
            1 => Just(Text::Empty),
            1 => Just(Text::Null),
            1 => Just(Text::Missing),
            1 => Just(Text::Number),
            1 => Just(Text::Array),
        ]
    }

    fn time(present: u32, missing: u32) -> impl Strategy<Value = Time> {
        prop_oneof![
            present => (-1_i8..5).prop_map(Time::Minutes),
            present => (-1_i8..5).prop_map(Time::FractionalMinutes),
            missing => Just(Time::Missing),
            1 => Just(Time::Null),
            1 => Just(Time::Text),
            1 => Just(Time::Huge),
            1 => Just(Time::NegativeHuge),
            1 => Just(Time::MaxInteger),
            1 => Just(Time::MaxUnsigned),
        ]
    }

    fn aud() -> impl Strategy<Value = Aud> {
        prop_oneof![
            16 => text().prop_map(Aud::Single),
            2 => vec(any::<bool>(), 0..3).prop_map(Aud::List),
            1 => Just(Aud::ListWithNumber),
            1 => Just(Aud::ListWithEmpty),
        ]
    }

    fn claims() -> impl Strategy<Value = Claims> {
        (
            text(),
            time(30, 1),
            time(4, 40),
            aud(),
            text(),
            text(),
            text(),
            text(),
            time(10, 10),
        )
            .prop_map(|(iss, exp, nbf, aud, sub, jti, url, schema, iat)| Claims {
                iss,
                exp,
                nbf,
                aud,
                sub,
                jti,
                url,
                schema,
                iat,
            })
    }

    fn minted() -> impl Strategy<Value = Minted> {
        let alg = prop_oneof![
            20 => Just(Alg::Rs256),
            20 => Just(Alg::Es256),
            1 => Just(Alg::Ps256),
            1 => Just(Alg::None),
            1 => Just(Alg::NoneMixedCase),
            1 => Just(Alg::Hs256),
            1 => "[A-Z0-9]{0,6}".prop_map(Alg::Other),
            1 => Just(Alg::Missing),
            1 => Just(Alg::Number),
        ];
        let kid = prop_oneof![
            30 => Just(Kid::Matching),
            1 => Just(Kid::Swapped),
            1 => "[a-z0-9-]{0,6}".prop_map(Kid::Other),
            1 => Just(Kid::Missing),
            1 => Just(Kid::Number),
        ];
        let signer = prop_oneof![
            30 => Just(Signer::Issuer),
            1 => Just(Signer::Impostor),
            1 => Just(Signer::Empty),
            1 => vec(any::<u8>(), 0..80).prop_map(Signer::Bytes),
        ];
        let edits = prop_oneof![
            12 => Just(Vec::new()),
            1 => vec((any::<u16>(), any::<u8>()), 1..3),
        ];
        (
            alg,
            kid,
            proptest::bool::weighted(0.03),
            claims(),
            signer,
            edits,
        )
            .prop_map(|(alg, kid, crit, claims, signer, edits)| Minted {
                alg,
                kid,
                crit,
                claims,
                signer,
                edits,
            })
    }

    fn input() -> impl Strategy<Value = Input> {
        prop_oneof![
            1 => "[ -~]{0,80}".prop_map(Input::Raw),
            1 => (
                prop_oneof![
                    Just(br#"{"alg":"RS256","kid":"rsa-1"}"#.to_vec()),
                    vec(any::<u8>(), 0..40),
                ],
                prop_oneof![
                    Just(format!(r#"{{"iss":"{ISSUER}","exp":1e999}}"#).into_bytes()),
                    vec(any::<u8>(), 0..40),
                ],
                vec(any::<u8>(), 0..40),
            )
                .prop_map(|(header, payload, signature)| Input::Segments {
                    header,
                    payload,
                    signature,
                }),
            8 => minted().prop_map(Input::Minted),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(256),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn hostile_tokens_get_the_outcome_the_verification_order_prescribes(input in input()) {
            check(&input);
        }
    }
}
