//! E-mail through a real SMTP server process.

use chrono::Duration;
use mail_parser::{MessageParser, MimeHeaders};
use tokio_util::sync::CancellationToken;

use crate::helpers::{
    Backend, Ctx, Cycle, SENDER_ADDRESS, SmtpServer, cycle, free_port, poll_and_evaluate,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_arrive_over_smtp_as_valid_mime_with_vietnamese_subjects() {
    let server = SmtpServer::start().await;
    let mut ctx = Ctx::new(Backend::Sqlite).await.unwrap();
    ctx.mail_through_smtp(server.port);
    let app = ctx.app().await;
    let Cycle {
        grouped,
        sent: report,
        ..
    } = cycle(&app).await;
    assert_eq!(report.sent, grouped.emails);

    let messages = server.messages();
    assert_eq!(messages.len() as u32, grouped.emails);
    let parsed: Vec<_> = messages
        .iter()
        .map(|m| MessageParser::default().parse(m).expect("valid MIME"))
        .collect();
    let alert = parsed
        .iter()
        .find(|m| m.to().unwrap().first().unwrap().address() == Some("lanhdao@h44-100.example"))
        .expect("the commune's head got the alert");
    assert!(
        alert.subject().unwrap().contains("UBND phường Hồng Bàng"),
        "subject decoded with diacritics: {:?}",
        alert.subject()
    );
    assert_eq!(
        alert.from().unwrap().first().unwrap().address(),
        Some(SENDER_ADDRESS)
    );
    assert!(alert.content_type().unwrap().c_subtype.as_deref() == Some("alternative"));
    assert!(alert.body_text(0).unwrap().contains("Tiêu chí"));
    assert!(alert.body_html(0).unwrap().contains("<strong>"));
    // Each head gets only their own unit's alert.
    for m in &parsed {
        let to = m.to().unwrap();
        assert_eq!(to.iter().count(), 1);
        let addr = to.first().unwrap().address().unwrap();
        let code = addr
            .trim_start_matches("lanhdao@")
            .trim_end_matches(".example");
        assert!(
            m.body_text(0)
                .unwrap()
                .contains(&format!("({})", code.to_uppercase().replace('-', ".")))
        );
    }
    ctx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_alerts_survive_an_smtp_outage_and_arrive_once() {
    let port = free_port();
    let mut ctx = Ctx::new(Backend::Sqlite).await.unwrap();
    ctx.mail_through_smtp(port);
    let app = ctx.app().await;
    let never = CancellationToken::new();
    poll_and_evaluate(&app).await;
    let eval = app.group_alerts().await.unwrap();
    assert!(eval.emails > 0);

    // No server: every attempt fails transiently and is rescheduled.
    let first = app.deliver(&never).await.unwrap();
    assert_eq!((first.sent, first.retried), (0, eval.emails));
    let stats = app.store.outbox_stats().await.unwrap();
    assert_eq!(stats.pending as u32, eval.emails);

    // The server comes up; once the backoff has passed, each goes out once.
    let server = SmtpServer::start_on(port, tempfile::tempdir().unwrap()).await;
    let early = app.deliver(&never).await.unwrap();
    assert_eq!(early.sent, 0, "not before the backoff");
    ctx.clock.advance(Duration::minutes(2));
    let second = app.deliver(&never).await.unwrap();
    assert_eq!(second.sent, eval.emails);
    ctx.clock.advance(Duration::hours(2));
    assert_eq!(app.deliver(&never).await.unwrap().sent, 0);
    assert_eq!(server.messages().len() as u32, eval.emails);
    let rows = app.store.outbox().await.unwrap();
    assert!(
        rows.iter().all(|r| r.status == "sent" && r.attempts == 2),
        "{rows:?}"
    );
    ctx.finish().await;
}
