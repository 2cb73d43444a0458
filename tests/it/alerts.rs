//! Alert routing and grouping on both backends: one e-mail per recipient
//! after the group wait, reminders after the repeat interval, flaps never
//! sent, alerts of a down source held behind one outage notice, and unit
//! heads who never see another unit's findings or an inspection proposal.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::Duration as Span;
use mail_parser::MessageParser;
use par_monitor::domain::{EmailAddress, Language, Recipient};
use par_monitor::ingest::LogProgress;
use par_monitor::ingest::Mode;
use par_monitor::simulator::{Endpoint, Fault};
use par_monitor::time::Clock;
use tokio_util::sync::CancellationToken;

use crate::helpers::{Ctx, SmtpServer, cycle, on_both_backends, poll_and_evaluate, send_alerts};

const TEAM: &str = "doankt@vpubnd.example";

fn team(ctx: &mut Ctx) {
    ctx.settings.email.inspection_team = vec![Recipient {
        address: EmailAddress::parse(TEAM).unwrap(),
        language: Language::Vi,
    }];
}

/// `(to, subject, text)` of every message.
fn read(messages: &[Vec<u8>]) -> Vec<(Vec<String>, String, String)> {
    messages
        .iter()
        .map(|raw| {
            let m = MessageParser::default().parse(raw).expect("valid MIME");
            let to = m
                .to()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.address().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            (
                to,
                m.subject().unwrap_or_default().to_owned(),
                m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
            )
        })
        .collect()
}

