//! Client credentials of the Integration and of the Service App.

use serde::{Deserialize, Serialize};

use crate::id::derive_application_id;
use crate::secret::Secret;

/// The redirect URI the Python SDK uses when none is configured.
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";

/// Credentials of the developer's Webex Integration (OAuth authorization-code flow).
///
/// The secret is redacted in `Debug`.
///
/// ```
/// use byova_models::IntegrationCredentials;
///
/// let creds = IntegrationCredentials::new("client-id", "s3cret");
/// assert_eq!(creds.redirect_uri, "http://127.0.0.1:8765/callback");
/// assert!(!format!("{creds:?}").contains("s3cret"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationCredentials {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: Secret,
    /// The redirect URI registered for the Integration, compared by Webex character for character.
    #[serde(default = "default_redirect_uri")]
    pub redirect_uri: String,
}

fn default_redirect_uri() -> String {
    DEFAULT_REDIRECT_URI.to_owned()
}

impl IntegrationCredentials {
    /// Credentials with the default redirect URI ([`DEFAULT_REDIRECT_URI`]).
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<Secret>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_uri: default_redirect_uri(),
        }
    }

    /// Replaces the redirect URI.
    #[must_use]
    pub fn with_redirect_uri(mut self, redirect_uri: impl Into<String>) -> Self {
        self.redirect_uri = redirect_uri.into();
        self
    }
}

/// Credentials of a Service App (authorized per customer org by an admin in Control Hub).
///
/// ```
/// use byova_models::ServiceAppCredentials;
///
/// let creds = ServiceAppCredentials::new("sa-id", "sa-secret");
/// assert_eq!(creds.application_id(), "Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL3NhLWlk");
/// assert!(!format!("{creds:?}").contains("sa-secret"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAppCredentials {
    /// Service App client id.
    pub client_id: String,
    /// Service App client secret.
    pub client_secret: Secret,
}

impl ServiceAppCredentials {
    /// Wraps a client id and secret.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<Secret>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        }
    }

    /// The application id for `POST /applications/{id}/token`, in the `us` cluster
    /// (see [`derive_application_id`] and [`crate::WebexId::application`] for other clusters).
    #[must_use]
    pub fn application_id(&self) -> String {
        derive_application_id(&self.client_id)
    }
}
