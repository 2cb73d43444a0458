//! The [`Mailer`]: turns an outbox row into a MIME message and hands it to
//! a transport (SMTP, `.eml` files, or memory for tests).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

use super::sent::{SendError, domain_of};
use super::smtp::SmtpSender;
use crate::config::{EmailSettings, TransportKind};
use crate::storage::OutboxEmail;

#[derive(Clone)]
enum Transport {
    Smtp(Arc<SmtpSender>),
    File(PathBuf),
    Memory(Arc<Mutex<Vec<Vec<u8>>>>),
}

#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
    timeout: Duration,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::File(_) => "file",
            Transport::Memory(_) => "memory",
        };
        f.debug_struct("Mailer").field("transport", &kind).finish()
    }
}

impl Mailer {
    pub fn from_settings(s: &EmailSettings) -> anyhow::Result<Mailer> {
        let from: Mailbox = s.from.parse()?;
        let transport = match s.transport {
            TransportKind::File => Transport::File(s.file_dir.clone()),
            // Every exchange (connect, TLS, login, the transaction) runs
            // inside `send`'s timeout; see `notify::smtp` for the pool.
            TransportKind::Smtp => Transport::Smtp(Arc::new(SmtpSender::from_settings(s)?)),
        };
        Ok(Mailer {
            from,
            transport,
            timeout: s.send_timeout,
        })
    }

    /// A mailer that keeps messages in memory, for tests.
    pub fn memory(from: &str) -> (Mailer, Arc<Mutex<Vec<Vec<u8>>>>) {
        let sink = Arc::new(Mutex::new(Vec::new()));
        let mailer = Mailer {
            from: from.parse().expect("valid test sender"),
            transport: Transport::Memory(sink.clone()),
            timeout: Duration::from_secs(5),
        };
        (mailer, sink)
    }

    /// The domain of the sender, used for Message-IDs.
    pub fn from_domain(&self) -> String {
        self.from.email.domain().to_owned()
    }

    pub fn transport_name(&self) -> &'static str {
        match self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::File(_) => "file",
            Transport::Memory(_) => "memory",
        }
    }

    pub fn build_message(&self, e: &OutboxEmail) -> Result<Message, SendError> {
        let header = |name: &'static str, value: String| {
            HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
        };
        let mut b = Message::builder()
            .from(self.from.clone())
            .subject(e.subject.clone())
            .message_id(Some(e.message_id.clone()))
            .date_now()
            // Machine-sent (RFC 3834): out-of-office replies and other
            // automatic answers of thousands of unit heads stay away.
            .raw_header(header("Auto-Submitted", "auto-generated".into()))
            .raw_header(header("X-Auto-Response-Suppress", "All".into()))
            // One list, so that readers can filter and servers recognise it.
            .raw_header(header(
                "List-Id",
                format!("par-monitor <par-monitor.{}>", self.from_domain()),
            ));
        // A reminder or resolution threads with the finding's first alert.
        if let Some(first) = e.thread_refs.first() {
            b = b
                .in_reply_to(first.clone())
                .references(e.thread_refs.join(" "));
        }
        if e.recipients.is_empty() {
            return Err(SendError::Permanent("no recipients".into()));
        }
        for r in &e.recipients {
            let addr: lettre::Address = r.parse().map_err(|_| {
                SendError::Permanent(format!("invalid recipient address @{}", domain_of(r)))
            })?;
            b = b.to(Mailbox::new(None, addr));
        }
        b.multipart(body(e)?)
            .map_err(|err| SendError::Permanent(format!("cannot build message: {err}")))
    }

    /// Sends one e-mail, bounded by the configured timeout as a whole.
    pub async fn send(&self, e: &OutboxEmail) -> Result<(), SendError> {
        let message = self.build_message(e)?;
        match tokio::time::timeout(self.timeout, self.deliver(message, e)).await {
            Ok(r) => r,
            Err(_) => Err(SendError::Transient(format!(
                "no answer within {}s",
                self.timeout.as_secs()
            ))),
        }
    }

    async fn deliver(&self, message: Message, e: &OutboxEmail) -> Result<(), SendError> {
        match &self.transport {
            Transport::Smtp(t) => t.send(&message).await,
            Transport::File(dir) => write_eml(dir, &file_stem(&e.message_id), &message.formatted())
                .await
                .map_err(|err| {
                    SendError::Transient(format!("cannot write {}: {err}", dir.display()))
                }),
            Transport::Memory(sink) => {
                sink.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(message.formatted());
                Ok(())
            }
        }
    }
}

/// The text and HTML alternatives. With inline parts, the HTML and its
/// parts form a multipart/related whole (RFC 2387), so mail readers show the
/// parts where the HTML refers to them (`cid:`) rather than as attachments:
///
/// ```text
/// multipart/alternative
/// ├── text/plain
/// └── multipart/related
///     ├── text/html
///     └── image/png (Content-ID, inline)
/// ```
fn body(e: &OutboxEmail) -> Result<MultiPart, SendError> {
    if e.parts.is_empty() {
        return Ok(MultiPart::alternative_plain_html(
            e.body_text.clone(),
            e.body_html.clone(),
        ));
    }
    let mut related = MultiPart::related().singlepart(SinglePart::html(e.body_html.clone()));
    for p in &e.parts {
        let mime = ContentType::parse(&p.mime).map_err(|err| {
            SendError::Permanent(format!(
                "inline part {}: bad type {}: {err}",
                p.content_id, p.mime
            ))
        })?;
        related = related
            .singlepart(Attachment::new_inline(p.content_id.clone()).body(p.bytes.clone(), mime));
    }
    Ok(MultiPart::alternative()
        .singlepart(SinglePart::plain(e.body_text.clone()))
        .multipart(related))
}

