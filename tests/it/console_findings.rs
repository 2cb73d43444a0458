//! The console's findings and sources pages over real HTTP on loopback,
//! after a poll and an evaluation with the shipped rules have opened
//! findings: filters and paging, what a unit head may see, the actions with
//! their CSRF token and permissions, and upstream text escaped.

use std::collections::BTreeSet;
use std::time::Duration;

use par_monitor::app::App;
use par_monitor::domain::{Language, Role, SourceHealth, UnitCode};
use par_monitor::findings::State;
use par_monitor::storage::{FindingRecord, NewQuarantine};
use par_monitor::time::Clock;
use par_monitor::web::{Viewer, WebState};
use par_monitor::workflow::{self, Filter};

use par_monitor::simulator::SimConfig;

use crate::helpers::{Ctx, on_both_backends, poll_and_evaluate, repo_root, sim_now};

const TOKEN: &str = "csrf-3f9a1c";

fn viewer(name: &str, role: Role, unit: Option<&str>) -> Viewer {
    Viewer {
        name: name.into(),
        role,
        unit: unit.map(|u| UnitCode::parse(u).unwrap()),
        language: Language::Vi,
        csrf_token: TOKEN.into(),
    }
}

/// A simulated province of `units` units whose evaluation with the whole
/// shipped rule set has opened findings, and the app.
async fn with_findings(backend: crate::helpers::Backend, units: usize) -> Option<(Ctx, App)> {
    let cfg = SimConfig {
        units,
        ..SimConfig::new(7, sim_now())
    };
    let mut ctx = Ctx::with_simulator(backend, cfg).await?;
    ctx.settings.rules.file = repo_root().join("config/rules.toml");
    let (app, _) = ctx.app_with_sink().await;
    poll_and_evaluate(&app).await;
    Some((ctx, app))
}

