//! Findings as people use them: acknowledge, silence, resolve, reopen, the
//! audit trail, silences by matcher, and the findings API.

use std::time::Duration;

use chrono::Duration as Span;
use par_monitor::config::ApiToken;
use par_monitor::findings::{Action, State};
use par_monitor::storage::NewSilence;
use par_monitor::time::Clock;
use par_monitor::workflow::{self, WorkflowError};
use tokio_util::sync::CancellationToken;

use crate::helpers::{
    Ctx, Finish, cycle, free_port, on_both_backends, poll_and_evaluate, send_alerts, sim_now,
};

on_both_backends! {
    async fn a_findings_whole_life_is_in_its_audit_trail_with_evidence(backend) {
        let Some(ctx) = Ctx::new(backend).await else { return };
        let (app, sink) = ctx.app_with_sink().await;
        cycle(&app).await;
        let id = app.store.findings().await.unwrap().into_iter().find(|f| f.unit_code == "H44.100").unwrap().id;

        let now = ctx.clock.now();
        workflow::apply(&app.store, id, Action::Acknowledge, "Trần Thị B", "đang xác minh", now).await.unwrap();
        let until = now + Span::hours(1);
        let f = workflow::apply(&app.store, id, Action::Silence { until }, "Trần Thị B", "chờ đơn vị giải trình", now)
            .await
            .unwrap();
        assert_eq!(f.state, State::Silenced);
        assert_eq!(f.silenced_until, Some(until));

        // Two hours later the silence has run out and the finding still fails.
        ctx.clock.advance(Span::hours(2));
        send_alerts(&app).await;
        let before = sink.lock().unwrap().len();
        cycle(&app).await;
        let f = app.store.finding(id).await.unwrap().unwrap();
        assert_eq!(f.state, State::Acknowledged, "back to the state before the silence");
        assert_eq!(sink.lock().unwrap().len(), before + 1, "one reminder that it still fails");
        let reminder = String::from_utf8_lossy(sink.lock().unwrap().last().unwrap()).into_owned();
        assert!(reminder.contains("lanhdao@h44-100.example"), "{reminder}");

        // The commune fixes its data: resolved. Then it slips again: reopened.
        let late = ctx.sim.late_dossiers(ctx.clock.now());
        ctx.sim.redate_dossiers("H44.100", &late, Finish::OnTime, ctx.clock.now());
        ctx.clock.advance(Span::minutes(5));
        poll_and_evaluate(&app).await;
        assert_eq!(app.store.finding(id).await.unwrap().unwrap().state, State::Resolved);
        ctx.sim.redate_dossiers("H44.100", &late, Finish::Late, ctx.clock.now());
        ctx.clock.advance(Span::minutes(5));
        poll_and_evaluate(&app).await;
        let f = app.store.finding(id).await.unwrap().unwrap();
        assert_eq!(f.state, State::Open);
        assert_eq!(app.store.findings().await.unwrap().iter().filter(|f| f.unit_code == "H44.100").count(), 1, "the same finding, not a new one");

        let detail = workflow::show(&app.store, id).await.unwrap();
        let kinds: Vec<&str> = detail.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["opened", "acknowledged", "silenced", "silence_expired", "resolved", "reopened"]);
        let people: Vec<&str> = detail.events.iter().map(|e| e.actor.as_str()).collect();
        assert_eq!(people[1], "Trần Thị B");
        assert_eq!(detail.events[2].note.as_deref(), Some("chờ đơn vị giải trình"));
        for e in &detail.events {
            assert!(e.evidence["denominator"].as_u64().unwrap() > 0, "{}: {}", e.kind, e.evidence);
            assert!(e.evidence["warning"].is_number(), "{}", e.kind);
        }
        assert_eq!(detail.events[4].evidence["result"], "pass");
        assert!(!detail.events[5].evidence["sample"].as_array().unwrap().is_empty(), "late dossiers named");

        // A person's resolution needs a note.
        let err = workflow::apply(&app.store, id, Action::Resolve, "Trần Thị B", " ", ctx.clock.now()).await.unwrap_err();
        assert!(matches!(err, WorkflowError::Refused { .. }), "{err}");
        workflow::apply(&app.store, id, Action::Resolve, "Trần Thị B", "đã kiểm tra trực tiếp", ctx.clock.now()).await.unwrap();
        assert_eq!(app.store.finding(id).await.unwrap().unwrap().state, State::Resolved);
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn a_silence_by_unit_mutes_that_units_alerts_only(backend) {
        let Some(ctx) = Ctx::new(backend).await else { return };
        let (app, sink) = ctx.app_with_sink().await;
        app.store
            .add_silence(
                &NewSilence {
                    rule_id: None,
                    unit_code: Some("H44.100".into()),
                    unit_kind: None,
                    until: sim_now() + Span::days(7),
                    created_by: "Lê Văn C".into(),
                    reason: "đơn vị đang chuyển đổi phần mềm".into(),
                },
                sim_now(),
            )
            .await
            .unwrap();
        let eval = cycle(&app).await.eval;
        let findings = app.store.findings().await.unwrap();
        assert!(findings.iter().any(|f| f.unit_code == "H44.100"), "the finding is still recorded");
        let to: Vec<String> = sink
            .lock()
            .unwrap()
            .iter()
            .map(|m| String::from_utf8_lossy(m).into_owned())
            .collect();
        assert!(to.iter().all(|m| !m.contains("h44-100.example")), "no mail for the silenced unit");
        assert_eq!(to.len() as u32, eval.notifications_queued);
        assert_eq!(eval.notifications_queued as usize, findings.len() - 1, "the others are told");
        ctx.finish().await;
    }
}

