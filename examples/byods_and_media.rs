//! A real deployment in one process: the BYODS data-source keeper and the BYOVA media server,
//! with every call authenticated by the JWS Webex attaches to it.
//!
//! How the pieces fit:
//!
//! 1. The **data source** registered with Webex (schema "Voice Virtual Agent") holds your media
//!    server's URL; Webex mints a JWS for it that expires (at most after 24 hours).
//! 2. The **keeper** ([`Byova::keep_data_source`]) adopts that data source (or registers it), and
//!    renews it before each expiry so Webex always has a valid JWS to send.
//! 3. Webex puts the JWS in the `authorization` metadata of every call. The **media server**
//!    built by [`Byova::media_server`] verifies it against the same data-source URL (issuer, key,
//!    expiry, URL and schema claims) before any agent code runs; the verified claims reach the
//!    agent through `Context::claims`.
//!
//! Environment:
//!
//! | variable | |
//! | --- | --- |
//! | `WEBEX_INTEGRATION_CLIENT_ID`, `WEBEX_INTEGRATION_CLIENT_SECRET` | required: the Integration |
//! | `WEBEX_SA_CLIENT_ID`, `WEBEX_SA_CLIENT_SECRET` | required: the Service App |
//! | `WEBEX_ORG_ID` | required: the customer org whose data source is kept |
//! | `WEBEX_DATASOURCE_URL` | required: this server's public URL, as registered (e.g. `https://va.example.com:443`) |
//! | `WEBEX_TOKEN_STORE` | where the org's tokens are: `file:PATH` or `redis://…` (register the org first: `webhook_receiver` or `manual_token`) |
//! | `WEBEX_REGION` | optional: accept only that region's Webex issuers (`us`, `eu`, `ca`) |
//!
//! Try it:
//!
//! ```text
//! export WEBEX_INTEGRATION_CLIENT_ID=… WEBEX_INTEGRATION_CLIENT_SECRET=…
//! export WEBEX_SA_CLIENT_ID=… WEBEX_SA_CLIENT_SECRET=…
//! export WEBEX_ORG_ID=… WEBEX_DATASOURCE_URL=https://va.example.com:443
//! export WEBEX_TOKEN_STORE=file:$HOME/.config/byova/tokens.json
//! cargo run --example byods_and_media                  # gRPC on 0.0.0.0:50051
//! ```
//!
//! Webex reaches the server over TLS: terminate it in front (see `docs/`) or add
//! `.tls(TlsConfig::from_pem_files(…))` to the builder. Without the required variables the
//! example stops at once and names the missing ones.

use std::net::SocketAddr;

use anyhow::Context as _;
use byova::Byova;
use byova::auth::keeper::{DataSourceKeeper, KeeperConfig};
use byova::media::{
    AgentConfig, AgentResult, Context, Dtmf, Reply, RunningServer, SessionStart, VirtualAgent,
};
use byova::models::OrgId;

/// An agent that knows the call was verified.
struct Verified;

impl VirtualAgent for Verified {
    type State = ();

    async fn on_session_start(&self, ctx: &mut Context<'_, ()>, _: SessionStart) -> AgentResult {
        // Present whenever authentication is on: the server refused the call otherwise.
        let org = ctx
            .claims()
            .and_then(|claims| claims.get("com.cisco.datasource.orgid"))
            .and_then(|org| org.as_str())
            .unwrap_or("an unknown org");
        tracing::info!(
            conversation_id = ctx.conversation_id(),
            org,
            "verified call"
        );
        Ok(Reply::say(
            "Hello! Your call reached a verified media server. Press any key to hang up.",
        ))
    }

    async fn on_dtmf(&self, _: &mut Context<'_, ()>, _: Dtmf) -> AgentResult {
        Ok(Reply::say("Goodbye!").end_session())
    }
}

/// Starts the keeper for `org`'s data source, then the media server on `addr` verifying calls
/// against the same data-source URL.
async fn start(
    byova: &Byova,
    org: &OrgId,
    addr: SocketAddr,
) -> anyhow::Result<(DataSourceKeeper, RunningServer)> {
    let url = byova
        .datasource_url()
        .context("WEBEX_DATASOURCE_URL is not set (see the doc comment of this example)")?
        .to_owned();
    let keeper = byova
        .keep_data_source(org, KeeperConfig::new(&url))
        .await
        .context("the data source could not be adopted or registered")?;
    let state = keeper.state();
    tracing::info!(
        data_source = state.data_source.id,
        url,
        expires_at = ?state.expires_at,
        next_renewal_at = %state.next_renewal_at,
        "keeping the data source"
    );
    // The facade's builder verifies the JWS for `url` (`WEBEX_DATASOURCE_URL`).
    let server = byova
        .media_server()
        .addr(addr)
        .agent(AgentConfig::new("verified", Verified).name("Verified demo"))
        .build()?
        .bind()
        .await?;
    Ok((keeper, server))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let org: OrgId = std::env::var("WEBEX_ORG_ID")
        .ok()
        .filter(|org| !org.trim().is_empty())
        .context("WEBEX_ORG_ID is not set (see the doc comment of this example)")?
        .trim()
        .parse()
        .context("WEBEX_ORG_ID is not an org id")?;
    let byova = Byova::from_env()
        .await
        .context("this example needs Webex credentials in the environment (see its doc comment)")?;
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "0.0.0.0:50051".to_owned())
        .parse()?;

    let (keeper, server) = start(&byova, &org, addr).await?;
    tracing::info!(addr = %server.local_addr(), "serving verified calls; Ctrl-C stops");
    tokio::signal::ctrl_c().await?;
    // Running turns may finish; then the keeper stops (the data source stays registered).
    server.shutdown().await?;
    keeper.stop().await?;
    Ok(())
}
