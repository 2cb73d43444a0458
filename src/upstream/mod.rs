//! Upstream systems: one trait, one module per system.
//!
//! A *source* is an upstream system (`procedures`, `documents`, `reports`,
//! `portal`, `units`); a *feed* is one list it serves (the procedures source
//! serves dossiers and petitions). [`Feed`] is the one trait; [`HttpFeed`]
//! implements it for every feed through the shared HTTP machinery
//! ([`http`]) and the mapping engine ([`mapping`]), while each system's
//! module (`procedures`, `documents`, `reports`, `portal`, `units`) holds
//! its feeds' default wire format and record mapping.
//!
//! Only this module (and the simulator, which plays the other side) knows
//! upstream JSON shapes. A page yields mapped records plus the records that
//! could not be mapped, or mapped to something that cannot be true
//! ([`crate::domain::quality`]), each named with its id and field, so one
//! bad record never costs the rest of the page.

pub mod documents;
pub mod dvcqg;
pub mod http;
pub mod mapping;
pub mod portal;
pub mod procedures;
pub mod reports;
pub mod units;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};
use url::Url;

use crate::config::{BaseUrl, PaginationStyle, Settings};
use crate::domain::quality::{Check, Plausible, clean_text};
use crate::domain::{Document, Dossier, Petition, PortalScore, Report, Unit};
use http::SourceClient;
use mapping::{FeedKind, FeedSpec, Reader};

/// Where a poll is in a feed's pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageToken {
    First,
    Page(u32),
    Offset(u64),
    Cursor(String),
    Link(Url),
}

/// Which page to fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageQuery {
    /// Only records changed at or after this time; `None` fetches everything.
    pub updated_since: Option<DateTime<Utc>>,
    pub token: PageToken,
}

/// Records of one page, by kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Batch {
    Dossiers(Vec<Dossier>),
    Petitions(Vec<Petition>),
    Documents(Vec<Document>),
    Reports(Vec<Report>),
    Scores(Vec<PortalScore>),
    Units(Vec<Unit>),
}

impl Batch {
    fn empty(kind: FeedKind) -> Batch {
        match kind {
            FeedKind::Dossiers => Batch::Dossiers(Vec::new()),
            FeedKind::Petitions => Batch::Petitions(Vec::new()),
            FeedKind::Documents => Batch::Documents(Vec::new()),
            FeedKind::Reports => Batch::Reports(Vec::new()),
            FeedKind::Scores => Batch::Scores(Vec::new()),
            FeedKind::Units => Batch::Units(Vec::new()),
        }
    }

