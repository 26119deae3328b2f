//! Service App webhooks: signatures, payloads, duplicate suppression, handling and registration.

mod dedupe;
mod ensure;
mod event;
mod handler;
mod signature;

pub use dedupe::{DEFAULT_DEDUPE_CAPACITY, DEFAULT_DEDUPE_WINDOW, EventClaim, EventDeduper};
pub use ensure::{
    AUTHORIZED_WEBHOOK_NAME, DEAUTHORIZED_WEBHOOK_NAME, EnsuredWebhook, WebhookChange,
    ensure_service_app_webhooks,
};
pub use event::ServiceAppEvent;
pub use handler::{ServiceAppWebhooks, WebhookOutcome};
pub use signature::{SIGNATURE_HEADER, WebhookVerifier};
