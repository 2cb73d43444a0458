//! `inspections`: each unit's risk, and proposals for unannounced
//! inspection (confidential: e-mailed to the inspection team only).

use chrono::{DateTime, Utc};
use clap::Subcommand;

use crate::app::App;
use crate::inspections::PlanOutcome;
use crate::time::format_local;

use super::error::CliResult;
use super::load::open;
use super::output::{Format, UnitNames, print_json};

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

/// `par-monitor inspections …`.
pub async fn run(settings: crate::config::Settings, command: InspectionsCommand) -> CliResult {
    let app = open(settings).await?;
    let now = app.clock.now();
    match command {
        InspectionsCommand::Risk { format } => risk(&app, now, format).await,
        InspectionsCommand::Plan {
            count,
            seed,
            by,
            reason,
            format,
        } => {
            let outcome =
                crate::inspections::plan(&app.context(), count, seed, &by, &reason, now).await?;
            match format {
                Format::Json => print_json(&outcome),
                Format::Text => print_plan(&outcome),
            }
            Ok(())
        }
        InspectionsCommand::List { format } => list(&app, format).await,
    }
}

async fn risk(app: &App, now: DateTime<Utc>, format: Format) -> CliResult {
    let names = UnitNames::new(app.store.units().await.unwrap_or_default());
    let risks = crate::inspections::risks(&app.context(), now).await?;
    match format {
        Format::Json => print_json(&risks),
        Format::Text => {
            for r in &risks {
                println!(
                    "{:>7.2}  {:<10} {}  ({} findings, {} critical, sections {:?})",
                    r.score,
                    r.unit.as_str(),
                    names.of(r.unit.as_str()),
                    r.findings,
                    r.critical,
                    r.sections
                );
            }
        }
    }
    Ok(())
}

/// The proposal, marked confidential, with each unit's risk and why it
/// was picked.
fn print_plan(outcome: &PlanOutcome) {
    println!("MẬT — proposal #{} (seed {}):", outcome.id, outcome.seed);
    for (i, u) in outcome.units.iter().enumerate() {
        println!(
            "{:>3}. {} {}  risk {:.2}  ({:?})",
            i + 1,
            u.code,
            u.name,
            u.risk,
            u.pick
        );
    }
    if outcome.recipients == 0 {
        eprintln!(
            "warning: email.inspection_team is empty; the proposal was recorded but not e-mailed"
        );
    }
}

async fn list(app: &App, format: Format) -> CliResult {
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
    Ok(())
}
