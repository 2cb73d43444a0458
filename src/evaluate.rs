//! One evaluation cycle: stored records → indicators → rules → findings,
//! with the notifications of each notifying transition (one per routed
//! recipient) written in the same transaction as the transition. The
//! grouping worker (`notify::alerts`) turns them into e-mails.
//!
//! This is the I/O shell around the pure modules `indicators`, `rules` and
//! `findings`; all decisions are made there.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use crate::assess::{self, PeriodFacts, WindowFacts};
use crate::domain::{Unit, UnitCode};
use crate::findings::{Current, Decision, EventKind, Evidence, LastResult, State, Streak};
use crate::indicators::{
    DeadlineRules, IndicatorValue, Inputs, aggregate_periods, compute, compute_for_units,
};
use crate::live::Live;
use crate::metrics::Metrics;
use crate::notify::routing::{Facts, Routing};
use crate::periods::Period;
use crate::rules::{Compare, Freshness, Outcome, Rule};
use crate::storage::{FindingTransition, NewNotification, Store};
use crate::time::Month;
use crate::window::Window;

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
        let period = Month::containing(now);
        let units = store.units().await?;
        let values = self.recompute(store, &units, now).await?;

        let unit_by_code: HashMap<&UnitCode, &Unit> = units.iter().map(|u| (&u.code, u)).collect();
        let email = &self.live.settings.email;
        let routing = Routing::new(
            email.routes.clone(),
            email.inspection_team.clone(),
            email.unit_head_language,
            &units,
        );
        let silences = store.silences(Some(now)).await?;
        let muted = |rule: &str, unit: &Unit| {
            silences
                .iter()
                .any(|s| s.matches(rule, unit.code.as_str(), unit.kind.map(|k| k.as_str())))
        };
        // Silences that ran out: the finding is back, and if it still fails
        // people hear of it again.
        let expired = store
            .expire_finding_silences(now, |f| {
                let Some(unit) = UnitCode::parse(&f.unit_code)
                    .ok()
                    .and_then(|c| unit_by_code.get(&c).copied())
                else {
                    return Vec::new();
                };
                let Some(rule) = self
                    .live
                    .rules
                    .rules
                    .iter()
                    .find(|r| r.id.as_str() == f.rule_id)
                else {
                    return Vec::new();
                };
                if f.last_result != LastResult::Fail || muted(&f.rule_id, unit) {
                    return Vec::new();
                }
                notifications(
                    &routing,
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
        let findings = store.findings().await?;
        // A resolution is announced to whoever heard of the finding.
        let audiences = store.finding_audiences().await?;
        let by_key: HashMap<(&str, &str), _> = findings
            .iter()
            .map(|f| ((f.rule_id.as_str(), f.unit_code.as_str()), f))
            .collect();
        let mut report = EvalReport {
            period: period.to_string(),
            ..EvalReport::default()
        };
        let mut unchanged = Vec::new();

        let facts = self.facts(store, &units, &values, now).await?;
        let mut judgements = assess::judge(&self.live.rules.rules, &units, &facts, now);
        for j in &mut judgements {
            assess::mark_calendar_uncertainty(&mut j.evidence, &self.live.calendar, now);
        }
        let mut streaks = store.rule_streaks().await?;
        let mut changed_streaks = Vec::new();

        for j in &judgements {
            let (rule, unit) = (j.rule, j.unit);
            report.evaluated += 1;
            crate::health::progress();
            let outcome = &j.evaluation.outcome;
            if matches!(outcome, Outcome::Unknown(_)) {
                report.unknown += 1;
            }
            let key = (rule.id.as_str().to_owned(), unit.code.as_str().to_owned());
            let before = streaks.remove(&key).unwrap_or_default();
            let existing = by_key.get(&(rule.id.as_str(), unit.code.as_str()));
            let (decision, streak) = assess::step(existing.map(|f| f.current()), before, j);
            if streak != before {
                changed_streaks.push((key, streak));
            }
            let evidence = &j.evidence;
            match decision {
                Decision::Nothing => {}
                Decision::Record => {
                    if let Some(f) = existing {
                        unchanged.push((
                            f.id,
                            LastResult::of(outcome),
                            serde_json::to_value(evidence)?,
                        ));
                    }
                }
                Decision::Transition {
                    kind,
                    state,
                    severity,
                } => {
                    let t = FindingTransition {
                        rule_id: rule.id.as_str().to_owned(),
                        unit_code: unit.code.as_str().to_owned(),
                        expected: existing.map(|f| (f.id, f.current())),
                        kind,
                        state,
                        severity,
                        last_result: LastResult::of(outcome),
                        evidence: serde_json::to_value(evidence)?,
                        at: now,
                        actor: crate::domain::SYSTEM_ACTOR.into(),
                        note: None,
                    };
                    let previous = existing.map(|f| f.severity);
                    let mut queued = 0;
                    let applied = store
                        .apply_finding_transition(&t, |finding_id| {
                            if !kind.notifies(previous, severity)
                                || state == State::Silenced
                                || muted(rule.id.as_str(), unit)
                            {
                                return Vec::new();
                            }
                            // A resolution is announced to whoever heard of
                            // the finding.
                            let audience = (kind == EventKind::Resolved)
                                .then(|| audiences.get(&finding_id))
                                .flatten();
                            let n = notifications(
                                &routing,
                                audience.map(Vec::as_slice),
                                kind,
                                unit,
                                rule,
                                severity,
                                &t.evidence,
                            );
                            queued = n.len() as u32;
                            n
                        })
                        .await?;
                    let Some(finding_id) = applied else {
                        tracing::info!(rule = %rule.id, unit = %unit.code, "finding changed concurrently; skipped");
                        continue;
                    };
                    metrics
                        .finding_transitions_total
                        .with_label_values(&[kind.as_str()])
                        .inc();
                    tracing::info!(
                        finding = finding_id,
                        rule = %rule.id,
                        unit = %unit.code,
                        transition = kind.as_str(),
                        severity = severity.as_str(),
                        result = outcome.label(),
                        value = ?evidence.value,
                        numerator = ?evidence.numerator,
                        denominator = ?evidence.denominator,
                        "finding {}",
                        kind.as_str()
                    );
                    match kind {
                        EventKind::Opened | EventKind::Reopened => report.opened += 1,
                        EventKind::Resolved => report.resolved += 1,
                        _ => report.other_transitions += 1,
                    }
                    report.notifications_queued += queued;
                }
            }
        }
        // Streaks of pairs no longer judged (a rule removed, a unit retired)
        // are dropped, so that they cannot open a finding later.
        changed_streaks.extend(streaks.into_keys().map(|k| (k, Streak::default())));
        store.save_rule_streaks(&changed_streaks, now).await?;
        store.record_finding_results(&unchanged, now).await?;
        store.note_evaluated(now).await?;
        Ok(report)
    }

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
        let every: BTreeSet<&UnitCode> = all.iter().copied().collect();
        let rules: Vec<Rule> = self
            .live
            .rules
            .rules
            .iter()
            .filter(|r| !r.is_province_wide())
            .cloned()
            .collect();
        let mut state: HashMap<(String, String), (Option<Current>, Streak)> = HashMap::new();
        let mut out = Vec::new();
        let mut month = from;
        while month <= to && month.start() <= now {
            let at = (month.end() - chrono::Duration::seconds(1)).min(now);
            let values = self
                .compute_period(store, &all, &every, &month.into(), at)
                .await?;
            let mut windows = HashMap::new();
            for w in assess::windows_needed(&rules) {
                let f = self
                    .window_facts(store, &rules, &all, w, at, (month, &values))
                    .await?;
                windows.insert(w, f);
            }
            let facts = PeriodFacts {
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
            };
            for mut j in assess::judge(&rules, &units, &facts, at) {
                assess::mark_calendar_uncertainty(&mut j.evidence, &self.live.calendar, at);
                let key = (
                    j.rule.id.as_str().to_owned(),
                    j.unit.code.as_str().to_owned(),
                );
                let (current, streak) = state.get(&key).copied().unwrap_or_default();
                let (decision, streak) = assess::step(current, streak, &j);
                let last_result = LastResult::of(&j.evaluation.outcome);
                let current = match decision {
                    Decision::Transition {
                        kind,
                        state: s,
                        severity,
                    } => {
                        out.push(ReplayEvent {
                            at,
                            period: month.to_string(),
                            rule_id: key.0.clone(),
                            unit_code: key.1.clone(),
                            kind,
                            severity,
                            evidence: j.evidence.clone(),
                        });
                        Some(Current {
                            state: s,
                            severity,
                            last_result,
                        })
                    }
                    Decision::Record => current.map(|c| Current { last_result, ..c }),
                    Decision::Nothing => current,
                };
                state.insert(key, (current, streak));
            }
            month = month.next();
        }
        Ok(out)
    }

    /// Recomputes the indicators that can have changed and stores them:
    /// the current month for every unit (its open dossiers age by the
    /// hour), the previous month once more after it ended (judged at its
    /// end), and any (unit, month) whose records changed since it was last
    /// computed. Returns the current month's values.
    pub async fn recompute(
        &self,
        store: &Store,
        units: &[Unit],
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<IndicatorValue>> {
        let current = Month::containing(now);
        let all: Vec<&UnitCode> = units.iter().map(|u| &u.code).collect();
        let dirty = store.dirty_periods().await?;
        let mut todo: BTreeMap<Month, BTreeSet<&UnitCode>> = BTreeMap::new();
        todo.insert(current, all.iter().copied().collect());
        let previous = current.previous();
        if store
            .period_computed_at(&previous.to_string())
            .await?
            .is_none_or(|t| t < previous.end())
        {
            todo.insert(previous, all.iter().copied().collect());
        }
        for (unit, period, _) in &dirty {
            let (Ok(month), Some(code)) = (
                period.parse::<Month>(),
                all.iter().find(|c| c.as_str() == unit),
            ) else {
                continue;
            };
            todo.entry(month).or_default().insert(code);
        }
        let as_of = self.data_as_of(store).await?;
        let mut current_values = Vec::new();
        for (month, units_to_do) in todo {
            let values = self
                .compute_period(store, &all, &units_to_do, &month.into(), now)
                .await?;
            store.upsert_indicator_values(&values, &as_of, now).await?;
            if month == current {
                current_values = values;
            }
        }
        store.clear_dirty(&dirty).await?;
        Ok(current_values)
    }

    /// The indicators of `period` for `units` as at `now`, from the records
    /// it reads.
    async fn compute_period(
        &self,
        store: &Store,
        all: &[&UnitCode],
        units: &BTreeSet<&UnitCode>,
        period: &Period,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<IndicatorValue>> {
        let (from, to) = (period.start(), period.end());
        let dossiers = store.dossiers_for_period(from, to).await?;
        let petitions = store.petitions_received_between(from, to).await?;
        let documents = store.documents_registered_between(from, to).await?;
        let reports = store.reports_due_between(from, to).await?;
        let ind = &self.live.settings.indicators;
        let rules = DeadlineRules {
            calendar: &self.live.calendar,
            statutory_days: &ind.statutory_days,
            default_statutory_days: ind.default_statutory_days,
        };
        let inputs = Inputs::new(all.iter().copied())
            .with_dossiers(&dossiers)
            .with_petitions(&petitions)
            .with_documents(&documents)
            .with_reports(&reports);
        Ok(if units.len() == all.len() {
            compute(&inputs, period, now, &rules, ind.evidence_sample)
        } else {
            compute_for_units(
                &inputs,
                units.iter().copied(),
                period,
                now,
                &rules,
                ind.evidence_sample,
            )
        })
    }

    /// The values of `period` as at `at`, for every unit of `all`. A period
    /// made of whole months is summed from its months so far: the month
    /// `judged` as given (computed this cycle), the others as stored (judged
    /// at their end), or computed from the records where never stored. Any
    /// other period (a rolling window) is computed from the records.
    async fn period_values(
        &self,
        store: &Store,
        all: &[&UnitCode],
        period: &Period,
        at: DateTime<Utc>,
        judged: (Month, &[IndicatorValue]),
    ) -> anyhow::Result<Vec<IndicatorValue>> {
        let every: BTreeSet<&UnitCode> = all.iter().copied().collect();
        let Some(months) = crate::window::months_of(period) else {
            return self.compute_period(store, all, &every, period, at).await;
        };
        let months: Vec<Month> = months.into_iter().filter(|m| m.start() <= at).collect();
        if months == [judged.0] {
            return Ok(judged.1.to_vec());
        }
        let others: Vec<String> = months
            .iter()
            .filter(|m| **m != judged.0)
            .map(Month::to_string)
            .collect();
        let mut stored = store.stored_indicator_values(&others).await?;
        let mut parts = Vec::new();
        for m in &months {
            if *m == judged.0 {
                parts.extend_from_slice(judged.1);
                continue;
            }
            let id = m.to_string();
            let mine: Vec<IndicatorValue> = stored.extract_if(.., |v| v.period == id).collect();
            if mine.is_empty() {
                let month: Period = (*m).into();
                let computed = self
                    .compute_period(store, all, &every, &month, m.end().min(at))
                    .await?;
                parts.extend(computed);
            } else {
                parts.extend(mine);
            }
        }
        if months.len() == 1 {
            return Ok(parts);
        }
        Ok(aggregate_periods(
            &parts,
            &period.id(),
            self.live.settings.indicators.evidence_sample,
        ))
    }

    /// What the rules judged over window `w` see at `at`: its values, the
    /// earlier periods' when a trend compares with them, and the 766 scores
    /// when a rule reads them (with the portal's online-services score for
    /// a calendar month).
    async fn window_facts(
        &self,
        store: &Store,
        rules: &[Rule],
        all: &[&UnitCode],
        w: Window,
        at: DateTime<Utc>,
        judged: (Month, &[IndicatorValue]),
    ) -> anyhow::Result<WindowFacts> {
        let period = w.period_at(at);
        let values = self.period_values(store, all, &period, at, judged).await?;
        let mut f = WindowFacts::new(period);
        if assess::compares_with(rules, w, Compare::PreviousPeriod) {
            let earlier = w.previous_period(at);
            f.previous =
                assess::by_unit(&self.period_values(store, all, &earlier, at, judged).await?);
        }
        if assess::compares_with(rules, w, Compare::LastYear) {
            let earlier = w.year_earlier_period(at);
            f.last_year =
                assess::by_unit(&self.period_values(store, all, &earlier, at, judged).await?);
        }
        if assess::scores_over(rules, w) {
            let portal = match period.portal_key() {
                Some(key) => store.portal_scores(&key).await?,
                None => Vec::new(),
            };
            // Ours take the portal's ONLINE_SERVICES of the month only.
            let online: &[_] = if period.as_month().is_some() {
                &portal
            } else {
                &[]
            };
            f.scores = assess::scores(&values, online, &self.live.settings.indicators.bands);
            f.official = portal
                .into_iter()
                .map(|p| (p.unit_code.clone(), p))
                .collect();
        }
        f.current = assess::by_unit(&values);
        Ok(f)
    }

    /// How current each source's data is (its last good poll's start).
    async fn data_as_of<'s>(
        &self,
        store: &Store,
    ) -> anyhow::Result<HashMap<&'s str, DateTime<Utc>>> {
        let mut out = HashMap::new();
        for s in store.source_states().await? {
            let name: &'s str = match s.source.as_str() {
                "procedures" => "procedures",
                "documents" => "documents",
                "reports" => "reports",
                _ => continue,
            };
            if let Some(t) = s.data_as_of {
                out.insert(name, t);
            }
        }
        Ok(out)
    }

    /// What the rules judge: each window they are judged over (from the
    /// current month's values just computed and the stored months), the
    /// earlier periods and 766 scores where a rule needs them, and every
    /// source's freshness.
    async fn facts(
        &self,
        store: &Store,
        units: &[Unit],
        values: &[IndicatorValue],
        now: DateTime<Utc>,
    ) -> anyhow::Result<PeriodFacts> {
        let rules = &self.live.rules.rules;
        let all: Vec<&UnitCode> = units.iter().map(|u| &u.code).collect();
        let judged = (Month::containing(now), values);
        let mut windows = HashMap::new();
        for w in assess::windows_needed(rules) {
            let f = self
                .window_facts(store, rules, &all, w, now, judged)
                .await?;
            windows.insert(w, f);
        }
        Ok(PeriodFacts {
            windows,
            freshness: self.freshness(store, now).await?,
        })
    }

    /// How fresh every source's data is, and whether it is down.
    async fn freshness(
        &self,
        store: &Store,
        now: DateTime<Utc>,
    ) -> anyhow::Result<HashMap<String, Freshness>> {
        let states = store.source_states().await?;
        let mut out = HashMap::new();
        // A source that is not enabled is absent: rules on its data are
        // unknown, and its staleness is not judged.
        for source in ["procedures", "documents", "reports", "portal", "units"] {
            let Some(settings) = self.live.settings.sources.get(source).filter(|s| s.enabled)
            else {
                continue;
            };
            let state = states.iter().find(|s| s.source == source);
            let stale_after = settings.stale_after(now);
            let down = state
                .filter(|s| s.health == "down")
                .map(|s| u32::try_from(s.consecutive_failures).unwrap_or(u32::MAX));
            out.insert(
                source.to_owned(),
                Freshness {
                    source: source.to_owned(),
                    last_success: state.and_then(|s| s.last_success_at),
                    stale_after: chrono::Duration::from_std(stale_after)?,
                    down,
                },
            );
        }
        Ok(out)
    }
}

/// One notification per recipient that `routing` names for a transition,
/// or, when given, per member of the finding's audience (those told of it).
fn notifications(
    routing: &Routing,
    audience: Option<&[(crate::domain::EmailAddress, crate::domain::Language)]>,
    kind: EventKind,
    unit: &Unit,
    rule: &Rule,
    severity: crate::domain::Severity,
    evidence: &serde_json::Value,
) -> Vec<NewNotification> {
    let to: Vec<(crate::domain::EmailAddress, crate::domain::Language)> = match audience {
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
