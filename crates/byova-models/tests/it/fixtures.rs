//! Loading the JSON fixtures (shapes from the reference docs) and comparing round trips.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The fixture `name` from `tests/fixtures/`.
pub fn load(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Decodes `fixture` as `T`, encodes it again and checks that every key survived with the same
/// value (timestamps compared as instants, since `.000Z` and `Z` are the same time), and that
/// decoding the output gives the same `T`.
pub fn assert_round_trip<T>(fixture: &Value) -> T
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let decoded: T = serde_json::from_value(fixture.clone()).expect("fixture decodes");
    let encoded = serde_json::to_value(&decoded).expect("encodes");
    assert_same(fixture, &encoded, "$");
    let again: T = serde_json::from_value(encoded).expect("re-decodes");
    assert_eq!(again, decoded);
    decoded
}

fn assert_same(expected: &Value, actual: &Value, at: &str) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            assert_eq!(
                e.keys().collect::<std::collections::BTreeSet<_>>(),
                a.keys().collect::<std::collections::BTreeSet<_>>(),
                "keys differ at {at}"
            );
            for (key, value) in e {
                assert_same(value, &a[key], &format!("{at}.{key}"));
            }
        }
        (Value::String(e), Value::String(a)) if e != a => {
            let (Ok(e), Ok(a)) = (
                OffsetDateTime::parse(e, &Rfc3339),
                OffsetDateTime::parse(a, &Rfc3339),
            ) else {
                panic!("value differs at {at}: {e:?} vs {a:?}");
            };
            assert_eq!(e, a, "time differs at {at}");
        }
        (e, a) => assert_eq!(e, a, "value differs at {at}"),
    }
}
