//! Idempotent ingestion of upstream records, one generic path for every
//! kind: dossiers, petitions, documents, reports and portal scores.
//!
//! A page is stored in one transaction. Each record's content hash decides
//! what happens: a new key is inserted, a changed record is updated, an
//! identical one is not written at all, so re-polling the same page changes
//! nothing. During a full reconciliation every record seen is stamped with
//! the run, and afterwards records the run did not see are marked deleted
//! (never removed: findings may cite them).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{QueryBuilder, Row};

use super::codec::{from_ts, ts};
use super::{BeginWrite, Result, Store, with_pool};
use crate::domain::UnitCode;
use crate::time::Month;

/// What an ingestion batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Units first seen on these records (not yet known otherwise).
    pub new_units: u64,
}

impl std::ops::AddAssign for UpsertCounts {
    fn add_assign(&mut self, o: Self) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.new_units += o.new_units;
    }
}

/// A value bound into a statement. One enum lets the generic upsert bind
/// any record's columns on either backend.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Bind {
    Int(Option<i64>),
    Text(Option<String>),
    Real(Option<f64>),
}

impl From<i64> for Bind {
    fn from(v: i64) -> Self {
        Bind::Int(Some(v))
    }
}

impl From<Option<i64>> for Bind {
    fn from(v: Option<i64>) -> Self {
        Bind::Int(v)
    }
}

impl From<bool> for Bind {
    fn from(v: bool) -> Self {
        Bind::Int(Some(i64::from(v)))
    }
}

impl From<String> for Bind {
    fn from(v: String) -> Self {
        Bind::Text(Some(v))
    }
}

impl From<&str> for Bind {
    fn from(v: &str) -> Self {
        Bind::Text(Some(v.to_owned()))
    }
}

impl From<Option<String>> for Bind {
    fn from(v: Option<String>) -> Self {
        Bind::Text(v)
    }
}

impl From<Option<DateTime<Utc>>> for Bind {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Bind::Int(v.map(ts))
    }
}

impl From<DateTime<Utc>> for Bind {
    fn from(v: DateTime<Utc>) -> Self {
        Bind::Int(Some(ts(v)))
    }
}

impl From<Option<f64>> for Bind {
    fn from(v: Option<f64>) -> Self {
        Bind::Real(v)
    }
}

