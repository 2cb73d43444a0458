//! `/units/{code}`: one unit. Its indicators for the period the reader
//! picks (`?period=`, as the `indicators` command reads it; this month by
//! default), each with its numerator and denominator; the 766 groups with
//! our figure, the portal's and their difference; twelve months of each
//! key indicator; its findings; and its data's freshness. A unit head
//! sees their own unit only: anyone else's is refused before anything is
//! read.

use axum::extract::{Path, Query, State};
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::charts::Scale;
use super::figures::Words;
use super::figures::{
    self, SourceRow, TotalView, indicator_name, severity_key, total_view, value_of,
};
use super::{Viewer, WebError, WebState};
use crate::domain::{Language, UnitCode};
use crate::findings::State as FindingState;
use crate::indicators::IndicatorId;
use crate::live::Live;
use crate::overview::UnitOverview;
use crate::periods::Period;
use crate::time::{Month, rfc3339_local};

pub(super) const TEXTS: Words = &[
    (
        "unit.period_help",
        "Tháng (2026-11), quý (2026-Q4), năm (2026), lũy kế (2026-YTD-11), 30 ngày (R30D-20261130) hoặc kỳ báo cáo (W2026-11)",
        "A month (2026-11), quarter (2026-Q4), year (2026), year to date (2026-YTD-11), 30 days (R30D-20261130) or reporting window (W2026-11)",
    ),
    ("unit.indicators", "Các chỉ số", "Indicators"),
    ("unit.indicator", "Chỉ số", "Indicator"),
    ("unit.numerator", "Tử số", "Numerator"),
    ("unit.denominator", "Mẫu số", "Denominator"),
    ("unit.value", "Giá trị", "Value"),
    (
        "unit.index",
        "Chỉ số 766 của đơn vị",
        "The unit's 766 index",
    ),
    (
        "unit.trend",
        "Diễn biến 12 tháng của các chỉ số chính",
        "Key indicators over 12 months",
    ),
    ("unit.findings", "Phát hiện đang mở", "Open findings"),
    (
        "unit.no_findings",
        "Đơn vị không có phát hiện nào đang mở.",
        "The unit has no open finding.",
    ),
    (
        "unit.all_findings",
        "Tất cả phát hiện của đơn vị",
        "All the unit's findings",
    ),
    ("unit.finding", "Nội dung", "Finding"),
    ("unit.severity", "Mức độ", "Severity"),
    ("unit.state", "Trạng thái", "State"),
    ("unit.opened", "Phát hiện lúc", "Opened"),
    ("unit.state.open", "Đang mở", "Open"),
    ("unit.state.acknowledged", "Đã tiếp nhận", "Acknowledged"),
    ("unit.state.silenced", "Tạm ẩn", "Silenced"),
    ("unit.state.resolved", "Đã khắc phục", "Resolved"),
    (
        "unit.freshness",
        "Độ mới của dữ liệu trong kỳ",
        "The period's data freshness",
    ),
    ("unit.downloads", "Tải về", "Downloads"),
    (
        "unit.report",
        "Báo cáo kết quả kiểm tra (Word)",
        "Inspection report (Word)",
    ),
    (
        "unit.export",
        "Bảng chỉ số các đơn vị (Excel)",
        "Indicators of every unit (Excel)",
    ),
];

/// The indicators charted over twelve months: dossiers on time, submitted
/// online, digitized, and outgoing documents digitally signed.
pub(super) const KEY_INDICATORS: [IndicatorId; 4] = [
    IndicatorId::OnTime,
    IndicatorId::OnlineSubmission,
    IndicatorId::DigitizedComponents,
    IndicatorId::OutgoingSigned,
];

/// One indicator: its parts and value, all absent where no source covers
/// the period (the value alone is absent on an empty denominator).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(super) struct IndicatorRow {
    pub id: &'static str,
    pub name: &'static str,
    pub numerator: Option<u64>,
    pub denominator: Option<u64>,
    pub value: Option<f64>,
    /// A share (shown as a percentage); otherwise a number of days.
    pub share: bool,
}

