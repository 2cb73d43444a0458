//! One evaluation cycle: stored records → indicators → rules → findings,
//! with the notifications of each notifying transition (one per routed
//! recipient) written in the same transaction as the transition. The
//! grouping worker (`notify::alerts`) turns them into e-mails.
//!
//! This is the I/O shell around the pure modules `indicators`, `rules` and
//! `findings`; all decisions are made there. [`facts`] gathers what the
//! rules judge, and [`replay`] judges history in memory.

pub mod due;
mod facts;
mod replay;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::assess::{self, Judgement};
use crate::domain::{EmailAddress, Language, Severity, Unit, UnitCode};
use crate::findings::{Decision, EventKind, LastResult, State, Streak};
use crate::indicators::IndicatorValue;
use crate::live::Live;
use crate::metrics::Metrics;
use crate::notify::routing::{Facts, Routing};
use crate::rules::{Outcome, Rule};
use crate::storage::{FindingRecord, FindingTransition, NewNotification, Silence, Store};
use crate::time::Month;

pub use replay::ReplayEvent;

/// Evaluation under one live configuration.
#[derive(Clone, Copy, Debug)]
pub struct Evaluator<'a> {
    live: &'a Live,
}

/// What a cycle did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EvalReport {
    pub period: String,
    pub evaluated: u32,
    pub opened: u32,
    pub resolved: u32,
    pub other_transitions: u32,
    pub unknown: u32,
    pub notifications_queued: u32,
}

/// Who heard of each finding that is not resolved (by finding id).
type Audiences = HashMap<i64, Vec<(EmailAddress, Language)>>;

impl<'a> Evaluator<'a> {
    pub fn new(live: &'a Live) -> Evaluator<'a> {
        Evaluator { live }
    }

    pub async fn run(
        &self,
        store: &Store,
        metrics: &Metrics,
        now: DateTime<Utc>,
    ) -> anyhow::Result<EvalReport> {
        let units = store.units().await?;
        let values = self.recompute(store, &units, now).await?;
        let email = &self.live.settings.email;
        let routing = Routing::new(
            email.routes.clone(),
            email.inspection_team.clone(),
            email.unit_head_language,
            &units,
        );
        let silences = store.silences(Some(now)).await?;
        self.expire_silences(store, &units, &routing, &silences, now)
            .await?;
        let findings = store.findings().await?;
        // A resolution is announced to whoever heard of the finding.
        let audiences = store.finding_audiences().await?;
        let judgements = self.judge(store, &units, &values, now).await?;
        let mut cycle = Cycle {
            store,
            metrics,
            routing: &routing,
            silences: &silences,
            audiences: &audiences,
            by_key: findings
                .iter()
                .map(|f| ((f.rule_id.as_str(), f.unit_code.as_str()), f))
                .collect(),
            streaks: store.rule_streaks().await?,
            changed_streaks: Vec::new(),
            unchanged: Vec::new(),
            report: EvalReport {
                period: Month::containing(now).to_string(),
                ..EvalReport::default()
            },
            now,
        };
        for j in &judgements {
            cycle.apply(j).await?;
        }
        cycle.finish().await
    }

    /// Ends the silences that ran out: the finding is back, and if it still
    /// fails people hear of it again.
    async fn expire_silences(
        &self,
        store: &Store,
        units: &[Unit],
        routing: &Routing,
        silences: &[Silence],
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let unit_by_code: HashMap<&UnitCode, &Unit> = units.iter().map(|u| (&u.code, u)).collect();
        let expired = store
            .expire_finding_silences(now, |f| {
                let Some(unit) = unit_by_code.get(&f.unit_code).copied() else {
                    return Vec::new();
                };
                let Some(rule) = self.live.rules.rules.iter().find(|r| r.id == f.rule_id) else {
                    return Vec::new();
                };
                if f.last_result != LastResult::Fail || muted(silences, f.rule_id.as_str(), unit) {
                    return Vec::new();
                }
                notifications(
                    routing,
                    None,
                    EventKind::SilenceExpired,
                    unit,
                    rule,
                    f.severity,
                    &f.last_detail,
                )
            })
            .await?;
        for f in &expired {
            tracing::info!(finding = f.id, rule = %f.rule_id, unit = %f.unit_code, "silence expired");
        }
        Ok(())
    }

    /// Every applicable rule judged on its units, with the calendar's
    /// uncertainty marked in the evidence.
    async fn judge<'u>(
        &self,
        store: &Store,
        units: &'u [Unit],
        values: &[IndicatorValue],
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Judgement<'u>>>
    where
        'a: 'u,
    {
        let facts = self.facts(store, units, values, now).await?;
        let live: &'a Live = self.live;
        let mut judgements = assess::judge(&live.rules.rules, units, &facts, now);
        for j in &mut judgements {
            assess::mark_calendar_uncertainty(&mut j.evidence, &live.calendar, now);
        }
        Ok(judgements)
    }
}

/// Whether an active silence covers `rule` on `unit`.
fn muted(silences: &[Silence], rule: &str, unit: &Unit) -> bool {
    silences
        .iter()
        .any(|s| s.matches(rule, unit.code.as_str(), unit.kind.map(|k| k.as_str())))
}

/// One cycle's judgements applied to the findings, and what it did so far.
struct Cycle<'c> {
    store: &'c Store,
    metrics: &'c Metrics,
    routing: &'c Routing,
    silences: &'c [Silence],
    audiences: &'c Audiences,
    /// The findings by (rule, unit).
    by_key: HashMap<(&'c str, &'c str), &'c FindingRecord>,
    /// The stored streaks not yet judged this cycle.
    streaks: HashMap<(String, String), Streak>,
    changed_streaks: Vec<((String, String), Streak)>,
    /// Findings whose latest result is recorded without a transition.
    unchanged: Vec<(i64, LastResult, serde_json::Value)>,
    report: EvalReport,
    now: DateTime<Utc>,
}

