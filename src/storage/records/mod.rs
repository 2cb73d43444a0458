//! Idempotent ingestion of upstream records, one generic path for every
//! kind: dossiers, petitions, documents, reports and portal scores.
//!
//! A page is stored in one transaction. Each record's content hash decides
//! what happens: a new key is inserted, a changed record is updated, an
//! identical one is not written at all, so re-polling the same page changes
//! nothing. During a full reconciliation every record seen is stamped with
//! the run, and afterwards records the run did not see are marked deleted
//! (never removed: findings may cite them).

mod backend;
mod dirty;
pub use dirty::DirtyPeriod;
mod prepared;
mod upsert;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::codec::ts;
use super::{BeginWrite, Result, Store, with_pool};
use crate::domain::UnitCode;
use backend::PageBackend as _;
use dirty::{DirtyMonths, month_of};
pub(crate) use prepared::Bind;
pub use prepared::Prepared;
use upsert::{
    PageWrite, months_changed, months_of, note_sync_conflicts, release_from_quarantine,
    sort_by_change, stamp_seen, stored_versions, units_named, withdraw_conflicts,
};

/// Unit codes this process has seen stored. Units are never deleted, so
/// a page need not add again the units it names that are known: at 2,000
/// units a page named most of them, and adding them cost the database as
/// much as a fifth of storing the page. Learned only after a commit.
#[derive(Clone, Default)]
pub(super) struct KnownUnits(Arc<Mutex<HashSet<String>>>);

impl KnownUnits {
    /// The `units` not known to be stored.
    fn unknown(&self, units: Vec<String>) -> Vec<String> {
        let known = self.0.lock().unwrap_or_else(|e| e.into_inner());
        units.into_iter().filter(|u| !known.contains(u)).collect()
    }

    /// Notes `units` as stored.
    fn learn(&self, units: Vec<String>) {
        let mut known = self.0.lock().unwrap_or_else(|e| e.into_inner());
        known.extend(units);
    }
}

impl std::fmt::Debug for KnownUnits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let known = self.0.lock().map_or(0, |k| k.len());
        write!(f, "KnownUnits({known})")
    }
}

/// What an ingestion batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Units first seen on these records (not yet known otherwise).
    pub new_units: u64,
    /// Records not stored because their code came for two units in this
    /// sync (see [`PollRun`]); each distinct code is counted once a page.
    pub conflicts: u64,
}

impl std::ops::AddAssign for UpsertCounts {
    fn add_assign(&mut self, o: Self) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.new_units += o.new_units;
        self.conflicts += o.conflicts;
    }
}

/// A record kind with its table.
pub(crate) trait StoredRecord {
    const TABLE: &'static str;
    /// The primary-key column.
    const KEY: &'static str;
    /// Data columns, in the order of [`StoredRecord::binds`]. Must include
    /// `unit_code` and `upstream_updated_at`.
    const COLUMNS: &'static [&'static str];
    /// The feed, for clearing quarantined versions of a record.
    const FEED: &'static str;
    /// Time columns whose months hold indicators this record feeds: a
    /// change to the record makes those (unit, month) pairs dirty.
    const INSTANT_COLUMNS: &'static [&'static str];

    fn key(&self) -> String;
    fn unit(&self) -> &UnitCode;
    fn binds(&self) -> Vec<Bind>;
    /// The values of [`StoredRecord::INSTANT_COLUMNS`] that are set.
    fn instants(&self) -> Vec<DateTime<Utc>>;
}

