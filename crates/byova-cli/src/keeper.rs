//! `byova keeper`: the data-source keeper in the foreground, one line per event, until Ctrl-C
//! or SIGTERM.

use byova::auth::keeper::{DataSourceKeeper, KeeperConfig, KeeperState};
use serde_json::{Value, json};

use crate::cli::KeeperArgs;
use crate::context::Context;
use crate::exit::CliError;
use crate::output::{self, Output};

/// Runs `byova keeper`.
pub async fn run(ctx: &Context, args: KeeperArgs) -> Result<(), CliError> {
    if ctx.static_token().is_some() {
        return Err(CliError::usage(
            "the keeper runs for days and needs refreshable Service App tokens from the token \
             store: use --org (and `byova auth login` / a registered org) instead of --token",
        ));
    }
    let org = ctx.org()?.clone();
    let mut config = KeeperConfig::new(args.datasource_url)
        .with_schema_id(args.schema_id)
        .with_audience(args.audience)
        .with_subject(args.subject)
        .with_token_lifetime_minutes(args.token_lifetime_minutes)
        .with_renewal_lead(args.renewal_lead)
        .with_retry_interval(args.retry_interval);
    if let Some(id) = args.data_source_id {
        config = config.with_data_source_id(id);
    }
    // Bad values are the caller's to fix: report them as usage errors before any request.
    config
        .validate()
        .map_err(|error| CliError::usage(error.to_string()))?;

    let byova = ctx.facade().await?;
    let keeper = byova.keep_data_source(&org, config).await?;
    let out = ctx.output();
    let mut states = keeper.subscribe();
    let mut renewals = {
        let state = states.borrow_and_update();
        print_event(out, "started", &state)?;
        state.renewals
    };

    let stopped = shutdown_signal();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            changed = states.changed() => {
                if changed.is_err() {
                    // The keeper task ended on its own (it only does when stopped).
                    break;
                }
                let state = states.borrow_and_update().clone();
                if state.renewals > renewals {
                    renewals = state.renewals;
                    print_event(out, "renewed", &state)?;
                } else if state.last_error.is_some() {
                    print_event(out, "renewal_failed", &state)?;
                }
            }
            signal = &mut stopped => {
                tracing::info!(signal, "stopping the keeper");
                break;
            }
        }
    }
    stop(keeper).await?;
    if out.json {
        out.json_line(&json!({ "event": "stopped" }))
    } else {
        output::line("Stopped.");
        Ok(())
    }
}

async fn stop(keeper: DataSourceKeeper) -> Result<(), CliError> {
    Ok(keeper.stop().await?)
}

fn print_event(out: Output, event: &str, state: &KeeperState) -> Result<(), CliError> {
    let ds = &state.data_source;
    if out.json {
        let mut line = json!({
            "event": event,
            "dataSourceId": ds.id,
            "url": ds.url,
            "expiresAt": state.expires_at.map(output::time),
            "nextRenewalAt": output::time(state.next_renewal_at),
            "renewals": state.renewals,
        });
        if let Some(error) = &state.last_error {
            line["error"] = Value::String(byova::Error::from(error.clone()).to_string());
        }
        return out.json_line(&line);
    }
    let expires = state
        .expires_at
        .map_or_else(|| "an unknown time".to_owned(), output::time);
    let next = output::time(state.next_renewal_at);
    let text = match (event, &state.last_error) {
        ("started", _) => format!(
            "Keeping data source {} ({}): JWS expires {expires}; next renewal {next}.",
            ds.id,
            ds.url.as_deref().unwrap_or("-"),
        ),
        (_, Some(error)) if event == "renewal_failed" => format!(
            "Renewing data source {} failed: {}; retrying {next}.",
            ds.id,
            byova::Error::from(error.clone()),
        ),
        _ => format!(
            "Renewed data source {} (renewal {}): JWS expires {expires}; next renewal {next}.",
            ds.id, state.renewals,
        ),
    };
    output::line(text);
    Ok(())
}

/// Resolves with the signal's name on Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            },
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}