pub(super) fn indicator_rows(u: &UnitOverview, lang: Language) -> Vec<IndicatorRow> {
    IndicatorId::ALL
        .iter()
        .map(|&id| {
            let v = u.values.iter().find(|v| v.indicator == id);
            IndicatorRow {
                id: id.as_str(),
                name: indicator_name(id, lang),
                numerator: v.map(|v| v.ratio.numerator),
                denominator: v.map(|v| v.ratio.denominator),
                value: v.and_then(|v| v.ratio.value()),
                share: id.is_share(),
            }
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub(super) struct FindingRow {
    pub id: i64,
    pub title: String,
    pub severity: &'static str,
    pub severity_key: &'static str,
    pub state_key: String,
    /// RFC 3339, for the `localtime` filter.
    pub opened_at: String,
}

/// What `/units/{code}` shows.
#[derive(Clone, Debug, Serialize)]
pub(super) struct UnitView {
    pub code: String,
    pub name: String,
    pub period: String,
    pub indicators: Vec<IndicatorRow>,
    pub index: TotalView,
    pub charts: Vec<String>,
    /// Whether the rules were ever judged: before that, findings are
    /// unknown, not none.
    pub evaluated: bool,
    pub findings: Vec<FindingRow>,
    pub sources: Vec<SourceRow>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct UnitQuery {
    #[serde(default)]
    period: Option<String>,
}

pub(super) fn routes() -> Router<WebState> {
    Router::new().route("/units/{code}", get(page))
}

async fn page(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(code): Path<String>,
    Query(q): Query<UnitQuery>,
) -> Result<Html<String>, WebError> {
    let code = UnitCode::parse(&code).map_err(|e| WebError::NotFound(e.to_string()))?;
    viewer.require_unit(&code)?;
    let now = state.clock.now();
    let period = parse_period(q.period.as_deref(), now)?;
    let view = build(&state, &viewer, &code, period, now)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("unit {code}")))?;
    state
        .templates
        .render("unit.html", &viewer, minijinja::context! { page => view })
}

/// `?period=` in the `indicators` command's syntax; none or empty: the
/// month of `now`.
pub(super) fn parse_period(text: Option<&str>, now: DateTime<Utc>) -> Result<Period, WebError> {
    match text.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Month::containing(now).into()),
        Some(p) => p
            .parse()
            .map_err(|e| WebError::BadRequest(format!("period: {e}"))),
    }
}

/// Reads and shapes the unit's page; `None` when there is no such unit.
pub(super) async fn build(
    state: &WebState,
    viewer: &Viewer,
    code: &UnitCode,
    period: Period,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<UnitView>> {
    let (live, lang) = (state.live.load(), viewer.language);
    let trend = state.trends.get(&state.store, &live, now).await?;
    // A month of the trend reads the trend's figures, judged as at the
    // month's end as its chart is (this month: as at now), so the table and
    // the chart agree; another period is computed for this request.
    let kept = match period {
        Period::Month(m) => trend.months.iter().position(|x| *x == m),
        _ => None,
    };
    let overview = match kept {
        Some(i) => {
            let at = trend.months[i].end().min(now);
            crate::overview::Overview {
                units: trend.rows[i].clone(),
                coverage: crate::overview::coverage(&state.store, &live, &period, at, None).await?,
            }
        }
        None => crate::overview::compute_period(&state.store, &live, period, now, None).await?,
    };
    // The first row is the province's sum; the unit's own row follows.
    let Some(unit) = overview
        .units
        .iter()
        .skip(1)
        .find(|u| u.code == code.as_str())
        .or_else(|| overview.units.first().filter(|u| u.code == code.as_str()))
    else {
        return Ok(None);
    };
    let charts = KEY_INDICATORS
        .iter()
        .map(|&id| {
            let name = indicator_name(id, lang);
            let series = trend.series(&unit.name, &unit.code, |u| value_of(u, id));
            trend.chart(name, Scale::Share, vec![series], lang)
        })
        .collect();
    Ok(Some(UnitView {
        code: unit.code.clone(),
        name: unit.name.clone(),
        period: period.id(),
        indicators: indicator_rows(unit, lang),
        index: total_view(unit, lang),
        charts,
        evaluated: state.store.first_evaluation_at().await?.is_some(),
        findings: open_findings(state, &live, code, lang).await?,
        sources: figures::freshness(&state.store, &live, &overview.coverage, now, lang).await?,
    }))
}

/// The unit's active findings, the most severe and newest first.
async fn open_findings(
    state: &WebState,
    live: &Live,
    code: &UnitCode,
    lang: Language,
) -> anyhow::Result<Vec<FindingRow>> {
    let mut found: Vec<_> = state
        .store
        .findings()
        .await?
        .into_iter()
        .filter(|f| &f.unit_code == code && f.state.is_active())
        .collect();
    found.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| b.opened_at.cmp(&a.opened_at))
    });
    Ok(found
        .into_iter()
        .map(|f| {
            let rule = live.rules.rules.iter().find(|r| r.id == f.rule_id);
            let title = match (rule, lang) {
                (Some(r), Language::Vi) => r.title_vi.clone(),
                (Some(r), Language::En) => r.title_en.clone(),
                (None, _) => f.rule_id.as_str().to_owned(),
            };
            FindingRow {
                id: f.id,
                title,
                severity: f.severity.as_str(),
                severity_key: severity_key(f.severity),
                state_key: format!("unit.state.{}", state_name(f.state)),
                opened_at: rfc3339_local(f.opened_at),
            }
        })
        .collect())
}

fn state_name(s: FindingState) -> &'static str {
    s.as_str()
}

#[cfg(test)]
mod tests;
