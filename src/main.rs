//! The `par-monitor` binary: parse the command line, run it, exit.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    par_monitor::cli::run(par_monitor::cli::Cli::parse()).await
}
