//! [`OrgClient`]: data sources and schemas of one customer org.

use byova_api::{DataSources, Schemas};
use byova_models::OrgId;

use crate::service_app::ServiceAppAuth;

/// The REST resources of one org, authenticated with that org's Service App tokens (refreshed as
/// needed, and once more after a 401).
#[derive(Debug, Clone)]
pub struct OrgClient {
    org: OrgId,
    service_apps: ServiceAppAuth,
    data_sources: DataSources,
    schemas: Schemas,
}

impl OrgClient {
    pub(crate) fn new(service_apps: ServiceAppAuth, org: OrgId) -> Self {
        let client = service_apps.integration().client();
        let data_sources = client.data_sources(service_apps.token_source(&org));
        let schemas = client.schemas(service_apps.token_source(&org));
        Self {
            org,
            service_apps,
            data_sources,
            schemas,
        }
    }

    /// The org.
    pub fn org(&self) -> &OrgId {
        &self.org
    }

    /// The org's data sources (`/dataSources`).
    pub fn data_sources(&self) -> &DataSources {
        &self.data_sources
    }

    /// Data-source schemas (`/dataSources/schemas`).
    pub fn schemas(&self) -> &Schemas {
        &self.schemas
    }

    /// The Service App tokens behind this client.
    pub fn service_apps(&self) -> &ServiceAppAuth {
        &self.service_apps
    }
}
