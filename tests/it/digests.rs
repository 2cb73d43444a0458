//! Digests: what arrives over real SMTP (parsed by Python's `email`
//! package), catch-up across a restart, and who may read what.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use par_monitor::digest::DigestKind;
use par_monitor::digest::run::{Queued, run_due};
use par_monitor::domain::{EmailAddress, Language, Recipient, UnitKind};
use par_monitor::storage::OutboxEmail;
use par_monitor::time::local_to_utc;
use tokio_util::sync::CancellationToken;

use crate::helpers::{
    Backend, Ctx, SENDER_ADDRESS, SmtpServer, on_both_backends, poll_and_evaluate, wait_until,
};

const LEADER: &str = "chutich@ubnd.example";
const TEAM: &str = "doankiemtra@vpubnd.example";

fn local(text: &str) -> DateTime<Utc> {
    local_to_utc(NaiveDateTime::parse_from_str(text, "%d/%m/%Y %H:%M").expect("valid"))
}

fn address(a: &str) -> EmailAddress {
    EmailAddress::parse(a).unwrap()
}

fn leadership(ctx: &mut Ctx, kinds: &[DigestKind]) {
    let d = &mut ctx.settings.digests;
    d.kinds = kinds.to_vec();
    d.leadership = vec![Recipient {
        address: address(LEADER),
        language: Language::Vi,
    }];
}

fn queued(kind: DigestKind, period: &str, emails: usize) -> Queued {
    Queued {
        kind,
        period: period.into(),
        emails,
    }
}

async fn digests_of(store: &par_monitor::storage::Store, kind: DigestKind) -> Vec<OutboxEmail> {
    let mut rows: Vec<OutboxEmail> = store
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind.outbox_kind())
        .collect();
    rows.sort_by_key(|e| e.id);
    rows
}

/// Parses a raw message with Python's standard `email` package (policy
/// `default`, which decodes RFC 2047 headers) and describes it as JSON.
fn parse_with_python(raw: &[u8]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("message.eml");
    std::fs::write(&path, raw).unwrap();
    let script = r#"
import email, json, sys
from email import policy
with open(sys.argv[1], 'rb') as f:
    m = email.message_from_binary_file(f, policy=policy.default)
parts = []
defects = [str(d) for p in m.walk() for d in p.defects]
for p in m.walk():
    payload = b'' if p.is_multipart() else (p.get_payload(decode=True) or b'')
    parts.append({
        'type': p.get_content_type(),
        'content_id': p.get('Content-ID'),
        'disposition': p.get_content_disposition(),
        'png': payload[:8] == b'\x89PNG\r\n\x1a\n',
        'size': len(payload),
    })
print(json.dumps({
    'subject': str(m['subject']),
    'to': [a.addr_spec for a in m['to'].addresses],
    'from': [a.addr_spec for a in m['from'].addresses],
    'type': m.get_content_type(),
    'text': m.get_body(('plain',)).get_content(),
    'html': m.get_body(('html',)).get_content(),
    'parts': parts,
    'defects': defects,
}, ensure_ascii=False))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python could not parse the message: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from python")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_arrives_over_smtp_as_valid_mime_with_its_chart_inline() {
    let server = SmtpServer::start().await;
    let mut ctx = Ctx::new(Backend::Sqlite).await.unwrap();
    ctx.mail_through_smtp(server.port);
    leadership(&mut ctx, &[DigestKind::Daily]);
    let app = ctx.app().await;
    let never = CancellationToken::new();
    poll_and_evaluate(&app).await;
    // Thursday 20/8 10:00: Wednesday's digest is due (sent at 07:00).
    let q = run_due(&app.context(), app.clock.now()).await.unwrap();
    assert_eq!(q, vec![queued(DigestKind::Daily, "2026-08-19", 1)]);
    app.deliver(&never).await.unwrap();

    let to_leader: Vec<serde_json::Value> = server
        .messages()
        .iter()
        .map(|raw| parse_with_python(raw))
        .filter(|m| m["to"][0] == LEADER)
        .collect();
    assert_eq!(to_leader.len(), 1, "one digest to leadership");
    let m = &to_leader[0];
    assert_eq!(m["defects"], serde_json::json!([]), "{m}");
    let subject = m["subject"].as_str().unwrap();
    assert!(
        // A day has no official online-services score, so its 766 total
        // is incomplete and stays out of the subject: the on-time rate leads.
        subject.starts_with("[par-monitor] Bản tin ngày 19/08/2026: đúng hạn "),
        "subject decoded with its diacritics: {subject}"
    );
    assert_eq!(m["from"][0], SENDER_ADDRESS);
    assert_eq!(m["type"], "multipart/alternative");
    let types: Vec<&str> = m["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "multipart/alternative",
            "text/plain",
            "multipart/related",
            "text/html",
            "image/png"
        ]
    );
    let png = &m["parts"][4];
    assert_eq!(png["png"], true, "{png}");
    assert_eq!(png["disposition"], "inline");
    let cid = png["content_id"].as_str().unwrap();
    assert_eq!(cid, "<chart-daily-2026-08-19@vpubnd.example>");
    let html = m["html"].as_str().unwrap();
    assert!(
        html.contains(&format!("src=\"cid:{}\"", cid.trim_matches(['<', '>']))),
        "the HTML shows the chart by its Content-ID"
    );
    assert!(html.contains("Chỉ số phục vụ người dân"), "{html}");
    let text = m["text"].as_str().unwrap();
    assert!(text.contains("Tỷ lệ hồ sơ giải quyết đúng hạn"), "{text}");
    assert!(text.contains("ĐỘ MỚI CỦA DỮ LIỆU"), "{text}");
    // Leadership never sees a proposal.
    assert!(!text.contains("MẬT") && !html.contains("MẬT"));
    ctx.finish().await;
}

