//! People's actions on findings — acknowledge, silence, resolve — and the
//! queries behind `findings list/show`, shared by the CLI and the HTTP API.
//!
//! The decision is `findings::act` (pure); this module loads the finding,
//! asks it, and applies the result with its audit event.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::Severity;
use crate::findings::{Action, ActionError, State, act};
use crate::rules::RuleId;
use crate::storage::{FindingEvent, FindingRecord, StorageError, Store, WorkflowChange};

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("no finding #{0}")]
    NotFound(i64),
    #[error("finding #{id}: {error}")]
    Refused { id: i64, error: ActionError },
    #[error("finding #{0} changed while you were acting on it; look again")]
    Conflict(i64),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Filters for listing findings.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub unit: Option<String>,
    pub state: Option<State>,
    pub severity: Option<Severity>,
    /// Include resolved findings (the default lists active ones only).
    pub include_resolved: bool,
    /// Only findings of these rules (one rule, or a plan section's rules).
    pub rules: Option<Vec<RuleId>>,
    /// Only findings opened at or after this instant.
    pub opened_since: Option<DateTime<Utc>>,
}

impl Filter {
    fn matches(&self, f: &FindingRecord) -> bool {
        self.unit
            .as_deref()
            .is_none_or(|u| f.unit_code.as_str() == u)
            && self.state.is_none_or(|s| f.state == s)
            && self.severity.is_none_or(|s| f.severity == s)
            && (self.include_resolved || self.state.is_some() || f.state.is_active())
            && self.rules.as_ref().is_none_or(|r| r.contains(&f.rule_id))
            && self.opened_since.is_none_or(|t| f.opened_at >= t)
    }
}

pub async fn list(store: &Store, filter: &Filter) -> Result<Vec<FindingRecord>, StorageError> {
    Ok(store
        .findings()
        .await?
        .into_iter()
        .filter(|f| filter.matches(f))
        .collect())
}

/// A finding with its whole audit trail.
#[derive(Clone, Debug, Serialize)]
pub struct Detail {
    pub finding: FindingRecord,
    pub events: Vec<FindingEvent>,
}

pub async fn show(store: &Store, id: i64) -> Result<Detail, WorkflowError> {
    let finding = store
        .finding(id)
        .await?
        .ok_or(WorkflowError::NotFound(id))?;
    let events = store.finding_events(id).await?;
    Ok(Detail { finding, events })
}

/// Applies `action` by `actor` to finding `id`.
pub async fn apply(
    store: &Store,
    id: i64,
    action: Action,
    actor: &str,
    note: &str,
    now: DateTime<Utc>,
) -> Result<FindingRecord, WorkflowError> {
    let f = store
        .finding(id)
        .await?
        .ok_or(WorkflowError::NotFound(id))?;
    let (kind, state) = act(&f.current(), &action, actor, note, now)
        .map_err(|error| WorkflowError::Refused { id, error })?;
    let change = WorkflowChange {
        id,
        expected: f.current(),
        kind,
        state,
        actor: actor.trim().to_owned(),
        note: note.trim().to_owned(),
        silenced_until: match action {
            Action::Silence { until } => Some(until),
            _ => None,
        },
        at: now,
    };
    if !store.apply_workflow_change(&change).await? {
        return Err(WorkflowError::Conflict(id));
    }
    tracing::info!(
        finding = id,
        action = kind.as_str(),
        state = state.as_str(),
        "finding updated by a person"
    );
    store.finding(id).await?.ok_or(WorkflowError::NotFound(id))
}

/// Parses when a silence ends: a duration from now (`8h`, `3d`, `1w`), a
/// local date (`2026-12-01`, end of that day) or a local date and time
/// (`2026-12-01 17:00`).
pub fn parse_until(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(d) = humantime::parse_duration(t) {
        return chrono::Duration::from_std(d)
            .map(|d| now + d)
            .map_err(|_| format!("`{t}` is too long a duration"));
    }
    if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M") {
        return Ok(crate::time::local_to_utc(dt));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        let end = d
            .succ_opt()
            .ok_or("date out of range")?
            .and_hms_opt(0, 0, 0)
            .ok_or("bad time")?;
        return Ok(crate::time::local_to_utc(end));
    }
    Err(format!(
        "`{t}` is not a time: expected a duration (8h, 3d), a date (2026-12-01) or a date and time (2026-12-01 17:00)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn silences_end_at_a_duration_date_or_local_time() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 3, 0, 0).unwrap();
        assert_eq!(
            parse_until("8h", now).unwrap(),
            now + chrono::Duration::hours(8)
        );
        assert_eq!(
            parse_until("3days", now).unwrap(),
            now + chrono::Duration::days(3)
        );
        // The end of 1 December in Hanoi is 17:00 UTC that day.
        assert_eq!(
            parse_until("2026-12-01", now).unwrap().to_rfc3339(),
            "2026-12-01T17:00:00+00:00"
        );
        assert_eq!(
            parse_until("2026-12-01 17:00", now).unwrap().to_rfc3339(),
            "2026-12-01T10:00:00+00:00"
        );
        assert!(parse_until("soon", now).is_err());
    }
}
