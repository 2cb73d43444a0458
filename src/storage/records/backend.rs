//! The steps of a page's write that differ by backend, one trait
//! implemented for each backend's connection, called inside the page's
//! transaction by
//! [`Store::upsert_prepared`](crate::storage::Store::upsert_prepared).
//!
//! - SQLite: multi-row statements, a chunk of rows each (an embedded
//!   database has no cheaper path in, and no round trips to save).
//! - PostgreSQL: lists go as arrays (`unnest`, `= ANY`), one statement
//!   whatever their length, so each statement's plan is cached; a
//!   multi-row `INSERT` of 2,000 rows was planned afresh at every page.
//!   New rows go by `COPY … FROM STDIN` (text format): straight into the
//!   record table when the page's keys are new, under a savepoint that
//!   falls back to the merge on a unique violation; changed rows into a
//!   temporary staging table (created once per connection, emptied at
//!   every commit: `ON COMMIT DELETE ROWS`) and one
//!   `INSERT … SELECT … ON CONFLICT` merges them. A page's commit does
//!   not wait for the disk (`synchronous_commit = off`): the feed's cursor
//!   moves in a later transaction that does, and its flush makes every
//!   page before it durable, so a crash loses at most pages the cursor does
//!   not yet cover, which the next poll fetches again.
//!
//! A failed page rolls back with its transaction, staged rows included, so
//! nothing of it is stored and the feed's cursor stays where it was.

use std::fmt::Write as _;
use std::future::Future;

use super::CHUNK;
use super::dirty::DirtyMonths;
use super::prepared::{Bind, PreparedRow, push_bind};
use super::upsert::{PageWrite, upsert_statement};

/// The steps of one page's write that differ by backend.
pub(super) trait PageBackend {
    /// Sets how the page's transaction commits; called first in it.
    fn relax_commit(&mut self) -> impl Future<Output = sqlx::Result<()>> + Send;

