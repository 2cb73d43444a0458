//! Per-source poll state: the cursor, health and freshness of each upstream.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::codec::{from_ts_opt, ts};
use super::{Result, Store, with_pool};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceState {
    pub source: String,
    /// Where the next incremental poll starts (opaque to storage).
    pub cursor: Option<String>,
    /// `healthy`, `down` or `unknown` (never polled).
    pub health: String,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// The newest upstream change seen: how current the data is.
    pub data_as_of: Option<DateTime<Utc>>,
    pub consecutive_failures: i64,
    pub last_error: Option<String>,
}

impl Store {
    pub async fn source_state(&self, source: &str) -> Result<Option<SourceState>> {
        let row = with_pool!(self, |pool| {
            sqlx::query(
                "SELECT source, cursor, health, last_attempt_at, last_success_at, data_as_of,
                        consecutive_failures, last_error
                 FROM source_state WHERE source = $1",
            )
            .bind(source)
            .fetch_optional(pool)
            .await?
            .map(|r| {
                Ok::<_, sqlx::Error>(SourceState {
                    source: r.try_get("source")?,
                    cursor: r.try_get("cursor")?,
                    health: r.try_get("health")?,
                    last_attempt_at: from_ts_opt(r.try_get("last_attempt_at")?),
                    last_success_at: from_ts_opt(r.try_get("last_success_at")?),
                    data_as_of: from_ts_opt(r.try_get("data_as_of")?),
                    consecutive_failures: r.try_get("consecutive_failures")?,
                    last_error: r.try_get("last_error")?,
                })
            })
            .transpose()?
        });
        Ok(row)
    }

    /// Records a completed poll: the new cursor, and the freshness it proves.
    /// Returns whether the source was down before (a recovery).
    pub async fn record_poll_success(
        &self,
        source: &str,
        cursor: Option<&str>,
        data_as_of: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let was_down = with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let before: Option<String> =
                sqlx::query_scalar("SELECT health FROM source_state WHERE source = $1")
                    .bind(source)
                    .fetch_optional(&mut *tx)
                    .await?;
            sqlx::query(
                "INSERT INTO source_state (source, cursor, health, last_attempt_at, last_success_at,
                                           data_as_of, consecutive_failures, last_error)
                 VALUES ($1, $2, 'healthy', $3, $3, $4, 0, NULL)
                 ON CONFLICT (source) DO UPDATE SET
                    cursor = excluded.cursor, health = 'healthy',
                    last_attempt_at = excluded.last_attempt_at,
                    last_success_at = excluded.last_success_at,
                    data_as_of = COALESCE(excluded.data_as_of, source_state.data_as_of),
                    consecutive_failures = 0, last_error = NULL",
            )
            .bind(source)
            .bind(cursor)
            .bind(ts(now))
            .bind(data_as_of.map(ts))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            before.as_deref() == Some("down")
        });
        Ok(was_down)
    }

    /// Records a failed poll. Returns whether this failure took the source
    /// down (the first failure of an outage), so callers report it once.
    pub async fn record_poll_failure(
        &self,
        source: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let went_down = with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let before: Option<String> =
                sqlx::query_scalar("SELECT health FROM source_state WHERE source = $1")
                    .bind(source)
                    .fetch_optional(&mut *tx)
                    .await?;
            sqlx::query(
                "INSERT INTO source_state (source, health, last_attempt_at, consecutive_failures, last_error)
                 VALUES ($1, 'down', $2, 1, $3)
                 ON CONFLICT (source) DO UPDATE SET
                    health = 'down', last_attempt_at = excluded.last_attempt_at,
                    consecutive_failures = source_state.consecutive_failures + 1,
                    last_error = excluded.last_error",
            )
            .bind(source)
            .bind(ts(now))
            .bind(error)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            before.as_deref() != Some("down")
        });
        Ok(went_down)
    }
}
