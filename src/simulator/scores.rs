//! The national portal's Decision 766 scores per unit and month.
//!
//! The portal scores from its own copy of the dossiers, so the simulated
//! scores are computed from the simulated dossiers and petitions with the
//! portal's published formulas where they are public (progress, payment,
//! satisfaction, digitization) and plausible draws where they are not
//! (transparency's procedure-publication part, online services). The
//! province's own row aggregates every unit's records.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;

use super::store::{SimScore, round2};
use super::timeline::Timeline;
use super::truth::judge;
use super::units::SimUnit;
use crate::domain::{Dossier, Petition, Satisfaction, UnitKind};
use crate::time::Month;

/// Counts behind one unit's scores in one month.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    received: u64,
    on_time: u64,
    online: u64,
    synced: u64,
    with_fees: u64,
    paid_online: u64,
    digitized: u64,
    e_result: u64,
    reused: u64,
    shared: u64,
    population: u64,
    /// Neither late nor rated "dissatisfied".
    pleased: u64,
    petitions: u64,
    petitions_on_time: u64,
    petitions_satisfied: u64,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        self.received += o.received;
        self.on_time += o.on_time;
        self.online += o.online;
        self.synced += o.synced;
        self.with_fees += o.with_fees;
        self.paid_online += o.paid_online;
        self.digitized += o.digitized;
        self.e_result += o.e_result;
        self.reused += o.reused;
        self.shared += o.shared;
        self.population += o.population;
        self.pleased += o.pleased;
        self.petitions += o.petitions;
        self.petitions_on_time += o.petitions_on_time;
        self.petitions_satisfied += o.petitions_satisfied;
    }
}

fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

pub(crate) fn make_scores(
    units: &[SimUnit],
    dossiers: &[Dossier],
    petitions: &[Petition],
    tl: &Timeline,
    rng: &mut StdRng,
) -> Vec<SimScore> {
    let months: HashMap<Month, usize> =
        tl.months.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let unit_idx: HashMap<&str, usize> = units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.unit.code.as_str(), i))
        .collect();
    let mut tallies = vec![vec![Tally::default(); tl.months.len()]; units.len()];
    for d in dossiers {
        let Some(r) = d.received_at else { continue };
        let (Some(&m), Some(&u)) = (
            months.get(&tl.month_of(r)),
            unit_idx.get(d.unit_code.as_str()),
        ) else {
            continue;
        };
        let as_of = tl.now.min(tl.months[m].end());
        let on_time = judge(d, as_of, tl).unwrap_or(false);
        let t = &mut tallies[u][m];
        t.received += 1;
        t.on_time += u64::from(on_time);
        t.online += u64::from(d.channel == crate::domain::Channel::Online);
        t.synced += u64::from(d.synced_to_portal);
        t.with_fees += u64::from(d.has_fees);
        t.paid_online += u64::from(d.has_fees && d.online_payment.is_online());
        t.digitized += u64::from(d.digitized);
        t.e_result += u64::from(d.e_result);
        t.reused += u64::from(d.components.reused > 0);
        t.shared += u64::from(d.shared_to_citizen_store);
        t.population += u64::from(d.used_population_data);
        t.pleased += u64::from(on_time && d.satisfaction != Some(Satisfaction::Dissatisfied));
    }
    for p in petitions {
        let Some(r) = p.received_at else { continue };
        let (Some(&m), Some(&u)) = (
            months.get(&tl.month_of(r)),
            unit_idx.get(p.unit_code.as_str()),
        ) else {
            continue;
        };
        let t = &mut tallies[u][m];
        t.petitions += 1;
        let answered_in_time = match (p.answered_at, p.due_at) {
            (Some(a), Some(due)) => a <= due,
            (None, Some(due)) => tl.now.min(tl.months[m].end()) <= due,
            _ => false,
        };
        t.petitions_on_time += u64::from(answered_in_time);
        t.petitions_satisfied += u64::from(p.satisfaction == Some(Satisfaction::Satisfied));
    }
    // The province's row sums every unit's records.
    if let Some(p) = units
        .iter()
        .position(|u| u.unit.kind == Some(UnitKind::Province))
    {
        for m in 0..tl.months.len() {
            let mut all = Tally::default();
            for (i, per_unit) in tallies.iter().enumerate() {
                if i != p {
                    all += per_unit[m];
                }
            }
            tallies[p][m] += all;
        }
    }
    let mut out = Vec::with_capacity(units.len() * tl.months.len());
    for (u, unit) in units.iter().enumerate() {
        for (m, &month) in tl.months.iter().enumerate() {
            let groups = groups(&tallies[u][m], unit, rng);
            // The portal recomputes overnight: last night's run for the
            // month under way, the night after the month for past ones.
            let updated = nightly_run(month, tl.now, tl);
            out.push(SimScore {
                id: format!("{}/{month}", unit.unit.code),
                unit_code: unit.unit.code.clone(),
                period: month,
                groups,
                updated_at: Some(updated),
            });
        }
    }
    out
}

