//! Storage: the only module that contains SQL.
//!
//! One [`Store`] serves SQLite (the embedded default) and PostgreSQL (the
//! production backend, and the way to run several instances). Queries are
//! written once with `$n` placeholders, which both drivers accept; the
//! [`with_pool!`] macro expands a body once per backend so every query is
//! checked against each driver's types. Where the dialects differ, the body
//! picks its SQL by [`Backend`].
//!
//! Invariants kept here:
//! - times are stored as UTC unix seconds in BIGINT/INTEGER columns;
//! - a finding change, its audit event and its notification rows commit in
//!   one transaction; a group of notifications and the e-mail that tells
//!   them commit in one transaction;
//! - `finding_events` is append-only (database triggers refuse edits).

mod daemons;
mod digests;
mod dossiers;
mod feeds;
mod findings;
mod indicators;
mod inspections;
mod notifications;
mod outbox;
mod records;
mod sources;
mod units;
mod users;

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::config::DatabaseSettings;

pub use daemons::DaemonRun;
pub use digests::DigestEmail;
pub use findings::{
    FindingEvent, FindingRecord, FindingTransition, NewEmail, NewSilence, Silence, WorkflowChange,
};
pub use indicators::{EvaluationInputs, StateVersion};
pub use inspections::InspectionPlan;
pub use notifications::{NewNotification, Notification, OpenToldFinding};
pub use outbox::{DIGEST_KIND_PREFIX, InlinePart, OutboxEmail, OutboxStats, OutboxStatus};
pub use records::{DirtyPeriod, PollRun, Prepared, RecordTable, UpsertCounts};
pub use sources::{FeedState, NewQuarantine, QuarantineEntry, SourceEvent, SourceState};
pub use users::{ConsoleSession, ConsoleUser};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot open the database {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    known_units: records::KnownUnits,
}

/// Runs `$body` with `$pool` bound to the concrete pool of either backend,
/// and `$backend` to which one it is. The body is compiled twice.
macro_rules! with_pool {
    ($store:expr, |$pool:ident, $backend:ident| $body:expr) => {
        match &$store.pool {
            $crate::storage::Pool::Sqlite($pool) => {
                #[allow(unused_variables)]
                let $backend = $crate::storage::Backend::Sqlite;
                $body
            }
            $crate::storage::Pool::Postgres($pool) => {
                #[allow(unused_variables)]
                let $backend = $crate::storage::Backend::Postgres;
                $body
            }
        }
    };
    ($store:expr, |$pool:ident| $body:expr) => {
        with_pool!($store, |$pool, _backend| $body)
    };
}
pub(crate) use with_pool;

/// Write transactions. SQLite's default (deferred) BEGIN takes a read
/// snapshot at the first statement; a transaction that reads and then
/// writes fails with SQLITE_BUSY_SNAPSHOT when another connection committed
/// in between, whatever the busy timeout. `BEGIN IMMEDIATE` takes the write
/// lock up front, waiting up to the busy timeout, so concurrent jobs (a poll
/// storing records while the evaluator writes findings) queue instead of
/// failing. PostgreSQL's plain BEGIN needs nothing of the sort.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl Future<Output = std::result::Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>>
    + Send;
}

