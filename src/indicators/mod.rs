//! Indicators: pure functions from records to numerators and denominators.
//!
//! Nothing here does I/O or reads a clock: the period and the `as_of` time
//! are arguments. Every indicator is a [`Ratio`] plus a bounded, sorted
//! sample of the ids of the records that count against the unit (for on-time
//! resolution the late dossiers, for missing reports the missing ones), which
//! findings keep as evidence. A value is never a bare percentage, so values
//! add up across units ([`aggregate`]) and periods ([`aggregate_periods`]).
//!
//! [`compute`] is the entry point; [`compute_for_units`] restricts it to the
//! units whose records changed, and [`compute_periods`] runs it for several
//! periods on several threads. [`Inputs`] groups the records by unit once;
//! each call then makes one pass over them for one period, counting into
//! fixed per-unit tallies, with no allocation per record, and copying only
//! the sampled ids into strings. [`counts_766`] turns one unit's values into
//! the counts Decision 766's index is scored from.
//!
//! # When things are judged
//!
//! `as_of` is the moment the records describe (normally "now"). Decision 766
//! judges a dossier that is still unfinished "at the end of the period", so
//! on-time resolution, and everything that depends on which dossiers were
//! late, judges unfinished dossiers at the earlier of `as_of` and the
//! period's end. The backlog and the other record families are judged at
//! `as_of` itself: an open dossier, an unanswered petition, an unhandled
//! incoming document or a missing report is overdue now, whichever period it
//! started in. The module documentation of each family states its rules.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Document, Dossier, Petition, Ratio, Report, UnitCode};
use crate::periods::Period;

mod aggregate;
mod counts766;
mod documents;
#[cfg(test)]
mod fixtures;
mod id;
mod on_time;
mod petitions;
mod procedures;
mod reports;
mod tally;

pub use aggregate::{aggregate, aggregate_periods};
pub use counts766::{counts_766, counts_766_from_ratios};
pub use id::IndicatorId;
pub use on_time::{DeadlineRules, LateReason, OnTime, judge_on_time};
pub use petitions::PETITION_ANSWER_DAYS;

use on_time::end_of_processing;
use tally::Tally;

/// An indicator value for one unit and period, with its evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndicatorValue {
    pub unit_code: UnitCode,
    pub indicator: IndicatorId,
    /// The period's id (see [`Period`]), e.g. `2026-08`.
    pub period: String,
    pub ratio: Ratio,
    /// Up to `sample_limit` ids of the records that count against the unit,
    /// sorted: the smallest ids, so that the sample does not depend on the
    /// order records arrive in. For an indicator where higher is better these
    /// are the denominator's records outside the numerator (the late
    /// dossiers); where lower is better, the numerator's (the missing
    /// reports). See [`IndicatorId::higher_is_better`].
    pub sample: Vec<String>,
}

/// The records indicators are computed from, grouped by unit once so that
/// each [`compute`] is a single pass per period.
///
/// Only the units given to [`Inputs::new`] get values. Records of any other
/// unit are left out (and counted by [`Inputs::unmatched_records`]), so that
/// a record with a mistyped unit code cannot create a phantom unit.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// Sorted and distinct: a unit's position is its slot.
    units: Vec<&'a UnitCode>,
    slot_of: HashMap<&'a str, u32>,
    dossiers: Grouped<'a, Dossier>,
    petitions: Grouped<'a, Petition>,
    documents: Grouped<'a, Document>,
    reports: Grouped<'a, Report>,
}

/// Records with, for each, the slot of its unit and the instants at which
/// it may fall into a period, so that a pass over one period can skip the
/// records of other periods without reading them.
///
/// Keys stay in record order, so a pass reads the records front to back.
#[derive(Debug)]
struct Grouped<'a, T> {
    records: &'a [T],
    /// One per record of a known unit, in record order.
    keys: Vec<Key>,
    /// Records of no known unit.
    unmatched: usize,
}

#[derive(Debug, Clone, Copy)]
struct Key {
    index: u32,
    slot: u32,
    /// Unix seconds (rounded down) of the instants that place the record in
    /// a period, e.g. a dossier's receipt and end of processing; `NEVER` for
    /// an instant the record does not have.
    instants: [i64; 2],
}

