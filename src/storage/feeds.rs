//! Tables of the other ingested records: petitions, documents, reports and
//! the portal's official scores.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::codec::{from_ts, from_ts_opt, json, parse, ts};
use super::records::{Bind, UpsertCounts, stored_record};
use super::{Result, Store, with_pool};
use crate::domain::{Document, Petition, PortalScore, Report, UnitCode};

stored_record! {
    Petition, table "petitions", feed "procedures.petitions",
    key "code" = |p| p.code.clone(),
    instants ["received_at"] = |p| p.received_at.into_iter().collect(),
    columns |p| {
        "unit_code" => p.unit_code.as_str(),
        "category" => p.category.as_str(),
        "received_at" => p.received_at,
        "due_at" => p.due_at,
        "answered_at" => p.answered_at,
        "satisfaction" => p.satisfaction.map(|s| s.as_str().to_owned()),
        "upstream_updated_at" => p.updated_at,
    }
}

stored_record! {
    Document, table "documents", feed "documents.documents",
    key "id" = |d| d.id.clone(),
    instants ["registered_at"] = |d| d.registered_at.into_iter().collect(),
    columns |d| {
        "unit_code" => d.unit_code.as_str(),
        "direction" => d.direction.as_str(),
        "registered_at" => d.registered_at,
        "electronic" => d.electronic,
        "axis_status" => d.axis_status.map(|s| s.as_str().to_owned()),
        "signed" => d.signed,
        "signature_verified" => Bind::Int(d.signature_verified.map(i64::from)),
        "due_at" => d.due_at,
        "completed_at" => d.completed_at,
        "filed_electronically" => d.filed_electronically,
        "upstream_updated_at" => d.updated_at,
    }
}

stored_record! {
    Report, table "reports", feed "reports.reports",
    key "id" = |r| r.id.clone(),
    instants ["due_at"] = |r| vec![r.due_at],
    columns |r| {
        "unit_code" => r.unit_code.as_str(),
        "report_type" => r.report_type.as_str(),
        "title" => r.title.clone(),
        "period" => r.period.as_str(),
        "due_at" => r.due_at,
        "submitted_at" => r.submitted_at,
        "status" => r.status.as_str(),
        "upstream_updated_at" => r.updated_at,
    }
}

// The portal's scores are compared with, not computed into, indicators:
// they feed no month.
stored_record! {
    PortalScore, table "portal_scores", feed "portal.scores",
    key "id" = |s| format!("{}/{}", s.unit_code, s.period),
    instants [] = |_s| Vec::new(),
    columns |s| {
        "unit_code" => s.unit_code.as_str(),
        "period" => s.period.as_str(),
        "total" => s.total,
        "groups" => serde_json::to_string(&s.groups).unwrap_or_else(|_| "{}".into()),
        "upstream_updated_at" => s.updated_at,
        "details" => (!s.details.is_empty())
            .then(|| serde_json::to_string(&s.details).unwrap_or_else(|_| "{}".into())),
    }
}

/// A [`PortalScore`] from a row of `portal_scores` or
/// `portal_score_history` (`$table` names the column in errors).
macro_rules! portal_score_from_row {
    ($r:expr, $table:literal) => {{
        let r = $r;
        let unit: String = r.try_get("unit_code")?;
        let groups: String = r.try_get("groups")?;
        let details: Option<String> = r.try_get("details")?;
        Ok(PortalScore {
            unit_code: parse(concat!($table, ".unit_code"), &unit)?,
            period: r.try_get("period")?,
            total: r.try_get("total")?,
            groups: json(concat!($table, ".groups"), &groups)?,
            updated_at: from_ts_opt(r.try_get("upstream_updated_at")?),
            details: details
                .map(|d| json(concat!($table, ".details"), &d))
                .transpose()?
                .unwrap_or_default(),
        })
    }};
}

impl Store {
    pub async fn upsert_petitions(
        &self,
        records: &[Petition],
        now: DateTime<Utc>,
    ) -> Result<UpsertCounts> {
        self.upsert_records(records, now, None).await
    }