/// The file name for a message: derived from its Message-ID, so a retried
/// send overwrites the same file instead of adding a second one.
fn file_stem(message_id: &str) -> String {
    message_id
        .trim_matches(['<', '>'])
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes atomically: a reader never sees half a message.
async fn write_eml(dir: &std::path::Path, stem: &str, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let tmp = dir.join(format!(".{stem}.tmp"));
    let path = dir.join(format!("{stem}.eml"));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, &path).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::InlinePart;
    use mail_parser::{MessageParser, MimeHeaders, PartType};

    fn email(parts: Vec<InlinePart>) -> OutboxEmail {
        let t = chrono::DateTime::from_timestamp(0, 0).unwrap();
        OutboxEmail {
            id: 1,
            dedup_key: "k".into(),
            message_id: "<k@vpubnd.example>".into(),
            kind: "digest_daily".into(),
            recipients: vec!["chutich@ubnd.example".into()],
            subject: "Bản tin ngày 19/08/2026".into(),
            body_text: "Tổng điểm".into(),
            body_html: "<img src=\"cid:chart@vpubnd.example\">".into(),
            status: crate::storage::OutboxStatus::Pending,
            attempts: 1,
            next_attempt_at: t,
            last_error: None,
            created_at: t,
            sent_at: None,
            parts,
            thread_refs: Vec::new(),
        }
    }

    #[test]
    fn machine_sent_headers_and_a_thread() {
        let (mailer, _) = Mailer::memory("par-monitor@vpubnd.example");
        let mut e = email(Vec::new());
        e.thread_refs = vec![
            "<first@vpubnd.example>".into(),
            "<other@vpubnd.example>".into(),
        ];
        let raw = mailer.build_message(&e).unwrap().formatted();
        let m = MessageParser::default().parse(&raw).unwrap();
        let text = |name: &str| {
            m.header_raw(name)
                .map(|v| v.trim().to_owned())
                .unwrap_or_else(|| panic!("no {name}"))
        };
        assert_eq!(text("Auto-Submitted"), "auto-generated");
        assert_eq!(text("X-Auto-Response-Suppress"), "All");
        assert_eq!(text("List-Id"), "par-monitor <par-monitor.vpubnd.example>");
        assert_eq!(m.in_reply_to().as_text(), Some("first@vpubnd.example"));
        let refs: Vec<String> = m
            .references()
            .as_text_list()
            .unwrap_or_default()
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(refs, ["first@vpubnd.example", "other@vpubnd.example"]);
        // Without a thread: no In-Reply-To at all.
        let raw = mailer
            .build_message(&email(Vec::new()))
            .unwrap()
            .formatted();
        let m = MessageParser::default().parse(&raw).unwrap();
        assert!(m.in_reply_to().is_empty());
    }

    fn content_types(raw: &[u8]) -> Vec<String> {
        let m = MessageParser::default().parse(raw).expect("valid MIME");
        m.parts
            .iter()
            .map(|p| {
                let ct = p.content_type().expect("every part has a type");
                format!("{}/{}", ct.c_type, ct.c_subtype.as_deref().unwrap_or(""))
            })
            .collect()
    }

    #[test]
    fn inline_parts_make_the_html_multipart_related() {
        let (mailer, _) = Mailer::memory("par-monitor <par-monitor@vpubnd.example>");
        let plain = mailer
            .build_message(&email(Vec::new()))
            .unwrap()
            .formatted();
        assert_eq!(
            content_types(&plain),
            ["multipart/alternative", "text/plain", "text/html"]
        );
        let png = vec![0x89, b'P', b'N', b'G', 1, 2, 3];
        let part = InlinePart {
            content_id: "chart@vpubnd.example".into(),
            mime: "image/png".into(),
            bytes: png.clone(),
        };
        let raw = mailer
            .build_message(&email(vec![part]))
            .unwrap()
            .formatted();
        assert_eq!(
            content_types(&raw),
            [
                "multipart/alternative",
                "text/plain",
                "multipart/related",
                "text/html",
                "image/png"
            ]
        );
        let m = MessageParser::default().parse(&raw).unwrap();
        let image = &m.parts[4];
        assert_eq!(image.content_id(), Some("chart@vpubnd.example"));
        assert!(
            matches!(&image.body, PartType::InlineBinary(b) | PartType::Binary(b) if b.as_ref() == png.as_slice())
        );
        let bad = InlinePart {
            content_id: "x".into(),
            mime: "not a type".into(),
            bytes: Vec::new(),
        };
        assert!(matches!(
            mailer.build_message(&email(vec![bad])),
            Err(SendError::Permanent(_))
        ));
    }
}
