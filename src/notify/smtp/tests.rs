use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[test]
fn addresses_in_server_replies_keep_only_their_domain() {
    let table = [
        (
            "550 5.1.1 <ghost@h44-100.example>: no such user",
            "550 5.1.1 <***@h44-100.example>: no such user",
        ),
        (
            "rejected: a.b+c@x.vn, d@y.vn",
            "rejected: ***@x.vn, ***@y.vn",
        ),
        (
            "Người nhận lanhdao@sở.vn bị từ chối",
            "Người nhận ***@sở.vn bị từ chối",
        ),
        ("no address here @ all", "no address here @ all"),
        ("", ""),
    ];
    for (input, expected) in table {
        assert_eq!(redact_addresses(input), expected, "{input}");
    }
}

#[test]
fn a_5xx_is_permanent_only_for_a_recipient_or_the_content() {
    use Cause::*;
    use Stage::*;
    // (stage, cause, permanent?)
    let table = [
        (Recipient, Reply(550), true),
        (Recipient, Reply(553), true),
        (Content, Reply(554), true),
        (Content, Reply(552), true),
        (Recipient, Reply(450), false),
        (Recipient, Reply(452), false),
        (Content, Reply(451), false),
        (Sender, Reply(550), false),
        (Sender, Reply(421), false),
        (Connect, Reply(554), false),
        (Connect, Reply(421), false),
        (Login, Reply(535), false),
        (Login, Reply(530), false),
        (Connect, Network, false),
        (Content, Network, false),
        (Connect, Tls, false),
        (Connect, Protocol, false),
        (Recipient, Protocol, false),
        (Connect, Client, false),
        (Login, Client, false),
    ];
    for (stage, cause, permanent) in table {
        assert_eq!(is_permanent(stage, cause), permanent, "{stage:?} {cause:?}");
    }
}

/// A scripted SMTP server on loopback: `reply` answers each command
/// line (and `.` for the end of the content); `None` means hang, an
/// empty answer means hang up.
struct FakeServer {
    port: u16,
    connections: Arc<AtomicUsize>,
    messages: Arc<AtomicUsize>,
}

type Reply = fn(&str) -> Option<&'static str>;

async fn fake_server(greeting: &'static str, reply: Reply) -> FakeServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let messages = Arc::new(AtomicUsize::new(0));
    let (c, m) = (connections.clone(), messages.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            c.fetch_add(1, Ordering::SeqCst);
            let m = m.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                if write.write_all(greeting.as_bytes()).await.is_err() {
                    return;
                }
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data && line != "." {
                        continue;
                    }
                    let key = if in_data { "." } else { line.as_str() };
                    if key == "QUIT" {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    }
                    let answer = reply(key);
                    if key == "." {
                        in_data = false;
                        if answer.is_some_and(|a| a.starts_with('2')) {
                            m.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    if key == "DATA" && answer.is_some_and(|a| a.starts_with("354")) {
                        in_data = true;
                    }
                    match answer {
                        // An empty answer: the server hangs up.
                        Some("") => return,
                        Some(a) => {
                            if write.write_all(a.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                        None => std::future::pending::<()>().await,
                    }
                }
            });
        }
    });
    FakeServer {
        port,
        connections,
        messages,
    }
}

fn accept_all(cmd: &str) -> Option<&'static str> {
    Some(if cmd.starts_with("EHLO") {
        "250-fake\r\n250 8BITMIME\r\n"
    } else if cmd == "DATA" {
        "354 go ahead\r\n"
    } else {
        "250 ok\r\n"
    })
}

fn settings(port: u16, tls: SmtpTls) -> EmailSettings {
    let mut s = EmailSettings::default();
    s.smtp.host = Some("127.0.0.1".into());
    s.smtp.port = Some(port);
    s.smtp.tls = tls;
    s.send_timeout = Duration::from_secs(5);
    s
}

fn message(to: &[&str]) -> Message {
    let mut b = Message::builder()
        .from("par-monitor <par-monitor@vpubnd.example>".parse().unwrap())
        .subject("Cảnh báo");
    for t in to {
        b = b.to(t.parse().unwrap());
    }
    b.body(String::from("Nội dung")).unwrap()
}

