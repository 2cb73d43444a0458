//! Ground truth: what the simulator serves, counted, so that tests can
//! compare what par-monitor ingested and computed against it.
//!
//! The on-time judgement here is written from domain.md's rules on its own,
//! not borrowed from `indicators`, so that a test comparing the two checks
//! something.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::catalog;
use super::faults::{BadRule, Endpoint, is_bad};
use super::store::Record;
use super::timeline::Timeline;
use crate::domain::{Direction, Dossier, DossierStatus, UnitCode};
use crate::time::{Month, local_to_utc, utc_to_local};

/// Whether a received dossier is on time when judged at `as_of` (the end of
/// its period, or now if that is earlier); `None` if it was never received.
pub(crate) fn judge(d: &Dossier, as_of: DateTime<Utc>, tl: &Timeline) -> Option<bool> {
    let received = d.received_at?;
    // More than one supplement request makes a dossier late, whatever the dates.
    if d.supplements.len() > 1 {
        return Some(false);
    }
    // The deadline before any supplement moved it (the waiting time is
    // deducted below instead), else the promised date, else the statutory
    // limit counted in working days from receipt.
    let deadline = d
        .supplements
        .first()
        .and_then(|s| s.old_due_at)
        .or(d.due_at)
        .or_else(|| {
            let days = catalog::procedure(&d.procedure_code)?.days;
            Some(local_to_utc(
                tl.calendar.add_working_days(utc_to_local(received), days),
            ))
        });
    let Some(deadline) = deadline else {
        return Some(false);
    };
    // Still waiting on its only request: it ends at the request.
    if let Some(s) = d.supplements.first().filter(|s| s.completed_at.is_none()) {
        return Some(s.requested_at <= deadline);
    }
    let waited = d
        .supplements
        .first()
        .and_then(|s| {
            s.completed_at
                .map(|c| (c - s.requested_at).max(Duration::zero()))
        })
        .unwrap_or_default();
    // End of processing, by priority: done, returned, stopped/refused; a
    // withdrawal (which has no date) at its last change.
    let end = d.status.is_terminal().then(|| {
        d.finished_at
            .or(d.returned_at)
            .or(d.refused_at)
            .or(d.updated_at)
    });
    Some(match end.flatten() {
        Some(end) => end - waited <= deadline,
        None => as_of - waited <= deadline,
    })
}

/// Per unit, (on time, received) for dossiers received in `period` and
/// judged at `as_of`, leaving out `skip` (dossiers served broken).
pub(crate) fn on_time<'a>(
    dossiers: impl Iterator<Item = &'a Dossier>,
    period: Month,
    as_of: DateTime<Utc>,
    tl: &Timeline,
    mut late: Option<&mut BTreeSet<String>>,
) -> BTreeMap<UnitCode, (u64, u64)> {
    let as_of = as_of.min(period.end());
    let mut out: BTreeMap<UnitCode, (u64, u64)> = BTreeMap::new();
    for d in dossiers {
        if !d.received_at.is_some_and(|r| period.contains(r)) {
            continue;
        }
        let Some(ok) = judge(d, as_of, tl) else {
            continue;
        };
        let e = out.entry(d.unit_code.clone()).or_default();
        e.0 += u64::from(ok);
        e.1 += 1;
        if !ok && let Some(late) = late.as_deref_mut() {
            late.insert(d.code.clone());
        }
    }
    out
}

/// Records of one kind for one unit: served well, and served broken by a
/// bad-record fault. A client should ingest `valid` of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counted {
    pub valid: u64,
    pub bad: u64,
}

impl Counted {
    fn add(&mut self, bad: bool) {
        if bad {
            self.bad += 1;
        } else {
            self.valid += 1;
        }
    }

    /// All records served, broken or not.
    pub fn served(&self) -> u64 {
        self.valid + self.bad
    }
}

/// What the simulator serves for one unit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UnitTruth {
    /// The name the directory shows now.
    pub name: String,
    pub dossiers: Counted,
    /// Well-served dossiers by status.
    pub dossiers_by_status: BTreeMap<DossierStatus, u64>,
    pub petitions: Counted,
    pub documents_outgoing: Counted,
    pub documents_incoming: Counted,
    pub reports: Counted,
    pub scores: Counted,
    /// Per month of receipt, `[on time, received]` as of now, well-served
    /// dossiers only (as [`crate::simulator::Simulator::on_time_truth`]).
    pub on_time: BTreeMap<String, [u64; 2]>,
}

