//! Adding indicator values up: across units (a department and its
//! divisions, a province and its communes) and across periods (months into
//! a quarter).
//!
//! Values add by summing numerators and denominators, never by averaging
//! percentages: two communes at 1/1 and 0/99 make 1/100, not 50%. Samples are
//! merged and cut back to the limit, keeping the smallest ids, which is the
//! sample [`compute`](super::compute) would have kept for the whole.
//!
//! Summing periods sums each period's judgement: a dossier still open is
//! judged at the end of each month it is counted in, so twelve months added
//! up can differ from the year computed at once, where it is judged at the
//! year's end.

use std::collections::BTreeMap;

use crate::domain::{Ratio, UnitCode};

use super::tally::merge_samples;
use super::{IndicatorId, IndicatorValue};

/// Sums values into groups of units, per indicator and period.
///
/// `group_of` names the group a unit's values go to (for instance its
/// parent); values of units it maps to `None` are left out. Groups come out
/// in code order, then period id, then indicator. A group that received no
/// value of some indicator gets none: give every unit every indicator (as
/// `compute` does) to have 0/0 show up.
pub fn aggregate(
    values: &[IndicatorValue],
    group_of: impl Fn(&UnitCode) -> Option<UnitCode>,
    sample_limit: usize,
) -> Vec<IndicatorValue> {
    regroup(
        values,
        |value| group_of(&value.unit_code).map(|group| (group, value.period.clone())),
        sample_limit,
    )
}

/// Sums each unit's values over periods into one period with id `period`,
/// e.g. three months into a quarter. The periods summed should not overlap,
/// or records in both are counted twice.
pub fn aggregate_periods(
    values: &[IndicatorValue],
    period: &str,
    sample_limit: usize,
) -> Vec<IndicatorValue> {
    regroup(
        values,
        |value| Some((value.unit_code.clone(), period.to_owned())),
        sample_limit,
    )
}

