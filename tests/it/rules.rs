//! The shipped rule set, `rules check`, and `rules replay` against live
//! evaluation over the simulator's history.

use std::collections::BTreeSet;

use chrono::Duration;
use par_monitor::domain::SYSTEM_ACTOR;
use par_monitor::simulator::SimConfig;
use par_monitor::time::Month;

use crate::binary::run_to_end;
use crate::helpers::{Ctx, on_both_backends, poll_all_ok, repo_root, sim_now};

#[test]
fn rules_check_validates_the_shipped_rules_and_names_the_rule_and_field_of_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = repo_root().join("config/rules.toml");
    let (code, stdout, stderr) =
        run_to_end(&["rules", "check", shipped.to_str().unwrap()], dir.path());
    assert_eq!(code, 0, "{stderr}");
    for kind in [
        "threshold",
        "count",
        "trend",
        "peer_outlier",
        "staleness",
        "score766",
    ] {
        assert!(
            stdout.contains(kind),
            "the shipped rules use {kind}: {stdout}"
        );
    }
    assert!(stdout.contains("rule(s), valid"), "{stdout}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[rule]]\nid = \"ok\"\ntitle_vi = \"Đúng hạn\"\ntitle_en = \"On time\"\nsection = 2\n\
         kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 0.95\n\n\
         [[rule]]\nid = \"bad-one\"\ntitle_vi = \"Trễ\"\ntitle_en = \"Late\"\nsection = 2\n\
         kind = \"count\"\nindicator = \"late_without_apology\"\nwarning_below = 3\n",
    )
    .unwrap();
    let (code, _, stderr) = run_to_end(&["rules", "check", bad.to_str().unwrap()], dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("bad.toml"), "names the file: {stderr}");
    assert!(stderr.contains("bad-one"), "names the rule: {stderr}");
    assert!(
        stderr.contains("warning_below"),
        "names the field: {stderr}"
    );
}

on_both_backends! {
    async fn replay_reports_the_transitions_that_live_evaluation_made(backend) {
        let cfg = SimConfig { units: 16, months: 5, ..SimConfig::new(11, sim_now()) };
        let Some(mut ctx) = Ctx::with_simulator(backend, cfg).await else { return };
        // The whole shipped rule set: every kind, with its hysteresis.
        ctx.settings.rules.file = repo_root().join("config/rules.toml");
        let app = ctx.app().await;
        poll_all_ok(&app).await;
        // Live evaluation at the last second of each complete month.
        let last = Month::containing(sim_now()).previous();
        let first = last.previous().previous().previous();
        let mut month = first;
        while month <= last {
            ctx.clock.set(month.end() - Duration::seconds(1));
            app.evaluate().await.unwrap();
            month = month.next();
        }
        let province_wide: BTreeSet<String> = app
            .live()
            .rules
            .rules
            .iter()
            .filter(|r| r.is_province_wide())
            .map(|r| r.id.as_str().to_owned())
            .collect();
        let mut live = BTreeSet::new();
        for f in app.store.findings().await.unwrap() {
            if province_wide.contains(f.rule_id.as_str()) {
                continue;
            }
            for e in app.store.finding_events(f.id).await.unwrap() {
                assert_eq!(e.actor, SYSTEM_ACTOR, "only evaluation acted");
                live.insert((
                    Month::containing(e.at).to_string(),
                    f.rule_id.to_string(),
                    f.unit_code.to_string(),
                    e.kind.clone(),
                    e.severity.as_str().to_owned(),
                ));
            }
        }
        let written = async || {
            let mut events = 0;
            for f in app.store.findings().await.unwrap() {
                events += app.store.finding_events(f.id).await.unwrap().len();
            }
            (events, app.store.outbox().await.unwrap().len())
        };
        let before = written().await;
        let replayed: BTreeSet<_> = par_monitor::evaluate::Evaluator::new(&app.live())
            .replay(&app.store, first, last, sim_now())
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.period, e.rule_id, e.unit_code, e.kind.as_str().to_owned(), e.severity.as_str().to_owned()))
            .collect();
        let kinds: BTreeSet<&str> = live.iter().map(|e| e.3.as_str()).collect();
        assert!(kinds.contains("opened"), "history opens findings: {live:?}");
        assert!(live.len() >= 10, "enough history to compare: {live:?}");
        assert_eq!(replayed, live);

        assert_eq!(written().await, before, "replay writes no event and queues no e-mail");
        ctx.finish().await;
    }
}
