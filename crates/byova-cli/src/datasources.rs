//! `byova datasources list|get|create|update|renew|delete`.

use byova::api::new_nonce;
use byova::models::{DataSource, DataSourceCreate, DataSourceStatus, DataSourceUpdate};
use serde_json::json;

use crate::cli::{
    CreateDatasourceArgs, DatasourcesCommand, RenewDatasourceArgs, StatusArg, UpdateDatasourceArgs,
};
use crate::context::Context;
use crate::exit::CliError;
use crate::output::{self, Output};

/// Runs `byova datasources …`.
pub async fn run(ctx: &Context, command: DatasourcesCommand) -> Result<(), CliError> {
    if let DatasourcesCommand::Update(args) = &command {
        // Refuse before asking for credentials or sending anything.
        update_body(args)?;
    }
    let data_sources = ctx.data_sources().await?;
    let out = ctx.output();
    match command {
        DatasourcesCommand::List => {
            let all = data_sources.list().await?;
            print_list(out, &all)
        }
        DatasourcesCommand::Get(args) => print_one(out, &data_sources.get(&args.id).await?),
        DatasourcesCommand::Create(args) => {
            print_one(out, &data_sources.create(&create_body(args)).await?)
        }
        DatasourcesCommand::Update(args) => {
            let body = update_body(&args)?;
            print_one(out, &data_sources.update(&args.id, &body).await?)
        }
        DatasourcesCommand::Renew(RenewDatasourceArgs {
            id,
            token_lifetime_minutes,
        }) => print_one(
            out,
            &data_sources
                .renew_by_id(&id, token_lifetime_minutes)
                .await?,
        ),
        DatasourcesCommand::Delete(args) => {
            data_sources.delete(&args.id).await?;
            if out.json {
                out.json(&json!({ "id": args.id, "deleted": true }))
            } else {
                output::line(format!("Deleted data source {}.", args.id));
                Ok(())
            }
        }
    }
}

fn create_body(args: CreateDatasourceArgs) -> DataSourceCreate {
    DataSourceCreate::new(
        args.schema_id,
        args.url,
        args.audience,
        args.subject,
        args.nonce.unwrap_or_else(new_nonce),
        args.token_lifetime_minutes,
    )
}

fn update_body(args: &UpdateDatasourceArgs) -> Result<DataSourceUpdate, CliError> {
    let body = DataSourceUpdate {
        audience: args.audience.clone(),
        subject: args.subject.clone(),
        nonce: args.nonce.clone(),
        schema_id: args.schema_id.clone(),
        url: args.url.clone(),
        token_lifetime_minutes: args.token_lifetime_minutes,
        status: args.status.map(|status| match status {
            StatusArg::Active => DataSourceStatus::Active,
            StatusArg::Disabled => DataSourceStatus::Disabled,
        }),
        error_message: args.error_message.clone(),
        ..DataSourceUpdate::default()
    };
    if body == DataSourceUpdate::default() {
        return Err(CliError::usage(
            "nothing to update: give at least one of --url, --schema-id, --audience, --subject, \
             --nonce, --token-lifetime-minutes, --status, --error-message",
        ));
    }
    Ok(body)
}

fn status_text(status: Option<&DataSourceStatus>) -> String {
    output::cell(status.map(DataSourceStatus::as_str))
}

fn print_list(out: Output, all: &[DataSource]) -> Result<(), CliError> {
    if out.json {
        return out.json(all);
    }
    if all.is_empty() {
        output::line("No data sources.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|ds| {
            vec![
                ds.id.clone(),
                status_text(ds.status.as_ref()),
                output::cell(ds.schema_id.as_deref()),
                ds.token_expiry_time
                    .map_or_else(|| "-".to_owned(), output::time),
                output::cell(ds.url.as_deref()),
            ]
        })
        .collect();
    output::table(&["ID", "STATUS", "SCHEMA", "JWS EXPIRES", "URL"], &rows);
    Ok(())
}

fn print_one(out: Output, ds: &DataSource) -> Result<(), CliError> {
    if out.json {
        return out.json(ds);
    }
    let mut pairs = vec![
        ("id", Some(ds.id.clone())),
        ("status", ds.status.as_ref().map(|s| s.as_str().to_owned())),
        ("url", ds.url.clone()),
        ("schema id", ds.schema_id.clone()),
        ("audience", ds.audience.clone()),
        ("subject", ds.subject.clone()),
        ("nonce", ds.nonce.clone()),
        (
            "token lifetime",
            ds.token_lifetime_minutes.map(|m| format!("{m} min")),
        ),
        ("jws expires", ds.token_expiry_time.map(output::time)),
        (
            "jws token",
            ds.jws_token.as_ref().map(|jws| out.secret(jws.expose())),
        ),
        ("error message", ds.error_message.clone()),
        ("org id", ds.org_id.clone()),
        ("application id", ds.application_id.clone()),
        ("created by", ds.created_by.clone()),
        ("created at", ds.created_at.map(output::time)),
    ];
    for (name, value) in &ds.extra {
        pairs.push((name.as_str(), Some(value.to_string())));
    }
    output::fields(&pairs);
    Ok(())
}