async fn api_ctx(
    backend: crate::helpers::Backend,
    enabled: bool,
    listen: std::net::SocketAddr,
) -> Option<(Ctx, par_monitor::app::Running, CancellationToken)> {
    let mut ctx = Ctx::new(backend).await?;
    ctx.settings.api.enabled = enabled;
    ctx.settings.api.listen = listen;
    ctx.settings.api.tokens = vec![ApiToken {
        name: "doan-kiem-tra".into(),
        sha256: par_monitor::api::hash_token("good-token"),
    }];
    let (app, _) = ctx.app_with_sink().await;
    poll_and_evaluate(&app).await;
    let stop = CancellationToken::new();
    let running = app.start(stop.clone()).await.unwrap();
    Some((ctx, running, stop))
}

on_both_backends! {
    async fn the_api_refuses_callers_without_a_valid_token_and_changes_nothing(backend) {
        let Some((ctx, running, stop)) = api_ctx(backend, true, format!("127.0.0.1:{}", free_port()).parse().unwrap()).await else { return };
        let base = format!("http://{}", running.api_addr.expect("API enabled"));
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
        let store = par_monitor::storage::Store::connect(&ctx.settings.database).await.unwrap();
        let id = store.findings().await.unwrap()[0].id;
        let events_before = store.finding_events(id).await.unwrap().len();

        for auth in [None, Some("Bearer wrong-token"), Some("good-token"), Some("Basic Z29vZC10b2tlbg==")] {
            let mut get = client.get(format!("{base}/api/v1/findings"));
            let mut post = client.post(format!("{base}/api/v1/findings/{id}/ack")).json(&serde_json::json!({"note": "x"}));
            if let Some(a) = auth {
                get = get.header("Authorization", a);
                post = post.header("Authorization", a);
            }
            assert_eq!(get.send().await.unwrap().status(), 401, "{auth:?}");
            assert_eq!(post.send().await.unwrap().status(), 401, "{auth:?}");
        }
        assert_eq!(store.finding(id).await.unwrap().unwrap().state, State::Open);
        assert_eq!(store.finding_events(id).await.unwrap().len(), events_before, "nothing changed");

        let list: serde_json::Value = client
            .get(format!("{base}/api/v1/findings"))
            .bearer_auth("good-token")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(!list["findings"].as_array().unwrap().is_empty());
        let resp = client
            .post(format!("{base}/api/v1/findings/{id}/ack"))
            .bearer_auth("good-token")
            .json(&serde_json::json!({"by": "Phạm Thị D", "note": "đã nhận"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let events = store.finding_events(id).await.unwrap();
        assert_eq!(events.last().unwrap().actor, "Phạm Thị D (api: doan-kiem-tra)");
        let resolve = client
            .post(format!("{base}/api/v1/findings/{id}/resolve"))
            .bearer_auth("good-token")
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(resolve.status(), 422, "a resolution needs a note");
        stop.cancel();
        running.wait().await.unwrap();
        store.close().await;
        ctx.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_is_not_listening_unless_enabled() {
    // The API's address is held by a socket that is bound but not
    // listening: no other server of this test can take it, and a connection
    // to it is refused unless par-monitor (wrongly) listened there.
    let reserved = tokio::net::TcpSocket::new_v4().unwrap();
    reserved.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listen = reserved.local_addr().unwrap();
    let (ctx, running, stop) = api_ctx(crate::helpers::Backend::Sqlite, false, listen)
        .await
        .unwrap();
    assert!(running.api_addr.is_none());
    let refused = tokio::net::TcpStream::connect(ctx.settings.api.listen).await;
    assert!(
        refused.is_err(),
        "nothing listens on {}",
        ctx.settings.api.listen
    );
    stop.cancel();
    running.wait().await.unwrap();
    drop(reserved);
    ctx.finish().await;
}
