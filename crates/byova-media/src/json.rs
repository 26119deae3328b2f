//! Conversions between `google.protobuf.Struct` (event parameters, output-event metadata) and
//! JSON objects.

use prost_types::value::Kind;
use prost_types::{ListValue, Struct, Value};
use serde_json::{Map, Number, Value as Json};

/// A JSON object: the parameters of an input event or the metadata of an output event.
pub type JsonObject = Map<String, Json>;

/// Converts a protobuf `Struct` into a JSON object.
///
/// Protobuf numbers are doubles: integral values within ±2⁵³ become JSON integers, other finite
/// values JSON floats, and NaN or infinities (which JSON cannot hold) become `null`.
pub(crate) fn struct_to_json(value: Struct) -> JsonObject {
    value
        .fields
        .into_iter()
        .map(|(key, value)| (key, value_to_json(value)))
        .collect()
}

fn value_to_json(value: Value) -> Json {
    match value.kind {
        None | Some(Kind::NullValue(_)) => Json::Null,
        Some(Kind::BoolValue(b)) => Json::Bool(b),
        Some(Kind::StringValue(s)) => Json::String(s),
        Some(Kind::NumberValue(n)) => number_to_json(n),
        Some(Kind::StructValue(s)) => Json::Object(struct_to_json(s)),
        Some(Kind::ListValue(list)) => {
            Json::Array(list.values.into_iter().map(value_to_json).collect())
        }
    }
}

/// The largest integer a double holds exactly (2⁵³).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_992.0;

#[allow(clippy::cast_possible_truncation)] // guarded: integral and within ±2⁵³
fn number_to_json(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER {
        Json::Number(Number::from(n as i64))
    } else {
        Number::from_f64(n).map_or(Json::Null, Json::Number)
    }
}

/// Converts a JSON object into a protobuf `Struct`.
pub(crate) fn json_to_struct(object: &JsonObject) -> Struct {
    Struct {
        fields: object
            .iter()
            .map(|(key, value)| (key.clone(), json_to_value(value)))
            .collect(),
    }
}

#[allow(clippy::cast_precision_loss)] // protobuf numbers are doubles
fn json_to_value(value: &Json) -> Value {
    let kind = match value {
        Json::Null => Kind::NullValue(0),
        Json::Bool(b) => Kind::BoolValue(*b),
        Json::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        Json::String(s) => Kind::StringValue(s.clone()),
        Json::Array(items) => Kind::ListValue(ListValue {
            values: items.iter().map(json_to_value).collect(),
        }),
        Json::Object(object) => Kind::StructValue(json_to_struct(object)),
    };
    Value { kind: Some(kind) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_keeps_every_kind() {
        let object = json!({
            "entry_point": "main",
            "count": 3,
            "ratio": 0.5,
            "flag": true,
            "nothing": null,
            "list": [1, "two", false],
            "nested": {"deep": {"x": -7}}
        });
        let Json::Object(object) = object else {
            unreachable!()
        };
        let back = struct_to_json(json_to_struct(&object));
        assert_eq!(back, object);
    }

    #[test]
    fn non_finite_numbers_become_null_and_missing_kind_is_null() {
        let mut value = Struct::default();
        for (key, n) in [("nan", f64::NAN), ("inf", f64::INFINITY)] {
            value.fields.insert(
                key.into(),
                Value {
                    kind: Some(Kind::NumberValue(n)),
                },
            );
        }
        value.fields.insert("empty".into(), Value { kind: None });
        value.fields.insert(
            "big".into(),
            Value {
                kind: Some(Kind::NumberValue(1e300)),
            },
        );
        let object = struct_to_json(value);
        assert_eq!(object["nan"], Json::Null);
        assert_eq!(object["inf"], Json::Null);
        assert_eq!(object["empty"], Json::Null);
        assert_eq!(object["big"], json!(1e300));
    }
}