    /// Petitions received in `[from, to)`.
    pub async fn petitions_received_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Petition>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT code, unit_code, category, received_at, due_at, answered_at, satisfaction, upstream_updated_at
                 FROM petitions WHERE received_at >= $1 AND received_at < $2 AND deleted_at IS NULL",
            )
            .bind(ts(from))
            .bind(ts(to))
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let unit: String = r.try_get("unit_code")?;
                    let category: String = r.try_get("category")?;
                    let satisfaction: Option<String> = r.try_get("satisfaction")?;
                    Ok(Petition {
                        code: r.try_get("code")?,
                        unit_code: parse("petitions.unit_code", &unit)?,
                        category: parse("petitions.category", &category)?,
                        received_at: from_ts_opt(r.try_get("received_at")?),
                        due_at: from_ts_opt(r.try_get("due_at")?),
                        answered_at: from_ts_opt(r.try_get("answered_at")?),
                        satisfaction: satisfaction
                            .map(|s| parse("petitions.satisfaction", &s))
                            .transpose()?,
                        updated_at: from_ts_opt(r.try_get("upstream_updated_at")?),
                    })
                })
                .collect()
        })
    }

    /// Documents registered in `[from, to)`.
    pub async fn documents_registered_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Document>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT id, unit_code, direction, registered_at, electronic, axis_status, signed, signature_verified,
                        due_at, completed_at, filed_electronically, upstream_updated_at
                 FROM documents WHERE registered_at >= $1 AND registered_at < $2 AND deleted_at IS NULL",
            )
            .bind(ts(from))
            .bind(ts(to))
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let unit: String = r.try_get("unit_code")?;
                    let direction: String = r.try_get("direction")?;
                    let axis: Option<String> = r.try_get("axis_status")?;
                    let verified: Option<i64> = r.try_get("signature_verified")?;
                    Ok(Document {
                        id: r.try_get("id")?,
                        unit_code: parse("documents.unit_code", &unit)?,
                        direction: parse("documents.direction", &direction)?,
                        registered_at: from_ts_opt(r.try_get("registered_at")?),
                        electronic: r.try_get::<i64, _>("electronic")? != 0,
                        axis_status: axis
                            .map(|a| parse("documents.axis_status", &a))
                            .transpose()?,
                        signed: r.try_get::<i64, _>("signed")? != 0,
                        signature_verified: verified.map(|v| v != 0),
                        due_at: from_ts_opt(r.try_get("due_at")?),
                        completed_at: from_ts_opt(r.try_get("completed_at")?),
                        filed_electronically: r.try_get::<i64, _>("filed_electronically")? != 0,
                        updated_at: from_ts_opt(r.try_get("upstream_updated_at")?),
                    })
                })
                .collect()
        })
    }

    /// Report obligations due in `[from, to)`.
    pub async fn reports_due_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Report>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT id, unit_code, report_type, title, period, due_at, submitted_at, status, upstream_updated_at
                 FROM reports WHERE due_at >= $1 AND due_at < $2 AND deleted_at IS NULL",
            )
            .bind(ts(from))
            .bind(ts(to))
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let unit: String = r.try_get("unit_code")?;
                    let status: String = r.try_get("status")?;
                    Ok(Report {
                        id: r.try_get("id")?,
                        unit_code: parse("reports.unit_code", &unit)?,
                        report_type: r.try_get("report_type")?,
                        title: r.try_get("title")?,
                        period: r.try_get("period")?,
                        due_at: from_ts(r.try_get("due_at")?),
                        submitted_at: from_ts_opt(r.try_get("submitted_at")?),
                        status: parse("reports.status", &status)?,
                        updated_at: from_ts_opt(r.try_get("upstream_updated_at")?),
                    })
                })
                .collect()
        })
    }

    /// The portal's official scores for a period (as reported, e.g. `2026-08`).
    pub async fn portal_scores(&self, period: &str) -> Result<Vec<PortalScore>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT unit_code, period, total, groups, upstream_updated_at, details FROM portal_scores
                 WHERE period = $1 AND deleted_at IS NULL ORDER BY unit_code",
            )
            .bind(period)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| portal_score_from_row!(r, "portal_scores"))
                .collect()
        })
    }

    /// Earlier versions of a unit's official scores for a period, oldest
    /// first: each as it was before the portal revised it.
    pub async fn portal_score_history(
        &self,
        unit: &UnitCode,
        period: &str,
    ) -> Result<Vec<PortalScore>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT unit_code, period, total, groups, upstream_updated_at, details FROM portal_score_history
                 WHERE unit_code = $1 AND period = $2 ORDER BY id",
            )
            .bind(unit.as_str())
            .bind(period)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| portal_score_from_row!(r, "portal_score_history"))
                .collect()
        })
    }
}