/// Everything the simulator serves, counted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Truth {
    /// The simulated present, `yyyyMMddHHmmss` local time like the wire.
    pub now: String,
    pub units: BTreeMap<UnitCode, UnitTruth>,
    /// Totals per endpoint (the directory and the alternative dialect too).
    pub totals: BTreeMap<Endpoint, Counted>,
}

/// The bad-record rules per endpoint, as the truth needs them.
pub(crate) type Rules = BTreeMap<Endpoint, Vec<BadRule>>;

pub(crate) fn bad(rules: &Rules, e: Endpoint, id: &str) -> bool {
    rules
        .get(&e)
        .and_then(|r| is_bad(r, id))
        .is_some_and(|r| r.defect.spoils())
}

/// Counts what is served, judging on time for each month of the history.
pub(crate) fn count(state: &super::State, rules: &Rules, tl: &Timeline) -> Truth {
    let mut t = Truth {
        now: super::wire::format_wire(state.now),
        // Every endpoint has a total, zero included, so readers need not
        // tell "none" from "not counted".
        totals: Endpoint::ALL
            .into_iter()
            .map(|e| (e, Counted::default()))
            .collect(),
        ..Truth::default()
    };
    for u in state.units.rows() {
        t.units.insert(
            u.unit.code.clone(),
            UnitTruth {
                name: u.unit.name.clone(),
                ..UnitTruth::default()
            },
        );
        t.totals
            .entry(Endpoint::Units)
            .or_default()
            .add(bad(rules, Endpoint::Units, u.id()));
    }
    // Records of units the directory does not (or no longer) list still count.
    fn unit<'a>(t: &'a mut Truth, code: &UnitCode) -> &'a mut UnitTruth {
        t.units.entry(code.clone()).or_default()
    }
    for d in state.dossiers.rows() {
        let b = bad(rules, Endpoint::Dossiers, &d.code);
        let u = unit(&mut t, &d.unit_code);
        u.dossiers.add(b);
        if !b {
            *u.dossiers_by_status.entry(d.status).or_default() += 1;
        }
        t.totals.entry(Endpoint::Dossiers).or_default().add(b);
        let alt = bad(rules, Endpoint::AltDossiers, &d.code);
        t.totals.entry(Endpoint::AltDossiers).or_default().add(alt);
    }
    for p in state.petitions.rows() {
        let b = bad(rules, Endpoint::Petitions, &p.code);
        unit(&mut t, &p.unit_code).petitions.add(b);
        t.totals.entry(Endpoint::Petitions).or_default().add(b);
    }
    for d in state.documents.rows() {
        let b = bad(rules, Endpoint::Documents, &d.id);
        let u = unit(&mut t, &d.unit_code);
        match d.direction {
            Direction::Outgoing => u.documents_outgoing.add(b),
            Direction::Incoming => u.documents_incoming.add(b),
        }
        t.totals.entry(Endpoint::Documents).or_default().add(b);
    }
    for r in state.reports.rows() {
        let b = bad(rules, Endpoint::Reports, &r.id);
        unit(&mut t, &r.unit_code).reports.add(b);
        t.totals.entry(Endpoint::Reports).or_default().add(b);
    }
    for s in state.scores.rows() {
        let b = bad(rules, Endpoint::Scores766, &s.id);
        unit(&mut t, &s.unit_code).scores.add(b);
        t.totals.entry(Endpoint::Scores766).or_default().add(b);
    }
    // On time per unit and month of receipt, in one pass: each month's
    // dossiers are judged at its end, or now if it has not ended.
    let months: BTreeMap<Month, DateTime<Utc>> = tl
        .months
        .iter()
        .map(|m| (*m, state.now.min(m.end())))
        .collect();
    let mut on_time: BTreeMap<(UnitCode, Month), [u64; 2]> = BTreeMap::new();
    for d in state.dossiers.rows() {
        let Some(received) = d.received_at else {
            continue;
        };
        let month = tl.month_of(received);
        let Some(&as_of) = months.get(&month) else {
            continue;
        };
        if bad(rules, Endpoint::Dossiers, &d.code) {
            continue;
        }
        if let Some(ok) = judge(d, as_of, tl) {
            let e = on_time.entry((d.unit_code.clone(), month)).or_default();
            e[0] += u64::from(ok);
            e[1] += 1;
        }
    }
    for ((code, month), counts) in on_time {
        unit(&mut t, &code)
            .on_time
            .insert(month.to_string(), counts);
    }
    t
}
