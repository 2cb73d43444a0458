//! Reporting indicators, from the online reporting system.
//!
//! A report obligation counts in the period that contains its due date, once
//! that date has come (`due_at <= as_of`): a report not yet due is neither on
//! time nor missing.
//!
//! Rules where domain.md leaves room:
//! - A report is submitted when its status is "submitted" or "accepted". A
//!   draft is not submitted, and neither is a report returned for revision:
//!   it counts again once resubmitted, which the upstream shows as
//!   "submitted" with the new submission time.
//! - `reports_on_time`: submitted, with a submission time no later than the
//!   due date. A submitted report without a submission time cannot be shown
//!   to be on time, so it is not.
//! - `reports_missing`: not submitted by `as_of`. A submitted report without
//!   a submission time is taken as submitted.

use chrono::{DateTime, Utc};

use crate::domain::{Report, ReportStatus};

use super::{IndicatorId as I, Tallies, Window};

/// Counts one report obligation into its unit's tallies.
pub(crate) fn count<'a>(r: &'a Report, w: &Window<'_>, tallies: &mut Tallies<'a>) {
    if !w.contains(r.due_at) || r.due_at > w.as_of {
        return;
    }
    let (id, limit) = (r.id.as_str(), w.sample_limit);
    let submitted = submission(r);
    let on_time = submitted.is_some_and(|at| at.is_some_and(|at| at <= r.due_at));
    tallies.record(I::ReportsOnTime, on_time, id, limit);
    let present = submitted.is_some_and(|at| at.is_none_or(|at| at <= w.as_of));
    tallies.record(I::ReportsMissing, present, id, limit);
}

/// `Some(submission time, if known)` for a submitted report, `None` for one
/// that is not (a draft, or returned for revision).
fn submission(r: &Report) -> Option<Option<DateTime<Utc>>> {
    match r.status {
        ReportStatus::Submitted | ReportStatus::Accepted => Some(r.submitted_at),
        ReportStatus::Draft | ReportStatus::Returned => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::super::IndicatorId as I;
    use super::super::fixtures::{at, at_minute, check, report};
    use crate::domain::{Report, ReportStatus};

    fn with(id: &str, status: ReportStatus, submitted: Option<DateTime<Utc>>) -> Report {
        Report {
            status,
            submitted_at: submitted,
            ..report(id)
        }
    }

    /// Reports due 10/8 17:00 unless stated, judged on 20/8 12:00.
    fn reports() -> Vec<Report> {
        vec![
            // Submitted an hour early: on time, present.
            with("R1", ReportStatus::Submitted, Some(at(10, 8, 16))),
            // Accepted, but submitted 12/8: late, present.
            with("R2", ReportStatus::Accepted, Some(at(12, 8, 9))),
            // A draft: neither on time nor present.
            with("R3", ReportStatus::Draft, None),
            // Submitted 9/8, then returned for revision and not resubmitted:
            // not submitted.
            with("R4", ReportStatus::Returned, Some(at(9, 8, 9))),
            // Due 25/8, after as_of: not yet due, not counted.
            Report {
                due_at: at(25, 8, 17),
                ..with("R5", ReportStatus::Draft, None)
            },
            // Due 31/7: July's.
            Report {
                due_at: at(31, 7, 17),
                ..with("R6", ReportStatus::Draft, None)
            },
            // Submitted, time unknown: present, but not shown to be on time.
            with("R7", ReportStatus::Submitted, None),
            // Due at as_of itself, 20/8 12:00, submitted 11:00: on time.
            Report {
                due_at: at(20, 8, 12),
                ..with("R8", ReportStatus::Submitted, Some(at(20, 8, 11)))
            },
            // Returned, then resubmitted 11/8 (the upstream shows it as
            // submitted again, with the new time): late, present.
            with("R9", ReportStatus::Submitted, Some(at(11, 8, 9))),
        ]
    }

    #[test]
    fn reports_on_time_counts_submissions_by_the_due_date() {
        // Due: R1, R2, R3, R4, R7, R8, R9 = 7. On time: R1, R8.
        check(
            &reports(),
            "2026-08",
            at(20, 8, 12),
            I::ReportsOnTime,
            (2, 7),
            &["R2", "R3", "R4", "R7", "R9"],
        );
    }

    #[test]
    fn reports_missing_counts_reports_not_submitted_by_as_of() {
        // Due: 7 as above. Missing: R3 (draft), R4 (returned).
        check(
            &reports(),
            "2026-08",
            at(20, 8, 12),
            I::ReportsMissing,
            (2, 7),
            &["R3", "R4"],
        );
    }

    #[test]
    fn a_report_submitted_after_as_of_is_still_missing_at_as_of() {
        // Due 10/8 17:00, submitted 15/8; judged on 12/8: missing and late.
        let late = [with("R", ReportStatus::Submitted, Some(at(15, 8, 9)))];
        check(
            &late,
            "2026-08",
            at(12, 8, 9),
            I::ReportsMissing,
            (1, 1),
            &["R"],
        );
        check(
            &late,
            "2026-08",
            at(12, 8, 9),
            I::ReportsOnTime,
            (0, 1),
            &["R"],
        );
    }

    #[test]
    fn reports_count_in_the_reporting_window_that_holds_their_due_date() {
        // W2026-08 covers 15/7 to 14/8. Due 14/8 23:59: in it; due 15/8 00:00:
        // the next window's.
        let reports = [
            Report {
                due_at: at_minute(14, 8, 23, 59),
                ..with("R1", ReportStatus::Draft, None)
            },
            Report {
                due_at: at(15, 8, 0),
                ..with("R2", ReportStatus::Draft, None)
            },
            Report {
                due_at: at(15, 7, 0),
                ..with("R3", ReportStatus::Draft, None)
            },
        ];
        check(
            &reports,
            "W2026-08",
            at(20, 8, 12),
            I::ReportsMissing,
            (2, 2),
            &["R1", "R3"],
        );
        check(
            &reports,
            "W2026-09",
            at(20, 8, 12),
            I::ReportsMissing,
            (1, 1),
            &["R2"],
        );
    }
}
