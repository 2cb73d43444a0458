//! Tables of the other ingested records: petitions, documents, reports and
//! the portal's official scores.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::codec::{from_ts, from_ts_opt, json, parse, ts};
use super::records::{Bind, StoredRecord, UpsertCounts};
use super::{Result, Store, with_pool};
use crate::domain::{Document, Petition, PortalScore, Report, UnitCode};

impl StoredRecord for Petition {
    const TABLE: &'static str = "petitions";
    const KEY: &'static str = "code";
    const FEED: &'static str = "procedures.petitions";
    const INSTANT_COLUMNS: &'static [&'static str] = &["received_at"];

    fn instants(&self) -> Vec<DateTime<Utc>> {
        self.received_at.into_iter().collect()
    }
    const COLUMNS: &'static [&'static str] = &[
        "unit_code",
        "category",
        "received_at",
        "due_at",
        "answered_at",
        "satisfaction",
        "upstream_updated_at",
    ];

    fn key(&self) -> String {
        self.code.clone()
    }

    fn unit(&self) -> &UnitCode {
        &self.unit_code
    }

    fn binds(&self) -> Vec<Bind> {
        vec![
            self.unit_code.as_str().into(),
            self.category.as_str().into(),
            self.received_at.into(),
            self.due_at.into(),
            self.answered_at.into(),
            self.satisfaction.map(|s| s.as_str().to_owned()).into(),
            self.updated_at.into(),
        ]
    }
}

impl StoredRecord for Document {
    const TABLE: &'static str = "documents";
    const KEY: &'static str = "id";
    const FEED: &'static str = "documents.documents";
    const INSTANT_COLUMNS: &'static [&'static str] = &["registered_at"];

    fn instants(&self) -> Vec<DateTime<Utc>> {
        self.registered_at.into_iter().collect()
    }
    const COLUMNS: &'static [&'static str] = &[
        "unit_code",
        "direction",
        "registered_at",
        "electronic",
        "axis_status",
        "signed",
        "signature_verified",
        "due_at",
        "completed_at",
        "filed_electronically",
        "upstream_updated_at",
    ];

    fn key(&self) -> String {
        self.id.clone()
    }

    fn unit(&self) -> &UnitCode {
        &self.unit_code
    }

    fn binds(&self) -> Vec<Bind> {
        vec![
            self.unit_code.as_str().into(),
            self.direction.as_str().into(),
            self.registered_at.into(),
            self.electronic.into(),
            self.axis_status.map(|s| s.as_str().to_owned()).into(),
            self.signed.into(),
            Bind::Int(self.signature_verified.map(i64::from)),
            self.due_at.into(),
            self.completed_at.into(),
            self.filed_electronically.into(),
            self.updated_at.into(),
        ]
    }
}

impl StoredRecord for Report {
    const TABLE: &'static str = "reports";
    const KEY: &'static str = "id";
    const FEED: &'static str = "reports.reports";
    const INSTANT_COLUMNS: &'static [&'static str] = &["due_at"];

    fn instants(&self) -> Vec<DateTime<Utc>> {
        vec![self.due_at]
    }
    const COLUMNS: &'static [&'static str] = &[
        "unit_code",
        "report_type",
        "title",
        "period",
        "due_at",
        "submitted_at",
        "status",
        "upstream_updated_at",
    ];

    fn key(&self) -> String {
        self.id.clone()
    }

    fn unit(&self) -> &UnitCode {
        &self.unit_code
    }

    fn binds(&self) -> Vec<Bind> {
        vec![
            self.unit_code.as_str().into(),
            self.report_type.as_str().into(),
            self.title.clone().into(),
            self.period.as_str().into(),
            self.due_at.into(),
            self.submitted_at.into(),
            self.status.as_str().into(),
            self.updated_at.into(),
        ]
    }
}

impl StoredRecord for PortalScore {
    const TABLE: &'static str = "portal_scores";
    const KEY: &'static str = "id";
    const FEED: &'static str = "portal.scores";
    // The portal's scores are compared with, not computed into, indicators.
    const INSTANT_COLUMNS: &'static [&'static str] = &[];

    fn instants(&self) -> Vec<DateTime<Utc>> {
        Vec::new()
    }
    const COLUMNS: &'static [&'static str] = &[
        "unit_code",
        "period",
        "total",
        "groups",
        "upstream_updated_at",
        "details",
    ];

    fn key(&self) -> String {
        format!("{}/{}", self.unit_code, self.period)
    }

    fn unit(&self) -> &UnitCode {
        &self.unit_code
    }

    fn binds(&self) -> Vec<Bind> {
        vec![
            self.unit_code.as_str().into(),
            self.period.as_str().into(),
            self.total.into(),
            serde_json::to_string(&self.groups)
                .unwrap_or_else(|_| "{}".into())
                .into(),
            self.updated_at.into(),
            (!self.details.is_empty())
                .then(|| serde_json::to_string(&self.details).unwrap_or_else(|_| "{}".into()))
                .into(),
        ]
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
