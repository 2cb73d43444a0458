//! `findings`: list them, show one with its audit trail, and people's
//! actions on one (acknowledge, silence, resolve).

use clap::Subcommand;

use crate::config::Settings;
use crate::findings::Action;
use crate::storage::{FindingEvent, Store};
use crate::time::format_local;
use crate::workflow::{self, Detail, Filter};

use super::error::{CliError, CliResult};
use super::load::open_store;
use super::output::{Format, UnitNames, evidence_value, finding_line, print_json};

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

pub(super) fn parse_state(s: &str) -> Result<crate::findings::State, String> {
    s.parse()
}

pub(super) fn parse_severity(s: &str) -> Result<crate::domain::Severity, String> {
    s.parse()
}

/// `par-monitor findings …`. A refused action (no such finding, a state
/// that does not allow it) exits 2; a database failure 1.
pub async fn run(settings: Settings, command: FindingsCommand) -> CliResult {
    let store = open_store(&settings).await?;
    let now = chrono::Utc::now();
    let names = UnitNames::new(store.units().await.unwrap_or_default());
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
                ..Filter::default()
            };
            return list(&store, &filter, &names, format).await;
        }
        FindingsCommand::Show { id, format } => {
            let detail = workflow::show(&store, id).await?;
            match format {
                Format::Json => print_json(&detail),
                Format::Text => print_detail(&detail, &names),
            }
            return Ok(());
        }
        FindingsCommand::Ack { id, by, note } => (id, Action::Acknowledge, by, note),
        FindingsCommand::Silence {
            id,
            by,
            until,
            note,
        } => {
            let until = workflow::parse_until(&until, now)
                .map_err(|e| CliError::usage(format!("--until: {e}")))?;
            (id, Action::Silence { until }, by, note)
        }
        FindingsCommand::Resolve { id, by, note } => (id, Action::Resolve, by, note),
    };
    let f = workflow::apply(&store, id, action, &by, &note, now).await?;
    println!("{}", finding_line(&f, &names.of(f.unit_code.as_str())));
    Ok(())
}

async fn list(store: &Store, filter: &Filter, names: &UnitNames, format: Format) -> CliResult {
    let rows = crate::tables::findings_newest_first(store, filter).await?;
    match format {
        Format::Json => print_json(&rows),
        Format::Text => {
            if rows.is_empty() {
                println!("Không có phát hiện nào phù hợp.");
            }
            for f in &rows {
                println!("{}", finding_line(f, &names.of(f.unit_code.as_str())));
            }
        }
    }
    Ok(())
}

/// The finding's line, who acknowledged or silenced it, and its audit
/// trail with the evidence at each step.
fn print_detail(d: &Detail, names: &UnitNames) {
    let f = &d.finding;
    println!("{}", finding_line(f, &names.of(f.unit_code.as_str())));
    if let (Some(by), Some(at)) = (&f.acknowledged_by, f.acknowledged_at) {
        println!("      {by} tiếp nhận lúc {}", format_local(at));
    }
    if let Some(until) = f.silenced_until {
        println!(
            "      tạm ẩn đến {} bởi {}: {}",
            format_local(until),
            f.silenced_by.as_deref().unwrap_or("?"),
            f.silence_reason.as_deref().unwrap_or("")
        );
    }
    println!("Lịch sử xử lý:");
    for e in &d.events {
        println!("{}", event_line(e));
    }
}

fn event_line(e: &FindingEvent) -> String {
    format!(
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
    )
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
