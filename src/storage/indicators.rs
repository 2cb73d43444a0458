//! Indicator values: numerator and denominator per unit, indicator and
//! period, never a bare percentage.

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row};

use super::codec::{from_ts, ts};
use super::{BeginWrite, Result, Store, with_pool};
use crate::domain::{Ratio, UnitCode};
use crate::indicators::{IndicatorId, IndicatorValue};

/// Rows per INSERT statement (8 parameters each).
const INSERT_CHUNK: usize = 1000;

/// A fingerprint of the stored state the metrics show (see
/// [`Store::stored_state_version`]): equal fingerprints, equal state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateVersion([Option<i64>; 6]);

/// The units' count and last change, and the portal scores', as the
/// columns `units`, `units_changed`, `scores` and `scores_changed`: part of
/// both fingerprints below.
const UNITS_AND_SCORES: &str = "(SELECT COUNT(*) FROM units) AS units,
    (SELECT MAX(updated_at) FROM units) AS units_changed,
    (SELECT COUNT(*) FROM portal_scores) AS scores,
    (SELECT MAX(changed_at) FROM portal_scores) AS scores_changed";

/// A fingerprint of what an evaluation reads from the store besides the
/// records themselves (see [`Store::evaluation_inputs`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvaluationInputs {
    /// (unit, month) pairs whose records changed since they were last
    /// computed: any is a change the evaluation has not judged yet.
    pub dirty: i64,
    /// A silenced finding's silence has run out and waits to be ended.
    pub silence_ended: bool,
    /// The units' count and last change, and the portal scores'.
    versions: [Option<i64>; 4],
}

#[cfg(test)]
impl EvaluationInputs {
    /// `units` stands for the units' version.
    pub(crate) fn for_tests(dirty: i64, silence_ended: bool, units: i64) -> EvaluationInputs {
        EvaluationInputs {
            dirty,
            silence_ended,
            versions: [Some(units), None, None, None],
        }
    }
}

impl Store {
    /// What tells whether an evaluation at `now` could judge anything the
    /// last one did not, besides the clock, the configuration and the
    /// sources' freshness: records changed since they were last computed,
    /// silences run out, and the units' and portal scores' versions.
    pub async fn evaluation_inputs(&self, now: DateTime<Utc>) -> Result<EvaluationInputs> {
        with_pool!(self, |pool| {
            let sql = format!(
                "SELECT (SELECT COUNT(*) FROM indicator_dirty) AS dirty,
                        (SELECT COUNT(*) FROM findings WHERE state = 'silenced' AND silenced_until <= $1) AS silences,
                        {UNITS_AND_SCORES}"
            );
            let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(ts(now))
                .fetch_one(pool)
                .await?;
            let silences: i64 = r.try_get("silences")?;
            Ok(EvaluationInputs {
                dirty: r.try_get("dirty")?,
                silence_ended: silences > 0,
                versions: [
                    r.try_get("units")?,
                    r.try_get("units_changed")?,
                    r.try_get("scores")?,
                    r.try_get("scores_changed")?,
                ],
            })
        })
    }

