//! Reading a data-source JWS's claims without verifying it (only to schedule and match).

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Deserialize;
use time::OffsetDateTime;

const PAYLOAD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The claims the keeper cares about.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Claims {
    pub(crate) expires_at: Option<OffsetDateTime>,
    pub(crate) audiences: Vec<String>,
    pub(crate) subject: Option<String>,
}

#[derive(Deserialize)]
struct RawClaims {
    #[serde(default)]
    exp: Option<serde_json::Number>,
    #[serde(default)]
    aud: Option<Audience>,
    #[serde(default)]
    sub: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Decodes the payload of a compact JWS (`header.payload.signature`). `None` when it is not one.
pub(crate) fn decode(jws: &str) -> Option<Claims> {
    let mut parts = jws.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = PAYLOAD.decode(payload).ok()?;
    let raw: RawClaims = serde_json::from_slice(&bytes).ok()?;
    let expires_at = raw
        .exp
        .and_then(|exp| {
            exp.as_i64()
                .or_else(|| exp.as_f64().map(|secs| secs as i64))
        })
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok());
    let audiences = match raw.aud {
        Some(Audience::One(aud)) => vec![aud],
        Some(Audience::Many(auds)) => auds,
        None => Vec::new(),
    };
    Some(Claims {
        expires_at,
        audiences,
        subject: raw.sub,
    })
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use time::macros::datetime;

    use super::*;

    fn jws(payload: &str) -> String {
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn reads_exp_aud_and_sub() {
        let claims = decode(&jws(
            r#"{"exp":1748779200,"aud":"BYOVAGateway","sub":"callAudioData"}"#,
        ))
        .expect("claims");
        assert_eq!(claims.expires_at, Some(datetime!(2025-06-01 12:00 UTC)));
        assert_eq!(claims.audiences, ["BYOVAGateway"]);
        assert_eq!(claims.subject.as_deref(), Some("callAudioData"));
        let many = decode(&jws(r#"{"aud":["a","b"],"exp":1.5e9}"#)).expect("claims");
        assert_eq!(many.audiences, ["a", "b"]);
        assert_eq!(
            many.expires_at,
            OffsetDateTime::from_unix_timestamp(1_500_000_000).ok()
        );
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(decode("not-a-jws"), None);
        assert_eq!(decode("a.b.c.d"), None);
        assert_eq!(decode("a.!!!.c"), None);
        assert_eq!(decode(&jws("[1,2]")), None);
    }
}
