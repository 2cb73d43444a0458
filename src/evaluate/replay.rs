//! `rules replay`: the rule set judged month by month against stored
//! history, in memory, through the same `assess` steps as live evaluation.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use super::Evaluator;
use crate::assess::{self, Judgement, PeriodFacts};
use crate::domain::UnitCode;
use crate::findings::{Current, Decision, EventKind, Evidence, LastResult, Streak};
use crate::rules::{Freshness, Rule};
use crate::storage::Store;
use crate::time::Month;

/// A transition `rules replay` found.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ReplayEvent {
    /// When live evaluation would have made it.
    pub at: DateTime<Utc>,
    pub period: String,
    pub rule_id: String,
    pub unit_code: String,
    pub kind: EventKind,
    pub severity: crate::domain::Severity,
    pub evidence: Evidence,
}

/// Each (rule, unit)'s finding and streak so far in a replay.
type Replayed = HashMap<(String, String), (Option<Current>, Streak)>;

impl Evaluator<'_> {
    /// Evaluates the rule set month by month against stored history, as
    /// live evaluation would have at the last second of each month, and
    /// returns the finding transitions it would have made. Writes nothing
    /// and sends nothing. Earlier months for trends are read as stored
    /// (computed from the records where they never were); sources count as
    /// fresh, so staleness rules are not replayed; people's actions
    /// (acknowledge, silence, manual resolve) are not part of history here.
    pub async fn replay(
        &self,
        store: &Store,
        from: Month,
        to: Month,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<ReplayEvent>> {
        let units = store.units().await?;
        let all: Vec<&UnitCode> = units.iter().map(|u| &u.code).collect();
        let rules: Vec<Rule> = self
            .live
            .rules
            .rules
            .iter()
            .filter(|r| !r.is_province_wide())
            .cloned()
            .collect();
        let mut replayed = Replayed::new();
        let mut out = Vec::new();
        let mut month = from;
        while month <= to && month.start() <= now {
            let at = (month.end() - chrono::Duration::seconds(1)).min(now);
            let facts = self.month_facts(store, &rules, &all, month, at).await?;
            for mut j in assess::judge(&rules, &units, &facts, at) {
                assess::mark_calendar_uncertainty(&mut j.evidence, &self.live.calendar, at);
                out.extend(replay_step(&mut replayed, &j, month, at));
            }
            month = month.next();
        }
        Ok(out)
    }

    /// What the rules see of `month` at `at`: its values computed from the
    /// records, each window's facts, and every source fresh.
    async fn month_facts(
        &self,
        store: &Store,
        rules: &[Rule],
        all: &[&UnitCode],
        month: Month,
        at: DateTime<Utc>,
    ) -> anyhow::Result<PeriodFacts> {
        let every: BTreeSet<&UnitCode> = all.iter().copied().collect();
        let values = self
            .compute_period(store, all, &every, &month.into(), at)
            .await?;
        let mut windows = HashMap::new();
        for w in assess::windows_needed(rules) {
            let f = self
                .window_facts(store, rules, all, w, at, (month, &values))
                .await?;
            windows.insert(w, f);
        }
        Ok(PeriodFacts {
            windows,
            freshness: ["procedures", "documents", "reports"]
                .into_iter()
                .map(|s| {
                    let f = Freshness {
                        source: s.to_owned(),
                        last_success: Some(at),
                        stale_after: chrono::Duration::days(1),
                        down: None,
                    };
                    (s.to_owned(), f)
                })
                .collect(),
        })
    }
}

/// One judgement's next step in memory, as live evaluation would take it:
/// the transition it makes, if any.
fn replay_step(
    replayed: &mut Replayed,
    j: &Judgement<'_>,
    month: Month,
    at: DateTime<Utc>,
) -> Option<ReplayEvent> {
    let key = (
        j.rule.id.as_str().to_owned(),
        j.unit.code.as_str().to_owned(),
    );
    let (current, streak) = replayed.get(&key).copied().unwrap_or_default();
    let (decision, streak) = assess::step(current, streak, j);
    let last_result = LastResult::of(&j.evaluation.outcome);
    let mut event = None;
    let current = match decision {
        Decision::Transition {
            kind,
            state,
            severity,
        } => {
            event = Some(ReplayEvent {
                at,
                period: month.to_string(),
                rule_id: key.0.clone(),
                unit_code: key.1.clone(),
                kind,
                severity,
                evidence: j.evidence.clone(),
            });
            Some(Current {
                state,
                severity,
                last_result,
            })
        }
        Decision::Record => current.map(|c| Current { last_result, ..c }),
        Decision::Nothing => current,
    };
    replayed.insert(key, (current, streak));
    event
}
