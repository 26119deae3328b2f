//! The sandbox path: register a customer org by hand from a Service App refresh token, then call
//! the BYODS API for it (here: list the data-source schemas).
//!
//! Normally an org registers itself: its admin authorizes your Service App, Webex sends the
//! `authorized` webhook, and the SDK mints and stores the org's tokens (see
//! `webhook_receiver`). In a sandbox you can instead copy the Service App's refresh token from
//! developer.webex.com and register the org with it: the SDK refreshes it once, stores the
//! result, and from then on keeps the org's access token fresh on its own.
//!
//! Environment:
//!
//! | variable | |
//! | --- | --- |
//! | `WEBEX_INTEGRATION_CLIENT_ID`, `WEBEX_INTEGRATION_CLIENT_SECRET` | required: the Integration |
//! | `WEBEX_SA_CLIENT_ID`, `WEBEX_SA_CLIENT_SECRET` | required: the Service App |
//! | `WEBEX_ORG_ID` | required: the customer org (UUID or Webex id) |
//! | `WEBEX_SA_REFRESH_TOKEN` | required: the Service App's refresh token for that org |
//! | `WEBEX_TOKEN_STORE` | `file:PATH` or `redis://…` to keep the registration (default `memory`) |
//!
//! Try it:
//!
//! ```text
//! export WEBEX_INTEGRATION_CLIENT_ID=… WEBEX_INTEGRATION_CLIENT_SECRET=…
//! export WEBEX_SA_CLIENT_ID=… WEBEX_SA_CLIENT_SECRET=…
//! export WEBEX_ORG_ID=… WEBEX_SA_REFRESH_TOKEN=…
//! cargo run --example manual_token
//! ```
//!
//! Without the required variables it stops at once and names the missing ones.

use anyhow::Context as _;
use byova::Byova;
use byova::models::{OrgId, Schema, Secret};

/// Registers `org` with `refresh_token`, then lists the schemas with the org's own token.
async fn register_and_list_schemas(
    byova: &Byova,
    org: &OrgId,
    refresh_token: Secret,
) -> anyhow::Result<Vec<Schema>> {
    byova
        .service_app()
        .save_registration(org, refresh_token)
        .await
        .context("Webex refused the refresh token")?;
    let org_client = byova.client_for_org(org).await?;
    Ok(org_client.schemas().list().await?)
}

/// A required variable, or an error naming it.
fn required(name: &str) -> anyhow::Result<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
        .with_context(|| format!("{name} is not set (see the doc comment of this example)"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let org: OrgId = required("WEBEX_ORG_ID")?
        .trim()
        .parse()
        .context("WEBEX_ORG_ID is not an org id")?;
    let refresh_token = Secret::new(required("WEBEX_SA_REFRESH_TOKEN")?.trim());
    let byova = Byova::from_env()
        .await
        .context("this example needs Webex credentials in the environment (see its doc comment)")?;

    let schemas = register_and_list_schemas(&byova, &org, refresh_token).await?;
    tracing::info!(%org, count = schemas.len(), "org registered; data-source schemas:");
    for schema in &schemas {
        tracing::info!(
            id = schema.id,
            service_type = schema.service_type.as_deref().unwrap_or("-"),
            "schema"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use byova::api::RetryPolicy;
    use byova::api::test_util::wiremock::Mock;
    use byova::api::test_util::{WebexStandIn, matchers as m, responses};
    use byova::auth::storage::{MemoryTokenStorage, TokenStorage as _};
    use byova::models::{IntegrationCredentials, ServiceAppCredentials};
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn registers_the_org_then_lists_schemas_with_its_token() {
        let webex = WebexStandIn::start().await;
        Mock::given(m::method("POST"))
            .and(m::path("/access_token"))
            .and(m::body_string(
                "grant_type=refresh_token&refresh_token=sandbox-refresh\
                 &client_id=sa-id&client_secret=sa-secret",
            ))
            .respond_with(responses::json(json!({
                "access_token": "sa-access",
                "expires_in": 1_209_600,
                "token_type": "Bearer",
            })))
            .expect(1)
            .mount(webex.server())
            .await;
        Mock::given(m::method("GET"))
            .and(m::path("/dataSources/schemas"))
            .and(m::bearer_token("sa-access"))
            .respond_with(responses::page(
                vec![json!({
                    "id": "5397013b-7920-4ffc-807c-e8a3e0a18f43",
                    "serviceType": "VA",
                    "protocol": "GRPC",
                })],
                None,
            ))
            .expect(1)
            .mount(webex.server())
            .await;
        let storage = Arc::new(MemoryTokenStorage::new());
        let byova = Byova::builder(
            IntegrationCredentials::new("int-id", "int-secret"),
            ServiceAppCredentials::new("sa-id", "sa-secret"),
        )
        .client(
            webex
                .client_builder()
                .retry_policy(RetryPolicy::disabled())
                .build()
                .unwrap(),
        )
        .storage(storage.clone())
        .build()
        .unwrap();
        let org: OrgId = "63b02f90-0be4-4b43-9e78-cad425ac554c".parse().unwrap();

        let schemas = register_and_list_schemas(&byova, &org, Secret::new("sandbox-refresh"))
            .await
            .unwrap();
        assert_eq!(schemas.len(), 1);
        assert_eq!(schemas[0].id, "5397013b-7920-4ffc-807c-e8a3e0a18f43");
        assert_eq!(schemas[0].service_type.as_deref(), Some("VA"));
        // The registration is stored, with the refresh token kept for later refreshes.
        let stored = storage.service_app_tokens(&org).await.unwrap().unwrap();
        assert_eq!(stored.access_token.expose(), "sa-access");
        assert_eq!(
            stored.refresh_token.as_ref().map(Secret::expose),
            Some("sandbox-refresh")
        );
        webex.verify().await;
    }
}
