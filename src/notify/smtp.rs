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

use super::sent::{SendError, domain_of};
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
    let mut text = redact_addresses(&format!("{what}: {e}"));
    if crate::systemd::refused_by_sandbox(e) {
        text = format!("{text}: {}", crate::systemd::SANDBOX_REFUSAL);
    }
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
mod tests;
