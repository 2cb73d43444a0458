//! The files people take away: the findings of the current filter and a
//! period's indicators as Excel workbooks or CSV, and a unit's inspection
//! report as a Word document. A unit head gets their own unit's rows and
//! report only; naming another unit is refused (403) and logged.

use axum::Router;
use axum::extract::{Extension, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{FindingsQuery, Viewer, WebError, WebState};
use crate::domain::UnitCode;
use crate::export::Table;
use crate::periods::Period;
use crate::unit_report::UnitReportError;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const CSV: &str = "text/csv; charset=utf-8";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        .route("/exports/findings.xlsx", get(findings_xlsx))
        .route("/exports/findings.csv", get(findings_csv))
        .route("/exports/indicators.xlsx", get(indicators_xlsx))
        .route("/exports/indicators.csv", get(indicators_csv))
        .route("/units/{code}/report.docx", get(unit_report))
}

/// The findings exports of the list `query` shows (every page of it):
/// `(xlsx, csv)` links for the findings page.
pub fn findings_export_urls(query: &FindingsQuery) -> (String, String) {
    let q = query.to_query_string(None);
    let sep = if q.is_empty() { "" } else { "?" };
    (
        format!("/exports/findings.xlsx{sep}{q}"),
        format!("/exports/findings.csv{sep}{q}"),
    )
}

/// The indicator exports of `period`, of one unit or of all: `(xlsx, csv)`.
pub fn indicators_export_urls(period: &Period, unit: Option<&UnitCode>) -> (String, String) {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("period", &period.id());
    if let Some(u) = unit {
        q.append_pair("unit", u.as_str());
    }
    let q = q.finish();
    (
        format!("/exports/indicators.xlsx?{q}"),
        format!("/exports/indicators.csv?{q}"),
    )
}

/// The unit's inspection report for `period`, for the unit page's link.
pub fn report_url(unit: &UnitCode, period: &Period) -> String {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("period", &period.id())
        .finish();
    format!("/units/{unit}/report.docx?{q}")
}

/// `?period=…&unit=…` of the indicator exports and the report.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PeriodQuery {
    /// As `par-monitor indicators --period` takes it; none: this month.
    pub period: Option<String>,
    pub unit: Option<String>,
}

impl PeriodQuery {
    fn period(&self, state: &WebState) -> Result<Period, WebError> {
        match self
            .period
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            None => Ok(crate::time::Month::containing(state.clock.now()).into()),
            Some(p) => p
                .parse()
                .map_err(|e| WebError::BadRequest(format!("period: {e}"))),
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Xlsx,
    Csv,
}

impl Kind {
    fn extension(self) -> &'static str {
        match self {
            Kind::Xlsx => "xlsx",
            Kind::Csv => "csv",
        }
    }
}

async fn findings_xlsx(
    state: State<WebState>,
    viewer: Extension<Viewer>,
    query: Query<FindingsQuery>,
) -> Result<Response, WebError> {
    findings(state, viewer, query, Kind::Xlsx).await
}

async fn findings_csv(
    state: State<WebState>,
    viewer: Extension<Viewer>,
    query: Query<FindingsQuery>,
) -> Result<Response, WebError> {
    findings(state, viewer, query, Kind::Csv).await
}

/// Every finding of the filter (not one page of it), newest first.
async fn findings(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<FindingsQuery>,
    kind: Kind,
) -> Result<Response, WebError> {
    let live = state.live.load();
    let now = state.clock.now();
    let filter = query.filter(&viewer, &live.rules, now)?;
    let rows = crate::tables::findings_newest_first(&state.store, &filter).await?;
    let units = state.store.units().await?;
    let table = crate::tables::findings_table(&rows, &units, &live.rules);
    let day = crate::time::utc_to_local(now)
        .format("%Y-%m-%d")
        .to_string();
    let scope = filter.unit.map(|u| format!("-{u}")).unwrap_or_default();
    let ext = kind.extension();
    let names = (
        format!("phat-hien{scope}-{day}.{ext}"),
        format!("phát-hiện{scope}-{day}.{ext}"),
    );
    table_response(table, kind, &names).await
}

async fn indicators_xlsx(
    state: State<WebState>,
    viewer: Extension<Viewer>,
    query: Query<PeriodQuery>,
) -> Result<Response, WebError> {
    indicators(state, viewer, query, Kind::Xlsx).await
}

async fn indicators_csv(
    state: State<WebState>,
    viewer: Extension<Viewer>,
    query: Query<PeriodQuery>,
) -> Result<Response, WebError> {
    indicators(state, viewer, query, Kind::Csv).await
}

/// The unit asked for, if the viewer may see it; a unit head's own unit
/// when none is asked for.
fn unit_of(query: &PeriodQuery, viewer: &Viewer) -> Result<Option<UnitCode>, WebError> {
    match query
        .unit
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        Some(u) => {
            let code =
                UnitCode::parse(u).map_err(|e| WebError::BadRequest(format!("unit: {e}")))?;
            viewer.require_unit(&code)?;
            Ok(Some(code))
        }
        None => Ok(viewer.scope().cloned()),
    }
}

