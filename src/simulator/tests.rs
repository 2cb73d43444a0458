//! Tests of the simulator as a whole: generation, serving over a loopback
//! listener, ground truth against what is served, and every fault.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, TimeZone, Timelike, Utc};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::domain::{Direction, DossierStatus, Satisfaction};
use crate::indicators::{DeadlineRules, OnTime, judge_on_time};
use crate::time::{local_to_utc, utc_to_local};

/// Thursday 20 August 2026, 10:00 in Hanoi, as the integration tests use.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 8, 20, 3, 0, 0).unwrap()
}

fn config(units: usize, months: u32) -> SimConfig {
    SimConfig {
        units,
        months,
        ..SimConfig::new(7, now())
    }
}

/// A simulator served on a loopback port until the token is cancelled.
struct Served {
    sim: Simulator,
    base: String,
    stop: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
    client: reqwest::Client,
}

async fn serve(sim: Simulator) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let task = tokio::spawn(sim.clone().serve(listener, stop.clone()));
    let client = reqwest::Client::builder()
        .timeout(StdDuration::from_secs(20))
        .build()
        .unwrap();
    Served {
        sim,
        base,
        stop,
        task,
        client,
    }
}

impl Served {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        r.json().await.unwrap()
    }

    /// Every record of a default-dialect endpoint, page by page.
    async fn all(&self, path: &str, size: usize) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let body = self
                .json(&format!("{path}{sep}page={page}&size={size}"))
                .await;
            out.extend(body["data"].as_array().unwrap().iter().cloned());
            if page >= body["total_pages"].as_u64().unwrap() {
                return out;
            }
            page += 1;
        }
    }

    /// Every dossier of the alternative dialect, cursor by cursor.
    async fn all_alt(&self, limit: usize) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                None => format!("/alt/v2/ho-so?limit={limit}"),
                Some(c) => format!("/alt/v2/ho-so?limit={limit}&cursor={c}"),
            };
            let body = self.json(&path).await;
            out.extend(body["result"]["items"].as_array().unwrap().iter().cloned());
            match body["result"]["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return out,
            }
        }
    }

    async fn stop(self) {
        self.stop.cancel();
        self.task.await.unwrap().unwrap();
    }
}

fn wire_date(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().map(|s| {
        local_to_utc(NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S").expect("a wire date"))
    })
}

fn alt_date(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().map(|s| {
        local_to_utc(NaiveDateTime::parse_from_str(s, "%d/%m/%Y %H:%M:%S").expect("an alt date"))
    })
}

fn ids(records: &[Value], field: &str) -> Vec<String> {
    records
        .iter()
        .map(|r| r[field].as_str().unwrap().to_owned())
        .collect()
}

// ---- Generation ----

#[test]
fn the_same_seed_and_now_give_the_same_province() {
    let a = Simulator::generate(&config(12, 3));
    let b = Simulator::generate(&config(12, 3));
    assert_eq!(a.units(), b.units());
    assert_eq!(a.dossiers(), b.dossiers());
    assert_eq!(a.petitions(), b.petitions());
    assert_eq!(a.documents(), b.documents());
    assert_eq!(a.reports(), b.reports());
    assert_eq!(a.scores(), b.scores());
    let other = Simulator::generate(&SimConfig {
        seed: 8,
        ..config(12, 3)
    });
    assert_ne!(a.dossiers(), other.dossiers());
    // The fixed units are the same for every seed.
    assert_eq!(a.units()[..6], other.units()[..6]);
}

#[test]
fn nothing_has_happened_after_now() {
    let sim = Simulator::generate(&config(20, 3));
    let check = |what: &str, id: &str, times: &[Option<DateTime<Utc>>]| {
        for t in times.iter().flatten() {
            assert!(*t <= now(), "{what} {id} has {t} after now");
        }
    };
    for d in sim.dossiers() {
        let mut times = vec![
            d.submitted_at,
            d.received_at,
            d.finished_at,
            d.returned_at,
            d.refused_at,
            d.updated_at,
        ];
        for s in &d.supplements {
            times.extend([Some(s.requested_at), s.completed_at]);
        }
        times.extend(d.apologies.iter().map(|a| a.issued_at));
        check("dossier", &d.code, &times);
    }
    for p in sim.petitions() {
        check(
            "petition",
            &p.code,
            &[p.received_at, p.answered_at, p.updated_at],
        );
    }
    for d in sim.documents() {
        check(
            "document",
            &d.id,
            &[d.registered_at, d.completed_at, d.updated_at],
        );
    }
    for r in sim.reports() {
        check("report", &r.id, &[r.submitted_at, r.updated_at]);
    }
    for s in sim.scores() {
        check("score", &s.unit_code.to_string(), &[s.updated_at]);
    }
}

#[test]
fn dossiers_are_received_only_on_working_days_during_office_hours() {
    let sim = Simulator::generate(&config(20, 12));
    let calendar = timeline::shipped_calendar();
    let received: Vec<NaiveDateTime> = sim
        .dossiers()
        .iter()
        .filter_map(|d| d.received_at.map(utc_to_local))
        .collect();
    assert!(received.len() > 5_000);
    for t in &received {
        assert!(calendar.is_working_day(t.date()), "received on {t}");
        assert!((7..17).contains(&t.hour()), "received at {t}");
    }
    // Tết 2026 (16–20 February) and National Day (2 September 2025) are off.
    let tet = chrono::NaiveDate::from_ymd_opt(2026, 2, 17).unwrap();
    assert!(!received.iter().any(|t| t.date() == tet));
    // The make-up Saturday of 10 January 2026 is a working day like any other.
    let saturday = chrono::NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
    assert!(received.iter().any(|t| t.date() == saturday));
}

#[test]
fn units_carry_agency_codes_vietnamese_names_and_example_addresses() {
    let sim = Simulator::generate(&config(40, 1));
    let units = sim.units();
    assert_eq!(units.len(), 40);
    let codes: Vec<&str> = units.iter().map(|u| u.code.as_str()).collect();
    assert_eq!(
        codes[..7],
        [
            "H44", "H44.07", "H44.12", "H44.15", "H44.100", "H44.101", "H44.02"
        ]
    );
    assert!(codes.contains(&"H44.102"));
    let names: BTreeSet<&str> = units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names.len(), 40, "names are distinct");
    for u in &units {
        let email = u.head_email.as_ref().unwrap();
        assert!(email.domain().ends_with(".example"), "{email}");
        if u.code.as_str() != "H44" {
            assert_eq!(u.parent.as_ref().unwrap().as_str(), "H44");
        }
        if u.kind == Some(crate::domain::UnitKind::Xa) {
            assert!(
                u.name.starts_with("UBND xã ") || u.name.starts_with("UBND phường "),
                "{}",
                u.name
            );
        }
    }
    assert!(names.contains("Sở Nội vụ"));
    assert!(!names.iter().all(|n| n.is_ascii()));
}

