//! Idempotent ingestion of upstream records, one generic path for every
//! kind: dossiers, petitions, documents, reports and portal scores.
//!
//! A page is stored in one transaction. Each record's content hash decides
//! what happens: a new key is inserted, a changed record is updated, an
//! identical one is not written at all, so re-polling the same page changes
//! nothing. During a full reconciliation every record seen is stamped with
//! the run, and afterwards records the run did not see are marked deleted
//! (never removed: findings may cite them).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::{QueryBuilder, Row};

use super::codec::{from_ts, ts};
use super::{BeginWrite, Result, Store, with_pool};
use crate::domain::UnitCode;
use crate::domain::quality::Check;
use crate::time::Month;

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

/// A record's stored version, as the upsert compares it.
struct Stored {
    hash: String,
    unit: String,
    seen_run: Option<i64>,
    deleted: bool,
    /// (unit, instant) of the stored version, whose months are dirty too
    /// if the record changes (a corrected date moves it).
    instants: Vec<(String, i64)>,
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

/// Where a record kind is stored: its [`StoredRecord`] constants.
#[derive(Clone, Copy, Debug)]
struct Layout {
    table: &'static str,
    key: &'static str,
    columns: &'static [&'static str],
    feed: &'static str,
    instant_columns: &'static [&'static str],
}

/// Records made ready to store: one row per key (the last copy of a key in
/// the page wins: the upstream listed the record twice and the later one is
/// the newer), each with its column values and content hash. Preparing is
/// pure CPU, apart from the database, so ingestion prepares the next pages
/// on the blocking pool while this one is written.
#[derive(Debug)]
pub struct Prepared {
    layout: Layout,
    /// Sorted by key, so a chunk's inserts walk the key index in order.
    rows: Vec<PreparedRow>,
    /// Keys the page lists for more than one unit, with those units: which
    /// copy is true is unknown, so none is kept.
    conflicts: BTreeMap<String, BTreeSet<String>>,
    /// The upstream's name of the key field (`MaHoSo`), for quarantine.
    key_field: Option<String>,
}

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

#[derive(Debug)]
struct PreparedRow {
    key: String,
    unit: String,
    /// The [`Layout::columns`] values; taken when the row is written.
    binds: Vec<Bind>,
    hash: String,
    /// The record's (unit, month) pairs whose indicators it feeds.
    months: Vec<String>,
}

impl Prepared {
    pub(crate) fn new<R: StoredRecord>(records: &[R]) -> Prepared {
        let mut order: Vec<(String, usize)> = records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.key(), i))
            .collect();
        // Stable: among copies of a key the later stays later, and is kept.
        order.sort_by(|a, b| a.0.cmp(&b.0));
        let mut rows: Vec<PreparedRow> = Vec::with_capacity(order.len());
        let mut conflicts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (key, i) in order {
            let r = &records[i];
            let binds = r.binds();
            let row = PreparedRow {
                hash: content_hash(&binds),
                unit: r.unit().as_str().to_owned(),
                months: r
                    .instants()
                    .into_iter()
                    .map(|t| Month::containing(t).to_string())
                    .collect(),
                binds,
                key,
            };
            match rows.last_mut() {
                Some(last) if last.key == row.key => {
                    if last.unit != row.unit {
                        let units = conflicts.entry(row.key.clone()).or_default();
                        units.insert(last.unit.clone());
                        units.insert(row.unit.clone());
                    }
                    *last = row
                }
                _ => rows.push(row),
            }
        }
        rows.retain(|r| !conflicts.contains_key(&r.key));
        Prepared {
            conflicts,
            key_field: None,
            layout: Layout {
                table: R::TABLE,
                key: R::KEY,
                columns: R::COLUMNS,
                feed: R::FEED,
                instant_columns: R::INSTANT_COLUMNS,
            },
            rows,
        }
    }

    /// Names the key field as the upstream does, for quarantine entries.
    pub fn with_key_field(mut self, name: Option<String>) -> Prepared {
        self.key_field = name;
        self
    }

    /// Distinct records to store.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.conflicts.is_empty()
    }
}

/// The quarantine entry of a code served for two or more units.
fn conflict_entry(
    key: &str,
    key_field: &str,
    units: &BTreeSet<String>,
) -> super::sources::NewQuarantine {
    let list: Vec<&str> = units.iter().map(String::as_str).collect();
    super::sources::NewQuarantine {
        record_key: key.to_owned(),
        record_id: Some(key.to_owned()),
        check: Some(Check::CodeForTwoUnits),
        field: key_field.to_owned(),
        problem: format!(
            "the same code arrived for {} units in one sync ({}): which is true is unknown, so no version is counted until the source serves it for one unit",
            list.len(),
            list.join(", ")
        ),
        raw: serde_json::json!({ "code": key, "units": list }).to_string(),
    }
}

