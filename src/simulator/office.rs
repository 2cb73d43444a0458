//! One unit's petitions, documents and report obligations.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rand::Rng;
use rand::rngs::StdRng;

use super::catalog::{REPORT_TYPES, Regime};
use super::timeline::Timeline;
use super::units::SimUnit;
use crate::domain::{
    AxisStatus, Direction, Document, Petition, PetitionCategory, Report, ReportStatus, Satisfaction,
};
use crate::time::Month;

/// Working days a petition may take (domain.md: 15 working days).
pub(crate) const PETITION_DAYS: u32 = 15;

/// How many of `per_month` a month has had so far.
fn share_so_far(per_month: u32, month: Month, tl: &Timeline) -> (Vec<NaiveDate>, u32) {
    let all = tl.working_days_in(month).len().max(1);
    let open = tl.open_days_in(month);
    let n = (f64::from(per_month) * open.len() as f64 / all as f64).round() as u32;
    (open, n)
}

pub(crate) fn unit_petitions(
    unit: &SimUnit,
    per_month: u32,
    tl: &Timeline,
    rng: &mut StdRng,
) -> Vec<Petition> {
    let mut out = Vec::new();
    let mut seq = 0;
    for &month in &tl.months {
        // Petitions are rarer and lumpier than dossiers: anywhere from none
        // to twice the average in a month.
        let drawn = rng.random_range(0..=per_month.saturating_mul(2));
        let (open, n) = share_so_far(drawn, month, tl);
        if open.is_empty() {
            continue;
        }
        let mut times: Vec<DateTime<Utc>> = (0..n)
            .map(|_| tl.office_time(open[rng.random_range(0..open.len())], rng))
            .collect();
        times.sort();
        for received in times {
            seq += 1;
            out.push(petition(unit, received, seq, month, tl, rng));
        }
    }
    out
}

fn petition(
    unit: &SimUnit,
    received: DateTime<Utc>,
    seq: u32,
    month: Month,
    tl: &Timeline,
    rng: &mut StdRng,
) -> Petition {
    let now = tl.now;
    let x: f64 = rng.random();
    let category = if x < 0.6 {
        PetitionCategory::Procedure
    } else if x < 0.85 {
        PetitionCategory::Conduct
    } else {
        PetitionCategory::Other
    };
    let due = tl.add_working_days(received, PETITION_DAYS);
    let answered = if due < now {
        if rng.random_bool(unit.profile.petition_on_time) {
            Some(tl.during(rng, received + Duration::hours(1), due))
        } else {
            Some(tl.after(rng, due, 60, 15 * 24 * 60)).filter(|t| *t <= now)
        }
    } else {
        let elapsed = (now - received).num_seconds() as f64;
        let span = ((due - received).num_seconds() as f64).max(1.0);
        rng.random_bool((elapsed / span).clamp(0.0, 0.9))
            .then(|| tl.during(rng, received + Duration::hours(1).min(now - received), now))
    };
    let satisfaction = answered.filter(|_| rng.random_bool(0.7)).map(|_| {
        let x: f64 = rng.random();
        if x < 0.8 {
            Satisfaction::Satisfied
        } else if x < 0.92 {
            Satisfaction::Neutral
        } else {
            Satisfaction::Dissatisfied
        }
    });
    let first = month.first_day();
    Petition {
        code: format!(
            "{}-PAKN-{:02}{:02}-{seq:04}",
            unit.unit.code,
            first.year() % 100,
            first.month()
        ),
        unit_code: unit.unit.code.clone(),
        category,
        received_at: Some(received),
        due_at: Some(due),
        answered_at: answered,
        satisfaction,
        updated_at: Some(answered.unwrap_or(received)),
    }
}

