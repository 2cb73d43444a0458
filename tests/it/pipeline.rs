//! The whole path in-process, on both backends: simulator → poll → stored
//! dossiers → indicators → findings → outbox → e-mail.

use std::collections::BTreeMap;

use chrono::Duration;
use mail_parser::MessageParser;
use par_monitor::domain::Severity;
use par_monitor::domain::SourceHealth;
use par_monitor::findings::{LastResult, State};
use par_monitor::storage::Store;
use par_monitor::time::{Clock, Month};
use tokio_util::sync::CancellationToken;

use crate::helpers::{
    Ctx, Cycle, cycle, on_both_backends, poll_and_evaluate, send_alerts, sim_now,
};

fn decoded(raw: &[u8]) -> mail_parser::Message<'_> {
    MessageParser::default().parse(raw).expect("valid MIME")
}

on_both_backends! {
    async fn a_failing_unit_gets_one_finding_and_its_head_one_alert(backend) {
        let Some(ctx) = Ctx::new(backend).await else { return };
        let (app, sink) = ctx.app_with_sink().await;

        let Cycle { polls, eval, grouped, sent } = cycle(&app).await;
        let report = polls[0].1.as_ref().expect("poll succeeds");
        let dossiers = report.feed("procedures.dossiers").unwrap();
        assert_eq!(dossiers.counts.inserted as usize, ctx.sim.sim.dossiers().len());
        assert_eq!(report.rejected(), 0);
        assert!(polls.iter().all(|(_, r)| r.is_ok()), "every source polls: {polls:?}");

        // Expected findings, from the simulator's own ground truth.
        let truth = ctx.sim.sim.on_time_truth(Month::containing(sim_now()), sim_now());
        let mut expected = BTreeMap::new();
        for (unit, (on_time, received)) in &truth {
            let rate = *on_time as f64 / *received as f64;
            if *received >= 5 && rate < 0.95 {
                let sev = if rate < 0.90 { Severity::Critical } else { Severity::Warning };
                expected.insert(unit.to_string(), sev);
            }
        }
        assert!(expected.contains_key("H44.100"), "the simulator's failing commune fails: {truth:?}");
        let findings = app.store.findings().await.unwrap();
        let got: BTreeMap<String, Severity> =
            findings.iter().map(|f| (f.unit_code.to_string(), f.severity)).collect();
        assert_eq!(got, expected);
        assert!(findings.iter().all(|f| f.state == State::Open && f.last_result == LastResult::Fail));

        // Evidence: the indicator's parts, the threshold and the late dossiers.
        let f = findings.iter().find(|f| f.unit_code == "H44.100").unwrap();
        let (on_time, received) = truth[&par_monitor::domain::UnitCode::parse("H44.100").unwrap()];
        assert_eq!(f.last_detail["numerator"], on_time);
        assert_eq!(f.last_detail["denominator"], received);
        assert_eq!(f.last_detail["warning"], 0.95);
        let sample = f.last_detail["sample"].as_array().unwrap();
        assert_eq!(sample.len() as u64, (received - on_time).min(20));
        let events = app.store.finding_events(f.id).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "opened");

        // One alert per finding, to the unit's head, readable in Vietnamese.
        assert_eq!(eval.notifications_queued as usize, expected.len());
        assert_eq!(grouped.emails as usize, expected.len());
        assert_eq!(sent.sent as usize, expected.len());
        let messages = sink.lock().unwrap().clone();
        assert_eq!(messages.len(), expected.len());
        let alert = messages
            .iter()
            .map(|m| decoded(m))
            .find(|m| m.to().unwrap().first().unwrap().address().unwrap() == "lanhdao@h44-100.example")
            .expect("the commune's head is alerted");
        let subject = alert.subject().unwrap();
        assert!(subject.contains("UBND phường Hồng Bàng"), "{subject}");
        assert!(subject.starts_with("[par-monitor] Nghiêm trọng"), "{subject}");
        assert!(alert.body_text(0).unwrap().contains(sample[0].as_str().unwrap()));
        assert!(alert.body_html(0).is_some());
        assert!(alert.message_id().unwrap().ends_with("@vpubnd.example"));
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn polling_the_same_data_twice_changes_nothing_and_sends_nothing_more(backend) {
        let Some(ctx) = Ctx::new(backend).await else { return };
        let (app, sink) = ctx.app_with_sink().await;
        let never = CancellationToken::new();
        cycle(&app).await;
        let findings_before = app.store.findings().await.unwrap();
        let outbox_before = app.store.outbox().await.unwrap();
        let mails_before = sink.lock().unwrap().len();
        let counts_before = app.store.dossier_counts_by_unit().await.unwrap();

        ctx.clock.advance(Duration::minutes(5));
        let polls = app.poll_all(&never).await;
        let second = polls[0].1.as_ref().unwrap();
        assert_eq!((second.counts().inserted, second.counts().updated), (0, 0));
        // Re-storing the very same page writes nothing either.
        let again = app.store.upsert_dossiers(&ctx.sim.sim.dossiers(), ctx.clock.now()).await.unwrap();
        assert_eq!(again.unchanged as usize, ctx.sim.sim.dossiers().len());
        assert_eq!((again.inserted, again.updated), (0, 0));
        app.evaluate().await.unwrap();
        send_alerts(&app).await;

        assert_eq!(app.store.dossier_counts_by_unit().await.unwrap(), counts_before);
        let findings_after = app.store.findings().await.unwrap();
        assert_eq!(
            findings_after.iter().map(|f| (f.id, f.state, f.severity)).collect::<Vec<_>>(),
            findings_before.iter().map(|f| (f.id, f.state, f.severity)).collect::<Vec<_>>(),
        );
        for f in &findings_after {
            assert_eq!(app.store.finding_events(f.id).await.unwrap().len(), 1, "no second event");
        }
        assert_eq!(app.store.outbox().await.unwrap().len(), outbox_before.len());
        assert_eq!(sink.lock().unwrap().len(), mails_before, "no second e-mail");
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn a_unit_whose_fresh_data_passes_is_resolved_and_told(backend) {
        let Some(ctx) = Ctx::new(backend).await else { return };
        let (app, sink) = ctx.app_with_sink().await;
        cycle(&app).await;
        let opened = sink.lock().unwrap().len();

        ctx.sim.clear_backlog("H44.100");
        ctx.clock.advance(Duration::minutes(5));
        let again = cycle(&app).await;
        assert!(again.polls[0].1.as_ref().unwrap().counts().updated > 0);
        assert_eq!(again.eval.resolved, 1);

        let f = app.store.findings().await.unwrap().into_iter().find(|f| f.unit_code == "H44.100").unwrap();
        assert_eq!(f.state, State::Resolved);
        let kinds: Vec<String> = app.store.finding_events(f.id).await.unwrap().into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["opened", "resolved"]);
        let messages = sink.lock().unwrap().clone();
        assert_eq!(messages.len(), opened + 1);
        let last = decoded(messages.last().unwrap());
        assert!(last.subject().unwrap().contains("Đã khắc phục"), "{:?}", last.subject());
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn stale_data_never_resolves_a_finding(backend) {
        let Some(ctx) = Ctx::new(backend).await else { return };
        let (app, sink) = ctx.app_with_sink().await;
        let never = CancellationToken::new();
        cycle(&app).await;
        let mails = sink.lock().unwrap().len();

        // The upstream goes away for half an hour (three times the default
        // staleness of two 5-minute poll intervals).
        ctx.sim.stop.cancel();
        ctx.clock.advance(Duration::minutes(30));
        let polls = app.poll_all(&never).await;
        assert!(polls[0].1.is_err());
        let state = app.store.source_state("procedures").await.unwrap().unwrap();
        assert_eq!(state.health, SourceHealth::Down);
        let eval = app.evaluate().await.unwrap();
        assert_eq!(eval.resolved, 0);
        assert_eq!(eval.unknown, eval.evaluated);
        let grouped = app.group_alerts().await.unwrap();
        assert_eq!(grouped.emails, 0);
        app.deliver(&never).await.unwrap();

        for f in app.store.findings().await.unwrap() {
            assert_eq!(f.state, State::Open, "{}", f.unit_code);
            assert_eq!(f.last_result, LastResult::Unknown);
            assert_eq!(f.last_detail["unknown"]["reason"], "source_down", "{}", f.last_detail);
            assert_eq!(f.last_detail["unknown"]["source"], "procedures");
            let kinds: Vec<String> = app.store.finding_events(f.id).await.unwrap().into_iter().map(|e| e.kind).collect();
            assert_eq!(kinds, ["opened", "became_unknown"]);
        }
        // Unknown is recorded once, not once per cycle, and mails no one.
        app.evaluate().await.unwrap();
        for f in app.store.findings().await.unwrap() {
            assert_eq!(app.store.finding_events(f.id).await.unwrap().len(), 2);
        }
        assert_eq!(sink.lock().unwrap().len(), mails);
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn migrations_run_twice_are_harmless(backend) {
        let Some(ctx) = Ctx::new(backend).await else { return };
        let store = Store::connect(&ctx.settings.database).await.unwrap();
        let first = store.migrate().await.unwrap();
        let second = store.migrate().await.unwrap();
        assert!(first >= 1);
        assert_eq!(second, 0);
        assert_eq!(store.backend().as_str(), match backend {
            crate::helpers::Backend::Sqlite => "sqlite",
            crate::helpers::Backend::Postgres => "postgres",
        });
        store.close().await;
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn the_audit_trail_refuses_edits(backend) {
        let Some(ctx) = Ctx::new(backend).await else { return };
        let app = ctx.app().await;
        poll_and_evaluate(&app).await;
        let f = &app.store.findings().await.unwrap()[0];
        // Even with direct database access, not only through par-monitor.
        for sql in [
            format!("UPDATE finding_events SET note = 'edited' WHERE finding_id = {}", f.id),
            format!("DELETE FROM finding_events WHERE finding_id = {}", f.id),
        ] {
            let err = crate::helpers::raw_execute(&ctx.db.url, &sql).await.unwrap_err();
            assert!(err.contains("append-only"), "{err}");
        }
        assert_eq!(app.store.finding_events(f.id).await.unwrap().len(), 1);
        ctx.finish().await;
    }
}
