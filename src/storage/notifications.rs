//! Alert notifications: written with the finding transition that causes
//! them, turned into grouped outbox e-mails (or cancelled) by the grouping
//! worker in one transaction; per-recipient send times; source outages.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::codec::{from_ts, from_ts_opt, json, parse, ts};
use super::{BeginWrite, NewEmail, Result, Store, with_pool};
use crate::domain::{EmailAddress, Language, Severity};
use crate::findings::EventKind;

/// A notification to write with a finding transition (the finding's id is
/// filled in by storage).
#[derive(Clone, Debug, PartialEq)]
pub struct NewNotification {
    pub kind: EventKind,
    pub recipient: EmailAddress,
    pub language: Language,
    /// The source whose data the finding's rule reads.
    pub source: String,
    pub severity: Severity,
    pub evidence: serde_json::Value,
}

/// A notification as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notification {
    pub id: i64,
    pub finding_id: i64,
    pub kind: EventKind,
    pub recipient: EmailAddress,
    pub language: Language,
    pub source: String,
    pub severity: Severity,
    pub evidence: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// `pending`, `sent` or `cancelled`.
    pub status: String,
    pub decided_at: Option<DateTime<Utc>>,
    pub email_id: Option<i64>,
}

/// A finding a recipient was last told is open and that still is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenToldFinding {
    pub recipient: EmailAddress,
    pub language: Language,
    pub finding_id: i64,
    pub source: String,
}

pub(super) fn language_of(s: &str) -> Language {
    if s == "en" {
        Language::En
    } else {
        Language::Vi
    }
}

fn address(s: &str) -> Result<EmailAddress> {
    EmailAddress::parse(s)
        .map_err(|e| super::StorageError::Corrupt(format!("column notifications.recipient: {e}")))
}

fn kind_of(s: &str) -> Result<EventKind> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| super::StorageError::Corrupt(format!("column notifications.kind: {e}")))
}

/// The statement that writes one notification; run it inside the
/// transaction of the finding change that causes it.
macro_rules! insert_notification_query {
    ($finding_id:expr, $n:expr, $now:expr) => {{
        let n: &$crate::storage::NewNotification = $n;
        sqlx::query(
            "INSERT INTO notifications (finding_id, kind, recipient, language, source, severity,
                                        evidence, created_at, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending')",
        )
        .bind($finding_id)
        .bind(n.kind.as_str())
        .bind(n.recipient.as_str().to_owned())
        .bind(n.language.as_str())
        .bind(n.source.clone())
        .bind(n.severity.as_str())
        .bind(n.evidence.to_string())
        .bind($crate::storage::codec::ts($now))
    }};
}
pub(super) use insert_notification_query;

const COLUMNS: &str = "id, finding_id, kind, recipient, language, source, severity, evidence,
     created_at, status, decided_at, email_id";

macro_rules! notification_from_row {
    ($r:expr) => {{
        let r = $r;
        let kind: String = r.try_get("kind")?;
        let language: String = r.try_get("language")?;
        let severity: String = r.try_get("severity")?;
        let evidence: String = r.try_get("evidence")?;
        Ok::<_, super::StorageError>(Notification {
            id: r.try_get("id")?,
            finding_id: r.try_get("finding_id")?,
            kind: kind_of(&kind)?,
            recipient: address(&r.try_get::<String, _>("recipient")?)?,
            language: language_of(&language),
            source: r.try_get("source")?,
            severity: parse("notifications.severity", &severity)?,
            evidence: json("notifications.evidence", &evidence)?,
            created_at: from_ts(r.try_get("created_at")?),
            status: r.try_get("status")?,
            decided_at: from_ts_opt(r.try_get("decided_at")?),
            email_id: r.try_get("email_id")?,
        })
    }};
}

