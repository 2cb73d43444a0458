//! `silences`: add one that matches findings by rule, unit or unit kind,
//! list them, end one.

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use crate::config::Settings;
use crate::storage::{NewSilence, Silence, Store};
use crate::time::format_local;

use super::error::{CliError, CliResult};
use super::load::open_store;

#[derive(Debug, Subcommand)]
pub enum SilencesCommand {
    /// Silence every finding matching all the given matchers.
    Add(AddArgs),
    /// Silences; --all includes those that ended.
    List {
        #[arg(long)]
        all: bool,
    },
    /// End a silence now.
    End { id: i64 },
}

#[derive(Debug, Args)]
pub struct AddArgs {
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
}

/// `par-monitor silences …`.
pub async fn run(settings: Settings, command: SilencesCommand) -> CliResult {
    let store = open_store(&settings).await?;
    let now = Utc::now();
    match command {
        SilencesCommand::Add(args) => add(&store, args, now).await,
        SilencesCommand::List { all } => list(&store, all, now).await,
        SilencesCommand::End { id } => {
            if store.end_silence(id, now).await? {
                println!("silence #{id} ended");
                Ok(())
            } else {
                Err(CliError::usage(format!("silence #{id} is not in force")))
            }
        }
    }
}

/// `--until`, which must be in the future.
fn valid_until(until: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, CliError> {
    match crate::workflow::parse_until(until, now) {
        Ok(u) if u > now => Ok(u),
        Ok(_) => Err(CliError::usage("--until must be in the future")),
        Err(e) => Err(CliError::usage(format!("--until: {e}"))),
    }
}

/// Refuses a silence of everything, an unknown unit kind, and one without
/// who and why.
fn check_args(args: &AddArgs) -> Result<(), CliError> {
    if args.rule.is_none() && args.unit.is_none() && args.kind.is_none() {
        return Err(CliError::usage(
            "give at least one of --rule, --unit, --kind (a silence of everything is not allowed)",
        ));
    }
    if let Some(k) = &args.kind
        && let Err(e) = k.parse::<crate::domain::UnitKind>()
    {
        return Err(CliError::usage(format!("--kind: {e}")));
    }
    if args.by.trim().is_empty() || args.reason.trim().is_empty() {
        return Err(CliError::usage("--by and --reason are required"));
    }
    Ok(())
}

async fn add(store: &Store, args: AddArgs, now: DateTime<Utc>) -> CliResult {
    check_args(&args)?;
    let until = valid_until(&args.until, now)?;
    let new = NewSilence {
        rule_id: args.rule,
        unit_code: args.unit,
        unit_kind: args.kind,
        until,
        created_by: args.by,
        reason: args.reason,
    };
    let id = store.add_silence(&new, now).await?;
    println!("silence #{id} until {}", format_local(until));
    Ok(())
}

async fn list(store: &Store, all: bool, now: DateTime<Utc>) -> CliResult {
    let rows = store.silences((!all).then_some(now)).await?;
    if rows.is_empty() {
        println!("No silences in force.");
    }
    for s in &rows {
        println!("{}", silence_line(s, now));
    }
    Ok(())
}

fn silence_line(s: &Silence, now: DateTime<Utc>) -> String {
    format!(
        "#{:<4} rule={} unit={} kind={} until {}{}  by {}: {}",
        s.id,
        s.rule_id.as_deref().unwrap_or("*"),
        s.unit_code.as_deref().unwrap_or("*"),
        s.unit_kind.as_deref().unwrap_or("*"),
        format_local(s.until),
        if s.is_active(now) { "" } else { " (ended)" },
        s.created_by,
        s.reason
    )
}
