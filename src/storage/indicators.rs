//! Indicator values: numerator and denominator per unit, indicator and
//! period, never a bare percentage.

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row};

use super::codec::{from_ts, ts};
use super::{Result, Store, with_pool};
use crate::indicators::IndicatorValue;

/// Rows per INSERT statement (8 parameters each).
const INSERT_CHUNK: usize = 1000;

impl Store {
    /// Stores indicator values, replacing earlier values for the same unit,
    /// indicator and period. `as_of` gives, per source, how current the
    /// data behind the values was.
    pub async fn upsert_indicator_values(
        &self,
        values: &[IndicatorValue],
        as_of: &std::collections::HashMap<&str, DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
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
                        sample = excluded.sample, computed_at = excluded.computed_at, as_of = excluded.as_of",
                );
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
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

    /// When the values of a period were first computed, if ever (the
    /// earliest computation among its units).
    pub async fn period_computed_at(&self, period: &str) -> Result<Option<DateTime<Utc>>> {
        with_pool!(self, |pool| {
            let t: Option<i64> = sqlx::query_scalar(
                "SELECT MIN(computed_at) FROM indicator_values WHERE period = $1",
            )
            .bind(period)
            .fetch_one(pool)
            .await?;
            Ok(t.map(from_ts))
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
