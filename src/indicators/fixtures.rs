//! What the indicator tests share: a working calendar, local times, units
//! and records with everything but the point of the test filled in.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::calendar::WorkCalendar;
use crate::domain::{
    Direction, Document, Dossier, DossierStatus, Petition, PetitionCategory, Report, ReportStatus,
    UnitCode,
};
use crate::periods::Period;
use crate::time::local_to_utc;

use super::{DeadlineRules, IndicatorId, IndicatorValue, Inputs, compute};

/// The unit most tests are about.
pub(crate) const UNIT: &str = "H44.07";

/// Samples in tests are large enough to list every record that counts
/// against the unit, so that the sample shows exactly which records counted.
pub(crate) const LIMIT: usize = 50;

pub(crate) fn unit(code: &str) -> UnitCode {
    UnitCode::parse(code).expect("test unit codes are valid")
}

/// Local wall-clock time in the province on `day`/`month`/2026, as UTC.
pub(crate) fn at(day: u32, month: u32, hour: u32) -> DateTime<Utc> {
    at_minute(day, month, hour, 0)
}

pub(crate) fn at_minute(day: u32, month: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    local_to_utc(
        NaiveDate::from_ymd_opt(2026, month, day)
            .expect("valid test date")
            .and_hms_opt(hour, minute, 0)
            .expect("valid test time"),
    )
}

/// The 2026 National Day break as the government set it: Monday 31/8,
/// Tuesday 1/9 and Wednesday 2/9 off, with Saturday 22/8 worked in exchange
/// for the Monday. So in August and September 2026:
///
/// ```text
/// August:    Mon 3 … Fri 7 · Mon 10 … Fri 14 · Mon 17 … Fri 21 · Sat 22 (worked)
///            Mon 24 … Fri 28 · Mon 31 (off)
/// September: Tue 1, Wed 2 (off) · Thu 3, Fri 4 · Mon 7 …
/// ```
pub(crate) fn calendar() -> WorkCalendar {
    let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).expect("valid");
    WorkCalendar::new([day(8, 31), day(9, 1), day(9, 2)], [day(8, 22)])
}

/// Procedure `2.002` has a statutory limit of 3 working days; others none.
pub(crate) fn statutory_days() -> BTreeMap<String, u32> {
    BTreeMap::from([("2.002".to_string(), 3)])
}

/// The test [`calendar`] and [`statutory_days`], which the deadline rules
/// borrow.
pub(crate) struct Deadlines {
    calendar: WorkCalendar,
    statutory_days: BTreeMap<String, u32>,
}

impl Deadlines {
    pub(crate) fn new() -> Self {
        Deadlines {
            calendar: calendar(),
            statutory_days: statutory_days(),
        }
    }

    pub(crate) fn rules(&self) -> DeadlineRules<'_> {
        DeadlineRules {
            calendar: &self.calendar,
            statutory_days: &self.statutory_days,
            default_statutory_days: None,
        }
    }
}

/// A dossier of [`UNIT`], received in person on Monday 3/8 09:00, promised
/// for Monday 10/8 17:00, and still being processed.
pub(crate) fn dossier(code: &str) -> Dossier {
    Dossier {
        status: DossierStatus::InProgress,
        received_at: Some(at(3, 8, 9)),
        due_at: Some(at(10, 8, 17)),
        ..Dossier::new(code, unit(UNIT), "1.001")
    }
}

/// `dossier(code)` finished (processing done) at `finished`.
pub(crate) fn done(code: &str, finished: DateTime<Utc>) -> Dossier {
    Dossier {
        status: DossierStatus::Done,
        finished_at: Some(finished),
        ..dossier(code)
    }
}

/// A petition to [`UNIT`] about a procedure, received Monday 3/8 09:00, with
/// no deadline of its own and no answer yet.
pub(crate) fn petition(code: &str) -> Petition {
    Petition {
        code: code.into(),
        unit_code: unit(UNIT),
        category: PetitionCategory::Procedure,
        received_at: Some(at(3, 8, 9)),
        due_at: None,
        answered_at: None,
        satisfaction: None,
        updated_at: None,
    }
}