pub(crate) fn unit_documents(
    unit: &SimUnit,
    per_month: u32,
    tl: &Timeline,
    rng: &mut StdRng,
) -> Vec<Document> {
    let mut out = Vec::new();
    let (mut out_seq, mut in_seq) = (0, 0);
    for &month in &tl.months {
        let (open, n) = share_so_far(per_month, month, tl);
        if open.is_empty() {
            continue;
        }
        let mut times: Vec<DateTime<Utc>> = (0..n)
            .map(|_| tl.office_time(open[rng.random_range(0..open.len())], rng))
            .collect();
        times.sort();
        for registered in times {
            // Units receive more than they send.
            let doc = if rng.random_bool(0.4) {
                out_seq += 1;
                outgoing(unit, registered, out_seq, tl, rng)
            } else {
                in_seq += 1;
                incoming(unit, registered, in_seq, tl, rng)
            };
            out.push(doc);
        }
    }
    out
}

fn document_id(
    unit: &SimUnit,
    direction: Direction,
    at: DateTime<Utc>,
    seq: u32,
    tl: &Timeline,
) -> String {
    let year = tl.local(at).year();
    let tag = match direction {
        Direction::Outgoing => "VBDI",
        Direction::Incoming => "VBDEN",
    };
    format!("{}-{tag}-{year}-{seq:05}", unit.unit.code)
}

/// Where an electronically exchanged document stands on the axis: recent
/// ones are still moving, older ones mostly done, a few bounced.
fn axis_status(registered: DateTime<Utc>, now: DateTime<Utc>, rng: &mut StdRng) -> AxisStatus {
    if now - registered < Duration::days(1) {
        return [
            AxisStatus::Inbox,
            AxisStatus::Acceptance,
            AxisStatus::Processing,
        ][rng.random_range(0..3)];
    }
    let x: f64 = rng.random();
    if x < 0.95 {
        AxisStatus::Done
    } else if x < 0.97 {
        AxisStatus::Processing
    } else if x < 0.985 {
        AxisStatus::Rejection
    } else {
        AxisStatus::Fail
    }
}

fn signature(signed: bool, rng: &mut StdRng) -> Option<bool> {
    if !signed {
        return None;
    }
    let x: f64 = rng.random();
    if x < 0.95 {
        Some(true)
    } else if x < 0.97 {
        Some(false)
    } else {
        None
    }
}

fn outgoing(
    unit: &SimUnit,
    registered: DateTime<Utc>,
    seq: u32,
    tl: &Timeline,
    rng: &mut StdRng,
) -> Document {
    let pr = &unit.profile;
    let electronic = rng.random_bool(pr.doc_electronic);
    // Paper documents are sometimes scanned with a signature too.
    let signed = rng.random_bool(if electronic { pr.doc_signed } else { 0.1 });
    let moved = tl.after(rng, registered, 5, 2 * 24 * 60).min(tl.now);
    Document {
        id: document_id(unit, Direction::Outgoing, registered, seq, tl),
        unit_code: unit.unit.code.clone(),
        direction: Direction::Outgoing,
        registered_at: Some(registered),
        electronic,
        axis_status: electronic.then(|| axis_status(registered, tl.now, rng)),
        signed,
        signature_verified: signature(signed, rng),
        due_at: None,
        completed_at: None,
        filed_electronically: rng.random_bool(pr.work_file),
        updated_at: Some(if electronic { moved } else { registered }),
    }
}

fn incoming(
    unit: &SimUnit,
    registered: DateTime<Utc>,
    seq: u32,
    tl: &Timeline,
    rng: &mut StdRng,
) -> Document {
    let pr = &unit.profile;
    let now = tl.now;
    // Most documents between agencies now arrive over the axis.
    let electronic = rng.random_bool(0.9);
    let signed = electronic && rng.random_bool(0.95);
    let due = tl.add_working_days(registered, [5, 7, 10, 15][rng.random_range(0..4)]);
    let completed = if due < now {
        if rng.random_bool(pr.incoming_on_time) {
            Some(tl.during(rng, registered + Duration::hours(1), due))
        } else {
            Some(tl.after(rng, due, 60, 10 * 24 * 60)).filter(|t| *t <= now)
        }
    } else {
        let elapsed = (now - registered).num_seconds() as f64;
        let span = ((due - registered).num_seconds() as f64).max(1.0);
        rng.random_bool((elapsed / span).clamp(0.0, 0.9))
            .then(|| tl.during(rng, registered, now))
    };
    Document {
        id: document_id(unit, Direction::Incoming, registered, seq, tl),
        unit_code: unit.unit.code.clone(),
        direction: Direction::Incoming,
        registered_at: Some(registered),
        electronic,
        axis_status: electronic.then(|| axis_status(registered, now, rng)),
        signed,
        signature_verified: signature(signed, rng),
        due_at: Some(due),
        completed_at: completed,
        filed_electronically: completed.is_some() && rng.random_bool(pr.work_file),
        updated_at: Some(completed.unwrap_or(registered).max(registered)),
    }
}

