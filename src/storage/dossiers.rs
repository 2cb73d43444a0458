//! Dossiers: idempotent ingestion and the reads that indicators need.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::{QueryBuilder, Row};

use super::codec::{from_ts, from_ts_opt, json, ts, ts_opt};
use super::{Result, StorageError, Store, with_pool};
use crate::domain::{Channel, Dossier, DossierStatus, UnitCode};
use crate::indicators::IndicatorValue;

/// What an ingestion batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Units first seen on these records (not in configuration).
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

/// Rows per INSERT statement: 18 parameters each stays far below both
/// backends' parameter limits (SQLite 32766, PostgreSQL 65535).
const INSERT_CHUNK: usize = 500;

/// A dossier flattened for storage.
struct Flat<'a> {
    d: &'a Dossier,
    supplements: String,
    hash: String,
}

fn flatten(d: &Dossier) -> Flat<'_> {
    let supplements = serde_json::to_string(&d.supplements).unwrap_or_else(|_| "[]".into());
    // The hash covers the whole record, so any upstream change rewrites the
    // row and an identical re-poll writes nothing.
    let canonical = serde_json::to_vec(d).unwrap_or_default();
    let hash = format!("{:x}", Sha256::digest(&canonical));
    Flat {
        d,
        supplements,
        hash,
    }
}

