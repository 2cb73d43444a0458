//! How long the console's pages take on the server for a large province:
//! 3,000 units with a year of simulated dossiers, polled and evaluated as
//! the daemon does, then each page requested over loopback by the
//! inspection team (who sees the most). The budget is 200 ms per
//! page.
//!
//! `cargo bench --bench console` measures it; `cargo test --all-targets`
//! runs a small version once as a smoke test.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use par_monitor::app::App;
use par_monitor::config::{Settings, UnitSettings};
use par_monitor::domain::{Language, Role};
use par_monitor::simulator::{SimConfig, Simulator};
use par_monitor::time::ManualClock;
use par_monitor::web::{Viewer, WebState};
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

fn units() -> usize {
    // Under `cargo bench` criterion gets `--bench`; otherwise this is the
    // test run, which only checks that the benchmark works.
    if std::env::args().any(|a| a == "--bench") {
        3_000
    } else {
        12
    }
}

/// The store after a first poll and evaluation of a simulated province,
/// served by the console's pages; returns the console's address.
async fn province(dir: &std::path::Path, units: usize) -> (String, String, i64) {
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).unwrap();
    let sim = Simulator::generate(&SimConfig {
        units,
        dossiers_per_month: 3,
        petitions_per_month: 1,
        documents_per_month: 2,
        months: 12,
        ..SimConfig::new(5, now)
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}/", listener.local_addr().unwrap());
    let codes: Vec<UnitSettings> = sim.units().into_iter().map(UnitSettings::from).collect();
    tokio::spawn(sim.serve(listener, CancellationToken::new()));
    let root = env!("CARGO_MANIFEST_DIR");
    let mut env = BTreeMap::new();
    let db = format!("sqlite://{}/console.db", dir.display());
    env.insert("PARMON__DATABASE__URL".to_owned(), format!("\"{db}\""));
    for source in ["PROCEDURES", "DOCUMENTS", "REPORTS", "PORTAL", "UNITS"] {
        env.insert(
            format!("PARMON__SOURCES__{source}__BASE_URL"),
            format!("\"{sim_url}\""),
        );
        env.insert(format!("PARMON__SOURCES__{source}__ENABLED"), "true".into());
    }
    env.insert(
        "PARMON__RULES__FILE".into(),
        format!("\"{root}/config/rules.toml\""),
    );
    env.insert(
        "PARMON__INDICATORS__HOLIDAYS_FILE".into(),
        format!("\"{root}/config/holidays.toml\""),
    );
    env.insert(
        "PARMON__EMAIL__FILE_DIR".into(),
        format!("\"{}\"", dir.display()),
    );
    let mut settings = Settings::from_toml_str("", "bench", &env).expect("bench settings");
    settings.units = codes;
    let clock = ManualClock::new(now);
    let app = App::build(settings, Arc::new(clock.clone()))
        .await
        .expect("app builds");
    let started = Instant::now();
    for (source, r) in app.poll_all(&CancellationToken::new()).await {
        r.unwrap_or_else(|e| panic!("{source}: {e}"));
    }
    app.evaluate().await.expect("evaluation");
    eprintln!(
        "{units} units polled and evaluated in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let finding = app
        .store
        .findings()
        .await
        .unwrap()
        .first()
        .map_or(1, |f| f.id);
    let unit = app.settings.units[1].code.as_str().to_owned();
    let viewer = Viewer {
        name: "bench".into(),
        role: Role::Inspection,
        unit: None,
        language: Language::Vi,
        csrf_token: "bench".into(),
    };
    let state = WebState::new(
        app.store.clone(),
        app.live_handle(),
        app.clock.clone(),
        app.settings.web.clone(),
    );
    let pages = par_monitor::web::pages()
        .layer(Extension(viewer))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, pages).await });
    eprintln!("console pages served at {base}");
    (base, unit, finding)
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (base, unit, finding) = rt.block_on(province(dir.path(), units()));
    let http = reqwest::Client::builder().build().unwrap();
    let pages = [
        ("overview", "/".to_owned()),
        ("overview by risk", "/?sort=risk".to_owned()),
        ("unit", format!("/units/{unit}")),
        (
            "unit, an earlier month",
            format!("/units/{unit}?period=2026-09"),
        ),
        ("findings", "/findings".to_owned()),
        (
            "findings, section 3",
            "/findings?section=3&state=all".to_owned(),
        ),
        ("finding", format!("/findings/{finding}")),
        ("inspections", "/inspections".to_owned()),
        ("sources", "/sources".to_owned()),
    ];
    // The first request after a poll computes the twelve months of figures
    // that the later ones (and the unit pages) reuse: its time is the cold
    // page's.
    let started = std::time::Instant::now();
    let status = rt.block_on(async { http.get(format!("{base}/")).send().await.unwrap().status() });
    assert!(status.is_success(), "/: {status}");
    eprintln!(
        "overview, first request after the poll: {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let mut group = c.benchmark_group(format!("console, {} units", units()));
    group.sample_size(10);
    for (name, path) in pages {
        let url = format!("{base}{path}");
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let r = http.get(&url).send().await.unwrap();
                    assert!(r.status().is_success(), "{url}: {}", r.status());
                    r.bytes().await.unwrap()
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