const NEVER: i64 = i64::MIN;

impl<T> Default for Grouped<'_, T> {
    fn default() -> Self {
        Self {
            records: &[],
            keys: Vec::new(),
            unmatched: 0,
        }
    }
}

/// A record family as [`Grouped`] files it: the unit a record belongs to,
/// and the instants at which it may fall into a period.
trait Placed {
    fn placed(&self) -> (&UnitCode, [Option<DateTime<Utc>>; 2]);
}

impl Placed for Dossier {
    /// A dossier falls into a period by its receipt or by its end.
    fn placed(&self) -> (&UnitCode, [Option<DateTime<Utc>>; 2]) {
        (&self.unit_code, [self.received_at, end_of_processing(self)])
    }
}

impl Placed for Petition {
    fn placed(&self) -> (&UnitCode, [Option<DateTime<Utc>>; 2]) {
        (&self.unit_code, [self.received_at, None])
    }
}

impl Placed for Document {
    fn placed(&self) -> (&UnitCode, [Option<DateTime<Utc>>; 2]) {
        (&self.unit_code, [self.registered_at, None])
    }
}

impl Placed for Report {
    fn placed(&self) -> (&UnitCode, [Option<DateTime<Utc>>; 2]) {
        (&self.unit_code, [Some(self.due_at), None])
    }
}

impl<'a, T: Placed> Grouped<'a, T> {
    fn new(records: &'a [T], slot_of: &HashMap<&str, u32>) -> Self {
        let mut keys = Vec::with_capacity(records.len());
        for (index, record) in records.iter().enumerate() {
            let (unit, instants) = record.placed();
            let Some(&slot) = slot_of.get(unit.as_str()) else {
                continue;
            };
            keys.push(Key {
                index: u32::try_from(index).expect("fewer than 4 billion records"),
                slot,
                instants: instants.map(|t| t.map_or(NEVER, |t| t.timestamp())),
            });
        }
        let unmatched = records.len() - keys.len();
        Self {
            records,
            keys,
            unmatched,
        }
    }

    /// The records of wanted units that may fall into the window, each with
    /// its unit's slot. The family's `count` makes the exact decision.
    fn in_window<'s>(
        &'s self,
        wanted: &'s [bool],
        window: &'s Window<'_>,
    ) -> impl Iterator<Item = (&'a T, usize)> + 's {
        let records = self.records;
        self.keys.iter().filter_map(move |key| {
            let slot = key.slot as usize;
            let relevant = wanted[slot] && key.instants.iter().any(|&t| window.may_contain(t));
            relevant.then(|| (&records[key.index as usize], slot))
        })
    }
}

impl<'a> Inputs<'a> {
    /// Inputs for these units, with no records yet: every unit will get a
    /// value for every indicator, 0/0 when it has no records, so that "no
    /// data" is visible rather than absent.
    pub fn new(units: impl IntoIterator<Item = &'a UnitCode>) -> Self {
        let mut units: Vec<&UnitCode> = units.into_iter().collect();
        units.sort_unstable();
        units.dedup();
        let slot_of = units
            .iter()
            .enumerate()
            .map(|(slot, &unit)| {
                let slot = u32::try_from(slot).expect("fewer than 4 billion units");
                (unit.as_str(), slot)
            })
            .collect();
        Self {
            units,
            slot_of,
            dossiers: Grouped::default(),
            petitions: Grouped::default(),
            documents: Grouped::default(),
            reports: Grouped::default(),
        }
    }

    pub fn with_dossiers(mut self, dossiers: &'a [Dossier]) -> Self {
        self.dossiers = Grouped::new(dossiers, &self.slot_of);
        self
    }

    pub fn with_petitions(mut self, petitions: &'a [Petition]) -> Self {
        self.petitions = Grouped::new(petitions, &self.slot_of);
        self
    }

    pub fn with_documents(mut self, documents: &'a [Document]) -> Self {
        self.documents = Grouped::new(documents, &self.slot_of);
        self
    }

    pub fn with_reports(mut self, reports: &'a [Report]) -> Self {
        self.reports = Grouped::new(reports, &self.slot_of);
        self
    }