impl Store {
    /// Stores a page of dossiers in one transaction. New records are
    /// inserted, changed ones updated, identical ones left alone. Units seen
    /// for the first time are added as `inferred`.
    pub async fn upsert_dossiers(
        &self,
        dossiers: &[Dossier],
        now: DateTime<Utc>,
    ) -> Result<UpsertCounts> {
        if dossiers.is_empty() {
            return Ok(UpsertCounts::default());
        }
        // Later duplicates of a code within one page win: the upstream listed
        // the record twice and the last copy is the newest we have.
        let mut by_code: HashMap<&str, &Dossier> = HashMap::with_capacity(dossiers.len());
        for d in dossiers {
            by_code.insert(d.code.as_str(), d);
        }
        let flats: Vec<Flat<'_>> = by_code.values().map(|d| flatten(d)).collect();
        let unit_codes: BTreeSet<&UnitCode> = flats.iter().map(|f| &f.d.unit_code).collect();
        let now_s = ts(now);

        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let mut counts = UpsertCounts::default();

            let mut q = QueryBuilder::new(
                "INSERT INTO units (code, name, origin, created_at, updated_at) ",
            );
            q.push_values(&unit_codes, |mut b, code| {
                b.push_bind(code.as_str())
                    .push_bind(code.as_str())
                    .push_bind("inferred")
                    .push_bind(now_s)
                    .push_bind(now_s);
            });
            q.push(" ON CONFLICT (code) DO NOTHING");
            counts.new_units = q.build().execute(&mut *tx).await?.rows_affected();

            let mut existing: HashMap<String, String> = HashMap::with_capacity(flats.len());
            for chunk in flats.chunks(INSERT_CHUNK) {
                let mut q =
                    QueryBuilder::new("SELECT code, content_hash FROM dossiers WHERE code IN (");
                let mut sep = q.separated(", ");
                for f in chunk {
                    sep.push_bind(f.d.code.as_str());
                }
                q.push(")");
                for row in q.build().fetch_all(&mut *tx).await? {
                    existing.insert(row.try_get("code")?, row.try_get("content_hash")?);
                }
            }

            let changed: Vec<&Flat<'_>> = flats
                .iter()
                .filter(|f| match existing.get(&f.d.code) {
                    None => {
                        counts.inserted += 1;
                        true
                    }
                    Some(h) if *h != f.hash => {
                        counts.updated += 1;
                        true
                    }
                    Some(_) => {
                        counts.unchanged += 1;
                        false
                    }
                })
                .collect();

            for chunk in changed.chunks(INSERT_CHUNK) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO dossiers (code, unit_code, procedure_code, procedure_name, channel, status,
                        submitted_at, received_at, due_at, finished_at, returned_at, refused_at,
                        supplements, upstream_updated_at, content_hash, first_seen_at, changed_at) ",
                );
                q.push_values(chunk, |mut b, f| {
                    let d = f.d;
                    b.push_bind(d.code.as_str())
                        .push_bind(d.unit_code.as_str())
                        .push_bind(d.procedure_code.as_str())
                        .push_bind(d.procedure_name.as_deref())
                        .push_bind(i64::from(d.channel.code()))
                        .push_bind(i64::from(d.status.code()))
                        .push_bind(ts_opt(d.submitted_at))
                        .push_bind(ts_opt(d.received_at))
                        .push_bind(ts_opt(d.due_at))
                        .push_bind(ts_opt(d.finished_at))
                        .push_bind(ts_opt(d.returned_at))
                        .push_bind(ts_opt(d.refused_at))
                        .push_bind(f.supplements.as_str())
                        .push_bind(ts_opt(d.updated_at))
                        .push_bind(f.hash.as_str())
                        .push_bind(now_s)
                        .push_bind(now_s);
                });
                q.push(
                    " ON CONFLICT (code) DO UPDATE SET
                        unit_code = excluded.unit_code, procedure_code = excluded.procedure_code,
                        procedure_name = excluded.procedure_name, channel = excluded.channel,
                        status = excluded.status, submitted_at = excluded.submitted_at,
                        received_at = excluded.received_at, due_at = excluded.due_at,
                        finished_at = excluded.finished_at, returned_at = excluded.returned_at,
                        refused_at = excluded.refused_at, supplements = excluded.supplements,
                        upstream_updated_at = excluded.upstream_updated_at,
                        content_hash = excluded.content_hash, changed_at = excluded.changed_at",
                );
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(counts)
        })
    }

    /// Dossiers received in `[from, to)`.
    pub async fn dossiers_received_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Dossier>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT code, unit_code, procedure_code, procedure_name, channel, status,
                        submitted_at, received_at, due_at, finished_at, returned_at, refused_at,
                        supplements, upstream_updated_at
                 FROM dossiers WHERE received_at >= $1 AND received_at < $2",
            )
            .bind(ts(from))
            .bind(ts(to))
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let status: i64 = r.try_get("status")?;
                    let channel: i64 = r.try_get("channel")?;
                    let unit: String = r.try_get("unit_code")?;
                    let supplements: String = r.try_get("supplements")?;
                    Ok(Dossier {
                        code: r.try_get("code")?,
                        unit_code: UnitCode::parse(&unit)
                            .map_err(|e| StorageError::Corrupt(e.to_string()))?,
                        procedure_code: r.try_get("procedure_code")?,
                        procedure_name: r.try_get("procedure_name")?,
                        channel: u8::try_from(channel)
                            .ok()
                            .and_then(Channel::from_code)
                            .ok_or_else(|| {
                                StorageError::Corrupt(format!("dossiers.channel {channel}"))
                            })?,
                        status: u8::try_from(status)
                            .ok()
                            .and_then(DossierStatus::from_code)
                            .ok_or_else(|| {
                                StorageError::Corrupt(format!("dossiers.status {status}"))
                            })?,
                        submitted_at: from_ts_opt(r.try_get("submitted_at")?),
                        received_at: from_ts_opt(r.try_get("received_at")?),
                        due_at: from_ts_opt(r.try_get("due_at")?),
                        finished_at: from_ts_opt(r.try_get("finished_at")?),
                        returned_at: from_ts_opt(r.try_get("returned_at")?),
                        refused_at: from_ts_opt(r.try_get("refused_at")?),
                        supplements: json("dossiers.supplements", &supplements)?,
                        updated_at: from_ts_opt(r.try_get("upstream_updated_at")?),
                        ..Dossier::new(String::new(), UnitCode::parse("X").expect("valid"), "")
                    })
                })
                .collect()
        })
    }

    /// Number of stored dossiers per unit (for `sources` and tests).
    pub async fn dossier_counts_by_unit(&self) -> Result<Vec<(String, i64)>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT unit_code, COUNT(*) AS n FROM dossiers GROUP BY unit_code ORDER BY unit_code",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| Ok((r.try_get("unit_code")?, r.try_get("n")?)))
                .collect()
        })
    }

    /// Stores indicator values, replacing earlier values for the same unit,
    /// indicator and period.
    pub async fn upsert_indicator_values(
        &self,
        values: &[IndicatorValue],
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            for chunk in values.chunks(INSERT_CHUNK) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO indicator_values (unit_code, indicator, period, numerator, denominator, sample, computed_at) ",
                );
                q.push_values(chunk, |mut b, v| {
                    b.push_bind(v.unit_code.as_str())
                        .push_bind(v.indicator.as_str())
                        .push_bind(v.period.to_string())
                        .push_bind(i64::try_from(v.ratio.numerator).unwrap_or(i64::MAX))
                        .push_bind(i64::try_from(v.ratio.denominator).unwrap_or(i64::MAX))
                        .push_bind(serde_json::to_string(&v.sample).unwrap_or_else(|_| "[]".into()))
                        .push_bind(ts(now));
                });
                q.push(
                    " ON CONFLICT (unit_code, indicator, period) DO UPDATE SET
                        numerator = excluded.numerator, denominator = excluded.denominator,
                        sample = excluded.sample, computed_at = excluded.computed_at",
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
}