on_both_backends! {
    async fn findings_opened_together_go_out_as_one_email_per_recipient_after_the_wait(backend) {
        let Some(mut ctx) = Ctx::new(backend).await else { return };
        team(&mut ctx);
        ctx.settings.email.grouping.group_wait = Duration::from_secs(30);
        ctx.settings.email.grouping.group_interval = Duration::from_secs(300);
        ctx.settings.email.grouping.repeat_interval = Duration::from_secs(24 * 3600);
        // Data stays trusted for the whole test, so the reminder is not
        // held for staleness.
        for (_, s) in ctx.settings.sources.all_mut() {
            s.stale_after = Some(Duration::from_secs(7 * 86400));
        }
        let (app, sink) = ctx.app_with_sink().await;
        let never = CancellationToken::new();
        let eval = poll_and_evaluate(&app).await;
        assert!(eval.notifications_queued > 0);

        // Inside the wait nothing goes out.
        ctx.clock.advance(Span::seconds(20));
        let early = app.group_alerts().await.unwrap();
        assert_eq!(early.emails, 0);
        ctx.clock.advance(Span::seconds(10));
        let due = app.group_alerts().await.unwrap();
        app.deliver(&never).await.unwrap();
        let mails = read(&sink.lock().unwrap());
        assert_eq!(due.emails as usize, mails.len());
        assert_eq!(due.notifications_sent, eval.notifications_queued);
        let recipients: BTreeSet<&str> = mails.iter().map(|m| m.0[0].as_str()).collect();
        assert_eq!(recipients.len(), mails.len(), "one e-mail per recipient: {recipients:?}");
        assert!(mails.iter().all(|m| m.0.len() == 1));

        // The team hears of every critical finding, in one e-mail.
        let critical: Vec<String> = app
            .store
            .findings()
            .await
            .unwrap()
            .into_iter()
            .filter(|f| f.severity == par_monitor::domain::Severity::Critical)
            .map(|f| f.unit_code.to_string())
            .collect();
        assert!(!critical.is_empty());
        let team_mail = mails.iter().find(|m| m.0[0] == TEAM).expect("the team is told");
        for code in &critical {
            assert!(team_mail.2.contains(&format!("({code})")), "{code} in {}", team_mail.2);
        }

        // Nothing new: nothing more, until the repeat interval.
        ctx.clock.advance(Span::hours(1));
        assert_eq!(app.group_alerts().await.unwrap(), Default::default());
        ctx.clock.advance(Span::hours(23));
        let repeat = app.group_alerts().await.unwrap();
        assert_eq!(repeat.repeats as usize, recipients.len(), "each recipient is reminded once");
        assert_eq!(repeat.emails, 0);
        app.deliver(&never).await.unwrap();
        let all = read(&sink.lock().unwrap());
        let reminders = &all[mails.len()..];
        assert_eq!(reminders.len(), recipients.len());
        for (to, subject, text) in reminders {
            assert!(
                subject.contains("Chưa khắc phục") || subject.contains("Nhắc lại"),
                "{subject}"
            );
            assert!(text.contains("vẫn chưa được khắc phục"), "{to:?}: {text}");
        }
        // Each reminder threads with the first alert its recipient got.
        let raw = sink.lock().unwrap().clone();
        let parsed: Vec<_> = raw.iter().map(|r| MessageParser::default().parse(r).unwrap()).collect();
        for reminder in &parsed[mails.len()..] {
            let to = reminder.to().and_then(|a| a.first()).and_then(|a| a.address());
            let first = parsed[..mails.len()]
                .iter()
                .find(|m| m.to().and_then(|a| a.first()).and_then(|a| a.address()) == to)
                .expect("an earlier alert to the same recipient");
            assert_eq!(reminder.in_reply_to().as_text(), first.message_id(), "{to:?}");
        }
        assert_eq!(app.group_alerts().await.unwrap().repeats, 0, "once per interval");
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn a_finding_opened_and_resolved_within_the_wait_is_never_sent(backend) {
        let Some(mut ctx) = Ctx::new(backend).await else { return };
        ctx.settings.email.grouping.group_wait = Duration::from_secs(600);
        let (app, sink) = ctx.app_with_sink().await;
        let never = CancellationToken::new();
        poll_and_evaluate(&app).await;

        // Five minutes later the commune has cleared its backlog.
        ctx.sim.clear_backlog("H44.100");
        ctx.clock.advance(Span::minutes(5));
        assert_eq!(poll_and_evaluate(&app).await.resolved, 1);

        ctx.clock.advance(Span::minutes(10));
        let report = app.group_alerts().await.unwrap();
        assert_eq!(report.cancelled, 2, "the opening and the resolution");
        app.deliver(&never).await.unwrap();
        let mails = read(&sink.lock().unwrap());
        assert_eq!(mails.len() as u32, report.emails);
        assert!(mails.iter().all(|m| m.0[0] != "lanhdao@h44-100.example"), "the commune's head is not told of a flap");
        let commune = app.store.findings().await.unwrap().into_iter().find(|f| f.unit_code == "H44.100").unwrap();
        let statuses: Vec<String> = app
            .store
            .notifications()
            .await
            .unwrap()
            .into_iter()
            .filter(|n| n.finding_id == commune.id)
            .map(|n| n.status)
            .collect();
        assert_eq!(statuses, ["cancelled", "cancelled"]);
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn alerts_of_a_down_source_are_held_behind_one_notice_to_the_team(backend) {
        let Some(mut ctx) = Ctx::new(backend).await else { return };
        team(&mut ctx);
        ctx.settings.sources.procedures.retry_backoff = Duration::from_millis(10);
        let (app, sink) = ctx.app_with_sink().await;
        let never = CancellationToken::new();
        app.poll_all(&never).await;
        let procedures = app.sources.iter().find(|s| s.name == "procedures").unwrap();

        // The one-stop system starts failing; its data is still fresh, so
        // findings open, but their alerts wait for the source.
        ctx.sim
            .sim
            .add_fault(Fault::Status { endpoint: Some(Endpoint::Dossiers), status: 500, count: 10_000, retry_after_secs: None })
            .unwrap();
        ctx.clock.advance(Span::minutes(1));
        assert!(app.poll(procedures, Mode::Incremental, &never, &LogProgress::default()).await.is_err());
        app.evaluate().await.unwrap();
        let first = app.group_alerts().await.unwrap();
        assert!(first.held > 1, "several units' alerts are held: {first:?}");
        assert_eq!(first.source_notices, 1, "one notice for the outage, not one per unit");
        ctx.clock.advance(Span::minutes(1));
        assert!(app.poll(procedures, Mode::Incremental, &never, &LogProgress::default()).await.is_err());
        let second = app.group_alerts().await.unwrap();
        assert_eq!(second.source_notices, 0, "the outage is announced once");
        assert_eq!(second.held, first.held);
        app.deliver(&never).await.unwrap();
        let mails = read(&sink.lock().unwrap());
        let notices: Vec<_> = mails.iter().filter(|m| m.1.contains("procedures")).collect();
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].0, [TEAM]);
        assert!(
            mails.iter().all(|m| !m.2.contains("Tỷ lệ hồ sơ giải quyết đúng hạn")),
            "no alert from the down source went out"
        );

        // Back: one notice, and the held alerts go out.
        ctx.sim.sim.clear_faults();
        ctx.clock.advance(Span::minutes(1));
        app.poll(procedures, Mode::Incremental, &never, &LogProgress::default()).await.unwrap();
        let back = app.group_alerts().await.unwrap();
        assert_eq!(back.source_notices, 1);
        assert_eq!(back.held, 0);
        assert!(back.notifications_sent >= first.held);
        assert!(app.store.pending_notifications().await.unwrap().is_empty());
        app.deliver(&never).await.unwrap();
        let mails = read(&sink.lock().unwrap());
        assert!(mails.iter().any(|m| m.0[0] == "lanhdao@h44-100.example" && m.2.contains("(H44.100)")));
        let kinds: Vec<String> = app.store.outbox().await.unwrap().into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds.iter().filter(|k| *k == "source_down").count(), 1);
        assert_eq!(kinds.iter().filter(|k| *k == "source_back").count(), 1);
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn unit_heads_never_see_another_units_findings_or_a_proposal(backend) {
        let server = SmtpServer::start().await;
        let Some(mut ctx) = Ctx::new(backend).await else { return };
        team(&mut ctx);
        ctx.mail_through_smtp(server.port);
        let app = ctx.app().await;
        let never = CancellationToken::new();
        poll_and_evaluate(&app).await;
        app.group_alerts().await.unwrap();
        let plan = par_monitor::inspections::plan(&app.context(), 3, Some(42), "Lê Văn C", "kiểm tra đột xuất quý III", ctx.clock.now())
            .await
            .unwrap();
        assert_eq!(plan.recipients, 1);
        let sent = app.deliver(&never).await.unwrap();
        assert!(sent.sent >= 3, "{sent:?}");

        let heads: BTreeMap<String, String> = ctx
            .sim
            .sim
            .units()
            .into_iter()
            .filter_map(|u| Some((u.head_email?.to_string(), u.code.to_string())))
            .collect();
        let all_codes: Vec<String> = heads.values().cloned().collect();
        let mails = read(&server.messages());
        let mut heads_told = 0;
        for (to, subject, text) in &mails {
            assert_eq!(to.len(), 1, "{subject}");
            let Some(own) = heads.get(&to[0]) else { continue };
            heads_told += 1;
            assert!(text.contains(&format!("({own})")), "{own}: {text}");
            for other in all_codes.iter().filter(|c| *c != own) {
                assert!(!text.contains(&format!("({other})")), "{own} was told of {other}: {text}");
            }
            for secret in ["MẬT", "đột xuất", "Đề xuất"] {
                assert!(!subject.contains(secret) && !text.contains(secret), "{own} saw a proposal");
            }
        }
        assert!(heads_told > 0);
        let team_mail: Vec<_> = mails.iter().filter(|m| m.0[0] == TEAM).collect();
        assert!(team_mail.iter().any(|m| m.1.contains("Đề xuất kiểm tra đột xuất")), "the team gets the proposal");
        assert!(team_mail.iter().any(|m| m.1.starts_with("[par-monitor]") && !m.1.contains("MẬT")), "and the critical alerts");
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn a_finding_silenced_before_its_alert_went_out_is_not_told(backend) {
        let Some(mut ctx) = Ctx::new(backend).await else { return };
        ctx.settings.email.grouping.group_wait = Duration::from_secs(30);
        let (app, sink) = ctx.app_with_sink().await;
        poll_and_evaluate(&app).await;
        let commune = app.store.findings().await.unwrap().into_iter().find(|f| f.unit_code == "H44.100").unwrap();
        let now = ctx.clock.now();
        par_monitor::workflow::apply(
            &app.store,
            commune.id,
            par_monitor::findings::Action::Silence { until: now + Span::days(1) },
            "Trần Thị B",
            "đơn vị đã giải trình",
            now,
        )
        .await
        .unwrap();
        ctx.clock.advance(Span::seconds(30));
        send_alerts(&app).await;
        let mails = read(&sink.lock().unwrap());
        assert!(!mails.is_empty(), "the other units are told");
        assert!(mails.iter().all(|m| m.0[0] != "lanhdao@h44-100.example"));
        let statuses: Vec<String> = app.store.notifications().await.unwrap().into_iter()
            .filter(|n| n.finding_id == commune.id).map(|n| n.status).collect();
        assert_eq!(statuses, ["cancelled"]);
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn a_resolution_is_announced_to_whoever_heard_of_the_finding(backend) {
        let Some(mut ctx) = Ctx::new(backend).await else { return };
        team(&mut ctx);
        let (app, sink) = ctx.app_with_sink().await;
        cycle(&app).await;
        let told = read(&sink.lock().unwrap());
        assert!(told.iter().any(|m| m.0[0] == TEAM && m.2.contains("(H44.100)")), "the team hears of the critical commune");

        // The routes change: the team no longer gets alerts. It still hears
        // that what it was told of is resolved.
        let mut settings = ctx.settings.clone();
        settings.email.routes.retain(|r| r.to == par_monitor::config::RouteTo::UnitHead);
        app.reload(settings).await.unwrap();
        ctx.sim.clear_backlog("H44.100");
        ctx.clock.advance(Span::minutes(5));
        assert_eq!(cycle(&app).await.eval.resolved, 1);
        let all = read(&sink.lock().unwrap());
        let resolved: BTreeSet<&str> = all[told.len()..]
            .iter()
            .filter(|m| m.1.contains("Đã khắc phục"))
            .map(|m| m.0[0].as_str())
            .collect();
        assert_eq!(resolved, BTreeSet::from(["lanhdao@h44-100.example", TEAM]));

        // Read by a real mail parser: machine-sent, and the resolution
        // threads with the alert that told the unit head of the finding.
        let raw = sink.lock().unwrap().clone();
        let parsed: Vec<_> = raw.iter().map(|r| MessageParser::default().parse(r).unwrap()).collect();
        let to_head = |m: &mail_parser::Message<'_>| {
            m.to().and_then(|a| a.first()).and_then(|a| a.address()) == Some("lanhdao@h44-100.example")
        };
        let first = parsed[..told.len()].iter().find(|m| to_head(m)).expect("the head's alert");
        let resolution = parsed[told.len()..]
            .iter()
            .find(|m| to_head(m) && m.subject().is_some_and(|s| s.contains("Đã khắc phục")))
            .expect("the head's resolution");
        for m in [first, resolution] {
            assert_eq!(m.header_raw("Auto-Submitted").map(str::trim), Some("auto-generated"));
            assert_eq!(m.header_raw("X-Auto-Response-Suppress").map(str::trim), Some("All"));
            assert_eq!(
                m.header_raw("List-Id").map(str::trim),
                Some("par-monitor <par-monitor.vpubnd.example>")
            );
        }
        assert!(first.in_reply_to().is_empty(), "the first alert answers nothing");
        assert_eq!(resolution.in_reply_to().as_text(), first.message_id());
        assert!(
            resolution
                .references()
                .as_text_list()
                .unwrap_or_default()
                .iter()
                .any(|r| Some(r.as_ref()) == first.message_id()),
            "References names the first alert"
        );
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn stale_data_holds_alerts_without_announcing_an_outage(backend) {
        // As after a restart that followed a long stop: the data is old
        // until the first poll, though nothing has failed.
        let Some(mut ctx) = Ctx::new(backend).await else { return };
        team(&mut ctx);
        let (app, sink) = ctx.app_with_sink().await;
        let never = CancellationToken::new();
        poll_and_evaluate(&app).await;
        ctx.clock.advance(Span::hours(1));
        let stale = app.group_alerts().await.unwrap();
        assert!(stale.held > 0);
        assert_eq!((stale.emails, stale.source_notices), (0, 0));
        app.poll_all(&never).await;
        let fresh = app.group_alerts().await.unwrap();
        assert_eq!(fresh.held, 0);
        assert_eq!(fresh.source_notices, 0);
        assert_eq!(fresh.notifications_sent, stale.held);
        app.deliver(&never).await.unwrap();
        assert!(read(&sink.lock().unwrap()).iter().all(|m| !m.1.contains("Nguồn dữ liệu")));
        ctx.finish().await;
    }
}
