//! The [`Mailer`]: turns an outbox row into a MIME message and hands it to
//! a transport (SMTP, `.eml` files, or memory for tests).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

use super::smtp::SmtpSender;
use crate::config::{EmailSettings, TransportKind};
use crate::storage::OutboxEmail;

/// How a send failed: a transient failure is retried, a permanent one
/// dead-letters the e-mail at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("transient: {0}")]
    Transient(String),
    #[error("permanent: {0}")]
    Permanent(String),
}

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
        let mut b = Message::builder()
            .from(self.from.clone())
            .subject(e.subject.clone())
            .message_id(Some(e.message_id.clone()))
            .date_now();
        if e.recipients.is_empty() {
            return Err(SendError::Permanent("no recipients".into()));
        }
        for r in &e.recipients {
            let addr: lettre::Address = r.parse().map_err(|_| {
                SendError::Permanent(format!("invalid recipient address @{}", domain_of(r)))
            })?;
            b = b.to(Mailbox::new(None, addr));
        }
        b.multipart(MultiPart::alternative_plain_html(
            e.body_text.clone(),
            e.body_html.clone(),
        ))
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

pub(crate) fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or("?")
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
