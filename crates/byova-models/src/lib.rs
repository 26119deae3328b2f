//! Webex BYOVA / BYODS REST data types: serde only, no I/O.
//!
//! * Credentials and tokens: [`IntegrationCredentials`], [`ServiceAppCredentials`],
//!   [`OAuthTokens`] (alias [`ServiceAppTokens`]) with expiry on [`time`], [`TokenResponse`].
//!   Secrets are [`Secret`]s: redacted in `Debug`, real in serde (for token storage).
//! * Ids: [`WebexId`] (encoded `ciscospark://cluster/KIND/id`), [`OrgId`] (encoded or plain UUID),
//!   [`derive_application_id`].
//! * Resources: [`DataSource`], [`DataSourceCreate`], [`DataSourceUpdate`], [`Schema`],
//!   [`Webhook`], [`WebhookCreate`], [`WebhookUpdate`], [`ServiceAppWebhookEvent`],
//!   [`ItemList`].
//!
//! JSON is camelCase, `None` fields are left out, and response types keep unknown fields in
//! `extra` so that a read-modify-write never drops data.
//!
//! ```
//! use byova_models::{DataSource, DataSourceStatus, OrgId};
//!
//! let json = r#"{
//!     "id": "ds-1",
//!     "schemaId": "5397013b-7920-4ffc-807c-e8a3e0a18f43",
//!     "status": "active",
//!     "jwsToken": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
//!     "tokenExpiryTime": "2025-06-01T12:00:00.000Z",
//!     "somethingNew": {"kept": true}
//! }"#;
//! let ds: DataSource = serde_json::from_str(json).unwrap();
//! assert_eq!(ds.status, Some(DataSourceStatus::Active));
//! assert!(!format!("{ds:?}").contains("eyJ")); // the JWS is redacted
//! let again = serde_json::to_value(&ds).unwrap();
//! assert_eq!(again["somethingNew"]["kept"], true); // unknown fields survive
//!
//! let org: OrgId = "63b02f90-0be4-4b43-9e78-cad425ac554c".parse().unwrap();
//! assert_eq!(org.to_webex_id("us").to_uri(), "ciscospark://us/ORGANIZATION/63b02f90-0be4-4b43-9e78-cad425ac554c");
//! ```

mod credentials;
mod datasource;
mod id;
mod lenient;
mod list;
mod schema;
mod secret;
mod string_enum;
mod tokens;
mod webhook;

pub use credentials::{DEFAULT_REDIRECT_URI, IntegrationCredentials, ServiceAppCredentials};
pub use datasource::{
    DataSource, DataSourceCreate, DataSourceStatus, DataSourceUpdate, MAX_TOKEN_LIFETIME_MINUTES,
};
pub use id::{IdError, OrgId, WebexId, derive_application_id, derive_application_id_in};
pub use list::ItemList;
pub use schema::{BYOVA_SCHEMA_ID, Schema};
pub use secret::Secret;
pub use tokens::{DEFAULT_EXPIRES_IN_SECS, OAuthTokens, ServiceAppTokens, TokenResponse};
pub use webhook::{
    SERVICE_APP_RESOURCE, ServiceAppEventKind, ServiceAppWebhookEvent, Webhook, WebhookCreate,
    WebhookStatus, WebhookUpdate,
};