fn regroup(
    values: &[IndicatorValue],
    key_of: impl Fn(&IndicatorValue) -> Option<(UnitCode, String)>,
    sample_limit: usize,
) -> Vec<IndicatorValue> {
    type Key = (UnitCode, String, IndicatorId);
    let mut groups: BTreeMap<Key, (Ratio, Vec<&[String]>)> = BTreeMap::new();
    for value in values {
        let Some((unit_code, period)) = key_of(value) else {
            continue;
        };
        let (ratio, samples) = groups
            .entry((unit_code, period, value.indicator))
            .or_default();
        *ratio = *ratio + value.ratio;
        samples.push(&value.sample);
    }
    groups
        .into_iter()
        .map(
            |((unit_code, period, indicator), (ratio, samples))| IndicatorValue {
                unit_code,
                indicator,
                period,
                ratio,
                sample: merge_samples(samples, sample_limit),
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};
    use proptest::prelude::*;

    use super::*;
    use crate::domain::{
        Apology, Channel, Direction, Document, Dossier, DossierStatus, OnlinePayment, Petition,
        Report, ReportStatus, Satisfaction, SupplementRequest,
    };
    use crate::indicators::fixtures::{
        LIMIT, Records, at, compute_all, document, dossier, petition, report, unit,
    };

    fn value(
        unit_code: &str,
        period: &str,
        indicator: IndicatorId,
        ratio: (u64, u64),
        sample: &[&str],
    ) -> IndicatorValue {
        IndicatorValue {
            unit_code: unit(unit_code),
            indicator,
            period: period.into(),
            ratio: Ratio::new(ratio.0, ratio.1),
            sample: sample.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Every unit's parent is the province, H44.
    fn province(_: &UnitCode) -> Option<UnitCode> {
        Some(unit("H44"))
    }

    #[test]
    fn aggregation_sums_parts_instead_of_averaging_percentages() {
        let values = [
            // One commune at 1/1 (100%), another at 0/99 (0%).
            value("H44.100", "2026-08", IndicatorId::OnTime, (1, 1), &[]),
            value(
                "H44.101",
                "2026-08",
                IndicatorId::OnTime,
                (0, 99),
                &["X3", "X1", "X2"],
            ),
        ];
        let sum = aggregate(&values, province, 2);
        // 1/100 (1%), not the 50% an average of percentages would give; the
        // sample keeps the two smallest ids.
        assert_eq!(
            sum,
            [value(
                "H44",
                "2026-08",
                IndicatorId::OnTime,
                (1, 100),
                &["X1", "X2"]
            )]
        );
    }

    #[test]
    fn aggregation_keeps_periods_and_indicators_apart_and_drops_ungrouped_units() {
        let values = [
            value("H44.100", "2026-08", IndicatorId::OnTime, (1, 2), &["A"]),
            value("H44.100", "2026-09", IndicatorId::OnTime, (3, 4), &["B"]),
            value("H44.100", "2026-08", IndicatorId::Vneid, (5, 6), &["C"]),
            value("H44.200", "2026-08", IndicatorId::OnTime, (7, 8), &["D"]),
        ];
        // Communes H44.1xx belong to H44.1; H44.200 belongs to nothing.
        let group_of = |u: &UnitCode| u.as_str().starts_with("H44.1").then(|| unit("H44.1"));
        let sums = aggregate(&values, group_of, LIMIT);
        assert_eq!(
            sums,
            [
                value("H44.1", "2026-08", IndicatorId::OnTime, (1, 2), &["A"]),
                value("H44.1", "2026-08", IndicatorId::Vneid, (5, 6), &["C"]),
                value("H44.1", "2026-09", IndicatorId::OnTime, (3, 4), &["B"]),
            ]
        );
    }

    #[test]
    fn periods_add_up_per_unit_and_indicator() {
        let values = [
            value("H44.07", "2026-07", IndicatorId::OnTime, (1, 2), &["B"]),
            value("H44.07", "2026-08", IndicatorId::OnTime, (3, 4), &["A"]),
            value("H44.08", "2026-08", IndicatorId::OnTime, (0, 0), &[]),
        ];
        assert_eq!(
            aggregate_periods(&values, "2026-Q3", LIMIT),
            [
                value(
                    "H44.07",
                    "2026-Q3",
                    IndicatorId::OnTime,
                    (4, 6),
                    &["A", "B"]
                ),
                value("H44.08", "2026-Q3", IndicatorId::OnTime, (0, 0), &[]),
            ]
        );
    }

    const UNITS: [&str; 5] = ["H44.07", "H44.08", "H44.100", "H44.101", "H44.102"];

    /// Values of random units, periods and indicators. Sample ids are unique
    /// per unit and period, as record ids are.
    fn any_values() -> impl Strategy<Value = Vec<IndicatorValue>> {
        let one = (
            0..UNITS.len(),
            0..3usize,
            0..IndicatorId::COUNT,
            0..50u64,
            0..50u64,
            0..6usize,
            any::<u16>(),
        );
        prop::collection::vec(one, 0..40).prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(n, (u, p, i, num, den, samples, salt))| IndicatorValue {
                    unit_code: unit(UNITS[u]),
                    indicator: IndicatorId::ALL[i],
                    period: format!("2026-0{}", p + 7),
                    ratio: Ratio::new(num, den),
                    sample: {
                        let mut ids: Vec<String> = (0..samples)
                            .map(|k| format!("{}-{n}-{}", UNITS[u], usize::from(salt) + k))
                            .collect();
                        ids.sort();
                        ids
                    },
                })
                .collect()
        })
    }

    /// Communes H44.1xx report to H44.1; departments to themselves.
    fn parent(u: &UnitCode) -> Option<UnitCode> {
        if u.as_str().starts_with("H44.1") {
            Some(unit("H44.1"))
        } else {
            Some(u.clone())
        }
    }

    /// Aggregates the units of `values` that `in_first` picks and the others
    /// apart, then the two results together; and all of them at once.
    fn unit_sets_apart_and_together(
        values: &[IndicatorValue],
        in_first: &[bool],
        limit: usize,
    ) -> (Vec<IndicatorValue>, Vec<IndicatorValue>) {
        let picked = |u: &UnitCode| {
            let position = UNITS.iter().position(|x| *x == u.as_str());
            in_first[position.expect("known unit")]
        };
        let (first, second): (Vec<_>, Vec<_>) =
            values.iter().cloned().partition(|v| picked(&v.unit_code));
        let mut parts = aggregate(&first, parent, limit);
        parts.extend(aggregate(&second, parent, limit));
        let combined = aggregate(&parts, |u| Some(u.clone()), limit);
        (combined, aggregate(values, parent, limit))
    }

    /// Sums the periods of `values` before `boundary` and from it apart,
    /// then the two sums together; and all periods at once.
    fn periods_apart_and_together(
        values: &[IndicatorValue],
        boundary: &str,
        limit: usize,
    ) -> (Vec<IndicatorValue>, Vec<IndicatorValue>) {
        let (early, late): (Vec<_>, Vec<_>) = values
            .iter()
            .cloned()
            .partition(|v| v.period.as_str() < boundary);
        let mut parts = aggregate_periods(&early, "2026-Q3", limit);
        parts.extend(aggregate_periods(&late, "2026-Q3", limit));
        let combined = aggregate_periods(&parts, "2026-Q3", limit);
        (combined, aggregate_periods(values, "2026-Q3", limit))
    }

    proptest! {
        #[test]
        fn aggregating_disjoint_unit_sets_then_combining_equals_aggregating_the_union(
            values in any_values(),
            in_first in prop::collection::vec(any::<bool>(), UNITS.len()),
            limit in 0..8usize,
        ) {
            let (combined, whole) = unit_sets_apart_and_together(&values, &in_first, limit);
            prop_assert_eq!(combined, whole);
        }

        #[test]
        fn aggregating_disjoint_periods_then_combining_equals_aggregating_them_all(
            values in any_values(),
            split in 7..10u32,
            limit in 0..8usize,
        ) {
            let boundary = format!("2026-0{split}");
            let (combined, whole) = periods_apart_and_together(&values, &boundary, limit);
            prop_assert_eq!(combined, whole);
        }
    }

    // From records: the laws above hold for what `compute` produces.

    const RECORD_UNITS: [&str; 4] = ["H44.07", "H44.08", "H44.100", "H44.101"];

    /// 20/6/2026 00:00 local: records start a little before the third quarter
    /// so that its edges are crossed.
    fn origin() -> DateTime<Utc> {
        at(20, 6, 0)
    }

    /// A dossier from random facts; `finished` makes it terminal.
    #[allow(clippy::too_many_arguments)]
    fn build_dossier(
        n: usize,
        unit_index: usize,
        received_minutes: i64,
        length_minutes: i64,
        due_minutes: Option<i64>,
        status: u8,
        flags: u16,
        apologies: usize,
        supplements: usize,
    ) -> Dossier {
        let received = origin() + Duration::minutes(received_minutes);
        let end = received + Duration::minutes(length_minutes);
        let status = [
            DossierStatus::Done,
            DossierStatus::Returned,
            DossierStatus::Refused,
            DossierStatus::Withdrawn,
            DossierStatus::InProgress,
            DossierStatus::SupplementRequested,
        ][usize::from(status)];
        let flag = |bit: u16| flags & (1 << bit) != 0;
        Dossier {
            unit_code: unit(RECORD_UNITS[unit_index]),
            status,
            channel: if flag(0) {
                Channel::Online
            } else {
                Channel::InPerson
            },
            received_at: Some(received),
            due_at: due_minutes.map(|m| received + Duration::minutes(m)),
            finished_at: (status == DossierStatus::Done).then_some(end),
            returned_at: (status == DossierStatus::Returned).then_some(end),
            refused_at: (status == DossierStatus::Refused).then_some(end),
            updated_at: Some(end),
            has_fees: flag(1),
            online_payment: if flag(2) {
                OnlinePayment::NationalPortal
            } else {
                OnlinePayment::NotPaidOnline
            },
            digitized: flag(3),
            e_result: flag(4),
            vneid_authenticated: flag(5),
            synced_to_portal: flag(6),
            shared_to_citizen_store: flag(7),
            used_population_data: flag(8),
            satisfaction: flag(9).then_some(Satisfaction::Dissatisfied),
            apologies: vec![
                Apology {
                    issued_at: None,
                    reason: None,
                    new_due_at: None
                };
                apologies
            ],
            supplements: (0..supplements)
                .map(|k| SupplementRequest {
                    requested_at: received + Duration::hours(k as i64 + 1),
                    completed_at: flag(10).then(|| received + Duration::hours(k as i64 + 5)),
                    old_due_at: None,
                    new_due_at: None,
                })
                .collect(),
            ..dossier(&format!("D{n:03}"))
        }
    }

    /// Minutes from [`origin`] to past the end of the third quarter.
    const SPAN: i64 = 115 * 24 * 60;

    fn any_dossiers(finished_only: bool) -> impl Strategy<Value = Vec<Dossier>> {
        let statuses = if finished_only { 0..4u8 } else { 0..6u8 };
        let one = (
            0..RECORD_UNITS.len(),
            0..SPAN,
            0..30 * 24 * 60i64,
            prop::option::weighted(0.9, 0..20 * 24 * 60i64),
            statuses,
            any::<u16>(),
            0..3usize,
            0..3usize,
        );
        prop::collection::vec(one, 0..40).prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(n, (u, r, l, d, s, f, a, k))| build_dossier(n, u, r, l, d, s, f, a, k))
                .collect()
        })
    }

    fn any_petitions() -> impl Strategy<Value = Vec<Petition>> {
        let one = (
            0..RECORD_UNITS.len(),
            0..SPAN,
            prop::option::of(0..30 * 24 * 60i64),
            prop::option::of(0..3usize),
        );
        prop::collection::vec(one, 0..15).prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(n, (u, r, answer, rating))| {
                    let received = origin() + Duration::minutes(r);
                    Petition {
                        unit_code: unit(RECORD_UNITS[u]),
                        received_at: Some(received),
                        answered_at: answer.map(|m| received + Duration::minutes(m)),
                        satisfaction: rating.map(|k| {
                            [
                                Satisfaction::Satisfied,
                                Satisfaction::Neutral,
                                Satisfaction::Dissatisfied,
                            ][k]
                        }),
                        ..petition(&format!("P{n:03}"))
                    }
                })
                .collect()
        })
    }

    fn any_documents() -> impl Strategy<Value = Vec<Document>> {
        let one = (
            0..RECORD_UNITS.len(),
            0..SPAN,
            any::<u8>(),
            prop::option::of(0..20 * 24 * 60i64),
            prop::option::of(0..20 * 24 * 60i64),
        );
        prop::collection::vec(one, 0..15).prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(n, (u, r, flags, due, done))| {
                    let registered = origin() + Duration::minutes(r);
                    let flag = |bit: u8| flags & (1 << bit) != 0;
                    let direction = if flag(0) {
                        Direction::Incoming
                    } else {
                        Direction::Outgoing
                    };
                    Document {
                        unit_code: unit(RECORD_UNITS[u]),
                        registered_at: Some(registered),
                        electronic: flag(1),
                        signed: flag(2),
                        signature_verified: flag(3).then_some(flag(4)),
                        filed_electronically: flag(5),
                        due_at: due.map(|m| registered + Duration::minutes(m)),
                        completed_at: done.map(|m| registered + Duration::minutes(m)),
                        ..document(&format!("V{n:03}"), direction)
                    }
                })
                .collect()
        })
    }

    fn any_reports() -> impl Strategy<Value = Vec<Report>> {
        let one = (
            0..RECORD_UNITS.len(),
            0..SPAN,
            0..4usize,
            prop::option::of(-5 * 24 * 60..5 * 24 * 60i64),
        );
        prop::collection::vec(one, 0..15).prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(n, (u, due, status, submitted))| {
                    let due_at = origin() + Duration::minutes(due);
                    Report {
                        unit_code: unit(RECORD_UNITS[u]),
                        due_at,
                        status: [
                            ReportStatus::Draft,
                            ReportStatus::Submitted,
                            ReportStatus::Returned,
                            ReportStatus::Accepted,
                        ][status],
                        submitted_at: submitted.map(|m| due_at + Duration::minutes(m)),
                        ..report(&format!("R{n:03}"))
                    }
                })
                .collect()
        })
    }

    fn all_units() -> Vec<UnitCode> {
        RECORD_UNITS.iter().map(|u| unit(u)).collect()
    }

    /// Records of every kind for the four units of [`RECORD_UNITS`].
    #[derive(Debug)]
    struct AllRecords {
        dossiers: Vec<Dossier>,
        petitions: Vec<Petition>,
        documents: Vec<Document>,
        reports: Vec<Report>,
    }

    impl AllRecords {
        fn records(&self) -> Records<'_> {
            Records {
                dossiers: &self.dossiers,
                petitions: &self.petitions,
                documents: &self.documents,
                reports: &self.reports,
            }
        }

        /// Every unit's values over `period`, summed into the province.
        fn province_total(
            &self,
            units: &[UnitCode],
            period: &str,
            as_of: DateTime<Utc>,
        ) -> Vec<IndicatorValue> {
            aggregate(
                &compute_all(self.records(), units, period, as_of),
                province,
                LIMIT,
            )
        }
    }

    fn any_records(finished_only: bool) -> impl Strategy<Value = AllRecords> {
        (
            any_dossiers(finished_only),
            any_petitions(),
            any_documents(),
            any_reports(),
        )
            .prop_map(|(dossiers, petitions, documents, reports)| AllRecords {
                dossiers,
                petitions,
                documents,
                reports,
            })
    }

    /// Computes the units `in_first` picks and the others apart, sums each
    /// part into the province, then the parts together; and all at once.
    fn computed_apart_and_together(
        all: &AllRecords,
        in_first: &[bool],
        as_of: DateTime<Utc>,
    ) -> (Vec<IndicatorValue>, Vec<IndicatorValue>) {
        let units = all_units();
        let (first, second): (Vec<UnitCode>, Vec<UnitCode>) = units
            .iter()
            .cloned()
            .partition(|u| in_first[units.iter().position(|x| x == u).expect("known")]);
        let mut parts = all.province_total(&first, "2026-Q3", as_of);
        parts.extend(all.province_total(&second, "2026-Q3", as_of));
        let combined = aggregate(&parts, |u| Some(u.clone()), LIMIT);
        (combined, all.province_total(&units, "2026-Q3", as_of))
    }

    /// The three months of the third quarter computed and summed, and the
    /// quarter computed at once.
    fn months_and_quarter(
        all: &AllRecords,
        as_of: DateTime<Utc>,
    ) -> (Vec<IndicatorValue>, Vec<IndicatorValue>) {
        let units = all_units();
        let months: Vec<IndicatorValue> = ["2026-07", "2026-08", "2026-09"]
            .into_iter()
            .flat_map(|month| compute_all(all.records(), &units, month, as_of))
            .collect();
        let quarter = compute_all(all.records(), &units, "2026-Q3", as_of);
        (
            aggregate_periods(&months, "2026-Q3", LIMIT),
            aggregate_periods(&quarter, "2026-Q3", LIMIT),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn computing_two_unit_sets_apart_then_aggregating_equals_aggregating_all(
            all in any_records(false),
            in_first in prop::collection::vec(any::<bool>(), RECORD_UNITS.len()),
            as_of_minutes in 0..SPAN,
        ) {
            let as_of = origin() + Duration::minutes(as_of_minutes);
            let (combined, whole) = computed_apart_and_together(&all, &in_first, as_of);
            prop_assert_eq!(combined, whole);
        }

        #[test]
        fn the_months_of_a_quarter_add_up_to_the_quarter_for_finished_dossiers(
            all in any_records(true),
            as_of_minutes in 0..SPAN,
        ) {
            // Finished dossiers are judged on their own end, whichever period
            // they are counted in; open ones would be judged at each period's
            // end, which differs between a month and its quarter.
            let as_of = origin() + Duration::minutes(as_of_minutes);
            let (months, quarter) = months_and_quarter(&all, as_of);
            prop_assert_eq!(months, quarter);
        }
    }
}