async fn send_via(server: &FakeServer, tls: SmtpTls, to: &[&str]) -> Result<(), SendError> {
    let sender = SmtpSender::from_settings(&settings(server.port, tls)).unwrap();
    sender.send(&message(to)).await
}

fn permanent(r: Result<(), SendError>) -> String {
    match r {
        Err(SendError::Permanent(e)) => e,
        other => panic!("expected a permanent failure, got {other:?}"),
    }
}

fn transient(r: Result<(), SendError>) -> String {
    match r {
        Err(SendError::Transient(e)) => e,
        other => panic!("expected a transient failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_refused_recipient_is_permanent_and_names_only_its_domain() {
    fn reply(cmd: &str) -> Option<&'static str> {
        if cmd.starts_with("RCPT TO:<ghost@") {
            Some("550 5.1.1 <ghost@h44-100.example>: no such user\r\n")
        } else {
            accept_all(cmd)
        }
    }
    let server = fake_server("220 fake\r\n", reply).await;
    let e = permanent(
        send_via(
            &server,
            SmtpTls::None,
            &["lanhdao@h44.example", "ghost@h44-100.example"],
        )
        .await,
    );
    assert!(e.contains("recipient refused @h44-100.example"), "{e}");
    assert!(e.contains("550") && e.contains("no such user"), "{e}");
    assert!(!e.contains("ghost"), "no full address: {e}");
    assert_eq!(server.messages.load(Ordering::SeqCst), 0, "nothing sent");
}

#[tokio::test]
async fn a_refused_content_is_permanent() {
    fn reply(cmd: &str) -> Option<&'static str> {
        if cmd == "." {
            Some("554 5.6.0 message rejected\r\n")
        } else {
            accept_all(cmd)
        }
    }
    let server = fake_server("220 fake\r\n", reply).await;
    let e = permanent(send_via(&server, SmtpTls::None, &["a@h44.example"]).await);
    assert!(e.starts_with("content refused"), "{e}");
}

#[tokio::test]
async fn a_4xx_for_a_recipient_is_transient() {
    fn reply(cmd: &str) -> Option<&'static str> {
        if cmd.starts_with("RCPT") {
            Some("451 4.3.0 try again later\r\n")
        } else {
            accept_all(cmd)
        }
    }
    let server = fake_server("220 fake\r\n", reply).await;
    let e = transient(send_via(&server, SmtpTls::None, &["a@h44.example"]).await);
    assert!(e.contains("451"), "{e}");
}

#[tokio::test]
async fn a_refused_sender_is_transient_it_is_our_configuration() {
    fn reply(cmd: &str) -> Option<&'static str> {
        if cmd.starts_with("MAIL") {
            Some("550 5.7.1 sender not allowed\r\n")
        } else {
            accept_all(cmd)
        }
    }
    let server = fake_server("220 fake\r\n", reply).await;
    let e = transient(send_via(&server, SmtpTls::None, &["a@h44.example"]).await);
    assert!(e.starts_with("sender refused"), "{e}");
}

#[tokio::test]
async fn a_server_refusing_service_at_the_greeting_is_transient() {
    let server = fake_server("554 5.3.2 no service for you\r\n", accept_all).await;
    let e = transient(send_via(&server, SmtpTls::None, &["a@h44.example"]).await);
    assert!(e.starts_with("connecting"), "{e}");
}

#[tokio::test]
async fn refused_credentials_are_transient() {
    fn reply(cmd: &str) -> Option<&'static str> {
        if cmd.starts_with("EHLO") {
            Some("250-fake\r\n250 AUTH PLAIN LOGIN\r\n")
        } else if cmd.starts_with("AUTH") {
            Some("535 5.7.8 authentication failed\r\n")
        } else {
            accept_all(cmd)
        }
    }
    let server = fake_server("220 fake\r\n", reply).await;
    let mut s = settings(server.port, SmtpTls::None);
    s.smtp.username = Some("par-monitor".into());
    s.smtp.password = Some(crate::config::Secret::new("hunter2"));
    let sender = SmtpSender::from_settings(&s).unwrap();
    let e = transient(sender.send(&message(&["a@h44.example"])).await);
    assert!(e.starts_with("logging in") && e.contains("535"), "{e}");
    assert!(!e.contains("hunter2"));
}

