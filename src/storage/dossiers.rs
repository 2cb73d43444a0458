//! Dossiers: their table, and the reads that indicators need.

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::Row;

use super::codec::{from_ts_opt, json, parse, ts};
use super::records::{PollRun, UpsertCounts, stored_record};
use super::{Result, StorageError, Store, with_pool};
use crate::domain::{Channel, ComponentCounts, Dossier, DossierStatus, OnlinePayment, UnitCode};

stored_record! {
    Dossier, table "dossiers", feed "procedures.dossiers",
    key "code" = |d| d.code.clone(),
    instants ["received_at", "ended_at"] = |d| {
        [d.received_at, d.ended_at()].into_iter().flatten().collect()
    },
    columns |d| {
        "unit_code" => d.unit_code.as_str(),
        "procedure_code" => d.procedure_code.as_str(),
        "procedure_name" => d.procedure_name.clone(),
        "field_code" => d.field_code.clone(),
        "channel" => i64::from(d.channel.code()),
        "status" => i64::from(d.status.code()),
        "submitted_at" => d.submitted_at,
        "received_at" => d.received_at,
        "due_at" => d.due_at,
        "finished_at" => d.finished_at,
        "returned_at" => d.returned_at,
        "refused_at" => d.refused_at,
        "supplements" => serde_json::to_string(&d.supplements).unwrap_or_else(|_| "[]".into()),
        "apologies" => serde_json::to_string(&d.apologies).unwrap_or_else(|_| "[]".into()),
        "has_fees" => d.has_fees,
        "online_payment" => i64::from(payment_code(d.online_payment)),
        "digitized" => d.digitized,
        "components_total" => i64::from(d.components.total),
        "components_digitized" => i64::from(d.components.digitized),
        "components_reused" => i64::from(d.components.reused),
        "e_result" => d.e_result,
        "vneid_authenticated" => d.vneid_authenticated,
        "synced_to_portal" => d.synced_to_portal,
        "shared_to_citizen_store" => d.shared_to_citizen_store,
        "used_population_data" => d.used_population_data,
        "satisfaction" => d.satisfaction.map(|s| s.as_str().to_owned()),
        "upstream_updated_at" => d.updated_at,
        "ended_at" => d.ended_at(),
    }
}

fn payment_code(p: OnlinePayment) -> u8 {
    match p {
        OnlinePayment::NotPaidOnline => 0,
        OnlinePayment::NationalPortal => 1,
        OnlinePayment::ProvincialGateway => 2,
    }
}

fn payment_from_code(code: i64) -> Option<OnlinePayment> {
    match code {
        0 => Some(OnlinePayment::NotPaidOnline),
        1 => Some(OnlinePayment::NationalPortal),
        2 => Some(OnlinePayment::ProvincialGateway),
        _ => None,
    }
}

fn small(column: &str, v: i64) -> Result<u8> {
    u8::try_from(v).map_err(|_| StorageError::Corrupt(format!("{column} {v}")))
}

