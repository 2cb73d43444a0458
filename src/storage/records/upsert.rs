//! The steps of storing one prepared page, in the order
//! [`Store::upsert_prepared`](crate::storage::Store::upsert_prepared)
//! takes them inside its transaction: read the stored versions, find the
//! codes this sync has seen for another unit, add units not yet known,
//! write what is new or changed, stamp what is unchanged, withdraw and
//! quarantine the conflicting codes, mark the months they change dirty,
//! and let clean records leave quarantine. A page expected to be all new
//! may skip to the marking (`PageBackend::insert_all_new`, in
//! `backend.rs`, where the steps that differ by backend are).
//!
//! The steps that talk to the database and are the same on both backends
//! are macros, like the other in-transaction helpers of storage:
//! [`with_pool!`](crate::storage::with_pool) expands the body once per
//! backend, and each expansion gets the concrete transaction. The steps
//! that only compute are functions.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::UpsertCounts;
use super::dirty::{DirtyMonths, month_of};
use super::prepared::{Layout, PreparedRow};
use crate::domain::quality::Check;
use crate::storage::sources::NewQuarantine;

/// What the steps of one page's write share.
pub(super) struct PageWrite {
    pub layout: Layout,
    /// The upstream's name of the key field, for quarantine entries.
    pub key_field: String,
    pub now_s: i64,
    /// The poll in progress, if any.
    pub sync_id: Option<i64>,
}

/// Codes served for more than one unit, with those units.
pub(super) type Conflicts = BTreeMap<String, BTreeSet<String>>;

/// A record's stored version, as the upsert compares it.
pub(super) struct Stored {
    pub hash: String,
    pub unit: String,
    pub seen_run: Option<i64>,
    pub deleted: bool,
    /// (unit, instant) of the stored version, whose months are dirty too
    /// if the record changes (a corrected date moves it).
    pub instants: Vec<(String, i64)>,
}

impl Stored {
    /// Marks the months the stored version feeds: it leaves them when it
    /// changes or is withdrawn.
    pub(super) fn mark_months(&self, dirty: &mut DirtyMonths) {
        for (unit, t) in &self.instants {
            dirty.insert((unit.clone(), month_of(*t)));
        }
    }
}

/// The stored versions of a page's keys, deleted ones included.
pub(super) type Existing = HashMap<String, Stored>;

/// The stored version of `key` that is not deleted: a deleted row counts
/// as absent (a record that comes back is written again, and undeleted,
/// even if unchanged).
pub(super) fn live<'a>(existing: &'a Existing, key: &str) -> Option<&'a Stored> {
    existing.get(key).filter(|st| !st.deleted)
}

/// How a statement names a list of keys. PostgreSQL takes them as one
/// array, `column = ANY($n)`: every chunk is then the same statement, whose
/// generic plan is cached, where an `IN` list of 2,000 parameters was
/// planned afresh at every execution (24 ms a page, more than its `COPY`).
/// SQLite has no arrays and takes `column IN (…)`, a parameter per key.
pub(super) trait KeyList: sqlx::Database {
    fn push_keys<'k>(
        q: &mut sqlx::QueryBuilder<Self>,
        column: &str,
        keys: impl IntoIterator<Item = &'k String>,
    );
}

impl KeyList for sqlx::Sqlite {
    fn push_keys<'k>(
        q: &mut sqlx::QueryBuilder<Self>,
        column: &str,
        keys: impl IntoIterator<Item = &'k String>,
    ) {
        q.push(format!("{column} IN ("));
        let mut sep = q.separated(", ");
        for k in keys {
            sep.push_bind(k.clone());
        }
        q.push(")");
    }
}

impl KeyList for sqlx::Postgres {
    fn push_keys<'k>(
        q: &mut sqlx::QueryBuilder<Self>,
        column: &str,
        keys: impl IntoIterator<Item = &'k String>,
    ) {
        q.push(format!("{column} = ANY("));
        q.push_bind(keys.into_iter().cloned().collect::<Vec<String>>());
        q.push(")");
    }
}

/// `column` is one of `keys`, as the statement's backend lists them.
pub(super) fn push_keys<'k, DB: KeyList>(
    q: &mut sqlx::QueryBuilder<DB>,
    column: &str,
    keys: impl IntoIterator<Item = &'k String>,
) {
    DB::push_keys(q, column, keys);
}