#[tokio::test]
async fn no_server_is_transient() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sender = SmtpSender::from_settings(&settings(port, SmtpTls::None)).unwrap();
    let e = transient(sender.send(&message(&["a@h44.example"])).await);
    assert!(e.starts_with("connecting"), "{e}");
}

#[tokio::test]
async fn a_garbled_reply_is_transient() {
    fn reply(cmd: &str) -> Option<&'static str> {
        if cmd.starts_with("MAIL") {
            Some("what?\r\n")
        } else {
            accept_all(cmd)
        }
    }
    let server = fake_server("220 fake\r\n", reply).await;
    transient(send_via(&server, SmtpTls::None, &["a@h44.example"]).await);
}

#[tokio::test]
async fn starttls_not_offered_is_transient() {
    let server = fake_server("220 fake\r\n", accept_all).await;
    let e = transient(send_via(&server, SmtpTls::Starttls, &["a@h44.example"]).await);
    assert!(e.contains("STARTTLS"), "{e}");
}

#[tokio::test]
async fn implicit_tls_against_a_plain_server_is_transient() {
    let server = fake_server("220 fake\r\n", accept_all).await;
    let e = transient(send_via(&server, SmtpTls::Tls, &["a@h44.example"]).await);
    assert!(e.starts_with("connecting"), "{e}");
}

#[tokio::test]
async fn connections_are_reused_after_a_clean_send() {
    let server = fake_server("220 fake\r\n", accept_all).await;
    let sender = SmtpSender::from_settings(&settings(server.port, SmtpTls::None)).unwrap();
    for _ in 0..3 {
        sender.send(&message(&["a@h44.example"])).await.unwrap();
    }
    assert_eq!(server.messages.load(Ordering::SeqCst), 3);
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn pool_size_0_opens_a_connection_per_e_mail() {
    let server = fake_server("220 fake\r\n", accept_all).await;
    let mut s = settings(server.port, SmtpTls::None);
    s.smtp.pool_size = 0;
    let sender = SmtpSender::from_settings(&s).unwrap();
    for _ in 0..3 {
        sender.send(&message(&["a@h44.example"])).await.unwrap();
    }
    assert_eq!(server.connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_pooled_connection_the_server_dropped_is_replaced() {
    fn reply(cmd: &str) -> Option<&'static str> {
        if cmd == "NOOP" {
            Some("")
        } else {
            accept_all(cmd)
        }
    }
    let server = fake_server("220 fake\r\n", reply).await;
    let sender = SmtpSender::from_settings(&settings(server.port, SmtpTls::None)).unwrap();
    sender.send(&message(&["a@h44.example"])).await.unwrap();
    sender.send(&message(&["b@h44.example"])).await.unwrap();
    assert_eq!(server.messages.load(Ordering::SeqCst), 2);
    assert_eq!(server.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_send_cut_short_by_the_timeout_never_leaves_its_connection_for_the_next() {
    // The first content is never answered: the caller's timeout ends
    // that send mid-dialogue.
    static FIRST: AtomicUsize = AtomicUsize::new(0);
    fn reply(cmd: &str) -> Option<&'static str> {
        if cmd == "." && FIRST.fetch_add(1, Ordering::SeqCst) == 0 {
            None
        } else {
            accept_all(cmd)
        }
    }
    let server = fake_server("220 fake\r\n", reply).await;
    let sender = SmtpSender::from_settings(&settings(server.port, SmtpTls::None)).unwrap();
    let cut = tokio::time::timeout(
        Duration::from_millis(300),
        sender.send(&message(&["a@h44.example"])),
    )
    .await;
    assert!(cut.is_err(), "the first send hangs");
    sender.send(&message(&["b@h44.example"])).await.unwrap();
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        2,
        "the second send opened a fresh connection"
    );
    assert_eq!(server.messages.load(Ordering::SeqCst), 1);
}
