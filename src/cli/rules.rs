//! `rules check` (validate a rules file and list its rules) and `rules
//! replay` (what the rules would have found in stored history).

use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::app::load_rules_and_calendar;
use crate::config::Settings;
use crate::evaluate::ReplayEvent;
use crate::findings::EventKind;
use crate::rules::{Rule, RuleSet};
use crate::time::Month;

use super::error::{CliError, CliResult};
use super::load::{Logs, configured, open_store};
use super::output::{Format, evidence_value};

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
        from: Month,
        /// Last month, e.g. 2026-06 (default: this month).
        #[arg(long)]
        to: Option<Month>,
        /// Another rules file to try (default: the one the configuration names).
        #[arg(long)]
        rules: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// `par-monitor rules …`.
pub async fn run(config: &Path, command: RulesCommand) -> CliResult {
    match command {
        RulesCommand::Check { file } => check(config, file),
        RulesCommand::Replay {
            from,
            to,
            rules,
            format,
        } => {
            let mut settings = configured(config, Logs::Quiet)?;
            if let Some(file) = rules {
                settings.rules.file = file;
            }
            replay(settings, from, to, format).await
        }
    }
}

/// Validates the rules file (the configuration's unless one is given),
/// without starting logging.
fn check(config: &Path, file: Option<PathBuf>) -> CliResult {
    let file = match file {
        Some(f) => f,
        None => Settings::load(config)?.rules.file,
    };
    let set = RuleSet::load(&file).map_err(CliError::usage)?;
    for r in &set.rules {
        println!("{}", rule_line(r));
    }
    println!("{}: {} rule(s), valid", file.display(), set.rules.len());
    Ok(())
}

fn rule_line(r: &Rule) -> String {
    let window = match (r.is_province_wide(), r.fallback) {
        (true, _) => "-".to_owned(),
        (false, None) => r.window.to_string(),
        (false, Some(f)) => format!("{}|{f}", r.window),
    };
    format!(
        "{:<32} {:<12} {:<30} ({}) {}",
        r.id.as_str(),
        r.kind(),
        window,
        r.section.number(),
        r.title_vi
    )
}

async fn replay(settings: Settings, from: Month, to: Option<Month>, format: Format) -> CliResult {
    let (rules, calendar) = load_rules_and_calendar(&settings).map_err(CliError::usage)?;
    let now = chrono::Utc::now();
    let to = to.unwrap_or_else(|| Month::containing(now));
    if to < from {
        return Err(CliError::usage(format!(
            "--to {to} is before --from {from}"
        )));
    }
    let store = open_store(&settings).await?;
    let live = crate::live::Live {
        rules,
        calendar,
        composer: crate::notify::Composer::new("replay.invalid"),
        settings,
    };
    let events = crate::evaluate::Evaluator::new(&live)
        .replay(&store, from, to, now)
        .await?;
    store.close().await;
    match format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&events).map_err(CliError::failure)?;
            println!("{json}");
        }
        Format::Text => print_replay(&events, from, to),
    }
    Ok(())
}

/// One line per event, then what opened and resolved over the months.
fn print_replay(events: &[ReplayEvent], from: Month, to: Month) {
    for e in events {
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
        events.len() - count(&[EventKind::Opened, EventKind::Reopened, EventKind::Resolved]),
    );
}
