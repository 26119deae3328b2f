//! `byova webhooks list|get|create|delete|ensure`.

use byova::auth::webhook::{WebhookChange, ensure_service_app_webhooks};
use byova::models::{Secret, Webhook, WebhookCreate};
use serde_json::json;

use crate::cli::{CreateWebhookArgs, EnsureWebhooksArgs, ListWebhooksArgs, WebhooksCommand};
use crate::context::Context;
use crate::exit::CliError;
use crate::output::{self, Output};

/// Runs `byova webhooks …`.
pub async fn run(ctx: &Context, command: WebhooksCommand) -> Result<(), CliError> {
    let out = ctx.output();
    match command {
        WebhooksCommand::List(ListWebhooksArgs { max, owned_by }) => {
            let mut request = ctx.webhooks().await?.list();
            if let Some(max) = max {
                request = request.max(max);
            }
            if let Some(owned_by) = owned_by {
                request = request.owned_by(owned_by);
            }
            print_list(out, &request.await?)
        }
        WebhooksCommand::Get(args) => print_one(out, &ctx.webhooks().await?.get(&args.id).await?),
        WebhooksCommand::Create(args) => {
            let body = create_body(args);
            print_one(out, &ctx.webhooks().await?.create(&body).await?)
        }
        WebhooksCommand::Delete(args) => {
            ctx.webhooks().await?.delete(&args.id).await?;
            if out.json {
                out.json(&json!({ "id": args.id, "deleted": true }))
            } else {
                output::line(format!("Deleted webhook {}.", args.id));
                Ok(())
            }
        }
        WebhooksCommand::Ensure(args) => ensure(ctx, args).await,
    }
}

fn create_body(args: CreateWebhookArgs) -> WebhookCreate {
    let mut body = WebhookCreate::new(args.name, args.target_url, args.resource, args.event);
    body.filter = args.filter;
    body.secret = args.secret.map(Secret::from);
    body.owned_by = args.owned_by;
    body
}

async fn ensure(ctx: &Context, args: EnsureWebhooksArgs) -> Result<(), CliError> {
    if args.secret.trim().is_empty() {
        return Err(CliError::usage(
            "the webhook secret is empty: Service App webhooks must be signed",
        ));
    }
    let integration = ctx.integration().await?;
    let ensured =
        ensure_service_app_webhooks(&integration, &args.target_url, &Secret::from(args.secret))
            .await
            .map_err(|error| {
                // The --token bearer has no refresh token: a 401 surfaces as "authorize again".
                if ctx.static_token().is_some() && error.is_reauthorization_required() {
                    CliError::Refused {
                        kind: "unauthorized",
                        message: "Webex refused the bearer given with --token (HTTP 401 \
                                  Unauthorized)"
                            .to_owned(),
                    }
                } else {
                    error.into()
                }
            })?;
    let out = ctx.output();
    if out.json {
        let report: Vec<_> = ensured
            .iter()
            .map(|hook| {
                json!({
                    "event": hook.event,
                    "change": change_name(hook.change),
                    "webhook": hook.webhook,
                })
            })
            .collect();
        return out.json(&report);
    }
    for hook in &ensured {
        output::line(format!(
            "{}: {} webhook {} -> {}",
            hook.event,
            change_name(hook.change),
            hook.webhook.id,
            hook.webhook
                .target_url
                .as_deref()
                .unwrap_or(&args.target_url),
        ));
    }
    Ok(())
}

fn change_name(change: WebhookChange) -> &'static str {
    match change {
        WebhookChange::Created => "created",
        WebhookChange::Repaired => "repaired",
        WebhookChange::Unchanged => "unchanged",
        _ => "changed",
    }
}

fn print_list(out: Output, all: &[Webhook]) -> Result<(), CliError> {
    if out.json {
        return out.json(all);
    }
    if all.is_empty() {
        output::line("No webhooks.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|hook| {
            vec![
                hook.id.clone(),
                output::cell(hook.name.as_deref()),
                output::cell(hook.resource.as_deref()),
                output::cell(hook.event.as_deref()),
                output::cell(hook.status.as_ref().map(|s| s.as_str())),
                output::cell(hook.target_url.as_deref()),
            ]
        })
        .collect();
    output::table(
        &["ID", "NAME", "RESOURCE", "EVENT", "STATUS", "TARGET URL"],
        &rows,
    );
    Ok(())
}

fn print_one(out: Output, hook: &Webhook) -> Result<(), CliError> {
    if out.json {
        return out.json(hook);
    }
    let mut pairs = vec![
        ("id", Some(hook.id.clone())),
        ("name", hook.name.clone()),
        ("resource", hook.resource.clone()),
        ("event", hook.event.clone()),
        (
            "status",
            hook.status.as_ref().map(|s| s.as_str().to_owned()),
        ),
        ("target url", hook.target_url.clone()),
        ("filter", hook.filter.clone()),
        (
            "secret",
            hook.secret.as_ref().map(|s| out.secret(s.expose())),
        ),
        ("owned by", hook.owned_by.clone()),
        ("org id", hook.org_id.clone()),
        ("app id", hook.app_id.clone()),
        ("created by", hook.created_by.clone()),
        ("created", hook.created.map(output::time)),
    ];
    for (name, value) in &hook.extra {
        pairs.push((name.as_str(), Some(value.to_string())));
    }
    output::fields(&pairs);
    Ok(())
}