fn count(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

impl Store {
    /// Stores a page of dossiers (see `records`), outside any poll.
    pub async fn upsert_dossiers(
        &self,
        dossiers: &[Dossier],
        now: DateTime<Utc>,
    ) -> Result<UpsertCounts> {
        self.upsert_records(dossiers, now, None).await
    }

    /// Stores a page of dossiers as part of the poll `run`, as ingestion
    /// does (see [`Store::upsert_prepared`]).
    pub async fn upsert_dossiers_in(
        &self,
        dossiers: &[Dossier],
        now: DateTime<Utc>,
        run: PollRun,
    ) -> Result<UpsertCounts> {
        self.upsert_records(dossiers, now, Some(run)).await
    }

    /// Dossiers received in `[from, to)`, not deleted upstream.
    pub async fn dossiers_received_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Dossier>> {
        self.dossiers_where("received_at >= $1 AND received_at < $2", from, to)
            .await
    }

    /// Every dossier a period's indicators read: received in `[from, to)`,
    /// or whose processing ended then (done, returned, stopped or refused,
    /// or, for a withdrawal, its last change).
    pub async fn dossiers_for_period(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Dossier>> {
        self.dossiers_where(
            "((received_at >= $1 AND received_at < $2) OR (ended_at >= $1 AND ended_at < $2))",
            from,
            to,
        )
        .await
    }

    async fn dossiers_where(
        &self,
        condition: &'static str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Dossier>> {
        with_pool!(self, |pool| {
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT code, unit_code, procedure_code, procedure_name, field_code, channel, status,
                        submitted_at, received_at, due_at, finished_at, returned_at, refused_at,
                        supplements, apologies, has_fees, online_payment, digitized, components_total,
                        components_digitized, components_reused, e_result, vneid_authenticated,
                        synced_to_portal, shared_to_citizen_store, used_population_data, satisfaction,
                        upstream_updated_at
                 FROM dossiers WHERE {condition} AND deleted_at IS NULL"
            )))
            .bind(ts(from))
            .bind(ts(to))
            .fetch(pool);
            // Row by row: a quarter's dossiers held as rows and as
            // dossiers at once took over a gigabyte at 3,000 units.
            let mut out = Vec::new();
            while let Some(r) = rows.try_next().await? {
                {
                    let unit: String = r.try_get("unit_code")?;
                    let supplements: String = r.try_get("supplements")?;
                    let apologies: String = r.try_get("apologies")?;
                    let satisfaction: Option<String> = r.try_get("satisfaction")?;
                    let flag = |c: &str| r.try_get::<i64, _>(c).map(|v| v != 0);
                    let channel = small("dossiers.channel", r.try_get("channel")?)?;
                    let status = small("dossiers.status", r.try_get("status")?)?;
                    let payment: i64 = r.try_get("online_payment")?;
                    out.push(Dossier {
                        procedure_name: r.try_get("procedure_name")?,
                        field_code: r.try_get("field_code")?,
                        channel: Channel::from_code(channel).ok_or_else(|| {
                            StorageError::Corrupt(format!("dossiers.channel {channel}"))
                        })?,
                        status: DossierStatus::from_code(status).ok_or_else(|| {
                            StorageError::Corrupt(format!("dossiers.status {status}"))
                        })?,
                        submitted_at: from_ts_opt(r.try_get("submitted_at")?),
                        received_at: from_ts_opt(r.try_get("received_at")?),
                        due_at: from_ts_opt(r.try_get("due_at")?),
                        finished_at: from_ts_opt(r.try_get("finished_at")?),
                        returned_at: from_ts_opt(r.try_get("returned_at")?),
                        refused_at: from_ts_opt(r.try_get("refused_at")?),
                        supplements: json("dossiers.supplements", &supplements)?,
                        apologies: json("dossiers.apologies", &apologies)?,
                        has_fees: flag("has_fees")?,
                        online_payment: payment_from_code(payment).ok_or_else(|| {
                            StorageError::Corrupt(format!("dossiers.online_payment {payment}"))
                        })?,
                        digitized: flag("digitized")?,
                        components: ComponentCounts {
                            total: count(r.try_get("components_total")?),
                            digitized: count(r.try_get("components_digitized")?),
                            reused: count(r.try_get("components_reused")?),
                        },
                        e_result: flag("e_result")?,
                        vneid_authenticated: flag("vneid_authenticated")?,
                        synced_to_portal: flag("synced_to_portal")?,
                        shared_to_citizen_store: flag("shared_to_citizen_store")?,
                        used_population_data: flag("used_population_data")?,
                        satisfaction: satisfaction
                            .map(|s| parse("dossiers.satisfaction", &s))
                            .transpose()?,
                        updated_at: from_ts_opt(r.try_get("upstream_updated_at")?),
                        ..Dossier::new(
                            r.try_get::<String, _>("code")?,
                            parse::<UnitCode>("dossiers.unit_code", &unit)?,
                            r.try_get::<String, _>("procedure_code")?,
                        )
                    });
                }
            }
            Ok(out)
        })
    }

    /// Dossiers not deleted upstream, per unit and status code (for
    /// comparing ingestion with an upstream's own counts).
    pub async fn dossier_counts_by_unit_and_status(
        &self,
    ) -> Result<Vec<(String, DossierStatus, i64)>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT unit_code, status, COUNT(*) AS n FROM dossiers WHERE deleted_at IS NULL
                 GROUP BY unit_code, status ORDER BY unit_code, status",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let status = small("dossiers.status", r.try_get("status")?)?;
                    Ok((
                        r.try_get("unit_code")?,
                        DossierStatus::from_code(status).ok_or_else(|| {
                            StorageError::Corrupt(format!("dossiers.status {status}"))
                        })?,
                        r.try_get("n")?,
                    ))
                })
                .collect()
        })
    }

    /// Number of stored dossiers per unit.
    pub async fn dossier_counts_by_unit(&self) -> Result<Vec<(String, i64)>> {
        self.record_counts_by_unit(super::RecordTable::Dossiers)
            .await
    }
}
