//! One unit's one-stop dossiers over the months of history.
//!
//! Each dossier gets a life that fits the one-stop rules: received on a
//! working day during office hours, due a statutory number of working days
//! later, and then finished early or late, refused, withdrawn, stuck, or
//! waiting on the applicant. Which received dossiers end late is decided
//! per unit and month as an exact count, so that a unit's realised on-time
//! rate matches its design. Nothing happens after `now`; only deadlines lie
//! in the future.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::catalog::{APOLOGY_REASONS, PROCEDURES};
use super::timeline::{Timeline, minutes};
use super::units::SimUnit;
use crate::domain::{
    Apology, Channel, ComponentCounts, Dossier, DossierStatus, OnlinePayment, Satisfaction,
    SupplementRequest,
};
use crate::time::Month;

/// What happened before reception.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Intake {
    Received,
    /// Submitted online, not yet received by the desk.
    AwaitingReception,
    /// Refused at the desk: never received.
    RefusedAtDesk,
    /// Withdrawn by the applicant before reception.
    WithdrawnBeforeReception,
}

struct Draft {
    day: NaiveDate,
    at: DateTime<Utc>,
    procedure: usize,
    channel: Channel,
    intake: Intake,
}

/// The dossiers of `unit`, oldest first; `seq` numbers them per unit.
pub(crate) fn unit_dossiers(
    unit: &SimUnit,
    per_month: u32,
    tl: &Timeline,
    rng: &mut StdRng,
) -> Vec<Dossier> {
    let mut out = Vec::new();
    if unit.procedures.is_empty() {
        return out;
    }
    let mut seq = 0u32;
    for &month in &tl.months {
        let all = tl.working_days_in(month);
        let open = tl.open_days_in(month);
        if open.is_empty() {
            continue;
        }
        // A month still under way has received only its share so far.
        let n = (f64::from(per_month) * open.len() as f64 / all.len() as f64).round() as u32;
        let mut drafts: Vec<Draft> = (0..n).map(|_| draft(unit, &open, tl, rng)).collect();
        drafts.sort_by_key(|d| d.at);

        // Lateness as an exact count among the received dossiers already due.
        let received = drafts
            .iter()
            .filter(|d| d.intake == Intake::Received)
            .count();
        let late_target = (received as f64 * (1.0 - unit.profile.on_time)).round() as usize;
        let mut due_idx: Vec<usize> = (0..drafts.len())
            .filter(|&i| {
                drafts[i].intake == Intake::Received
                    && tl.add_working_days(drafts[i].at, PROCEDURES[drafts[i].procedure].days)
                        < tl.now
            })
            .collect();
        due_idx.shuffle(rng);
        let mut late = vec![false; drafts.len()];
        for &i in due_idx.iter().take(late_target) {
            late[i] = true;
        }
        for (i, d) in drafts.iter().enumerate() {
            seq += 1;
            out.push(shape(unit, d, late[i], seq, month, tl, rng));
        }
    }
    out
}

fn draft(unit: &SimUnit, open: &[NaiveDate], tl: &Timeline, rng: &mut StdRng) -> Draft {
    let day = open[rng.random_range(0..open.len())];
    let at = tl.office_time(day, rng);
    let procedure = unit.procedures[rng.random_range(0..unit.procedures.len())];
    let channel = if rng.random_bool(unit.profile.online) {
        Channel::Online
    } else if rng.random_bool(0.04) {
        Channel::Postal
    } else {
        Channel::InPerson
    };
    let today = day == tl.now_local.date();
    let intake = if today && channel == Channel::Online && rng.random_bool(0.5) {
        Intake::AwaitingReception
    } else if rng.random_bool(0.01) {
        Intake::RefusedAtDesk
    } else if rng.random_bool(0.005) {
        Intake::WithdrawnBeforeReception
    } else {
        Intake::Received
    };
    Draft {
        day,
        at,
        procedure,
        channel,
        intake,
    }
}

fn code_of(unit: &SimUnit, day: NaiveDate, seq: u32) -> String {
    format!(
        "{}-{:02}{:02}{:02}-{:05}",
        unit.unit.code,
        day.year() % 100,
        day.month(),
        day.day(),
        seq
    )
}