    /// The units values are computed for, sorted.
    pub fn units(&self) -> impl Iterator<Item = &'a UnitCode> + '_ {
        self.units.iter().copied()
    }

    /// How many records belong to no unit of these inputs and are ignored.
    pub fn unmatched_records(&self) -> usize {
        self.dossiers.unmatched
            + self.petitions.unmatched
            + self.documents.unmatched
            + self.reports.unmatched
    }
}

/// What every record family needs to know about the period being computed.
#[derive(Debug)]
pub(crate) struct Window<'r> {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// `start` rounded down and `end` rounded up to whole seconds, to
    /// compare with the records' [`Key`]s.
    start_second: i64,
    end_second: i64,
    /// The moment the records describe.
    pub(crate) as_of: DateTime<Utc>,
    /// When Decision 766 judges unfinished dossiers: the period's end, or
    /// `as_of` if that comes first.
    pub(crate) judged_at: DateTime<Utc>,
    pub(crate) rules: &'r DeadlineRules<'r>,
    pub(crate) sample_limit: usize,
}

impl<'r> Window<'r> {
    fn new(
        period: &Period,
        as_of: DateTime<Utc>,
        rules: &'r DeadlineRules<'r>,
        sample_limit: usize,
    ) -> Self {
        // The bounds go through the time zone database: work them out once,
        // not once per record.
        let (start, end) = (period.start(), period.end());
        let round_up = i64::from(end.timestamp_subsec_nanos() > 0);
        Self {
            start,
            end,
            start_second: start.timestamp(),
            end_second: end.timestamp() + round_up,
            as_of,
            judged_at: as_of.min(end),
            rules,
            sample_limit,
        }
    }

    pub(crate) fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    /// Whether an instant in the whole second `second` may be in the window:
    /// never false for an instant that [`contains`](Self::contains) accepts.
    fn may_contain(&self, second: i64) -> bool {
        self.start_second <= second && second < self.end_second
    }
}

/// One tally per indicator for one unit.
pub(crate) struct Tallies<'a>([Tally<'a>; IndicatorId::COUNT]);

impl<'a> Tallies<'a> {
    fn new() -> Self {
        Self(std::array::from_fn(|_| Tally::default()))
    }

    pub(crate) fn of(&mut self, indicator: IndicatorId) -> &mut Tally<'a> {
        &mut self.0[indicator.index()]
    }

    /// Counts a record in an indicator's denominator. `good` says whether it
    /// is what the unit should achieve: the numerator takes it when `good`
    /// for an indicator where higher is better, when not `good` for one where
    /// lower is better; the sample takes it when not `good`.
    pub(crate) fn record(&mut self, indicator: IndicatorId, good: bool, id: &'a str, limit: usize) {
        let tally = self.of(indicator);
        tally.record(good == indicator.higher_is_better());
        if !good {
            tally.offer(id, limit);
        }
    }
}

/// Computes every indicator for every unit of `input` over `period`.
///
/// Returns one value per unit and indicator, units in code order and
/// indicators in [`IndicatorId::ALL`] order, each with at most
/// `sample_limit` ids of evidence. `as_of` is the moment the records
/// describe (see the module documentation for what is judged when).
pub fn compute(
    input: &Inputs<'_>,
    period: &Period,
    as_of: DateTime<Utc>,
    rules: &DeadlineRules<'_>,
    sample_limit: usize,
) -> Vec<IndicatorValue> {
    let everyone = vec![true; input.units.len()];
    compute_selected(input, &everyone, period, as_of, rules, sample_limit)
}

/// Like [`compute`], for only some of the units: to recompute the units
/// whose records changed. Units that are not among the inputs' units are
/// ignored (their records were never grouped).
pub fn compute_for_units<'u>(
    input: &Inputs<'_>,
    units: impl IntoIterator<Item = &'u UnitCode>,
    period: &Period,
    as_of: DateTime<Utc>,
    rules: &DeadlineRules<'_>,
    sample_limit: usize,
) -> Vec<IndicatorValue> {
    let mut wanted = vec![false; input.units.len()];
    for unit in units {
        if let Some(&slot) = input.slot_of.get(unit.as_str()) {
            wanted[slot as usize] = true;
        }
    }
    compute_selected(input, &wanted, period, as_of, rules, sample_limit)
}

