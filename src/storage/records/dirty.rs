//! Dirty periods: the (unit, month) pairs whose indicators a change to the
//! records made stale. Marked in the transaction of the change, read and
//! cleared by the evaluator once it has recomputed them.

use std::collections::BTreeSet;

use sqlx::Row;

use crate::domain::UnitCode;
use crate::storage::codec::{from_ts, parse};
use crate::storage::{BeginWrite, Result, Store, with_pool};
use crate::time::Month;

/// A (unit, month) pair whose indicators are stale, as marked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirtyPeriod {
    pub unit: UnitCode,
    pub month: Month,
    /// When it was last marked (ms); a mark set again later survives the
    /// clearing of this one.
    pub marked_at: i64,
}

/// (unit, month) pairs to mark dirty.
pub(super) type DirtyMonths = BTreeSet<(String, String)>;

/// The month (`2026-08`) of a stored instant.
pub(super) fn month_of(t: i64) -> String {
    Month::containing(from_ts(t)).to_string()
}

impl Store {
    /// The (unit, month) pairs whose data changed since their indicators
    /// were computed, oldest month first.
    pub async fn dirty_periods(&self) -> Result<Vec<DirtyPeriod>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query("SELECT unit_code, period, marked_at FROM indicator_dirty ORDER BY period, unit_code")
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| {
                    let unit: String = r.try_get("unit_code")?;
                    let month: String = r.try_get("period")?;
                    Ok(DirtyPeriod {
                        unit: parse("indicator_dirty.unit_code", &unit)?,
                        month: parse("indicator_dirty.period", &month)?,
                        marked_at: r.try_get("marked_at")?,
                    })
                })
                .collect()
        })
    }

    /// Clears dirty marks that were set no later than `marked_at` (a mark set
    /// again meanwhile stays, so its change is not lost).
    pub async fn clear_dirty(&self, pairs: &[DirtyPeriod]) -> Result<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            for p in pairs {
                sqlx::query("DELETE FROM indicator_dirty WHERE unit_code = $1 AND period = $2 AND marked_at <= $3")
                    .bind(p.unit.as_str())
                    .bind(p.month.to_string())
                    .bind(p.marked_at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
