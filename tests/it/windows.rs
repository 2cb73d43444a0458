//! Evaluation windows: no day of the month is blind. With the shipped
//! rules, the daemon opens findings for the failing units on the 1st and on
//! the 2nd of a month as it does mid-month, while a rule judged over the
//! calendar month alone sees too few dossiers to say anything.

use chrono::{DateTime, TimeZone, Utc};
use par_monitor::findings::State;
use par_monitor::simulator::SimConfig;

use crate::helpers::{Backend, Ctx, on_both_backends, poll_all_ok, poll_and_evaluate, repo_root};

/// 08:00 in Hanoi on the given day of December 2026.
fn december(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, 1, 0, 0).unwrap()
}

/// A province whose history reaches two months back from `now`, judged by
/// the shipped rules (`with_shipped_rules`) or by the one on-time rule over
/// the calendar month.
async fn ctx_at(backend: Backend, now: DateTime<Utc>, with_shipped_rules: bool) -> Option<Ctx> {
    let cfg = SimConfig {
        months: 3,
        ..SimConfig::new(7, now)
    };
    let mut ctx = Ctx::with_simulator(backend, cfg).await?;
    ctx.clock.set(now);
    if with_shipped_rules {
        ctx.settings.rules.file = repo_root().join("config/rules.toml");
    }
    Some(ctx)
}

/// The on-time finding of the failing commune after at most two cycles of
/// poll and evaluation, with its evidence.
async fn on_time_finding(ctx: &Ctx) -> Option<par_monitor::storage::FindingRecord> {
    let app = ctx.app().await;
    for _ in 0..2 {
        poll_all_ok(&app).await;
        app.evaluate().await.unwrap();
        let found = app
            .store
            .findings()
            .await
            .unwrap()
            .into_iter()
            .find(|f| f.rule_id == "on-time-resolution" && f.unit_code == "H44.100");
        if found.is_some() {
            return found;
        }
    }
    None
}

on_both_backends! {
    async fn findings_open_on_the_first_and_second_of_a_month(backend) {
        for day in [1, 2] {
            let now = december(day);
            let Some(ctx) = ctx_at(backend, now, true).await else { return };
            let f = on_time_finding(&ctx)
                .await
                .unwrap_or_else(|| panic!("no on-time finding for the failing commune on {day}/12"));
            assert_eq!(f.state, State::Open);
            let e = &f.last_detail;
            assert_eq!(e["window"], "rolling:30d", "{e}");
            assert_eq!(e["period"], format!("R30D-202612{day:02}"));
            assert!(e["denominator"].as_u64().unwrap() >= 5, "{e}");
            // The window runs over November, from the 2nd or the 3rd, to now.
            let start: DateTime<Utc> = e["window_start"].as_str().unwrap().parse().unwrap();
            let end: DateTime<Utc> = e["window_end"].as_str().unwrap().parse().unwrap();
            assert_eq!(start, Utc.with_ymd_and_hms(2026, 11, day, 17, 0, 0).unwrap());
            assert_eq!(end, now);
            // Other failing units and rules are found too: not one lucky rule.
            let app = ctx.app().await;
            let active = app.store.findings().await.unwrap();
            assert!(active.len() > 3, "{} findings on {day}/12", active.len());
            ctx.finish().await;
        }
    }
}

on_both_backends! {
    async fn a_rule_over_the_calendar_month_alone_is_blind_on_the_first(backend) {
        let Some(ctx) = ctx_at(backend, december(1), false).await else { return };
        assert!(on_time_finding(&ctx).await.is_none());
        let app = ctx.app().await;
        assert!(app.store.findings().await.unwrap().is_empty());
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn metrics_carry_no_rate_or_score_until_the_sources_have_been_polled(backend) {
        let Some(ctx) = Ctx::new(backend).await else { return };
        // An old database: the last poll was yesterday, long stale.
        ctx.clock.set(crate::helpers::sim_now() - chrono::Duration::days(1));
        let old = ctx.app().await;
        poll_and_evaluate(&old).await;
        old.store.close().await;

        // A new run, before its first poll: nothing from stale data.
        ctx.clock.set(crate::helpers::sim_now());
        let app = ctx.app().await;
        app.refresh_metrics().await.unwrap();
        let text = app.metrics.render();
        crate::helpers::promtool_check_metrics(&text);
        for series in [
            "par_monitor_indicator_ratio{",
            "par_monitor_score766_points ",
            "par_monitor_score766_group_points{",
            "par_monitor_unit_score766_points{",
        ] {
            assert!(!text.contains(series), "{series} from stale data:\n{text}");
        }
        // After this run's polls, they are there (the index only where
        // all six groups are scored).
        poll_and_evaluate(&app).await;
        let text = app.metrics.render();
        assert!(text.contains("par_monitor_indicator_ratio{"), "{text}");
        assert!(text.contains("par_monitor_score766_group_points{"), "{text}");
        ctx.finish().await;
    }
}
