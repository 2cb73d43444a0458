//! The console's overview, unit and inspections pages over real HTTP on
//! loopback, on both backends: what each role sees and may not see, the
//! n/a words where data is missing (never 0), escaped upstream text, and
//! the draw of a proposal behind its CSRF token.
//!
//! The pages are served without the login, with the viewer layered in
//! (`web::pages().layer(Extension(viewer))`), as the skeleton intends.

use std::time::Duration;

use axum::Extension;
use par_monitor::app::App;
use par_monitor::config::WebSettings;
use par_monitor::domain::{Language, Role, UnitCode, UnitKind};
use par_monitor::web::{self, Viewer, WebState};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use tokio_util::sync::CancellationToken;

use crate::helpers::{Backend, Ctx, on_both_backends, poll_and_evaluate};

const TOKEN: &str = "csrf-t0ken-for-the-test";
const HOSTILE: &str = "<script>alert(1)</script> Phòng Thử nghiệm";

fn viewer(name: &str, role: Role, unit: Option<&str>) -> Viewer {
    Viewer {
        name: name.into(),
        role,
        unit: unit.map(|u| UnitCode::parse(u).unwrap()),
        language: Language::Vi,
        csrf_token: TOKEN.into(),
    }
}

/// The pages served for one viewer on a loopback port.
struct Console {
    base: String,
    client: reqwest::Client,
    stop: CancellationToken,
}

