//! The claims of a verified token and the rules they are checked against.

use std::fmt;
use std::sync::Arc;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::error::{Claim, Error, ErrorKind, quote};

/// The claim carrying the data-source URL registered with Webex.
pub(crate) const DATASOURCE_URL_CLAIM: &str = "com.cisco.datasource.url";
/// The claim carrying the data-source schema id.
pub(crate) const SCHEMA_UUID_CLAIM: &str = "com.cisco.datasource.schema.uuid";

/// The schema id of the BYOVA voice virtual-agent data source, the default expected value of
/// `com.cisco.datasource.schema.uuid`.
pub const BYOVA_SCHEMA_UUID: &str = "5397013b-7920-4ffc-807c-e8a3e0a18f43";

/// The claims of a token that passed every check.
///
/// Cheap to clone (shared). Serializes as the token's complete payload, so
/// `serde_json::to_string(&claims)` prints every claim, including ones this crate does not
/// interpret.
#[derive(Clone)]
pub struct Claims {
    inner: Arc<Inner>,
}

struct Inner {
    all: Map<String, Value>,
    issuer: String,
    audience: Vec<String>,
    subject: String,
    jwt_id: String,
    expires_at: OffsetDateTime,
    not_before: Option<OffsetDateTime>,
    issued_at: Option<OffsetDateTime>,
    datasource_url: String,
    schema_uuid: String,
}

impl Claims {
    /// `iss`: the identity broker that signed the token.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// `aud`: one or more audiences (a string claim gives one element).
    pub fn audience(&self) -> &[String] {
        &self.inner.audience
    }

    /// `sub`: the subject chosen at registration (e.g. `callAudioData`).
    pub fn subject(&self) -> &str {
        &self.inner.subject
    }

    /// `jti`: the token id.
    pub fn jwt_id(&self) -> &str {
        &self.inner.jwt_id
    }

    /// `exp`: when the token expires.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.inner.expires_at
    }

    /// `nbf`, when present.
    pub fn not_before(&self) -> Option<OffsetDateTime> {
        self.inner.not_before
    }

    /// `iat`, when present and a valid date.
    pub fn issued_at(&self) -> Option<OffsetDateTime> {
        self.inner.issued_at
    }

    /// `com.cisco.datasource.url`: the data-source URL the token was minted for.
    pub fn datasource_url(&self) -> &str {
        &self.inner.datasource_url
    }

    /// `com.cisco.datasource.schema.uuid`: the data-source schema.
    pub fn schema_uuid(&self) -> &str {
        &self.inner.schema_uuid
    }

    /// Any claim by name, including ones without an accessor.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.inner.all.get(name)
    }

    /// The complete payload.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.inner.all
    }
}

impl PartialEq for Claims {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner) || self.inner.all == other.inner.all
    }
}

impl Eq for Claims {}

impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.inner.all.iter()).finish()
    }
}

impl Serialize for Claims {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.inner.all.serialize(serializer)
    }
}

/// What the claims of a signed token must satisfy.
#[derive(Debug, Clone)]
pub(crate) struct ClaimRules {
    pub(crate) datasource_url: String,
    pub(crate) schema_uuid: String,
    pub(crate) audience: Option<String>,
    pub(crate) subject: Option<String>,
    pub(crate) jwt_id: Option<String>,
    /// Allowed clock skew, in seconds.
    pub(crate) leeway: i64,
}