/// The report obligations of `unit` whose data window has closed.
///
/// Decree 09/2019: a monthly report covers the 15th of the previous month
/// to the 14th; quarterly and yearly windows end on the 14th of the
/// quarter's or year's last month. The report is due on `due_day` of the
/// month the window closes in (the default 20th is configurable).
pub(crate) fn unit_reports(
    unit: &SimUnit,
    due_day: u32,
    tl: &Timeline,
    rng: &mut StdRng,
) -> Vec<Report> {
    let mut out = Vec::new();
    for &month in &tl.months {
        let first = month.first_day();
        let closes = tl.at(first.with_day(15).expect("every month has a 15th"), 0);
        if closes > tl.now {
            continue;
        }
        let last_day = (month.next().first_day() - Duration::days(1)).day();
        let due_date = first
            .with_day(due_day.clamp(15, last_day))
            .expect("clamped into the month");
        let due = tl.at(due_date, 24 * 3600 - 1);
        for rt in REPORT_TYPES {
            let period = match rt.regime {
                Regime::Monthly => month.to_string(),
                Regime::Quarterly if first.month().is_multiple_of(3) => {
                    format!("{}-Q{}", first.year(), first.month() / 3)
                }
                Regime::Yearly if first.month() == 12 => first.year().to_string(),
                _ => continue,
            };
            out.push(report(unit, rt.code, rt.name, period, closes, due, tl, rng));
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn report(
    unit: &SimUnit,
    code: &str,
    title: &str,
    period: String,
    closes: DateTime<Utc>,
    due: DateTime<Utc>,
    tl: &Timeline,
    rng: &mut StdRng,
) -> Report {
    let pr = &unit.profile;
    let now = tl.now;
    let office_open = closes + Duration::hours(8);
    let submitted = if due < now {
        let x: f64 = rng.random();
        if x < pr.report_on_time {
            Some(tl.during(rng, office_open, due))
        } else if x < pr.report_on_time + pr.report_missing {
            None
        } else {
            Some(tl.after(rng, due, 60, 10 * 24 * 60)).filter(|t| *t <= now)
        }
    } else {
        let elapsed = (now - closes).num_seconds() as f64;
        let span = ((due - closes).num_seconds() as f64).max(1.0);
        rng.random_bool((elapsed / span * pr.report_on_time).clamp(0.0, 1.0))
            .then(|| tl.during(rng, office_open.min(now), now))
    };
    let (status, updated) = match submitted {
        None => {
            // A draft started after the window closed.
            let started = tl.during(rng, closes, (closes + Duration::days(2)).min(now));
            (ReportStatus::Draft, started)
        }
        Some(s) => {
            let reviewed = tl.after(rng, s, 24 * 60, 5 * 24 * 60);
            if reviewed > now {
                (ReportStatus::Submitted, s)
            } else {
                let x: f64 = rng.random();
                if x < 0.85 {
                    (ReportStatus::Accepted, reviewed)
                } else if x < 0.95 {
                    (ReportStatus::Returned, reviewed)
                } else {
                    (ReportStatus::Submitted, s)
                }
            }
        }
    };
    Report {
        id: format!("{}-{code}-{period}", unit.unit.code),
        unit_code: unit.unit.code.clone(),
        report_type: code.to_owned(),
        title: Some(title.to_owned()),
        period,
        due_at: due,
        submitted_at: submitted,
        status,
        updated_at: Some(updated),
    }
}