fn shape(
    unit: &SimUnit,
    draft: &Draft,
    late: bool,
    seq: u32,
    month: Month,
    tl: &Timeline,
    rng: &mut StdRng,
) -> Dossier {
    let p = &PROCEDURES[draft.procedure];
    let r = draft.at;
    let mut d = Dossier::new(
        code_of(unit, draft.day, seq),
        unit.unit.code.clone(),
        p.code,
    );
    d.procedure_name = Some(p.name.to_owned());
    d.field_code = Some(p.field.to_owned());
    d.channel = draft.channel;
    d.has_fees = !p.fees.is_empty();
    // The applicant hands in every component, received or not.
    d.components.total = p.components.len() as u32;
    d.submitted_at = Some(
        r - match draft.channel {
            // Online applications come in at any hour, weekends included.
            Channel::Online => minutes(rng, 5, 36 * 60),
            Channel::Postal => minutes(rng, 24 * 60, 72 * 60),
            Channel::InPerson => minutes(rng, 1, 20),
        },
    );
    match draft.intake {
        Intake::AwaitingReception => {
            d.status = DossierStatus::NewlyRegistered;
            // Submitted a little while ago, not yet looked at.
            d.submitted_at = Some(r);
        }
        Intake::RefusedAtDesk => {
            d.status = DossierStatus::Refused;
            d.refused_at = Some(r);
        }
        Intake::WithdrawnBeforeReception => {
            d.status = DossierStatus::Withdrawn;
            d.submitted_at = d.submitted_at.map(|s| s.min(r));
        }
        Intake::Received => {
            d.received_at = Some(r);
            let due = tl.add_working_days(r, p.days);
            d.due_at = Some(due);
            if late {
                shape_late(&mut d, unit, due, month, tl, rng);
            } else if due < tl.now {
                shape_on_time(&mut d, due, tl, rng);
            } else {
                shape_not_yet_due(&mut d, due, tl, rng);
            }
            extras(&mut d, unit, late, rng);
        }
    }
    d.updated_at = last_event(&d, r);
    d
}

/// A late dossier: finished after its deadline, still stuck past it, or
/// sent back to the applicant twice (late by rule whatever the dates).
fn shape_late(
    d: &mut Dossier,
    unit: &SimUnit,
    due: DateTime<Utc>,
    month: Month,
    tl: &Timeline,
    rng: &mut StdRng,
) {
    let r = d.received_at.expect("received");
    let now = tl.now;
    let x: f64 = rng.random();
    if x < 0.12 && two_supplements(d, due, tl, rng) {
        return;
    }
    // Stuck without a decision. Only when the deadline passed inside the
    // month of receipt: an unfinished dossier is judged at the month's end,
    // and a deadline after it would make it count as on time.
    let stuck = x < 0.25 && due < month.end();
    // Finished late, within ten days of the deadline and never after now.
    let end = (!stuck).then(|| {
        let after = due + Duration::seconds(1);
        tl.during(rng, after, (due + Duration::days(10)).min(now))
            .min(now)
    });
    match end {
        Some(end) => finish(d, end, tl, rng),
        None => {
            d.status = if rng.random_bool(0.8) {
                DossierStatus::InProgress
            } else {
                DossierStatus::Received
            };
        }
    }
    if rng.random_bool(unit.profile.apology) {
        apologise(d, r, due, end, tl, rng);
    }
}

/// Two supplement requests, both answered; `false` (and no change) when
/// they would not fit before `now`.
fn two_supplements(d: &mut Dossier, due: DateTime<Utc>, tl: &Timeline, rng: &mut StdRng) -> bool {
    let r = d.received_at.expect("received");
    let third = ((due - r) / 3).max(Duration::hours(1));
    let req1 = tl.during(
        rng,
        r + Duration::minutes(30),
        r + Duration::minutes(30) + third,
    );
    let done1 = tl.after(rng, req1, 120, 3 * 24 * 60);
    let req2 = tl.after(rng, done1, 60, 2 * 24 * 60);
    let done2 = tl.after(rng, req2, 120, 3 * 24 * 60);
    if done2 >= tl.now {
        return false;
    }
    let due1 = due + (done1 - req1);
    let due2 = due1 + (done2 - req2);
    d.supplements = vec![
        SupplementRequest {
            requested_at: req1,
            completed_at: Some(done1),
            old_due_at: Some(due),
            new_due_at: Some(due1),
        },
        SupplementRequest {
            requested_at: req2,
            completed_at: Some(done2),
            old_due_at: Some(due1),
            new_due_at: Some(due2),
        },
    ];
    d.due_at = Some(due2);
    // Finished by the moved date: on time by the dates, late by the rule.
    let end = tl.during(rng, done2 + Duration::minutes(10), due2);
    if end <= tl.now {
        finish(d, end, tl, rng);
    } else {
        d.status = DossierStatus::InProgress;
    }
    true
}

