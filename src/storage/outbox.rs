//! The durable e-mail outbox.
//!
//! A row is written in the same transaction as the change that causes it.
//! The worker *claims* due rows by pushing their `next_attempt_at` one lease
//! into the future (and counting the attempt) before sending outside any
//! transaction; a worker that dies mid-send leaves the row to be retried
//! once the lease runs out. The claim clears `last_error`, so a pending row
//! with attempts, no error and a future `next_attempt_at` is one being sent
//! right now ([`OutboxEmail::in_flight`]). Nothing is deleted: sent and dead
//! rows stay as the record of what was sent.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::codec::{from_ts, from_ts_opt, json, ts};
use super::{Backend, NewEmail, Result, Store, with_pool};

/// Where an e-mail stands: waiting (or being sent), sent, or dead after
/// its last attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxStatus {
    Pending,
    Sent,
    Dead,
}

impl OutboxStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Dead => "dead",
        }
    }
}

impl std::str::FromStr for OutboxStatus {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "pending" => Ok(OutboxStatus::Pending),
            "sent" => Ok(OutboxStatus::Sent),
            "dead" => Ok(OutboxStatus::Dead),
            _ => Err(format!(
                "`{s}` is not an outbox status: expected pending, sent or dead"
            )),
        }
    }
}

impl std::fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status read back compares with the word it is stored as.
impl PartialEq<&str> for OutboxStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutboxEmail {
    pub id: i64,
    pub dedup_key: String,
    pub message_id: String,
    pub kind: String,
    pub recipients: Vec<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Parts shown inside the HTML (a digest's chart), in the order stored.
    pub parts: Vec<InlinePart>,
    /// The Message-IDs this e-mail answers, oldest first (`In-Reply-To`
    /// is the first, `References` all): the first alerts of its findings.
    pub thread_refs: Vec<String>,
}

/// A part of an e-mail shown inline in its HTML, which refers to it as
/// `cid:<content_id>`. Stored with its outbox row, in the same transaction.
#[derive(Clone, PartialEq, Eq)]
pub struct InlinePart {
    /// Without angle brackets, e.g. `chart-2026-08-19@vpubnd.example`.
    pub content_id: String,
    /// E.g. `image/png`.
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// Bytes are summarised, never dumped into logs.
impl std::fmt::Debug for InlinePart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlinePart")
            .field("content_id", &self.content_id)
            .field("mime", &self.mime)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// For `outbox list --format json`: the part's size, not its bytes.
impl Serialize for InlinePart {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("InlinePart", 3)?;
        st.serialize_field("content_id", &self.content_id)?;
        st.serialize_field("mime", &self.mime)?;
        st.serialize_field("size", &self.bytes.len())?;
        st.end()
    }
}

impl OutboxEmail {
    /// Claimed by a worker whose send has not finished (or whose worker
    /// died and whose lease has not yet run out): a retry now could send it
    /// twice.
    pub fn in_flight(&self, now: DateTime<Utc>) -> bool {
        self.status == OutboxStatus::Pending
            && self.attempts > 0
            && self.last_error.is_none()
            && self.next_attempt_at > now
    }
}

/// Digests are queued in the outbox with kind `digest_<kind>` (for example
/// `digest_weekly`); the last one sent of each kind is what
/// `par_monitor_last_digest_sent_timestamp_seconds{kind}` reports.
pub const DIGEST_KIND_PREFIX: &str = "digest_";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxStats {
    pub pending: i64,
    pub dead: i64,
    pub sent: i64,
    pub oldest_pending_at: Option<DateTime<Utc>>,
}

/// The statement that queues an e-mail; run it inside the transaction of
/// the change that causes the e-mail. A second enqueue with the same dedup
/// key is a no-op.
macro_rules! enqueue_query {
    ($email:expr, $now:expr) => {{
        let email: &$crate::storage::NewEmail = $email;
        sqlx::query(
            "INSERT INTO outbox (dedup_key, message_id, kind, recipients, subject, body_text, body_html,
                                 status, attempts, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8)
             ON CONFLICT (dedup_key) DO NOTHING",
        )
        .bind(email.dedup_key.clone())
        .bind(email.message_id.clone())
        .bind(email.kind.clone())
        .bind(serde_json::to_string(&email.recipients).unwrap_or_else(|_| "[]".into()))
        .bind(email.subject.clone())
        .bind(email.body_text.clone())
        .bind(email.body_html.clone())
        .bind($crate::storage::codec::ts($now))
    }};
}
pub(super) use enqueue_query;

