//! Indicators from simulator data against the simulator's ground truth, and
//! the 766 commands a person uses to read or reproduce a score.

use std::collections::BTreeMap;

use par_monitor::indicators::IndicatorId;
use par_monitor::simulator::SimConfig;
use par_monitor::time::Month;

use crate::helpers::{Ctx, on_both_backends, poll_all_ok, sim_now};

on_both_backends! {
    async fn on_time_resolution_equals_the_simulators_ground_truth_every_month(backend) {
        let cfg = SimConfig { units: 30, months: 6, ..SimConfig::new(21, sim_now()) };
        let Some(ctx) = Ctx::with_simulator(backend, cfg).await else { return };
        let app = ctx.app().await;
        poll_all_ok(&app).await;
        let truth = ctx.sim.sim.truth();
        let mut month = Month::containing(sim_now());
        for _ in 0..6 {
            let rows = par_monitor::overview::compute_period(&app.store, &app.live(), month.into(), sim_now(), None)
                .await
                .unwrap()
                .units;
            let ours: BTreeMap<String, (u64, u64)> = rows
                .iter()
                .skip(1)
                .flat_map(|r| r.values.iter())
                .filter(|v| v.indicator == IndicatorId::OnTime && v.ratio.denominator > 0)
                .map(|v| (v.unit_code.to_string(), (v.ratio.numerator, v.ratio.denominator)))
                .collect();
            let expected: BTreeMap<String, (u64, u64)> = truth
                .units
                .iter()
                .filter_map(|(u, t)| t.on_time.get(&month.to_string()).map(|[n, d]| (u.to_string(), (*n, *d))))
                .filter(|(_, (_, d))| *d > 0)
                .collect();
            assert!(!expected.is_empty(), "{month} has data");
            assert_eq!(ours, expected, "on-time per unit in {month}");
            // The province is the sum of its units' parts, not an average.
            let province = rows[0].values.iter().find(|v| v.indicator == IndicatorId::OnTime).unwrap();
            let (n, d) = expected.values().fold((0, 0), |(a, b), (n, d)| (a + n, b + d));
            assert_eq!((province.ratio.numerator, province.ratio.denominator), (n, d));
            month = month.previous();
        }
        ctx.finish().await;
    }
}

fn score766_cli(json: &str, format: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counts.json");
    std::fs::write(&path, json).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_par-monitor"))
        .args([
            "score766",
            "--counts",
            path.to_str().unwrap(),
            "--format",
            format,
        ])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn score766_reproduces_a_score_from_counts() {
    // ON_TIME 95/100 → 20 × 0.95 = 19.00; PAYMENT_DOSSIERS 8/10 → 6 × 0.80 = 4.80;
    // petitions 0/0 → full 6 + 6; ONLINE_SERVICES 8.83 as given.
    let json = r#"{"units":[{"code":"H44.07","name":"Sở Tư pháp","counts":{
        "ON_TIME":[95,100],"PAYMENT_DOSSIERS":[8,10],
        "PETITION_PROCESSING_ON_TIME":[0,0],"PETITION_HANDLING_SATISFACTION":[0,0]},
        "ONLINE_SERVICES":8.83}]}"#;
    let (code, stdout, stderr) = score766_cli(json, "json");
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let unit = &doc["units"][0];
    assert_eq!(unit["code"], "H44.07");
    assert_eq!(unit["indicators"]["ON_TIME"], 19.0);
    assert_eq!(unit["indicators"]["PAYMENT_DOSSIERS"], 4.8);
    assert!(unit["indicators"]["PUBLISH_ON_TIME"].is_null());
    assert_eq!(unit["groups"]["PROGRESS"], 19.0);
    assert_eq!(unit["groups"]["SATISFACTION"], 12.0);
    assert_eq!(unit["groups"]["ONLINE_SERVICES"], 8.83);
    assert!(unit["groups"]["TRANSPARENCY"].is_null());
    // 19 + 4.8 + 12 + 8.83 = 44.63 of the 60 points its four scored groups
    // could earn; transparency and digitization have no score, so no band.
    assert_eq!(unit["total"], 44.63);
    assert_eq!(unit["attainable"], 60.0);
    assert_eq!(
        unit["missing"],
        serde_json::json!(["TRANSPARENCY", "DIGITIZATION"])
    );
    assert!(unit["band"].is_null());
    let (code, text, _) = score766_cli(json, "text");
    assert_eq!(code, 0);
    assert!(text.contains("Sở Tư pháp"), "{text}");
}

#[test]
fn score766_rejects_bad_counts_naming_the_unit_and_code() {
    for (json, needles) in [
        (
            r#"{"units":[{"code":"H44.07","name":"x","counts":{"ON_TIM":[1,2]}}]}"#,
            vec!["H44.07", "ON_TIM"],
        ),
        (
            r#"{"units":[{"code":"H44.08","name":"x","counts":{"ON_TIME":[-1,2]}}]}"#,
            vec!["H44.08", "ON_TIME"],
        ),
        (
            r#"{"units":[{"code":"H44.09","name":"x","counts":{"ON_TIME":[1.5,2]}}]}"#,
            vec!["H44.09", "ON_TIME"],
        ),
        (
            r#"{"units":[{"code":"H44.10","name":"x","counts":{"ON_TIME":[1]}}]}"#,
            vec!["H44.10", "ON_TIME"],
        ),
        (r#"{"units":[{"code":"#, vec!["line"]),
    ] {
        let (code, _, stderr) = score766_cli(json, "json");
        assert_eq!(code, 2, "{json}");
        for n in needles {
            assert!(stderr.contains(n), "{stderr} should name {n}");
        }
    }
}
