//! [`ensure_service_app_webhooks`]: make sure Webex delivers Service App events to us, signed.

use byova_models::{
    SERVICE_APP_RESOURCE, Secret, Webhook, WebhookCreate, WebhookStatus, WebhookUpdate,
};

use byova_api::Webhooks;

use crate::error::{Error, Result};
use crate::integration::IntegrationAuth;

/// The name given to a created `authorized` webhook.
pub const AUTHORIZED_WEBHOOK_NAME: &str = "BYOVA Service App authorized";
/// The name given to a created `deauthorized` webhook.
pub const DEAUTHORIZED_WEBHOOK_NAME: &str = "BYOVA Service App deauthorized";

/// What [`ensure_service_app_webhooks`] did to one webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookChange {
    /// It was missing and was created.
    Created,
    /// It existed with another secret or was inactive, and was updated.
    Repaired,
    /// It was already right.
    Unchanged,
}

/// One of the two Service App webhooks after [`ensure_service_app_webhooks`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EnsuredWebhook {
    /// `authorized` or `deauthorized`.
    pub event: &'static str,
    /// What was done.
    pub change: WebhookChange,
    /// The webhook as Webex last returned it.
    pub webhook: Webhook,
}

/// Makes sure the `serviceApp` `authorized` and `deauthorized` webhooks exist for `target_url`,
/// signed with `secret` and active. Uses the Integration's bearer.
///
/// Looks through every page of `/webhooks`; a hook matches when its resource is `serviceApp`, its
/// event is the one wanted and its `targetUrl` equals `target_url` exactly. A missing hook is
/// created with the secret; a matching hook whose secret differs (or is unset) or whose status is
/// not active is updated; hooks pointing elsewhere are left alone. Running it again changes
/// nothing.
///
/// # Errors
/// Integration errors, [`crate::ErrorKind::Api`].
pub async fn ensure_service_app_webhooks(
    integration: &IntegrationAuth,
    target_url: &str,
    secret: &Secret,
) -> Result<[EnsuredWebhook; 2]> {
    let webhooks = integration.client().webhooks(integration.clone());
    let existing = webhooks.list().max(100).await.map_err(Error::api)?;
    let wanted = Wanted {
        webhooks: &webhooks,
        existing: &existing,
        target_url,
        secret,
    };
    Ok([
        wanted.ensure("authorized", AUTHORIZED_WEBHOOK_NAME).await?,
        wanted
            .ensure("deauthorized", DEAUTHORIZED_WEBHOOK_NAME)
            .await?,
    ])
}

struct Wanted<'a> {
    webhooks: &'a Webhooks,
    existing: &'a [Webhook],
    target_url: &'a str,
    secret: &'a Secret,
}

impl Wanted<'_> {
    async fn ensure(&self, event: &'static str, name: &str) -> Result<EnsuredWebhook> {
        let mut matching = self.existing.iter().filter(|hook| {
            hook.resource.as_deref() == Some(SERVICE_APP_RESOURCE)
                && hook.event.as_deref() == Some(event)
                && hook.target_url.as_deref() == Some(self.target_url)
        });
        let found = matching.next();
        if matching.next().is_some() {
            tracing::warn!(
                event,
                target_url = self.target_url,
                "several identical Service App webhooks exist; Webex delivers each event more than once"
            );
        }
        let Some(hook) = found else {
            let body = WebhookCreate::service_app(name, self.target_url, event)
                .with_secret(self.secret.clone());
            let webhook = self.webhooks.create(&body).await.map_err(Error::api)?;
            tracing::info!(event, id = %webhook.id, "created a Service App webhook");
            return Ok(EnsuredWebhook {
                event,
                change: WebhookChange::Created,
                webhook,
            });
        };
        let inactive = hook
            .status
            .as_ref()
            .is_some_and(|status| *status != WebhookStatus::Active);
        if hook.secret.as_ref() == Some(self.secret) && !inactive {
            return Ok(EnsuredWebhook {
                event,
                change: WebhookChange::Unchanged,
                webhook: hook.clone(),
            });
        }
        let mut body = WebhookUpdate::new(
            hook.name.clone().unwrap_or_else(|| name.to_owned()),
            self.target_url,
        );
        body.secret = Some(self.secret.clone());
        body.status = Some(WebhookStatus::Active);
        let webhook = self
            .webhooks
            .update(&hook.id, &body)
            .await
            .map_err(Error::api)?;
        tracing::info!(event, id = %webhook.id, "repaired a Service App webhook (secret or status)");
        Ok(EnsuredWebhook {
            event,
            change: WebhookChange::Repaired,
            webhook,
        })
    }
}