    /// Maps one record into the batch.
    /// Maps one record and keeps it if it could be true as of `polled_at`
    /// (see [`crate::domain::quality`]).
    fn push(&mut self, r: &mut Reader<'_>, polled_at: DateTime<Utc>) -> Result<(), Reject> {
        match self {
            Batch::Dossiers(v) => v.push(plausible(procedures::map_dossier(r)?, r, polled_at)?),
            Batch::Petitions(v) => v.push(plausible(procedures::map_petition(r)?, r, polled_at)?),
            Batch::Documents(v) => v.push(plausible(documents::map_document(r)?, r, polled_at)?),
            Batch::Reports(v) => v.push(plausible(reports::map_report(r)?, r, polled_at)?),
            Batch::Scores(v) => v.push(plausible(portal::map_score(r)?, r, polled_at)?),
            Batch::Units(v) => v.push(units::map_unit(r)?),
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        match self {
            Batch::Dossiers(v) => v.len(),
            Batch::Petitions(v) => v.len(),
            Batch::Documents(v) => v.len(),
            Batch::Reports(v) => v.len(),
            Batch::Scores(v) => v.len(),
            Batch::Units(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The newest upstream change time in the batch: the next cursor.
    pub fn newest_change(&self) -> Option<DateTime<Utc>> {
        match self {
            Batch::Dossiers(v) => v.iter().filter_map(|r| r.updated_at).max(),
            Batch::Petitions(v) => v.iter().filter_map(|r| r.updated_at).max(),
            Batch::Documents(v) => v.iter().filter_map(|r| r.updated_at).max(),
            Batch::Reports(v) => v.iter().filter_map(|r| r.updated_at).max(),
            Batch::Scores(v) => v.iter().filter_map(|r| r.updated_at).max(),
            Batch::Units(_) => None,
        }
    }
}

/// A mapped record that cannot be true is rejected like one that could not
/// be mapped, naming its field and the check it failed.
fn plausible<T: Plausible>(
    record: T,
    r: &Reader<'_>,
    polled_at: DateTime<Utc>,
) -> Result<T, Reject> {
    match record.implausible(polled_at) {
        None => Ok(record),
        Some(i) => {
            let mut reject = r.reject(i.field, i.problem);
            reject.check = Some(i.check);
            Err(reject)
        }
    }
}

/// A record the connector could not map, or mapped and found impossible.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reject {
    /// The data-quality check failed; `None` when the record could not be
    /// mapped at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
    /// The record's id when it could be read.
    pub record_id: Option<String>,
    /// The upstream field at fault, as a path (`DanhSachHoSoBoSung[0].ThoiGianYeuCau`).
    pub field: String,
    /// What was wrong and what was expected.
    pub problem: String,
}

/// A rejected record with a bounded excerpt of what was sent, for quarantine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejected {
    pub reject: Reject,
    pub raw: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub batch: Batch,
    pub rejects: Vec<Rejected>,
    pub next: Option<PageToken>,
    /// Total pages, when the upstream says (for progress reports).
    pub total_pages: Option<u64>,
}

/// Why a fetch failed. Callers branch on it: transient failures are retried
/// (and, if they persist, mean the source is down); the others mean it is
/// misconfigured or broken and needs a person.
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
    #[error("{source_name}: {path}: rate limited (HTTP 429){}", retry_after.map(|d| format!(", retry after {}s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        source_name: &'static str,
        path: String,
        retry_after: Option<std::time::Duration>,
    },
    #[error(
        "{source_name}: {path}: HTTP {status}: credentials refused (check sources.{source_name}.auth)"
    )]
    Unauthorized {
        source_name: &'static str,
        path: String,
        status: u16,
    },
    /// The body was not JSON at all (often a truncated response): worth a retry.
    #[error("{source_name}: {path}: malformed JSON: {detail}")]
    Malformed {
        source_name: &'static str,
        path: String,
        detail: String,
    },
    /// JSON of the wrong shape (no record list where the mapping says).
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
    /// Every value [`UpstreamError::kind`] can take (for metrics that
    /// should exist before the first error).
    pub const KINDS: [&'static str; 7] = [
        "unavailable",
        "http_status",
        "rate_limited",
        "unauthorized",
        "malformed",
        "bad_payload",
        "cancelled",
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            UpstreamError::Unavailable { .. } => "unavailable",
            UpstreamError::Status { .. } => "http_status",
            UpstreamError::RateLimited { .. } => "rate_limited",
            UpstreamError::Unauthorized { .. } => "unauthorized",
            UpstreamError::Malformed { .. } => "malformed",
            UpstreamError::BadPayload { .. } => "bad_payload",
            UpstreamError::Cancelled { .. } => "cancelled",
        }
    }

    /// Worth retrying: the same request may well succeed in a moment.
    pub fn is_transient(&self) -> bool {
        match self {
            UpstreamError::Unavailable { .. }
            | UpstreamError::RateLimited { .. }
            | UpstreamError::Malformed { .. } => true,
            UpstreamError::Status { status, .. } => matches!(status, 500 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// A failure that a person must fix in configuration or upstream:
    /// refused credentials, a wrong path, a payload of the wrong shape.
    pub fn is_misconfiguration(&self) -> bool {
        match self {
            UpstreamError::Unauthorized { .. } | UpstreamError::BadPayload { .. } => true,
            UpstreamError::Status { status, .. } => matches!(status, 400 | 404 | 405 | 410),
            _ => false,
        }
    }
}

/// One list an upstream serves.
#[async_trait]
pub trait Feed: Send + Sync + std::fmt::Debug {
    fn kind(&self) -> FeedKind;

    /// Whether the feed can be asked for changes only.
    fn is_incremental(&self) -> bool;

    /// Fetches one page; mapping its records is left to the caller
    /// ([`Fetched::map`]), because it is CPU work that the caller schedules.
    async fn fetch(&self, query: &PageQuery) -> Result<Fetched, UpstreamError>;

    /// Whether a full poll lists everything the upstream has, so that what
    /// it does not list is gone. A feed that asks for some periods only
    /// (the portal's evaluation API) says no.
    fn reconciles_deletions(&self) -> bool {
        true
    }
}

/// A page as fetched: its body, checked to hold a record list, not yet
/// mapped to records.
#[derive(Debug)]
pub struct Fetched {
    content: Content,
    pub next: Option<PageToken>,
    /// Total pages, when the upstream says (for progress reports).
    pub total_pages: Option<u64>,
}

#[derive(Debug)]
enum Content {
    /// A body for the mapping engine.
    Raw { body: Value, spec: Arc<FeedSpec> },
    /// Records a connector of its own has already read.
    Mapped {
        batch: Batch,
        rejects: Vec<Rejected>,
    },
}

impl Fetched {
    /// A page whose records a connector has read itself.
    pub fn mapped(batch: Batch, rejects: Vec<Rejected>) -> Fetched {
        Fetched {
            content: Content::Mapped { batch, rejects },
            next: None,
            total_pages: Some(1),
        }
    }

    /// The upstream's name of the record's key field (`MaHoSo`), if the
    /// feed's records have one of their own.
    pub fn key_field(&self) -> Option<String> {
        match &self.content {
            Content::Raw { spec, .. } => spec
                .wire_name_of("code")
                .or_else(|| spec.wire_name_of("id")),
            Content::Mapped { .. } => None,
        }
    }

    /// Maps the records: pure CPU work, thousands of records a page.
    /// `polled_at` is when the page was fetched: no event can be later.
    pub fn map(self, polled_at: DateTime<Utc>) -> Page {
        let (batch, rejects) = match self.content {
            Content::Raw { body, spec } => map_records(&spec, &body, polled_at),
            Content::Mapped { batch, rejects } => (batch, rejects),
        };
        Page {
            batch,
            rejects,
            next: self.next,
            total_pages: self.total_pages,
        }
    }
}

/// Bytes of a rejected record kept for quarantine.
const RAW_EXCERPT: usize = 2000;

/// A feed served over HTTP, read through its [`FeedSpec`].
#[derive(Debug)]
pub struct HttpFeed {
    client: Arc<SourceClient>,
    base: BaseUrl,
    spec: Arc<FeedSpec>,
    page_size: u32,
}

impl HttpFeed {
    pub fn new(
        client: Arc<SourceClient>,
        base: BaseUrl,
        spec: FeedSpec,
        page_size: u32,
    ) -> HttpFeed {
        HttpFeed {
            client,
            base,
            spec: Arc::new(spec),
            page_size,
        }
    }

    fn url(&self, q: &PageQuery) -> Result<Url, UpstreamError> {
        let p = &self.spec.pagination.params;
        if let PageToken::Link(link) = &q.token {
            // A next link must stay on the source's host: credentials are
            // attached to every request and must not travel elsewhere.
            let base = self.base.url();
            if link.origin() != base.origin() {
                return Err(self.bad_payload(format!(
                    "next link {link} leaves {}",
                    base.origin().ascii_serialization()
                )));
            }
            return Ok(link.clone());
        }
        let mut url = self.base.join(&self.spec.path);
        {
            let mut qp = url.query_pairs_mut();
            for (k, v) in &self.spec.query {
                qp.append_pair(k, v);
            }
            if let (Some(since), Some((param, codec))) = (q.updated_since, &self.spec.since) {
                qp.append_pair(param, &codec.encode(since));
            }
            let size = self.page_size.to_string();
            match (&self.spec.pagination.style, &q.token) {
                (PaginationStyle::Page, t) => {
                    let page = match t {
                        PageToken::Page(n) => *n,
                        _ => p.first_page,
                    };
                    qp.append_pair(&p.page_param, &page.to_string());
                    qp.append_pair(&p.size_param, &size);
                }
                (PaginationStyle::Offset, t) => {
                    let offset = match t {
                        PageToken::Offset(n) => *n,
                        _ => 0,
                    };
                    qp.append_pair(&p.offset_param, &offset.to_string());
                    qp.append_pair(&p.limit_param, &size);
                }
                (PaginationStyle::Cursor, t) => {
                    if let PageToken::Cursor(c) = t {
                        qp.append_pair(&p.cursor_param, c);
                    }
                    qp.append_pair(&p.limit_param, &size);
                }
                (PaginationStyle::NextLink, _) => {
                    if !p.size_param.is_empty() {
                        qp.append_pair(&p.size_param, &size);
                    }
                }
            }
        }
        Ok(url)
    }

    fn bad_payload(&self, detail: String) -> UpstreamError {
        UpstreamError::BadPayload {
            source_name: self.client.source(),
            path: self.base.join(&self.spec.path).path().to_owned(),
            detail,
        }
    }

    /// The token of the page after this one, by the pagination style.
    fn next(&self, q: &PageQuery, body: &Value, count: usize) -> (Option<PageToken>, Option<u64>) {
        let pg = &self.spec.pagination;
        let full_page = count >= self.page_size as usize;
        match pg.style {
            PaginationStyle::Page => {
                let current = match q.token {
                    PageToken::Page(n) => n,
                    _ => pg.params.first_page,
                };
                let total = pg
                    .total_pages
                    .as_ref()
                    .and_then(|p| p.get(body))
                    .and_then(|v| v.as_u64());
                let more = match total {
                    Some(t) => u64::from(current + 1 - pg.params.first_page) < t,
                    None => full_page,
                };
                (
                    (more && count > 0).then_some(PageToken::Page(current + 1)),
                    total,
                )
            }
            PaginationStyle::Offset => {
                let offset = match q.token {
                    PageToken::Offset(n) => n,
                    _ => 0,
                };
                (
                    full_page.then_some(PageToken::Offset(offset + count as u64)),
                    None,
                )
            }
            PaginationStyle::Cursor => {
                let next = pg
                    .next_cursor
                    .get(body)
                    .and_then(|v| match (v.as_str(), v.as_number()) {
                        (Some(s), _) if !s.is_empty() => Some(s.to_owned()),
                        (None, Some(n)) => Some(n.to_string()),
                        _ => None,
                    })
                    // A cursor that does not move would loop forever.
                    .filter(|c| q.token != PageToken::Cursor(c.clone()));
                (next.filter(|_| count > 0).map(PageToken::Cursor), None)
            }
            PaginationStyle::NextLink => {
                let next = pg
                    .next_link
                    .get(body)
                    .and_then(|v| v.as_str())
                    .and_then(|s| self.base.url().join(s).ok());
                (next.filter(|_| count > 0).map(PageToken::Link), None)
            }
        }
    }
}

#[async_trait]
impl Feed for HttpFeed {
    fn kind(&self) -> FeedKind {
        self.spec.kind
    }

    fn is_incremental(&self) -> bool {
        self.spec.since.is_some()
    }

    async fn fetch(&self, q: &PageQuery) -> Result<Fetched, UpstreamError> {
        let url = self.url(q)?;
        let body = self.client.get_json(&url).await?;
        let Some(items) = self.spec.records.get(&body).and_then(|v| v.as_array()) else {
            return Err(self.bad_payload(format!(
                "expected a list of records at `{}` (mapping.{}.records)",
                self.spec.records,
                self.spec.kind.name()
            )));
        };
        let (next, total_pages) = self.next(q, &body, items.len());
        Ok(Fetched {
            content: Content::Raw {
                body,
                spec: self.spec.clone(),
            },
            next,
            total_pages,
        })
    }
}

/// Maps the records of a page body (whose record list the caller checked);
/// a record that cannot be mapped is set aside with an excerpt of itself.
fn map_records(spec: &FeedSpec, body: &Value, polled_at: DateTime<Utc>) -> (Batch, Vec<Rejected>) {
    let mut batch = Batch::empty(spec.kind);
    let mut rejects = Vec::new();
    let Some(items) = spec.records.get(body).and_then(|v| v.as_array()) else {
        return (batch, rejects);
    };
    for item in items.iter() {
        if let Err(reject) = batch.push(&mut spec.reader(item), polled_at) {
            // JSON escapes control characters, but not direction overrides.
            let mut raw = clean_text(&item.to_string()).into_owned();
            clip(&mut raw, RAW_EXCERPT);
            rejects.push(Rejected { reject, raw });
        }
    }
    (batch, rejects)
}

/// Cuts `s` to at most `max` bytes, on a character boundary, and marks
/// the cut with `…`.
fn clip(s: &mut String, max: usize) {
    if s.len() > max {
        let cut = (0..=max)
            .rev()
            .find(|i| s.is_char_boundary(*i))
            .unwrap_or(0);
        s.truncate(cut);
        s.push('…');
    }
}

/// Each feed's schema, as its connector declares it: the mapping engine
/// knows no connector, the connectors register here.
pub fn schema(kind: FeedKind) -> &'static mapping::Schema {
    match kind {
        FeedKind::Dossiers => &procedures::DOSSIERS,
        FeedKind::Petitions => &procedures::PETITIONS,
        FeedKind::Documents => &documents::DOCUMENTS,
        FeedKind::Reports => &reports::REPORTS,
        FeedKind::Scores => &portal::SCORES,
        FeedKind::Units => &units::UNITS,
    }
}

/// A feed's wire format: its connector's schema with the configuration's
/// `[mapping.FEED]` merged on; every problem is named by its key under
/// `mapping.FEED`.
pub fn resolve_feed(
    kind: FeedKind,
    m: &crate::config::FeedMapping,
) -> Result<FeedSpec, Vec<(String, String)>> {
    FeedSpec::resolve(kind, schema(kind), m)
}

/// Every problem in the configuration's `[mapping.*]` sections, found as
/// [`build_sources`] would find them, as configuration problems naming
/// `origin` and the key.
pub fn check_mappings(settings: &Settings, origin: &str) -> Vec<crate::config::ConfigProblem> {
    let mut out = Vec::new();
    for (feed, m) in settings.mapping.all() {
        let problems = match FeedKind::from_name(feed) {
            Some(kind) => resolve_feed(kind, m).err().unwrap_or_default(),
            None => vec![(String::new(), format!("unknown feed `{feed}`"))],
        };
        out.extend(
            problems
                .into_iter()
                .map(|(key, message)| crate::config::ConfigProblem {
                    origin: origin.to_owned(),
                    key: format!("mapping.{feed}.{key}"),
                    message,
                }),
        );
    }
    out
}

/// One enabled source with its feeds.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: &'static str,
    pub feeds: Vec<Arc<dyn Feed>>,
}

