//! Strict parsing of a compact JWS (`header.payload.signature`) before any key is touched.
//!
//! Error details describe the defect (segment, position) but never echo the token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::algorithm::Algorithm;
use crate::error::Error;

/// A compact JWS split and decoded, not yet verified.
#[derive(Debug)]
pub(crate) struct CompactToken<'a> {
    /// `header.payload`, the bytes the signature covers.
    pub(crate) signing_input: &'a str,
    /// The header's algorithm, already checked against the allow-list.
    pub(crate) alg: Algorithm,
    /// The header's key id.
    pub(crate) kid: Option<String>,
    /// The payload's claims (untrusted until the signature verifies).
    pub(crate) claims: Map<String, Value>,
    /// The decoded signature.
    pub(crate) signature: Vec<u8>,
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

/// Splits, decodes and checks the header of a compact JWS.
pub(crate) fn parse<'a>(token: &'a str, allowed: &[Algorithm]) -> Result<CompactToken<'a>, Error> {
    let (header_b64, rest) = token
        .split_once('.')
        .ok_or_else(|| Error::malformed("a compact JWS has three segments, this token has one"))?;
    let (payload_b64, signature_b64) = rest
        .split_once('.')
        .ok_or_else(|| Error::malformed("a compact JWS has three segments, this token has two"))?;
    if signature_b64.contains('.') {
        return Err(Error::malformed(
            "a compact JWS has three segments, this token has more (a JWE or garbage)",
        ));
    }
    let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];

    let header_json = decode_segment(header_b64, "header")?;
    let header: RawHeader = serde_json::from_slice(&header_json)
        .map_err(|err| Error::malformed(json_detail("header", &err)))?;
    let alg = Algorithm::from_header(&header.alg, allowed)?;
    if header.crit.is_some() {
        return Err(Error::malformed(
            "the header lists critical extensions (`crit`), none are supported",
        ));
    }

    let payload_json = decode_segment(payload_b64, "payload")?;
    let claims: Map<String, Value> = serde_json::from_slice(&payload_json)
        .map_err(|err| Error::malformed(json_detail("payload", &err)))?;

    let signature = decode_segment(signature_b64, "signature")?;
    if signature.is_empty() {
        return Err(Error::malformed("the signature segment is empty"));
    }

    Ok(CompactToken {
        signing_input,
        alg,
        kid: header.kid,
        claims,
        signature,
    })
}

fn decode_segment(segment: &str, name: &str) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| Error::malformed(format!("the {name} segment is not unpadded base64url")))
}

fn json_detail(segment: &str, err: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match err.classify() {
        Category::Io | Category::Eof => "is truncated JSON",
        Category::Syntax => "is not valid JSON",
        Category::Data => "does not have the expected JSON shape",
    };
    // serde's message may quote values from the token; only its position is reported.
    format!("the {segment} {what} (column {})", err.column())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    fn token(header: &str, payload: &str, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            b64(header),
            b64(payload),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    const RS256: &[Algorithm] = &[Algorithm::Rs256];

    #[test]
    fn parses_a_well_formed_token() {
        let text = token(r#"{"alg":"RS256","kid":"k1"}"#, r#"{"iss":"x"}"#, b"sig");
        let parsed = parse(&text, RS256).unwrap();
        assert_eq!(parsed.alg, Algorithm::Rs256);
        assert_eq!(parsed.kid.as_deref(), Some("k1"));
        assert_eq!(parsed.claims["iss"], "x");
        assert_eq!(parsed.signature, b"sig");
        assert_eq!(
            parsed.signing_input,
            format!(
                "{}.{}",
                b64(r#"{"alg":"RS256","kid":"k1"}"#),
                b64(r#"{"iss":"x"}"#)
            )
        );
    }

    #[test]
    fn refuses_malformed_shapes() {
        let good_header = b64(r#"{"alg":"RS256","kid":"k"}"#);
        let good_payload = b64("{}");
        let cases = [
            "nodots".to_owned(),
            format!("{good_header}.{good_payload}"),
            format!("{good_header}.{good_payload}.c2ln.extra"),
            format!("{good_header}.{good_payload}."),
            format!("{good_header}.{good_payload}.c2ln="),
            format!("{good_header}.{good_payload}.c2l+"),
            format!("{good_header}.@@@.c2ln"),
            format!("{}.{good_payload}.c2ln", b64("not json")),
            format!("{}.{good_payload}.c2ln", b64(r#"{"kid":"k"}"#)),
            format!("{}.{good_payload}.c2ln", b64(r#"{"alg":5}"#)),
            format!(
                "{}.{good_payload}.c2ln",
                b64(r#"{"alg":"RS256","crit":["b64"]}"#)
            ),
            format!("{good_header}.{}.c2ln", b64("[1,2]")),
            format!("{good_header}.{}.c2ln", b64("{\"iss\":")),
        ];
        for case in cases {
            let err = parse(&case, RS256).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Malformed, "{case}: {err}");
            assert!(!err.to_string().contains(&case), "error echoes the token");
        }
    }

    #[test]
    fn json_errors_do_not_echo_values() {
        let secret = "s3cr3t-value";
        let text = token(&format!(r#"{{"alg":{{"x":"{secret}"}}}}"#), "{}", b"s");
        let err = parse(&text, RS256).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Malformed);
        assert!(!err.to_string().contains(secret), "{err}");
    }
}