    /// Adds the `units` not known yet as inferred units; returns how many
    /// were new.
    fn add_inferred_units(
        &mut self,
        units: &[String],
        now_s: i64,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;

    /// Marks (unit, month) pairs dirty; `marked_at` (ms) moves forward
    /// when a pair is marked again.
    fn mark_dirty(
        &mut self,
        pairs: &DirtyMonths,
        now_ms: i64,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;

    /// Stores every row of the page as new, with the inferred `units` it
    /// names, skipping the read of stored versions. `Some(units added)` if
    /// every key was new; `None` if one was stored already (or the backend
    /// has no such path), and then nothing of the attempt is kept.
    fn insert_all_new(
        &mut self,
        w: &PageWrite,
        rows: &[PreparedRow],
        units: &[String],
    ) -> impl Future<Output = sqlx::Result<Option<u64>>> + Send;

    /// Writes the new and changed rows, of which `stored` tells the keys
    /// already in the table (deleted ones included).
    fn write_changed(
        &mut self,
        w: &PageWrite,
        changed: &mut [&mut PreparedRow],
        stored: &(dyn Fn(&str) -> bool + Sync),
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
}

const MARK_DIRTY: &str = "INSERT INTO indicator_dirty (unit_code, period, marked_at) ";
const ON_DIRTY: &str =
    " ON CONFLICT (unit_code, period) DO UPDATE SET marked_at = excluded.marked_at";
const ADD_UNITS: &str = "INSERT INTO units (code, name, origin, created_at, updated_at) ";

impl PageBackend for sqlx::SqliteConnection {
    async fn relax_commit(&mut self) -> sqlx::Result<()> {
        Ok(()) // WAL with synchronous=NORMAL already commits without a sync
    }

    async fn add_inferred_units(&mut self, units: &[String], now_s: i64) -> sqlx::Result<u64> {
        let mut added = 0;
        for chunk in units.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::new(ADD_UNITS);
            q.push_values(chunk, |mut b, code| {
                b.push_bind(code.clone())
                    .push_bind(code.clone())
                    .push_bind("inferred")
                    .push_bind(now_s)
                    .push_bind(now_s);
            });
            q.push(" ON CONFLICT (code) DO NOTHING");
            added += q.build().execute(&mut *self).await?.rows_affected();
        }
        Ok(added)
    }

    async fn mark_dirty(&mut self, pairs: &DirtyMonths, now_ms: i64) -> sqlx::Result<()> {
        let list: Vec<&(String, String)> = pairs.iter().collect();
        for chunk in list.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::new(MARK_DIRTY);
            q.push_values(chunk, |mut b, (unit, period)| {
                b.push_bind(unit.clone())
                    .push_bind(period.clone())
                    .push_bind(now_ms);
            });
            q.push(ON_DIRTY);
            q.build().execute(&mut *self).await?;
        }
        Ok(())
    }

    async fn insert_all_new(
        &mut self,
        _w: &PageWrite,
        _rows: &[PreparedRow],
        _units: &[String],
    ) -> sqlx::Result<Option<u64>> {
        // Reading stored versions is an in-process index lookup here,
        // cheaper than a failed attempt would be.
        Ok(None)
    }

    async fn write_changed(
        &mut self,
        w: &PageWrite,
        changed: &mut [&mut PreparedRow],
        _stored: &(dyn Fn(&str) -> bool + Sync),
    ) -> sqlx::Result<()> {
        let (now_s, sync_id) = (w.now_s, w.sync_id);
        let (head, on_conflict) = upsert_statement(&w.layout);
        let insert = |chunk: &mut [&mut PreparedRow]| {
            let mut q = sqlx::QueryBuilder::new(head.as_str());
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
        // poll hands a statement to SQLite's worker thread, and building
        // the next one's arguments takes this task about a quarter of the
        // time the database takes to run it.
        let mut chunks = changed.chunks_mut(CHUNK);
        let mut next = chunks.next().map(insert);
        while let Some(mut q) = next.take() {
            let mut running = std::pin::pin!(q.build().execute(&mut *self));
            let sent = futures_util::poll!(running.as_mut());
            next = chunks.next().map(insert);
            match sent {
                std::task::Poll::Ready(done) => done?,
                std::task::Poll::Pending => running.await?,
            };
        }
        Ok(())
    }
}

impl PageBackend for sqlx::PgConnection {
    async fn relax_commit(&mut self) -> sqlx::Result<()> {
        sqlx::raw_sql("SET LOCAL synchronous_commit = off")
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn add_inferred_units(&mut self, units: &[String], now_s: i64) -> sqlx::Result<u64> {
        if units.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "{ADD_UNITS}SELECT c, c, 'inferred', $2, $2 FROM unnest($1::text[]) AS t(c) ON CONFLICT (code) DO NOTHING"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(units)
            .bind(now_s)
            .execute(&mut *self)
            .await?;
        Ok(done.rows_affected())
    }

    async fn mark_dirty(&mut self, pairs: &DirtyMonths, now_ms: i64) -> sqlx::Result<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        let (units, periods): (Vec<&str>, Vec<&str>) =
            pairs.iter().map(|(u, p)| (u.as_str(), p.as_str())).unzip();
        let sql = format!(
            "{MARK_DIRTY}SELECT u, p, $3 FROM unnest($1::text[], $2::text[]) AS t(u, p){ON_DIRTY}"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(units)
            .bind(periods)
            .bind(now_ms)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn insert_all_new(
        &mut self,
        w: &PageWrite,
        rows: &[PreparedRow],
        units: &[String],
    ) -> sqlx::Result<Option<u64>> {
        let rows: Vec<&PreparedRow> = rows.iter().collect();
        sqlx::raw_sql("SAVEPOINT parmon_fresh")
            .execute(&mut *self)
            .await?;
        let added = self.add_inferred_units(units, w.now_s).await?;
        let mut text = String::new();
        Ok(copy_fresh(self, w, &rows, &mut text)
            .await?
            .then_some(added))
    }

    async fn write_changed(
        &mut self,
        w: &PageWrite,
        changed: &mut [&mut PreparedRow],
        stored: &(dyn Fn(&str) -> bool + Sync),
    ) -> sqlx::Result<()> {
        let (fresh, present): (Vec<&PreparedRow>, Vec<&PreparedRow>) =
            changed.iter().map(|r| &**r).partition(|r| !stored(&r.key));
        let columns = staged_columns(w);
        let table = w.layout.table;
        let mut to_merge = String::new();
        copy_text(&mut to_merge, w, present);
        if !fresh.is_empty() {
            // Keys the page's read found nowhere in the table go straight
            // in. Another instance may have stored one of them since: its
            // unique violation rolls back to the savepoint and the rows
            // are merged instead.
            sqlx::raw_sql("SAVEPOINT parmon_fresh")
                .execute(&mut *self)
                .await?;
            let mut text = String::new();
            if !copy_fresh(self, w, &fresh, &mut text).await? {
                to_merge.push_str(&text);
            }
        }
        if to_merge.is_empty() {
            return Ok(());
        }
        let stage = format!("parmon_stage_{table}");
        let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
            .bind(format!("pg_temp.{stage}"))
            .fetch_one(&mut *self)
            .await?;
        if exists.is_none() {
            // CREATE TABLE AS copies the column types and none of the
            // constraints: the merge is where keys and references hold.
            let sql = format!(
                "CREATE TEMPORARY TABLE {stage} ON COMMIT DELETE ROWS AS SELECT {columns} FROM {table} WITH NO DATA"
            );
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut *self)
                .await?;
        }
        copy_into(self, &stage, &columns, to_merge.as_bytes()).await?;
        let (head, on_conflict) = upsert_statement(&w.layout);
        let merge = format!("{head} SELECT {columns} FROM {stage}{on_conflict}");
        sqlx::query(sqlx::AssertSqlSafe(merge))
            .execute(&mut *self)
            .await?;
        Ok(())
    }
}

/// Copies `rows` into the record table after the caller's `SAVEPOINT
/// parmon_fresh`, leaving their text in `text`: true if they went in,
/// false if a key was already there, and then the savepoint is rolled
/// back to (whatever the caller did after it too).
async fn copy_fresh(
    conn: &mut sqlx::PgConnection,
    w: &PageWrite,
    rows: &[&PreparedRow],
    text: &mut String,
) -> sqlx::Result<bool> {
    match copy_rows(conn, w, rows, text).await {
        Ok(()) => {
            sqlx::raw_sql("RELEASE SAVEPOINT parmon_fresh")
                .execute(&mut *conn)
                .await?;
            Ok(true)
        }
        Err(e) if is_unique_violation(&e) => {
            sqlx::raw_sql("ROLLBACK TO SAVEPOINT parmon_fresh")
                .execute(&mut *conn)
                .await?;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Rows per message of a `COPY` into the record table: each is sent as
/// soon as it is written, so the server stores one while the next is
/// written, rather than waiting for the whole page.
const COPY_ROWS_PER_MESSAGE: usize = 250;

/// `COPY` of `rows` into the record table, written (and kept in `text`)
/// a message at a time.
async fn copy_rows(
    conn: &mut sqlx::PgConnection,
    w: &PageWrite,
    rows: &[&PreparedRow],
    text: &mut String,
) -> sqlx::Result<()> {
    let statement = format!("COPY {} ({}) FROM STDIN", w.layout.table, staged_columns(w));
    let mut copy = conn.copy_in_raw(&statement).await?;
    for chunk in rows.chunks(COPY_ROWS_PER_MESSAGE) {
        let from = text.len();
        copy_text(text, w, chunk.iter().copied());
        copy.send(&text.as_bytes()[from..]).await?;
    }
    copy.finish().await?;
    Ok(())
}

/// `COPY table (columns) FROM STDIN` of rows in the text format.
async fn copy_into(
    conn: &mut sqlx::PgConnection,
    table: &str,
    columns: &str,
    data: &[u8],
) -> sqlx::Result<()> {
    let mut copy = conn
        .copy_in_raw(&format!("COPY {table} ({columns}) FROM STDIN"))
        .await?;
    copy.send(data).await?;
    copy.finish().await?;
    Ok(())
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// The staged columns, in the order of [`upsert_statement`]'s insert.
fn staged_columns(w: &PageWrite) -> String {
    format!(
        "{}, {}, content_hash, first_seen_at, changed_at, seen_run",
        w.layout.key,
        w.layout.columns.join(", ")
    )
}

/// Appends the rows to `out` in `COPY`'s text format: one line each,
/// fields separated by tabs, `\N` for null, backslash escapes for the
/// characters that would break a field.
pub(super) fn copy_text<'r>(
    out: &mut String,
    w: &PageWrite,
    rows: impl IntoIterator<Item = &'r PreparedRow>,
) {
    for r in rows {
        push_text(out, &r.key);
        for v in &r.binds {
            out.push('\t');
            match v {
                Bind::Int(Some(v)) => {
                    let _ = write!(out, "{v}");
                }
                Bind::Real(Some(v)) => {
                    let _ = write!(out, "{v:?}");
                }
                Bind::Text(Some(v)) => push_text(out, v),
                Bind::Int(None) | Bind::Real(None) | Bind::Text(None) => out.push_str("\\N"),
            }
        }
        out.push('\t');
        push_text(out, &r.hash);
        let _ = write!(out, "\t{}\t{}\t", w.now_s, w.now_s);
        match w.sync_id {
            Some(id) => {
                let _ = write!(out, "{id}");
            }
            None => out.push_str("\\N"),
        }
        out.push('\n');
    }
}

fn push_text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::records::prepared::Layout;

    fn write(sync_id: Option<i64>) -> PageWrite {
        PageWrite {
            layout: Layout {
                table: "t",
                key: "code",
                columns: &["a", "b", "c"],
                feed: "f",
                instant_columns: &[],
            },
            key_field: "code".into(),
            now_s: 1_700_000_000,
            sync_id,
        }
    }

    fn row(key: &str, binds: Vec<Bind>) -> PreparedRow {
        PreparedRow {
            key: key.into(),
            unit: "U".into(),
            binds,
            hash: "h".into(),
            months: vec![],
        }
    }

    #[test]
    fn copy_text_escapes_what_would_break_a_field_and_writes_nulls() {
        let cases: Vec<(Vec<Bind>, Option<i64>, &str)> = vec![
            (
                vec![
                    Bind::Int(Some(-3)),
                    Bind::Real(Some(0.5)),
                    Bind::from("Sở Tư pháp"),
                ],
                Some(7),
                "K\t-3\t0.5\tSở Tư pháp\th\t1700000000\t1700000000\t7\n",
            ),
            (
                vec![Bind::Int(None), Bind::Real(None), Bind::Text(None)],
                None,
                "K\t\\N\t\\N\t\\N\th\t1700000000\t1700000000\t\\N\n",
            ),
            (
                vec![
                    Bind::Int(Some(0)),
                    Bind::Real(Some(1.0)),
                    Bind::from("a\\b\tc\nd\re \\N"),
                ],
                None,
                "K\t0\t1.0\ta\\\\b\\tc\\nd\\re \\\\N\th\t1700000000\t1700000000\t\\N\n",
            ),
        ];
        for (binds, sync, want) in cases {
            let r = row("K", binds);
            let mut out = String::new();
            copy_text(&mut out, &write(sync), [&r]);
            assert_eq!(out, want);
        }
    }
}