/// Inside a transaction: sets outbox row `$email_id`'s `thread_refs` to the
/// Message-IDs of the first e-mails that told `$recipient` of each of
/// `$findings`, oldest first, so that the e-mail threads with them.
macro_rules! thread_refs {
    ($tx:expr, $findings:expr, $recipient:expr, $email_id:expr) => {{
        let findings: &[i64] = $findings;
        let recipient: &EmailAddress = $recipient;
        let email_id: i64 = $email_id;
        let mut refs: Vec<(i64, String)> = Vec::new();
        for f in findings {
            let first: Option<(i64, String)> = sqlx::query_as(
                "SELECT o.id, o.message_id FROM notifications n JOIN outbox o ON o.id = n.email_id
                 WHERE n.finding_id = $1 AND n.recipient = $2 AND n.status = 'sent' AND o.id <> $3
                 ORDER BY o.id LIMIT 1",
            )
            .bind(*f)
            .bind(recipient.as_str())
            .bind(email_id)
            .fetch_optional(&mut *$tx)
            .await?;
            refs.extend(first);
        }
        refs.sort();
        refs.dedup();
        if !refs.is_empty() {
            let refs: Vec<String> = refs.into_iter().map(|(_, m)| m).collect();
            sqlx::query("UPDATE outbox SET thread_refs = $1 WHERE id = $2")
                .bind(refs.join(" "))
                .bind(email_id)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

impl Store {
    /// Notifications waiting for the grouping worker, oldest first.
    pub async fn pending_notifications(&self) -> Result<Vec<Notification>> {
        with_pool!(self, |pool| {
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM notifications WHERE status = 'pending' ORDER BY id"
            ));
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter().map(|r| notification_from_row!(r)).collect()
        })
    }

    /// Every notification, oldest first (for tests and inspection).
    pub async fn notifications(&self) -> Result<Vec<Notification>> {
        with_pool!(self, |pool| {
            let sql =
                sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM notifications ORDER BY id"));
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter().map(|r| notification_from_row!(r)).collect()
        })
    }

    /// When each recipient was last sent an alert e-mail.
    pub async fn alert_recipients(&self) -> Result<BTreeMap<EmailAddress, DateTime<Utc>>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query("SELECT recipient, last_sent_at FROM alert_recipients")
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        address(&r.try_get::<String, _>("recipient")?)?,
                        from_ts(r.try_get("last_sent_at")?),
                    ))
                })
                .collect()
        })
    }

    /// Per recipient and finding, the last notification sent, when it told
    /// of an opening (opened, reopened, escalated, silence over) and the
    /// finding is still open: what a repeat reminds of.
    pub async fn open_told_findings(&self) -> Result<Vec<OpenToldFinding>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT n.recipient, n.language, n.finding_id, n.source, n.kind
                 FROM notifications n JOIN findings f ON f.id = n.finding_id
                 WHERE n.status = 'sent' AND f.state = 'open'
                   AND n.id = (SELECT MAX(m.id) FROM notifications m
                               WHERE m.finding_id = n.finding_id AND m.recipient = n.recipient
                                 AND m.status = 'sent')
                 ORDER BY n.recipient, n.finding_id",
            )
            .fetch_all(pool)
            .await?;
            let mut out = Vec::new();
            for r in &rows {
                let kind: String = r.try_get("kind")?;
                if !matches!(
                    kind_of(&kind)?,
                    EventKind::Opened
                        | EventKind::Reopened
                        | EventKind::SeverityChanged
                        | EventKind::SilenceExpired
                ) {
                    continue;
                }
                let language: String = r.try_get("language")?;
                out.push(OpenToldFinding {
                    recipient: address(&r.try_get::<String, _>("recipient")?)?,
                    language: language_of(&language),
                    finding_id: r.try_get("finding_id")?,
                    source: r.try_get("source")?,
                });
            }
            Ok(out)
        })
    }

    /// Who has been told (or is about to be) of each active finding: the
    /// audience its resolution is announced to.
    pub async fn finding_audiences(&self) -> Result<HashMap<i64, Vec<(EmailAddress, Language)>>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT n.finding_id, n.recipient, MIN(n.language) AS language
                 FROM notifications n JOIN findings f ON f.id = n.finding_id
                 WHERE f.state <> 'resolved' AND n.status IN ('sent', 'pending')
                 GROUP BY n.finding_id, n.recipient
                 ORDER BY n.finding_id, MIN(n.id)",
            )
            .fetch_all(pool)
            .await?;
            let mut out: HashMap<i64, Vec<(EmailAddress, Language)>> = HashMap::new();
            for r in &rows {
                let language: String = r.try_get("language")?;
                out.entry(r.try_get("finding_id")?).or_default().push((
                    address(&r.try_get::<String, _>("recipient")?)?,
                    language_of(&language),
                ));
            }
            Ok(out)
        })
    }

    /// Decides a recipient's pending notifications in one transaction: the
    /// e-mail (if any) is queued, `include` marked sent with it, `cancel`
    /// cancelled, and the recipient's last send time set. Returns false,
    /// changing nothing, when one of them was no longer pending (another
    /// instance decided it first).
    pub async fn commit_alert_group(
        &self,
        recipient: &EmailAddress,
        include: &[i64],
        cancel: &[i64],
        email: Option<&NewEmail>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let email_id: Option<i64> = match email {
                Some(e) => {
                    super::outbox::enqueue_query!(e, now)
                        .execute(&mut *tx)
                        .await?;
                    let id: i64 = sqlx::query_scalar("SELECT id FROM outbox WHERE dedup_key = $1")
                        .bind(&e.dedup_key)
                        .fetch_one(&mut *tx)
                        .await?;
                    let findings: Vec<i64> = {
                        let mut v = Vec::new();
                        for n in include {
                            v.extend(
                                sqlx::query_scalar::<_, i64>(
                                    "SELECT finding_id FROM notifications WHERE id = $1",
                                )
                                .bind(*n)
                                .fetch_optional(&mut *tx)
                                .await?,
                            );
                        }
                        v
                    };
                    thread_refs!(&mut *tx, &findings, recipient, id);
                    Some(id)
                }
                None => None,
            };
            for (ids, status) in [(include, "sent"), (cancel, "cancelled")] {
                for id in ids {
                    let n = sqlx::query(
                        "UPDATE notifications SET status = $1, decided_at = $2, email_id = $3
                         WHERE id = $4 AND status = 'pending' AND recipient = $5",
                    )
                    .bind(status)
                    .bind(ts(now))
                    .bind(if status == "sent" { email_id } else { None })
                    .bind(*id)
                    .bind(recipient.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n != 1 {
                        tx.rollback().await?;
                        return Ok(false);
                    }
                }
            }
            if email.is_some() {
                sqlx::query(
                    "INSERT INTO alert_recipients (recipient, last_sent_at) VALUES ($1, $2)
                     ON CONFLICT (recipient) DO UPDATE SET last_sent_at = excluded.last_sent_at",
                )
                .bind(recipient.as_str())
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Queues a repeat e-mail and moves the recipient's last send time from
    /// `last_sent_at` to `now`, in one transaction. Returns false, changing
    /// nothing, if the last send time was no longer `last_sent_at`.
    pub async fn commit_alert_repeat(
        &self,
        recipient: &EmailAddress,
        last_sent_at: DateTime<Utc>,
        findings: &[i64],
        email: &NewEmail,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(
                "UPDATE alert_recipients SET last_sent_at = $1 WHERE recipient = $2 AND last_sent_at = $3",
            )
            .bind(ts(now))
            .bind(recipient.as_str())
            .bind(ts(last_sent_at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
            super::outbox::enqueue_query!(email, now)
                .execute(&mut *tx)
                .await?;
            let id: i64 = sqlx::query_scalar("SELECT id FROM outbox WHERE dedup_key = $1")
                .bind(&email.dedup_key)
                .fetch_one(&mut *tx)
                .await?;
            thread_refs!(&mut *tx, findings, recipient, id);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Source outages announced and not yet over, as `(source, down_since)`.
    pub async fn open_source_outages(&self) -> Result<Vec<(String, DateTime<Utc>)>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT source, down_since FROM source_outages WHERE back_at IS NULL ORDER BY source",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| Ok((r.try_get("source")?, from_ts(r.try_get("down_since")?))))
                .collect()
        })
    }

    /// Records that a source is down since `down_since` and queues its notices,
    /// once per outage.
    pub async fn record_source_down(
        &self,
        source: &str,
        down_since: DateTime<Utc>,
        emails: &[NewEmail],
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.record_outage_step(OutageStep::Down, source, down_since, emails, now)
            .await
    }

    /// Records that an outage is over and queues its notices, once.
    pub async fn record_source_back(
        &self,
        source: &str,
        down_since: DateTime<Utc>,
        emails: &[NewEmail],
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.record_outage_step(OutageStep::Back, source, down_since, emails, now)
            .await
    }

    /// Records one step of an outage and, in the same transaction, queues
    /// its e-mails, only if this call recorded it: a repeat is a no-op.
    async fn record_outage_step(
        &self,
        step: OutageStep,
        source: &str,
        down_since: DateTime<Utc>,
        emails: &[NewEmail],
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let sql = match step {
                OutageStep::Down => {
                    "INSERT INTO source_outages (source, down_since) VALUES ($1, $2)
                     ON CONFLICT (source, down_since) DO NOTHING"
                }
                OutageStep::Back => {
                    "UPDATE source_outages SET back_at = $3
                     WHERE source = $1 AND down_since = $2 AND back_at IS NULL"
                }
            };
            let statement = sqlx::query(sql).bind(source).bind(ts(down_since));
            let statement = match step {
                OutageStep::Down => statement,
                OutageStep::Back => statement.bind(ts(now)),
            };
            let recorded = statement.execute(&mut *tx).await?.rows_affected() == 1;
            if recorded {
                for e in emails {
                    super::outbox::enqueue_query!(e, now)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }
}

/// The two steps of a source outage.
#[derive(Clone, Copy, Debug)]
enum OutageStep {
    Down,
    Back,
}
