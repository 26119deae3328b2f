//! `byova schemas list|get`.

use byova::models::Schema;

use crate::cli::SchemasCommand;
use crate::context::Context;
use crate::exit::CliError;
use crate::output::{self, Output};

/// Runs `byova schemas …`.
pub async fn run(ctx: &Context, command: SchemasCommand) -> Result<(), CliError> {
    let schemas = ctx.schemas().await?;
    let out = ctx.output();
    match command {
        SchemasCommand::List => print_list(out, &schemas.list().await?),
        SchemasCommand::Get(args) => print_one(out, &schemas.get(&args.id).await?),
    }
}

fn print_list(out: Output, all: &[Schema]) -> Result<(), CliError> {
    if out.json {
        return out.json(all);
    }
    if all.is_empty() {
        output::line("No schemas.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|schema| {
            vec![
                schema.id.clone(),
                output::cell(schema.service_type.as_deref()),
                output::cell(schema.protocol.as_deref()),
                output::cell(schema.app_type.as_deref()),
                output::cell(schema.url.as_deref()),
            ]
        })
        .collect();
    output::table(
        &["ID", "SERVICE TYPE", "PROTOCOL", "APP TYPE", "URL"],
        &rows,
    );
    Ok(())
}

fn print_one(out: Output, schema: &Schema) -> Result<(), CliError> {
    if out.json {
        return out.json(schema);
    }
    let mut pairs = vec![
        ("id", Some(schema.id.clone())),
        ("service type", schema.service_type.clone()),
        ("protocol", schema.protocol.clone()),
        ("app type", schema.app_type.clone()),
        ("url", schema.url.clone()),
        ("created at", schema.created_at.map(output::time)),
    ];
    for (name, value) in &schema.extra {
        pairs.push((name.as_str(), Some(value.to_string())));
    }
    output::fields(&pairs);
    Ok(())
}
