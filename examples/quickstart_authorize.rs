//! Step one of a BYOVA deployment: authorize your Webex Integration in a browser, store its
//! tokens, and make sure the Service App webhooks exist.
//!
//! The Integration (created at developer.webex.com) is what your server acts as; once a Control
//! Hub admin has authorized it, the SDK mints Service App tokens for every customer org that
//! authorizes your Service App, and refreshes everything on its own.
//!
//! What it does:
//!
//! 1. `Byova::from_env()` reads the `WEBEX_*` variables below.
//! 2. It prints the authorization URL (with PKCE), listens on the Integration's redirect URI,
//!    and waits up to five minutes for the browser to come back; the code is exchanged and the
//!    tokens are stored in `WEBEX_TOKEN_STORE`.
//! 3. With `WEBEX_WEBHOOK_TARGET_URL` and `WEBEX_WEBHOOK_SECRET` set, it creates (or repairs) the
//!    Service App `authorized` / `deauthorized` webhooks pointing there (see
//!    `webhook_receiver`).
//!
//! Environment:
//!
//! | variable | |
//! | --- | --- |
//! | `WEBEX_INTEGRATION_CLIENT_ID`, `WEBEX_INTEGRATION_CLIENT_SECRET` | required: the Integration |
//! | `WEBEX_SA_CLIENT_ID`, `WEBEX_SA_CLIENT_SECRET` | required: the Service App |
//! | `WEBEX_INTEGRATION_REDIRECT_URI` | default `http://127.0.0.1:8765/callback`; must be registered on the Integration |
//! | `WEBEX_TOKEN_STORE` | `file:PATH` or `redis://…` to keep the tokens (default `memory`: lost at exit) |
//! | `WEBEX_WEBHOOK_TARGET_URL`, `WEBEX_WEBHOOK_SECRET` | optional: the webhooks |
//!
//! Try it:
//!
//! ```text
//! export WEBEX_INTEGRATION_CLIENT_ID=… WEBEX_INTEGRATION_CLIENT_SECRET=…
//! export WEBEX_SA_CLIENT_ID=… WEBEX_SA_CLIENT_SECRET=…
//! export WEBEX_TOKEN_STORE=file:$HOME/.config/byova/tokens.json
//! cargo run --example quickstart_authorize
//! ```
//!
//! Without the required variables it stops at once and names the missing ones.

use std::time::Duration;

use anyhow::Context as _;
use byova::{Byova, Config, TokenStore};

/// How long to wait for the browser.
const REDIRECT_TIMEOUT: Duration = Duration::from_secs(300);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let config = Config::from_env()
        .context("this example needs Webex credentials in the environment (see its doc comment)")?;
    if config.token_store == TokenStore::Memory {
        tracing::warn!(
            "WEBEX_TOKEN_STORE is not set: the tokens live in memory and are lost when this \
             example exits (set it to file:PATH to keep them)"
        );
    }
    let byova = Byova::from_config(config).await?;
    let integration = byova.integration();

    let request = integration.authorization_request()?.pkce(true).build()?;
    let tokens = integration
        .authorize(&request, REDIRECT_TIMEOUT, |url| {
            tracing::info!(
                "open this URL in a browser and sign in as a Control Hub admin:\n\n    {url}\n"
            );
        })
        .await
        .context("the Integration was not authorized")?;
    // Tokens never appear in logs: show what they are good for instead.
    tracing::info!(
        expires_at = %tokens.expires_at(),
        refreshable = tokens.refresh_token.is_some(),
        scope = tokens.scope.as_deref().unwrap_or("-"),
        "the Integration is authorized and its tokens are stored"
    );

    match byova.webhook_target_url() {
        Some(target) => {
            let target = target.to_owned();
            for ensured in byova
                .ensure_service_app_webhooks(&target)
                .await
                .context("the Service App webhooks could not be set up")?
            {
                tracing::info!(
                    event = ensured.event,
                    id = ensured.webhook.id,
                    change = ?ensured.change,
                    "Service App webhook ready"
                );
            }
        }
        None => tracing::info!(
            "WEBEX_WEBHOOK_TARGET_URL is not set: no webhooks created (orgs can also be \
             registered by hand, see the manual_token example)"
        ),
    }
    Ok(())
}
