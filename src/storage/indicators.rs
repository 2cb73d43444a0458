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
            let mut tx = pool.begin_write().await?;
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
