//! SMTP delivery: lettre's connection primitives, a small pool of our own,
//! and the classification of failures into transient and permanent.
//!
//! Why not lettre's `AsyncSmtpTransport`: on tokio its timeout bounds only
//! the TCP connect, and a send cut short by our overall timeout hands its
//! half-used connection back to lettre's pool, where the next e-mail would
//! continue a dialogue out of step (a NOOP written into the middle of the
//! previous message's DATA, say). Here a connection lives inside the send's
//! future: a send that is cut short drops it, closing the socket, and only
//! a connection that finished its transaction cleanly goes back to the pool.
//!
//! Knowing the stage also makes the classification right. A refusal while
//! connecting, upgrading to TLS or logging in, or of our own sender
//! address, is about the server or our configuration, the same for every
//! e-mail: it is transient, retried with backoff while the operator fixes
//! it. A 5xx reply to a recipient (`RCPT`) or to the content (`DATA`) is
//! about this e-mail and will not change: it is permanent. A refused
//! recipient fails the whole e-mail, and nothing is sent to the others (the
//! transaction stops before `DATA`), so one outbox row is one outcome.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use super::mailer::{SendError, domain_of};
use crate::config::{EmailSettings, SmtpTls};

/// An idle connection is closed rather than reused after this long; servers
/// commonly drop idle clients after a few minutes.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a connection being closed waits for the answer to `QUIT`, so
/// that a server that stopped answering cannot turn a classified failure
/// into a timeout.
const QUIT_TIMEOUT: Duration = Duration::from_secs(2);

/// Says `QUIT` (briefly) and closes the socket.
async fn close(mut conn: AsyncSmtpConnection) {
    let _ = tokio::time::timeout(QUIT_TIMEOUT, conn.abort()).await;
}

/// Where in the SMTP exchange a failure happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// TCP connect, greeting, EHLO, STARTTLS or implicit TLS.
    Connect,
    /// AUTH.
    Login,
    /// `MAIL FROM`: our own sender address.
    Sender,
    /// `RCPT TO`: one of this e-mail's recipients.
    Recipient,
    /// `DATA` and the content.
    Content,
}

impl Stage {
    fn describe(self) -> &'static str {
        match self {
            Stage::Connect => "connecting",
            Stage::Login => "logging in",
            Stage::Sender => "sender refused",
            Stage::Recipient => "recipient refused",
            Stage::Content => "content refused",
        }
    }
}

/// What went wrong, whatever the stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    /// A negative reply from the server, with its code.
    Reply(u16),
    /// No connection, a reset, a timeout of the connect.
    Network,
    /// The TLS handshake or certificate check failed.
    Tls,
    /// A reply we could not parse, or an unexpected one.
    Protocol,
    /// The client refused: no common AUTH mechanism, no STARTTLS offered.
    Client,
}

/// The rule: permanent only when the server refused this e-mail (a
/// recipient or the content) with a 5xx reply. (An e-mail the server
/// cannot carry at all, a non-ASCII address without SMTPUTF8, is refused
/// as permanent by [`transaction`] before anything is sent.)
pub(crate) fn is_permanent(stage: Stage, cause: Cause) -> bool {
    match cause {
        Cause::Reply(code) => {
            (500..600).contains(&code) && matches!(stage, Stage::Recipient | Stage::Content)
        }
        Cause::Network | Cause::Tls | Cause::Protocol | Cause::Client => false,
    }
}

pub(crate) fn cause_of(e: &lettre::transport::smtp::Error) -> Cause {
    if let Some(code) = e.status() {
        Cause::Reply(u16::from(code))
    } else if e.is_tls() {
        Cause::Tls
    } else if e.is_response() {
        Cause::Protocol
    } else if e.is_client() {
        Cause::Client
    } else {
        Cause::Network
    }
}

/// A failure at a stage, turned into the [`SendError`] the outbox acts on.
/// The text names the stage and a refused recipient's domain only; any
/// address the server echoed is redacted too.
pub(crate) fn classify(
    stage: Stage,
    recipient: Option<&str>,
    e: &lettre::transport::smtp::Error,
) -> SendError {
    let what = match recipient {
        Some(r) => format!("{} @{}", stage.describe(), domain_of(r)),
        None => stage.describe().to_owned(),
    };
    let text = redact_addresses(&format!("{what}: {e}"));
    if is_permanent(stage, cause_of(e)) {
        SendError::Permanent(text)
    } else {
        SendError::Transient(text)
    }
}

