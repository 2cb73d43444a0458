//! How long indicator recomputation takes: every indicator for a year of a
//! large province (about 1,000,000 dossiers over 2,000 units, 12 monthly
//! periods), and the incremental recomputation after 10,000 dossiers
//! changed (the (unit, month) pairs they touch, as the daemon does), and
//! the evaluation windows: a rolling 30 days computed from its records, and
//! a year to date summed from the twelve monthly values.
//!
//! `cargo bench --bench recompute` measures it; `cargo test --all-targets`
//! runs a small version once as a smoke test. The data comes from the
//! simulator, so its distributions are realistic.

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use par_monitor::calendar::WorkCalendar;
use par_monitor::domain::{Dossier, UnitCode};
use par_monitor::indicators::{
    DeadlineRules, Inputs, aggregate_periods, compute, compute_for_units, compute_periods,
};
use par_monitor::periods::Period;
use par_monitor::simulator::{SimConfig, Simulator};
use par_monitor::time::Month;
use par_monitor::window::Window;

fn sizes() -> (usize, u32) {
    // Under `cargo bench` criterion gets `--bench`; otherwise this is the
    // test run, which only checks that the benchmark works.
    if std::env::args().any(|a| a == "--bench") {
        (2_000, 42)
    } else {
        (20, 5)
    }
}

fn bench(c: &mut Criterion) {
    let (units, per_month) = sizes();
    let now = Utc.with_ymd_and_hms(2026, 12, 31, 10, 0, 0).unwrap();
    let sim = Simulator::generate(&SimConfig {
        units,
        dossiers_per_month: per_month,
        petitions_per_month: 3,
        documents_per_month: 0,
        months: 12,
        ..SimConfig::new(1, now)
    });
    let dossiers = sim.dossiers();
    let petitions = sim.petitions();
    let reports = sim.reports();
    let codes: Vec<UnitCode> = sim.units().into_iter().map(|u| u.code).collect();
    let calendar = WorkCalendar::weekends_only();
    let statutory = BTreeMap::new();
    let rules = DeadlineRules {
        calendar: &calendar,
        statutory_days: &statutory,
        default_statutory_days: Some(10),
    };
    let mut month = Month::containing(now);
    let mut months = Vec::new();
    for _ in 0..12 {
        months.push(month);
        month = month.previous();
    }
    let periods: Vec<Period> = months.iter().map(|m| (*m).into()).collect();
    eprintln!(
        "{} dossiers, {} petitions, {} reports over {} units and 12 months",
        dossiers.len(),
        petitions.len(),
        reports.len(),
        codes.len()
    );

    let mut group = c.benchmark_group("recompute");
    group.sample_size(10);
    group.bench_function("full year, every unit and indicator", |b| {
        b.iter(|| {
            let inputs = Inputs::new(codes.iter())
                .with_dossiers(&dossiers)
                .with_petitions(&petitions)
                .with_reports(&reports);
            black_box(compute_periods(&inputs, &periods, now, &rules, 20, 2))
        })
    });

    // The 10,000 most recently changed dossiers, and the (unit, month)
    // pairs they make dirty: what one poll's worth of changes costs.
    let mut recent: Vec<&Dossier> = dossiers.iter().collect();
    recent.sort_by_key(|d| std::cmp::Reverse(d.updated_at));
    let changed = &recent[..recent.len().min(10_000)];
    let mut dirty: BTreeMap<Month, BTreeSet<&UnitCode>> = BTreeMap::new();
    for d in changed {
        for t in [d.received_at, d.ended_at()].into_iter().flatten() {
            dirty
                .entry(Month::containing(t))
                .or_default()
                .insert(&d.unit_code);
        }
    }
    eprintln!(
        "10,000 changed dossiers dirty {} (unit, month) pairs",
        dirty.values().map(|u| u.len()).sum::<usize>()
    );
    // The records each dirty month reads, as the database would return
    // them (loading is storage's cost, measured by the first-sync bench).
    let month_dossiers: BTreeMap<Month, Vec<Dossier>> = dirty
        .keys()
        .map(|month| {
            let (from, to) = (month.start(), month.end());
            let rows = dossiers
                .iter()
                .filter(|d| {
                    d.received_at.is_some_and(|t| t >= from && t < to)
                        || d.ended_at().is_some_and(|t| t >= from && t < to)
                })
                .cloned()
                .collect();
            (*month, rows)
        })
        .collect();
    group.bench_function("incremental after 10,000 changed dossiers", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            for (month, units) in &dirty {
                let inputs = Inputs::new(codes.iter()).with_dossiers(&month_dossiers[month]);
                let period: Period = (*month).into();
                out.extend(compute_for_units(
                    &inputs,
                    units.iter().copied(),
                    &period,
                    now,
                    &rules,
                    20,
                ));
            }
            black_box(out)
        })
    });
    // Evaluation windows. A rolling window is computed from the records in
    // it each cycle; a window made of whole months (quarter or year to
    // date) is summed from the stored monthly values.
    let rolling = Window::Rolling { days: 30 }.period_at(now);
    let (from, to) = (rolling.start(), rolling.end());
    let window_dossiers: Vec<Dossier> = dossiers
        .iter()
        .filter(|d| {
            d.received_at.is_some_and(|t| t >= from && t < to)
                || d.ended_at().is_some_and(|t| t >= from && t < to)
        })
        .cloned()
        .collect();
    group.bench_function("rolling 30 days, every unit, from records", |b| {
        b.iter(|| {
            let inputs = Inputs::new(codes.iter()).with_dossiers(&window_dossiers);
            black_box(compute(&inputs, &rolling, now, &rules, 20))
        })
    });
    let inputs = Inputs::new(codes.iter())
        .with_dossiers(&dossiers)
        .with_petitions(&petitions)
        .with_reports(&reports);
    let monthly = compute_periods(&inputs, &periods, now, &rules, 20, 2);
    let ytd = Window::YearToDate.period_at(now).id();
    group.bench_function("year to date, every unit, from 12 stored months", |b| {
        b.iter(|| black_box(aggregate_periods(&monthly, &ytd, 20)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