/// Implements [`StoredRecord`] for a record kind that has a `unit_code`:
/// its table, feed, key, the time columns whose months it feeds, and each
/// stored column beside its value, so that the columns and the values
/// bound for them cannot fall out of order.
macro_rules! stored_record {
    (
        $ty:ty, table $table:literal, feed $feed:literal,
        key $key:literal = |$k:ident| $key_value:expr,
        instants [$($instant:literal),*] = |$i:ident| $instants:expr,
        columns |$r:ident| { $($column:literal => $value:expr),+ $(,)? }
    ) => {
        impl $crate::storage::records::StoredRecord for $ty {
            const TABLE: &'static str = $table;
            const KEY: &'static str = $key;
            const COLUMNS: &'static [&'static str] = &[$($column),+];
            const FEED: &'static str = $feed;
            const INSTANT_COLUMNS: &'static [&'static str] = &[$($instant),*];

            fn key(&self) -> String {
                let $k = self;
                $key_value
            }

            fn unit(&self) -> &$crate::domain::UnitCode {
                &self.unit_code
            }

            fn binds(&self) -> Vec<$crate::storage::records::Bind> {
                let $r = self;
                vec![$($crate::storage::records::Bind::from($value)),+]
            }

            fn instants(&self) -> Vec<chrono::DateTime<chrono::Utc>> {
                let $i = self;
                $instants
            }
        }
    };
}
pub(super) use stored_record;

/// Rows per statement. The widest record binds ~35 values; 400 rows stay
/// below SQLite's 32,766 parameters (PostgreSQL allows 65,535).
const CHUNK: usize = 400;

/// Keys per statement that lists keys (reading stored versions, stamping
/// unchanged rows): a page of the largest size the feeds use is one
/// statement. On SQLite each key is one bound value, far below its
/// parameter limit; on PostgreSQL the chunk is one array.
const KEY_CHUNK: usize = 5_000;

/// The sync a page belongs to: every record it writes or sees is stamped
/// with `id`, so that a code arriving for a second unit in the same sync
/// is recognised as such (a unit change between syncs is a transfer, and
/// is stored). `full`: the sync is a full reconciliation, after which what
/// it did not see is marked deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollRun {
    pub id: i64,
    pub full: bool,
}

impl PollRun {
    /// A sync id unique within this process and increasing across restarts
    /// (milliseconds since the epoch, moved on by one when the clock has
    /// not: two syncs in the same millisecond, or a test's stopped clock).
    pub fn start(now: DateTime<Utc>, full: bool) -> PollRun {
        use std::sync::atomic::{AtomicI64, Ordering};
        static LAST: AtomicI64 = AtomicI64::new(0);
        let now = now.timestamp_millis();
        let prev = LAST
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
                Some(now.max(last + 1))
            })
            .unwrap_or(now);
        PollRun {
            id: now.max(prev + 1),
            full,
        }
    }
}

impl Store {
    /// Stores a page of records in one transaction (see the module docs).
    /// `sync` is the poll in progress, if any.
    pub(crate) async fn upsert_records<R: StoredRecord>(
        &self,
        records: &[R],
        now: DateTime<Utc>,
        sync: Option<PollRun>,
    ) -> Result<UpsertCounts> {
        self.upsert_prepared(Prepared::new(records), now, sync)
            .await
    }

