//! Source health, per-feed cursors, quarantined records and outage events.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::codec::{from_ts, from_ts_opt, ts};
use super::{BeginWrite, Result, Store, with_pool};
use crate::domain::SourceHealth;
use crate::domain::quality::Check;

/// A source's health and freshness.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceState {
    pub source: String,
    pub health: SourceHealth,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// How current the data is: the start of the last complete poll.
    pub data_as_of: Option<DateTime<Utc>>,
    pub consecutive_failures: i64,
    pub last_error: Option<String>,
}

/// Where a feed's incremental polling resumes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FeedState {
    pub feed: String,
    pub cursor: Option<String>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_full_sync_at: Option<DateTime<Utc>>,
}

/// A record kept aside because it could not be mapped, or could not be true.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QuarantineEntry {
    pub feed: String,
    pub record_id: Option<String>,
    /// The data-quality check it failed; `None`: it could not be mapped.
    pub check: Option<Check>,
    pub field: String,
    pub problem: String,
    pub raw: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub times_seen: i64,
}

/// One record to quarantine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewQuarantine {
    /// The record id, or a hash of the raw record when it has none.
    pub record_key: String,
    pub record_id: Option<String>,
    pub check: Option<Check>,
    pub field: String,
    pub problem: String,
    pub raw: String,
}

/// Keeps a record aside, or counts it again: the statement for one
/// [`NewQuarantine`], shared by [`Store::quarantine`] and the upsert that
/// withdraws a code served for two units.
macro_rules! quarantine_query {
    ($feed:expr, $entry:expr, $now:expr) => {{
        let e: &$crate::storage::NewQuarantine = $entry;
        sqlx::query(
            "INSERT INTO quarantine (feed, record_key, record_id, field, problem, raw, first_seen_at, last_seen_at, quality_check)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)
             ON CONFLICT (feed, record_key) DO UPDATE SET
                field = excluded.field, problem = excluded.problem, raw = excluded.raw,
                last_seen_at = excluded.last_seen_at, times_seen = quarantine.times_seen + 1,
                quality_check = excluded.quality_check",
        )
        .bind($feed)
        .bind(e.record_key.clone())
        .bind(e.record_id.clone())
        .bind(e.field.clone())
        .bind(e.problem.clone())
        .bind(e.raw.clone())
        .bind($now)
        .bind(e.check.map($crate::domain::quality::Check::as_str))
    }};
}
pub(super) use quarantine_query;

/// A change of a source's health.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceEvent {
    pub source: String,
    pub at: DateTime<Utc>,
    pub health: SourceHealth,
    pub detail: Option<String>,
}

impl Store {
    pub async fn source_state(&self, source: &str) -> Result<Option<SourceState>> {
        Ok(self
            .source_states()
            .await?
            .into_iter()
            .find(|s| s.source == source))
    }

