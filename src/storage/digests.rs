//! Digests: queueing one period's e-mails of a kind, with their inline
//! parts, together with the record of the last period sent.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::codec::ts;
use super::{BeginWrite, InlinePart, NewEmail, Result, Store, with_pool};

/// One digest e-mail to queue, with the parts its HTML shows inline.
#[derive(Clone, Debug)]
pub struct DigestEmail {
    pub email: NewEmail,
    pub parts: Vec<InlinePart>,
}

impl Store {
    /// The last period sent of each digest kind, as `(kind, period id)`.
    pub async fn digest_last_periods(&self) -> Result<Vec<(String, String)>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query("SELECT kind, last_period FROM digest_state ORDER BY kind")
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| Ok((r.try_get("kind")?, r.try_get("last_period")?)))
                .collect()
        })
    }

    /// Queues one period's digest e-mails of `kind` and records the period
    /// as the last one sent, in one transaction. An e-mail whose dedup key
    /// is already queued is skipped with its parts, and the record only
    /// moves forward, so running this twice (or on two instances) queues
    /// each e-mail once. Returns how many e-mails were queued.
    pub async fn enqueue_digest(
        &self,
        kind: &str,
        period: &str,
        period_start: DateTime<Utc>,
        emails: &[DigestEmail],
        now: DateTime<Utc>,
    ) -> Result<usize> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut queued = 0;
            for e in emails {
                let id: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO outbox (dedup_key, message_id, kind, recipients, subject, body_text,
                                         body_html, status, attempts, next_attempt_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8)
                     ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
                )
                .bind(e.email.dedup_key.clone())
                .bind(e.email.message_id.clone())
                .bind(e.email.kind.clone())
                .bind(serde_json::to_string(&e.email.recipients).unwrap_or_else(|_| "[]".into()))
                .bind(e.email.subject.clone())
                .bind(e.email.body_text.clone())
                .bind(e.email.body_html.clone())
                .bind(ts(now))
                .fetch_optional(&mut *tx)
                .await?;
                let Some(id) = id else { continue };
                queued += 1;
                for p in &e.parts {
                    sqlx::query(
                        "INSERT INTO outbox_parts (outbox_id, content_id, mime, bytes)
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(id)
                    .bind(p.content_id.clone())
                    .bind(p.mime.clone())
                    .bind(p.bytes.clone())
                    .execute(&mut *tx)
                    .await?;
                }
            }
            sqlx::query(
                "INSERT INTO digest_state (kind, last_period, last_period_start, updated_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (kind) DO UPDATE SET last_period = excluded.last_period,
                     last_period_start = excluded.last_period_start, updated_at = excluded.updated_at
                 WHERE digest_state.last_period_start < excluded.last_period_start",
            )
            .bind(kind)
            .bind(period)
            .bind(ts(period_start))
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(queued)
        })
    }
}
