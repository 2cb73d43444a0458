//! The national portal's public evaluation API (`protocol =
//! "dvcqg-evaluation"`) against the simulator: the official scores stored
//! equal what was served, a second poll changes nothing, a revision keeps
//! the old value in history, and every fault is survived or named, with
//! the other sources unaffected.

use std::collections::BTreeMap;
use std::time::Duration;

use par_monitor::app::App;
use par_monitor::config::Protocol;
use par_monitor::domain::SourceHealth;
use par_monitor::domain::{PortalScore, UnitCode};
use par_monitor::ingest::{LogProgress, Mode, PollReport};
use par_monitor::simulator::{Endpoint, Fault};
use par_monitor::time::Month;
use par_monitor::upstream::dvcqg::periods;
use par_monitor::upstream::dvcqg::protocol::EvalPeriod;
use tokio_util::sync::CancellationToken;

use crate::helpers::{Backend, Ctx, on_both_backends, sim_now};

async fn poll(app: &App, source: &str) -> Result<PollReport, String> {
    let s = app
        .sources
        .iter()
        .find(|s| s.name == source)
        .expect("source enabled");
    app.poll(
        s,
        Mode::Incremental,
        &CancellationToken::new(),
        &LogProgress::default(),
    )
    .await
    .map_err(|e| e.to_string())
}

async fn portal_ctx(backend: Backend) -> Option<Ctx> {
    let mut ctx = Ctx::new(backend).await?;
    let p = &mut ctx.settings.sources.portal;
    p.protocol = Protocol::DvcqgEvaluation;
    p.root_department_id = Some(ctx.sim.sim.root_department_id());
    // Fewer units to a page than the simulator has: paging is exercised.
    p.page_size = 2;
    p.retry_backoff = Duration::from_millis(10);
    Some(ctx)
}

/// unit → (groups, total) of a period's scores.
type Figures = BTreeMap<String, (BTreeMap<String, Option<f64>>, Option<f64>)>;

fn figures(scores: Vec<PortalScore>) -> Figures {
    scores
        .into_iter()
        .map(|s| (s.unit_code.to_string(), (s.groups, s.total)))
        .collect()
}

async fn assert_stored_equals_served(ctx: &Ctx, app: &App) {
    for period in periods(sim_now()) {
        let served = figures(ctx.sim.sim.official_scores(period));
        let stored = figures(app.store.portal_scores(&period.key()).await.unwrap());
        assert_eq!(served.len(), 6, "{}", period.key());
        assert_eq!(stored, served, "{}", period.key());
    }
}

on_both_backends! {
    async fn official_scores_are_stored_as_served_unchanged_by_a_second_poll_and_revised_with_history(backend) {
        let Some(ctx) = portal_ctx(backend).await else { return };
        let app = ctx.app().await;
        let first = poll(&app, "portal").await.unwrap();
        assert_eq!(first.health, SourceHealth::Healthy, "{first:?}");
        assert_eq!(first.counts().inserted, 6 * 4, "six units, four periods");
        assert_stored_equals_served(&ctx, &app).await;
        // "No score" stays apart from 0: the simulated month has units
        // without an online-payment or digitization score.
        let aug = app.store.portal_scores("2026-08").await.unwrap();
        let province = aug.iter().find(|s| s.unit_code.as_str() == "H44").unwrap();
        assert!(province.total.is_some());
        assert_eq!(province.details.department_id.as_deref(), Some(ctx.sim.sim.root_department_id().as_str()));

        let second = poll(&app, "portal").await.unwrap();
        let c = second.counts();
        assert_eq!((c.inserted, c.updated), (0, 0), "{c:?}");

        // The portal recomputes overnight and revises a unit's progress.
        let unit = UnitCode::parse("H44.07").unwrap();
        let aug_m = Month::new(2026, 8).unwrap();
        let before = app.store.portal_scores("2026-08").await.unwrap()
            .into_iter().find(|s| s.unit_code == unit).unwrap();
        assert!(ctx.sim.sim.revise_score(&unit, aug_m, "PROGRESS", Some(1.25)));
        let third = poll(&app, "portal").await.unwrap();
        assert!(third.counts().updated >= 1, "{:?}", third.counts());
        assert_stored_equals_served(&ctx, &app).await;
        let after = app.store.portal_scores("2026-08").await.unwrap()
            .into_iter().find(|s| s.unit_code == unit).unwrap();
        assert_eq!(after.groups["PROGRESS"], Some(1.25));
        let history = app.store.portal_score_history(&unit, "2026-08").await.unwrap();
        assert_eq!(history.len(), 1, "{history:?}");
        assert_eq!(history[0].groups, before.groups);
        assert_eq!(history[0].total, before.total);
        // Nothing else changed, so nothing else has history.
        let other = UnitCode::parse("H44").unwrap();
        assert!(app.store.portal_score_history(&other, "2026-07").await.unwrap().is_empty());
        ctx.finish().await;
    }
}