/// [`compute`] for several periods, e.g. the twelve months of a year, with
/// the periods shared out over `threads` threads (one if 0). Values come in
/// the order of `periods`, each period's as `compute` gives them.
///
/// The passes share the grouped inputs and never each other's tallies, so
/// the periods are independent and split without any locking.
pub fn compute_periods(
    input: &Inputs<'_>,
    periods: &[Period],
    as_of: DateTime<Utc>,
    rules: &DeadlineRules<'_>,
    sample_limit: usize,
    threads: usize,
) -> Vec<IndicatorValue> {
    let per_thread = periods.len().div_ceil(threads.max(1)).max(1);
    let compute_each = |periods: &[Period]| -> Vec<IndicatorValue> {
        periods
            .iter()
            .flat_map(|period| compute(input, period, as_of, rules, sample_limit))
            .collect()
    };
    if per_thread >= periods.len() {
        return compute_each(periods);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = periods
            .chunks(per_thread)
            .map(|chunk| scope.spawn(move || compute_each(chunk)))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| match handle.join() {
                Ok(values) => values,
                // A panic in a pass is a bug; carry it to the caller as is.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

fn compute_selected(
    input: &Inputs<'_>,
    wanted: &[bool],
    period: &Period,
    as_of: DateTime<Utc>,
    rules: &DeadlineRules<'_>,
    sample_limit: usize,
) -> Vec<IndicatorValue> {
    let window = Window::new(period, as_of, rules, sample_limit);
    // Tallies hold no heap memory until they sample something, so one per
    // unit costs little even when only a few units are wanted.
    let mut tallies: Vec<Tallies<'_>> = wanted.iter().map(|_| Tallies::new()).collect();
    for (dossier, slot) in input.dossiers.in_window(wanted, &window) {
        procedures::count(dossier, &window, &mut tallies[slot]);
    }
    for (petition, slot) in input.petitions.in_window(wanted, &window) {
        petitions::count(petition, &window, &mut tallies[slot]);
    }
    for (document, slot) in input.documents.in_window(wanted, &window) {
        documents::count(document, &window, &mut tallies[slot]);
    }
    for (report, slot) in input.reports.in_window(wanted, &window) {
        reports::count(report, &window, &mut tallies[slot]);
    }

    let period_id = period.id();
    let mut values = Vec::with_capacity(wanted.len() * IndicatorId::COUNT);
    for ((unit, tallies), _) in input
        .units
        .iter()
        .zip(&mut tallies)
        .zip(wanted)
        .filter(|(_, wanted)| **wanted)
    {
        for &indicator in IndicatorId::ALL {
            let tally = tallies.of(indicator);
            values.push(IndicatorValue {
                unit_code: (*unit).clone(),
                indicator,
                period: period_id.clone(),
                ratio: tally.ratio(),
                sample: tally.sample(sample_limit),
            });
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;

    use super::fixtures::{
        Deadlines, LIMIT, Records, UNIT, at, compute_all, done, dossier, period, unit,
    };
    use super::*;
    use crate::time::local_to_utc;

    /// A local wall-clock time, `dd/mm/yyyy hh:mm`, as UTC.
    fn local(text: &str) -> DateTime<Utc> {
        local_to_utc(NaiveDateTime::parse_from_str(text, "%d/%m/%Y %H:%M").expect("valid"))
    }

    #[test]
    fn every_unit_gets_every_indicator_even_without_records() {
        let units = [unit(UNIT), unit("H44.08")];
        let dossiers = [done("A", at(7, 8, 9))];
        let records = Records {
            dossiers: &dossiers,
            ..Records::default()
        };
        let values = compute_all(records, &units, "2026-08", at(5, 9, 10));
        assert_eq!(values.len(), 2 * IndicatorId::COUNT);
        // Units in code order, indicators in their declared order.
        let expected: Vec<(&str, IndicatorId)> = [UNIT, "H44.08"]
            .into_iter()
            .flat_map(|u| IndicatorId::ALL.iter().map(move |&i| (u, i)))
            .collect();
        let got: Vec<(&str, IndicatorId)> = values
            .iter()
            .map(|v| (v.unit_code.as_str(), v.indicator))
            .collect();
        assert_eq!(got, expected);
        assert!(values.iter().all(|v| v.period == "2026-08"));
        // The unit with no records shows 0/0 everywhere: no data, visibly.
        for v in values.iter().filter(|v| v.unit_code.as_str() == "H44.08") {
            assert_eq!(v.ratio, Ratio::new(0, 0), "{}", v.indicator);
            assert!(v.sample.is_empty());
        }
    }

    #[test]
    fn records_of_units_outside_the_inputs_are_left_out_and_counted() {
        let stray = Dossier {
            unit_code: unit("H44.99"),
            ..done("A", at(7, 8, 9))
        };
        let dossiers = [stray, done("B", at(7, 8, 9))];
        let units = [unit(UNIT)];
        let inputs = Inputs::new(&units).with_dossiers(&dossiers);
        assert_eq!(inputs.unmatched_records(), 1);
        assert_eq!(inputs.units().collect::<Vec<_>>(), [&unit(UNIT)]);
        let records = Records {
            dossiers: &dossiers,
            ..Records::default()
        };
        let values = compute_all(records, &units, "2026-08", at(5, 9, 10));
        assert!(values.iter().all(|v| v.unit_code.as_str() == UNIT));
        let on_time = values.iter().find(|v| v.indicator == IndicatorId::OnTime);
        assert_eq!(on_time.map(|v| v.ratio), Some(Ratio::new(1, 1)));
    }

    #[test]
    fn computing_for_some_units_gives_exactly_their_values() {
        let units = [unit("H44.07"), unit("H44.08"), unit("H44.09")];
        let dossiers: Vec<Dossier> = units
            .iter()
            .enumerate()
            .flat_map(|(n, u)| {
                // Unit n has n + 1 dossiers, the first on time, the rest late.
                (0..=n).map(move |k| Dossier {
                    unit_code: u.clone(),
                    ..done(&format!("{u}-{k}"), at(7 + 5 * u32::from(k > 0), 8, 9))
                })
            })
            .collect();
        let deadlines = Deadlines::new();
        let rules = deadlines.rules();
        let inputs = Inputs::new(&units).with_dossiers(&dossiers);
        let august = period("2026-08");
        let all = compute(&inputs, &august, at(5, 9, 10), &rules, LIMIT);
        // H44.42 is not an input unit: ignored.
        let wanted = [unit("H44.08"), unit("H44.42")];
        let some = compute_for_units(&inputs, &wanted, &august, at(5, 9, 10), &rules, LIMIT);
        let expected: Vec<IndicatorValue> = all
            .into_iter()
            .filter(|v| v.unit_code.as_str() == "H44.08")
            .collect();
        assert_eq!(some, expected);
        let on_time = some.iter().find(|v| v.indicator == IndicatorId::OnTime);
        // H44.08 has two dossiers: one done 7/8 (on time), one done 12/8 (late).
        assert_eq!(on_time.map(|v| v.ratio), Some(Ratio::new(1, 2)));
    }

    #[test]
    fn several_periods_on_several_threads_give_each_period_in_order() {
        let dossiers: Vec<Dossier> = (1..=12)
            .map(|month| Dossier {
                received_at: Some(local(&format!("15/{month:02}/2026 09:00"))),
                ..dossier(&format!("D{month:02}"))
            })
            .collect();
        let deadlines = Deadlines::new();
        let rules = deadlines.rules();
        let units = [unit(UNIT), unit("H44.08")];
        let inputs = Inputs::new(&units).with_dossiers(&dossiers);
        let months: Vec<Period> = (1..=12).map(|m| period(&format!("2026-{m:02}"))).collect();
        let as_of = local("01/01/2027 00:00");
        let one_by_one: Vec<IndicatorValue> = months
            .iter()
            .flat_map(|p| compute(&inputs, p, as_of, &rules, LIMIT))
            .collect();
        for threads in [0, 1, 2, 5, 12, 40] {
            let together = compute_periods(&inputs, &months, as_of, &rules, LIMIT, threads);
            assert_eq!(together, one_by_one, "{threads} threads");
        }
        // Each month received its one dossier.
        let received: Vec<u64> = one_by_one
            .iter()
            .filter(|v| v.unit_code.as_str() == UNIT && v.indicator == IndicatorId::OnTime)
            .map(|v| v.ratio.denominator)
            .collect();
        assert_eq!(received, [1; 12]);
    }

    #[test]
    fn the_sample_is_bounded_and_keeps_the_smallest_ids() {
        // Thirty late dossiers, coded D-00 … D-29, arriving in a scrambled
        // order (7 is coprime with 30, so k ↦ 7k mod 30 visits every code).
        let dossiers: Vec<Dossier> = (0..30)
            .map(|k| done(&format!("D-{:02}", (7 * k) % 30), at(12, 8, 9)))
            .collect();
        let deadlines = Deadlines::new();
        let rules = deadlines.rules();
        let units = [unit(UNIT)];
        let inputs = Inputs::new(&units).with_dossiers(&dossiers);
        let values = compute(&inputs, &period("2026-08"), at(5, 9, 10), &rules, 5);
        let on_time = values.iter().find(|v| v.indicator == IndicatorId::OnTime);
        let on_time = on_time.expect("on-time is computed");
        assert_eq!(on_time.ratio, Ratio::new(0, 30));
        assert_eq!(on_time.sample, ["D-00", "D-01", "D-02", "D-03", "D-04"]);
    }

    #[test]
    fn each_kind_of_period_takes_the_records_inside_its_local_bounds() {
        // In-person dossiers received at the edges of periods. Online
        // submission samples every in-person dossier it counts, so its
        // sample lists exactly the dossiers the period took in.
        let received = [
            ("a", "31/12/2025 23:59"),
            ("b", "01/01/2026 00:00"),
            ("c", "31/03/2026 23:59"),
            ("d", "01/04/2026 00:00"),
            ("e", "13/08/2026 23:59"),
            ("f", "14/08/2026 00:00"),
            ("g", "14/08/2026 23:59"),
            ("h", "15/08/2026 00:00"),
            ("i", "31/08/2026 23:59"),
            ("j", "01/09/2026 00:00"),
            ("k", "14/12/2026 23:59"),
            ("l", "15/12/2026 00:00"),
        ];
        let dossiers: Vec<Dossier> = received
            .iter()
            .map(|&(code, t)| Dossier {
                received_at: Some(local(t)),
                ..dossier(code)
            })
            .collect();
        let cases: [(&str, &str); 14] = [
            ("2025-12", "a"),
            ("2026-08", "efghi"),
            // Quarters: Q1 runs to 31/3 23:59, Q2 from 1/4 00:00.
            ("2026-Q1", "bc"),
            ("2026-Q2", "d"),
            ("2026-Q3", "efghij"),
            ("2026", "bcdefghijkl"),
            ("2026-YTD-08", "bcdefghi"),
            // Reporting windows: from the 15th 00:00 to the 14th 23:59.
            ("W2026-08", "efg"),
            ("W2026-09", "hij"),
            ("W2026-Q1", "ab"),
            ("W2026", "abcdefghijk"),
            ("W2027-01", "l"),
            // The 7 days through 20/8: 14/8 00:00 to 21/8 00:00.
            ("R7D-20260820", "fgh"),
            // The single day 13/8.
            ("R1D-20260813", "e"),
        ];
        let as_of = local("01/06/2027 00:00");
        for (id, expected) in cases {
            let records = Records {
                dossiers: &dossiers,
                ..Records::default()
            };
            let values = compute_all(records, &[unit(UNIT)], id, as_of);
            let online = values
                .iter()
                .find(|v| v.indicator == IndicatorId::OnlineSubmission)
                .expect("computed");
            let expected: Vec<String> = expected.chars().map(String::from).collect();
            assert_eq!(online.sample, expected, "{id}");
            assert_eq!(online.ratio, Ratio::new(0, expected.len() as u64), "{id}");
            assert_eq!(online.period, id);
        }
    }
}