    /// Stores prepared records in one transaction (see the module docs).
    /// `sync` is the poll in progress, if any: a code it has already stored
    /// for another unit is withdrawn (marked deleted, its months dirty) and
    /// quarantined, in the same transaction, with every later copy of it in
    /// the sync.
    pub async fn upsert_prepared(
        &self,
        mut prepared: Prepared,
        now: DateTime<Utc>,
        sync: Option<PollRun>,
    ) -> Result<UpsertCounts> {
        if prepared.is_empty() {
            return Ok(UpsertCounts::default());
        }
        let layout = prepared.layout;
        let w = PageWrite {
            layout,
            key_field: prepared
                .key_field
                .take()
                .unwrap_or_else(|| layout.key.to_owned()),
            now_s: ts(now),
            sync_id: sync.map(|s| s.id),
        };
        let mut conflicts = std::mem::take(&mut prepared.conflicts);
        let try_all_new = prepared.keys_likely_new && conflicts.is_empty();
        let rows = &mut prepared.rows;

        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            (*tx).relax_commit().await?;
            let mut counts = UpsertCounts::default();
            // A page expected to be all new (a first sync) goes straight in,
            // without reading stored versions, if it is; a key stored after
            // all undoes the attempt, and the page takes the steps below.
            let mut named = self.known_units.unknown(units_named(rows));
            let all_new = if try_all_new {
                (*tx).insert_all_new(&w, rows, &named).await?
            } else {
                None
            };
            let dirty = if let Some(new_units) = all_new {
                counts.new_units = new_units;
                counts.inserted = rows.len() as u64;
                months_of(rows.iter())
            } else {
                // The stored versions, deleted ones included: a deleted row
                // counts as absent (a record that comes back is written
                // again, and undeleted, even if unchanged), unless this
                // sync withdrew it for a conflict.
                let keys: Vec<&String> = rows
                    .iter()
                    .map(|r| &r.key)
                    .chain(conflicts.keys())
                    .collect();
                let existing = stored_versions!(&mut *tx, &layout, &keys);
                note_sync_conflicts(rows, &mut conflicts, &existing, w.sync_id);
                named = self.known_units.unknown(units_named(rows));
                counts.new_units = (*tx).add_inferred_units(&named, w.now_s).await?;

                let (mut changed, unchanged) = sort_by_change(rows, &existing, &mut counts);
                // A key stored before (deleted ones included) is merged, a
                // new one inserted.
                let stored = |k: &str| existing.contains_key(k);
                (*tx).write_changed(&w, &mut changed, &stored).await?;
                let mut dirty = months_changed(&changed, &existing);
                stamp_seen!(&mut *tx, &w, &unchanged);

                counts.conflicts = conflicts.len() as u64;
                withdraw_conflicts!(&mut *tx, &w, &mut conflicts, &existing, &mut dirty);
                dirty
            };
            (*tx).mark_dirty(&dirty, now.timestamp_millis()).await?;
            release_from_quarantine!(&mut *tx, layout.feed, rows);
            tx.commit().await?;
            self.known_units.learn(named);
            Ok(counts)
        })
    }

    /// After a complete full reconciliation `run`: marks the records it did
    /// not see as deleted (and their months dirty). Returns how many.
    pub(crate) async fn mark_unseen_deleted<R: StoredRecord>(
        &self,
        run: i64,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let table = R::TABLE;
        let instant_cols: String = R::INSTANT_COLUMNS
            .iter()
            .map(|c| format!(", {c}"))
            .collect();
        let now_s = ts(now);
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let sql = sqlx::AssertSqlSafe(format!(
                "UPDATE {table} SET deleted_at = $1 WHERE deleted_at IS NULL AND (seen_run IS NULL OR seen_run <> $2)
                 RETURNING unit_code{instant_cols}"
            ));
            let rows = sqlx::query(sql)
                .bind(now_s)
                .bind(run)
                .fetch_all(&mut *tx)
                .await?;
            let mut dirty = DirtyMonths::new();
            for row in &rows {
                let unit: String = row.try_get("unit_code")?;
                for c in R::INSTANT_COLUMNS {
                    if let Some(t) = row.try_get::<Option<i64>, _>(*c)? {
                        dirty.insert((unit.clone(), month_of(t)));
                    }
                }
            }
            (*tx).mark_dirty(&dirty, now.timestamp_millis()).await?;
            tx.commit().await?;
            Ok(rows.len() as u64)
        })
    }

    /// Records of one kind that are not deleted, per unit.
    pub async fn record_counts_by_unit(&self, table: RecordTable) -> Result<Vec<(String, i64)>> {
        let table = table.name();
        with_pool!(self, |pool| {
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT unit_code, COUNT(*) AS n FROM {table} WHERE deleted_at IS NULL GROUP BY unit_code ORDER BY unit_code"
            ));
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter()
                .map(|r| Ok((r.try_get("unit_code")?, r.try_get("n")?)))
                .collect()
        })
    }

    /// Records of one kind that are not deleted.
    pub async fn record_count(&self, table: RecordTable) -> Result<i64> {
        let table = table.name();
        with_pool!(self, |pool| {
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {table} WHERE deleted_at IS NULL"
            ));
            Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
        })
    }
}

/// The tables of ingested records, for the generic counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordTable {
    Dossiers,
    Petitions,
    Documents,
    Reports,
    PortalScores,
}

impl RecordTable {
    pub fn name(self) -> &'static str {
        match self {
            RecordTable::Dossiers => "dossiers",
            RecordTable::Petitions => "petitions",
            RecordTable::Documents => "documents",
            RecordTable::Reports => "reports",
            RecordTable::PortalScores => "portal_scores",
        }
    }
}