#[test]
fn dossiers_have_realistic_lives() {
    let sim = Simulator::generate(&config(60, 6));
    let dossiers = sim.dossiers();
    let n = dossiers.len() as f64;
    let share = |f: &dyn Fn(&Dossier) -> bool| dossiers.iter().filter(|d| f(d)).count() as f64 / n;

    // Supplement requests: mostly at most one and completed, with the
    // deadline moved by exactly the waiting time; a few with two.
    let two = share(&|d| d.supplements.len() == 2);
    assert!(two > 0.002 && two < 0.05, "{two}");
    assert!(dossiers.iter().all(|d| d.supplements.len() <= 2));
    let one = share(&|d| d.supplements.len() == 1);
    assert!(one > 0.03 && one < 0.25, "{one}");
    for d in &dossiers {
        for s in &d.supplements {
            if let (Some(done), Some(old), Some(new)) = (s.completed_at, s.old_due_at, s.new_due_at)
            {
                assert_eq!(new - old, done - s.requested_at, "{}", d.code);
            }
        }
        if let Some(last) = d.supplements.last().and_then(|s| s.new_due_at) {
            assert_eq!(d.due_at, Some(last), "{}", d.code);
        }
    }
    // Apologies only on dossiers that ran past their deadline; a few twice.
    let apologised: Vec<&Dossier> = dossiers
        .iter()
        .filter(|d| !d.apologies.is_empty())
        .collect();
    assert!(apologised.len() > 20);
    assert!(apologised.iter().any(|d| d.apologies.len() == 2));
    assert!(apologised.iter().all(|d| d.apologies.len() <= 2));
    // Refusals, withdrawals, online submissions, payment, digitization.
    for (status, lo) in [
        (DossierStatus::Refused, 0.01),
        (DossierStatus::Withdrawn, 0.005),
        (DossierStatus::Returned, 0.5),
        (DossierStatus::InProgress, 0.005),
        (DossierStatus::SupplementRequested, 0.005),
        (DossierStatus::NewlyRegistered, 0.0001),
    ] {
        let s = share(&|d| d.status == status);
        assert!(s > lo, "{status}: {s}");
    }
    let online = share(&|d| d.channel == crate::domain::Channel::Online);
    assert!(online > 0.3 && online < 0.9, "{online}");
    let with_fees: Vec<&Dossier> = dossiers.iter().filter(|d| d.has_fees).collect();
    let paid = with_fees
        .iter()
        .filter(|d| d.online_payment.is_online())
        .count() as f64
        / with_fees.len() as f64;
    assert!(paid > 0.2 && paid < 0.95, "{paid}");
    assert!(
        dossiers
            .iter()
            .all(|d| d.has_fees || !d.online_payment.is_online())
    );
    let digitized = share(&|d| d.digitized);
    assert!(digitized > 0.5 && digitized < 1.0, "{digitized}");
    assert!(
        dossiers
            .iter()
            .all(|d| d.components.reused <= d.components.digitized
                && d.components.digitized <= d.components.total)
    );
    assert!(
        dossiers
            .iter()
            .all(|d| !d.e_result
                || matches!(d.status, DossierStatus::Done | DossierStatus::Returned))
    );
    let rated = share(&|d| d.satisfaction.is_some());
    assert!(rated > 0.1, "{rated}");
    assert!(
        dossiers
            .iter()
            .any(|d| d.satisfaction == Some(Satisfaction::Dissatisfied))
    );
}

#[test]
fn most_units_are_on_time_and_about_one_in_eight_clearly_fails() {
    let sim = Simulator::generate(&config(200, 2));
    let previous = Month::containing(now()).previous();
    let truth = sim.on_time_truth(previous, now());
    let rate = |code: &str| {
        let (ok, n) = truth[&UnitCode::parse(code).unwrap()];
        ok as f64 / n as f64
    };
    // The fixed units keep their designed rates.
    assert!(rate("H44.100") < 0.85, "{}", rate("H44.100"));
    assert!(
        rate("H44.12") < 0.95 && rate("H44.12") > 0.88,
        "{}",
        rate("H44.12")
    );
    assert!(rate("H44.07") >= 0.95, "{}", rate("H44.07"));
    let failing = truth
        .values()
        .filter(|(ok, n)| (*ok as f64) / (*n as f64) < 0.9)
        .count() as f64
        / truth.len() as f64;
    assert!(failing > 0.06 && failing < 0.2, "{failing}");
}

#[test]
fn verdicts_hold_when_judged_a_few_hours_after_now() {
    // Tests advance their clock by minutes or hours without telling the
    // simulator; an on-time unit's open dossiers must not all fall due then.
    let sim = Simulator::generate(&config(60, 1));
    let month = Month::containing(now());
    assert_eq!(
        sim.on_time_truth(month, now()),
        sim.on_time_truth(month, now() + Duration::hours(12))
    );
}

#[test]
fn the_on_time_truth_agrees_with_par_monitors_own_judgement() {
    let sim = Simulator::generate(&config(30, 3));
    let dossiers = sim.dossiers();
    let calendar = timeline::shipped_calendar();
    let statutory = BTreeMap::new();
    let rules = DeadlineRules {
        calendar: &calendar,
        statutory_days: &statutory,
        default_statutory_days: None,
    };
    for month in [
        Month::containing(now()),
        Month::containing(now()).previous(),
    ] {
        let as_of = now().min(month.end());
        let mut counts: BTreeMap<UnitCode, (u64, u64)> = BTreeMap::new();
        let mut late = BTreeSet::new();
        for d in dossiers
            .iter()
            .filter(|d| d.received_at.is_some_and(|r| month.contains(r)))
        {
            let e = counts.entry(d.unit_code.clone()).or_default();
            match judge_on_time(d, &rules, as_of) {
                OnTime::NotReceived => continue,
                OnTime::OnTime => e.0 += 1,
                OnTime::Late(_) => {
                    late.insert(d.code.clone());
                }
            }
            e.1 += 1;
        }
        assert_eq!(sim.on_time_truth(month, now()), counts, "{month}");
        assert_eq!(sim.late_dossiers(month, now()), late, "{month}");
        assert!(!late.is_empty());
    }
}

