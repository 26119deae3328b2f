//! `/dataSources/schemas`: the schemas a data source can implement.

use std::fmt;
use std::sync::Arc;

use byova_models::Schema;

use super::segment;
use crate::client::Client;
use crate::error::Error;
use crate::pagination::ListRequest;
use crate::token_source::TokenSource;

/// Data-source schemas. Get it from [`Client::schemas`].
#[derive(Clone)]
pub struct Schemas {
    client: Client,
    auth: Arc<dyn TokenSource>,
}

impl Schemas {
    pub(crate) fn new(client: Client, auth: Arc<dyn TokenSource>) -> Self {
        Self { client, auth }
    }

    /// `GET /dataSources/schemas`, every page.
    pub fn list(&self) -> ListRequest<Schema> {
        ListRequest::new(
            self.client.clone(),
            "/dataSources/schemas".to_owned(),
            Some(Arc::clone(&self.auth)),
        )
    }

    /// `GET /dataSources/schemas/{id}`.
    pub async fn get(&self, id: &str) -> Result<Schema, Error> {
        self.client
            .get(format!("/dataSources/schemas/{}", segment(id)?))
            .bearer_arc(Arc::clone(&self.auth))
            .json()
            .await
    }
}

impl fmt::Debug for Schemas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schemas")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}
