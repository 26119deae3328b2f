//! `/webhooks`: register and manage webhooks (Service App authorization events).

use std::fmt;
use std::sync::Arc;

use byova_models::{Webhook, WebhookCreate, WebhookUpdate};

use super::segment;
use crate::client::Client;
use crate::error::Error;
use crate::pagination::ListRequest;
use crate::token_source::TokenSource;

/// Webhooks, with the Integration bearer. Get it from [`Client::webhooks`].
#[derive(Clone)]
pub struct Webhooks {
    client: Client,
    auth: Arc<dyn TokenSource>,
}

impl Webhooks {
    pub(crate) fn new(client: Client, auth: Arc<dyn TokenSource>) -> Self {
        Self { client, auth }
    }

    /// `GET /webhooks`, every page; add `.max(n)` and [`owned_by`](ListRequest::owned_by).
    pub fn list(&self) -> ListRequest<Webhook> {
        ListRequest::new(
            self.client.clone(),
            "/webhooks".to_owned(),
            Some(Arc::clone(&self.auth)),
        )
    }

    /// `GET /webhooks/{id}`.
    pub async fn get(&self, id: &str) -> Result<Webhook, Error> {
        self.client
            .get(format!("/webhooks/{}", segment(id)?))
            .bearer_arc(Arc::clone(&self.auth))
            .json()
            .await
    }

    /// `POST /webhooks` (with `secret`, `filter`, `ownedBy` when set). Not retried.
    pub async fn create(&self, body: &WebhookCreate) -> Result<Webhook, Error> {
        self.client
            .post("/webhooks")
            .bearer_arc(Arc::clone(&self.auth))
            .json_body(body)
            .json()
            .await
    }

    /// `PUT /webhooks/{id}`.
    pub async fn update(&self, id: &str, body: &WebhookUpdate) -> Result<Webhook, Error> {
        self.client
            .put(format!("/webhooks/{}", segment(id)?))
            .bearer_arc(Arc::clone(&self.auth))
            .json_body(body)
            .json()
            .await
    }

    /// `DELETE /webhooks/{id}`.
    pub async fn delete(&self, id: &str) -> Result<(), Error> {
        self.client
            .delete(format!("/webhooks/{}", segment(id)?))
            .bearer_arc(Arc::clone(&self.auth))
            .send()
            .await
            .map(drop)
    }
}

impl ListRequest<Webhook> {
    /// `ownedBy` filter (`org` for org-wide webhooks).
    pub fn owned_by(self, owned_by: impl Into<String>) -> Self {
        self.query("ownedBy", owned_by.into())
    }
}

impl fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhooks")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}
