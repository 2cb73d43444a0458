//! How fast `/metrics` renders for a large province: 3,000 units with the
//! default per-unit series (on-time ratio and denominator, findings by
//! severity, the unit directory). The endpoint serves exactly
//! `Metrics::render`, so this is the scrape's cost.
//!
//! `cargo bench --bench metrics` measures it; `cargo test --all-targets`
//! runs it once as a smoke test.

use std::collections::HashMap;
use std::hint::black_box;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use par_monitor::config::MetricsSettings;
use par_monitor::domain::Severity;
use par_monitor::metrics::{DbSnapshot, Metrics};
use par_monitor::storage::{OutboxStats, SourceState};

const UNITS: usize = 3_000;

fn province() -> DbSnapshot {
    let units: Vec<(String, String, Option<String>)> = (0..UNITS)
        .map(|i| {
            (
                format!("H44.{i}"),
                format!("UBND xã số {i}"),
                Some("xa".to_owned()),
            )
        })
        .collect();
    let indicators = units
        .iter()
        .enumerate()
        .map(|(i, (code, ..))| {
            (
                code.clone(),
                "on_time".to_owned(),
                90 + (i % 10) as i64,
                100,
            )
        })
        .collect();
    // One unit in ten has an open finding.
    let active_findings = units
        .iter()
        .step_by(10)
        .map(|(code, ..)| {
            (
                "on-time-resolution".to_owned(),
                code.clone(),
                Severity::Warning,
            )
        })
        .collect();
    DbSnapshot {
        units,
        indicators,
        active_findings,
        rule_sections: HashMap::from([("on-time-resolution".to_owned(), 2)]),
        outbox: OutboxStats::default(),
        sources: vec![SourceState {
            source: "procedures".into(),
            health: par_monitor::domain::SourceHealth::Healthy,
            last_attempt_at: Some(Utc::now()),
            last_success_at: Some(Utc::now()),
            data_as_of: Some(Utc::now()),
            consecutive_failures: 0,
            last_error: None,
        }],
        digests: Vec::new(),
        national: None,
        online_services: HashMap::new(),
    }
}

fn bench(c: &mut Criterion) {
    let metrics = Metrics::new();
    metrics.register_source("procedures");
    metrics.apply(&province(), &MetricsSettings::default());
    let text = metrics.render();
    let series = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count();
    eprintln!(
        "/metrics at {UNITS} units: {series} series, {} bytes",
        text.len()
    );
    c.bench_function("render /metrics, 3000 units", |b| {
        b.iter(|| black_box(metrics.render()))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
