//! Writing a page's new and changed rows, the one step of
//! [`Store::upsert_prepared`](crate::storage::Store::upsert_prepared) that
//! differs by backend.
//!
//! - SQLite: multi-row `INSERT … ON CONFLICT`, a chunk per statement (an
//!   embedded database has no cheaper path in).
//! - PostgreSQL: the rows go by `COPY … FROM STDIN` (text format) into a
//!   temporary staging table of the record table's columns, and one
//!   `INSERT … SELECT … ON CONFLICT` merges them. Parsing a multi-row
//!   `INSERT` with tens of thousands of parameters cost the server five
//!   times what `COPY` does. The staging table is created once per
//!   connection and emptied at every commit (`ON COMMIT DELETE ROWS`);
//!   a failed page rolls back with its transaction, staged rows included,
//!   so nothing of it is stored and the feed's cursor stays where it was.

use std::fmt::Write as _;
use std::future::Future;

use super::prepared::{Bind, PreparedRow};
use super::upsert::{PageWrite, upsert_statement};

/// Writes the new and changed rows of one page, inside the page's
/// transaction, taking their binds.
pub(super) trait WriteChanged {
    fn write_changed(
        &mut self,
        w: &PageWrite,
        changed: &mut [&mut PreparedRow],
        stored: &(dyn Fn(&str) -> bool + Sync),
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
}

impl WriteChanged for sqlx::SqliteConnection {
    async fn write_changed(
        &mut self,
        w: &PageWrite,
        changed: &mut [&mut PreparedRow],
        _stored: &(dyn Fn(&str) -> bool + Sync),
    ) -> sqlx::Result<()> {
        super::upsert::write_changed!(self, w, changed);
        Ok(())
    }
}

impl WriteChanged for sqlx::PgConnection {
    async fn write_changed(
        &mut self,
        w: &PageWrite,
        changed: &mut [&mut PreparedRow],
        stored: &(dyn Fn(&str) -> bool + Sync),
    ) -> sqlx::Result<()> {
        let (fresh, present): (Vec<&mut PreparedRow>, Vec<_>) = changed
            .iter_mut()
            .map(|r| &mut **r)
            .partition(|r| !stored(&r.key));
        let columns = staged_columns(w);
        let table = w.layout.table;
        let mut to_merge = copy_text(w, present);
        if !fresh.is_empty() {
            // Keys the page's read found nowhere in the table go straight
            // in. Another instance may have stored one of them since: its
            // unique violation rolls back to the savepoint and the rows
            // are merged instead.
            let fresh = copy_text(w, fresh);
            sqlx::raw_sql("SAVEPOINT parmon_fresh")
                .execute(&mut *self)
                .await?;
            match copy_into(self, table, &columns, fresh.as_bytes()).await {
                Ok(()) => {
                    sqlx::raw_sql("RELEASE SAVEPOINT parmon_fresh")
                        .execute(&mut *self)
                        .await?;
                }
                Err(e) if is_unique_violation(&e) => {
                    sqlx::raw_sql("ROLLBACK TO SAVEPOINT parmon_fresh")
                        .execute(&mut *self)
                        .await?;
                    to_merge.push_str(&fresh);
                }
                Err(e) => return Err(e),
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

/// The rows in `COPY`'s text format: one line each, fields separated by
/// tabs, `\N` for null, backslash escapes for the characters that would
/// break a field.
pub(super) fn copy_text<'r>(
    w: &PageWrite,
    changed: impl IntoIterator<Item = &'r mut PreparedRow>,
) -> String {
    let mut out = String::new();
    for r in changed {
        push_text(&mut out, &r.key);
        for v in std::mem::take(&mut r.binds) {
            out.push('\t');
            match v {
                Bind::Int(Some(v)) => {
                    let _ = write!(out, "{v}");
                }
                Bind::Real(Some(v)) => {
                    let _ = write!(out, "{v:?}");
                }
                Bind::Text(Some(v)) => push_text(&mut out, &v),
                Bind::Int(None) | Bind::Real(None) | Bind::Text(None) => out.push_str("\\N"),
            }
        }
        out.push('\t');
        push_text(&mut out, &r.hash);
        let _ = write!(out, "\t{}\t{}\t", w.now_s, w.now_s);
        match w.sync_id {
            Some(id) => {
                let _ = write!(out, "{id}");
            }
            None => out.push_str("\\N"),
        }
        out.push('\n');
    }
    out
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
            let mut r = row("K", binds);
            assert_eq!(copy_text(&write(sync), [&mut r]), want);
        }
    }
}
