//! Decision 766's on-time rules for one dossier (domain.md, "On time").
//!
//! Every procedure indicator that speaks of "late" dossiers uses this one
//! judgement, so that on-time resolution, apologies and satisfaction can
//! never disagree about which dossiers were late.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::WorkCalendar;
use crate::domain::Dossier;
use crate::time::{local_to_utc, utc_to_local};

/// What the on-time rules need besides the dossier itself.
#[derive(Debug, Clone)]
pub struct DeadlineRules<'a> {
    pub calendar: &'a WorkCalendar,
    /// Statutory limit in working days per procedure code (MaTTHC).
    pub statutory_days: &'a BTreeMap<String, u32>,
    pub default_statutory_days: Option<u32>,
}

/// Why a dossier counts as late.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LateReason {
    /// Processing ended after the deadline.
    FinishedLate,
    /// Still open, and the deadline has passed.
    OpenPastDeadline,
    /// More than one supplement request: late by rule, whatever the dates.
    RepeatedSupplement,
    /// No promised date and no statutory limit: the deadline is unknown, and
    /// unknown is never compliant.
    NoDeadline,
}

/// The on-time verdict for one dossier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnTime {
    /// Not received (no NgayTiepNhan): outside the indicator.
    NotReceived,
    OnTime,
    Late(LateReason),
}

/// Judges one dossier by Decision 766's rules (domain.md, "On time").
///
/// `as_of` is when an unfinished dossier is judged: the end of the period,
/// or now if the period has not ended yet.
pub fn judge_on_time(d: &Dossier, rules: &DeadlineRules<'_>, as_of: DateTime<Utc>) -> OnTime {
    let Some(received_at) = d.received_at else {
        return OnTime::NotReceived;
    };
    if d.supplements.len() > 1 {
        return OnTime::Late(LateReason::RepeatedSupplement);
    }
    let Some(deadline) = deadline_of(d, received_at, rules) else {
        return OnTime::Late(LateReason::NoDeadline);
    };

    // A dossier still waiting on its only supplement request stops the clock
    // at the request: it is judged as if it ended then.
    if let Some(pending) = d.supplements.iter().find(|s| s.completed_at.is_none()) {
        return verdict(pending.requested_at <= deadline, LateReason::FinishedLate);
    }

    // Time spent waiting for the applicant is not the unit's time.
    let waited: Duration = d
        .supplements
        .iter()
        .filter_map(|s| {
            s.completed_at
                .map(|c| (c - s.requested_at).max(Duration::zero()))
        })
        .sum();

    match end_of_processing(d) {
        Some(end) => verdict(end - waited <= deadline, LateReason::FinishedLate),
        None => verdict(as_of - waited <= deadline, LateReason::OpenPastDeadline),
    }
}

fn verdict(on_time: bool, otherwise: LateReason) -> OnTime {
    if on_time {
        OnTime::OnTime
    } else {
        OnTime::Late(otherwise)
    }
}

/// The deadline the dossier is judged against.
///
/// A supplement request usually moves NgayHenTra; since the waiting time is
/// deducted from the elapsed time instead, the promised date from *before*
/// the first supplement request is used when the upstream reports it, so the
/// applicant's time is not counted twice. Without NgayHenTra the procedure's
/// statutory limit in working days applies, counted from receipt.
fn deadline_of(
    d: &Dossier,
    received_at: DateTime<Utc>,
    rules: &DeadlineRules<'_>,
) -> Option<DateTime<Utc>> {
    let original = d.supplements.first().and_then(|s| s.old_due_at);
    if let Some(due) = original.or(d.due_at) {
        return Some(due);
    }
    let days = rules
        .statutory_days
        .get(&d.procedure_code)
        .copied()
        .or(rules.default_statutory_days)?;
    let local = rules
        .calendar
        .add_working_days(utc_to_local(received_at), days);
    Some(local_to_utc(local))
}