on_both_backends! {
    async fn a_digest_missed_while_down_is_sent_once_after_restart(backend) {
        let Some(mut ctx) = Ctx::new(backend).await else { return };
        leadership(&mut ctx, &[DigestKind::Daily]);
        let never = CancellationToken::new();
        // Thursday 20/8 10:00: the daemon sends Wednesday's digest.
        let app = ctx.app().await;
        app.poll_all(&never).await;
        assert_eq!(
            run_due(&app.context(), app.clock.now()).await.unwrap(),
            vec![queued(DigestKind::Daily, "2026-08-19", 1)]
        );
        assert_eq!(app.deliver(&never).await.unwrap().sent, 1);
        app.store.close().await;
        drop(app);

        // Stopped across 21/8 07:00 and 22/8 07:00; started again at 22/8
        // 09:00. Start-up catches up the latest missed digest (Friday's).
        ctx.clock.set(local("22/08/2026 09:00"));
        let app = ctx.app().await;
        let (store, metrics) = (app.store.clone(), app.metrics.clone());
        let shutdown = CancellationToken::new();
        let running = app.start(shutdown.clone()).await.unwrap();
        wait_until("the start-up catch-up", Duration::from_secs(60), || {
            let store = store.clone();
            async move {
                digests_of(&store, DigestKind::Daily)
                    .await
                    .iter()
                    .any(|e| e.status == "sent" && e.dedup_key.contains(":2026-08-21:"))
            }
        })
        .await;
        shutdown.cancel();
        running.wait().await.unwrap();
        // The job ran after each evaluation; only the first found work.
        assert!(metrics.job_runs_total.with_label_values(&["digests", "success"]).get() >= 1);

        // A second restart at the same time sends nothing more.
        let app = ctx.app().await;
        assert_eq!(run_due(&app.context(), app.clock.now()).await.unwrap(), vec![]);
        // Nor does a second tick of the same schedule.
        assert_eq!(run_due(&app.context(), local("22/08/2026 23:59")).await.unwrap(), vec![]);
        let rows = digests_of(&app.store, DigestKind::Daily).await;
        let keys: Vec<&str> = rows.iter().map(|e| e.dedup_key.as_str()).collect();
        assert_eq!(
            keys,
            [
                format!("digest:daily:2026-08-19:{LEADER}"),
                format!("digest:daily:2026-08-21:{LEADER}")
            ],
            "20/8 was skipped: catch-up sends only the latest missed period"
        );
        assert!(rows.iter().all(|e| e.status == "sent" && e.parts.len() == 1));
        let last = app.store.last_digests_sent().await.unwrap();
        assert_eq!(last.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["daily"]);
        app.store.close().await;
        drop(app);
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn unit_heads_read_only_their_unit_and_only_the_team_reads_proposals(backend) {
        let Some(mut ctx) = Ctx::new(backend).await else { return };
        leadership(&mut ctx, &[DigestKind::Monthly]);
        ctx.settings.email.inspection_team = vec![par_monitor::domain::Recipient { address: address(TEAM), language: par_monitor::domain::Language::Vi }];
        let app = ctx.app().await;
        poll_and_evaluate(&app).await;
        let now = app.clock.now();
        let plan = par_monitor::inspections::plan(&app.context(), 2, Some(42), "Trưởng đoàn", "Kiểm tra quý III", now)
            .await
            .unwrap();
        let q = run_due(&app.context(), app.clock.now()).await.unwrap();
        let units = app.store.units().await.unwrap();
        let heads: Vec<_> = units
            .iter()
            .filter(|u| u.kind != Some(UnitKind::Province) && u.head_email.is_some())
            .collect();
        assert!(heads.len() >= 5);
        // July's digest: the team, leadership, and each unit head.
        assert_eq!(q, vec![queued(DigestKind::Monthly, "2026-07", 2 + heads.len())]);

        let rows = digests_of(&app.store, DigestKind::Monthly).await;
        assert!(rows.iter().all(|e| e.recipients.len() == 1 && e.parts.len() == 1));
        let to = |a: &str| rows.iter().find(|e| e.recipients[0] == a).unwrap();
        let proposed: Vec<&str> = plan.units.iter().map(|u| u.code.as_str()).collect();

        // The team's digest carries the proposal, marked confidential.
        let team = to(TEAM);
        assert!(team.subject.contains("MẬT"), "{}", team.subject);
        for body in [&team.body_text, &team.body_html] {
            assert!(body.contains(&format!("#{}", plan.id)), "{body}");
            assert!(body.contains("Kiểm tra quý III"));
            for code in &proposed {
                assert!(body.contains(&format!("({code})")));
            }
        }
        // Leadership's does not.
        let lead = to(LEADER);
        for body in [&lead.subject, &lead.body_text, &lead.body_html] {
            assert!(!body.contains("MẬT") && !body.contains("đột xuất"), "{body}");
            assert!(!body.contains("Kiểm tra quý III"));
        }
        // Each head reads their own unit only: no other unit's code, no proposal.
        for head in &heads {
            let mail = to(head.head_email.as_ref().unwrap().as_str());
            assert!(mail.subject.contains(&head.name), "{}", mail.subject);
            assert!(mail.body_text.contains(&format!("({})", head.code)));
            for body in [&mail.subject, &mail.body_text, &mail.body_html] {
                assert!(!body.contains("MẬT") && !body.contains("đột xuất"), "{body}");
                for other in units.iter().filter(|u| u.code != head.code) {
                    // A name inside the head's own ("xã Hòa" in "xã Hòa Bình")
                    // proves nothing, nor does the footer naming the sender,
                    // the province's office.
                    let name_leaks = !head.name.contains(&other.name)
                        && other.kind != Some(UnitKind::Province)
                        && body.contains(&other.name);
                    assert!(
                        !body.contains(&format!("({})", other.code)) && !name_leaks,
                        "{}'s digest mentions {}:\n{body}",
                        head.code,
                        other.code
                    );
                }
            }
        }
        // Queued once: running again (a tick, a restart) adds nothing.
        assert_eq!(run_due(&app.context(), app.clock.now()).await.unwrap(), vec![]);
        assert_eq!(digests_of(&app.store, DigestKind::Monthly).await.len(), rows.len());
        ctx.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_preview_writes_html_with_the_chart_embedded_and_sends_nothing() {
    use crate::binary::{run_to_end, write_config};
    use crate::helpers::{SimServer, TestDb};
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let sim = SimServer::start(par_monitor::simulator::SimConfig::new(3, Utc::now())).await;
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    let extra = format!("[digests]\nleadership = [{{ address = \"{LEADER}\" }}]\n");
    let cfg = write_config(dir.path(), &db.url, &sim, &outbox, &extra);
    let cwd = dir.path().to_owned();
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || {
        let cfg = cfg.to_str().unwrap();
        let (code, _, stderr) = run_to_end(&["check", "--config", cfg], &cwd);
        assert_eq!(code, 0, "{stderr}");
        let page = cwd.join("digest.html");
        let (code, _, stderr) = run_to_end(
            &[
                "digest",
                "preview",
                "--kind",
                "monthly",
                "--to",
                page.to_str().unwrap(),
                "--config",
                cfg,
            ],
            &cwd,
        );
        assert_eq!(code, 0, "{stderr}");
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(
            html.contains("<html lang=\"vi\">") && html.contains("Bản tin tháng"),
            "{html}"
        );
        assert!(
            html.contains("src=\"data:image/png;base64,iVBORw0KGgo"),
            "the chart is embedded"
        );
        assert!(!html.contains("cid:"));
        let (code, _, stderr) = run_to_end(
            &["digest", "preview", "--unit", "H44.999", "--config", cfg],
            &cwd,
        );
        assert_eq!(code, 2, "an unknown unit is a usage error: {stderr}");
        assert!(stderr.contains("H44.999"), "{stderr}");
        run_to_end(
            &[
                "digest", "preview", "--kind", "weekly", "--unit", "H44.100", "--lang", "en",
                "--config", cfg,
            ],
            &cwd,
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Digest for week "), "{stdout}");
    assert!(
        stdout.contains("UBND phường Hồng Bàng</strong> (H44.100)"),
        "{stdout}"
    );
    // Nothing was queued or sent.
    let store = crate::binary::store_for(&db.url).await;
    assert!(
        store
            .outbox()
            .await
            .unwrap()
            .iter()
            .all(|e| !e.kind.starts_with("digest_"))
    );
    sim.stop.cancel();
    db.cleanup().await;
}

/// The HTML of a digest without its chart's address (an e-mail names it by
/// Content-ID, a preview embeds it), for comparing what two digests say.
fn without_chart(html: &str) -> String {
    let mut out = String::new();
    for (i, piece) in html.split("<img src=\"").enumerate() {
        if i == 0 {
            out.push_str(piece);
        } else {
            out.push_str(piece.split_once('"').map_or(piece, |(_, rest)| rest));
        }
    }
    out
}

on_both_backends! {
    async fn a_digest_due_at_start_up_waits_for_the_first_polls_and_says_what_they_say(backend) {
        use par_monitor::simulator::Fault;
        let Some(mut ctx) = Ctx::new(backend).await else { return };
        leadership(&mut ctx, &[DigestKind::Daily]);
        // Old data: the last run polled on the 18th, before the period of
        // Wednesday the 19th ended, and stopped.
        ctx.clock.set(local("18/08/2026 10:00"));
        let old = ctx.app().await;
        poll_and_evaluate(&old).await;
        old.store.close().await;

        // Thursday 10:00: the daemon starts, Wednesday's digest is due, and
        // every upstream answers slowly.
        ctx.clock.set(local("20/08/2026 10:00"));
        ctx.sim.sim.add_fault(Fault::Latency { endpoint: None, millis: 300 }).unwrap();
        let app = ctx.app().await;
        let shutdown = CancellationToken::new();
        let running = app.start(shutdown.clone()).await.unwrap();
        let store = par_monitor::storage::Store::connect(&ctx.settings.database).await.unwrap();
        let s = store.clone();
        wait_until("the daily digest", Duration::from_secs(60), || {
            let s = s.clone();
            async move { !digests_of(&s, DigestKind::Daily).await.is_empty() }
        })
        .await;
        // Queued only once every source had completed a poll of this run:
        // the clock stands still, so the wait never ran out, and the digest
        // names no source as missing.
        let digest = digests_of(&store, DigestKind::Daily).await.remove(0);
        for st in store.source_states().await.unwrap() {
            assert!(st.data_as_of.is_some_and(|t| t >= local("20/08/2026 10:00")), "{st:?}");
        }
        assert!(!digest.body_text.contains("LƯU Ý"), "{}", digest.body_text);
        shutdown.cancel();
        running.wait().await.unwrap();

        // Its figures are those of the digest rendered after the polls.
        let after = ctx.app().await;
        let preview = par_monitor::digest::run::preview(
            &after.context(),
            DigestKind::Daily,
            None,
            Language::Vi,
            local("20/08/2026 10:00"),
        )
        .await
        .unwrap();
        assert_eq!(without_chart(&digest.body_html), without_chart(&preview));
        assert!(digest.subject.contains("Chỉ số 766") || digest.subject.contains("đúng hạn"), "{}", digest.subject);
        store.close().await;
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn with_a_source_down_for_the_whole_wait_a_digest_goes_out_after_it_naming_the_source(backend) {
        use par_monitor::simulator::{Endpoint, Fault};
        let Some(mut ctx) = Ctx::new(backend).await else { return };
        leadership(&mut ctx, &[DigestKind::Daily]);
        ctx.settings.digests.wait_for_data = Duration::from_secs(30 * 60);
        // The one-stop system has never answered.
        ctx.sim
            .sim
            .add_fault(Fault::Status { endpoint: Some(Endpoint::Dossiers), status: 503, count: 10_000, retry_after_secs: Some(0) })
            .unwrap();
        let app = ctx.app().await;
        let never = CancellationToken::new();
        let polls = app.poll_all(&never).await;
        assert!(polls.iter().any(|(s, r)| *s == "procedures" && r.is_err()));
        app.evaluate().await.unwrap();
        // Thursday 10:00, Wednesday's digest due since 07:00, the daemon up
        // since 10:00: it waits.
        let now = local("20/08/2026 10:00");
        assert_eq!(run_due(&app.context(), now).await.unwrap(), vec![]);
        assert_eq!(run_due(&app.context(), now + chrono::Duration::minutes(29)).await.unwrap(), vec![]);
        // After the wait it goes out, once.
        let later = now + chrono::Duration::minutes(31);
        assert_eq!(run_due(&app.context(), later).await.unwrap(), vec![queued(DigestKind::Daily, "2026-08-19", 1)]);
        assert_eq!(run_due(&app.context(), later).await.unwrap(), vec![]);
        let d = digests_of(&app.store, DigestKind::Daily).await.remove(0);
        // No figure in the subject: the on-time rate and the 766 index come
        // from the missing system.
        assert_eq!(d.subject, "[par-monitor] Bản tin ngày 19/08/2026");
        assert!(d.body_text.contains("LƯU Ý: bản tin không có số liệu từ Hệ thống giải quyết TTHC"), "{}", d.body_text);
        assert!(d.body_text.contains("Tỷ lệ hồ sơ giải quyết đúng hạn: chưa có dữ liệu"), "{}", d.body_text);
        assert!(d.body_text.contains("Tổng điểm: chưa có dữ liệu") || d.body_text.contains("của các nhóm có dữ liệu"), "{}", d.body_text);
        assert!(!d.body_text.contains("xếp loại"), "{}", d.body_text);
        assert!(!d.body_text.contains("(0/0"), "no counts from nothing: {}", d.body_text);
        ctx.finish().await;
    }
}