/// SHA-256 over the stored column values, each tagged with its type and
/// (text) length so that no two different rows encode alike. Hashing what
/// is stored, not a serialisation of the record, means the hash changes
/// exactly when the row would.
fn content_hash(binds: &[Bind]) -> String {
    let mut h = Sha256::new();
    for b in binds {
        match b {
            Bind::Int(None) | Bind::Text(None) | Bind::Real(None) => h.update([0u8]),
            Bind::Int(Some(v)) => {
                h.update([1u8]);
                h.update(v.to_le_bytes());
            }
            Bind::Text(Some(v)) => {
                h.update([2u8]);
                h.update((v.len() as u64).to_le_bytes());
                h.update(v.as_bytes());
            }
            Bind::Real(Some(v)) => {
                h.update([3u8]);
                h.update(v.to_bits().to_le_bytes());
            }
        }
    }
    format!("{:x}", h.finalize())
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
        let Layout {
            table,
            key: key_col,
            columns,
            feed,
            instant_columns,
        } = prepared.layout;
        let key_field = prepared
            .key_field
            .take()
            .unwrap_or_else(|| key_col.to_owned());
        let mut conflicts = std::mem::take(&mut prepared.conflicts);
        let rows = &mut prepared.rows;
        let now_s = ts(now);
        let sync_id = sync.map(|s| s.id);

        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut counts = UpsertCounts::default();

            // The stored versions, deleted ones included: a deleted row
            // counts as absent (a record that comes back is written again,
            // and undeleted, even if unchanged), unless this sync withdrew
            // it for a conflict.
            let mut existing: HashMap<String, Stored> = HashMap::with_capacity(rows.len());
            let instant_cols: String = instant_columns.iter().map(|c| format!(", {c}")).collect();
            let keys: Vec<&String> = rows
                .iter()
                .map(|r| &r.key)
                .chain(conflicts.keys())
                .collect();
            for chunk in keys.chunks(CHUNK) {
                let mut q = QueryBuilder::new(format!(
                    "SELECT {key_col} AS k, content_hash, unit_code, seen_run, deleted_at{instant_cols} FROM {table} WHERE {key_col} IN ("
                ));
                let mut sep = q.separated(", ");
                for k in chunk {
                    sep.push_bind((*k).clone());
                }
                q.push(")");
                for row in q.build().fetch_all(&mut *tx).await? {
                    let unit: String = row.try_get("unit_code")?;
                    let mut instants = Vec::new();
                    for c in instant_columns {
                        if let Some(t) = row.try_get::<Option<i64>, _>(*c)? {
                            instants.push((unit.clone(), t));
                        }
                    }
                    existing.insert(
                        row.try_get("k")?,
                        Stored {
                            hash: row.try_get("content_hash")?,
                            unit,
                            seen_run: row.try_get("seen_run")?,
                            deleted: row.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
                            instants,
                        },
                    );
                }
            }

            // A code this sync has already stored for another unit, or
            // withdrawn, is a conflict; so is a code the page lists twice.
            for row in rows.iter() {
                if let Some(st) = existing.get(&row.key)
                    && sync_id.is_some()
                    && st.seen_run == sync_id
                    && (st.deleted || st.unit != row.unit)
                {
                    let units = conflicts.entry(row.key.clone()).or_default();
                    units.insert(st.unit.clone());
                    units.insert(row.unit.clone());
                }
            }
            for (key, units) in conflicts.iter_mut() {
                if let Some(st) = existing.get(key).filter(|st| !st.deleted) {
                    units.insert(st.unit.clone());
                }
            }
            rows.retain(|r| !conflicts.contains_key(&r.key));

            let units: BTreeSet<&str> = rows.iter().map(|r| r.unit.as_str()).collect();
            let units: Vec<String> = units.into_iter().map(str::to_owned).collect();
            if !units.is_empty() {
                let mut q = QueryBuilder::new(
                    "INSERT INTO units (code, name, origin, created_at, updated_at) ",
                );
                q.push_values(&units, |mut b, code| {
                    b.push_bind(code.clone())
                        .push_bind(code.clone())
                        .push_bind("inferred")
                        .push_bind(now_s)
                        .push_bind(now_s);
                });
                q.push(" ON CONFLICT (code) DO NOTHING");
                counts.new_units = q.build().execute(&mut *tx).await?.rows_affected();
            }

            let mut changed: Vec<&mut PreparedRow> = Vec::new();
            let mut unchanged = Vec::new();
            for row in rows.iter_mut() {
                match existing.get(&row.key).filter(|st| !st.deleted) {
                    None => {
                        counts.inserted += 1;
                        changed.push(row);
                    }
                    Some(st) if st.hash != row.hash => {
                        counts.updated += 1;
                        changed.push(row);
                    }
                    Some(_) => {
                        counts.unchanged += 1;
                        unchanged.push(row.key.clone());
                    }
                }
            }

            let column_list = columns.join(", ");
            let updates: Vec<String> = columns
                .iter()
                .map(|c| format!("{c} = excluded.{c}"))
                .collect();
            let on_conflict = format!(
                " ON CONFLICT ({key_col}) DO UPDATE SET {}, content_hash = excluded.content_hash, \
                 changed_at = excluded.changed_at, seen_run = COALESCE(excluded.seen_run, {table}.seen_run), deleted_at = NULL",
                updates.join(", ")
            );
            let insert = |chunk: &mut [&mut PreparedRow]| {
                let mut q = QueryBuilder::new(format!(
                    "INSERT INTO {table} ({key_col}, {column_list}, content_hash, first_seen_at, changed_at, seen_run) "
                ));
                q.push_values(chunk.iter_mut(), |mut b, r| {
                    b.push_bind(r.key.clone());
                    for v in std::mem::take(&mut r.binds) {
                        push_bind!(b, v);
                    }
                    b.push_bind(r.hash.clone())
                        .push_bind(now_s)
                        .push_bind(now_s)
                        .push_bind(sync_id);
                });
                q.push(on_conflict.as_str());
                q
            };
            // Each statement is built while the one before runs: the first
            // poll hands a statement to the database, and building the next
            // one's arguments takes this task about a quarter of the time
            // the database takes to run it.
            let mut chunks = changed.chunks_mut(CHUNK);
            let mut next = chunks.next().map(insert);
            while let Some(mut q) = next.take() {
                let mut running = std::pin::pin!(q.build().execute(&mut *tx));
                let sent = futures_util::poll!(running.as_mut());
                next = chunks.next().map(insert);
                match sent {
                    std::task::Poll::Ready(done) => done?,
                    std::task::Poll::Pending => running.await?,
                };
            }

            let mut dirty: BTreeSet<(String, String)> = BTreeSet::new();
            for r in &changed {
                for month in &r.months {
                    dirty.insert((r.unit.clone(), month.clone()));
                }
                let old = existing.get(&r.key).filter(|st| !st.deleted);
                for (unit, t) in old.into_iter().flat_map(|st| &st.instants) {
                    dirty.insert((unit.clone(), Month::containing(from_ts(*t)).to_string()));
                }
            }

            if let Some(sync_id) = sync_id {
                for chunk in unchanged.chunks(CHUNK) {
                    let mut q = QueryBuilder::new(format!("UPDATE {table} SET seen_run = "));
                    q.push_bind(sync_id);
                    q.push(format!(" WHERE {key_col} IN ("));
                    let mut sep = q.separated(", ");
                    for k in chunk {
                        sep.push_bind(k.clone());
                    }
                    q.push(")");
                    q.build().execute(&mut *tx).await?;
                }
            }

            // Conflicting codes: the stored version leaves the figures (its
            // months dirty), and the code is quarantined with every unit it
            // came for, those of earlier pages included.
            counts.conflicts = conflicts.len() as u64;
            for (key, units) in &mut conflicts {
                let raw: Option<String> = sqlx::query_scalar(
                    "SELECT raw FROM quarantine WHERE feed = $1 AND record_key = $2 AND quality_check = $3",
                )
                .bind(feed)
                .bind(key.as_str())
                .bind(Check::CodeForTwoUnits.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(before) =
                    raw.and_then(|r| serde_json::from_str::<serde_json::Value>(&r).ok())
                {
                    for u in before["units"].as_array().into_iter().flatten() {
                        if let Some(u) = u.as_str() {
                            units.insert(u.to_owned());
                        }
                    }
                }
                if let Some(st) = existing.get(key).filter(|st| !st.deleted) {
                    for (unit, t) in &st.instants {
                        dirty.insert((unit.clone(), Month::containing(from_ts(*t)).to_string()));
                    }
                    let sql = sqlx::AssertSqlSafe(format!(
                        "UPDATE {table} SET deleted_at = $1, seen_run = COALESCE($2, seen_run) WHERE {key_col} = $3"
                    ));
                    sqlx::query(sql)
                        .bind(now_s)
                        .bind(sync_id)
                        .bind(key.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                let e = conflict_entry(key, &key_field, units);
                super::sources::quarantine_query!(feed, &e, now_s)
                    .execute(&mut *tx)
                    .await?;
            }
            mark_dirty!(&mut *tx, &dirty, now.timestamp_millis());

            // A record that now maps cleanly leaves quarantine. Mostly the
            // feed has nothing there, and one probe saves a lookup per row.
            let quarantined: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT 1 FROM quarantine WHERE feed = $1 LIMIT 1) q",
            )
            .bind(feed)
            .fetch_one(&mut *tx)
            .await?;
            for chunk in rows.chunks(CHUNK).filter(|_| quarantined > 0) {
                let mut q = QueryBuilder::new("DELETE FROM quarantine WHERE feed = ");
                q.push_bind(feed);
                q.push(" AND record_key IN (");
                let mut sep = q.separated(", ");
                for r in chunk {
                    sep.push_bind(r.key.clone());
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