/// Reads the stored versions of `$keys` (an `Existing`), deleted ones
/// included, a chunk of keys per statement.
macro_rules! stored_versions {
    ($tx:expr, $layout:expr, $keys:expr) => {{
        use sqlx::Row as _;
        let layout: &$crate::storage::records::prepared::Layout = $layout;
        let keys: &[&String] = $keys;
        let (table, key_col) = (layout.table, layout.key);
        let instant_cols: String = layout
            .instant_columns
            .iter()
            .map(|c| format!(", {c}"))
            .collect();
        let mut existing = $crate::storage::records::upsert::Existing::with_capacity(keys.len());
        for chunk in keys.chunks($crate::storage::records::KEY_CHUNK) {
            let mut q = sqlx::QueryBuilder::new(format!(
                "SELECT {key_col} AS k, content_hash, unit_code, seen_run, deleted_at{instant_cols} FROM {table} WHERE "
            ));
            $crate::storage::records::upsert::push_keys(&mut q, key_col, chunk.iter().copied());
            for row in q.build().fetch_all(&mut *$tx).await? {
                let unit: String = row.try_get("unit_code")?;
                let mut instants = Vec::new();
                for c in layout.instant_columns {
                    if let Some(t) = row.try_get::<Option<i64>, _>(*c)? {
                        instants.push((unit.clone(), t));
                    }
                }
                existing.insert(
                    row.try_get("k")?,
                    $crate::storage::records::upsert::Stored {
                        hash: row.try_get("content_hash")?,
                        unit,
                        seen_run: row.try_get("seen_run")?,
                        deleted: row.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
                        instants,
                    },
                );
            }
        }
        existing
    }};
}
pub(super) use stored_versions;

/// Adds to `conflicts` the codes this sync has already stored for another
/// unit, or withdrawn, with the stored unit of every conflicting code, and
/// drops their rows: none of the copies is stored.
pub(super) fn note_sync_conflicts(
    rows: &mut Vec<PreparedRow>,
    conflicts: &mut Conflicts,
    existing: &Existing,
    sync_id: Option<i64>,
) {
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
        if let Some(st) = live(existing, key) {
            units.insert(st.unit.clone());
        }
    }
    rows.retain(|r| !conflicts.contains_key(&r.key));
}

/// The distinct units the rows name, in order.
pub(super) fn units_named(rows: &[PreparedRow]) -> Vec<String> {
    let units: BTreeSet<&str> = rows.iter().map(|r| r.unit.as_str()).collect();
    units.into_iter().map(str::to_owned).collect()
}

