//! `byova auth login|status`.

use std::time::Duration;

use byova::TokenStore;
use byova::auth::DEFAULT_REFRESH_BUFFER;
use byova::models::{OAuthTokens, OrgId};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{AuthCommand, LoginArgs};
use crate::context::Context;
use crate::exit::CliError;
use crate::output::{self, Output};

/// Runs `byova auth …`.
pub async fn run(ctx: &Context, command: AuthCommand) -> Result<(), CliError> {
    match command {
        AuthCommand::Login(args) => login(ctx, args).await,
        AuthCommand::Status => status(ctx).await,
    }
}

/// The browser flow: print the URL, wait for the redirect on the local listener, exchange and
/// store the code.
async fn login(ctx: &Context, args: LoginArgs) -> Result<(), CliError> {
    if ctx.token_store()? == TokenStore::Memory {
        return Err(CliError::usage(
            "the memory token store forgets the tokens when byova exits: log in with \
             --token-store file:PATH or redis://…",
        ));
    }
    let byova = ctx.facade().await?;
    let integration = byova.integration();
    let mut request = integration.authorization_request()?.pkce(!args.no_pkce);
    if !args.scopes.is_empty() {
        request = request.scopes(args.scopes);
    }
    let request = request.build()?;
    let redirect_uri = request.redirect_uri().clone();
    let tokens = integration
        .authorize(&request, args.timeout, |url| {
            eprintln!(
                "Open this URL in a browser and authorize the Integration:\n\n  {url}\n\n\
                 Waiting up to {}s for the redirect to {redirect_uri} …",
                args.timeout.as_secs()
            );
        })
        .await?;
    let status = TokenSummary::of(&tokens, OffsetDateTime::now_utc());
    let out = ctx.output();
    if out.json {
        return out.json(&status);
    }
    output::line(format!(
        "Signed in; tokens stored in {}.",
        ctx.token_store()?
    ));
    print_summary("", &status);
    Ok(())
}

/// What the stored tokens are good for, read straight from the store (no credentials needed).
async fn status(ctx: &Context) -> Result<(), CliError> {
    let store = ctx.token_store()?;
    let storage = store.open().await?;
    let now = OffsetDateTime::now_utc();
    let integration = storage
        .integration_tokens()
        .await?
        .map(|tokens| TokenSummary::of(&tokens, now));
    let mut service_apps = Vec::new();
    for org in storage.registered_orgs().await? {
        if let Some(tokens) = storage.service_app_tokens(&org).await? {
            service_apps.push(OrgSummary {
                org_id: org,
                tokens: TokenSummary::of(&tokens, now),
            });
        }
    }
    let report = StatusReport {
        token_store: store.to_string(),
        integration,
        service_apps,
    };
    print_status(ctx.output(), &report)
}

/// Tokens described without their values.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenSummary {
    #[serde(with = "time::serde::rfc3339")]
    obtained_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    access_token_expires_at: OffsetDateTime,
    access_token_valid: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    refresh_token_expires_at: Option<OffsetDateTime>,
    refreshable: bool,
    scope: Option<String>,
}

impl TokenSummary {
    fn of(tokens: &OAuthTokens, now: OffsetDateTime) -> Self {
        Self {
            obtained_at: tokens.obtained_at,
            access_token_expires_at: tokens.expires_at(),
            access_token_valid: !tokens.is_expired_at(now, DEFAULT_REFRESH_BUFFER),
            refresh_token_expires_at: tokens.refresh_token_expires_at(),
            refreshable: tokens.can_refresh_at(now, Duration::ZERO),
            scope: tokens.scope.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OrgSummary {
    org_id: OrgId,
    #[serde(flatten)]
    tokens: TokenSummary,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusReport {
    token_store: String,
    integration: Option<TokenSummary>,
    service_apps: Vec<OrgSummary>,
}

fn print_status(out: Output, report: &StatusReport) -> Result<(), CliError> {
    if out.json {
        return out.json(report);
    }
    output::line(format!("Token store: {}", report.token_store));
    match &report.integration {
        Some(summary) => {
            output::line("Integration: signed in");
            print_summary("  ", summary);
        }
        None => output::line("Integration: not signed in (run `byova auth login`)"),
    }
    if report.service_apps.is_empty() {
        output::line("Service App: no org registered");
        return Ok(());
    }
    output::line(format!(
        "Service App: {} org(s) registered",
        report.service_apps.len()
    ));
    let rows: Vec<Vec<String>> = report
        .service_apps
        .iter()
        .map(|org| {
            vec![
                org.org_id.to_string(),
                access_state(&org.tokens),
                refresh_state(&org.tokens),
            ]
        })
        .collect();
    output::write_stdout("\n");
    output::table(&["ORG", "ACCESS TOKEN", "REFRESH TOKEN"], &rows);
    Ok(())
}

fn print_summary(indent: &str, summary: &TokenSummary) {
    output::line(format!("{indent}access token:  {}", access_state(summary)));
    output::line(format!("{indent}refresh token: {}", refresh_state(summary)));
    if let Some(scope) = &summary.scope {
        output::line(format!("{indent}scopes:        {scope}"));
    }
}

fn access_state(summary: &TokenSummary) -> String {
    let validity = if summary.access_token_valid {
        "valid"
    } else {
        "expired"
    };
    format!(
        "{validity}, expires {}",
        output::time(summary.access_token_expires_at)
    )
}

fn refresh_state(summary: &TokenSummary) -> String {
    match (summary.refreshable, summary.refresh_token_expires_at) {
        (true, Some(at)) => format!("valid, expires {}", output::time(at)),
        (true, None) => "valid (expiry unknown)".to_owned(),
        (false, Some(at)) => format!("expired {}", output::time(at)),
        (false, None) => "none".to_owned(),
    }
}
