//! Data-source schemas (`/dataSources/schemas`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// The id of the BYOVA (Voice Virtual Agent) schema.
pub const BYOVA_SCHEMA_ID: &str = "5397013b-7920-4ffc-807c-e8a3e0a18f43";

/// A data-source schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema {
    /// Schema id.
    pub id: String,
    /// Application type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_type: Option<String>,
    /// When the schema was published.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
    /// Protocol, e.g. `GRPC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Service type, e.g. `VA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_type: Option<String>,
    /// Where the schema is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Fields this version does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
