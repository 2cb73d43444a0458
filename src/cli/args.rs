//! The command line's grammar: the global options and one variant per
//! command. A family of subcommands declares its own (`findings::
//! FindingsCommand` and so on) beside the code that runs it.

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

use super::api::ApiCommand;
use super::config::{ConfigCommand, InitArgs};
use super::digest::DigestCommand;
use super::error::{CliError, CliResult};
use super::export::ExportCommand;
use super::findings::FindingsCommand;
use super::inspections::InspectionsCommand;
use super::outbox::OutboxCommand;
use super::output::Format;
use super::rules::RulesCommand;
use super::silences::SilencesCommand;
use super::simulate::SimulateArgs;
use super::users::UsersCommand;

#[derive(Debug, Parser)]
#[command(
    name = "par-monitor",
    version,
    about = "Continuous monitoring of administrative reform (CCHC) and procedure control (TTHC)"
)]
pub struct Cli {
    /// Configuration file. Default: $PARMON_CONFIG, else
    /// config/par-monitor.toml when it exists (a checkout), else
    /// /etc/par-monitor/par-monitor.toml (an installed system).
    #[arg(long, global = true, env = "PARMON_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon until SIGTERM or SIGINT.
    Run,
    /// Print the shell completion script for SHELL (the package installs
    /// bash, zsh and fish ones).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), as the package installs it.
    Manpage,
    /// Poll every source once, evaluate, print the active findings and exit.
    Check {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Serve a simulated province's upstream systems over HTTP (dossiers,
    /// petitions, documents, reports, 766 scores, the unit directory).
    Simulate(SimulateArgs),
    /// List each source with its health, freshness, records and quarantine.
    Sources {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Poll now (every enabled source, or one), showing progress.
    Poll {
        /// procedures, documents, reports, portal or units.
        source: Option<String>,
        /// Fetch everything and reconcile deletions instead of only changes.
        #[arg(long)]
        full: bool,
    },
    /// List records kept aside because they could not be mapped.
    Quarantine {
        /// Only this feed, e.g. procedures.dossiers.
        #[arg(long)]
        feed: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Indicators and the Decision 766 index of a period, per unit.
    Indicators {
        /// One unit only (the province aggregate is always shown first).
        #[arg(long)]
        unit: Option<String>,
        /// 2026-08, 2026-Q3, 2026, 2026-YTD-08, W2026-08 (reporting window), R30D-20260820; default: this month.
        #[arg(long)]
        period: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Findings or a period's indicators as an Excel workbook or CSV.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// A unit's inspection report for a period, as a Word document (.docx).
    Report {
        #[arg(long)]
        unit: String,
        /// As for `indicators`; default: this month.
        #[arg(long)]
        period: Option<String>,
        #[arg(long, value_name = "FILE.docx")]
        to: PathBuf,
    },
    /// Digests for leadership, the inspection team and unit heads.
    Digest {
        #[command(subcommand)]
        command: DigestCommand,
    },
    /// Compute the Decision 766 index from counts, to reproduce or explain a score.
    Score766 {
        /// JSON: {"units":[{"code","name","counts":{"ON_TIME":[num,den],…},"ONLINE_SERVICES":8.83}]}
        #[arg(long)]
        counts: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Findings: list, show with the audit trail, acknowledge, silence, resolve.
    Findings {
        #[command(subcommand)]
        command: FindingsCommand,
    },
    /// Risk per unit and proposals for unannounced inspection (confidential).
    Inspections {
        #[command(subcommand)]
        command: InspectionsCommand,
    },
    /// The findings API.
    Api {
        #[command(subcommand)]
        command: ApiCommand,
    },
    /// Silences that match findings by rule, unit or unit kind.
    Silences {
        #[command(subcommand)]
        command: SilencesCommand,
    },
    /// Rules: validate a rules file, or replay one against stored history.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// The e-mail outbox: list what is queued, sent or dead; requeue one.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// The web console's accounts: add, list, disable, set a password.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Write a configuration for this installation (by default over the
    /// packaged /etc/par-monitor/par-monitor.toml), checked before it is
    /// written. Afterwards: `systemctl enable --now par-monitor`.
    Init(InitArgs),
    /// Run the simulator and the daemon together on embedded defaults.
    Demo {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Start the demo's clock (the daemon's and the simulator's present)
        /// at this moment, e.g. 2026-12-01T08:00:00+07:00, to see any day of
        /// the month; time then runs on from it. Default: now.
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::Utc>>,
    },
}

impl Command {
    /// The commands that run until stopped. A tool whose output goes into
    /// `head` or `less` ends quietly when the reader goes away, as Unix
    /// tools do; these keep Rust's default (the signal ignored), so that a
    /// closed log pipe never kills them.
    pub fn runs_until_stopped(&self) -> bool {
        matches!(
            self,
            Command::Run | Command::Demo { .. } | Command::Simulate(_)
        )
    }
}

/// `par-monitor completions SHELL`.
pub fn completions(shell: clap_complete::Shell) -> CliResult {
    clap_complete::generate(
        shell,
        &mut Cli::command(),
        "par-monitor",
        &mut std::io::stdout(),
    );
    Ok(())
}

/// `par-monitor manpage`.
pub fn manpage() -> CliResult {
    clap_mangen::Man::new(Cli::command())
        .render(&mut std::io::stdout())
        .map_err(CliError::failure)
}