#[test]
fn reports_follow_the_monthly_windows_and_some_are_late_or_missing() {
    let sim = Simulator::generate(&config(60, 12));
    let reports = sim.reports();
    for r in &reports {
        let due = utc_to_local(r.due_at);
        assert_eq!((due.day(), due.hour()), (20, 23), "{}", r.id);
        if let Some(s) = r.submitted_at {
            assert!(r.status != crate::domain::ReportStatus::Draft, "{}", r.id);
            assert!(s >= r.due_at - Duration::days(6), "{}", r.id);
        }
    }
    let august: Vec<_> = reports.iter().filter(|r| r.period == "2026-08").collect();
    assert_eq!(
        august.len(),
        60,
        "one monthly report per unit once the window closed"
    );
    assert!(reports.iter().any(|r| r.period == "2026-Q2"));
    assert!(reports.iter().any(|r| r.period == "2025"));
    let past_due: Vec<_> = reports.iter().filter(|r| r.due_at < now()).collect();
    let late = past_due
        .iter()
        .filter(|r| r.submitted_at.is_some_and(|s| s > r.due_at))
        .count();
    let missing = past_due.iter().filter(|r| r.submitted_at.is_none()).count();
    assert!(late > 0 && missing > 0, "late {late}, missing {missing}");
    assert!(late + missing < past_due.len() / 4);
}

#[test]
fn documents_are_mostly_electronic_and_signed_with_some_units_lagging() {
    let sim = Simulator::generate(&config(60, 3));
    let docs = sim.documents();
    let mut per_unit: BTreeMap<&UnitCode, (u32, u32)> = BTreeMap::new();
    for d in docs.iter().filter(|d| d.direction == Direction::Outgoing) {
        let e = per_unit.entry(&d.unit_code).or_default();
        e.0 += u32::from(d.electronic);
        e.1 += 1;
        assert_eq!(d.axis_status.is_some(), d.electronic, "{}", d.id);
        assert!(d.due_at.is_none());
    }
    let shares: Vec<f64> = per_unit
        .values()
        .map(|(e, n)| f64::from(*e) / f64::from(*n))
        .collect();
    let good = shares.iter().filter(|s| **s >= 0.9).count();
    let lagging = shares.iter().filter(|s| **s < 0.9).count();
    assert!(good > lagging && lagging > 0, "{shares:?}");
    let signed = docs.iter().filter(|d| d.electronic && d.signed).count() as f64
        / docs.iter().filter(|d| d.electronic).count() as f64;
    assert!(signed > 0.8, "{signed}");
    let incoming: Vec<_> = docs
        .iter()
        .filter(|d| d.direction == Direction::Incoming)
        .collect();
    assert!(incoming.iter().all(|d| d.due_at.is_some()));
    assert!(
        incoming
            .iter()
            .any(|d| d.completed_at.is_none() && d.due_at < Some(now()))
    );
}

#[test]
fn petitions_are_due_fifteen_working_days_after_receipt() {
    let sim = Simulator::generate(&config(30, 3));
    let calendar = timeline::shipped_calendar();
    let petitions = sim.petitions();
    assert!(!petitions.is_empty());
    for p in &petitions {
        let received = utc_to_local(p.received_at.unwrap());
        let due = utc_to_local(p.due_at.unwrap());
        assert_eq!(calendar.add_working_days(received, 15), due, "{}", p.code);
        assert!(p.satisfaction.is_none() || p.answered_at.is_some());
    }
    assert!(petitions.iter().any(|p| p.answered_at.is_none()));
}

#[test]
fn portal_scores_are_plausible() {
    let sim = Simulator::generate(&config(30, 3));
    let scores = sim.scores();
    assert_eq!(scores.len(), 30 * 3);
    for s in &scores {
        let total = s.total.unwrap();
        assert!((30.0..=100.0).contains(&total), "{s:?}");
        let sum: f64 = s.groups.values().flatten().sum();
        assert!((sum - total).abs() < 0.011, "{s:?}");
        for v in s.groups.values().flatten() {
            assert_eq!((v * 100.0).round() / 100.0, *v);
        }
    }
    // Progress follows the unit's on-time rate: the failing commune scores lower.
    let progress = |code: &str| {
        scores
            .iter()
            .find(|s| s.unit_code.as_str() == code && s.period == "2026-07")
            .unwrap()
            .groups["PROGRESS"]
            .unwrap()
    };
    assert!(progress("H44.100") < progress("H44.07"));
}

#[test]
fn two_hundred_units_over_a_year_generate_about_96k_dossiers() {
    let sim = Simulator::generate(&SimConfig {
        units: 200,
        months: 12,
        dossiers_per_month: 40,
        ..SimConfig::new(3, now())
    });
    let truth = sim.truth();
    let dossiers = truth.totals[&Endpoint::Dossiers].served();
    // 199 units with a one-stop desk, 11 full months and two thirds of August.
    assert!((88_000..=96_000).contains(&dossiers), "{dossiers}");
    assert_eq!(truth.totals[&Endpoint::Units].served(), 200);
    assert_eq!(truth.totals.len(), Endpoint::ALL.len());
    assert_eq!(truth.totals[&Endpoint::Scores766].served(), 200 * 12);
}

// ---- Serving and ground truth ----