/// One apology notice before or around the deadline, and for a few
/// dossiers a second one that moves the date again.
fn apologise(
    d: &mut Dossier,
    r: DateTime<Utc>,
    due: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    tl: &Timeline,
    rng: &mut StdRng,
) {
    let latest = end.unwrap_or(tl.now).min(due + Duration::days(1));
    let issued = tl.during(rng, (due - Duration::days(1)).max(r), latest);
    if issued > tl.now {
        return;
    }
    let new_due = tl.add_working_days(due, rng.random_range(2..=5));
    d.apologies.push(Apology {
        issued_at: Some(issued),
        reason: Some(APOLOGY_REASONS[rng.random_range(0..APOLOGY_REASONS.len())].to_owned()),
        new_due_at: Some(new_due),
    });
    if rng.random_bool(0.1) {
        let second = tl.during(
            rng,
            new_due - Duration::days(1),
            new_due + Duration::hours(4),
        );
        if second <= tl.now && end.is_none_or(|e| second <= e) && second > issued {
            d.apologies.push(Apology {
                issued_at: Some(second),
                reason: Some(
                    APOLOGY_REASONS[rng.random_range(0..APOLOGY_REASONS.len())].to_owned(),
                ),
                new_due_at: Some(tl.add_working_days(new_due, rng.random_range(2..=5))),
            });
        }
    }
}

/// A dossier whose deadline has passed and that was handled in time.
fn shape_on_time(d: &mut Dossier, due: DateTime<Utc>, tl: &Timeline, rng: &mut StdRng) {
    let r = d.received_at.expect("received");
    let half = r + (due - r) / 2;
    let x: f64 = rng.random();
    if x < 0.04 {
        d.status = DossierStatus::Refused;
        d.refused_at = Some(tl.during(rng, r + Duration::minutes(30), half));
    } else if x < 0.06 {
        d.status = DossierStatus::Withdrawn;
        // A withdrawal carries no date of its own: its last change is when.
        d.updated_at = Some(tl.during(rng, r + Duration::minutes(30), half));
    } else if x < 0.08 {
        pending_supplement(d, due, tl, rng);
    } else if x < 0.18 {
        one_supplement(d, due, tl, rng, true);
    } else {
        let end = tl.during(rng, r + Duration::minutes(10), due);
        finish(d, end, tl, rng);
    }
}

/// A dossier still within its deadline.
fn shape_not_yet_due(d: &mut Dossier, due: DateTime<Utc>, tl: &Timeline, rng: &mut StdRng) {
    let r = d.received_at.expect("received");
    let now = tl.now;
    let x: f64 = rng.random();
    let early = (r + (due - r) / 2).min(now);
    // A unit that keeps its deadlines has already finished what falls due
    // within a day. Left open, such dossiers would turn late as soon as a
    // reader's clock moved on a few hours past `now`, which is not how an
    // on-time unit behaves (the late ones are chosen apart).
    let due_soon = due - now < Duration::days(1);
    if x < 0.03 {
        d.status = DossierStatus::Refused;
        d.refused_at = Some(tl.during(rng, r, early));
    } else if x < 0.05 {
        d.status = DossierStatus::Withdrawn;
        d.updated_at = Some(tl.during(rng, r, early));
    } else if x < 0.13 {
        pending_supplement(d, due, tl, rng);
    } else if x < 0.20 {
        let finish_it = rng.random_bool(0.5);
        one_supplement(d, due, tl, rng, finish_it);
    } else {
        let elapsed = (now - r).num_seconds() as f64;
        let span = ((due - r).num_seconds() as f64).max(1.0);
        if due_soon || rng.random_bool((elapsed / span).clamp(0.0, 0.9)) {
            let end = tl.during(rng, r + Duration::minutes(10).min(now - r), now);
            finish(d, end, tl, rng);
        } else if local_date(tl, r) == tl.now_local.date() && rng.random_bool(0.5) {
            d.status = DossierStatus::Received;
        } else if d.has_fees && rng.random_bool(0.1) {
            d.status = DossierStatus::AwaitingFees;
        } else {
            d.status = DossierStatus::InProgress;
        }
    }
}

fn local_date(tl: &Timeline, t: DateTime<Utc>) -> NaiveDate {
    tl.local(t).date()
}

/// Waiting on the applicant since a request made before the deadline.
fn pending_supplement(d: &mut Dossier, due: DateTime<Utc>, tl: &Timeline, rng: &mut StdRng) {
    let r = d.received_at.expect("received");
    let requested = tl.during(
        rng,
        r + Duration::minutes(10).min(tl.now - r),
        due.min(tl.now),
    );
    d.status = DossierStatus::SupplementRequested;
    d.supplements = vec![SupplementRequest {
        requested_at: requested,
        completed_at: None,
        old_due_at: Some(due),
        new_due_at: None,
    }];
}

