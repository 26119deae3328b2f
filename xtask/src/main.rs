//! Project automation for byova-rs: `cargo xtask <command>`.
//!
//! Every command runs from the workspace root, whatever the current directory.

mod check;
mod ci;
mod codegen;
mod fixtures;
mod loadtest;
mod python;
mod sh;
mod soak;
mod test;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "xtask", about = "byova-rs project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Regenerate the gRPC code under crates/byova-media/src/generated from proto/.
    Codegen {
        /// Fail instead of writing when the committed code differs from fresh output.
        #[arg(long)]
        check: bool,
    },
    /// Layering, umbrella-feature reachability and stale-codegen checks.
    Check,
    /// Install what the tests need (redis-server) when missing, then run every test.
    Test {
        /// Extra arguments passed to the test runner (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Regenerate the spoken test fixtures under tests/fixtures with espeak-ng.
    Fixtures,
    /// Capacity of `byova serve` and of the Python grpc.aio baseline under rising load; appends
    /// the table to BENCHMARKS.md.
    Loadtest(loadtest::LoadtestArgs),
    /// `byova serve` under steady load at half capacity (10 minutes): flat memory, no errors, no
    /// leftover conversations; appends the result to BENCHMARKS.md.
    Soak(soak::SoakArgs),
    /// Run what CI runs, in the same order: fmt, clippy, check, doc, umbrella features, tests.
    Ci {
        /// Stop before the tests (`.ci/run` then runs the README's test command itself).
        #[arg(long)]
        skip_tests: bool,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    std::env::set_current_dir(sh::workspace_root())?;
    match cli.command {
        Command::Codegen { check } => codegen::run(check),
        Command::Check => check::run(),
        Command::Test { args } => test::run(&args),
        Command::Fixtures => fixtures::run(),
        Command::Ci { skip_tests } => ci::run(skip_tests),
        Command::Loadtest(args) => loadtest::run(&args),
        Command::Soak(args) => soak::run(&args),
    }
}
