//! The configuration file: where it is, `config check`, and `init`, which
//! writes one for an installation.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use crate::app::load_rules_and_calendar;
use crate::config::{BaseUrl, DEFAULT_CONFIG_PATH, Settings};

use super::error::{CliError, CliResult};
use super::load::{clock, load_settings};

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

/// `par-monitor config check`.
pub fn check(config: &Path, quiet: bool) -> CliResult {
    let settings = load_settings(config)?;
    let (_, calendar) = load_rules_and_calendar(&settings).map_err(CliError::usage)?;
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
    Ok(())
}

#[derive(Debug, Args)]
pub struct InitArgs {
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InitTransport {
    Smtp,
    File,
}

/// `par-monitor init`: writes the configuration once it passes the same
/// checks as `config check`.
pub fn init(args: &InitArgs) -> CliResult {
    let out = &args.out;
    if args.transport == InitTransport::Smtp && args.smtp_host.is_none() {
        return Err(CliError::usage(
            "--smtp-host is required with --transport smtp",
        ));
    }
    if let Ok(existing) = std::fs::read_to_string(out)
        && !args.force
        && !existing.contains("\nrequire = [")
    {
        return Err(CliError::usage(format!(
            "{} exists and is configured; pass --force to replace it",
            out.display()
        )));
    }
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let text = init_text(args, dir);
    let origin = out.display().to_string();
    let checked = Settings::from_toml_str(&text, &origin, &crate::config::ProcessEnv)
        .map_err(|e| e.to_string())
        .and_then(|s| load_rules_and_calendar(&s).map_err(|e| e.to_string()));
    if let Err(e) = checked {
        return Err(CliError::usage(format!(
            "the configuration would be invalid, nothing written:\n{e}"
        )));
    }
    let tmp = dir.join(".par-monitor.toml.new");
    if let Err(e) = std::fs::write(&tmp, &text).and_then(|()| std::fs::rename(&tmp, out)) {
        return Err(CliError::failure(anyhow::anyhow!(
            "cannot write {}: {e}",
            out.display()
        )));
    }
    println!(
        "wrote {}; add [[units]], then: systemctl enable --now par-monitor",
        out.display()
    );
    Ok(())
}

/// The configuration `par-monitor init` writes.
fn init_text(args: &InitArgs, dir: &Path) -> String {
    let q = |v: &str| toml::Value::String(v.to_owned()).to_string();
    let mut t = format!(
        "# Written by `par-monitor init`. Every key, with its documentation and\n\
         # default: /usr/share/doc/par-monitor/par-monitor.toml.example\n\
         # Check: par-monitor config check   Apply: systemctl reload par-monitor\n\n\
         [database]\nurl = {}\n\n[rules]\nfile = {}\n\n[indicators]\nholidays_file = {}\n",
        q(&args.database),
        q(&dir.join("rules.toml").display().to_string()),
        q(&dir.join("holidays.toml").display().to_string()),
    );
    for source in ["procedures", "documents", "reports", "portal", "units"] {
        t.push_str(&format!(
            "\n[sources.{source}]\nbase_url = {}\n",
            q(args.base_url.url().as_str())
        ));
    }
    let team: Vec<String> = args.inspection_team.iter().map(|a| q(a)).collect();
    t.push_str(&format!(
        "\n[email]\ntransport = {}\nfrom = {}\ninspection_team = [{}]\nfile_dir = \"/var/lib/par-monitor/outbox\"\n",
        q(match args.transport {
            InitTransport::Smtp => "smtp",
            InitTransport::File => "file",
        }),
        q(&args.from),
        team.join(", ")
    ));
    if let Some(host) = &args.smtp_host {
        t.push_str(&format!("\n[email.smtp]\nhost = {}\n", q(host)));
    }
    t.push_str(
        "\n# The units watched, e.g.\n# [[units]]\n# code = \"H44.07\"\n# name = \"Sở Tư pháp\"\n\
         # kind = \"so_nganh\"\n# head_email = \"giamdoc@stp.example.gov.vn\"\n",
    );
    t
}
