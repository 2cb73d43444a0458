//! What a cycle judges, gathered from the store: the indicators it
//! recomputes and stores, each window's values (whole-month windows summed
//! from the stored months, rolling ones computed from the records), the
//! earlier periods and 766 scores the rules compare with, and every
//! source's freshness.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use super::{Evaluator, due};
use crate::assess::{self, PeriodFacts, WindowFacts};
use crate::domain::{SourceHealth, SourceId, Unit, UnitCode};
use crate::indicators::{
    DeadlineRules, IndicatorValue, Inputs, aggregate_periods, compute, compute_for_units,
};
use crate::periods::Period;
use crate::rules::{Compare, Freshness, Rule};
use crate::storage::Store;
use crate::time::Month;
use crate::window::Window;

/// The sources whose records indicators are computed from.
const RECORD_SOURCES: [SourceId; 3] =
    [SourceId::Procedures, SourceId::Documents, SourceId::Reports];

impl Evaluator<'_> {
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
        for d in &dirty {
            // A unit no longer configured is not recomputed.
            if let Some(code) = all.iter().find(|c| **c == &d.unit) {
                todo.entry(d.month).or_default().insert(code);
            }
        }
        let as_of = self.data_as_of(store).await?;
        let mut current_values = Vec::new();
        for (month, units_to_do) in todo {
            let every_unit = units_to_do.len() == all.len();
            let values = self
                .compute_period(store, &all, &units_to_do, &month.into(), now)
                .await?;
            store
                .upsert_indicator_values(&month.to_string(), &values, every_unit, &as_of, now)
                .await?;
            if month == current {
                current_values = values;
            }
        }
        store.clear_dirty(&dirty).await?;
        Ok(current_values)
    }

    /// The indicators of `period` for `units` as at `now`, from the records
    /// it reads: every source's, as stored values need.
    pub(super) async fn compute_period(
        &self,
        store: &Store,
        all: &[&UnitCode],
        units: &BTreeSet<&UnitCode>,
        period: &Period,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<IndicatorValue>> {
        let every = BTreeSet::from(RECORD_SOURCES);
        self.compute_from(store, all, units, period, now, &every)
            .await
    }

    /// [`Self::compute_period`] from the records of `sources` only: the
    /// indicators of the others come out with nothing counted, for a
    /// window whose rules do not read them (a quarter's reports need no
    /// quarter of dossiers).
    async fn compute_from(
        &self,
        store: &Store,
        all: &[&UnitCode],
        units: &BTreeSet<&UnitCode>,
        period: &Period,
        now: DateTime<Utc>,
        sources: &BTreeSet<SourceId>,
    ) -> anyhow::Result<Vec<IndicatorValue>> {
        let (from, to) = (period.start(), period.end());
        let reads = |s: SourceId| sources.contains(&s);
        let (dossiers, petitions) = if reads(SourceId::Procedures) {
            (
                store.dossiers_for_period(from, to).await?,
                store.petitions_received_between(from, to).await?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let documents = if reads(SourceId::Documents) {
            store.documents_registered_between(from, to).await?
        } else {
            Vec::new()
        };
        let reports = if reads(SourceId::Reports) {
            store.reports_due_between(from, to).await?
        } else {
            Vec::new()
        };
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
        sources: &BTreeSet<SourceId>,
    ) -> anyhow::Result<Vec<IndicatorValue>> {
        let every: BTreeSet<&UnitCode> = all.iter().copied().collect();
        let Some(months) = crate::window::months_of(period) else {
            return self
                .compute_from(store, all, &every, period, at, sources)
                .await;
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
    pub(super) async fn window_facts(
        &self,
        store: &Store,
        rules: &[Rule],
        all: &[&UnitCode],
        w: Window,
        at: DateTime<Utc>,
        judged: (Month, &[IndicatorValue]),
    ) -> anyhow::Result<WindowFacts> {
        let period = w.period_at(at);
        let sources = assess::record_sources(rules, w);
        let values = self
            .period_values(store, all, &period, at, judged, &sources)
            .await?;
        let mut f = WindowFacts::new(period);
        if assess::compares_with(rules, w, Compare::PreviousPeriod) {
            let earlier = w.previous_period(at);
            f.previous = assess::by_unit(
                &self
                    .period_values(store, all, &earlier, at, judged, &sources)
                    .await?,
            );
        }
        if assess::compares_with(rules, w, Compare::LastYear) {
            let earlier = w.year_earlier_period(at);
            f.last_year = assess::by_unit(
                &self
                    .period_values(store, all, &earlier, at, judged, &sources)
                    .await?,
            );
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
    pub(super) async fn facts(
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

    /// What this evaluation would judge besides the records and the clock
    /// (see [`super::due`]).
    pub async fn inputs(&self, store: &Store, now: DateTime<Utc>) -> anyhow::Result<due::Inputs> {
        let mut sources: Vec<_> = self
            .freshness(store, now)
            .await?
            .into_values()
            .map(|f| {
                let fresh = f.is_fresh(now);
                (f.source, fresh, f.down)
            })
            .collect();
        sources.sort();
        Ok(due::Inputs {
            config: std::ptr::from_ref(self.live) as usize,
            day: crate::time::utc_to_local(now).date(),
            sources,
            stored: store.evaluation_inputs(now).await?,
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
                .filter(|s| s.health == SourceHealth::Down)
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
