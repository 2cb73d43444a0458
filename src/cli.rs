//! The command line. Each subcommand loads what it needs and calls into the
//! library; output for people is in Vietnamese where it shows data, and
//! errors go to standard error.
//!
//! Exit status: 0 success; 1 a runtime failure (database, upstream); 2
//! invalid configuration or usage. A command returns a `CliError` carrying
//! its status and the error with its causes; `run` alone prints it and
//! turns it into the exit status.
//!
//! One file per family of commands; `args` is the grammar. A new family is
//! a file with its subcommands and their code, a variant of `Command` and
//! an arm of `dispatch`.

mod api;
mod args;
mod config;
mod daemon;
mod digest;
mod error;
mod export;
mod findings;
mod indicators;
mod inspections;
mod load;
mod outbox;
mod output;
mod report;
mod rules;
mod silences;
mod simulate;
mod sources;
mod users;

use std::process::ExitCode;

pub use self::api::ApiCommand;
pub use self::args::{Cli, Command};
pub use self::config::{
    ConfigCommand, INSTALLED_CONFIG_PATH, InitArgs, InitTransport, config_path,
};
pub use self::digest::{DigestCommand, DigestKindArg, LangArg};
pub use self::error::{CliError, CliResult};
pub use self::export::{ExportCommand, TableFormat};
pub use self::findings::FindingsCommand;
pub use self::inspections::InspectionsCommand;
pub use self::outbox::{OutboxCommand, OutboxStatus};
pub use self::output::Format;
pub use self::rules::RulesCommand;
pub use self::silences::SilencesCommand;
pub use self::simulate::SimulateArgs;
pub use self::users::UsersCommand;

use self::load::{Logs, configured};

pub async fn run(cli: Cli) -> ExitCode {
    if !cli.command.runs_until_stopped() {
        sigpipe::reset();
    }
    match dispatch(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.exit(),
    }
}

async fn dispatch(cli: Cli) -> CliResult {
    let config = config_path(cli.config);
    match cli.command {
        Command::Completions { shell } => args::completions(shell),
        Command::Manpage => args::manpage(),
        Command::Run => daemon::run(configured(&config, Logs::Configured)?, Some(config)).await,
        Command::Check { format } => {
            daemon::check(configured(&config, Logs::Configured)?, format).await
        }
        Command::Migrate => daemon::migrate(&configured(&config, Logs::Configured)?).await,
        Command::Config {
            command: ConfigCommand::Check { quiet },
        } => config::check(&config, quiet),
        Command::Init(args) => config::init(&args),
        Command::Simulate(args) => simulate::simulate(args).await,
        Command::Demo { seed, now } => {
            simulate::demo(configured(&config, Logs::Configured)?, seed, now).await
        }
        Command::Sources { format } => {
            sources::sources(configured(&config, Logs::Quiet)?, format).await
        }
        Command::Poll { source, full } => {
            let settings = configured(&config, Logs::Configured)?;
            sources::poll(settings, source.as_deref(), full).await
        }
        Command::Quarantine { feed, format } => {
            let settings = configured(&config, Logs::Quiet)?;
            sources::quarantine(settings, feed.as_deref(), format).await
        }
        Command::Indicators {
            unit,
            period,
            format,
        } => {
            let settings = configured(&config, Logs::Quiet)?;
            indicators::indicators(settings, unit.as_deref(), period.as_deref(), format).await
        }
        Command::Export { command } => {
            export::run(configured(&config, Logs::Quiet)?, command).await
        }
        Command::Report { unit, period, to } => {
            let settings = configured(&config, Logs::Quiet)?;
            report::report(settings, &unit, period.as_deref(), &to).await
        }
        Command::Score766 { counts, format } => indicators::score766(&counts, format),
        Command::Digest { command } => {
            digest::run(configured(&config, Logs::Quiet)?, command).await
        }
        Command::Findings { command } => {
            findings::run(configured(&config, Logs::Quiet)?, command).await
        }
        Command::Silences { command } => {
            silences::run(configured(&config, Logs::Quiet)?, command).await
        }
        Command::Inspections { command } => {
            inspections::run(configured(&config, Logs::Quiet)?, command).await
        }
        Command::Outbox { command } => {
            outbox::run(configured(&config, Logs::Quiet)?, command).await
        }
        Command::Rules { command } => rules::run(&config, command).await,
        Command::Api { command } => api::run(command),
        Command::Users { command } => users::run(configured(&config, Logs::Quiet)?, command).await,
    }
}