#[tokio::test]
async fn ground_truth_matches_what_every_endpoint_serves() {
    let s = serve(Simulator::generate(&config(10, 3))).await;
    let truth = s.sim.truth();
    let dossiers = s.all("/api/v1/dossiers", 997).await;
    let petitions = s.all("/api/v1/petitions", 50).await;
    let documents = s.all("/api/v1/documents", 333).await;
    let reports = s.all("/api/v1/reports", 40).await;
    let scores = s.all("/api/v1/scores766", 7).await;
    let units = s.all("/api/v1/units", 3).await;

    let mut served: BTreeMap<String, UnitTruth> = BTreeMap::new();
    for u in &units {
        let e = served
            .entry(u["MaDinhDanh"].as_str().unwrap().into())
            .or_default();
        e.name = u["TenDonVi"].as_str().unwrap().into();
    }
    for d in &dossiers {
        let e = served
            .entry(d["DonViXuLy"].as_str().unwrap().into())
            .or_default();
        e.dossiers.valid += 1;
        let status = DossierStatus::from_code(d["TrangThaiHoSo"].as_u64().unwrap() as u8).unwrap();
        *e.dossiers_by_status.entry(status).or_default() += 1;
    }
    for p in &petitions {
        served
            .entry(p["DonViXuLy"].as_str().unwrap().into())
            .or_default()
            .petitions
            .valid += 1;
    }
    for d in &documents {
        let e = served
            .entry(d["DonVi"].as_str().unwrap().into())
            .or_default();
        match d["LoaiVanBan"].as_str().unwrap() {
            "di" => e.documents_outgoing.valid += 1,
            "den" => e.documents_incoming.valid += 1,
            other => panic!("LoaiVanBan {other}"),
        }
    }
    for r in &reports {
        served
            .entry(r["DonVi"].as_str().unwrap().into())
            .or_default()
            .reports
            .valid += 1;
    }
    for x in &scores {
        served
            .entry(x["MaDonVi"].as_str().unwrap().into())
            .or_default()
            .scores
            .valid += 1;
    }
    let expected: BTreeMap<String, UnitTruth> = truth
        .units
        .iter()
        .map(|(code, u)| {
            (
                code.to_string(),
                UnitTruth {
                    on_time: BTreeMap::new(),
                    ..u.clone()
                },
            )
        })
        .collect();
    assert_eq!(served, expected);
    assert_eq!(
        dossiers.len() as u64,
        truth.totals[&Endpoint::Dossiers].valid
    );

    // The same truth over HTTP.
    let over_http = s.json("/_sim/truth").await;
    assert_eq!(over_http, serde_json::to_value(&truth).unwrap());
    s.stop().await;
}

