//! `/dataSources`: register, read, update, renew and delete BYODS data sources.

use std::fmt;
use std::sync::Arc;

use byova_models::{DataSource, DataSourceCreate, DataSourceUpdate, MAX_TOKEN_LIFETIME_MINUTES};

use super::segment;
use crate::client::Client;
use crate::error::Error;
use crate::pagination::ListRequest;
use crate::token_source::TokenSource;

/// A fresh nonce for a data-source registration or renewal (a UUID v4).
#[must_use]
pub fn new_nonce() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Data sources of one org, with that org's Service App bearer.
/// Get it from [`Client::data_sources`].
#[derive(Clone)]
pub struct DataSources {
    client: Client,
    auth: Arc<dyn TokenSource>,
}

impl DataSources {
    pub(crate) fn new(client: Client, auth: Arc<dyn TokenSource>) -> Self {
        Self { client, auth }
    }

    /// `GET /dataSources/` (with the trailing slash), every page.
    pub fn list(&self) -> ListRequest<DataSource> {
        ListRequest::new(
            self.client.clone(),
            "/dataSources/".to_owned(),
            Some(Arc::clone(&self.auth)),
        )
    }

    /// `GET /dataSources/{id}`.
    pub async fn get(&self, id: &str) -> Result<DataSource, Error> {
        self.client
            .get(format!("/dataSources/{}", segment(id)?))
            .bearer_arc(Arc::clone(&self.auth))
            .json()
            .await
    }

    /// `POST /dataSources` (no trailing slash). Not retried (it is not idempotent).
    pub async fn create(&self, body: &DataSourceCreate) -> Result<DataSource, Error> {
        check_lifetime(Some(body.token_lifetime_minutes))?;
        self.client
            .post("/dataSources")
            .bearer_arc(Arc::clone(&self.auth))
            .json_body(body)
            .json()
            .await
    }

    /// `PUT /dataSources/{id}` with the fields that are `Some`.
    pub async fn update(&self, id: &str, body: &DataSourceUpdate) -> Result<DataSource, Error> {
        check_lifetime(body.token_lifetime_minutes)?;
        self.client
            .put(format!("/dataSources/{}", segment(id)?))
            .bearer_arc(Arc::clone(&self.auth))
            .json_body(body)
            .json()
            .await
    }

    /// Renews the JWS of `current`: `PUT /dataSources/{id}` with its settings, a fresh nonce and
    /// `token_lifetime_minutes` (1..=1440). Returns the updated data source with the new
    /// `jwsToken` and `tokenExpiryTime`.
    pub async fn renew(
        &self,
        current: &DataSource,
        token_lifetime_minutes: u32,
    ) -> Result<DataSource, Error> {
        self.update(
            &current.id,
            &current.renewal(new_nonce(), token_lifetime_minutes),
        )
        .await
    }

    /// [`renew`](Self::renew) by id: reads the data source first.
    pub async fn renew_by_id(
        &self,
        id: &str,
        token_lifetime_minutes: u32,
    ) -> Result<DataSource, Error> {
        check_lifetime(Some(token_lifetime_minutes))?;
        let current = self.get(id).await?;
        self.renew(&current, token_lifetime_minutes).await
    }

    /// `DELETE /dataSources/{id}`.
    pub async fn delete(&self, id: &str) -> Result<(), Error> {
        self.client
            .delete(format!("/dataSources/{}", segment(id)?))
            .bearer_arc(Arc::clone(&self.auth))
            .send()
            .await
            .map(drop)
    }
}

fn check_lifetime(minutes: Option<u32>) -> Result<(), Error> {
    match minutes {
        Some(m) if m == 0 || m > MAX_TOKEN_LIFETIME_MINUTES => Err(Error::invalid_request(
            format!("tokenLifetimeMinutes must be 1..={MAX_TOKEN_LIFETIME_MINUTES}, got {m}"),
        )),
        _ => Ok(()),
    }
}

impl fmt::Debug for DataSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataSources")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}