impl Cycle<'_> {
    /// Takes one judgement's step: its hysteresis streak, and its finding's
    /// transition or the result the finding records.
    async fn apply(&mut self, j: &Judgement<'_>) -> anyhow::Result<()> {
        self.report.evaluated += 1;
        crate::health::progress();
        let outcome = &j.evaluation.outcome;
        if matches!(outcome, Outcome::Unknown(_)) {
            self.report.unknown += 1;
        }
        let key = (
            j.rule.id.as_str().to_owned(),
            j.unit.code.as_str().to_owned(),
        );
        let before = self.streaks.remove(&key).unwrap_or_default();
        let existing = self
            .by_key
            .get(&(j.rule.id.as_str(), j.unit.code.as_str()))
            .copied();
        let (decision, streak) = assess::step(existing.map(|f| f.current()), before, j);
        if streak != before {
            self.changed_streaks.push((key, streak));
        }
        match decision {
            Decision::Nothing => {}
            Decision::Record => {
                if let Some(f) = existing {
                    self.unchanged.push((
                        f.id,
                        LastResult::of(outcome),
                        serde_json::to_value(&j.evidence)?,
                    ));
                }
            }
            Decision::Transition {
                kind,
                state,
                severity,
            } => {
                let t = FindingTransition {
                    rule_id: j.rule.id.as_str().to_owned(),
                    unit_code: j.unit.code.as_str().to_owned(),
                    expected: existing.map(|f| (f.id, f.current())),
                    kind,
                    state,
                    severity,
                    last_result: LastResult::of(outcome),
                    evidence: serde_json::to_value(&j.evidence)?,
                    at: self.now,
                    actor: crate::domain::SYSTEM_ACTOR.into(),
                    note: None,
                };
                self.transition(j, &t, existing.map(|f| f.severity)).await?;
            }
        }
        Ok(())
    }

    /// Makes a finding's transition, with the notifications it causes in
    /// the same transaction, and counts it. `previous` is the finding's
    /// severity before.
    async fn transition(
        &mut self,
        j: &Judgement<'_>,
        t: &FindingTransition,
        previous: Option<Severity>,
    ) -> anyhow::Result<()> {
        let (rule, unit, kind) = (j.rule, j.unit, t.kind);
        let mut queued = 0;
        let applied = self
            .store
            .apply_finding_transition(t, |finding_id| {
                let n = self.notifications_of(j, t, previous, finding_id);
                queued = n.len() as u32;
                n
            })
            .await?;
        let Some(finding_id) = applied else {
            tracing::info!(rule = %rule.id, unit = %unit.code, "finding changed concurrently; skipped");
            return Ok(());
        };
        self.metrics
            .finding_transitions_total
            .with_label_values(&[kind.as_str()])
            .inc();
        let evidence = &j.evidence;
        tracing::info!(
            finding = finding_id,
            rule = %rule.id,
            unit = %unit.code,
            transition = kind.as_str(),
            severity = t.severity.as_str(),
            result = j.evaluation.outcome.label(),
            value = ?evidence.value,
            numerator = ?evidence.numerator,
            denominator = ?evidence.denominator,
            "finding {}",
            kind.as_str()
        );
        match kind {
            EventKind::Opened | EventKind::Reopened => self.report.opened += 1,
            EventKind::Resolved => self.report.resolved += 1,
            _ => self.report.other_transitions += 1,
        }
        self.report.notifications_queued += queued;
        Ok(())
    }

    /// The notifications of transition `t` of finding `finding_id`: none
    /// when it does not notify or the finding is silenced or muted.
    fn notifications_of(
        &self,
        j: &Judgement<'_>,
        t: &FindingTransition,
        previous: Option<Severity>,
        finding_id: i64,
    ) -> Vec<NewNotification> {
        let (rule, unit, kind) = (j.rule, j.unit, t.kind);
        if !kind.notifies(previous, t.severity)
            || t.state == State::Silenced
            || muted(self.silences, rule.id.as_str(), unit)
        {
            return Vec::new();
        }
        // A resolution is announced to whoever heard of the finding.
        let audience = (kind == EventKind::Resolved)
            .then(|| self.audiences.get(&finding_id))
            .flatten();
        notifications(
            self.routing,
            audience.map(Vec::as_slice),
            kind,
            unit,
            rule,
            t.severity,
            &t.evidence,
        )
    }

    /// Stores the streaks and results the cycle changed, and notes that it
    /// ran.
    async fn finish(self) -> anyhow::Result<EvalReport> {
        let mut changed = self.changed_streaks;
        // Streaks of pairs no longer judged (a rule removed, a unit retired)
        // are dropped, so that they cannot open a finding later.
        changed.extend(self.streaks.into_keys().map(|k| (k, Streak::default())));
        self.store.save_rule_streaks(&changed, self.now).await?;
        self.store
            .record_finding_results(&self.unchanged, self.now)
            .await?;
        self.store.note_evaluated(self.now).await?;
        Ok(self.report)
    }
}

/// One notification per recipient that `routing` names for a transition,
/// or, when given, per member of the finding's audience (those told of it).
fn notifications(
    routing: &Routing,
    audience: Option<&[(EmailAddress, Language)]>,
    kind: EventKind,
    unit: &Unit,
    rule: &Rule,
    severity: Severity,
    evidence: &serde_json::Value,
) -> Vec<NewNotification> {
    let to: Vec<(EmailAddress, Language)> = match audience {
        Some(told) => told.to_vec(),
        None => {
            let section = rule.section.number().to_string();
            routing
                .route(&Facts {
                    severity,
                    section: &section,
                    unit,
                })
                .into_iter()
                .map(|r| (r.address, r.language))
                .collect()
        }
    };
    if to.is_empty() {
        tracing::warn!(rule = %rule.id, unit = %unit.code, "no recipient for this alert: set the unit's head_email or email.routes");
    }
    to.into_iter()
        .map(|(recipient, language)| NewNotification {
            kind,
            recipient,
            language,
            source: rule.source().to_owned(),
            severity,
            evidence: evidence.clone(),
        })
        .collect()
}
