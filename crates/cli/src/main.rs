//! The `stepwise` command.
//!
//! Subcommands live in their own modules; this file only parses arguments and maps outcomes to
//! exit codes (0 success, 1 the subject is invalid or failed, 2 usage or IO error).

mod graph;
mod run;
mod serve;
mod sfn_local;
mod store;
mod tls;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// JSON-heavy work allocates many small values; mimalloc keeps that cheap.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "stepwise",
    version,
    about = "Run AWS Step Functions state machines anywhere"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a state machine in-process and print its result as JSON.
    Run(run::Args),
    /// Check state machine definitions as AWS's CreateStateMachine would.
    Validate(validate::Args),
    /// Draw a state machine as Mermaid, Graphviz DOT or SVG.
    Graph(graph::Args),
    /// Serve the Step Functions API (AWS JSON 1.0) on a port, durable on a SQLite store.
    Serve(serve::Args),
    /// Look after a SQLite store: `backup FILE` copies a live one.
    #[command(subcommand)]
    Store(store::Command),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse_from(sfn_local::long_forms(std::env::args())) {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout with success, usage errors to stderr.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Store(command) => store::run(&command),
        Command::Graph(args) => graph::run(&args),
    }
}