/// A record kind with its table.
pub(crate) trait StoredRecord: Serialize {
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

/// Marks (unit, month) pairs dirty inside a transaction; `marked_at` moves
/// forward when a pair is marked again.
macro_rules! mark_dirty {
    ($tx:expr, $pairs:expr, $now:expr) => {{
        let pairs: &BTreeSet<(String, String)> = $pairs;
        let list: Vec<&(String, String)> = pairs.iter().collect();
        for chunk in list.chunks(CHUNK) {
            let mut q =
                QueryBuilder::new("INSERT INTO indicator_dirty (unit_code, period, marked_at) ");
            q.push_values(chunk, |mut b, (unit, period)| {
                b.push_bind(unit.clone())
                    .push_bind(period.clone())
                    .push_bind($now);
            });
            q.push(" ON CONFLICT (unit_code, period) DO UPDATE SET marked_at = excluded.marked_at");
            q.build().execute($tx).await?;
        }
    }};
}

/// Rows per statement. The widest record binds ~35 values; 400 rows stay
/// below SQLite's 32,766 parameters (PostgreSQL allows 65,535).
const CHUNK: usize = 400;

fn content_hash<R: Serialize>(r: &R) -> String {
    let canonical = serde_json::to_vec(r).unwrap_or_default();
    format!("{:x}", Sha256::digest(&canonical))
}

macro_rules! push_bind {
    ($b:expr, $v:expr) => {
        match $v {
            Bind::Int(v) => $b.push_bind(v),
            Bind::Text(v) => $b.push_bind(v),
            Bind::Real(v) => $b.push_bind(v),
        }
    };
}

impl Store {
    /// Stores a page of records in one transaction (see the module docs).
    /// `run` is the full reconciliation in progress, if any.
    pub(crate) async fn upsert_records<R: StoredRecord>(
        &self,
        records: &[R],
        now: DateTime<Utc>,
        run: Option<i64>,
    ) -> Result<UpsertCounts> {
        if records.is_empty() {
            return Ok(UpsertCounts::default());
        }
        // The last copy of a key within one page wins: the upstream listed
        // the record twice and the later one is the newer.
        let mut by_key: HashMap<String, &R> = HashMap::with_capacity(records.len());
        for r in records {
            by_key.insert(r.key(), r);
        }
        let rows: Vec<(String, &R, String)> = by_key
            .into_iter()
            .map(|(k, r)| {
                let h = content_hash(r);
                (k, r, h)
            })
            .collect();
        let units: BTreeSet<&UnitCode> = rows.iter().map(|(_, r, _)| r.unit()).collect();
        let now_s = ts(now);
        let key_col = R::KEY;
        let table = R::TABLE;

        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut counts = UpsertCounts::default();

            let mut q = QueryBuilder::new(
                "INSERT INTO units (code, name, origin, created_at, updated_at) ",
            );
            q.push_values(&units, |mut b, code| {
                b.push_bind(code.as_str().to_owned())
                    .push_bind(code.as_str().to_owned())
                    .push_bind("inferred")
                    .push_bind(now_s)
                    .push_bind(now_s);
            });
            q.push(" ON CONFLICT (code) DO NOTHING");
            counts.new_units = q.build().execute(&mut *tx).await?.rows_affected();

            // Deleted rows count as absent, so a record that comes back is
            // written again (and undeleted) even if unchanged.
            let mut existing: HashMap<String, String> = HashMap::with_capacity(rows.len());
            // (unit, instant) of the stored versions, whose months are dirty
            // too if the record changes (a corrected date moves it).
            let mut old_instants: HashMap<String, Vec<(String, i64)>> = HashMap::new();
            let instant_cols: String = R::INSTANT_COLUMNS
                .iter()
                .map(|c| format!(", {c}"))
                .collect();
            for chunk in rows.chunks(CHUNK) {
                let mut q = QueryBuilder::new(format!(
                    "SELECT {key_col} AS k, content_hash, unit_code{instant_cols} FROM {table} WHERE deleted_at IS NULL AND {key_col} IN ("
                ));
                let mut sep = q.separated(", ");
                for (k, _, _) in chunk {
                    sep.push_bind(k.clone());
                }
                q.push(")");
                for row in q.build().fetch_all(&mut *tx).await? {
                    let k: String = row.try_get("k")?;
                    let unit: String = row.try_get("unit_code")?;
                    let mut at = Vec::new();
                    for c in R::INSTANT_COLUMNS {
                        if let Some(t) = row.try_get::<Option<i64>, _>(*c)? {
                            at.push((unit.clone(), t));
                        }
                    }
                    old_instants.insert(k.clone(), at);
                    existing.insert(k, row.try_get("content_hash")?);
                }
            }

            let mut changed = Vec::new();
            let mut unchanged = Vec::new();
            for row in &rows {
                match existing.get(&row.0) {
                    None => {
                        counts.inserted += 1;
                        changed.push(row);
                    }
                    Some(h) if *h != row.2 => {
                        counts.updated += 1;
                        changed.push(row);
                    }
                    Some(_) => {
                        counts.unchanged += 1;
                        unchanged.push(row.0.clone());
                    }
                }
            }

            let columns = R::COLUMNS.join(", ");
            let updates: Vec<String> = R::COLUMNS
                .iter()
                .map(|c| format!("{c} = excluded.{c}"))
                .collect();
            let on_conflict = format!(
                " ON CONFLICT ({key_col}) DO UPDATE SET {}, content_hash = excluded.content_hash, \
                 changed_at = excluded.changed_at, seen_run = COALESCE(excluded.seen_run, {table}.seen_run), deleted_at = NULL",
                updates.join(", ")
            );
            for chunk in changed.chunks(CHUNK) {
                let mut q = QueryBuilder::new(format!(
                    "INSERT INTO {table} ({key_col}, {columns}, content_hash, first_seen_at, changed_at, seen_run) "
                ));
                q.push_values(chunk, |mut b, (k, r, h)| {
                    b.push_bind(k.clone());
                    for v in r.binds() {
                        push_bind!(b, v);
                    }
                    b.push_bind(h.clone())
                        .push_bind(now_s)
                        .push_bind(now_s)
                        .push_bind(run);
                });
                q.push(on_conflict.as_str());
                q.build().execute(&mut *tx).await?;
            }

            let mut dirty: BTreeSet<(String, String)> = BTreeSet::new();
            for (k, r, _) in &changed {
                for t in r.instants() {
                    dirty.insert((
                        r.unit().as_str().to_owned(),
                        Month::containing(t).to_string(),
                    ));
                }
                for (unit, t) in old_instants.get(k).into_iter().flatten() {
                    dirty.insert((unit.clone(), Month::containing(from_ts(*t)).to_string()));
                }
            }
            mark_dirty!(&mut *tx, &dirty, now.timestamp_millis());

            if let Some(run) = run {
                for chunk in unchanged.chunks(CHUNK) {
                    let mut q = QueryBuilder::new(format!("UPDATE {table} SET seen_run = "));
                    q.push_bind(run);
                    q.push(format!(" WHERE {key_col} IN ("));
                    let mut sep = q.separated(", ");
                    for k in chunk {
                        sep.push_bind(k.clone());
                    }
                    q.push(")");
                    q.build().execute(&mut *tx).await?;
                }
            }

            // A record that now maps cleanly leaves quarantine.
            for chunk in rows.chunks(CHUNK) {
                let mut q = QueryBuilder::new("DELETE FROM quarantine WHERE feed = ");
                q.push_bind(R::FEED);
                q.push(" AND record_key IN (");
                let mut sep = q.separated(", ");
                for (k, _, _) in chunk {
                    sep.push_bind(k.clone());
                }
                q.push(")");
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
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
            let mut dirty: BTreeSet<(String, String)> = BTreeSet::new();
            for row in &rows {
                let unit: String = row.try_get("unit_code")?;
                for c in R::INSTANT_COLUMNS {
                    if let Some(t) = row.try_get::<Option<i64>, _>(*c)? {
                        dirty.insert((unit.clone(), Month::containing(from_ts(t)).to_string()));
                    }
                }
            }
            mark_dirty!(&mut *tx, &dirty, now.timestamp_millis());
            tx.commit().await?;
            Ok(rows.len() as u64)
        })
    }

    /// The (unit, month, marked at in ms) pairs whose data changed since
    /// their indicators were computed, oldest month first.
    pub async fn dirty_periods(&self) -> Result<Vec<(String, String, i64)>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query("SELECT unit_code, period, marked_at FROM indicator_dirty ORDER BY period, unit_code")
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get("unit_code")?,
                        r.try_get("period")?,
                        r.try_get("marked_at")?,
                    ))
                })
                .collect()
        })
    }

    /// Clears dirty marks that were set no later than `marked_at` (a mark set
    /// again meanwhile stays, so its change is not lost).
    pub async fn clear_dirty(&self, pairs: &[(String, String, i64)]) -> Result<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            for (unit, period, marked_at) in pairs {
                sqlx::query("DELETE FROM indicator_dirty WHERE unit_code = $1 AND period = $2 AND marked_at <= $3")
                    .bind(unit)
                    .bind(period)
                    .bind(*marked_at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
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