const OUTBOX_COLUMNS: &str =
    "id, dedup_key, message_id, kind, recipients, subject, body_text, body_html,
     status, attempts, next_attempt_at, last_error, created_at, sent_at, thread_refs";

macro_rules! outbox_from_row {
    ($r:expr) => {{
        let r = $r;
        let recipients: String = r.try_get("recipients")?;
        let status: String = r.try_get("status")?;
        Ok::<_, super::StorageError>(OutboxEmail {
            id: r.try_get("id")?,
            dedup_key: r.try_get("dedup_key")?,
            message_id: r.try_get("message_id")?,
            kind: r.try_get("kind")?,
            recipients: json("outbox.recipients", &recipients)?,
            subject: r.try_get("subject")?,
            body_text: r.try_get("body_text")?,
            body_html: r.try_get("body_html")?,
            status: super::codec::parse("outbox.status", &status)?,
            attempts: r.try_get("attempts")?,
            next_attempt_at: from_ts(r.try_get("next_attempt_at")?),
            last_error: r.try_get("last_error")?,
            created_at: from_ts(r.try_get("created_at")?),
            sent_at: from_ts_opt(r.try_get("sent_at")?),
            thread_refs: r
                .try_get::<Option<String>, _>("thread_refs")?
                .map(|t| t.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            parts: Vec::new(),
        })
    }};
}

impl Store {
    /// Queues an e-mail outside any other change (digests, tests).
    pub async fn enqueue_email(&self, email: &NewEmail, now: DateTime<Utc>) -> Result<()> {
        with_pool!(self, |pool| {
            enqueue_query!(email, now).execute(pool).await?;
        });
        Ok(())
    }

    /// Claims up to `limit` due e-mails for `lease`: they will not be handed
    /// out again before `now + lease`, by this or any other instance.
    pub async fn claim_due_emails(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: i64,
    ) -> Result<Vec<OutboxEmail>> {
        with_pool!(self, |pool, backend| {
            // PostgreSQL: SKIP LOCKED lets several instances claim disjoint
            // rows. SQLite has a single writer, so the plain subquery is safe.
            let lock = match backend {
                Backend::Postgres => "FOR UPDATE SKIP LOCKED",
                Backend::Sqlite => "",
            };
            let sql = sqlx::AssertSqlSafe(format!(
                "UPDATE outbox SET next_attempt_at = $1, attempts = attempts + 1, last_error = NULL
                 WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $2
                              ORDER BY next_attempt_at, id LIMIT $3 {lock})
                 RETURNING {OUTBOX_COLUMNS}"
            ));
            let rows = sqlx::query(sql)
                .bind(ts(now + lease))
                .bind(ts(now))
                .bind(limit)
                .fetch_all(pool)
                .await?;
            let mut out: Vec<OutboxEmail> = rows
                .iter()
                .map(|r| outbox_from_row!(r))
                .collect::<Result<_>>()?;
            out.sort_by_key(|e| e.id);
            for e in &mut out {
                e.parts = self
                    .inline_parts(Some(e.id))
                    .await?
                    .remove(&e.id)
                    .unwrap_or_default();
            }
            Ok(out)
        })
    }

    /// The inline parts of one e-mail (`Some(id)`) or of all, by outbox id.
    async fn inline_parts(
        &self,
        id: Option<i64>,
    ) -> Result<std::collections::HashMap<i64, Vec<InlinePart>>> {
        let rows: Vec<(i64, String, String, Vec<u8>)> = with_pool!(self, |pool| {
            sqlx::query(
                "SELECT outbox_id, content_id, mime, bytes FROM outbox_parts
                 WHERE $1 IS NULL OR outbox_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok::<_, sqlx::Error>((
                    r.try_get("outbox_id")?,
                    r.try_get("content_id")?,
                    r.try_get("mime")?,
                    r.try_get("bytes")?,
                ))
            })
            .collect::<std::result::Result<_, _>>()?
        });
        let mut out: std::collections::HashMap<i64, Vec<InlinePart>> = Default::default();
        for (outbox_id, content_id, mime, bytes) in rows {
            out.entry(outbox_id).or_default().push(InlinePart {
                content_id,
                mime,
                bytes,
            });
        }
        Ok(out)
    }

    pub async fn mark_email_sent(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE outbox SET status = 'sent', sent_at = $1, last_error = NULL WHERE id = $2",
            )
            .bind(ts(now))
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Schedules another attempt after a transient failure.
    pub async fn mark_email_retry(
        &self,
        id: i64,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query("UPDATE outbox SET next_attempt_at = $1, last_error = $2 WHERE id = $3 AND status = 'pending'")
                .bind(ts(next_attempt_at))
                .bind(error)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Gives up on an e-mail: a permanent failure or too many attempts.
    pub async fn mark_email_dead(&self, id: i64, error: &str) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query("UPDATE outbox SET status = 'dead', last_error = $1 WHERE id = $2")
                .bind(error)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn outbox_stats(&self) -> Result<OutboxStats> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox GROUP BY status",
            )
            .fetch_all(pool)
            .await?;
            let mut stats = OutboxStats::default();
            for r in &rows {
                let status: String = r.try_get("status")?;
                let n: i64 = r.try_get("n")?;
                match status.as_str() {
                    "pending" => {
                        stats.pending = n;
                        stats.oldest_pending_at = from_ts_opt(r.try_get("oldest")?);
                    }
                    "sent" => stats.sent = n,
                    "dead" => stats.dead = n,
                    _ => {}
                }
            }
            Ok(stats)
        })
    }

    /// Every outbox row, newest first (for `outbox list` and tests).
    pub async fn outbox(&self) -> Result<Vec<OutboxEmail>> {
        with_pool!(self, |pool| {
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY id DESC"
            ));
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            let mut out: Vec<OutboxEmail> = rows
                .iter()
                .map(|r| outbox_from_row!(r))
                .collect::<Result<_>>()?;
            let mut parts = self.inline_parts(None).await?;
            for e in &mut out {
                e.parts = parts.remove(&e.id).unwrap_or_default();
            }
            Ok(out)
        })
    }

    /// The newest `limit` outbox rows, of one status or all (for `outbox
    /// list`).
    pub async fn outbox_page(&self, status: Option<&str>, limit: i64) -> Result<Vec<OutboxEmail>> {
        with_pool!(self, |pool| {
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE ($1 IS NULL OR status = $1)
                 ORDER BY id DESC LIMIT $2"
            ));
            let rows = sqlx::query(sql)
                .bind(status)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            rows.iter().map(|r| outbox_from_row!(r)).collect()
        })
    }

    pub async fn outbox_email(&self, id: i64) -> Result<Option<OutboxEmail>> {
        with_pool!(self, |pool| {
            let sql =
                sqlx::AssertSqlSafe(format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = $1"));
            let row = sqlx::query(sql).bind(id).fetch_optional(pool).await?;
            row.map(|r| outbox_from_row!(r)).transpose()
        })
    }

    /// Requeues an e-mail as `seen` was read (compare-and-set on its
    /// status, attempts and next attempt): pending, no attempts, due at
    /// `now`. The last error stays until the next attempt ends. False when
    /// the row changed meanwhile (a worker claimed or finished it).
    pub async fn requeue_email(&self, seen: &OutboxEmail, now: DateTime<Utc>) -> Result<bool> {
        with_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1
                 WHERE id = $2 AND status = $3 AND attempts = $4 AND next_attempt_at = $5
                   AND status <> 'sent'",
            )
            .bind(ts(now))
            .bind(seen.id)
            .bind(seen.status.as_str())
            .bind(seen.attempts)
            .bind(ts(seen.next_attempt_at))
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// When the last digest of each kind was sent, as `(kind, time)` with
    /// the `digest_` prefix removed from the kind.
    pub async fn last_digests_sent(&self) -> Result<Vec<(String, DateTime<Utc>)>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT kind, MAX(sent_at) AS last FROM outbox
                 WHERE status = 'sent' AND substr(kind, 1, 7) = 'digest_' AND sent_at IS NOT NULL
                 GROUP BY kind ORDER BY kind",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let kind: String = r.try_get("kind")?;
                    let last: i64 = r.try_get("last")?;
                    Ok((
                        kind.strip_prefix(DIGEST_KIND_PREFIX)
                            .unwrap_or(&kind)
                            .to_owned(),
                        from_ts(last),
                    ))
                })
                .collect()
        })
    }
}