impl BeginWrite for sqlx::SqlitePool {
    type Db = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl Future<Output = std::result::Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>>
    + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for sqlx::PgPool {
    type Db = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl Future<Output = std::result::Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>>
    + Send {
        self.begin()
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens the database named by the settings. SQLite files (and their
    /// folder) are created when missing, in WAL mode with foreign keys on.
    pub async fn connect(settings: &DatabaseSettings) -> Result<Store> {
        let url = settings.url.expose();
        let connect_err = |source| StorageError::Connect {
            url: settings.url.redacted(),
            source,
        };
        let pool = if settings.url.is_postgres() {
            let opts = PgConnectOptions::from_str(url)
                .map_err(connect_err)?
                .application_name("par-monitor");
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(opts)
                .await
                .map_err(connect_err)?;
            Pool::Postgres(pool)
        } else {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(connect_err)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // NORMAL is durable across application crashes in WAL mode;
                // only a power loss can drop the last transactions.
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(settings.busy_timeout)
                // 32 MB of page cache per connection keeps the indexes of a
                // million dossiers in memory during a first sync.
                .pragma("cache_size", "-32000")
                .pragma("temp_store", "memory")
                // A checkpoint every 10,000 pages (40 MB) of WAL rather than
                // SQLite's 1,000. A page of dossiers touches thousands of
                // index pages; with the default nearly every commit
                // checkpoints, copying those pages again and waiting on two
                // fsyncs. The first sync of a million dossiers went from
                // 25,000 to 32,000 dossiers/s. The WAL is cut back to 64 MB
                // after a checkpoint, so the disk it keeps stays bounded.
                .pragma("wal_autocheckpoint", "10000")
                .pragma("journal_size_limit", "67108864");
            if let Some(dir) = opts.get_filename().parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|e| connect_err(sqlx::Error::Io(e)))?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(opts)
                .await
                .map_err(connect_err)?;
            Pool::Sqlite(pool)
        };
        Ok(Store {
            pool,
            known_units: records::KnownUnits::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations; returns how many were applied. Running it
    /// again applies nothing. On PostgreSQL, sqlx holds an advisory lock, so
    /// instances starting together do not race.
    pub async fn migrate(&self) -> Result<usize> {
        let before = self.applied_migrations().await.unwrap_or(0);
        match &self.pool {
            Pool::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await?,
            Pool::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        let after = self.applied_migrations().await?;
        Ok(after.saturating_sub(before))
    }

    async fn applied_migrations(&self) -> Result<usize> {
        let n: i64 = with_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(pool)
                .await?
        });
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await)
    }
}

/// Helpers to move between stored and domain representations.
pub(crate) mod codec {
    use chrono::{DateTime, Utc};

    use super::StorageError;

    pub fn ts(t: DateTime<Utc>) -> i64 {
        crate::time::to_unix(t)
    }

    pub fn from_ts(s: i64) -> DateTime<Utc> {
        crate::time::from_unix(s)
    }

    pub fn from_ts_opt(s: Option<i64>) -> Option<DateTime<Utc>> {
        s.map(from_ts)
    }

    pub fn parse<T: std::str::FromStr>(column: &str, value: &str) -> Result<T, StorageError>
    where
        T::Err: std::fmt::Display,
    {
        value
            .parse()
            .map_err(|e| StorageError::Corrupt(format!("column {column}: {e}")))
    }

    pub fn json<T: serde::de::DeserializeOwned>(
        column: &str,
        value: &str,
    ) -> Result<T, StorageError> {
        serde_json::from_str(value)
            .map_err(|e| StorageError::Corrupt(format!("column {column}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatabaseUrl;

    #[tokio::test]
    async fn sqlite_connections_use_wal_with_a_bounded_checkpoint_interval() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let settings = DatabaseSettings {
            url: DatabaseUrl::parse(&url).unwrap(),
            ..DatabaseSettings::default()
        };
        let store = Store::connect(&settings).await.unwrap();
        let Pool::Sqlite(pool) = &store.pool else {
            panic!("a sqlite:// URL opens SQLite");
        };
        // Every connection of the pool, not only the first: hold them all.
        let mut held = Vec::new();
        for _ in 0..settings.max_connections {
            let mut conn = pool.acquire().await.unwrap();
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            let pages: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            let limit: i64 = sqlx::query_scalar("PRAGMA journal_size_limit")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            assert_eq!((mode.as_str(), pages, limit), ("wal", 10_000, 64 << 20));
            held.push(conn);
        }
        drop(held);
        store.close().await;
    }
}
