//! `byova jws verify`.

use std::io::Read as _;

use byova::jws::Verifier;

use crate::cli::{JwsCommand, VerifyArgs};
use crate::context::Context;
use crate::exit::CliError;

/// Runs `byova jws …`.
pub async fn run(ctx: &Context, command: JwsCommand) -> Result<(), CliError> {
    match command {
        JwsCommand::Verify(args) => verify(ctx, args).await,
    }
}

/// Verifies the token the way the media server does and prints its claims as JSON (always
/// JSON: the claims are the output).
async fn verify(ctx: &Context, args: VerifyArgs) -> Result<(), CliError> {
    let token = if args.token == "-" {
        let mut token = String::new();
        std::io::stdin()
            .read_to_string(&mut token)
            .map_err(|error| {
                CliError::usage(format!("cannot read the token from stdin: {error}"))
            })?;
        token
    } else {
        args.token
    };
    let mut builder = Verifier::builder(args.datasource_url).http_client(ctx.client()?);
    if let Some(schema_uuid) = args.schema_uuid {
        builder = builder.schema_uuid(schema_uuid);
    }
    if !args.regions.is_empty() {
        builder = builder.regions(args.regions);
    }
    for issuer in args.issuers {
        builder = builder.issuer(issuer);
    }
    if let Some(audience) = args.audience {
        builder = builder.audience(audience);
    }
    let verifier = builder.build()?;
    let claims = verifier.verify(token.trim()).await?;
    // The claims are the token's payload; nothing in it is secret.
    let out = ctx.output();
    crate::output::Output {
        show_secrets: true,
        ..out
    }
    .json(&claims)
}