impl ClaimRules {
    /// Checks the claims of a token whose signature verified. `issuer` was read (and checked
    /// against the allow-list) before the signature; `now` is the Unix time in seconds.
    pub(crate) fn check(
        &self,
        issuer: String,
        all: Map<String, Value>,
        now: i64,
    ) -> Result<Claims, Error> {
        let exp = numeric_date(&all, Claim::Exp)?.ok_or_else(|| Error::missing(Claim::Exp))?;
        let expires_at = to_datetime(exp, Claim::Exp)?;
        if now >= exp.saturating_add(self.leeway) {
            return Err(Error::new(
                ErrorKind::Expired,
                format!(
                    "expired at {} ({} s ago, leeway {} s)",
                    rfc3339(expires_at),
                    now.saturating_sub(exp),
                    self.leeway
                ),
            ));
        }
        let not_before = match numeric_date(&all, Claim::Nbf)? {
            Some(nbf) => {
                let at = to_datetime(nbf, Claim::Nbf)?;
                if nbf > now.saturating_add(self.leeway) {
                    return Err(Error::new(
                        ErrorKind::NotYetValid,
                        format!(
                            "not valid before {} ({} s from now, leeway {} s)",
                            rfc3339(at),
                            nbf.saturating_sub(now),
                            self.leeway
                        ),
                    ));
                }
                Some(at)
            }
            None => None,
        };
        let issued_at = all
            .get("iat")
            .and_then(Value::as_i64)
            .and_then(|iat| OffsetDateTime::from_unix_timestamp(iat).ok());

        let audience = audience(&all)?;
        if let Some(expected) = &self.audience
            && !audience.iter().any(|aud| aud == expected)
        {
            return Err(Error::mismatch(
                Claim::Aud,
                format!(
                    "expected {}, got {}",
                    quote(expected),
                    quote(&audience.join(", "))
                ),
            ));
        }
        let subject = required_string(&all, Claim::Sub)?;
        expect_equal(Claim::Sub, self.subject.as_deref(), &subject)?;
        let jwt_id = required_string(&all, Claim::Jti)?;
        expect_equal(Claim::Jti, self.jwt_id.as_deref(), &jwt_id)?;

        let datasource_url = required_string(&all, Claim::DataSourceUrl)?;
        if datasource_url != self.datasource_url {
            return Err(Error::mismatch(
                Claim::DataSourceUrl,
                format!(
                    "expected {}, got {}{}",
                    quote(&self.datasource_url),
                    quote(&datasource_url),
                    url_hint(&self.datasource_url, &datasource_url)
                ),
            ));
        }
        let schema_uuid = required_string(&all, Claim::SchemaUuid)?;
        expect_equal(Claim::SchemaUuid, Some(&self.schema_uuid), &schema_uuid)?;

        Ok(Claims {
            inner: Arc::new(Inner {
                all,
                issuer,
                audience,
                subject,
                jwt_id,
                expires_at,
                not_before,
                issued_at,
                datasource_url,
                schema_uuid,
            }),
        })
    }
}

/// Reads the unverified `iss` so the key set can be chosen; absence is an unknown issuer.
pub(crate) fn unverified_issuer(all: &Map<String, Value>) -> Result<&str, Error> {
    match all.get("iss") {
        Some(Value::String(iss)) if !iss.is_empty() => Ok(iss),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(Error::new(
            ErrorKind::UnknownIssuer,
            "the token has no `iss` claim",
        )),
        Some(other) => Err(Error::new(
            ErrorKind::UnknownIssuer,
            format!("`iss` must be a string, got {}", json_type(other)),
        )),
    }
}

fn numeric_date(all: &Map<String, Value>, claim: Claim) -> Result<Option<i64>, Error> {
    match all.get(claim.name()) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => match number.as_i64() {
            Some(seconds) => Ok(Some(seconds)),
            // Fractional or huge NumericDates: `as` saturates, which is the right answer here.
            None => match number.as_f64() {
                Some(seconds) if seconds.is_finite() => Ok(Some(seconds.floor() as i64)),
                _ => Err(Error::mismatch(claim, "not a representable NumericDate")),
            },
        },
        Some(other) => Err(Error::mismatch(
            claim,
            format!(
                "expected a NumericDate (seconds since 1970), got {}",
                json_type(other)
            ),
        )),
    }
}

fn to_datetime(seconds: i64, claim: Claim) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| {
        Error::mismatch(
            claim,
            format!("{seconds} is out of the supported date range"),
        )
    })
}

fn required_string(all: &Map<String, Value>, claim: Claim) -> Result<String, Error> {
    match all.get(claim.name()) {
        Some(Value::String(value)) if !value.is_empty() => Ok(value.clone()),
        Some(Value::String(_)) | Some(Value::Null) | None => Err(Error::missing(claim)),
        Some(other) => Err(Error::mismatch(
            claim,
            format!("expected a string, got {}", json_type(other)),
        )),
    }
}

