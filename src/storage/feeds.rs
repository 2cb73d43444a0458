//! Tables of the other ingested records: petitions, documents, reports and
//! the portal's official scores.

use chrono::{DateTime, Utc};

use super::records::{Bind, StoredRecord, UpsertCounts};
use super::{Result, Store};
use crate::domain::{Document, Petition, PortalScore, Report, UnitCode};

impl StoredRecord for Petition {
    const TABLE: &'static str = "petitions";
    const KEY: &'static str = "code";
    const FEED: &'static str = "procedures.petitions";
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
    const COLUMNS: &'static [&'static str] = &[
        "unit_code",
        "period",
        "total",
        "groups",
        "upstream_updated_at",
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
        ]
    }
}

impl Store {
    pub async fn upsert_petitions(
        &self,
        records: &[Petition],
        now: DateTime<Utc>,
    ) -> Result<UpsertCounts> {
        self.upsert_records(records, now, None).await
    }
}