/// Sorts the rows by what their stored version says, counting them: the
/// new and changed rows (to write), and the keys of unchanged ones.
pub(super) fn sort_by_change<'a>(
    rows: &'a mut [PreparedRow],
    existing: &Existing,
    counts: &mut UpsertCounts,
) -> (Vec<&'a mut PreparedRow>, Vec<String>) {
    let mut changed: Vec<&mut PreparedRow> = Vec::new();
    let mut unchanged = Vec::new();
    for row in rows.iter_mut() {
        match live(existing, &row.key) {
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
    (changed, unchanged)
}

/// The upsert of a layout's rows: the head of the statement (up to its
/// values) and its `ON CONFLICT` tail.
pub(super) fn upsert_statement(layout: &Layout) -> (String, String) {
    let Layout {
        table,
        key: key_col,
        columns,
        ..
    } = *layout;
    let column_list = columns.join(", ");
    let updates: Vec<String> = columns
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let head = format!(
        "INSERT INTO {table} ({key_col}, {column_list}, content_hash, first_seen_at, changed_at, seen_run) "
    );
    let on_conflict = format!(
        " ON CONFLICT ({key_col}) DO UPDATE SET {}, content_hash = excluded.content_hash, \
         changed_at = excluded.changed_at, seen_run = COALESCE(excluded.seen_run, {table}.seen_run), deleted_at = NULL",
        updates.join(", ")
    );
    (head, on_conflict)
}

/// The (unit, month) pairs the written rows change: those of the new
/// version and those of the stored one it replaces.
pub(super) fn months_changed(changed: &[&mut PreparedRow], existing: &Existing) -> DirtyMonths {
    let mut dirty = months_of(changed.iter().map(|r| &**r));
    for r in changed {
        if let Some(old) = live(existing, &r.key) {
            old.mark_months(&mut dirty);
        }
    }
    dirty
}

/// The (unit, month) pairs the rows feed.
pub(super) fn months_of<'r>(rows: impl IntoIterator<Item = &'r PreparedRow>) -> DirtyMonths {
    let mut dirty = DirtyMonths::new();
    for r in rows {
        for month in &r.months {
            dirty.insert((r.unit.clone(), month.clone()));
        }
    }
    dirty
}

/// Stamps the unchanged rows (`$keys`) with the sync, if any, so that a
/// full reconciliation knows it saw them.
macro_rules! stamp_seen {
    ($tx:expr, $write:expr, $keys:expr) => {{
        let w: &$crate::storage::records::upsert::PageWrite = $write;
        let keys: &[String] = $keys;
        let (table, key_col) = (w.layout.table, w.layout.key);
        if let Some(sync_id) = w.sync_id {
            for chunk in keys.chunks($crate::storage::records::KEY_CHUNK) {
                let mut q = sqlx::QueryBuilder::new(format!("UPDATE {table} SET seen_run = "));
                q.push_bind(sync_id);
                q.push(" WHERE ");
                $crate::storage::records::upsert::push_keys(&mut q, key_col, chunk);
                q.build().execute(&mut *$tx).await?;
            }
        }
    }};
}
pub(super) use stamp_seen;

/// Withdraws the conflicting codes: the stored version leaves the figures
/// (marked deleted, its months added to `$dirty`), and the code is
/// quarantined with every unit it came for, those of earlier pages
/// included.
macro_rules! withdraw_conflicts {
    ($tx:expr, $write:expr, $conflicts:expr, $existing:expr, $dirty:expr) => {{
        let w: &$crate::storage::records::upsert::PageWrite = $write;
        let existing: &$crate::storage::records::upsert::Existing = $existing;
        let (table, key_col, feed) = (w.layout.table, w.layout.key, w.layout.feed);
        let (now_s, sync_id) = (w.now_s, w.sync_id);
        for (key, units) in $conflicts.iter_mut() {
            let raw: Option<String> = sqlx::query_scalar(
                "SELECT raw FROM quarantine WHERE feed = $1 AND record_key = $2 AND quality_check = $3",
            )
            .bind(feed)
            .bind(key.as_str())
            .bind($crate::domain::quality::Check::CodeForTwoUnits.as_str())
            .fetch_optional(&mut *$tx)
            .await?;
            $crate::storage::records::upsert::add_earlier_units(raw, units);
            if let Some(st) = $crate::storage::records::upsert::live(existing, key) {
                st.mark_months(&mut *$dirty);
                let sql = sqlx::AssertSqlSafe(format!(
                    "UPDATE {table} SET deleted_at = $1, seen_run = COALESCE($2, seen_run) WHERE {key_col} = $3"
                ));
                sqlx::query(sql)
                    .bind(now_s)
                    .bind(sync_id)
                    .bind(key.as_str())
                    .execute(&mut *$tx)
                    .await?;
            }
            let e = $crate::storage::records::upsert::conflict_entry(key, &w.key_field, units);
            $crate::storage::sources::quarantine_query!(feed, &e, now_s)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}
pub(super) use withdraw_conflicts;

/// Adds the units of the code's earlier quarantine entry (`raw`, if any)
/// to `units`.
pub(super) fn add_earlier_units(raw: Option<String>, units: &mut BTreeSet<String>) {
    if let Some(before) = raw.and_then(|r| serde_json::from_str::<serde_json::Value>(&r).ok()) {
        for u in before["units"].as_array().into_iter().flatten() {
            if let Some(u) = u.as_str() {
                units.insert(u.to_owned());
            }
        }
    }
}

/// The quarantine entry of a code served for two or more units.
pub(super) fn conflict_entry(
    key: &str,
    key_field: &str,
    units: &BTreeSet<String>,
) -> NewQuarantine {
    let list: Vec<&str> = units.iter().map(String::as_str).collect();
    NewQuarantine {
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

/// Takes the stored `$rows` out of quarantine: a record that now maps
/// cleanly leaves it. Mostly the feed has nothing there, and one probe
/// saves a lookup per row.
macro_rules! release_from_quarantine {
    ($tx:expr, $feed:expr, $rows:expr) => {{
        let feed: &str = $feed;
        let rows: &[$crate::storage::records::prepared::PreparedRow] = $rows;
        let quarantined: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM quarantine WHERE feed = $1 LIMIT 1) q",
        )
        .bind(feed)
        .fetch_one(&mut *$tx)
        .await?;
        for chunk in rows
            .chunks($crate::storage::records::CHUNK)
            .filter(|_| quarantined > 0)
        {
            let mut q = sqlx::QueryBuilder::new("DELETE FROM quarantine WHERE feed = ");
            q.push_bind(feed);
            q.push(" AND ");
            $crate::storage::records::upsert::push_keys(
                &mut q,
                "record_key",
                chunk.iter().map(|r| &r.key),
            );
            q.build().execute(&mut *$tx).await?;
        }
    }};
}
pub(super) use release_from_quarantine;
