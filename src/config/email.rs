//! `[email]`: the transport, the sender, the SMTP server, the outbox's
//! timing, and who is told of what (the routes and grouping are in
//! `alerts`).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Secret;
use super::alerts::{self, GroupingSettings, Route, default_routes};
use crate::domain::{EmailAddress, Language, Recipient};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// Write each e-mail as an `.eml` file (demo, staging).
    File,
    Smtp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP: only for a relay on the same host.
    None,
    Starttls,
    /// Implicit TLS (SMTPS, usually port 465).
    Tls,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailSettings {
    /// When false, e-mails are queued in the outbox but none is sent.
    pub enabled: bool,
    pub transport: TransportKind,
    /// The From header, e.g. `par-monitor <par-monitor@vpubnd.example>`.
    pub from: String,
    /// Where the file transport writes `.eml` files.
    pub file_dir: PathBuf,
    /// The inspection team: what `to = "inspection_team"` routes to, and
    /// the only recipients of unannounced-inspection proposals and of
    /// source-outage notices. Plain addresses (read in Vietnamese) or
    /// `{ address, language }` tables.
    #[serde(deserialize_with = "alerts::recipients")]
    pub inspection_team: Vec<Recipient>,
    /// The language of e-mails to unit heads (`to = "unit_head"`).
    pub unit_head_language: Language,
    /// Who is told of which finding; see config/par-monitor.toml.
    pub routes: Vec<Route>,
    /// Timing of grouped alert e-mails.
    pub grouping: GroupingSettings,
    /// A link to a finding's evidence, `{id}` replaced by the finding's id.
    pub evidence_url: Option<String>,
    /// How often the outbox worker looks for due e-mails (it also wakes when one is queued).
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// Attempts before an e-mail is dead-lettered.
    pub max_attempts: u32,
    /// Limit for one whole send (connect, SMTP dialogue, data).
    #[serde(with = "humantime_serde")]
    pub send_timeout: Duration,
    pub smtp: SmtpSettings,
}

impl EmailSettings {
    /// The inspection team's addresses.
    pub fn inspection_team_addresses(&self) -> Vec<EmailAddress> {
        self.inspection_team
            .iter()
            .map(|r| r.address.clone())
            .collect()
    }
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            transport: TransportKind::File,
            from: "par-monitor <par-monitor@localhost>".into(),
            file_dir: PathBuf::from("data/outbox"),
            inspection_team: Vec::new(),
            unit_head_language: Language::Vi,
            routes: default_routes(),
            grouping: GroupingSettings::default(),
            evidence_url: None,
            poll_interval: Duration::from_secs(10),
            max_attempts: 10,
            send_timeout: Duration::from_secs(60),
            smtp: SmtpSettings::default(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub password_file: Option<PathBuf>,
    pub pool_size: u32,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: None,
            port: None,
            tls: SmtpTls::Starttls,
            username: None,
            password: None,
            password_file: None,
            pool_size: 2,
        }
    }
}

impl EmailSettings {
    /// Problems with `[email]`, as `(key, message)`.
    pub(super) fn check(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.transport == TransportKind::Smtp && self.smtp.host.is_none() {
            out.push((
                "email.smtp.host".into(),
                "required when email.transport = \"smtp\"".into(),
            ));
        }
        if self.smtp.password.is_some() && self.smtp.username.is_none() {
            out.push((
                "email.smtp.username".into(),
                "required when a password is set".into(),
            ));
        }
        if let Err(e) = self.from.parse::<lettre::message::Mailbox>() {
            out.push((
                "email.from".into(),
                format!("expected a mailbox like `par-monitor <noreply@example.org>`: {e}"),
            ));
        }
        out.extend(alerts::check(
            &self.routes,
            &self.grouping,
            self.evidence_url.as_deref(),
        ));
        if self.max_attempts == 0 {
            out.push(("email.max_attempts".into(), "expected at least 1".into()));
        }
        out
    }
}
