//! Upstream systems: one trait, one module per system.
//!
//! Only this module (and the simulator, which plays the other side) knows
//! upstream JSON shapes. A connector turns one page of an upstream's answer
//! into domain records plus the records it had to reject, each rejection
//! naming the record and the field, so that one bad record never costs the
//! rest of the page.

pub mod http;
pub mod procedures;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::Dossier;

/// Which page to fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageQuery {
    /// Only records changed at or after this time (incremental polling);
    /// `None` fetches everything.
    pub updated_since: Option<DateTime<Utc>>,
    /// 1-based page number.
    pub page: u32,
}

/// Records of one page, by kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Batch {
    Dossiers(Vec<Dossier>),
}

impl Batch {
    pub fn len(&self) -> usize {
        match self {
            Batch::Dossiers(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The newest upstream change time in the batch: the next cursor.
    pub fn newest_change(&self) -> Option<DateTime<Utc>> {
        match self {
            Batch::Dossiers(d) => d.iter().filter_map(|d| d.updated_at).max(),
        }
    }
}

/// A record the connector could not map.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reject {
    /// The record's id when it could be read.
    pub record_id: Option<String>,
    /// The upstream field at fault.
    pub field: String,
    /// What was wrong and what was expected.
    pub problem: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub batch: Batch,
    pub rejects: Vec<Reject>,
    /// The next page to fetch, if any.
    pub next_page: Option<u32>,
}

/// Why a fetch failed. Callers branch on it: transient failures are retried
/// next round, a bad payload needs a person.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("{source_name}: {path}: unavailable: {detail}")]
    Unavailable {
        source_name: &'static str,
        path: String,
        detail: String,
    },
    #[error("{source_name}: {path}: HTTP {status}: {excerpt}")]
    Status {
        source_name: &'static str,
        path: String,
        status: u16,
        excerpt: String,
    },
    #[error("{source_name}: {path}: unexpected payload: {detail}")]
    BadPayload {
        source_name: &'static str,
        path: String,
        detail: String,
    },
    #[error("{source_name}: poll cancelled by shutdown")]
    Cancelled { source_name: &'static str },
}

impl UpstreamError {
    /// A short, stable label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            UpstreamError::Unavailable { .. } => "unavailable",
            UpstreamError::Status { .. } => "http_status",
            UpstreamError::BadPayload { .. } => "bad_payload",
            UpstreamError::Cancelled { .. } => "cancelled",
        }
    }
}

/// One upstream system.
#[async_trait]
pub trait Upstream: Send + Sync + std::fmt::Debug {
    /// The source's name in config, storage, logs and metrics.
    fn name(&self) -> &'static str;

    async fn fetch_page(&self, query: &PageQuery) -> Result<Page, UpstreamError>;
}