    pub async fn source_states(&self) -> Result<Vec<SourceState>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT source, health, last_attempt_at, last_success_at, data_as_of,
                        consecutive_failures, last_error
                 FROM source_state ORDER BY source",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(SourceState {
                        source: r.try_get("source")?,
                        health: SourceHealth::parse_stored(r.try_get("health")?),
                        last_attempt_at: from_ts_opt(r.try_get("last_attempt_at")?),
                        last_success_at: from_ts_opt(r.try_get("last_success_at")?),
                        data_as_of: from_ts_opt(r.try_get("data_as_of")?),
                        consecutive_failures: r.try_get("consecutive_failures")?,
                        last_error: r.try_get("last_error")?,
                    })
                })
                .collect()
        })
    }

    /// Records the outcome of a poll of `source` and returns the health it
    /// had before. A change of health is also written as a source event, in
    /// the same transaction, so an outage is one event however many units
    /// and polls it spans.
    pub async fn record_source_outcome(
        &self,
        source: &str,
        health: SourceHealth,
        succeeded: bool,
        data_as_of: Option<DateTime<Utc>>,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<SourceHealth>> {
        let health = health.as_str();
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let before: Option<String> =
                sqlx::query_scalar("SELECT health FROM source_state WHERE source = $1")
                    .bind(source)
                    .fetch_optional(&mut *tx)
                    .await?;
            let success_at = succeeded.then(|| ts(now));
            sqlx::query(
                "INSERT INTO source_state (source, health, last_attempt_at, last_success_at, data_as_of,
                                           consecutive_failures, last_error)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (source) DO UPDATE SET
                    health = excluded.health,
                    last_attempt_at = excluded.last_attempt_at,
                    last_success_at = COALESCE(excluded.last_success_at, source_state.last_success_at),
                    data_as_of = COALESCE(excluded.data_as_of, source_state.data_as_of),
                    consecutive_failures = CASE WHEN $8 THEN 0 ELSE source_state.consecutive_failures + 1 END,
                    last_error = excluded.last_error",
            )
            .bind(source)
            .bind(health)
            .bind(ts(now))
            .bind(success_at)
            .bind(data_as_of.map(ts))
            .bind(i64::from(!succeeded))
            .bind(error)
            .bind(succeeded)
            .execute(&mut *tx)
            .await?;
            if before.as_deref() != Some(health) {
                sqlx::query("INSERT INTO source_events (source, at, health, detail) VALUES ($1, $2, $3, $4)")
                    .bind(source)
                    .bind(ts(now))
                    .bind(health)
                    .bind(error)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(before.as_deref().map(SourceHealth::parse_stored))
        })
    }

    /// Health changes of a source, oldest first.
    pub async fn source_events(&self, source: &str) -> Result<Vec<SourceEvent>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query("SELECT source, at, health, detail FROM source_events WHERE source = $1 ORDER BY id")
                .bind(source)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(SourceEvent {
                        source: r.try_get("source")?,
                        at: from_ts(r.try_get("at")?),
                        health: SourceHealth::parse_stored(r.try_get("health")?),
                        detail: r.try_get("detail")?,
                    })
                })
                .collect()
        })
    }

    pub async fn feed_state(&self, feed: &str) -> Result<FeedState> {
        with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT cursor, last_success_at, last_full_sync_at FROM feed_state WHERE feed = $1",
            )
            .bind(feed)
            .fetch_optional(pool)
            .await?;
            Ok(match row {
                Some(r) => FeedState {
                    feed: feed.to_owned(),
                    cursor: r.try_get("cursor")?,
                    last_success_at: from_ts_opt(r.try_get("last_success_at")?),
                    last_full_sync_at: from_ts_opt(r.try_get("last_full_sync_at")?),
                },
                None => FeedState {
                    feed: feed.to_owned(),
                    ..FeedState::default()
                },
            })
        })
    }

    /// Records a complete poll of a feed: where the next one resumes.
    pub async fn record_feed_success(
        &self,
        feed: &str,
        cursor: Option<&str>,
        full: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO feed_state (feed, cursor, last_success_at, last_full_sync_at)
                 VALUES ($1, $2, $3, CASE WHEN $4 THEN $3 ELSE NULL END)
                 ON CONFLICT (feed) DO UPDATE SET
                    cursor = COALESCE(excluded.cursor, feed_state.cursor),
                    last_success_at = excluded.last_success_at,
                    last_full_sync_at = COALESCE(excluded.last_full_sync_at, feed_state.last_full_sync_at)",
            )
            .bind(feed)
            .bind(cursor)
            .bind(ts(now))
            .bind(full)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Keeps rejected records aside; a record rejected again is counted.
    pub async fn quarantine(
        &self,
        feed: &str,
        entries: &[NewQuarantine],
        now: DateTime<Utc>,
    ) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            for e in entries {
                quarantine_query!(feed, e, ts(now))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// After a complete full sync of `feed` begun at `since`: quarantined
    /// records it did not see again are gone upstream, and leave
    /// quarantine. Returns how many.
    pub async fn clear_unseen_quarantine(&self, feed: &str, since: DateTime<Utc>) -> Result<u64> {
        with_pool!(self, |pool| {
            Ok(
                sqlx::query("DELETE FROM quarantine WHERE feed = $1 AND last_seen_at < $2")
                    .bind(feed)
                    .bind(ts(since))
                    .execute(pool)
                    .await?
                    .rows_affected(),
            )
        })
    }

    /// Quarantined records, of one feed or all, newest first.
    pub async fn quarantined(&self, feed: Option<&str>) -> Result<Vec<QuarantineEntry>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT feed, record_id, quality_check, field, problem, raw, first_seen_at, last_seen_at, times_seen
                 FROM quarantine WHERE $1 IS NULL OR feed = $1 ORDER BY last_seen_at DESC, feed, record_key",
            )
            .bind(feed)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(QuarantineEntry {
                        feed: r.try_get("feed")?,
                        record_id: r.try_get("record_id")?,
                        check: r
                            .try_get::<Option<String>, _>("quality_check")?
                            .as_deref()
                            .and_then(Check::from_name),
                        field: r.try_get("field")?,
                        problem: r.try_get("problem")?,
                        raw: r.try_get("raw")?,
                        first_seen_at: from_ts(r.try_get("first_seen_at")?),
                        last_seen_at: from_ts(r.try_get("last_seen_at")?),
                        times_seen: r.try_get("times_seen")?,
                    })
                })
                .collect()
        })
    }

    /// Quarantined records that could not be true, per feed and check.
    pub async fn implausible_counts(&self) -> Result<Vec<(String, Check, i64)>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT feed, quality_check, COUNT(*) AS n FROM quarantine WHERE quality_check IS NOT NULL
                 GROUP BY feed, quality_check ORDER BY feed, quality_check",
            )
            .fetch_all(pool)
            .await?;
            let mut out = Vec::new();
            for r in &rows {
                let name: String = r.try_get("quality_check")?;
                if let Some(check) = Check::from_name(&name) {
                    out.push((r.try_get("feed")?, check, r.try_get("n")?));
                }
            }
            Ok(out)
        })
    }

    /// Quarantined records per feed.
    pub async fn quarantine_counts(&self) -> Result<Vec<(String, i64)>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT feed, COUNT(*) AS n FROM quarantine GROUP BY feed ORDER BY feed",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| Ok((r.try_get("feed")?, r.try_get("n")?)))
                .collect()
        })
    }
}
