//! `byova`: Webex Contact Center BYOVA / BYODS from the command line — sign in, manage data
//! sources, schemas and webhooks, verify a JWS, keep the data source fresh.
//!
//! One module per command group; [`cli`] holds the clap types, [`context`] turns the global
//! options into clients, [`output`] prints, [`exit`] maps failures to exit statuses.

mod auth;
mod cli;
mod context;
mod datasources;
mod exit;
mod jws;
mod keeper;
mod logging;
mod output;
mod schemas;
mod serve;
mod simulate;
mod webhooks;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command};
use crate::context::Context;
use crate::exit::CliError;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return exit::clap_exit(&error),
    };
    logging::init(cli.global.verbose);
    let json = cli.global.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the Tokio runtime: {error}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            error.report(json);
            error.exit_code()
        }
    }
}

/// Runs one command.
async fn run(cli: Cli) -> Result<(), CliError> {
    let ctx = Context::new(cli.global);
    match cli.command {
        Command::Auth(command) => auth::run(&ctx, command).await,
        Command::Datasources(command) => datasources::run(&ctx, command).await,
        Command::Schemas(command) => schemas::run(&ctx, command).await,
        Command::Webhooks(command) => webhooks::run(&ctx, command).await,
        Command::Jws(command) => jws::run(&ctx, command).await,
        Command::Keeper(args) => keeper::run(&ctx, args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Simulate(args) => simulate::run(&ctx, args).await,
    }
}