fn audience(all: &Map<String, Value>) -> Result<Vec<String>, Error> {
    match all.get("aud") {
        Some(Value::Array(items)) => {
            let mut audience = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(aud) if !aud.is_empty() => audience.push(aud.clone()),
                    other => {
                        return Err(Error::mismatch(
                            Claim::Aud,
                            format!(
                                "expected an array of non-empty strings, found {}",
                                json_type(other)
                            ),
                        ));
                    }
                }
            }
            if audience.is_empty() {
                return Err(Error::missing(Claim::Aud));
            }
            Ok(audience)
        }
        _ => required_string(all, Claim::Aud).map(|aud| vec![aud]),
    }
}

fn expect_equal(claim: Claim, expected: Option<&str>, got: &str) -> Result<(), Error> {
    match expected {
        Some(expected) if expected != got => Err(Error::mismatch(
            claim,
            format!("expected {}, got {}", quote(expected), quote(got)),
        )),
        _ => Ok(()),
    }
}

/// Explains a near miss between the configured and the signed data-source URL.
fn url_hint(expected: &str, got: &str) -> &'static str {
    if expected.trim_end_matches('/') == got.trim_end_matches('/') {
        return " (they differ only by a trailing `/`; the URL must match the registered one \
                character for character)";
    }
    if expected.eq_ignore_ascii_case(got) {
        return " (they differ only in letter case; the URL must match the registered one \
                character for character)";
    }
    match (url::Url::parse(expected), url::Url::parse(got)) {
        (Ok(a), Ok(b)) if a == b => {
            " (they are the same URL written differently, e.g. with an explicit default port; \
             the URL must match the registered one character for character)"
        }
        _ => "",
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_750_000_000;
    const URL: &str = "https://byova.example.com/va";

    fn rules() -> ClaimRules {
        ClaimRules {
            datasource_url: URL.to_owned(),
            schema_uuid: BYOVA_SCHEMA_UUID.to_owned(),
            audience: None,
            subject: None,
            jwt_id: None,
            leeway: 30,
        }
    }

    fn payload() -> Map<String, Value> {
        let Value::Object(map) = json!({
            "iss": "https://idbroker.webex.com/idb",
            "aud": "BYOVAGateway",
            "sub": "callAudioData",
            "jti": "abc",
            "exp": NOW + 600,
            "iat": NOW - 60,
            DATASOURCE_URL_CLAIM: URL,
            SCHEMA_UUID_CLAIM: BYOVA_SCHEMA_UUID,
        }) else {
            unreachable!()
        };
        map
    }

    fn check_with(
        rules: &ClaimRules,
        edit: impl FnOnce(&mut Map<String, Value>),
    ) -> Result<Claims, Error> {
        let mut all = payload();
        edit(&mut all);
        rules.check("https://idbroker.webex.com/idb".to_owned(), all, NOW)
    }

    fn check(edit: impl FnOnce(&mut Map<String, Value>)) -> Result<Claims, Error> {
        check_with(&rules(), edit)
    }

    #[test]
    fn accepts_good_claims_and_exposes_them() {
        let claims = check(|_| {}).unwrap();
        assert_eq!(claims.issuer(), "https://idbroker.webex.com/idb");
        assert_eq!(claims.audience(), ["BYOVAGateway"]);
        assert_eq!(claims.subject(), "callAudioData");
        assert_eq!(claims.jwt_id(), "abc");
        assert_eq!(claims.expires_at().unix_timestamp(), NOW + 600);
        assert_eq!(claims.issued_at().unwrap().unix_timestamp(), NOW - 60);
        assert_eq!(claims.not_before(), None);
        assert_eq!(claims.datasource_url(), URL);
        assert_eq!(claims.schema_uuid(), BYOVA_SCHEMA_UUID);
        assert_eq!(
            serde_json::to_value(&claims).unwrap(),
            Value::Object(payload())
        );
    }

    #[test]
    fn expiry_and_not_before_use_the_leeway() {
        assert!(
            check(|c| {
                c.insert("exp".into(), json!(NOW - 29));
            })
            .is_ok()
        );
        let err = check(|c| {
            c.insert("exp".into(), json!(NOW - 30));
        })
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Expired);
        assert!(
            check(|c| {
                c.insert("nbf".into(), json!(NOW + 30));
            })
            .is_ok()
        );
        let err = check(|c| {
            c.insert("nbf".into(), json!(NOW + 31));
        })
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotYetValid);
        assert!(
            check(|c| {
                c.insert("exp".into(), json!((NOW + 10) as f64 + 0.5));
            })
            .is_ok()
        );
    }

    #[test]
    fn missing_and_mistyped_claims() {
        for (name, claim) in [
            ("exp", Claim::Exp),
            ("aud", Claim::Aud),
            ("sub", Claim::Sub),
            ("jti", Claim::Jti),
            (DATASOURCE_URL_CLAIM, Claim::DataSourceUrl),
            (SCHEMA_UUID_CLAIM, Claim::SchemaUuid),
        ] {
            let err = check(|c| {
                c.remove(name);
            })
            .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::MissingClaim(claim), "{name}");
            if name != "exp" {
                let err = check(|c| {
                    c.insert(name.into(), json!(""));
                })
                .unwrap_err();
                assert_eq!(err.kind(), ErrorKind::MissingClaim(claim), "{name} empty");
            }
            let err = check(|c| {
                c.insert(name.into(), json!({"x": 1}));
            })
            .unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::ClaimMismatch(claim),
                "{name} mistyped"
            );
        }
        let err = check(|c| {
            c.insert("aud".into(), json!([]));
        })
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingClaim(Claim::Aud));
        let err = check(|c| {
            c.insert("exp".into(), json!("tomorrow"));
        })
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ClaimMismatch(Claim::Exp));
    }

    #[test]
    fn expected_values_are_compared_exactly() {
        let mut strict = rules();
        strict.audience = Some("BYOVAGateway".to_owned());
        strict.subject = Some("callAudioData".to_owned());
        strict.jwt_id = Some("abc".to_owned());
        assert!(check_with(&strict, |_| {}).is_ok());
        assert!(
            check_with(&strict, |c| {
                c.insert("aud".into(), json!(["x", "BYOVAGateway"]));
            })
            .is_ok()
        );
        for (name, claim) in [
            ("aud", Claim::Aud),
            ("sub", Claim::Sub),
            ("jti", Claim::Jti),
        ] {
            let err = check_with(&strict, |c| {
                c.insert(name.into(), json!("other"));
            })
            .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ClaimMismatch(claim));
            assert!(err.to_string().contains("\"other\""), "{err}");
        }
    }

    #[test]
    fn datasource_url_mismatch_shows_both_values_and_a_hint() {
        let err = check(|c| {
            c.insert(DATASOURCE_URL_CLAIM.into(), json!(format!("{URL}/")));
        })
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ClaimMismatch(Claim::DataSourceUrl));
        assert_eq!(
            err.detail(),
            "expected \"https://byova.example.com/va\", got \"https://byova.example.com/va/\" \
             (they differ only by a trailing `/`; the URL must match the registered one \
             character for character)"
        );
        let err = check(|c| {
            c.insert(
                DATASOURCE_URL_CLAIM.into(),
                json!("https://byova.example.com:443/va"),
            );
        })
        .unwrap_err();
        assert!(err.detail().contains("explicit default port"), "{err}");
        let err = check(|c| {
            c.insert(
                SCHEMA_UUID_CLAIM.into(),
                json!("00000000-0000-0000-0000-000000000000"),
            );
        })
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ClaimMismatch(Claim::SchemaUuid));
    }

    #[test]
    fn issuer_must_be_a_non_empty_string() {
        let mut all = payload();
        assert_eq!(
            unverified_issuer(&all).unwrap(),
            "https://idbroker.webex.com/idb"
        );
        all.insert("iss".into(), json!(7));
        assert_eq!(
            unverified_issuer(&all).unwrap_err().kind(),
            ErrorKind::UnknownIssuer
        );
        all.remove("iss");
        assert_eq!(
            unverified_issuer(&all).unwrap_err().kind(),
            ErrorKind::UnknownIssuer
        );
    }
}
