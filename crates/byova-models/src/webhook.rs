//! Webhooks (`/webhooks`) and the Service App authorization events they deliver.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::id::{IdError, OrgId};
use crate::secret::Secret;
use crate::string_enum::string_enum;

/// The `resource` of Service App authorization webhooks.
pub const SERVICE_APP_RESOURCE: &str = "serviceApp";

string_enum! {
    /// Whether Webex delivers a webhook.
    pub enum WebhookStatus {
        /// Delivered.
        Active = "active",
        /// Not delivered (Webex disables hooks whose target keeps failing).
        Inactive = "inactive",
    }
}

/// A registered webhook, as Webex returns it. The `secret` is redacted in `Debug`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// Webhook id.
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where Webex posts events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_url: Option<String>,
    /// Resource, e.g. `serviceApp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Event, e.g. `authorized`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Event filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The HMAC secret for `X-Spark-Signature`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// `active` or `inactive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WebhookStatus>,
    /// When it was created.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<OffsetDateTime>,
    /// Owning org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Application that created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// `creator` or `org`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
    /// Fields this version does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of `POST /webhooks`.
///
/// ```
/// use byova_models::WebhookCreate;
///
/// let body = WebhookCreate::service_app("BYOVA Service App authorized", "https://example.com/hook", "authorized")
///     .with_secret("hmac-key");
/// assert_eq!(
///     serde_json::to_string(&body).unwrap(),
///     r#"{"name":"BYOVA Service App authorized","targetUrl":"https://example.com/hook","resource":"serviceApp","event":"authorized","secret":"hmac-key"}"#,
/// );
/// assert!(!format!("{body:?}").contains("hmac-key"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookCreate {
    /// Display name.
    pub name: String,
    /// Where Webex posts events.
    pub target_url: String,
    /// Resource, e.g. `serviceApp`.
    pub resource: String,
    /// Event, e.g. `authorized`.
    pub event: String,
    /// Event filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// HMAC secret: Webex then signs each delivery (`X-Spark-Signature`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// `org` to create an org-wide webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
    /// Additional fields to send as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl WebhookCreate {
    /// A webhook for `resource`/`event`.
    pub fn new(
        name: impl Into<String>,
        target_url: impl Into<String>,
        resource: impl Into<String>,
        event: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            target_url: target_url.into(),
            resource: resource.into(),
            event: event.into(),
            filter: None,
            secret: None,
            owned_by: None,
            extra: Map::new(),
        }
    }

    /// A Service App webhook (`resource: serviceApp`) for `event` (`authorized`/`deauthorized`).
    pub fn service_app(
        name: impl Into<String>,
        target_url: impl Into<String>,
        event: impl Into<String>,
    ) -> Self {
        Self::new(name, target_url, SERVICE_APP_RESOURCE, event)
    }

    /// Sets the HMAC secret.
    #[must_use]
    pub fn with_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Sets the event filter.
    #[must_use]
    pub fn with_filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }

    /// Sets `ownedBy`.
    #[must_use]
    pub fn with_owned_by(mut self, owned_by: impl Into<String>) -> Self {
        self.owned_by = Some(owned_by.into());
        self
    }
}

/// The body of `PUT /webhooks/{id}`: `name` and `targetUrl` are required, `None` fields are left
/// out.
///
/// ```
/// use byova_models::WebhookUpdate;
///
/// let body = WebhookUpdate::new("BYOVA Service App authorized", "https://example.com/new-hook");
/// assert_eq!(
///     serde_json::to_string(&body).unwrap(),
///     r#"{"name":"BYOVA Service App authorized","targetUrl":"https://example.com/new-hook"}"#,
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookUpdate {
    /// Display name.
    pub name: String,
    /// Where Webex posts events.
    pub target_url: String,
    /// HMAC secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// `active` re-enables a webhook Webex disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WebhookStatus>,
    /// Additional fields to send as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl WebhookUpdate {
    /// An update with the required fields.
    pub fn new(name: impl Into<String>, target_url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            target_url: target_url.into(),
            secret: None,
            status: None,
            extra: Map::new(),
        }
    }
}

/// The kind of a Service App webhook event.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServiceAppEventKind {
    /// An org admin authorized the Service App.
    Authorized,
    /// An org admin withdrew the authorization.
    Deauthorized,
    /// Another event (kept as sent).
    Other(String),
}

/// A webhook delivery, as Webex posts it to the target URL.
///
/// Used for Service App `authorized` / `deauthorized` events; every field is kept (`extra`).
///
/// ```
/// use byova_models::{ServiceAppEventKind, ServiceAppWebhookEvent};
///
/// let event: ServiceAppWebhookEvent = serde_json::from_str(
///     r#"{"resource":"serviceApp","event":"authorized",
///         "orgId":"Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi82M2IwMmY5MC0wYmU0LTRiNDMtOWU3OC1jYWQ0MjVhYzU1NGM"}"#,
/// )
/// .unwrap();
/// assert!(event.is_service_app());
/// assert_eq!(event.kind(), ServiceAppEventKind::Authorized);
/// assert_eq!(event.org_id().unwrap().as_str(), "63b02f90-0be4-4b43-9e78-cad425ac554c");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAppWebhookEvent {
    /// Webhook id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Webhook name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Target URL of the webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_url: Option<String>,
    /// Resource, `serviceApp` for authorization events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Event, `authorized` or `deauthorized`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Event filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The org the event is about (encoded Webex id, sometimes a plain UUID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// Who created the webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Application that created the webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// Application the event is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    /// Webhook `ownedBy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
    /// Webhook status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// When the event happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Who caused the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    /// Event data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Map<String, Value>>,
    /// Fields this version does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ServiceAppWebhookEvent {
    /// Whether the resource is `serviceApp` (or absent, as some deliveries omit it).
    #[must_use]
    pub fn is_service_app(&self) -> bool {
        self.resource
            .as_deref()
            .is_none_or(|r| r == SERVICE_APP_RESOURCE)
    }

    /// The event name: `event`, else `name`.
    #[must_use]
    pub fn event_name(&self) -> Option<&str> {
        self.event.as_deref().or(self.name.as_deref())
    }

    /// The event kind, from [`event_name`](Self::event_name), case-insensitively.
    #[must_use]
    pub fn kind(&self) -> ServiceAppEventKind {
        match self.event_name() {
            Some(name) if name.eq_ignore_ascii_case("authorized") => {
                ServiceAppEventKind::Authorized
            }
            Some(name) if name.eq_ignore_ascii_case("deauthorized") => {
                ServiceAppEventKind::Deauthorized
            }
            other => ServiceAppEventKind::Other(other.unwrap_or_default().to_owned()),
        }
    }

    /// The raw org id: top-level `orgId`, else `data.orgId`.
    #[must_use]
    pub fn raw_org_id(&self) -> Option<&str> {
        self.org_id.as_deref().or_else(|| self.data_str("orgId"))
    }

    /// The org the event is about, decoded (encoded id or plain UUID both work).
    pub fn org_id(&self) -> Result<OrgId, IdError> {
        OrgId::parse(self.raw_org_id().ok_or(IdError::InvalidOrgId)?)
    }

    /// The application the event is about: `applicationId`, then `data.applicationId`, then
    /// `appId`, then `data.appId`.
    #[must_use]
    pub fn raw_application_id(&self) -> Option<&str> {
        self.application_id
            .as_deref()
            .or_else(|| self.data_str("applicationId"))
            .or(self.app_id.as_deref())
            .or_else(|| self.data_str("appId"))
    }

    fn data_str(&self, key: &str) -> Option<&str> {
        self.data.as_ref()?.get(key)?.as_str()
    }
}
