//! The `custodian` binary: command-line parsing, telemetry and configuration; all work happens in the library.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "custodian", version, about = "Governance and lineage catalog")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the table and column lineage of SQL (see LINEAGE.md).
    Lineage(custodian::commands::lineage::LineageArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Lineage(args) => custodian::commands::lineage::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