/// Polls everything; every source but the portal must succeed.
async fn others_unaffected(app: &App) {
    for s in &app.sources {
        if s.name != "portal" {
            poll(app, s.name)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", s.name));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_faults_are_retried_and_lose_nothing() {
    let Some(ctx) = portal_ctx(Backend::Sqlite).await else {
        return;
    };
    let app = ctx.app().await;
    let e = Some(Endpoint::Evaluation);
    ctx.sim
        .sim
        .add_faults(vec![
            Fault::Status {
                endpoint: e,
                status: 500,
                count: 1,
                retry_after_secs: None,
            },
            Fault::Status {
                endpoint: e,
                status: 429,
                count: 1,
                retry_after_secs: Some(0),
            },
            Fault::Truncated {
                endpoint: e,
                count: 1,
            },
            Fault::Latency {
                endpoint: e,
                millis: 5,
            },
        ])
        .unwrap();
    others_unaffected(&app).await;
    let report = poll(&app, "portal").await.expect("retries carry the poll");
    assert_eq!(report.health, SourceHealth::Healthy);
    assert_stored_equals_served(&ctx, &app).await;
    ctx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_that_keeps_failing_is_down_while_the_others_poll() {
    let Some(mut ctx) = portal_ctx(Backend::Sqlite).await else {
        return;
    };
    ctx.settings.sources.portal.max_retries = 1;
    let app = ctx.app().await;
    ctx.sim
        .sim
        .add_fault(Fault::Status {
            endpoint: Some(Endpoint::Evaluation),
            status: 503,
            count: 10,
            retry_after_secs: Some(0),
        })
        .unwrap();
    let results = app.poll_all(&CancellationToken::new()).await;
    for (source, r) in &results {
        assert_eq!(r.is_ok(), *source != "portal", "{source}: {r:?}");
    }
    let state = app.store.source_state("portal").await.unwrap().unwrap();
    assert_eq!(state.health, SourceHealth::Down);
    assert!(
        state
            .last_error
            .as_deref()
            .unwrap()
            .contains("reporting/evaluation"),
        "{state:?}"
    );
    ctx.finish().await;
}

/// An answer that cannot be used is quarantined by endpoint and period;
/// the period keeps its stored scores, the other periods are stored.
async fn unusable_answer(fault: Fault, field: &str, problem: &str) {
    let Some(ctx) = portal_ctx(Backend::Sqlite).await else {
        return;
    };
    let app = ctx.app().await;
    ctx.sim.sim.add_fault(fault).unwrap();
    others_unaffected(&app).await;
    let report = poll(&app, "portal").await.unwrap();
    assert_eq!(report.health, SourceHealth::Degraded, "{report:?}");
    let q = app.store.quarantined(Some("portal.scores")).await.unwrap();
    assert_eq!(q.len(), 1, "{q:?}");
    // The first request: the current month's transparency.
    assert_eq!(q[0].record_id.as_deref(), Some("transparency 2026-08"));
    assert_eq!(q[0].field, field);
    assert!(q[0].problem.contains(problem), "{q:?}");
    assert!(app.store.portal_scores("2026-08").await.unwrap().is_empty());
    assert_eq!(app.store.portal_scores("2026-07").await.unwrap().len(), 6);
    // Once the portal answers again, everything is stored.
    let report = poll(&app, "portal").await.unwrap();
    assert_eq!(report.health, SourceHealth::Healthy);
    assert_stored_equals_served(&ctx, &app).await;
    ctx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firewall_page_instead_of_json_is_named_and_the_rest_goes_on() {
    unusable_answer(
        Fault::WafPage {
            endpoint: Some(Endpoint::Evaluation),
            count: 1,
        },
        "(body)",
        "HTML instead of JSON",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_without_its_unit_list_is_named_and_the_rest_goes_on() {
    unusable_answer(
        Fault::MissingChildren {
            endpoint: Some(Endpoint::Evaluation),
            count: 1,
        },
        "data.evaluation",
        "missing",
    )
    .await;
}

#[test]
fn the_periods_are_this_month_the_last_this_quarter_and_year() {
    let keys: Vec<String> = periods(sim_now())
        .into_iter()
        .map(EvalPeriod::key)
        .collect();
    assert_eq!(keys, ["2026-08", "2026-07", "2026-Q3", "2026"]);
}

on_both_backends! {
    async fn indicators_show_ours_beside_the_portals_official_scores(backend) {
        let Some(ctx) = portal_ctx(backend).await else { return };
        let app = ctx.app().await;
        for s in &app.sources {
            poll(&app, s.name).await.unwrap_or_else(|e| panic!("{}: {e}", s.name));
        }
        let month = Month::new(2026, 8).unwrap();
        let overview = par_monitor::overview::compute_period(
            &app.store,
            &app.live(),
            month.into(),
            sim_now(),
            None,
        )
        .await
        .unwrap();
        // What `indicators --period 2026-08 --format json` prints per unit.
        let units = serde_json::to_value(&overview.units).unwrap();
        let served = figures(ctx.sim.sim.official_scores(EvalPeriod::Month(month)));
        let units = units.as_array().unwrap();
        assert_eq!(units.len(), 6);
        assert_eq!(units[0]["code"], "H44", "the province first");
        assert_eq!(units[0]["official_total"].as_f64(), served["H44"].1);
        for u in units {
            let code = u["code"].as_str().unwrap();
            let comparison = u["comparison"].as_array().unwrap();
            assert_eq!(comparison.len(), 6, "{code}: {u}");
            for c in comparison {
                let group = c["group"].as_str().unwrap();
                assert_eq!(c["official"].as_f64(), served[code].0[group], "{code} {group}");
                match (c["ours"].as_f64(), c["official"].as_f64()) {
                    (Some(o), Some(p)) => {
                        let d = c["difference"].as_f64().unwrap();
                        assert!((d - (o - p)).abs() < 0.006, "{code} {group}: {c}");
                    }
                    _ => assert!(c["difference"].is_null(), "{code} {group}: {c}"),
                }
            }
        }
        ctx.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_warm_up_page_cookie_the_firewall_lets_the_poll_through() {
    let Some(mut ctx) = portal_ctx(Backend::Sqlite).await else {
        return;
    };
    let page = format!("{}danh-gia-chat-luong-phuc-vu", ctx.sim.url);
    ctx.settings.sources.portal.warmup_url =
        Some(par_monitor::config::HttpUrl::parse(&page).unwrap());
    let app = ctx.app().await;
    ctx.sim
        .sim
        .add_fault(Fault::WafPage {
            endpoint: Some(Endpoint::Evaluation),
            count: 3,
        })
        .unwrap();
    let report = poll(&app, "portal").await.unwrap();
    assert_eq!(report.health, SourceHealth::Healthy, "{report:?}");
    assert!(
        app.store
            .quarantined(Some("portal.scores"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_stored_equals_served(&ctx, &app).await;
    ctx.finish().await;
}

/// The simulator's nationwide answer for a year, read back over HTTP.
async fn nationwide(ctx: &Ctx, year: i32) -> Vec<serde_json::Value> {
    let v: serde_json::Value = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .post(format!(
            "{}api/v1/reporting/evaluation/service-results",
            ctx.sim.url
        ))
        .json(&par_monitor::upstream::dvcqg::protocol::national_body(year))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["data"]["evaluation"].as_array().unwrap().clone()
}

on_both_backends! {
    async fn the_province_stands_among_all_provinces_as_the_nationwide_answer_ranks_it(backend) {
        let Some(ctx) = portal_ctx(backend).await else { return };
        let app = ctx.app().await;
        let report = poll(&app, "portal").await.unwrap();
        assert_eq!(report.health, SourceHealth::Healthy, "{report:?}");
        let year = app.store.portal_scores("2026").await.unwrap();
        let province = year.iter().find(|s| s.unit_code.as_str() == "H44").unwrap();
        let standing = province.details.national.clone().expect("the province's standing");
        // Counted here from what the portal served: provinces strictly above, plus one.
        let all = nationwide(&ctx, 2026).await;
        assert_eq!(all.len(), 34);
        let ours = all.iter().find(|p| p["departmentCode"] == "H44").unwrap();
        let above = |score: &dyn Fn(&serde_json::Value) -> Option<f64>| {
            let o = score(ours).unwrap();
            all.iter().filter(|p| score(p).is_some_and(|s| s > o + 0.005)).count() as u32 + 1
        };
        let total = standing.total.expect("ranked by total");
        assert_eq!((total.rank, total.of), (above(&|p| p["totalScore"].as_f64()), 34));
        for (g, group) in ["TRANSPARENCY", "PROGRESS", "DIGITIZATION"].iter().enumerate() {
            let score = |p: &serde_json::Value| {
                p["metrics"].as_array()?.iter().find(|m| m["code"] == *group)?["score"].as_f64()
            };
            if score(ours).is_some() {
                assert_eq!(standing.groups[*group].rank, above(&score), "{group} ({g})");
            } else {
                assert!(!standing.groups.contains_key(*group), "{group}: no score, no rank");
            }
        }
        // Units other than the province carry no national standing.
        assert!(year.iter().filter(|s| s.unit_code.as_str() != "H44").all(|s| s.details.national.is_none()));
        ctx.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nationwide_answer_without_its_list_keeps_the_provinces_yearly_score_as_stored() {
    let Some(ctx) = portal_ctx(Backend::Sqlite).await else {
        return;
    };
    let app = ctx.app().await;
    ctx.sim
        .sim
        .add_fault(Fault::MissingChildren {
            endpoint: Some(Endpoint::National),
            count: 1,
        })
        .unwrap();
    let report = poll(&app, "portal").await.unwrap();
    assert_eq!(report.health, SourceHealth::Degraded, "{report:?}");
    let q = app.store.quarantined(Some("portal.scores")).await.unwrap();
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(q[0].record_id.as_deref(), Some("service-results 2026"));
    assert_eq!(q[0].field, "data.evaluation");
    // The province's yearly score waits for a usable ranking; the rest is stored.
    let year = app.store.portal_scores("2026").await.unwrap();
    assert_eq!(year.len(), 5, "{year:?}");
    assert!(year.iter().all(|s| s.unit_code.as_str() != "H44"));
    assert_eq!(app.store.portal_scores("2026-08").await.unwrap().len(), 6);
    others_unaffected(&app).await;
    let report = poll(&app, "portal").await.unwrap();
    assert_eq!(report.health, SourceHealth::Healthy, "{report:?}");
    assert_stored_equals_served(&ctx, &app).await;
    let year = app.store.portal_scores("2026").await.unwrap();
    let province = year.iter().find(|s| s.unit_code.as_str() == "H44").unwrap();
    assert_eq!(
        province
            .details
            .national
            .as_ref()
            .and_then(|n| n.total)
            .map(|r| r.of),
        Some(34)
    );
    ctx.finish().await;
}

/// One rule (its kind and levels after `id`, titles and section) judged
/// once after a poll of every source: the app and the rule's opened units.
async fn judged_with(backend: Backend, id: &str, body: &str) -> Option<(Ctx, App, Vec<String>)> {
    let mut ctx = portal_ctx(backend).await?;
    let rules = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        rules.path(),
        format!("[[rule]]\nid = \"{id}\"\ntitle_vi = \"Quy tắc\"\ntitle_en = \"Rule\"\nsection = 2\n{body}"),
    )
    .unwrap();
    ctx.settings.rules.file = rules.path().to_owned();
    let app = ctx.app().await;
    for s in &app.sources {
        poll(&app, s.name)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", s.name));
    }
    app.evaluate().await.unwrap();
    let mut opened: Vec<String> = app
        .store
        .findings()
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.rule_id == id)
        .map(|f| f.unit_code.to_string())
        .collect();
    opened.sort_unstable();
    Some((ctx, app, opened))
}

on_both_backends! {
    async fn a_rule_on_the_portals_published_total_opens_a_finding_for_each_unit_below_it(backend) {
        let Some((ctx, _app, opened)) = judged_with(backend, "official-total",
            "kind = \"score766\"\nsource = \"portal\"\nwindow = \"previous_month\"\nwarning_below = 75.0\n").await else { return };
        // Exactly the units whose published July total is below 75.
        let july = figures(ctx.sim.sim.official_scores(EvalPeriod::Month(Month::new(2026, 7).unwrap())));
        let expected: Vec<&str> = july
            .iter()
            .filter(|(_, (_, total))| total.is_some_and(|t| t < 75.0))
            .map(|(code, _)| code.as_str())
            .collect();
        assert!(!expected.is_empty() && expected.len() < july.len(), "the test needs both sides: {july:?}");
        assert_eq!(opened, expected);
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn a_gap_rule_opens_findings_only_where_ours_and_the_portals_differ_by_more_than_its_level(backend) {
        let Some((ctx, app, opened)) = judged_with(backend, "gap",
            "kind = \"portal_gap\"\nwindow = \"previous_month\"\ngroup = \"TRANSPARENCY\"\nwarning_above = 0.5\nmin_sample = 1\n").await else { return };
        let july = Month::new(2026, 7).unwrap();
        let overview = par_monitor::overview::compute_period(&app.store, &app.live(), july.into(), sim_now(), None)
            .await
            .unwrap();
        let units = serde_json::to_value(&overview.units).unwrap();
        // Units whose TRANSPARENCY differs from the portal's by more than 0.5.
        let far: Vec<String> = units
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| {
                u["comparison"].as_array().unwrap().iter().any(|c| {
                    c["group"] == "TRANSPARENCY" && c["difference"].as_f64().is_some_and(|d| d.abs() > 0.5)
                })
            })
            .map(|u| u["code"].as_str().unwrap().to_owned())
            .collect();
        assert!(!opened.is_empty(), "the simulated July differs: {far:?}");
        for u in &opened {
            assert!(far.iter().any(|f| f == u), "{u} opened without a gap over 0.5: {far:?}");
        }
        ctx.finish().await;
    }
}