/// One supplement request, answered, with the deadline moved by the waiting
/// time; the dossier is then finished by the new date (if `finish_it`).
fn one_supplement(
    d: &mut Dossier,
    due: DateTime<Utc>,
    tl: &Timeline,
    rng: &mut StdRng,
    finish_it: bool,
) {
    let r = d.received_at.expect("received");
    let now = tl.now;
    let requested = tl.during(
        rng,
        r + Duration::minutes(10).min(now - r),
        (r + (due - r) / 2).min(now),
    );
    let completed = tl.after(rng, requested, 120, 4 * 24 * 60);
    if completed >= now {
        pending_supplement(d, due, tl, rng);
        return;
    }
    let new_due = due + (completed - requested);
    d.supplements = vec![SupplementRequest {
        requested_at: requested,
        completed_at: Some(completed),
        old_due_at: Some(due),
        new_due_at: Some(new_due),
    }];
    d.due_at = Some(new_due);
    if finish_it || new_due < now + Duration::days(1) {
        let end = tl.during(rng, completed + Duration::minutes(10), new_due.min(now));
        finish(d, end.min(now), tl, rng);
    } else {
        d.status = DossierStatus::InProgress;
    }
}

/// Processing ends at `end`; the result is handed back later, if by now.
fn finish(d: &mut Dossier, end: DateTime<Utc>, tl: &Timeline, rng: &mut StdRng) {
    let now = tl.now;
    if rng.random_bool(0.005) {
        // Processing stopped (e.g. a court case): ends at the stop.
        d.status = DossierStatus::Stopped;
        d.refused_at = Some(end);
        return;
    }
    d.finished_at = Some(end);
    let handed = tl.after(rng, end, 10, 3 * 24 * 60);
    if handed <= now && rng.random_bool(0.85) {
        d.status = DossierStatus::Returned;
        d.returned_at = Some(handed);
    } else {
        d.status = DossierStatus::Done;
    }
}

/// Payment, digitization, e-result, data sharing and satisfaction.
fn extras(d: &mut Dossier, unit: &SimUnit, late: bool, rng: &mut StdRng) {
    let pr = &unit.profile;
    let online = d.channel == Channel::Online;
    if d.has_fees && d.status != DossierStatus::AwaitingFees {
        let share = if online { pr.pay_online } else { 0.12 };
        if rng.random_bool(share) {
            d.online_payment = if rng.random_bool(0.55) {
                OnlinePayment::NationalPortal
            } else {
                OnlinePayment::ProvincialGateway
            };
        }
    }
    let total = d.components.total;
    let mut counts = ComponentCounts {
        total,
        digitized: 0,
        reused: 0,
    };
    if rng.random_bool(pr.digitize) {
        d.digitized = true;
        counts.digitized = if total > 1 && rng.random_bool(0.1) {
            total - 1
        } else {
            total
        };
        if rng.random_bool(pr.reuse) {
            counts.reused = rng.random_range(1..=counts.digitized);
        }
    }
    d.components = counts;
    let finished = matches!(d.status, DossierStatus::Done | DossierStatus::Returned);
    d.e_result = finished && rng.random_bool(pr.e_result);
    d.vneid_authenticated = rng.random_bool(if online { 0.85 } else { 0.08 });
    d.synced_to_portal = rng.random_bool(pr.synced);
    d.shared_to_citizen_store = d.e_result && rng.random_bool(pr.shared_store);
    d.used_population_data = rng.random_bool(pr.population_data);
    if finished && rng.random_bool(0.35) {
        let (satisfied, neutral) = if late { (0.55, 0.2) } else { (0.9, 0.07) };
        let x: f64 = rng.random();
        d.satisfaction = Some(if x < satisfied {
            Satisfaction::Satisfied
        } else if x < satisfied + neutral {
            Satisfaction::Neutral
        } else {
            Satisfaction::Dissatisfied
        });
    }
}

/// NgayCapNhat: the latest thing that happened to the dossier. A withdrawal
/// has no date field, so its time was put in `updated_at` and wins.
fn last_event(d: &Dossier, fallback: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if d.status == DossierStatus::Withdrawn
        && let Some(t) = d.updated_at
    {
        return Some(t);
    }
    let supplement_times = d
        .supplements
        .iter()
        .flat_map(|s| [Some(s.requested_at), s.completed_at]);
    let apology_times = d.apologies.iter().map(|a| a.issued_at);
    [
        d.submitted_at,
        d.received_at,
        d.finished_at,
        d.returned_at,
        d.refused_at,
        Some(fallback),
    ]
    .into_iter()
    .chain(supplement_times)
    .chain(apology_times)
    .flatten()
    .max()
}
