//! Running daemons: one row per daemon run, refreshed while it runs and
//! removed when it stops, so that one-off commands can tell that a daemon
//! owns the database; and since when the rules have been judged at all.

use chrono::{DateTime, Utc};

use super::codec::{from_ts, ts};
use super::{Result, Store, with_pool};

/// A daemon run, as it last reported itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaemonRun {
    pub run_id: String,
    pub host: String,
    pub pid: i64,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
}

impl Store {
    /// Records that an evaluation completed at `at`; only the first is kept.
    pub async fn note_evaluated(&self, at: DateTime<Utc>) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO monitor_state (name, at) VALUES ('first_evaluation', $1)
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(ts(at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// When the rules were first judged; `None` if they never were.
    pub async fn first_evaluation_at(&self) -> Result<Option<DateTime<Utc>>> {
        with_pool!(self, |pool| {
            let at: Option<i64> =
                sqlx::query_scalar("SELECT at FROM monitor_state WHERE name = 'first_evaluation'")
                    .fetch_optional(pool)
                    .await?;
            Ok(at.map(from_ts))
        })
    }

    /// Records that `run` is alive at `at` (inserting it the first time).
    pub async fn daemon_heartbeat(&self, run: &DaemonRun, at: DateTime<Utc>) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO daemon_runs (run_id, host, pid, started_at, heartbeat_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (run_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
            )
            .bind(&run.run_id)
            .bind(&run.host)
            .bind(run.pid)
            .bind(ts(run.started_at))
            .bind(ts(at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Removes a run that stops, and runs that stopped reporting long ago
    /// (before `forget_before`: a daemon killed without a chance to say so).
    pub async fn daemon_stopped(&self, run_id: &str, forget_before: DateTime<Utc>) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query("DELETE FROM daemon_runs WHERE run_id = $1 OR heartbeat_at < $2")
                .bind(run_id)
                .bind(ts(forget_before))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Daemon runs that reported at or after `since`, newest first.
    pub async fn daemons_alive_since(&self, since: DateTime<Utc>) -> Result<Vec<DaemonRun>> {
        let rows: Vec<(String, String, i64, i64, i64)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT run_id, host, pid, started_at, heartbeat_at FROM daemon_runs
                 WHERE heartbeat_at >= $1 ORDER BY heartbeat_at DESC",
            )
            .bind(ts(since))
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(run_id, host, pid, started, beat)| DaemonRun {
                run_id,
                host,
                pid,
                started_at: from_ts(started),
                heartbeat_at: from_ts(beat),
            })
            .collect())
    }
}