/// Serves the pages as `viewer` on a loopback port; the base URL.
async fn serve(app: &App, ctx: &Ctx, viewer: Viewer) -> String {
    let state = WebState::new(
        app.store.clone(),
        app.live_handle(),
        app.clock.clone(),
        ctx.settings.web.clone(),
    );
    let router = par_monitor::web::pages()
        .layer(axum::Extension(viewer))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn get(base: &str, path: &str) -> (u16, String) {
    let r = client().get(format!("{base}{path}")).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Posts a form; the status, the `Location` and the body.
async fn post(base: &str, path: &str, fields: &[(&str, &str)]) -> (u16, Option<String>, String) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let r = client()
        .post(format!("{base}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    (r.status().as_u16(), location, r.text().await.unwrap())
}

/// The ids of the findings a list page shows.
fn listed(html: &str) -> Vec<i64> {
    html.split("<tr class=\"finding\" data-id=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
        .collect()
}

async fn active(app: &App) -> Vec<FindingRecord> {
    workflow::list(&app.store, &Filter::default())
        .await
        .unwrap()
}

/// Every page of a list, following its "next" links.
async fn all_pages(base: &str, query: &str) -> (Vec<i64>, usize) {
    let (mut ids, mut pages, mut path) = (Vec::new(), 0, format!("/findings?{query}"));
    loop {
        let (status, html) = get(base, &path).await;
        assert_eq!(status, 200, "{path}: {html}");
        ids.extend(listed(&html));
        pages += 1;
        let Some(at) = html.find("rel=\"next\"") else {
            break;
        };
        let link = &html[..at];
        let href = &link[link.rfind("href=\"").unwrap() + 6..];
        path = href[..href.find('"').unwrap()].replace("&amp;", "&");
    }
    (ids, pages)
}

on_both_backends! {
    async fn the_findings_list_filters_by_state_severity_section_and_unit_and_pages(backend) {
        // Enough units for more than one page of findings.
        let Some((ctx, app)) = with_findings(backend, 12).await else { return };
        let base = serve(&app, &ctx, viewer("Trần Thị B", Role::Inspection, None)).await;
        let open = active(&app).await;
        assert!(open.len() > 50, "enough findings to page: {}", open.len());

        let (ids, pages) = all_pages(&base, "").await;
        assert_eq!(pages, open.len().div_ceil(50));
        let mut want: Vec<i64> = open.iter().map(|f| f.id).collect();
        want.reverse();
        assert_eq!(ids, want, "every active finding once, newest first");
        let (_, first) = get(&base, "/findings").await;
        assert_eq!(listed(&first).len(), 50);
        assert!(first.contains("href=\"/exports/findings.xlsx\""));

        let critical: BTreeSet<i64> = open.iter().filter(|f| f.severity.as_str() == "critical").map(|f| f.id).collect();
        let (ids, _) = all_pages(&base, "severity=critical").await;
        assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), critical);

        let live = app.live();
        let in_section = |f: &FindingRecord, n: u8| live.rules.rules.iter().any(|r| r.id == f.rule_id && r.section.number() == n);
        let section3: BTreeSet<i64> = open.iter().filter(|f| in_section(f, 3)).map(|f| f.id).collect();
        assert!(!section3.is_empty() && section3.len() < open.len());
        let (ids, _) = all_pages(&base, "section=3").await;
        assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), section3);

        let unit = open[0].unit_code.clone();
        let of_unit: BTreeSet<i64> = open.iter().filter(|f| f.unit_code == unit).map(|f| f.id).collect();
        let (status, html) = get(&base, &format!("/findings?unit={unit}&severity=&window=30d")).await;
        assert_eq!(status, 200);
        assert_eq!(listed(&html).into_iter().collect::<BTreeSet<_>>(), of_unit);
        assert!(html.contains(&format!("href=\"/exports/findings.csv?unit={unit}&amp;window=30d\"")), "the export keeps the filter");

        // One acknowledged: the state filter finds it, and only it.
        let id = open[0].id;
        workflow::apply(&app.store, id, par_monitor::findings::Action::Acknowledge, "Trần Thị B", "", ctx.clock.now()).await.unwrap();
        let (_, html) = get(&base, "/findings?state=acknowledged").await;
        assert_eq!(listed(&html), [id]);
        assert!(html.contains("đã tiếp nhận"));
        let (_, html) = get(&base, "/findings?state=resolved").await;
        assert!(listed(&html).is_empty());
        assert!(html.contains("Không có phát hiện nào phù hợp với bộ lọc."));
        let (status, html) = get(&base, "/findings?severity=huge").await;
        assert_eq!(status, 400);
        assert!(html.contains("severity"), "{html}");
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn a_unit_head_sees_their_units_findings_only(backend) {
        let Some((ctx, app)) = with_findings(backend, 6).await else { return };
        let open = active(&app).await;
        let own = open[0].unit_code.clone();
        let other = open.iter().find(|f| f.unit_code != own).unwrap();
        let base = serve(&app, &ctx, viewer("Lê Văn C", Role::UnitHead, Some(own.as_str()))).await;

        let (ids, _) = all_pages(&base, "").await;
        let mine: Vec<i64> = open.iter().rev().filter(|f| f.unit_code == own).map(|f| f.id).collect();
        assert_eq!(ids, mine);
        let (_, html) = get(&base, "/findings").await;
        assert!(!html.contains(other.unit_code.as_str()), "no other unit's code on the page");

        assert_eq!(get(&base, &format!("/findings/{}", other.id)).await.0, 403);
        assert_eq!(get(&base, &format!("/findings?unit={}", other.unit_code)).await.0, 403);
        let (status, html) = get(&base, &format!("/findings/{}", open[0].id)).await;
        assert_eq!(status, 200);
        assert!(html.contains("/ack\"") && !html.contains("/silence\"") && !html.contains("/resolve\""), "a unit head acknowledges only");

        let (status, _, _) = post(&base, &format!("/findings/{}/ack", other.id), &[("csrf_token", TOKEN), ("comment", "x")]).await;
        assert_eq!(status, 403, "not another unit's finding");
        let (status, _, _) = post(&base, &format!("/findings/{}/silence", open[0].id), &[("csrf_token", TOKEN), ("until", "3d"), ("reason", "x")]).await;
        assert_eq!(status, 403, "silence is the team's");
        let (status, location, _) = post(&base, &format!("/findings/{}/ack", open[0].id), &[("csrf_token", TOKEN), ("comment", "đơn vị đang rà soát")]).await;
        assert_eq!((status, location.as_deref()), (303, Some(format!("/findings/{}", open[0].id).as_str())));
        assert_eq!(app.store.finding(other.id).await.unwrap().unwrap().state, State::Open);
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn actions_need_the_token_and_the_right_and_are_recorded_with_the_viewers_name(backend) {
        let Some((ctx, app)) = with_findings(backend, 6).await else { return };
        let id = active(&app).await[0].id;
        let team = serve(&app, &ctx, viewer("Trần Thị B", Role::Inspection, None)).await;
        let before = app.store.finding_events(id).await.unwrap();

        for fields in [vec![("comment", "x")], vec![("csrf_token", ""), ("comment", "x")], vec![("csrf_token", "csrf-3f9a1d"), ("comment", "x")]] {
            let (status, _, _) = post(&team, &format!("/findings/{id}/ack"), &fields).await;
            assert_eq!(status, 403, "{fields:?}");
        }
        let (status, _, _) = post(&team, &format!("/findings/{id}/resolve"), &[("reason", "x")]).await;
        assert_eq!(status, 403);
        let lead = serve(&app, &ctx, viewer("Chánh Văn phòng", Role::Leadership, None)).await;
        for (action, fields) in [
            ("ack", vec![("csrf_token", TOKEN), ("comment", "x")]),
            ("silence", vec![("csrf_token", TOKEN), ("until", "3d"), ("reason", "x")]),
            ("resolve", vec![("csrf_token", TOKEN), ("reason", "x")]),
        ] {
            let (status, _, _) = post(&lead, &format!("/findings/{id}/{action}"), &fields).await;
            assert_eq!(status, 403, "leadership may not {action}");
        }
        let (_, html) = get(&lead, &format!("/findings/{id}")).await;
        assert!(!html.contains("/ack\"") && html.contains("Bạn chỉ được xem phát hiện này."));
        assert_eq!(app.store.finding_events(id).await.unwrap(), before, "nothing changed");
        assert_eq!(app.store.finding(id).await.unwrap().unwrap().state, State::Open);

        let (status, location, _) = post(&team, &format!("/findings/{id}/ack"), &[("csrf_token", TOKEN), ("comment", "đang xác minh <b>gấp</b>")]).await;
        assert_eq!((status, location), (303, Some(format!("/findings/{id}"))));
        let (status, html) = get(&team, &format!("/findings/{id}")).await;
        assert_eq!(status, 200);
        let trail = &html[html.find("id=\"trail\"").unwrap()..];
        assert!(trail.contains("Trần Thị B") && trail.contains("tiếp nhận"), "{trail}");
        assert!(trail.contains("đang xác minh &lt;b&gt;gấp&lt;&#x2f;b&gt;"), "{trail}");
        let last = app.store.finding_events(id).await.unwrap().pop().unwrap();
        assert_eq!((last.actor.as_str(), last.note.as_deref()), ("Trần Thị B", Some("đang xác minh <b>gấp</b>")));

        let (status, _, html) = post(&team, &format!("/findings/{id}/silence"), &[("csrf_token", TOKEN), ("until", "khi nào rảnh"), ("reason", "chờ giải trình")]).await;
        assert_eq!(status, 400);
        assert!(html.contains("Không hiểu thời điểm hết tạm ẩn đã nhập") && html.contains("khi nào rảnh"), "{html}");
        assert!(html.contains("8h là 8 giờ"), "with the hint");
        let (status, location, _) = post(&team, &format!("/findings/{id}/silence"), &[("csrf_token", TOKEN), ("until", "3d"), ("reason", "chờ giải trình")]).await;
        assert_eq!((status, location.is_some()), (303, true));
        assert_eq!(app.store.finding(id).await.unwrap().unwrap().state, State::Silenced);

        let (status, _, html) = post(&team, &format!("/findings/{id}/resolve"), &[("csrf_token", TOKEN), ("reason", " ")]).await;
        assert_eq!(status, 400);
        assert!(html.contains("Cần ghi lý do."), "{html}");
        let (status, _, _) = post(&team, &format!("/findings/{id}/resolve"), &[("csrf_token", TOKEN), ("reason", "đã kiểm tra trực tiếp")]).await;
        assert_eq!(status, 303);
        let (status, _, html) = post(&team, &format!("/findings/{id}/resolve"), &[("csrf_token", TOKEN), ("reason", "lần nữa")]).await;
        assert_eq!(status, 400, "already resolved");
        assert!(html.contains("Phát hiện đã được khắc phục"), "{html}");
        assert!(!html.contains("id=\"form-resolve\""), "no forms on a resolved finding");
        assert_eq!(post(&team, "/findings/999999/resolve", &[("csrf_token", TOKEN), ("reason", "x")]).await.0, 404);
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn the_sources_page_escapes_upstream_text_and_tells_a_unit_head_freshness_only(backend) {
        let Some((ctx, app)) = with_findings(backend, 6).await else { return };
        let now = ctx.clock.now();
        let hostile = "HTTP 502 <script>alert('x')</script>";
        app.store.record_source_outcome("documents", SourceHealth::Degraded, false, None, Some(hostile), now).await.unwrap();
        let entry = NewQuarantine {
            record_key: "k1".into(),
            record_id: Some("VB-1".into()),
            check: None,
            field: "NgayBanHanh".into(),
            problem: "<img src=x onerror=alert(1)> không phải ngày".into(),
            raw: "{}".into(),
        };
        app.store.quarantine("documents.documents", &[entry], now).await.unwrap();

        let team = serve(&app, &ctx, viewer("Trần Thị B", Role::Inspection, None)).await;
        let (status, html) = get(&team, "/sources").await;
        assert_eq!(status, 200);
        assert!(!html.contains("<script>alert") && !html.contains("<img src=x"), "{html}");
        assert!(html.contains("HTTP 502 &lt;script&gt;"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt; không phải ngày"));
        assert!(html.contains("hoạt động không ổn định") && html.contains("đang hoạt động"));
        assert!(html.contains("procedures.dossiers"), "the feeds with their counts");

        let unit = active(&app).await[0].unit_code.clone();
        let head = serve(&app, &ctx, viewer("Lê Văn C", Role::UnitHead, Some(unit.as_str()))).await;
        let (status, html) = get(&head, "/sources").await;
        assert_eq!(status, 200);
        assert!(html.contains("hoạt động không ổn định"), "health is shown");
        assert!(!html.contains("HTTP 502") && !html.contains("VB-1") && !html.contains("procedures.dossiers"));
        // The province's code is the start of every commune's, their own too.
        for u in app.store.units().await.unwrap().into_iter().filter(|u| !unit.as_str().starts_with(u.code.as_str())) {
            assert!(!html.contains(u.code.as_str()), "no other unit's code: {}", u.code);
        }
        ctx.finish().await;
    }
}