/// Builds every enabled source and its feeds from the settings. An invalid
/// mapping or client setting is reported with its key.
pub fn build_sources(
    settings: &Settings,
    clock: crate::time::SharedClock,
) -> Result<Vec<Source>, String> {
    let mut out = Vec::new();
    for (name, s) in settings.sources.all() {
        if !s.enabled {
            continue;
        }
        let client =
            Arc::new(SourceClient::new(name, s).map_err(|e| format!("sources.{name}: {e}"))?);
        let mut feeds: Vec<Arc<dyn Feed>> = Vec::new();
        if name == "portal" && s.protocol == crate::config::Protocol::DvcqgEvaluation {
            feeds.push(Arc::new(dvcqg::EvaluationFeed::new(
                client.clone(),
                s,
                clock.clone(),
            )?));
            out.push(Source { name, feeds });
            continue;
        }
        for (feed, mapping) in settings.mapping.all() {
            let kind = FeedKind::from_name(feed).expect("mapping names are feed names");
            if kind.source() != name {
                continue;
            }
            let spec = resolve_feed(kind, mapping).map_err(|problems| {
                problems
                    .into_iter()
                    .map(|(k, m)| format!("mapping.{feed}.{k}: {m}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })?;
            feeds.push(Arc::new(HttpFeed::new(
                client.clone(),
                s.base_url.clone(),
                spec,
                s.page_size,
            )));
        }
        out.push(Source { name, feeds });
    }
    Ok(out)
}