/// A period's indicators of every unit (the province first), or of the one
/// unit asked for (a unit head: their own).
async fn indicators(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<PeriodQuery>,
    kind: Kind,
) -> Result<Response, WebError> {
    let period = query.period(&state)?;
    let unit = unit_of(&query, &viewer)?;
    let live = state.live.load();
    let now = state.clock.now();
    let mut overview =
        crate::overview::compute_period(&state.store, &live, period, now, None).await?;
    if let Some(code) = &unit {
        overview.units.retain(|u| u.code == code.as_str());
        if overview.units.is_empty() {
            return Err(WebError::NotFound(format!("unit {code}")));
        }
    }
    let table = crate::tables::indicators_table(&period, &overview.units, &overview.coverage);
    let scope = unit.map(|u| format!("-{u}")).unwrap_or_default();
    let (p, ext) = (period.id(), kind.extension());
    let names = (
        format!("chi-so{scope}-{p}.{ext}"),
        format!("chỉ-số{scope}-{p}.{ext}"),
    );
    table_response(table, kind, &names).await
}

/// `/units/{code}/report.docx?period=…`: the unit's inspection report.
async fn unit_report(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(code): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    let code = UnitCode::parse(&code).map_err(|e| WebError::BadRequest(format!("unit: {e}")))?;
    viewer.require_unit(&code)?;
    let period = query.period(&state)?;
    let live = state.live.load();
    let report = crate::unit_report::build(&state.store, &live, &code, period, state.clock.now())
        .await
        .map_err(|e| match e {
            UnitReportError::UnknownUnit(_) => WebError::NotFound(format!("unit {code}")),
            UnitReportError::Other(e) => WebError::Internal(e),
        })?;
    let bytes =
        blocking(move || crate::report::to_docx(&report).map_err(anyhow::Error::from)).await?;
    let p = period.id();
    let names = (
        format!("bao-cao-kiem-tra-{code}-{p}.docx"),
        format!("báo-cáo-kiểm-tra-{code}-{p}.docx"),
    );
    Ok(file(bytes, DOCX, &names))
}

/// Lays a table out off the async workers (a province's indicators are
/// tens of thousands of cells).
async fn table_response(
    table: Table,
    kind: Kind,
    names: &(String, String),
) -> Result<Response, WebError> {
    let bytes = blocking(move || {
        match kind {
            Kind::Xlsx => crate::export::to_xlsx(&table),
            Kind::Csv => crate::export::to_csv(&table),
        }
        .map_err(anyhow::Error::from)
    })
    .await?;
    let content_type = match kind {
        Kind::Xlsx => XLSX,
        Kind::Csv => CSV,
    };
    Ok(file(bytes, content_type, names))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> Result<T, WebError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| WebError::Internal(e.into()))?
        .map_err(WebError::Internal)
}

/// A download: its type, and its name both in ASCII (for old browsers) and
/// in UTF-8 (RFC 6266).
fn file(bytes: Vec<u8>, content_type: &'static str, (ascii, utf8): &(String, String)) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_name(ascii),
        rfc5987(utf8)
    );
    (
        [
            (CONTENT_TYPE, content_type.to_owned()),
            (CONTENT_DISPOSITION, disposition),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

/// The name with anything but plain ASCII letters, digits, `-`, `_` and
/// `.` replaced, so that it can sit in a quoted header value.
fn ascii_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// RFC 5987 `value-chars`: attr-chars as they are, every other byte as
/// `%XX`.
fn rfc5987(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_link_to_the_exports_of_what_they_show() {
        let period: Period = "2026-08".parse().unwrap();
        let unit = UnitCode::parse("H44.07").unwrap();
        assert_eq!(
            report_url(&unit, &period),
            "/units/H44.07/report.docx?period=2026-08"
        );
        assert_eq!(
            indicators_export_urls(&period, Some(&unit)).1,
            "/exports/indicators.csv?period=2026-08&unit=H44.07"
        );
        let query = FindingsQuery {
            section: Some("2".into()),
            page: Some(3),
            ..FindingsQuery::default()
        };
        assert_eq!(
            findings_export_urls(&query).0,
            "/exports/findings.xlsx?section=2"
        );
        assert_eq!(
            findings_export_urls(&FindingsQuery::default()).1,
            "/exports/findings.csv"
        );
    }

    #[test]
    fn file_names_are_ascii_and_utf8_encoded() {
        assert_eq!(rfc5987("phát-hiện.xlsx"), "ph%C3%A1t-hi%E1%BB%87n.xlsx");
        assert_eq!(ascii_name("chi-so \"x\".csv"), "chi-so__x_.csv");
    }
}