    /// Stores the values of `period`, rewriting only those that changed
    /// (so a value's `computed_at` is when it last changed), and notes in
    /// `indicator_periods` when any value of the period last changed and,
    /// when `every_unit` was computed, when the period was. `as_of` gives,
    /// per source, how current the data behind the values was. Returns how
    /// many values were inserted or changed.
    pub async fn upsert_indicator_values(
        &self,
        period: &str,
        values: &[IndicatorValue],
        every_unit: bool,
        as_of: &std::collections::HashMap<&str, DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut changed = 0;
            for chunk in values.chunks(INSERT_CHUNK) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO indicator_values (unit_code, indicator, period, numerator, denominator, sample, computed_at, as_of) ",
                );
                q.push_values(chunk, |mut b, v| {
                    b.push_bind(v.unit_code.as_str())
                        .push_bind(v.indicator.as_str())
                        .push_bind(v.period.to_string())
                        .push_bind(i64::try_from(v.ratio.numerator).unwrap_or(i64::MAX))
                        .push_bind(i64::try_from(v.ratio.denominator).unwrap_or(i64::MAX))
                        .push_bind(serde_json::to_string(&v.sample).unwrap_or_else(|_| "[]".into()))
                        .push_bind(ts(now))
                        .push_bind(as_of.get(v.indicator.source()).map(|t| ts(*t)));
                });
                q.push(
                    " ON CONFLICT (unit_code, indicator, period) DO UPDATE SET
                        numerator = excluded.numerator, denominator = excluded.denominator,
                        sample = excluded.sample, computed_at = excluded.computed_at, as_of = excluded.as_of
                     WHERE indicator_values.numerator <> excluded.numerator
                        OR indicator_values.denominator <> excluded.denominator
                        OR indicator_values.sample <> excluded.sample",
                );
                changed += q.build().execute(&mut *tx).await?.rows_affected();
            }
            sqlx::query(
                "INSERT INTO indicator_periods (period, computed_at, changed_at) VALUES ($1, $2, $3)
                 ON CONFLICT (period) DO UPDATE SET
                    computed_at = COALESCE(excluded.computed_at, indicator_periods.computed_at),
                    changed_at = CASE WHEN $4 THEN excluded.changed_at ELSE indicator_periods.changed_at END",
            )
            .bind(period)
            .bind(every_unit.then(|| ts(now)))
            .bind(ts(now))
            .bind(changed > 0)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(changed)
        })
    }

    /// What the metrics refresh reads changes only when this does: when a
    /// value of `period` last changed, the last finding event (every
    /// finding change writes one), and the units' and portal scores'
    /// counts and last changes.
    pub async fn stored_state_version(&self, period: &str) -> Result<StateVersion> {
        with_pool!(self, |pool| {
            let sql = format!(
                "SELECT (SELECT changed_at FROM indicator_periods WHERE period = $1) AS indicators,
                        (SELECT MAX(id) FROM finding_events) AS findings,
                        {UNITS_AND_SCORES}"
            );
            let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(period)
                .fetch_one(pool)
                .await?;
            Ok(StateVersion([
                r.try_get("indicators")?,
                r.try_get("findings")?,
                r.try_get("units")?,
                r.try_get("units_changed")?,
                r.try_get("scores")?,
                r.try_get("scores_changed")?,
            ]))
        })
    }

    /// The stored indicator values for a period, for display.
    pub async fn indicator_values(
        &self,
        period: &str,
    ) -> Result<Vec<(String, String, i64, i64, DateTime<Utc>)>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT unit_code, indicator, numerator, denominator, computed_at
                 FROM indicator_values WHERE period = $1 ORDER BY unit_code, indicator",
            )
            .bind(period)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get("unit_code")?,
                        r.try_get("indicator")?,
                        r.try_get("numerator")?,
                        r.try_get("denominator")?,
                        from_ts(r.try_get("computed_at")?),
                    ))
                })
                .collect()
        })
    }

    /// The stored values of the given periods, as computed (for trends
    /// against earlier periods). Values of unknown indicators or units are
    /// skipped.
    pub async fn stored_indicator_values(&self, periods: &[String]) -> Result<Vec<IndicatorValue>> {
        let mut out = Vec::new();
        for period in periods {
            let rows: Vec<(String, String, i64, i64, String)> = with_pool!(self, |pool| {
                Ok::<_, super::StorageError>(
                    sqlx::query(
                        "SELECT unit_code, indicator, numerator, denominator, sample
                     FROM indicator_values WHERE period = $1",
                    )
                    .bind(period)
                    .fetch_all(pool)
                    .await?
                    .into_iter()
                    .map(|r| -> Result<_> {
                        Ok((
                            r.try_get::<String, _>("unit_code")?,
                            r.try_get::<String, _>("indicator")?,
                            r.try_get::<i64, _>("numerator")?,
                            r.try_get::<i64, _>("denominator")?,
                            r.try_get::<String, _>("sample")?,
                        ))
                    })
                    .collect::<Result<Vec<_>>>()?,
                )
            })?;
            for (unit, indicator, n, d, sample) in rows {
                let (Ok(unit_code), Ok(indicator)) =
                    (UnitCode::parse(&unit), indicator.parse::<IndicatorId>())
                else {
                    continue;
                };
                out.push(IndicatorValue {
                    unit_code,
                    indicator,
                    period: period.clone(),
                    ratio: Ratio::new(u64::try_from(n).unwrap_or(0), u64::try_from(d).unwrap_or(0)),
                    sample: serde_json::from_str(&sample).unwrap_or_default(),
                });
            }
        }
        Ok(out)
    }

    /// When every unit's values of a period were last computed, if ever.
    pub async fn period_computed_at(&self, period: &str) -> Result<Option<DateTime<Utc>>> {
        with_pool!(self, |pool| {
            let t: Option<Option<i64>> =
                sqlx::query_scalar("SELECT computed_at FROM indicator_periods WHERE period = $1")
                    .bind(period)
                    .fetch_optional(pool)
                    .await?;
            Ok(t.flatten().map(from_ts))
        })
    }

    /// The stored indicator values of a period for units that are not
    /// retired, as `(unit, indicator, numerator, denominator)` (for metrics).
    pub async fn current_indicator_values(
        &self,
        period: &str,
    ) -> Result<Vec<(String, String, i64, i64)>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT v.unit_code, v.indicator, v.numerator, v.denominator
                 FROM indicator_values v JOIN units u ON u.code = v.unit_code
                 WHERE v.period = $1 AND u.retired_at IS NULL
                 ORDER BY v.unit_code, v.indicator",
            )
            .bind(period)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get("unit_code")?,
                        r.try_get("indicator")?,
                        r.try_get("numerator")?,
                        r.try_get("denominator")?,
                    ))
                })
                .collect()
        })
    }
}