/// The time of the terminal status (see [`Dossier::ended_at`]).
pub(crate) fn end_of_processing(d: &Dossier) -> Option<DateTime<Utc>> {
    d.ended_at()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UnitCode;
    use crate::domain::{Channel, DossierStatus, SupplementRequest};
    use chrono::NaiveDate;

    /// Local wall-clock time in the province, as UTC.
    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        local_to_utc(
            NaiveDate::from_ymd_opt(2026, 8, day)
                .unwrap()
                .and_hms_opt(hour, 0, 0)
                .unwrap(),
        )
    }

    fn dossier(status: DossierStatus) -> Dossier {
        Dossier {
            channel: Channel::Online,
            status,
            submitted_at: Some(at(3, 8)),
            received_at: Some(at(3, 9)),
            due_at: Some(at(10, 17)),
            ..Dossier::new(
                "H44.07-260803-00001",
                UnitCode::parse("H44.07").unwrap(),
                "1.001",
            )
        }
    }

    fn supplement(req: DateTime<Utc>, done: Option<DateTime<Utc>>) -> SupplementRequest {
        SupplementRequest {
            requested_at: req,
            completed_at: done,
            old_due_at: None,
            new_due_at: None,
        }
    }

    /// One check for every case: the dossier, when it is judged, the verdict.
    fn check(d: Dossier, as_of: DateTime<Utc>, expected: OnTime) {
        let calendar = WorkCalendar::weekends_only();
        let statutory = BTreeMap::from([("2.002".to_string(), 3)]);
        let rules = DeadlineRules {
            calendar: &calendar,
            statutory_days: &statutory,
            default_statutory_days: None,
        };
        assert_eq!(judge_on_time(&d, &rules, as_of), expected, "{d:#?}");
    }

    #[test]
    fn finished_by_the_deadline_is_on_time_and_after_it_late() {
        // Due Mon 10 Aug 17:00. Done Mon 10 Aug 17:00 (equal counts as on time).
        let mut d = dossier(DossierStatus::Done);
        d.finished_at = Some(at(10, 17));
        check(d.clone(), at(31, 0), OnTime::OnTime);
        // Done Tue 11 Aug 09:00: sixteen hours late.
        d.finished_at = Some(at(11, 9));
        check(d, at(31, 0), OnTime::Late(LateReason::FinishedLate));
    }

    #[test]
    fn processing_done_takes_priority_over_returned_and_refused() {
        // Done on 10 Aug (on time), result handed back on 12 Aug (after the
        // deadline): "processing done" wins, so on time.
        let mut d = dossier(DossierStatus::Returned);
        d.finished_at = Some(at(10, 9));
        d.returned_at = Some(at(12, 9));
        check(d.clone(), at(31, 0), OnTime::OnTime);
        // Without a done date, the return date decides: 12 Aug > 10 Aug 17:00, late.
        d.finished_at = None;
        check(d, at(31, 0), OnTime::Late(LateReason::FinishedLate));
    }

    #[test]
    fn refused_and_stopped_end_at_the_refusal() {
        let mut d = dossier(DossierStatus::Refused);
        d.refused_at = Some(at(4, 9));
        check(d.clone(), at(31, 0), OnTime::OnTime);
        d.status = DossierStatus::Stopped;
        d.refused_at = Some(at(14, 9));
        check(d, at(31, 0), OnTime::Late(LateReason::FinishedLate));
    }

    #[test]
    fn a_withdrawal_counts_once_received_and_ends_at_its_last_change() {
        // Withdrawn on 5 Aug (the record's last change), before the deadline.
        let mut d = dossier(DossierStatus::Withdrawn);
        d.updated_at = Some(at(5, 10));
        check(d.clone(), at(31, 0), OnTime::OnTime);
        // Never received: outside the indicator.
        d.received_at = None;
        check(d, at(31, 0), OnTime::NotReceived);
    }

    #[test]
    fn supplement_waiting_time_is_deducted() {
        // Requested Tue 4 Aug 09:00, completed Fri 7 Aug 09:00: 3 days of the
        // applicant's time. Done Wed 12 Aug 09:00; minus 3 days = Sun 9 Aug
        // 09:00 <= due Mon 10 Aug 17:00: on time.
        let mut d = dossier(DossierStatus::Done);
        d.finished_at = Some(at(12, 9));
        d.supplements = vec![supplement(at(4, 9), Some(at(7, 9)))];
        check(d.clone(), at(31, 0), OnTime::OnTime);
        // Done Fri 14 Aug 09:00; minus 3 days = Tue 11 Aug 09:00 > due: late.
        d.finished_at = Some(at(14, 9));
        check(d, at(31, 0), OnTime::Late(LateReason::FinishedLate));
    }

    #[test]
    fn the_promised_date_before_the_first_supplement_is_the_deadline() {
        // The upstream moved NgayHenTra to 20 Aug after the request; the
        // original date (10 Aug 17:00) is kept in the request. Done 12 Aug
        // 09:00 minus 3 days waiting = 9 Aug 09:00: on time against 10 Aug.
        let mut d = dossier(DossierStatus::Done);
        d.due_at = Some(at(20, 17));
        d.finished_at = Some(at(12, 9));
        d.supplements = vec![SupplementRequest {
            old_due_at: Some(at(10, 17)),
            new_due_at: Some(at(20, 17)),
            ..supplement(at(4, 9), Some(at(7, 9)))
        }];
        check(d.clone(), at(31, 0), OnTime::OnTime);
        // Done 18 Aug: 15 Aug after deduction, late against the original
        // date even though it is before the moved one.
        d.finished_at = Some(at(18, 9));
        check(d, at(31, 0), OnTime::Late(LateReason::FinishedLate));
    }

    #[test]
    fn more_than_one_supplement_request_is_late_whatever_the_dates() {
        let mut d = dossier(DossierStatus::Done);
        d.finished_at = Some(at(5, 9));
        d.supplements = vec![
            supplement(at(3, 10), Some(at(3, 11))),
            supplement(at(4, 10), Some(at(4, 11))),
        ];
        check(d, at(31, 0), OnTime::Late(LateReason::RepeatedSupplement));
    }

    #[test]
    fn waiting_on_the_only_supplement_ends_at_the_request() {
        // Requested 6 Aug, still pending on 31 Aug: judged at 6 Aug, on time.
        let mut d = dossier(DossierStatus::SupplementRequested);
        d.supplements = vec![supplement(at(6, 9), None)];
        check(d.clone(), at(31, 0), OnTime::OnTime);
        // Requested 11 Aug, after the deadline had already passed: late.
        d.supplements = vec![supplement(at(11, 9), None)];
        check(d, at(31, 0), OnTime::Late(LateReason::FinishedLate));
    }

    #[test]
    fn unfinished_dossiers_are_judged_at_the_end_of_the_period() {
        let d = dossier(DossierStatus::InProgress);
        // Judged on 7 Aug: still within the deadline.
        check(d.clone(), at(7, 9), OnTime::OnTime);
        // Judged at the period's end (1 Sep): past 10 Aug, late.
        check(d, at(31, 23), OnTime::Late(LateReason::OpenPastDeadline));
    }

    #[test]
    fn without_a_promised_date_the_statutory_limit_applies_in_working_days() {
        // Procedure 2.002 allows 3 working days. Received Fri 7 Aug 09:00:
        // Mon 10, Tue 11, Wed 12 -> due Wed 12 Aug 09:00.
        let mut d = dossier(DossierStatus::Done);
        d.procedure_code = "2.002".into();
        d.due_at = None;
        d.received_at = Some(at(7, 9));
        d.finished_at = Some(at(12, 9));
        check(d.clone(), at(31, 0), OnTime::OnTime);
        d.finished_at = Some(at(12, 10));
        check(d.clone(), at(31, 0), OnTime::Late(LateReason::FinishedLate));
        // An unknown procedure with no default limit: the deadline is unknown.
        d.procedure_code = "9.999".into();
        check(d, at(31, 0), OnTime::Late(LateReason::NoDeadline));
    }
}
