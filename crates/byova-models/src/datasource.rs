//! BYODS data sources (`/dataSources`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::lenient;
use crate::secret::Secret;
use crate::string_enum::string_enum;

/// The longest JWS lifetime Webex accepts, in minutes (24 h).
pub const MAX_TOKEN_LIFETIME_MINUTES: u32 = 1440;

string_enum! {
    /// Whether Webex uses a data source.
    pub enum DataSourceStatus {
        /// In use.
        Active = "active",
        /// Switched off; `errorMessage` says why.
        Disabled = "disabled",
    }
}

/// A registered data source, as Webex returns it (`GET /dataSources/{id}`, list items, and the
/// responses of create and update).
///
/// Every field Webex sends is kept: known ones in typed fields, others in `extra`, so that
/// serialising it again loses nothing. The `jwsToken` is redacted in `Debug`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataSource {
    /// Data source id.
    pub id: String,
    /// Schema the data source implements (for BYOVA `5397013b-7920-4ffc-807c-e8a3e0a18f43`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<String>,
    /// Org that owns the data source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// Application (Service App) that registered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    /// Where Webex sends the data (our gRPC endpoint); the JWS `com.cisco.datasource.url` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The JWS `aud` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The JWS `sub` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The nonce of the current JWS; a new nonce mints a new JWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Whether Webex uses the data source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DataSourceStatus>,
    /// The JWS Webex attaches to every call to `url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jws_token: Option<Secret>,
    /// Lifetime of the JWS in minutes (at most [`MAX_TOKEN_LIFETIME_MINUTES`]).
    #[serde(
        default,
        deserialize_with = "lenient::opt_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub token_lifetime_minutes: Option<u32>,
    /// When the JWS expires; renew before then or Webex stops calling.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub token_expiry_time: Option<OffsetDateTime>,
    /// Who registered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// When it was registered.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
    /// Why it is disabled (shown in Control Hub).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Fields this version does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DataSource {
    /// The body that renews this data source's JWS: its current settings, a fresh `nonce`, the
    /// given lifetime and `status: active` (unless another status is set).
    ///
    /// Webex expects the full settings on `PUT /dataSources/{id}`; only the nonce makes it mint a
    /// new JWS.
    #[must_use]
    pub fn renewal(
        &self,
        nonce: impl Into<String>,
        token_lifetime_minutes: u32,
    ) -> DataSourceUpdate {
        DataSourceUpdate {
            audience: self.audience.clone(),
            subject: self.subject.clone(),
            nonce: Some(nonce.into()),
            schema_id: self.schema_id.clone(),
            url: self.url.clone(),
            token_lifetime_minutes: Some(token_lifetime_minutes),
            status: Some(self.status.clone().unwrap_or(DataSourceStatus::Active)),
            error_message: None,
            extra: Map::new(),
        }
    }
}

/// The body of `POST /dataSources`: every field is required.
///
/// ```
/// use byova_models::DataSourceCreate;
///
/// let body = DataSourceCreate::new(
///     "5397013b-7920-4ffc-807c-e8a3e0a18f43",
///     "https://va.example.com:443",
///     "BYOVAGateway",
///     "callAudioData",
///     "nonce-1",
///     1440,
/// );
/// assert_eq!(
///     serde_json::to_string(&body).unwrap(),
///     r#"{"audience":"BYOVAGateway","subject":"callAudioData","nonce":"nonce-1","schemaId":"5397013b-7920-4ffc-807c-e8a3e0a18f43","url":"https://va.example.com:443","tokenLifetimeMinutes":1440}"#,
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataSourceCreate {
    /// The JWS `aud` claim.
    pub audience: String,
    /// The JWS `sub` claim.
    pub subject: String,
    /// A fresh nonce (a UUID v4 is customary).
    pub nonce: String,
    /// Schema id.
    pub schema_id: String,
    /// Where Webex sends the data.
    pub url: String,
    /// JWS lifetime in minutes, 1..=1440.
    pub token_lifetime_minutes: u32,
    /// Additional fields to send as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DataSourceCreate {
    /// A registration body.
    pub fn new(
        schema_id: impl Into<String>,
        url: impl Into<String>,
        audience: impl Into<String>,
        subject: impl Into<String>,
        nonce: impl Into<String>,
        token_lifetime_minutes: u32,
    ) -> Self {
        Self {
            audience: audience.into(),
            subject: subject.into(),
            nonce: nonce.into(),
            schema_id: schema_id.into(),
            url: url.into(),
            token_lifetime_minutes,
            extra: Map::new(),
        }
    }
}

/// The body of `PUT /dataSources/{id}`: `None` fields are left out.
///
/// ```
/// use byova_models::{DataSourceStatus, DataSourceUpdate};
///
/// let body = DataSourceUpdate {
///     status: Some(DataSourceStatus::Disabled),
///     error_message: Some("maintenance".into()),
///     ..DataSourceUpdate::default()
/// };
/// assert_eq!(
///     serde_json::to_string(&body).unwrap(),
///     r#"{"status":"disabled","errorMessage":"maintenance"}"#,
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataSourceUpdate {
    /// The JWS `aud` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The JWS `sub` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// A new nonce makes Webex mint a new JWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Schema id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<String>,
    /// Where Webex sends the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// JWS lifetime in minutes, 1..=1440.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub token_lifetime_minutes: Option<u32>,
    /// `active` or `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DataSourceStatus>,
    /// Why it is disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Additional fields to send as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