/// Sends over SMTP, keeping up to `pool_size` connections open between
/// e-mails.
pub(crate) struct SmtpSender {
    host: String,
    port: u16,
    tls: SmtpTls,
    tls_parameters: Option<TlsParameters>,
    hello: ClientId,
    credentials: Option<Credentials>,
    connect_timeout: Duration,
    pool_size: usize,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl SmtpSender {
    pub(crate) fn from_settings(s: &EmailSettings) -> anyhow::Result<SmtpSender> {
        let host = s.smtp.host.clone().unwrap_or_else(|| "localhost".into());
        let port = s.smtp.port.unwrap_or(match s.smtp.tls {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        });
        let tls_parameters = match s.smtp.tls {
            SmtpTls::None => None,
            SmtpTls::Starttls | SmtpTls::Tls => Some(TlsParameters::new(host.clone())?),
        };
        let credentials = match (&s.smtp.username, &s.smtp.password) {
            (Some(user), Some(pw)) => Some(Credentials::new(user.clone(), pw.expose().to_owned())),
            _ => None,
        };
        Ok(SmtpSender {
            host,
            port,
            tls: s.smtp.tls,
            tls_parameters,
            hello: ClientId::default(),
            credentials,
            connect_timeout: s.send_timeout,
            pool_size: usize::try_from(s.smtp.pool_size).unwrap_or(1),
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Sends one message. The caller bounds the whole call with its
    /// timeout; if it gives up, the connection is dropped with this future
    /// and never reused.
    pub(crate) async fn send(&self, message: &Message) -> Result<(), SendError> {
        let envelope = message.envelope();
        let body = message.formatted();
        let mut conn = self.connection().await?;
        match transaction(&mut conn, envelope, &body).await {
            Ok(()) => {
                self.park(conn);
                Ok(())
            }
            Err(e) => {
                close(conn).await;
                Err(e)
            }
        }
    }

    /// A pooled connection that still answers NOOP, or a new one.
    async fn connection(&self) -> Result<AsyncSmtpConnection, SendError> {
        loop {
            let parked = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let Some((mut conn, since)) = parked else {
                break;
            };
            if since.elapsed() < IDLE_TIMEOUT
                && tokio::time::timeout(QUIT_TIMEOUT, conn.test_connected())
                    .await
                    .unwrap_or(false)
            {
                return Ok(conn);
            }
            close(conn).await;
        }
        self.connect().await
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let wrapper = match self.tls {
            SmtpTls::Tls => self.tls_parameters.clone(),
            SmtpTls::None | SmtpTls::Starttls => None,
        };
        let fail = |stage| move |e: lettre::transport::smtp::Error| classify(stage, None, &e);
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (self.host.as_str(), self.port),
            Some(self.connect_timeout),
            &self.hello,
            wrapper,
            None,
        )
        .await
        .map_err(fail(Stage::Connect))?;
        if let (SmtpTls::Starttls, Some(params)) = (self.tls, &self.tls_parameters) {
            conn.starttls(params.clone(), &self.hello)
                .await
                .map_err(fail(Stage::Connect))?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(fail(Stage::Login))?;
        }
        Ok(conn)
    }

    /// Returns a connection after a clean transaction, or closes it when
    /// the pool is full.
    fn park(&self, conn: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.pool_size {
            idle.push((conn, Instant::now()));
        }
        // Otherwise it is dropped here, which closes the socket.
    }
}

/// One mail transaction on an open connection: MAIL, RCPT for each
/// recipient, DATA and the content. Like lettre's own `send`, but each
/// failure knows its stage.
async fn transaction(
    conn: &mut AsyncSmtpConnection,
    envelope: &lettre::address::Envelope,
    body: &[u8],
) -> Result<(), SendError> {
    let mut options = Vec::new();
    let non_ascii_address = envelope
        .from()
        .into_iter()
        .chain(envelope.to())
        .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
    if non_ascii_address {
        if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err(SendError::Permanent(
                "an address is not ASCII and the server does not offer SMTPUTF8".into(),
            ));
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if !body.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            return Err(SendError::Permanent(
                "the content is 8-bit and the server does not offer 8BITMIME".into(),
            ));
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    conn.command(Mail::new(envelope.from().cloned(), options))
        .await
        .map_err(|e| classify(Stage::Sender, None, &e))?;
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), vec![]))
            .await
            .map_err(|e| classify(Stage::Recipient, Some(AsRef::<str>::as_ref(to)), &e))?;
    }
    conn.command(Data)
        .await
        .map_err(|e| classify(Stage::Content, None, &e))?;
    conn.message(body)
        .await
        .map_err(|e| classify(Stage::Content, None, &e))?;
    Ok(())
}

/// Replaces the local part of every e-mail address in `text` with `***`:
/// server replies often echo the refused address, and errors end up in
/// logs and in `outbox list`, which show a recipient's domain only.
pub(crate) fn redact_addresses(text: &str) -> String {
    let is_part = |c: char| !c.is_whitespace() && !"<>()[]\",;:'`".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut word_start = 0;
    for (i, c) in text.char_indices() {
        if !is_part(c) {
            out.push_str(&redact_word(&text[word_start..i]));
            out.push(c);
            word_start = i + c.len_utf8();
        }
    }
    out.push_str(&redact_word(&text[word_start..]));
    out
}

fn redact_word(word: &str) -> String {
    match word.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            format!("***@{domain}")
        }
        _ => word.to_owned(),
    }
}

#[cfg(test)]
mod tests {
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
}
