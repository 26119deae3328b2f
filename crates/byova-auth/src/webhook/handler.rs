//! [`ServiceAppWebhooks`]: verify, parse, de-duplicate and apply Service App webhooks.

use byova_models::{OrgId, ServiceAppEventKind, ServiceAppTokens};

use crate::error::{Error, ErrorKind, Result};
use crate::service_app::ServiceAppAuth;
use crate::webhook::{EventDeduper, ServiceAppEvent, WebhookVerifier};

/// What handling a webhook delivery did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WebhookOutcome {
    /// The org authorized the Service App: tokens were minted and stored.
    Authorized {
        /// The org.
        org_id: OrgId,
        /// The new tokens (redacted in `Debug`).
        tokens: ServiceAppTokens,
    },
    /// The org withdrew its authorization: its tokens were deleted.
    Deauthorized {
        /// The org.
        org_id: OrgId,
        /// Whether tokens were stored for it.
        was_registered: bool,
    },
    /// The same event was handled within the de-duplication window; nothing was done.
    Duplicate {
        /// The event's id.
        event_id: String,
    },
}

/// Handles Service App `authorized` / `deauthorized` webhooks end to end.
///
/// For each delivery: the `X-Spark-Signature` is checked against the **raw** body before anything
/// else, the payload is parsed, redeliveries of an event already handled are dropped, then the org
/// is registered (tokens minted and stored) or forgotten (tokens deleted). A delivery that fails is
/// not remembered, so Webex's retry gets another chance.
///
/// Answer Webex with 2xx for `Ok` outcomes (including [`WebhookOutcome::Duplicate`]) and with 4xx
/// for signature and payload errors.
#[derive(Debug, Clone)]
pub struct ServiceAppWebhooks {
    service_apps: ServiceAppAuth,
    verifier: WebhookVerifier,
    deduper: EventDeduper,
    check_application: bool,
}

impl ServiceAppWebhooks {
    /// A handler verifying signatures made with `secret` (the secret the webhooks were created
    /// with), de-duplicating within the default window.
    pub fn new(service_apps: ServiceAppAuth, secret: impl AsRef<[u8]>) -> Self {
        Self {
            service_apps,
            verifier: WebhookVerifier::new(secret),
            deduper: EventDeduper::default(),
            check_application: true,
        }
    }

    /// Replaces the de-duplication window and capacity.
    #[must_use]
    pub fn with_deduper(mut self, deduper: EventDeduper) -> Self {
        self.deduper = deduper;
        self
    }

    /// Whether to reject events whose `applicationId` names another application (default: on).
    #[must_use]
    pub fn check_application(mut self, check: bool) -> Self {
        self.check_application = check;
        self
    }

    /// The signature verifier.
    pub fn verifier(&self) -> &WebhookVerifier {
        &self.verifier
    }

    /// Handles a delivery: `headers` must hold `X-Spark-Signature`, `body` is the raw request
    /// body.
    ///
    /// # Errors
    /// [`ErrorKind::MissingSignature`], [`ErrorKind::InvalidSignature`], payload errors (see
    /// [`ServiceAppEvent::parse`]), [`ErrorKind::UnexpectedApplication`], then the errors of
    /// minting or deleting tokens.
    pub async fn handle(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<WebhookOutcome> {
        self.verifier.verify_headers(headers, body)?;
        self.handle_unsigned(body).await
    }

    /// As [`handle`](Self::handle), with the signature header's value given directly.
    ///
    /// # Errors
    /// As [`handle`](Self::handle).
    pub async fn handle_signed(
        &self,
        signature: Option<&[u8]>,
        body: &[u8],
    ) -> Result<WebhookOutcome> {
        self.verifier.verify(signature, body)?;
        self.handle_unsigned(body).await
    }

    /// As [`handle`](Self::handle), without the signature check: for a body verified elsewhere,
    /// or for webhooks created without a secret. Still parsed and de-duplicated.
    ///
    /// # Errors
    /// Payload errors (see [`ServiceAppEvent::parse`]), then as [`apply`](Self::apply).
    pub async fn handle_unsigned(&self, body: &[u8]) -> Result<WebhookOutcome> {
        let event = ServiceAppEvent::parse(body)?;
        let claim = match event.event_id() {
            Some(event_id) => match self.deduper.claim(&event_id) {
                Some(claim) => Some(claim),
                None => {
                    tracing::debug!(%event_id, "dropping a duplicate webhook delivery");
                    return Ok(WebhookOutcome::Duplicate { event_id });
                }
            },
            None => None,
        };
        let outcome = self.apply(&event).await?;
        if let Some(claim) = claim {
            claim.keep();
        }
        Ok(outcome)
    }

    /// Applies an event that was verified and parsed elsewhere (no signature check, no
    /// de-duplication): registers or forgets the org.
    ///
    /// # Errors
    /// [`ErrorKind::UnexpectedApplication`], then the errors of minting or deleting tokens.
    pub async fn apply(&self, event: &ServiceAppEvent) -> Result<WebhookOutcome> {
        let credentials = self.service_apps.credentials();
        if self.check_application
            && !event.is_for_application(&credentials.client_id, self.service_apps.application_id())
        {
            return Err(Error::new(ErrorKind::UnexpectedApplication));
        }
        let org_id = event.org_id.clone();
        match event.kind {
            ServiceAppEventKind::Authorized => {
                let tokens = self.service_apps.fetch_token_for_org(&org_id).await?;
                tracing::info!(org = %org_id, "Service App authorized; tokens stored");
                Ok(WebhookOutcome::Authorized { org_id, tokens })
            }
            ServiceAppEventKind::Deauthorized => {
                let was_registered = self.service_apps.remove_org(&org_id).await?;
                tracing::info!(org = %org_id, was_registered, "Service App deauthorized; tokens deleted");
                Ok(WebhookOutcome::Deauthorized {
                    org_id,
                    was_registered,
                })
            }
            _ => Err(Error::new(ErrorKind::UnexpectedEvent {
                event: event.payload.event_name().unwrap_or_default().to_owned(),
            })),
        }
    }
}
