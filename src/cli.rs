//! The command line. Each subcommand loads what it needs and calls into the
//! library; output for people is in Vietnamese where it shows data, and
//! errors go to standard error.
//!
//! Exit status: 0 success; 1 a runtime failure (database, upstream); 2
//! invalid configuration or usage.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::{App, BuildError, load_rules_and_calendar};
use crate::config::{
    BaseUrl, DEFAULT_CONFIG_PATH, Schedule, Settings, TransportKind, UnitSettings,
};
use crate::findings::EventKind;
use crate::simulator::{Endpoint, Fault, SimConfig, Simulator};
use crate::storage::{FindingRecord, Store};
use crate::time::{SharedClock, SystemClock, format_local, rfc3339_local};

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
    Simulate {
        #[arg(long, default_value = "127.0.0.1:8089")]
        listen: SocketAddr,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of units in the simulated province (the first six are fixed).
        #[arg(long, default_value_t = 6)]
        units: usize,
        /// Dossiers each unit receives in a month.
        #[arg(long, default_value_t = 40)]
        dossiers_per_month: u32,
        /// Petitions each unit receives in an average month.
        #[arg(long, default_value_t = 3)]
        petitions_per_month: u32,
        /// Documents each unit registers in a month.
        #[arg(long, default_value_t = 20)]
        documents_per_month: u32,
        /// Months of history, the current one included (a year is 12).
        #[arg(long, default_value_t = 12)]
        months: u32,
        /// The simulated present, e.g. 2026-08-20T10:00:00+07:00; default the
        /// system clock. With a fixed seed and present the data is the same
        /// on every run.
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::Utc>>,
        /// Inject a fault, e.g. `status,endpoint=dossiers,status=503,count=2`,
        /// `latency,millis=200` or `bad_records,endpoint=dossiers,every=50,defect=missing_field`
        /// (or the JSON form of `POST /_sim/faults`). Repeatable.
        #[arg(long = "fault", value_name = "SPEC")]
        faults: Vec<Fault>,
    },
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
    /// Run the simulator and the daemon together on embedded defaults.
    /// Write a configuration for this installation (by default over the
    /// packaged /etc/par-monitor/par-monitor.toml), checked before it is
    /// written. Afterwards: `systemctl enable --now par-monitor`.
    Init {
        /// The upstream systems' base URL (every source).
        #[arg(long, value_name = "URL", value_parser = BaseUrl::parse)]
        base_url: BaseUrl,
        /// How e-mail leaves: smtp (default) or file (.eml files only).
        #[arg(long, value_enum, default_value_t = InitTransport::Smtp)]
        transport: InitTransport,
        /// The SMTP server (with --transport smtp).
        #[arg(long, value_name = "HOST")]
        smtp_host: Option<String>,
        /// The sender, e.g. "par-monitor <par-monitor@vpubnd.example.gov.vn>".
        #[arg(long)]
        from: String,
        /// The inspection team's addresses (repeatable).
        #[arg(long = "inspection-team", value_name = "ADDRESS")]
        inspection_team: Vec<String>,
        /// The database URL.
        #[arg(long, default_value = "sqlite:///var/lib/par-monitor/par-monitor.db")]
        database: String,
        /// Where to write; rules.toml and holidays.toml are expected beside it.
        #[arg(long, default_value = INSTALLED_CONFIG_PATH, value_name = "PATH")]
        out: PathBuf,
        /// Replace a file that is not the packaged, unconfigured one.
        #[arg(long)]
        force: bool,
    },
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

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Validate a rules file (default: the one the configuration names) and
    /// list its rules; exits 2 naming the rule and field of the first problem.
    Check { file: Option<PathBuf> },
    /// Evaluate the rules month by month against stored history and print
    /// the findings that would have opened and closed. Sends nothing and
    /// changes nothing.
    Replay {
        /// First month, e.g. 2026-01.
        #[arg(long)]
        from: crate::time::Month,
        /// Last month, e.g. 2026-06 (default: this month).
        #[arg(long)]
        to: Option<crate::time::Month>,
        /// Another rules file to try (default: the one the configuration names).
        #[arg(long)]
        rules: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum DigestCommand {
    /// Render the latest complete period's digest as HTML without sending
    /// it (the chart embedded in the page). Leadership's version, or with
    /// --unit that unit head's; never the inspection team's proposal.
    Preview {
        #[arg(long, value_enum, default_value_t = DigestKindArg::Daily)]
        kind: DigestKindArg,
        /// A unit head's digest: that unit's own data only.
        #[arg(long)]
        unit: Option<String>,
        #[arg(long, value_enum, default_value_t = LangArg::Vi)]
        lang: LangArg,
        /// Write the HTML here instead of standard output.
        #[arg(long, value_name = "FILE.html")]
        to: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DigestKindArg {
    Daily,
    Weekly,
    Monthly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    Vi,
    En,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration (and the rules and holiday files it names)
    /// and print the effective settings, secrets redacted.
    Check {
        /// Print only errors and warnings (as `systemctl reload` runs it).
        #[arg(long)]
        quiet: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    /// Active findings (or those in --state), newest first.
    List {
        #[arg(long)]
        unit: Option<String>,
        #[arg(long, value_parser = parse_state)]
        state: Option<crate::findings::State>,
        #[arg(long, value_parser = parse_severity)]
        severity: Option<crate::domain::Severity>,
        /// Include resolved findings.
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// One finding with its audit trail and the evidence at each step.
    Show {
        id: i64,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Acknowledge: someone is on it.
    Ack {
        id: i64,
        #[arg(long)]
        by: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Silence notifications until a time (8h, 3d, 2026-12-01, "2026-12-01 17:00").
    Silence {
        id: i64,
        #[arg(long)]
        by: String,
        #[arg(long)]
        until: String,
        #[arg(long)]
        note: String,
    },
    /// Resolve by hand (a note saying why is required).
    Resolve {
        id: i64,
        #[arg(long)]
        by: String,
        #[arg(long)]
        note: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum InspectionsCommand {
    /// Each unit's risk score, highest first.
    Risk {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Propose units for unannounced inspection: the highest risks plus a
    /// weighted random share. Recorded, and e-mailed to the inspection team
    /// only.
    Plan {
        #[arg(long, default_value_t = 5)]
        count: usize,
        /// Reproduce an earlier draw (default: a fresh random seed, stored).
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Proposals made so far.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiCommand {
    /// Read a token on standard input and print the SHA-256 to put in
    /// `[api] tokens` (the token itself is never stored).
    HashToken,
}

#[derive(Debug, Subcommand)]
pub enum SilencesCommand {
    /// Silence every finding matching all the given matchers.
    Add {
        #[arg(long)]
        rule: Option<String>,
        #[arg(long)]
        unit: Option<String>,
        /// province, so_nganh, service_center, xa or phong.
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        until: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
    },
    /// Silences; --all includes those that ended.
    List {
        #[arg(long)]
        all: bool,
    },
    /// End a silence now.
    End { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// E-mails, newest first. Recipients are shown by domain only unless
    /// --show-recipients is given (text and JSON alike).
    List {
        #[arg(long, value_enum)]
        status: Option<OutboxStatus>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Show full recipient addresses, not only their domains.
        #[arg(long)]
        show_recipients: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Requeue a dead (or pending) e-mail: attempts reset, due now. Refused
    /// for an e-mail already sent or being sent right now.
    Retry { id: i64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutboxStatus {
    Pending,
    Sent,
    Dead,
}

impl OutboxStatus {
    fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Dead => "dead",
        }
    }
}

fn parse_state(s: &str) -> Result<crate::findings::State, String> {
    s.parse()
}

fn parse_severity(s: &str) -> Result<crate::domain::Severity, String> {
    s.parse()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InitTransport {
    Smtp,
    File,
}

/// The configuration `par-monitor init` writes.
#[allow(clippy::too_many_arguments)]
fn init_text(
    base_url: &BaseUrl,
    transport: InitTransport,
    smtp_host: Option<&str>,
    from: &str,
    inspection_team: &[String],
    database: &str,
    dir: &std::path::Path,
) -> String {
    let q = |v: &str| toml::Value::String(v.to_owned()).to_string();
    let mut t = format!(
        "# Written by `par-monitor init`. Every key, with its documentation and\n\
         # default: /usr/share/doc/par-monitor/par-monitor.toml.example\n\
         # Check: par-monitor config check   Apply: systemctl reload par-monitor\n\n\
         [database]\nurl = {}\n\n[rules]\nfile = {}\n\n[indicators]\nholidays_file = {}\n",
        q(database),
        q(&dir.join("rules.toml").display().to_string()),
        q(&dir.join("holidays.toml").display().to_string()),
    );
    for source in ["procedures", "documents", "reports", "portal", "units"] {
        t.push_str(&format!(
            "\n[sources.{source}]\nbase_url = {}\n",
            q(base_url.url().as_str())
        ));
    }
    let team: Vec<String> = inspection_team.iter().map(|a| q(a)).collect();
    t.push_str(&format!(
        "\n[email]\ntransport = {}\nfrom = {}\ninspection_team = [{}]\nfile_dir = \"/var/lib/par-monitor/outbox\"\n",
        q(match transport {
            InitTransport::Smtp => "smtp",
            InitTransport::File => "file",
        }),
        q(from),
        team.join(", ")
    ));
    if let Some(host) = smtp_host {
        t.push_str(&format!("\n[email.smtp]\nhost = {}\n", q(host)));
    }
    t.push_str(
        "\n# The units watched, e.g.\n# [[units]]\n# code = \"H44.07\"\n# name = \"Sở Tư pháp\"\n\
         # kind = \"so_nganh\"\n# head_email = \"giamdoc@stp.example.gov.vn\"\n",
    );
    t
}

/// `par-monitor init`: writes the configuration once it passes the same
/// checks as `config check`.
#[allow(clippy::too_many_arguments)]
fn init(
    base_url: &BaseUrl,
    transport: InitTransport,
    smtp_host: Option<&str>,
    from: &str,
    inspection_team: &[String],
    database: &str,
    out: &std::path::Path,
    force: bool,
) -> ExitCode {
    if transport == InitTransport::Smtp && smtp_host.is_none() {
        eprintln!("error: --smtp-host is required with --transport smtp");
        return ExitCode::from(2);
    }
    if let Ok(existing) = std::fs::read_to_string(out)
        && !force
        && !existing.contains("\nrequire = [")
    {
        eprintln!(
            "error: {} exists and is configured; pass --force to replace it",
            out.display()
        );
        return ExitCode::from(2);
    }
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let text = init_text(
        base_url,
        transport,
        smtp_host,
        from,
        inspection_team,
        database,
        dir,
    );
    let origin = out.display().to_string();
    let checked = Settings::from_toml_str(&text, &origin, &crate::config::ProcessEnv)
        .map_err(|e| e.to_string())
        .and_then(|s| load_rules_and_calendar(&s).map_err(|e| e.to_string()));
    if let Err(e) = checked {
        eprintln!("error: the configuration would be invalid, nothing written:\n{e}");
        return ExitCode::from(2);
    }
    let tmp = dir.join(".par-monitor.toml.new");
    if let Err(e) = std::fs::write(&tmp, &text).and_then(|()| std::fs::rename(&tmp, out)) {
        eprintln!("error: cannot write {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    println!(
        "wrote {}; add [[units]], then: systemctl enable --now par-monitor",
        out.display()
    );
    ExitCode::SUCCESS
}

/// The command line with its configuration file found.
struct ResolvedCli {
    config: PathBuf,
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// The installed system's configuration file.
pub const INSTALLED_CONFIG_PATH: &str = "/etc/par-monitor/par-monitor.toml";

/// `--config` (or `PARMON_CONFIG`), else the checkout's file when run in
/// one, else the installed system's.
pub fn config_path(given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| {
        let checkout = PathBuf::from(DEFAULT_CONFIG_PATH);
        if checkout.is_file() {
            checkout
        } else {
            PathBuf::from(INSTALLED_CONFIG_PATH)
        }
    })
}

pub async fn run(cli: Cli) -> ExitCode {
    // A tool whose output goes into `head` or `less` ends quietly when the
    // reader goes away, as Unix tools do. The daemon keeps Rust's default
    // (the signal ignored), so that a closed log pipe never kills it.
    if !matches!(
        cli.command,
        Command::Run | Command::Demo { .. } | Command::Simulate { .. }
    ) {
        sigpipe::reset();
    }
    match cli.command {
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "par-monitor",
                &mut std::io::stdout(),
            );
            return ExitCode::SUCCESS;
        }
        Command::Manpage => {
            use clap::CommandFactory;
            return match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        _ => {}
    }
    let cli = ResolvedCli {
        config: config_path(cli.config),
        command: cli.command,
    };
    match cli.command {
        // Answered above, before any configuration is read.
        Command::Completions { .. } | Command::Manpage => ExitCode::SUCCESS,
        Command::Simulate {
            listen,
            seed,
            units,
            dossiers_per_month,
            petitions_per_month,
            documents_per_month,
            months,
            now,
            faults,
        } => {
            crate::telemetry::init("info", crate::config::LogFormat::Text, &Default::default());
            let cfg = SimConfig {
                units,
                dossiers_per_month,
                petitions_per_month,
                documents_per_month,
                months,
                ..SimConfig::new(seed, now.unwrap_or_else(chrono::Utc::now))
            };
            simulate(listen, cfg, faults).await
        }
        Command::Config {
            command: ConfigCommand::Check { quiet },
        } => {
            let Some(settings) = load_settings(&cli.config) else {
                return ExitCode::from(2);
            };
            let calendar = match load_rules_and_calendar(&settings) {
                Ok((_, calendar)) => calendar,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            for w in settings.warnings() {
                eprintln!("warning: {w}");
            }
            let today = crate::time::utc_to_local(clock().now()).date();
            if let Some(w) = calendar.coverage_warning(today, &settings.indicators.holidays_file) {
                eprintln!("warning: {w}");
            }
            if !quiet {
                print!("{}", settings.to_redacted_toml());
            }
            ExitCode::SUCCESS
        }
        Command::Migrate => {
            let Some(settings) = configured(&cli.config, Logs::Configured) else {
                return ExitCode::from(2);
            };
            migrate(&settings).await
        }
        Command::Run => {
            let Some(settings) = configured(&cli.config, Logs::Configured) else {
                return ExitCode::from(2);
            };
            run_daemon(settings, Some(cli.config)).await
        }
        Command::Check { format } => {
            let Some(settings) = configured(&cli.config, Logs::Configured) else {
                return ExitCode::from(2);
            };
            check(settings, format).await
        }
        Command::Sources { format } => {
            let Some(settings) = configured(&cli.config, Logs::Quiet) else {
                return ExitCode::from(2);
            };
            sources(settings, format).await
        }
        Command::Poll { source, full } => {
            let Some(settings) = configured(&cli.config, Logs::Configured) else {
                return ExitCode::from(2);
            };
            poll(settings, source.as_deref(), full).await
        }
        Command::Quarantine { feed, format } => {
            let Some(settings) = configured(&cli.config, Logs::Quiet) else {
                return ExitCode::from(2);
            };
            quarantine(settings, feed.as_deref(), format).await
        }
        Command::Score766 { counts, format } => score766(&counts, format),
        Command::Indicators {
            unit,
            period,
            format,
        } => {
            let Some(settings) = configured(&cli.config, Logs::Quiet) else {
                return ExitCode::from(2);
            };
            indicators(settings, unit.as_deref(), period.as_deref(), format).await
        }
        Command::Digest {
            command:
                DigestCommand::Preview {
                    kind,
                    unit,
                    lang,
                    to,
                },
        } => {
            let Some(settings) = configured(&cli.config, Logs::Quiet) else {
                return ExitCode::from(2);
            };
            digest_preview(settings, kind, unit.as_deref(), lang, to.as_deref()).await
        }
        Command::Findings { command } => {
            let Some(settings) = configured(&cli.config, Logs::Quiet) else {
                return ExitCode::from(2);
            };
            findings(settings, command).await
        }
        Command::Inspections { command } => {
            let Some(settings) = configured(&cli.config, Logs::Quiet) else {
                return ExitCode::from(2);
            };
            inspections(settings, command).await
        }
        Command::Api {
            command: ApiCommand::HashToken,
        } => {
            let mut token = String::new();
            if std::io::stdin().read_line(&mut token).is_err() || token.trim().is_empty() {
                eprintln!("error: give the token on standard input");
                return ExitCode::from(2);
            }
            println!("{}", crate::api::hash_token(&token));
            ExitCode::SUCCESS
        }
        Command::Silences { command } => {
            let Some(settings) = configured(&cli.config, Logs::Quiet) else {
                return ExitCode::from(2);
            };
            silences(settings, command).await
        }
        Command::Rules {
            command: RulesCommand::Check { file },
        } => rules_check(&cli.config, file),
        Command::Rules {
            command:
                RulesCommand::Replay {
                    from,
                    to,
                    rules,
                    format,
                },
        } => {
            let Some(mut settings) = configured(&cli.config, Logs::Quiet) else {
                return ExitCode::from(2);
            };
            if let Some(file) = rules {
                settings.rules.file = file;
            }
            rules_replay(settings, from, to, format).await
        }
        Command::Outbox { command } => {
            let Some(settings) = configured(&cli.config, Logs::Quiet) else {
                return ExitCode::from(2);
            };
            outbox(settings, command).await
        }
        Command::Init {
            base_url,
            transport,
            smtp_host,
            from,
            inspection_team,
            database,
            out,
            force,
        } => init(
            &base_url,
            transport,
            smtp_host.as_deref(),
            &from,
            &inspection_team,
            &database,
            &out,
            force,
        ),
        Command::Demo { seed, now } => {
            let Some(settings) = configured(&cli.config, Logs::Configured) else {
                return ExitCode::from(2);
            };
            demo(settings, seed, now).await
        }
    }
}

fn rules_check(config: &std::path::Path, file: Option<PathBuf>) -> ExitCode {
    let file = match file {
        Some(f) => f,
        None => match Settings::load(config) {
            Ok(s) => s.rules.file,
            Err(e) => {
                eprint!("error: {e}");
                return ExitCode::from(2);
            }
        },
    };
    match crate::rules::RuleSet::load(&file) {
        Ok(set) => {
            for r in &set.rules {
                let window = match (r.is_province_wide(), r.fallback) {
                    (true, _) => "-".to_owned(),
                    (false, None) => r.window.to_string(),
                    (false, Some(f)) => format!("{}|{f}", r.window),
                };
                println!(
                    "{:<32} {:<12} {:<30} ({}) {}",
                    r.id.as_str(),
                    r.kind(),
                    window,
                    r.section.number(),
                    r.title_vi
                );
            }
            println!("{}: {} rule(s), valid", file.display(), set.rules.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn rules_replay(
    settings: Settings,
    from: crate::time::Month,
    to: Option<crate::time::Month>,
    format: Format,
) -> ExitCode {
    let (rules, calendar) = match load_rules_and_calendar(&settings) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let now = chrono::Utc::now();
    let to = to.unwrap_or_else(|| crate::time::Month::containing(now));
    if to < from {
        eprintln!("error: --to {to} is before --from {from}");
        return ExitCode::from(2);
    }
    let store = match open_store(&settings).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let live = crate::live::Live {
        rules,
        calendar,
        composer: crate::notify::Composer::new("replay.invalid"),
        settings,
    };
    let events = match crate::evaluate::Evaluator::new(&live)
        .replay(&store, from, to, now)
        .await
    {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    store.close().await;
    match format {
        Format::Json => match serde_json::to_string_pretty(&events) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
        Format::Text => {
            for e in &events {
                println!(
                    "{}  {:<16} {:<8} {:<32} {:<12} {}",
                    e.period,
                    e.kind.as_str(),
                    e.severity.as_str(),
                    e.rule_id,
                    e.unit_code,
                    evidence_value(&serde_json::to_value(&e.evidence).unwrap_or_default()),
                );
            }
            let count = |k: &[EventKind]| events.iter().filter(|e| k.contains(&e.kind)).count();
            println!(
                "{from} to {to}: {} opened or reopened, {} resolved, {} other change(s); nothing was sent or stored \
                 (staleness rules and people's actions are not replayed)",
                count(&[EventKind::Opened, EventKind::Reopened]),
                count(&[EventKind::Resolved]),
                events.len()
                    - count(&[EventKind::Opened, EventKind::Reopened, EventKind::Resolved]),
            );
        }
    }
    ExitCode::SUCCESS
}

/// How much a command logs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Logs {
    /// At the configured level: the daemon and the commands that poll.
    Configured,
    /// Warnings only: the tools whose output is a table or a document.
    Quiet,
}

/// Loads the configuration (printing why not, for exit status 2) and starts
/// logging.
fn configured(path: &std::path::Path, logs: Logs) -> Option<Settings> {
    let settings = load_settings(path)?;
    let level = match logs {
        Logs::Configured => settings.log.level.as_str(),
        Logs::Quiet => "warn",
    };
    crate::telemetry::init(level, settings.log.format, &settings.service);
    Some(settings)
}

fn load_settings(path: &std::path::Path) -> Option<Settings> {
    match crate::app::load_settings(path) {
        Ok(s) => Some(s),
        Err(e) => {
            eprint!("error: {e}");
            None
        }
    }
}

fn clock() -> SharedClock {
    Arc::new(SystemClock)
}

/// The daemon's parts, for the commands that act as the daemon does
/// (`run`, `check`, `poll`): configured units are written to the database.
async fn build(settings: Settings) -> Result<App, ExitCode> {
    build_at(settings, clock()).await
}

async fn build_at(settings: Settings, clock: SharedClock) -> Result<App, ExitCode> {
    build_exit(App::build(settings, clock).await)
}

/// The parts a tool reads with: nothing of the configuration is written,
/// so a tool run beside a daemon changes nothing it does.
async fn open(settings: Settings) -> Result<App, ExitCode> {
    build_exit(App::open(settings, clock()).await)
}

fn build_exit(built: Result<App, BuildError>) -> Result<App, ExitCode> {
    built.map_err(|e| match e {
        BuildError::Invalid(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        BuildError::Runtime(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    })
}

async fn migrate(settings: &Settings) -> ExitCode {
    let result = async {
        let store = Store::connect(&settings.database).await?;
        let applied = store.migrate().await?;
        store.close().await;
        Ok::<_, crate::storage::StorageError>((store.backend(), applied))
    }
    .await;
    match result {
        Ok((backend, applied)) => {
            println!(
                "database {} ({}): {applied} migration(s) applied, schema up to date",
                settings.database.url.redacted(),
                backend.as_str()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves when SIGTERM or SIGINT arrives.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM; only Ctrl-C will stop the daemon");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
    }
}

/// Runs the daemon until SIGTERM or SIGINT. With a configuration file,
/// SIGHUP reloads it (systemd's `ExecReload=`).
async fn run_daemon(settings: Settings, config: Option<PathBuf>) -> ExitCode {
    run_daemon_at(settings, config, clock()).await
}

async fn run_daemon_at(
    settings: Settings,
    config: Option<PathBuf>,
    clock: SharedClock,
) -> ExitCode {
    use tokio::signal::unix::{SignalKind, signal};
    // Listen for SIGHUP before anything else: its default action would
    // end the process.
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGHUP; reload needs a restart");
            None
        }
    };
    crate::systemd::status("starting: opening the database and applying migrations");
    let mut app = match build_at(settings, clock).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    if let Some(path) = config {
        app = app.with_config_path(path);
    }
    let shutdown = CancellationToken::new();
    let running = match app.start(shutdown.clone()).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        let hangup = async {
            match hup.as_mut() {
                Some(h) => h.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = &mut stop => break,
            Some(()) = hangup => {
                tracing::info!("SIGHUP received: reloading the configuration");
                running.reload();
            }
        }
    }
    shutdown.cancel();
    match running.wait().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// How recently a daemon must have reported for `check` to leave the
/// database to it: a few metrics refreshes.
fn daemon_alive_within(settings: &Settings) -> chrono::Duration {
    let refresh = chrono::Duration::from_std(settings.metrics.refresh_interval)
        .unwrap_or(chrono::Duration::seconds(15));
    (refresh * 3).max(chrono::Duration::seconds(60))
}

async fn check(settings: Settings, format: Format) -> ExitCode {
    // A daemon that owns the database polls and evaluates; a second cycle
    // from here would record source health of its own and queue e-mails.
    let owner = match open_store(&settings).await {
        Ok(store) => {
            let since = chrono::Utc::now() - daemon_alive_within(&settings);
            let alive = store.daemons_alive_since(since).await;
            store.close().await;
            match alive {
                Ok(runs) => runs.into_iter().next(),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        Err(code) => return code,
    };
    let app = match &owner {
        Some(_) => open(settings).await,
        None => build(settings).await,
    };
    let app = match app {
        Ok(app) => app,
        Err(code) => return code,
    };
    let mut failed = false;
    if let Some(d) = &owner {
        eprintln!(
            "Đang có par-monitor chạy trên cơ sở dữ liệu này (pid {}, máy {}, từ {}): \
             hiển thị các phát hiện nó đã đánh giá, không lấy dữ liệu và không đánh giá lại.",
            d.pid,
            d.host,
            format_local(d.started_at)
        );
    } else {
        let never = CancellationToken::new();
        for (source, result) in app.poll_all(&never).await {
            if let Err(e) = result {
                eprintln!("warning: {source}: {e}");
                failed = true;
            }
        }
        if let Err(e) = app.evaluate().await {
            eprintln!("error: evaluation failed: {e:#}");
            return ExitCode::FAILURE;
        }
    }
    let output = async {
        let findings: Vec<FindingRecord> = app
            .store
            .findings()
            .await?
            .into_iter()
            .filter(|f| f.state.is_active())
            .collect();
        let units = app.store.units().await?;
        Ok::<_, crate::storage::StorageError>((findings, units))
    }
    .await;
    let (findings, units) = match output {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let name_of = |code: &str| {
        units
            .iter()
            .find(|u| u.code.as_str() == code)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    match format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = findings
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "id": f.id,
                        "rule_id": f.rule_id,
                        "unit_code": f.unit_code,
                        "unit_name": name_of(&f.unit_code),
                        "state": f.state,
                        "severity": f.severity,
                        "last_result": f.last_result,
                        "opened_at": rfc3339_local(f.opened_at),
                        "last_evaluated_at": rfc3339_local(f.last_evaluated_at),
                        "evidence": f.last_detail,
                    })
                })
                .collect();
            let doc = serde_json::json!({ "findings": rows });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Text => {
            if findings.is_empty() {
                println!("Không có phát hiện nào đang mở.");
            }
            for f in &findings {
                println!("{}", finding_line(f, &name_of(&f.unit_code)));
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn simulate(listen: SocketAddr, cfg: SimConfig, faults: Vec<Fault>) -> ExitCode {
    let started = std::time::Instant::now();
    let sim = Simulator::generate(&cfg);
    let generated_in = started.elapsed();
    if let Err(e) = sim.add_faults(faults) {
        eprintln!("error: --fault: {e}");
        return ExitCode::from(2);
    }
    let listener = match TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let truth = sim.truth();
    let total = |e: Endpoint| truth.totals.get(&e).map_or(0, |c| c.served());
    tracing::info!(
        url = %format!("http://{}/", listener.local_addr().map(|a| a.to_string()).unwrap_or_default()),
        units = total(Endpoint::Units),
        dossiers = total(Endpoint::Dossiers),
        petitions = total(Endpoint::Petitions),
        documents = total(Endpoint::Documents),
        reports = total(Endpoint::Reports),
        scores = total(Endpoint::Scores766),
        seed = cfg.seed,
        now = %rfc3339_local(sim.now()),
        generated_ms = generated_in.as_millis() as u64,
        faults = sim.active_faults().len(),
        root_department_id = %sim.root_department_id(),
        "simulator serving /api/v1/{{dossiers,petitions,documents,reports,scores766,units}}, /alt/v2/ho-so, POST /api/v1/reporting/evaluation/{{endpoint}} and /_sim/{{truth,requests,faults}}"
    );
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(sim.serve(listener, shutdown.clone()));
    shutdown_signal().await;
    shutdown.cancel();
    match server.await {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: simulator failed: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: simulator panicked: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Months of history the demo's simulator has, the current one included:
/// enough for 30-day windows and their trends on any day of the month.
const DEMO_MONTHS: u32 = 3;

/// Where the demo writes the configuration it runs with, for the commands
/// people run beside it.
const DEMO_CONFIG: &str = "data/demo.toml";

/// The demo: the simulator on an ephemeral loopback port, the daemon polling
/// it every 15 seconds with the simulator's units (and their heads'
/// addresses), e-mail written to `.eml` files. The configuration it runs
/// with is written to `data/demo.toml`, so that the commands run beside it
/// see its world (`--config data/demo.toml`).
async fn demo(
    mut settings: Settings,
    seed: u64,
    now: Option<chrono::DateTime<chrono::Utc>>,
) -> ExitCode {
    let clock: SharedClock = match now {
        Some(start) => Arc::new(crate::time::OffsetClock::starting_at(start)),
        None => clock(),
    };
    let sim = Simulator::generate(&SimConfig {
        months: DEMO_MONTHS,
        ..SimConfig::new(seed, clock.now())
    });
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot start the simulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sim_addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // One simulator serves every source, the optional ones included.
    let base = BaseUrl::parse(&format!("http://{sim_addr}/")).expect("loopback URL is valid");
    for (_, source) in settings.sources.all_mut() {
        source.enabled = true;
        source.base_url = base.clone();
    }
    // The portal as the real one speaks: its public evaluation API.
    settings.sources.portal.protocol = crate::config::Protocol::DvcqgEvaluation;
    settings.sources.portal.root_department_id = Some(sim.root_department_id());
    settings.sources.procedures.schedule =
        Schedule::parse("*/15 * * * * *").expect("valid schedule");
    settings.email.transport = TransportKind::File;
    settings.units = sim
        .units()
        .into_iter()
        .map(|u| UnitSettings {
            code: u.code,
            name: u.name,
            kind: u.kind,
            parent: u.parent,
            head_email: u.head_email,
        })
        .collect();
    let config = PathBuf::from(DEMO_CONFIG);
    let written = config
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            std::fs::write(
                &config,
                format!(
                    "# The configuration `par-monitor demo` runs with (secrets are not written).\n\
                     # Use it for the commands run beside the demo, from this folder:\n\
                     #   par-monitor --config {DEMO_CONFIG} findings list\n\n{}",
                    settings.to_redacted_toml()
                ),
            )
        });
    if let Err(e) = written {
        eprintln!("error: cannot write {DEMO_CONFIG}: {e}");
        return ExitCode::FAILURE;
    }
    tracing::info!(
        simulator = %sim_addr,
        units = settings.units.len(),
        dossiers = sim.dossiers().len(),
        now = %crate::time::rfc3339_local(clock.now()),
        database = %settings.database.url.redacted(),
        outbox = %settings.email.file_dir.display(),
        metrics = %format!("http://{}/metrics", settings.http.listen),
        config = DEMO_CONFIG,
        "demo: simulator and daemon starting; Ctrl-C stops both"
    );
    tracing::info!(
        "demo: in a second terminal, in this folder: par-monitor --config {DEMO_CONFIG} findings list | indicators --unit H44.100 | digest preview --kind monthly --unit H44.100 | sources | check"
    );
    let sim_shutdown = CancellationToken::new();
    let sim_task = tokio::spawn(sim.serve(listener, sim_shutdown.clone()));
    let code = run_daemon_at(settings, None, clock).await;
    sim_shutdown.cancel();
    let _ = sim_task.await;
    code
}

async fn sources(settings: Settings, format: Format) -> ExitCode {
    let app = match open(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    match crate::status::sources(&app.context(), app.clock.now()).await {
        Ok(rows) => {
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&rows).unwrap_or_default()
                ),
                Format::Text => print!("{}", crate::status::sources_text(&rows)),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Progress on standard error, at most twice a second.
struct PrintProgress {
    last: std::sync::Mutex<std::time::Instant>,
}

impl crate::ingest::Progress for PrintProgress {
    fn page(
        &self,
        feed: &str,
        pages: u32,
        total_pages: Option<u64>,
        records: u64,
        elapsed: std::time::Duration,
    ) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() < std::time::Duration::from_millis(500)
            && total_pages != Some(u64::from(pages))
        {
            return;
        }
        *last = std::time::Instant::now();
        let of = total_pages.map(|t| format!(" of {t}")).unwrap_or_default();
        let rate = records as f64 / elapsed.as_secs_f64().max(0.001);
        eprintln!("{feed}: page {pages}{of}, {records} records, {rate:.0} records/s");
    }
}

async fn poll(settings: Settings, only: Option<&str>, full: bool) -> ExitCode {
    if let Some(name) = only
        && settings.sources.get(name).is_none()
    {
        eprintln!(
            "error: unknown source `{name}`: expected procedures, documents, reports, portal or units"
        );
        return ExitCode::from(2);
    }
    let app = match build(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    let selected: Vec<_> = app
        .sources
        .iter()
        .filter(|s| only.is_none_or(|n| n == s.name))
        .collect();
    if selected.is_empty() {
        eprintln!("error: {} is not enabled", only.unwrap_or("no source"));
        return ExitCode::from(2);
    }
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stop.cancel();
    });
    let mode = if full {
        crate::ingest::Mode::Full
    } else {
        crate::ingest::Mode::Incremental
    };
    let progress = PrintProgress {
        last: std::sync::Mutex::new(std::time::Instant::now()),
    };
    let mut failed = false;
    for source in selected {
        let started = std::time::Instant::now();
        match app.poll(source, mode, &shutdown, &progress).await {
            Ok(report) => {
                for f in &report.feeds {
                    let fetched = f.counts.inserted + f.counts.updated + f.counts.unchanged;
                    let rate = fetched as f64 / started.elapsed().as_secs_f64().max(0.001);
                    println!(
                        "{}: {} pages, {} new, {} changed, {} unchanged, {} quarantined, {} deleted ({}; {rate:.0} records/s)",
                        f.feed,
                        f.pages,
                        f.counts.inserted,
                        f.counts.updated,
                        f.counts.unchanged,
                        f.rejected,
                        f.deleted,
                        if f.full { "full" } else { "incremental" },
                    );
                }
                println!("{}: {}", report.source, report.health);
            }
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn quarantine(settings: Settings, feed: Option<&str>, format: Format) -> ExitCode {
    let app = match open(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    match app.store.quarantined(feed).await {
        Ok(rows) => {
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&rows).unwrap_or_default()
                ),
                Format::Text => {
                    if rows.is_empty() {
                        println!("No quarantined records.");
                    }
                    for q in rows {
                        println!(
                            "{}  {}  {}{}: {} (seen {}×, last {})",
                            q.feed,
                            q.record_id.as_deref().unwrap_or("(no id)"),
                            q.check.map(|c| format!("[{c}] ")).unwrap_or_default(),
                            q.field,
                            q.problem,
                            q.times_seen,
                            format_local(q.last_seen_at)
                        );
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn digest_preview(
    settings: Settings,
    kind: DigestKindArg,
    unit: Option<&str>,
    lang: LangArg,
    to: Option<&std::path::Path>,
) -> ExitCode {
    use crate::digest::DigestKind;
    use crate::domain::Language;
    let app = match open(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    let kind = match kind {
        DigestKindArg::Daily => DigestKind::Daily,
        DigestKindArg::Weekly => DigestKind::Weekly,
        DigestKindArg::Monthly => DigestKind::Monthly,
    };
    let lang = match lang {
        LangArg::Vi => Language::Vi,
        LangArg::En => Language::En,
    };
    if let Some(code) = unit {
        match app.store.units().await {
            Ok(units) if units.iter().any(|u| u.code.as_str() == code) => {}
            Ok(_) => {
                eprintln!("error: --unit {code}: no such unit in the unit directory");
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let html = match crate::digest::run::preview(&app.context(), kind, unit, lang, app.clock.now())
        .await
    {
        Ok(html) => html,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    match to {
        None => print!("{html}"),
        Some(path) => {
            if let Err(e) = std::fs::write(path, html) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            eprintln!("digest written to {}", path.display());
        }
    }
    ExitCode::SUCCESS
}

/// Opens the database only (no rules, no upstreams): enough for the
/// findings and silences commands, which must work while an upstream or a
/// rules file is broken.
async fn open_store(settings: &Settings) -> Result<Store, ExitCode> {
    let store = Store::connect(&settings.database).await.map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::FAILURE
    })?;
    store.migrate().await.map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::FAILURE
    })?;
    Ok(store)
}

fn finding_line(f: &FindingRecord, unit_name: &str) -> String {
    let e = &f.last_detail;
    let period = serde_json::from_value::<crate::findings::Evidence>(e.clone())
        .map(|e| crate::notify::compose::period_text(&e, crate::domain::Language::Vi))
        .unwrap_or_else(|_| e["period"].as_str().unwrap_or("?").to_owned());
    format!(
        "#{:<4} {:<12} {:<12} {:<14} {} {}  {}: {}, kỳ {period}, mở lúc {}",
        f.id,
        f.severity.name_vi(),
        f.state.name_vi(),
        f.last_result.name_vi(),
        f.unit_code,
        unit_name,
        f.rule_id,
        evidence_value(e),
        format_local(f.opened_at),
    )
}

/// The judged value with its parts, e.g. `80,0% (80/100)`.
fn evidence_value(v: &serde_json::Value) -> String {
    match serde_json::from_value::<crate::findings::Evidence>(v.clone()) {
        Ok(e) => {
            let parts = match (e.numerator, e.denominator) {
                (Some(n), Some(d)) => format!(" ({n}/{d})"),
                _ => String::new(),
            };
            format!("{}{parts}", crate::notify::compose::value_text_vi(&e))
        }
        // Evidence written by an older version: shown as stored.
        Err(_) => v.to_string(),
    }
}

/// An audit event's evidence in one line.
fn evidence_text(v: &serde_json::Value) -> String {
    match serde_json::from_value::<crate::findings::Evidence>(v.clone()) {
        Ok(e) => {
            let sample = if e.sample.is_empty() {
                String::new()
            } else {
                let first: Vec<&str> = e.sample.iter().take(3).map(String::as_str).collect();
                format!(", ví dụ {}", first.join(", "))
            };
            let result = e
                .result
                .parse::<crate::findings::LastResult>()
                .map_or(e.result.as_str(), |r| r.name_vi());
            let uncertain = e.working_days_uncertain_from.map_or(String::new(), |d| {
                format!(
                    "; ngày làm việc từ {} chưa chắc chắn (lịch nghỉ lễ chưa có)",
                    d.format("%d/%m/%Y")
                )
            });
            format!(
                "{result}: {}, ngưỡng {}{sample}{uncertain}",
                evidence_value(v),
                crate::notify::compose::threshold_text_vi(&e)
            )
        }
        Err(_) => v.to_string(),
    }
}

async fn findings(settings: Settings, command: FindingsCommand) -> ExitCode {
    use crate::findings::Action;
    use crate::workflow::{self, Filter, WorkflowError};
    let store = match open_store(&settings).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let now = chrono::Utc::now();
    let units = store.units().await.unwrap_or_default();
    let name_of = |code: &str| {
        units
            .iter()
            .find(|u| u.code.as_str() == code)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    let refused = |e: WorkflowError| {
        eprintln!("error: {e}");
        match e {
            WorkflowError::Storage(_) => ExitCode::FAILURE,
            _ => ExitCode::from(2),
        }
    };
    let (id, action, by, note) = match command {
        FindingsCommand::List {
            unit,
            state,
            severity,
            all,
            format,
        } => {
            let filter = Filter {
                unit,
                state,
                severity,
                include_resolved: all,
            };
            return match workflow::list(&store, &filter).await {
                Ok(mut rows) => {
                    rows.reverse();
                    match format {
                        Format::Json => println!(
                            "{}",
                            serde_json::to_string_pretty(&rows).unwrap_or_default()
                        ),
                        Format::Text => {
                            if rows.is_empty() {
                                println!("Không có phát hiện nào phù hợp.");
                            }
                            for f in &rows {
                                println!("{}", finding_line(f, &name_of(&f.unit_code)));
                            }
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        FindingsCommand::Show { id, format } => {
            return match workflow::show(&store, id).await {
                Ok(d) => {
                    match format {
                        Format::Json => {
                            println!("{}", serde_json::to_string_pretty(&d).unwrap_or_default())
                        }
                        Format::Text => {
                            println!(
                                "{}",
                                finding_line(&d.finding, &name_of(&d.finding.unit_code))
                            );
                            if let (Some(by), Some(at)) =
                                (&d.finding.acknowledged_by, d.finding.acknowledged_at)
                            {
                                println!("      {by} tiếp nhận lúc {}", format_local(at));
                            }
                            if let Some(until) = d.finding.silenced_until {
                                println!(
                                    "      tạm ẩn đến {} bởi {}: {}",
                                    format_local(until),
                                    d.finding.silenced_by.as_deref().unwrap_or("?"),
                                    d.finding.silence_reason.as_deref().unwrap_or("")
                                );
                            }
                            println!("Lịch sử xử lý:");
                            for e in &d.events {
                                println!(
                                    "  {}  {:<16} {:<12} bởi {}{}  [{}]",
                                    format_local(e.at),
                                    e.kind
                                        .parse::<crate::findings::EventKind>()
                                        .map_or(e.kind.as_str(), |k| k.name_vi()),
                                    e.state.name_vi(),
                                    e.actor,
                                    e.note
                                        .as_deref()
                                        .map(|n| format!(": {n}"))
                                        .unwrap_or_default(),
                                    evidence_text(&e.evidence),
                                );
                            }
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => refused(e),
            };
        }
        FindingsCommand::Ack { id, by, note } => (id, Action::Acknowledge, by, note),
        FindingsCommand::Silence {
            id,
            by,
            until,
            note,
        } => match crate::workflow::parse_until(&until, now) {
            Ok(until) => (id, Action::Silence { until }, by, note),
            Err(e) => {
                eprintln!("error: --until: {e}");
                return ExitCode::from(2);
            }
        },
        FindingsCommand::Resolve { id, by, note } => (id, Action::Resolve, by, note),
    };
    match workflow::apply(&store, id, action, &by, &note, now).await {
        Ok(f) => {
            println!("{}", finding_line(&f, &name_of(&f.unit_code)));
            ExitCode::SUCCESS
        }
        Err(e) => refused(e),
    }
}

async fn silences(settings: Settings, command: SilencesCommand) -> ExitCode {
    let store = match open_store(&settings).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let now = chrono::Utc::now();
    match command {
        SilencesCommand::Add {
            rule,
            unit,
            kind,
            until,
            by,
            reason,
        } => {
            if rule.is_none() && unit.is_none() && kind.is_none() {
                eprintln!(
                    "error: give at least one of --rule, --unit, --kind (a silence of everything is not allowed)"
                );
                return ExitCode::from(2);
            }
            if let Some(k) = &kind
                && let Err(e) = k.parse::<crate::domain::UnitKind>()
            {
                eprintln!("error: --kind: {e}");
                return ExitCode::from(2);
            }
            if by.trim().is_empty() || reason.trim().is_empty() {
                eprintln!("error: --by and --reason are required");
                return ExitCode::from(2);
            }
            let until = match crate::workflow::parse_until(&until, now) {
                Ok(u) if u > now => u,
                Ok(_) => {
                    eprintln!("error: --until must be in the future");
                    return ExitCode::from(2);
                }
                Err(e) => {
                    eprintln!("error: --until: {e}");
                    return ExitCode::from(2);
                }
            };
            let new = crate::storage::NewSilence {
                rule_id: rule,
                unit_code: unit,
                unit_kind: kind,
                until,
                created_by: by,
                reason,
            };
            match store.add_silence(&new, now).await {
                Ok(id) => {
                    println!("silence #{id} until {}", format_local(until));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        SilencesCommand::List { all } => match store.silences((!all).then_some(now)).await {
            Ok(rows) => {
                if rows.is_empty() {
                    println!("No silences in force.");
                }
                for s in rows {
                    println!(
                        "#{:<4} rule={} unit={} kind={} until {}{}  by {}: {}",
                        s.id,
                        s.rule_id.as_deref().unwrap_or("*"),
                        s.unit_code.as_deref().unwrap_or("*"),
                        s.unit_kind.as_deref().unwrap_or("*"),
                        format_local(s.until),
                        if s.is_active(now) { "" } else { " (ended)" },
                        s.created_by,
                        s.reason
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        SilencesCommand::End { id } => match store.end_silence(id, now).await {
            Ok(true) => {
                println!("silence #{id} ended");
                ExitCode::SUCCESS
            }
            Ok(false) => {
                eprintln!("error: silence #{id} is not in force");
                ExitCode::from(2)
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

async fn outbox(settings: Settings, command: OutboxCommand) -> ExitCode {
    use crate::notify::outbox_view::{self, Requeue};
    let store = match open_store(&settings).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let now = chrono::Utc::now();
    let failed = |e: crate::storage::StorageError| {
        eprintln!("error: {e}");
        ExitCode::FAILURE
    };
    match command {
        OutboxCommand::List {
            status,
            limit,
            show_recipients,
            format,
        } => {
            let rows = match store
                .outbox_page(status.map(OutboxStatus::as_str), i64::from(limit))
                .await
            {
                Ok(rows) => rows,
                Err(e) => return failed(e),
            };
            let items: Vec<_> = rows
                .iter()
                .map(|e| outbox_view::Item::of(e, now, show_recipients))
                .collect();
            match format {
                Format::Json => print_json(&items),
                Format::Text => {
                    if items.is_empty() {
                        println!("Hộp thư đi trống (no e-mails match).");
                    }
                    for item in &items {
                        println!("{}", item.text());
                    }
                }
            }
            ExitCode::SUCCESS
        }
        OutboxCommand::Retry { id } => {
            let email = match store.outbox_email(id).await {
                Ok(e) => e,
                Err(e) => return failed(e),
            };
            match outbox_view::requeue_verdict(email.as_ref(), now) {
                Requeue::Refuse(why) => {
                    eprintln!("error: {why}");
                    ExitCode::from(2)
                }
                Requeue::Go(email) => match store.requeue_email(email, now).await {
                    Ok(true) => {
                        println!(
                            "{}",
                            outbox_view::requeued_text(email, settings.email.poll_interval)
                        );
                        ExitCode::SUCCESS
                    }
                    Ok(false) => {
                        eprintln!(
                            "error: e-mail #{id} changed while it was being requeued (a worker claimed or finished it); look again with `outbox list`"
                        );
                        ExitCode::FAILURE
                    }
                    Err(e) => failed(e),
                },
            }
        }
    }
}

fn print_json<T: serde::Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

async fn inspections(settings: Settings, command: InspectionsCommand) -> ExitCode {
    let app = match open(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    let now = app.clock.now();
    let names: std::collections::HashMap<String, String> = app
        .store
        .units()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| (u.code.to_string(), u.name))
        .collect();
    let result = async {
        match command {
            InspectionsCommand::Risk { format } => {
                let risks = crate::inspections::risks(&app.context(), now).await?;
                match format {
                    Format::Json => print_json(&risks),
                    Format::Text => {
                        for r in &risks {
                            println!(
                                "{:>7.2}  {:<10} {}  ({} findings, {} critical, sections {:?})",
                                r.score,
                                r.unit.as_str(),
                                names.get(r.unit.as_str()).map(String::as_str).unwrap_or(""),
                                r.findings,
                                r.critical,
                                r.sections
                            );
                        }
                    }
                }
            }
            InspectionsCommand::Plan { count, seed, by, reason, format } => {
                let outcome = crate::inspections::plan(&app.context(), count, seed, &by, &reason, now).await?;
                match format {
                    Format::Json => print_json(&outcome),
                    Format::Text => {
                        println!("MẬT — proposal #{} (seed {}):", outcome.id, outcome.seed);
                        for (i, u) in outcome.units.iter().enumerate() {
                            println!("{:>3}. {} {}  risk {:.2}  ({:?})", i + 1, u.code, u.name, u.risk, u.pick);
                        }
                        if outcome.recipients == 0 {
                            eprintln!("warning: email.inspection_team is empty; the proposal was recorded but not e-mailed");
                        }
                    }
                }
            }
            InspectionsCommand::List { format } => {
                let plans = app.store.inspection_plans().await?;
                match format {
                    Format::Json => print_json(&plans),
                    Format::Text => {
                        for p in plans {
                            println!(
                                "#{:<4} {}  by {}: {}  (seed {}, {} units)",
                                p.id,
                                format_local(p.created_at),
                                p.requested_by,
                                p.reason,
                                p.seed,
                                p.proposal.as_array().map_or(0, |a| a.len())
                            );
                        }
                    }
                }
            }
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn score766(path: &std::path::Path, format: Format) -> ExitCode {
    use crate::score766::{Bands, parse_counts_file, score_unit, to_json, to_text};
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let units = match parse_counts_file(&text) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let bands = Bands::default();
    let results: Vec<_> = units
        .into_iter()
        .map(|u| {
            let score = score_unit(&u.counts, &bands);
            (u, score)
        })
        .collect();
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&to_json(&results)).unwrap_or_default()
        ),
        Format::Text => print!("{}", to_text(&results)),
    }
    ExitCode::SUCCESS
}

async fn indicators(
    settings: Settings,
    unit: Option<&str>,
    period: Option<&str>,
    format: Format,
) -> ExitCode {
    let app = match open(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    let now = app.clock.now();
    let period: crate::periods::Period = match period {
        None => crate::time::Month::containing(now).into(),
        Some(p) => match p.parse() {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: --period: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let live = app.live();
    let overview = match crate::overview::compute_period(&app.store, &live, period, now, None).await
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let rows: Vec<_> = overview
        .units
        .into_iter()
        .enumerate()
        .filter(|(i, r)| *i == 0 || unit.is_none_or(|u| r.code == u))
        .map(|(_, r)| r)
        .collect();
    if let Some(u) = unit
        && rows.iter().all(|r| r.code != u)
    {
        eprintln!("error: no unit {u}");
        return ExitCode::from(2);
    }
    let gaps = &overview.coverage.gaps;
    match format {
        Format::Json => {
            let missing: Vec<serde_json::Value> = gaps
                .iter()
                .map(|(source, gap)| {
                    serde_json::json!({
                        "source": source,
                        "name": source.name(crate::domain::Language::Vi),
                        "reason": gap.reason(crate::domain::Language::Vi),
                    })
                })
                .collect();
            print_json(&serde_json::json!({
                "period": period.id(),
                "units": rows,
                "sources_without_data": missing,
            }))
        }
        Format::Text => print!("{}", indicators_text(&period.id(), &rows, gaps)),
    }
    ExitCode::SUCCESS
}

fn indicators_text(
    period: &str,
    rows: &[crate::overview::UnitOverview],
    gaps: &std::collections::BTreeMap<crate::domain::SourceId, crate::coverage::Gap>,
) -> String {
    use crate::domain::Language::Vi;
    use crate::indicators::IndicatorId;
    use crate::locale::{no_data, percent, points};
    use std::fmt::Write;
    let mut out = String::new();
    for (source, gap) in gaps {
        let _ = writeln!(
            out,
            "Lưu ý: chưa có dữ liệu từ {} ({}); các chỉ số dựa trên nguồn này để trống.",
            source.name(Vi),
            gap.reason(Vi)
        );
    }
    if !gaps.is_empty() {
        out.push('\n');
    }
    for r in rows {
        let _ = writeln!(out, "{} {} — kỳ {period}", r.code, r.name);
        for &indicator in IndicatorId::ALL {
            let Some(v) = r.values.iter().find(|v| v.indicator == indicator) else {
                let _ = writeln!(out, "  {:<54} {:>8}", indicator.name_vi(), no_data(Vi));
                continue;
            };
            let shown = match v.ratio.value() {
                None => "–".to_owned(),
                Some(x) if v.indicator.is_share() => percent(x, Vi),
                Some(x) => crate::locale::decimal(x, 1, Vi),
            };
            let _ = writeln!(
                out,
                "  {:<54} {:>8}  ({}/{})",
                v.indicator.name_vi(),
                shown,
                v.ratio.numerator,
                v.ratio.denominator
            );
        }
        let _ = writeln!(
            out,
            "  Chỉ số 766: {}{}",
            r.score.summary(Vi),
            r.official_total
                .map(|t| format!(" (Cổng DVCQG: {} điểm)", points(t, Vi)))
                .unwrap_or_default()
        );
        for (g, s) in &r.score.groups {
            let cmp = r.comparison.iter().find(|c| c.group == *g);
            let _ = writeln!(
                out,
                "    {:<36} {:>6}{}",
                g.name_vi(),
                s.map(|x| points(x, Vi))
                    .unwrap_or_else(|| no_data(Vi).to_owned()),
                cmp.and_then(|c| c.official.map(|o| format!(
                    "   cổng {}{}",
                    points(o, Vi),
                    c.difference
                        .map(|d| format!(
                            ", chênh {}{}",
                            if d >= 0.0 { "+" } else { "" },
                            points(d, Vi)
                        ))
                        .unwrap_or_default()
                )))
                .unwrap_or_default()
            );
        }
        out.push('\n');
    }
    out
}