fn nightly_run(month: Month, now: DateTime<Utc>, tl: &Timeline) -> DateTime<Utc> {
    let after_month = tl.at(month.next().first_day(), 2 * 3600);
    if after_month <= now {
        return after_month;
    }
    let today = tl.at(tl.now_local.date(), 2 * 3600);
    if today <= now {
        today
    } else {
        today - Duration::days(1)
    }
}

/// The six group scores, rounded as the portal rounds them: each
/// indicator to 2 decimals, the group as their sum.
fn groups(t: &Tally, unit: &SimUnit, rng: &mut StdRng) -> [Option<f64>; 6] {
    let pr = &unit.profile;
    let mut jitter = |lo: f64, hi: f64| rng.random_range(lo..hi);
    let p_r = |p: f64, r: f64| round2(p * r);
    let capped = |p: f64, r: f64, full_at: f64| round2((p * r / full_at).min(p));
    let pct = |r: f64| (r * 10_000.0).round() / 10_000.0;

    // Transparency: procedure publication is not in dossier data; dossier
    // sync is.
    let publication =
        p_r(6.0, jitter(0.85, 1.0)) + p_r(4.0, jitter(0.8, 1.0)) + p_r(2.0, jitter(0.9, 1.0));
    let transparency = publication + ratio(t.synced, t.received).map_or(0.0, |r| p_r(6.0, r));
    // Progress: 0 when nothing was received.
    let progress = ratio(t.on_time, t.received).map_or(0.0, |r| p_r(20.0, r));
    // Online services: the portal's formula is not public; a score that
    // follows the online share.
    let online = ratio(t.online, t.received).map(|r| round2(12.0 * (0.3 + 0.7 * r)));
    // Payment: no score without dossiers with fees.
    let payment = ratio(t.paid_online, t.with_fees).map(|r| {
        let procedures = pr.pay_online.max(0.5);
        p_r(6.0, pct(r))
            + capped(2.0, pct(procedures), 0.8)
            + capped(2.0, pct(procedures * 0.9), 0.8)
    });
    // Satisfaction: full marks for petitions when there were none; the
    // dossier part is 0 without dossiers.
    let petitions = ratio(t.petitions_on_time, t.petitions).map_or(6.0, |r| p_r(6.0, r))
        + ratio(t.petitions_satisfied, t.petitions).map_or(6.0, |r| p_r(6.0, r));
    let satisfaction =
        petitions + ratio(t.pleased, t.received).map_or(0.0, |r| capped(6.0, r, 0.9));
    // Digitization: no score without dossiers.
    let certified_copies = if unit.unit.kind == Some(UnitKind::Xa) {
        jitter(0.7, 1.0)
    } else {
        1.0
    };
    let connected = jitter(0.8, 1.0);
    let digitization = ratio(t.e_result, t.received).map(|e| {
        let r = |n: u64| n as f64 / t.received as f64;
        capped(6.0, e, 1.0)
            + capped(4.0, r(t.digitized), 1.0)
            + p_r(2.0, certified_copies)
            + capped(2.0, r(t.reused), 0.8)
            + p_r(4.0, ratio(t.shared, t.digitized).unwrap_or(0.0))
            + p_r(2.0, r(t.population))
            + p_r(2.0, connected)
    });
    let keep = |x: f64| Some(round2(x));
    [
        keep(transparency),
        keep(progress),
        online.map(round2),
        payment.map(round2),
        keep(satisfaction),
        digitization.map(round2),
    ]
}