/// A document of [`UNIT`] registered Monday 3/8 09:00, on paper and unfiled.
pub(crate) fn document(id: &str, direction: Direction) -> Document {
    Document {
        id: id.into(),
        unit_code: unit(UNIT),
        direction,
        registered_at: Some(at(3, 8, 9)),
        electronic: false,
        axis_status: None,
        signed: false,
        signature_verified: None,
        due_at: None,
        completed_at: None,
        filed_electronically: false,
        updated_at: None,
    }
}

/// A report of [`UNIT`] due Monday 10/8 17:00, still a draft.
pub(crate) fn report(id: &str) -> Report {
    Report {
        id: id.into(),
        unit_code: unit(UNIT),
        report_type: "cchc_thang".into(),
        title: None,
        period: "2026-08".into(),
        due_at: at(10, 8, 17),
        submitted_at: None,
        status: ReportStatus::Draft,
        updated_at: None,
    }
}

pub(crate) fn period(id: &str) -> Period {
    id.parse().unwrap_or_else(|e| panic!("{e}"))
}

/// The records of one test.
#[derive(Default)]
pub(crate) struct Records<'a> {
    pub dossiers: &'a [Dossier],
    pub petitions: &'a [Petition],
    pub documents: &'a [Document],
    pub reports: &'a [Report],
}

/// Every value for `units` over `period_id`, computed with the test
/// calendar and [`LIMIT`].
pub(crate) fn compute_all(
    records: Records<'_>,
    units: &[UnitCode],
    period_id: &str,
    as_of: DateTime<Utc>,
) -> Vec<IndicatorValue> {
    let deadlines = Deadlines::new();
    let inputs = Inputs::new(units)
        .with_dossiers(records.dossiers)
        .with_petitions(records.petitions)
        .with_documents(records.documents)
        .with_reports(records.reports);
    compute(
        &inputs,
        &period(period_id),
        as_of,
        &deadlines.rules(),
        LIMIT,
    )
}

/// A record family whose records can be a test's only records.
pub(crate) trait Family: Sized {
    fn only(records: &[Self]) -> Records<'_>;
}

impl Family for Dossier {
    fn only(dossiers: &[Self]) -> Records<'_> {
        Records {
            dossiers,
            ..Records::default()
        }
    }
}

impl Family for Petition {
    fn only(petitions: &[Self]) -> Records<'_> {
        Records {
            petitions,
            ..Records::default()
        }
    }
}

impl Family for Document {
    fn only(documents: &[Self]) -> Records<'_> {
        Records {
            documents,
            ..Records::default()
        }
    }
}

impl Family for Report {
    fn only(reports: &[Self]) -> Records<'_> {
        Records {
            reports,
            ..Records::default()
        }
    }
}

/// One check for every case of a family's tests: the records of [`UNIT`],
/// the period and the moment they are judged, and the expected
/// numerator/denominator and sample of one indicator.
pub(crate) fn check<T: Family>(
    records: &[T],
    period_id: &str,
    as_of: DateTime<Utc>,
    indicator: IndicatorId,
    expected: (u64, u64),
    sample: &[&str],
) {
    let values = compute_all(T::only(records), &[unit(UNIT)], period_id, as_of);
    let case = format!("{period_id} as of {as_of}");
    assert_value(value_for_unit(&values, indicator), expected, sample, &case);
}

/// The value of one indicator for [`UNIT`].
pub(crate) fn value_for_unit(values: &[IndicatorValue], indicator: IndicatorId) -> &IndicatorValue {
    values
        .iter()
        .find(|v| v.unit_code.as_str() == UNIT && v.indicator == indicator)
        .expect("every unit gets every indicator")
}

/// Asserts a value's ratio and sample.
pub(crate) fn assert_value(
    value: &IndicatorValue,
    expected: (u64, u64),
    sample: &[&str],
    case: &str,
) {
    assert_eq!(
        (value.ratio.numerator, value.ratio.denominator),
        expected,
        "{case}: {} numerator/denominator",
        value.indicator
    );
    assert_eq!(value.sample, sample, "{case}: {} sample", value.indicator);
}