impl Console {
    async fn start(app: &App, viewer: Viewer) -> Console {
        let state = WebState::new(
            app.store.clone(),
            app.live_handle(),
            app.clock.clone(),
            WebSettings::default(),
        );
        let router = web::pages().layer(Extension(viewer)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let until = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { until.cancelled().await })
                .await
                .unwrap();
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Console {
            base: format!("http://{addr}"),
            client,
            stop,
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A context whose first non-province unit is renamed to a hostile name,
/// as an operator's configuration (or an upstream directory) might name it.
async fn context(backend: Backend) -> Option<(Ctx, String, String)> {
    let mut ctx = Ctx::new(backend).await?;
    let mut units = ctx
        .settings
        .units
        .iter_mut()
        .filter(|u| u.kind != Some(UnitKind::Province));
    let hostile = units.next().unwrap();
    hostile.name = HOSTILE.into();
    let hostile = hostile.code.to_string();
    let other = units.next().unwrap().code.to_string();
    Some((ctx, hostile, other))
}

on_both_backends! {
    async fn before_any_poll_the_overview_shows_words_not_figures(backend) {
        let Some((ctx, hostile, _)) = context(backend).await else { return };
        let app = ctx.app().await;
        let team = Console::start(&app, viewer("doan.kiem.tra", Role::Inspection, None)).await;
        let (status, html) = team.get("/").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("Tổng quan toàn tỉnh"), "{html}");
        // Every unit is listed, none with a figure.
        assert!(html.contains(&format!("/units/{hostile}")));
        assert!(html.contains("chưa có dữ liệu"));
        assert!(!html.contains("0,0%") && !html.contains("0,00 điểm"), "{html}");
        assert!(html.contains("Chưa có dữ liệu cho các tháng này."), "charts say so: {html}");
        assert!(!html.contains("<svg"), "no chart drawn from nothing");
        assert!(html.contains("Chưa đánh giá lần nào"), "findings are unknown, not none");
        assert!(html.contains("chưa lấy được dữ liệu lần nào"), "freshness says why");
        let (status, html) = team.get(&format!("/units/{hostile}")).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(!html.contains("0,0%") && !html.contains(">0<"), "{html}");
        // In English, the same words in English.
        let mut reader = viewer("reader", Role::Leadership, None);
        reader.language = Language::En;
        let english = Console::start(&app, reader).await;
        let (status, html) = english.get("/").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("The province at a glance") && html.contains("no data yet"), "{html}");
        assert!(html.contains("No data for these months yet.") && !html.contains("0.0%"), "{html}");
        // The same console after a poll: the figures it keeps between
        // requests follow the poll, not the first request.
        poll_and_evaluate(&app).await;
        let (status, html) = team.get("/").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("<svg") && html.contains('%'), "{html}");
        assert!(!html.contains("Chưa có dữ liệu cho các tháng này."), "{html}");
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn after_a_cycle_each_role_sees_what_it_may(backend) {
        let Some((ctx, hostile, other)) = context(backend).await else { return };
        let app = ctx.app().await;
        poll_and_evaluate(&app).await;
        let names: Vec<(String, String)> = app.store.units().await.unwrap().into_iter()
            .filter(|u| u.kind != Some(UnitKind::Province))
            .map(|u| (u.code.to_string(), u.name)).collect();

        let team = Console::start(&app, viewer("doan.kiem.tra", Role::Inspection, None)).await;
        let (status, html) = team.get("/").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("<svg") && html.contains(">T8/2026</text>"), "a trend chart");
        assert!(html.contains("Tỷ lệ hồ sơ giải quyết đúng hạn"), "{html}");
        assert!(html.contains('%') && html.contains("Công khai, minh bạch"));
        assert!(html.contains("Lãnh đạo, chỉ đạo"), "findings by section");
        assert!(html.contains("Mức rủi ro"), "the team may sort by risk");
        // Upstream or configured text is escaped, wherever it appears.
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; Phòng Thử nghiệm"));
        // Every unit is ranked, under its Vietnamese name.
        assert!(names.iter().any(|(_, n)| !n.is_ascii()));
        for (code, name) in names.iter().filter(|(c, _)| *c != hostile) {
            assert!(html.contains(&format!("/units/{code}\"")) && html.contains(name.as_str()), "{code} {name}");
        }
        for sort in ["index", "on_time", "risk"] {
            let (status, _) = team.get(&format!("/?sort={sort}")).await;
            assert_eq!(status, StatusCode::OK, "{sort}");
        }
        assert_eq!(team.get("/?sort=name").await.0, StatusCode::BAD_REQUEST);

        let (status, html) = team.get(&format!("/units/{hostile}?period=2026-07")).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(!html.contains("<script>alert") && html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("report.docx?period=2026-07") && html.contains("indicators.xlsx?period=2026-07"));
        assert!(html.contains("Tử số") && html.contains("<svg"), "{html}");
        assert_eq!(team.get(&format!("/units/{hostile}?period=thang-7")).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(team.get("/units/NOPE99").await.0, StatusCode::NOT_FOUND);

        // Leadership: every unit, no risk, no proposal.
        let lead = Console::start(&app, viewer("chanh.van.phong", Role::Leadership, None)).await;
        let (status, html) = lead.get("/?sort=risk").await;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains("Mức rủi ro") && !html.contains("/inspections"), "{html}");
        assert_eq!(lead.get("/inspections").await.0, StatusCode::FORBIDDEN);
        let r = lead.post("/inspections/draw", &[("count", "2"), ("csrf_token", TOKEN)]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        // A unit head: their own unit only.
        let head = Console::start(&app, viewer("truong.phong", Role::UnitHead, Some(&hostile))).await;
        let r = head.client.get(format!("{}/", head.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[LOCATION], format!("/units/{hostile}").as_str());
        let (status, html) = head.get(&format!("/units/{hostile}")).await;
        assert_eq!(status, StatusCode::OK);
        for (code, name) in names.iter().filter(|(c, _)| *c != hostile) {
            assert!(!html.contains(&format!("/units/{code}\"")) && !html.contains(name.as_str()), "{code} on a unit head's page");
        }
        assert_eq!(head.get(&format!("/units/{other}")).await.0, StatusCode::FORBIDDEN);
        assert_eq!(head.get("/inspections").await.0, StatusCode::FORBIDDEN);
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn a_proposal_is_drawn_only_with_the_token_and_its_page_is_confidential(backend) {
        let Some((ctx, _, _)) = context(backend).await else { return };
        let app = ctx.app().await;
        poll_and_evaluate(&app).await;
        let team = Console::start(&app, viewer("Nguyễn Văn Kiểm", Role::Inspection, None)).await;
        let (status, html) = team.get("/inspections").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("MẬT") && html.contains("Chưa có đề xuất nào."), "{html}");
        assert!(html.contains(&format!("name=\"csrf_token\" value=\"{TOKEN}\"")));

        for form in [vec![("count", "3"), ("seed", "42")], vec![("count", "3"), ("csrf_token", "wrong")]] {
            let r = team.post("/inspections/draw", &form).await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{form:?}");
        }
        assert!(app.store.inspection_plans().await.unwrap().is_empty(), "nothing drawn without the token");
        let r = team.post("/inspections/draw", &[("count", "x"), ("csrf_token", TOKEN)]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);

        let r = team.post("/inspections/draw", &[("count", "3"), ("seed", "42"), ("reason", "Kiểm tra quý IV"), ("csrf_token", TOKEN)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let plans = app.store.inspection_plans().await.unwrap();
        assert_eq!(plans.len(), 1);
        let plan = &plans[0];
        assert_eq!((plan.requested_by.as_str(), plan.seed, plan.reason.as_str()), ("Nguyễn Văn Kiểm", 42, "Kiểm tra quý IV"));
        let location = r.headers()[LOCATION].to_str().unwrap().to_owned();
        assert_eq!(location, format!("/inspections/{}", plan.id));
        let r = team.client.get(format!("{}{location}", team.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let html = r.text().await.unwrap();
        assert!(html.contains("MẬT — CHỈ DÀNH CHO ĐOÀN KIỂM TRA"), "{html}");
        assert!(html.contains("Nguyễn Văn Kiểm") && html.contains("<code>42</code>"));
        let units: Vec<serde_json::Value> = serde_json::from_value(plan.proposal.clone()).unwrap();
        assert_eq!(units.len(), 3);
        for u in &units {
            assert!(html.contains(&format!("/units/{}\"", u["code"].as_str().unwrap())), "{u}");
        }
        // The same seed draws the same units, as the CLI's draw does.
        let again = par_monitor::inspections::plan(&app.context(), 3, Some(42), "cli", "again", app.clock.now()).await.unwrap();
        let codes: Vec<&str> = units.iter().map(|u| u["code"].as_str().unwrap()).collect();
        assert_eq!(again.units.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(), codes);
        assert_eq!(team.get("/inspections/999999").await.0, StatusCode::NOT_FOUND);
        let (_, html) = team.get("/inspections").await;
        assert!(html.contains(&format!("/inspections/{}\"", plan.id)) && html.contains("Kiểm tra quý IV"));
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn the_daemon_serves_the_console_and_warms_its_figures_after_each_evaluation(backend) {
        let Some(mut ctx) = Ctx::new(backend).await else { return };
        ctx.settings.web.enabled = true;
        ctx.settings.web.listen = "127.0.0.1:0".parse().unwrap();
        let (app, _) = ctx.app_with_sink().await;
        let stop = CancellationToken::new();
        let running = app.start(stop.clone()).await.unwrap();
        let console = format!("http://{}", running.web_addr.expect("the console is on"));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = http.get(format!("{console}/")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "a visitor is sent to log in");
        let login = http.get(format!("{console}/login")).send().await.unwrap();
        assert_eq!(login.status(), StatusCode::OK);
        let metrics = format!("http://{}/metrics", running.http_addr);
        crate::helpers::wait_until("the console's figures are warmed", Duration::from_secs(30), || {
            let (http, metrics) = (http.clone(), metrics.clone());
            async move {
                let Ok(r) = http.get(&metrics).send().await else { return false };
                r.text().await.is_ok_and(|t| {
                    t.lines().any(|l| {
                        l.starts_with("par_monitor_job_runs_total{")
                            && l.contains("job_name=\"console_warm\"")
                            && l.contains("outcome=\"success\"")
                    })
                })
            }
        })
        .await;
        stop.cancel();
        running.wait().await.unwrap();
        ctx.finish().await;
    }
}