#[tokio::test]
async fn records_come_sorted_by_change_time_and_id_and_updated_since_filters() {
    let s = serve(Simulator::generate(&config(8, 2))).await;
    let all = s.all("/api/v1/dossiers", 500).await;
    let keys: Vec<(DateTime<Utc>, String)> = all
        .iter()
        .map(|d| {
            (
                wire_date(&d["NgayCapNhat"]).unwrap(),
                d["MaHoSo"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "sorted and unique");

    let since = keys[keys.len() / 2].0;
    let stamp = crate::simulator::wire::format_wire(since);
    let newer = s
        .all(&format!("/api/v1/dossiers?updated_since={stamp}"), 100)
        .await;
    let expected = keys.iter().filter(|(t, _)| *t >= since).count();
    assert_eq!(newer.len(), expected);
    assert!(
        newer
            .iter()
            .all(|d| wire_date(&d["NgayCapNhat"]).unwrap() >= since)
    );

    // The envelope, and sizes clamped to 1..=10000.
    let body = s.json("/api/v1/dossiers?page=2&size=0").await;
    assert_eq!(
        (body["page"].as_u64(), body["size"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(body["total"].as_u64(), Some(all.len() as u64));
    assert_eq!(body["total_pages"].as_u64(), Some(all.len() as u64));
    let body = s.json("/api/v1/dossiers?size=999999").await;
    assert_eq!(body["size"].as_u64(), Some(10_000));
    let body = s.json("/api/v1/dossiers").await;
    assert_eq!(body["data"].as_array().unwrap().len(), 100);
    let past_the_end = s.json("/api/v1/dossiers?page=9999").await;
    assert!(past_the_end["data"].as_array().unwrap().is_empty());

    for bad in [
        "/api/v1/dossiers?updated_since=2026-08-20",
        "/api/v1/petitions?page=first",
        "/api/v1/scores766?period=2026-8",
        "/alt/v2/ho-so?since=20260820100000",
        "/alt/v2/ho-so?cursor=nonsense",
    ] {
        let r = s.get(bad).await;
        assert_eq!(r.status(), 400, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"].as_str().is_some(), "{bad}");
    }
    let august = s.all("/api/v1/scores766?period=2026-08", 100).await;
    assert_eq!(august.len(), 8);
    assert!(august.iter().all(|x| x["Ky"] == "2026-08"));
    s.stop().await;
}

#[tokio::test]
async fn the_alternative_dialect_serves_the_same_dossiers() {
    let s = serve(Simulator::generate(&config(8, 2))).await;
    let default = s.all("/api/v1/dossiers", 1000).await;
    let alt = s.all_alt(137).await;
    assert_eq!(ids(&default, "MaHoSo"), ids(&alt, "id"));
    for (d, a) in default.iter().zip(&alt) {
        assert_eq!(a["thuTuc"]["ma"], d["MaTTHC"]);
        assert_eq!(a["thuTuc"]["ten"], d["TenTTHC"]);
        assert_eq!(a["thuTuc"]["linhVuc"], d["MaLinhVuc"]);
        assert_eq!(a["donVi"]["ma"], d["DonViXuLy"]);
        let status = d["TrangThaiHoSo"].as_u64().unwrap() as usize;
        assert_eq!(a["trangThai"], wire::ALT_STATUSES[status - 1]);
        let kenh = ["TRUC_TIEP", "TRUC_TUYEN", "BUU_CHINH"]
            [d["KenhThucHien"].as_u64().unwrap() as usize - 1];
        assert_eq!(a["kenh"], kenh);
        for (alt_key, key) in [
            ("nop", "NgayNopHoSo"),
            ("tiepNhan", "NgayTiepNhan"),
            ("henTra", "NgayHenTra"),
            ("ketThuc", "NgayKetThucXuLy"),
            ("tra", "NgayTra"),
            ("tuChoi", "NgayTuChoi"),
            ("capNhat", "NgayCapNhat"),
        ] {
            assert_eq!(
                alt_date(&a["thoiGian"][alt_key]),
                wire_date(&d[key]),
                "{key}"
            );
        }
        let supplements = d["DanhSachHoSoBoSung"].as_array().unwrap();
        let bo_sung = a["boSung"].as_array().unwrap();
        assert_eq!(supplements.len(), bo_sung.len());
        for (x, y) in supplements.iter().zip(bo_sung) {
            assert_eq!(alt_date(&y["yeuCau"]), wire_date(&x["ThoiGianYeuCau"]));
            assert_eq!(alt_date(&y["henTraMoi"]), wire_date(&x["NgayHenTraMoi"]));
        }
    }
    // `since` keeps the records changed at or after it.
    let cut = wire_date(&default[default.len() - 10]["NgayCapNhat"]).unwrap();
    let since = utc_to_local(cut).format("%d/%m/%Y %H:%M:%S").to_string();
    let body = s
        .json(&format!(
            "/alt/v2/ho-so?limit=100&since={}",
            since.replace(' ', "%20")
        ))
        .await;
    let recent = body["result"]["items"].as_array().unwrap();
    let expected = default
        .iter()
        .filter(|d| wire_date(&d["NgayCapNhat"]).unwrap() >= cut)
        .count();
    assert_eq!(recent.len(), expected);
    assert!(body["result"]["nextCursor"].is_null());
    s.stop().await;
}

#[tokio::test]
async fn wire_records_carry_every_default_field() {
    let s = serve(Simulator::generate(&config(6, 2))).await;
    let all = s.all("/api/v1/dossiers", 10_000).await;
    let by_code: BTreeMap<String, Dossier> = s
        .sim
        .dossiers()
        .into_iter()
        .map(|d| (d.code.clone(), d))
        .collect();
    for w in &all {
        let d = &by_code[w["MaHoSo"].as_str().unwrap()];
        assert_eq!(w["CoNghiaVuTaiChinh"], d.has_fees);
        assert_eq!(
            w["DanhSachLePhi"].as_array().unwrap().is_empty(),
            !d.has_fees
        );
        let e_result = w["DanhSachGiayToKetQua"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| {
                r["DuongDanTepTinKetQua"]
                    .as_str()
                    .is_some_and(|l| !l.is_empty())
            });
        assert_eq!(e_result, d.e_result);
        let parts = w["TaiLieuNop"].as_array().unwrap();
        assert_eq!(parts.len() as u32, d.components.total);
        assert_eq!(
            parts.iter().filter(|p| p["DuocSoHoa"] == true).count() as u32,
            d.components.digitized
        );
        assert_eq!(
            parts.iter().filter(|p| p["DuocTaiSuDung"] == true).count() as u32,
            d.components.reused
        );
        assert_eq!(
            w["PhieuXinLoi"].as_array().unwrap().len(),
            d.apologies.len()
        );
        let paid = w["DuocThanhToanTrucTuyen"].as_u64().unwrap();
        assert_eq!(paid > 0, d.online_payment.is_online());
        for key in [
            "HoSoCoThanhPhanSoHoa",
            "TaiKhoanDuocXacThucVoiVNeID",
            "DaDongBoDVCQG",
            "DaChiaSeKhoDuLieu",
            "SuDungDuLieuDanCu",
        ] {
            assert!(w[key].is_boolean(), "{key}");
        }
        assert!(
            w["MucDoHaiLong"].is_null() || (1..=3).contains(&w["MucDoHaiLong"].as_u64().unwrap())
        );
        assert_eq!(wire_date(&w["NgayTiepNhan"]), d.received_at);
        assert_eq!(wire_date(&w["NgayHenTra"]), d.due_at);
    }
    assert_eq!(
        to_wire(&all_first(&s.sim))["MaHoSo"],
        all_first(&s.sim).code
    );
    s.stop().await;
}

fn all_first(sim: &Simulator) -> Dossier {
    sim.dossiers().into_iter().next().unwrap()
}

// ---- Changing records ----

#[tokio::test]
async fn incremental_polls_see_exactly_what_changed_and_deletions_disappear() {
    let s = serve(Simulator::generate(&config(6, 2))).await;
    let all = s.all("/api/v1/dossiers", 10_000).await;
    let cursor = all.last().unwrap()["NgayCapNhat"]
        .as_str()
        .unwrap()
        .to_owned();
    let since = |c: &str| format!("/api/v1/dossiers?updated_since={c}&size=10000");
    let at_cursor = s.json(&since(&cursor)).await["total"].as_u64().unwrap();

    // Time passes upstream; one dossier changes, another goes away.
    s.sim.set_now(now() + Duration::minutes(5));
    let changed = ids(&all, "MaHoSo")[3].clone();
    let deleted = ids(&all, "MaHoSo")[4].clone();
    assert!(s.sim.touch(RecordKind::Dossier, &changed));
    assert!(s.sim.delete(RecordKind::Dossier, &deleted));
    assert!(!s.sim.delete(RecordKind::Dossier, &deleted));
    assert!(!s.sim.touch(RecordKind::Dossier, "no such dossier"));

    let before = s.sim.records_served(Endpoint::Dossiers);
    let requests = s.sim.requests(Endpoint::Dossiers);
    let fresh = s.json(&since(&cursor)).await;
    let fresh_ids = ids(fresh["data"].as_array().unwrap(), "MaHoSo");
    assert!(fresh_ids.contains(&changed));
    assert_eq!(fresh_ids.len() as u64, at_cursor + 1);
    assert_eq!(
        wire_date(&fresh["data"].as_array().unwrap().last().unwrap()["NgayCapNhat"]),
        Some(now() + Duration::minutes(5))
    );
    assert_eq!(s.sim.requests(Endpoint::Dossiers), requests + 1);
    assert_eq!(
        s.sim.records_served(Endpoint::Dossiers),
        before + at_cursor + 1
    );

    let again = s.all("/api/v1/dossiers", 10_000).await;
    assert_eq!(again.len(), all.len() - 1);
    assert!(!ids(&again, "MaHoSo").contains(&deleted));
    assert_eq!(
        s.sim.truth().totals[&Endpoint::Dossiers].valid,
        again.len() as u64
    );

    // Other kinds change the same way.
    let p = s.sim.petitions()[0].code.clone();
    s.sim.update_petitions(|x| {
        if x.code == p {
            x.answered_at = None;
        }
    });
    assert!(s.sim.touch(RecordKind::Petition, &p));
    assert!(s.sim.delete(RecordKind::Report, &s.sim.reports()[0].id));
    assert!(s.sim.touch(RecordKind::Score, "H44.07/2026-08"));
    let mut d = s.sim.dossiers()[0].clone();
    d.code = "H44.07-260820-99999".into();
    s.sim.upsert_dossier(d);
    assert_eq!(s.sim.dossiers().len(), again.len() + 1);
    s.stop().await;
}

#[tokio::test]
async fn a_renamed_unit_shows_its_new_name_and_moves_forward() {
    let s = serve(Simulator::generate(&config(6, 1))).await;
    let before = s.all("/api/v1/units", 100).await;
    s.sim.set_now(now() + Duration::hours(1));
    s.sim
        .add_fault(Fault::RenameUnit {
            unit: "H44.101".into(),
            name: "UBND xã Tiên Lãng mới".into(),
        })
        .unwrap();
    let after = s.all("/api/v1/units", 100).await;
    let last = after.last().unwrap();
    assert_eq!(last["MaDinhDanh"], "H44.101");
    assert_eq!(last["TenDonVi"], "UBND xã Tiên Lãng mới");
    assert!(wire_date(&last["NgayCapNhat"]) > wire_date(&before[0]["NgayCapNhat"]));
    assert_eq!(
        s.sim.truth().units[&UnitCode::parse("H44.101").unwrap()].name,
        "UBND xã Tiên Lãng mới"
    );
    let err = s
        .sim
        .add_fault(Fault::RenameUnit {
            unit: "H99".into(),
            name: "x".into(),
        })
        .unwrap_err();
    assert!(err.0.contains("no unit"), "{err}");
    s.stop().await;
}

// ---- Faults ----

#[tokio::test]
async fn status_faults_answer_the_next_requests_with_retry_after_then_recover() {
    let s = serve(Simulator::generate(&config(6, 1))).await;
    s.sim
        .add_fault(
            "status,endpoint=dossiers,status=503,count=2,retry_after_secs=7"
                .parse()
                .unwrap(),
        )
        .unwrap();
    s.sim
        .add_fault(
            "status,endpoint=petitions,status=429,count=1"
                .parse()
                .unwrap(),
        )
        .unwrap();
    s.sim
        .add_fault("status,endpoint=units,status=500,count=1".parse().unwrap())
        .unwrap();
    for _ in 0..2 {
        let r = s.get("/api/v1/dossiers").await;
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "7");
    }
    assert_eq!(s.get("/api/v1/dossiers").await.status(), 200);
    let r = s.get("/api/v1/petitions").await;
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["retry-after"].to_str().unwrap()
        ),
        (429, "1")
    );
    let r = s.get("/api/v1/units").await;
    assert_eq!(r.status(), 500);
    assert!(r.headers().get("retry-after").is_none());
    assert_eq!(s.get("/api/v1/units").await.status(), 200);
    assert_eq!(s.sim.requests(Endpoint::Dossiers), 3);
    assert!(s.sim.active_faults().is_empty());
    s.stop().await;
}

#[tokio::test]
async fn latency_delays_every_answer_until_cleared() {
    let s = serve(Simulator::generate(&config(6, 1))).await;
    s.sim
        .add_fault("latency,endpoint=units,millis=150".parse().unwrap())
        .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(s.get("/api/v1/units").await.status(), 200);
    assert!(started.elapsed() >= StdDuration::from_millis(150));
    s.sim.clear_faults();
    assert!(s.sim.active_faults().is_empty());
    s.stop().await;
}

#[tokio::test]
async fn a_hanging_request_outlasts_the_client_timeout_and_ends_at_shutdown() {
    let s = serve(Simulator::generate(&config(6, 1))).await;
    s.sim
        .add_fault("hang,endpoint=dossiers,count=2".parse().unwrap())
        .unwrap();
    let impatient = reqwest::Client::builder()
        .timeout(StdDuration::from_millis(300))
        .build()
        .unwrap();
    let err = impatient
        .get(format!("{}/api/v1/dossiers", s.base))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");

    // The second one is still hanging when the server shuts down; shutdown
    // is not held up by it.
    let url = format!("{}/api/v1/dossiers", s.base);
    let client = s.client.clone();
    let pending = tokio::spawn(async move { client.get(url).send().await });
    let until = std::time::Instant::now() + StdDuration::from_secs(10);
    while s.sim.requests(Endpoint::Dossiers) < 2 {
        assert!(
            std::time::Instant::now() < until,
            "the request never arrived"
        );
        tokio::task::yield_now().await;
    }
    s.stop.cancel();
    tokio::time::timeout(StdDuration::from_secs(10), s.task)
        .await
        .expect("shutdown is not held up by a hanging request")
        .unwrap()
        .unwrap();
    let answer = pending.await.unwrap();
    assert!(answer.is_err() || answer.unwrap().status() == 503);
}

#[tokio::test]
async fn clearing_faults_releases_hanging_requests() {
    let s = serve(Simulator::generate(&config(6, 1))).await;
    s.sim.add_fault("hang,count=1".parse().unwrap()).unwrap();
    let url = format!("{}/api/v1/reports", s.base);
    let client = s.client.clone();
    let pending = tokio::spawn(async move { client.get(url).send().await });
    let until = std::time::Instant::now() + StdDuration::from_secs(10);
    while s.sim.requests(Endpoint::Reports) < 1 {
        assert!(
            std::time::Instant::now() < until,
            "the request never arrived"
        );
        tokio::task::yield_now().await;
    }
    let r = s
        .client
        .delete(format!("{}/_sim/faults", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let released = tokio::time::timeout(StdDuration::from_secs(10), pending)
        .await
        .expect("released")
        .unwrap()
        .unwrap();
    assert_eq!(released.status(), 503);
    assert_eq!(s.get("/api/v1/reports").await.status(), 200);
    s.stop().await;
}

#[tokio::test]
async fn a_truncated_body_is_not_json() {
    let s = serve(Simulator::generate(&config(6, 1))).await;
    s.sim
        .add_fault("truncated,endpoint=documents,count=1".parse().unwrap())
        .unwrap();
    let r = s.get("/api/v1/documents?size=50").await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err());
    assert!(text.starts_with("{\"data\":["));
    let ok = s.json("/api/v1/documents?size=50").await;
    assert_eq!(ok["data"].as_array().unwrap().len(), 50);
    s.stop().await;
}

#[tokio::test]
async fn a_shifting_page_repeats_a_record_and_hides_the_new_one() {
    let s = serve(Simulator::generate(&config(6, 1))).await;
    let before = s.all("/api/v1/dossiers", 100).await;
    s.sim
        .add_fault("shifting_pages,endpoint=dossiers,count=1".parse().unwrap())
        .unwrap();
    let during = s.all("/api/v1/dossiers", 100).await;
    let unique: BTreeSet<String> = ids(&during, "MaHoSo").into_iter().collect();
    // One record seen twice (the last of page 1 again at the top of page 2),
    // the new one never, and nothing else lost.
    assert_eq!(during.len(), before.len() + 1);
    assert_eq!(unique, ids(&before, "MaHoSo").into_iter().collect());
    assert_eq!(during[99]["MaHoSo"], during[100]["MaHoSo"]);
    // The new record is real: the truth and a fresh full pass have it.
    let after = s.all("/api/v1/dossiers", 100).await;
    assert_eq!(after.len(), before.len() + 1);
    let new = &after[0];
    assert!(!unique.contains(new["MaHoSo"].as_str().unwrap()));
    assert!(wire_date(&new["NgayCapNhat"]) < wire_date(&before[0]["NgayCapNhat"]));
    assert_eq!(
        s.sim.truth().totals[&Endpoint::Dossiers].valid,
        after.len() as u64
    );
    s.stop().await;
}

#[tokio::test]
async fn duplicates_repeat_the_previous_pages_last_record() {
    let s = serve(Simulator::generate(&config(6, 1))).await;
    let before = s.all("/api/v1/petitions", 3).await;
    assert!(before.len() > 9, "enough petitions for four pages");
    s.sim
        .add_fault(
            "duplicate_across_pages,endpoint=petitions,count=2"
                .parse()
                .unwrap(),
        )
        .unwrap();
    let during = s.all("/api/v1/petitions", 3).await;
    assert_eq!(during.len(), before.len() + 2);
    // Pages 2 and 3 each start with the previous page's last record.
    assert_eq!(during[2]["MaPAKN"], during[3]["MaPAKN"]);
    assert_eq!(during[6]["MaPAKN"], during[7]["MaPAKN"]);
    let unique: BTreeSet<String> = ids(&during, "MaPAKN").into_iter().collect();
    assert_eq!(unique.len(), before.len());
    assert!(s.sim.active_faults().is_empty());

    // In the alternative dialect, the cursor's record comes again.
    s.sim
        .add_fault(
            "duplicate_across_pages,endpoint=alt_dossiers,count=1"
                .parse()
                .unwrap(),
        )
        .unwrap();
    let alt = s.all_alt(50).await;
    assert_eq!(alt[49]["id"], alt[50]["id"]);
    assert_eq!(
        alt.len() as u64,
        s.sim.truth().totals[&Endpoint::AltDossiers].valid + 1
    );
    s.stop().await;
}

#[tokio::test]
async fn bad_records_are_served_broken_and_counted_apart() {
    let s = serve(Simulator::generate(&config(6, 2))).await;
    s.sim
        .add_fault(
            "bad_records,endpoint=dossiers,every=20,defect=missing_field"
                .parse()
                .unwrap(),
        )
        .unwrap();
    s.sim
        .add_fault(
            "bad_records,endpoint=dossiers,every=30,defect=unknown_status"
                .parse()
                .unwrap(),
        )
        .unwrap();
    s.sim
        .add_fault(
            "bad_records,endpoint=alt_dossiers,every=30,defect=unparseable_date"
                .parse()
                .unwrap(),
        )
        .unwrap();
    s.sim
        .add_fault(
            "bad_records,endpoint=reports,every=5,defect=missing_field,field=MaBaoCao"
                .parse()
                .unwrap(),
        )
        .unwrap();
    let truth = s.sim.truth();
    let all = s.all("/api/v1/dossiers", 1000).await;
    let broken = all
        .iter()
        .filter(|d| d.get("NgayTiepNhan").is_none() || d["TrangThaiHoSo"] == 42)
        .count() as u64;
    let totals = &truth.totals[&Endpoint::Dossiers];
    assert!(broken > 5, "{broken}");
    assert_eq!(broken, totals.bad);
    assert_eq!(all.len() as u64, totals.served());
    let per_unit_bad: u64 = truth.units.values().map(|u| u.dossiers.bad).sum();
    assert_eq!(per_unit_bad, broken);
    let by_status: u64 = truth
        .units
        .values()
        .flat_map(|u| u.dossiers_by_status.values())
        .sum();
    assert_eq!(by_status, totals.valid);
    // The same records are broken on every pass.
    let again = s.all("/api/v1/dossiers", 333).await;
    assert_eq!(all, again);
    // The on-time truth leaves out what a client cannot ingest.
    let month = Month::containing(now());
    let received_ok = all
        .iter()
        .filter(|d| d["TrangThaiHoSo"] != 42)
        .filter(|d| wire_date(&d["NgayTiepNhan"]).is_some_and(|r| month.contains(r)))
        .count() as u64;
    let counted: u64 = s
        .sim
        .on_time_truth(month, now())
        .values()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(counted, received_ok);

    let alt = s.all_alt(500).await;
    let alt_bad = alt
        .iter()
        .filter(|a| a["thoiGian"]["tiepNhan"] == wire::UNPARSEABLE_DATE)
        .count() as u64;
    assert_eq!(alt_bad, truth.totals[&Endpoint::AltDossiers].bad);
    let reports = s.all("/api/v1/reports", 100).await;
    let no_id = reports
        .iter()
        .filter(|r| r.get("MaBaoCao").is_none())
        .count() as u64;
    assert_eq!(no_id, truth.totals[&Endpoint::Reports].bad);
    assert!(no_id > 0);
    s.stop().await;
}

#[tokio::test]
async fn faults_are_managed_over_http() {
    let s = serve(Simulator::generate(&config(6, 1))).await;
    let url = format!("{}/_sim/faults", s.base);
    let r = s
        .client
        .post(&url)
        .body(
            r#"[{"kind":"status","endpoint":"reports","status":503,"count":1},
                  {"kind":"latency","millis":1}]"#,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["active"].as_array().unwrap().len(), 2);
    assert_eq!(body["active"][0]["remaining"], 1);
    assert!(body["active"][1]["remaining"].is_null());
    assert_eq!(s.get("/api/v1/reports").await.status(), 503);

    // An invalid list is refused whole.
    let r = s
        .client
        .post(&url)
        .body(r#"[{"kind":"hang","count":1},{"kind":"status","status":200,"count":1}]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("200"), "{body}");
    assert_eq!(s.sim.active_faults().len(), 1, "only the latency is left");

    let r = s.client.delete(&url).send().await.unwrap();
    let body: Value = r.json().await.unwrap();
    assert!(body["active"].as_array().unwrap().is_empty());

    let counts = s.json("/_sim/requests").await;
    assert_eq!(counts["requests"]["reports"], 1);
    assert_eq!(counts["records_served"]["reports"], 0);
    s.stop().await;
}

#[tokio::test]
async fn the_router_answers_without_a_listener_of_its_own() {
    // `router()` is what embedders mount; it serves the same API.
    let sim = Simulator::generate(&config(6, 1));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let app = sim.router();
    let token = stop.clone();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { token.cancelled().await })
            .await
    });
    let client = reqwest::Client::builder()
        .timeout(StdDuration::from_secs(10))
        .build()
        .unwrap();
    let body: Value = client
        .get(format!("http://{addr}/api/v1/units"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["total"], 6);
    assert_eq!(sim.request_count(), 1);
    stop.cancel();
    task.await.unwrap().unwrap();
}

#[test]
fn dates_on_the_wire_are_local_time() {
    let sim = Simulator::generate(&config(6, 1));
    let d = sim
        .dossiers()
        .into_iter()
        .find(|d| d.received_at.is_some())
        .unwrap();
    let w = to_wire(&d);
    let local = utc_to_local(d.received_at.unwrap());
    assert_eq!(
        w["NgayTiepNhan"].as_str().unwrap(),
        local.format("%Y%m%d%H%M%S").to_string()
    );
    assert_eq!(w["DonViXuLy"], d.unit_code.as_str());
}

// ---- The portal's evaluation API ----

impl Served {
    async fn evaluate(&self, endpoint: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!(
                "{}/api/v1/reporting/evaluation/{endpoint}",
                self.base
            ))
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn the_evaluation_api_serves_the_scores_in_both_envelopes_with_paging() {
    use crate::upstream::dvcqg::protocol::{ENDPOINTS, EvalPeriod, Shape};
    let s = serve(Simulator::generate(&config(12, 2))).await;
    let root = s.sim.root_department_id();
    let month = Month::new(2026, 8).unwrap();
    let official = s.sim.official_scores(EvalPeriod::Month(month));
    assert_eq!(official.len(), 12);
    for e in &ENDPOINTS {
        let mut units = Vec::new();
        let mut page = 1;
        loop {
            let mut body =
                serde_json::json!({"rootDepartmentId": root, "currentPage": page, "pageSize": 5});
            body.as_object_mut()
                .unwrap()
                .extend(EvalPeriod::Month(month).body_fields(e));
            let r = s.evaluate(e.name, body).await;
            assert_eq!(r.status(), 201, "{}", e.name);
            assert!(
                r.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/json")
            );
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["code"], "OK");
            let list = match e.shape {
                Shape::Tree => {
                    assert_eq!(v["data"]["parent"]["departmentCode"], "H44");
                    v["data"]["children"].as_array().unwrap().clone()
                }
                Shape::Breakdown => {
                    assert!(v["data"]["overview"].is_object());
                    v["data"]["evaluation"].as_array().unwrap().clone()
                }
            };
            let n = list.len();
            units.extend(list);
            if n < 5 {
                break;
            }
            page += 1;
        }
        assert_eq!(units.len(), 11, "{}: every unit but the province", e.name);
        for u in &units {
            let id = u["departmentId"].as_str().unwrap();
            let ours = official
                .iter()
                .find(|o| s.sim.department_id(o.unit_code.as_str()) == id)
                .expect("a known departmentId");
            let score = match e.shape {
                Shape::Tree => {
                    assert_eq!(u["departmentCode"], ours.unit_code.as_str());
                    &u["score"]
                }
                Shape::Breakdown => {
                    assert!(u.get("departmentCode").is_none());
                    let metrics = u["metrics"].as_array().unwrap();
                    assert_eq!(metrics.len(), e.indicators.len());
                    &u["totalScore"]
                }
            };
            assert_eq!(score.as_f64(), ours.groups[e.group], "{} {id}", e.name);
        }
    }
    // handling-satisfaction takes dates, not a timeType.
    let r = s
        .evaluate(
            "handling-satisfaction",
            serde_json::json!({"rootDepartmentId": root, "timeType": "month", "year": 2026, "month": 8}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = s
        .evaluate(
            "transparency",
            serde_json::json!({"rootDepartmentId": "nobody", "timeType": "year", "year": 2026}),
        )
        .await;
    assert_eq!(r.status(), 400);
    // The firewall's page and a missing unit list.
    s.sim
        .add_faults(vec![
            "waf_page,endpoint=evaluation,count=1".parse().unwrap(),
            "missing_children,endpoint=evaluation,count=1"
                .parse()
                .unwrap(),
        ])
        .unwrap();
    let body = serde_json::json!({"rootDepartmentId": root, "timeType": "year", "year": 2026});
    let r = s.evaluate("dvc-progress-tree", body.clone()).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().starts_with("<!DOCTYPE html>"));
    let v: Value = s
        .evaluate("dvc-progress-tree", body.clone())
        .await
        .json()
        .await
        .unwrap();
    assert!(v["data"]["parent"].is_object() && v["data"].get("children").is_none());
    let v: Value = s
        .evaluate("dvc-progress-tree", body)
        .await
        .json()
        .await
        .unwrap();
    assert!(v["data"]["children"].is_array());
    s.stop().await;
}
