//! The console in a real headless Chromium over WebDriver: the inspection
//! team logs in, sees the overview with the simulated province's data,
//! filters the findings, opens one, acknowledges it (the audit trail shows
//! who), and logs out. Screenshots of the overview and the finding page are
//! left under `target/tmp/console-screenshots/` for people to look at.

use std::time::Duration;

use fantoccini::Locator;
use par_monitor::domain::{Language, Role, UnitCode};
use par_monitor::web::WebState;
use par_monitor::web::auth::{NewAccount, create_user};
use tokio_util::sync::CancellationToken;

use crate::helpers::{Backend, Browser, Ctx, poll_and_evaluate, wait_until};

const USER: &str = "doan.kiemtra";
const PASSWORD: &str = "kiểm-tra-2026";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_team_logs_in_filters_opens_and_acknowledges_a_finding_in_chromium() {
    let Some(mut ctx) = Ctx::new(Backend::Sqlite).await else {
        return;
    };
    ctx.settings.web.enabled = true;
    let app = ctx.app().await;
    poll_and_evaluate(&app).await;
    let units: Vec<UnitCode> = app.settings.units.iter().map(|u| u.code.clone()).collect();
    let account = NewAccount {
        name: USER.into(),
        role: Role::Inspection,
        unit: None,
        language: Language::Vi,
    };
    create_user(&app.store, &account, PASSWORD, &units, app.clock.now())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = WebState::new(
        app.store.clone(),
        app.live_handle(),
        app.clock.clone(),
        app.settings.web.clone(),
    );
    let stop = CancellationToken::new();
    let server = tokio::spawn(par_monitor::web::serve(listener, state, stop.clone()));

    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&format!("{base}/")).await.unwrap();
    // Not signed in: the console sends the browser to the login page.
    c.wait()
        .for_element(Locator::Css("form[action='/login']"))
        .await
        .unwrap();
    assert!(c.current_url().await.unwrap().path().starts_with("/login"));
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(USER)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Id("login"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // The overview, with the province's units and figures.
    let ranking = c.wait().for_element(Locator::Id("ranking")).await.unwrap();
    let text = ranking.text().await.unwrap();
    let some_unit = &app.settings.units[1].name;
    assert!(
        text.contains(some_unit.as_str()),
        "the ranking lists {some_unit}: {text}"
    );
    assert!(text.contains('%'), "the ranking shows rates: {text}");
    let page = c.source().await.unwrap();
    assert!(page.contains(USER), "the signed-in user is named");
    assert!(page.contains("<svg"), "the trend chart is drawn");
    browser.screenshot("overview").await;

    // Findings filtered to warnings of plan section II.
    c.goto(&format!("{base}/findings")).await.unwrap();
    let filter = c
        .wait()
        .for_element(Locator::Id("findings-filter"))
        .await
        .unwrap();
    let all_rows = c
        .find_all(Locator::Css("a[href^='/findings/']"))
        .await
        .unwrap()
        .len();
    assert!(all_rows > 0, "the simulated province has findings");
    filter
        .find(Locator::Css("select[name='section']"))
        .await
        .unwrap()
        .select_by_value("2")
        .await
        .unwrap();
    filter
        .find(Locator::Css("button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until("the filter applies", Duration::from_secs(10), || async {
        c.current_url()
            .await
            .is_ok_and(|u| u.query().is_some_and(|q| q.contains("section=2")))
    })
    .await;
    let rows = c
        .find_all(Locator::Css("a[href^='/findings/']"))
        .await
        .unwrap();
    assert!(!rows.is_empty() && rows.len() <= all_rows);

    // Open the first and acknowledge it with a comment.
    rows[0].click().await.unwrap();
    let form = c.wait().for_element(Locator::Id("form-ack")).await.unwrap();
    form.find(Locator::Css("textarea[name='comment']"))
        .await
        .unwrap()
        .send_keys("Đã giao phòng chuyên môn rà soát")
        .await
        .unwrap();
    form.find(Locator::Css("button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let trail = c.wait().for_element(Locator::Id("trail")).await.unwrap();
    let trail = trail.text().await.unwrap();
    assert!(
        trail.contains(USER),
        "the audit trail names who acknowledged: {trail}"
    );
    assert!(
        trail.contains("Đã giao phòng chuyên môn rà soát"),
        "{trail}"
    );
    browser.screenshot("finding").await;

    // Log out: the console is closed again.
    c.find(Locator::Id("logout"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("form[action='/login']"))
        .await
        .unwrap();
    c.goto(&format!("{base}/findings")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("form[action='/login']"))
        .await
        .unwrap();

    browser.close().await;
    stop.cancel();
    server.await.unwrap().unwrap();
    ctx.finish().await;
}
