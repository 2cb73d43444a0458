//! `api hash-token`: the findings API's tokens are stored as hashes.

use clap::Subcommand;

use super::error::{CliError, CliResult};

#[derive(Debug, Subcommand)]
pub enum ApiCommand {
    /// Read a token on standard input and print the SHA-256 to put in
    /// `[api] tokens` (the token itself is never stored).
    HashToken,
}

/// `par-monitor api …`.
pub fn run(command: ApiCommand) -> CliResult {
    match command {
        ApiCommand::HashToken => hash_token(),
    }
}

fn hash_token() -> CliResult {
    let mut token = String::new();
    if std::io::stdin().read_line(&mut token).is_err() || token.trim().is_empty() {
        return Err(CliError::usage("give the token on standard input"));
    }
    println!("{}", crate::api::hash_token(&token));
    Ok(())
}
