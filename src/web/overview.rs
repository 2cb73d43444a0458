//! `/`: the province at a glance, from the services the digests and the
//! `indicators` command read: this month's 766 total and groups (ours
//! beside the portal's), the units ranked, twelve months of trend, open
//! findings by plan section and severity, and the sources' freshness.
//!
//! A unit head never sees other units: `/` sends them to their unit's
//! page (303). The risk ranking is the inspection team's: for anyone else
//! `?sort=risk` falls back to the index order, and no risk is shown, so
//! a link a team member shares still opens.

use std::cmp::Ordering;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde::{Deserialize, Serialize};

use super::charts::{Scale, month_label};
use super::figures::Words;
use super::figures::{self, SourceRow, TotalView, Trend, sections_of, total_view, value_of};
use super::{Viewer, WebError, WebState};
use crate::domain::{Language, Role, Severity};
use crate::indicators::IndicatorId;
use crate::live::{Context, Live};
use crate::periods::Period;
use crate::rules::PlanSection;
use crate::time::Month;

pub(super) const TEXTS: Words = &[
    (
        "overview.title",
        "Tổng quan toàn tỉnh",
        "The province at a glance",
    ),
    ("overview.period", "Kỳ", "Period"),
    (
        "overview.index",
        "Chỉ số phục vụ người dân, doanh nghiệp (Quyết định 766)",
        "Service index (Decision 766)",
    ),
    ("overview.ranking", "Xếp hạng đơn vị", "Units ranked"),
    ("overview.sort_by", "Sắp xếp theo", "Sort by"),
    ("overview.sort.index", "Chỉ số 766", "766 index"),
    ("overview.sort.on_time", "Tỷ lệ đúng hạn", "On-time rate"),
    ("overview.sort.risk", "Mức rủi ro", "Risk"),
    ("overview.rank", "Hạng", "Rank"),
    ("overview.total", "Điểm 766", "766 score"),
    ("overview.on_time", "Tỷ lệ hồ sơ đúng hạn", "On-time rate"),
    ("overview.risk", "Rủi ro", "Risk"),
    ("overview.trend", "Diễn biến 12 tháng", "The last 12 months"),
    (
        "overview.chart.rates",
        "Các tỷ lệ của toàn tỉnh theo tháng",
        "The province's rates by month",
    ),
    (
        "overview.chart.total",
        "Tổng điểm 766 của toàn tỉnh (đủ sáu nhóm)",
        "The province's 766 total (all six groups)",
    ),
    (
        "overview.findings",
        "Phát hiện đang mở theo nội dung kế hoạch và mức độ",
        "Open findings by plan section and severity",
    ),
    ("overview.section", "Nội dung kiểm tra", "Plan section"),
    ("overview.all", "Tổng", "Total"),
    (
        "overview.not_evaluated",
        "Chưa đánh giá lần nào: chưa biết có phát hiện hay không.",
        "Not evaluated yet: findings are not known.",
    ),
    ("overview.sources", "Độ mới của dữ liệu", "Data freshness"),
];

/// How the units are ranked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SortKey {
    Index,
    OnTime,
    Risk,
}

impl SortKey {
    /// `?sort=`; `risk` only for those who see risks (the index order for
    /// others). Anything else is refused, naming what is expected.
    pub fn parse(s: Option<&str>, sees_risk: bool) -> Result<SortKey, WebError> {
        match s.map(str::trim) {
            None | Some("") | Some("index") => Ok(SortKey::Index),
            Some("on_time") => Ok(SortKey::OnTime),
            Some("risk") if sees_risk => Ok(SortKey::Risk),
            Some("risk") => Ok(SortKey::Index),
            Some(other) => Err(WebError::BadRequest(format!(
                "sort: `{other}` is not a ranking; expected index, on_time or risk"
            ))),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            SortKey::Index => "index",
            SortKey::OnTime => "on_time",
            SortKey::Risk => "risk",
        }
    }
}

/// One unit's line in the ranking.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(super) struct UnitRow {
    pub code: String,
    pub name: String,
    /// The sum of the scored groups, and whether all six are.
    pub total: Option<f64>,
    pub complete: bool,
    pub summary: String,
    pub on_time: Option<f64>,
    /// The team only; `None` for others.
    pub risk: Option<f64>,
}

/// Ranks best first: by the index (complete totals, then partial ones,
/// then none), by the on-time rate (none last), or by risk (highest
/// first). Ties go by code, so the order is stable.
pub(super) fn rank(rows: &mut [UnitRow], key: SortKey) {
    let desc = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => b.total_cmp(&a),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    rows.sort_by(|a, b| {
        let by = match key {
            SortKey::Index => b
                .complete
                .cmp(&a.complete)
                .then_with(|| desc(a.total, b.total)),
            SortKey::OnTime => desc(a.on_time, b.on_time),
            SortKey::Risk => desc(a.risk, b.risk),
        };
        by.then_with(|| a.code.cmp(&b.code))
    });
}

/// One plan section's open findings by severity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(super) struct SectionRow {
    pub number: u8,
    pub name: &'static str,
    pub info: usize,
    pub warning: usize,
    pub critical: usize,
    pub total: usize,
}

/// Every plan section (1 to 5) with its open findings counted by severity,
/// from `(section, severity)` of each open finding.
pub(super) fn sections_table(open: &[(u8, Severity)], lang: Language) -> Vec<SectionRow> {
    (1..=5)
        .map(|n| {
            let section = PlanSection::new(n).expect("1 to 5");
            let of = |s: Severity| open.iter().filter(|(k, v)| *k == n && *v == s).count();
            let (info, warning, critical) = (
                of(Severity::Info),
                of(Severity::Warning),
                of(Severity::Critical),
            );
            SectionRow {
                number: n,
                name: match lang {
                    Language::Vi => section.name_vi(),
                    Language::En => section.name_en(),
                },
                info,
                warning,
                critical,
                total: info + warning + critical,
            }
        })
        .collect()
}

/// The province's card.
#[derive(Clone, Debug, Serialize)]
pub(super) struct ProvinceView {
    pub code: String,
    pub name: String,
    pub index: TotalView,
    pub on_time: Option<f64>,
}

/// What `/` shows.
#[derive(Clone, Debug, Serialize)]
pub(super) struct OverviewView {
    pub period: String,
    pub period_label: String,
    pub province: ProvinceView,
    pub units: Vec<UnitRow>,
    pub sort: &'static str,
    pub sees_risk: bool,
    pub rates_chart: String,
    pub total_chart: String,
    /// `None` before the first evaluation: findings are unknown, not none.
    pub sections: Option<Vec<SectionRow>>,
    pub sources: Vec<SourceRow>,
}

pub(super) fn routes() -> Router<WebState> {
    Router::new().route("/", get(page))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct OverviewQuery {
    #[serde(default)]
    sort: Option<String>,
}

async fn page(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Query(q): Query<OverviewQuery>,
) -> Result<Response, WebError> {
    if viewer.role == Role::UnitHead {
        return match viewer.scope() {
            Some(unit) => Ok(Redirect::to(&format!("/units/{unit}")).into_response()),
            None => Err(viewer.refuse("overview (a unit head without a unit)")),
        };
    }
    let sort = SortKey::parse(q.sort.as_deref(), viewer.sees_inspections())?;
    let view = build(&state, &viewer, sort).await?;
    let html = state.templates.render(
        "overview.html",
        &viewer,
        minijinja::context! { page => view },
    )?;
    Ok(html.into_response())
}

/// Reads and shapes everything `/` shows for `viewer`.
pub(super) async fn build(
    state: &WebState,
    viewer: &Viewer,
    sort: SortKey,
) -> anyhow::Result<OverviewView> {
    let (live, now, lang) = (state.live.load(), state.clock.now(), viewer.language);
    let month = Month::containing(now);
    let period = Period::from(month);
    let trend = state.trends.get(&state.store, &live, now).await?;
    let coverage = crate::overview::coverage(&state.store, &live, &period, now, None).await?;
    // The trend's last month is this month, judged now.
    let current = trend.rows.last().cloned().unwrap_or_default();
    let risks = if viewer.sees_inspections() {
        let ctx = Context {
            store: state.store.clone(),
            live: live.clone(),
            started_at: now,
        };
        Some(crate::inspections::risks(&ctx, now).await?)
    } else {
        None
    };
    let province = current
        .first()
        .ok_or_else(|| anyhow::anyhow!("no province row"))?;
    let mut units: Vec<UnitRow> = current
        .iter()
        .skip(1)
        .map(|u| UnitRow {
            code: u.code.clone(),
            name: u.name.clone(),
            total: u.score.total,
            complete: u.score.is_complete(),
            summary: u.score.summary(lang),
            on_time: value_of(u, IndicatorId::OnTime),
            risk: risks.as_ref().and_then(|r| {
                r.iter()
                    .find(|x| x.unit.as_str() == u.code)
                    .map(|x| x.score)
            }),
        })
        .collect();
    rank(&mut units, sort);
    Ok(OverviewView {
        period: month.to_string(),
        period_label: month_label(month, lang),
        province: ProvinceView {
            code: province.code.clone(),
            name: province.name.clone(),
            index: total_view(province, lang),
            on_time: value_of(province, IndicatorId::OnTime),
        },
        rates_chart: rates_chart(&trend, &province.code, lang),
        total_chart: total_chart(&trend, &province.code, lang),
        units,
        sort: sort.as_str(),
        sees_risk: risks.is_some(),
        sections: open_sections(state, &live, lang).await?,
        sources: figures::freshness(&state.store, &live, &coverage, now, lang).await?,
    })
}

/// The province's on-time, online-submission and digitization rates.
fn rates_chart(trend: &Trend, province: &str, lang: Language) -> String {
    let series = [
        IndicatorId::OnTime,
        IndicatorId::OnlineSubmission,
        IndicatorId::DigitizedComponents,
    ]
    .into_iter()
    .map(|id| {
        trend.series(figures::indicator_name(id, lang), province, |u| {
            value_of(u, id)
        })
    })
    .collect();
    let title = word(lang, "overview.chart.rates");
    trend.chart(title, Scale::Share, series, lang)
}

/// The province's 766 total, only in months where all six groups are
/// scored (a partial sum is not the index).
fn total_chart(trend: &Trend, province: &str, lang: Language) -> String {
    let title = word(lang, "overview.chart.total");
    let series = vec![trend.series(word(lang, "overview.total"), province, |u| {
        u.score.complete_total()
    })];
    trend.chart(title, Scale::Points, series, lang)
}

fn word(lang: Language, key: &str) -> &'static str {
    figures::word(TEXTS, lang, key)
}

/// Open findings by section and severity; `None` before the first
/// evaluation.
async fn open_sections(
    state: &WebState,
    live: &Live,
    lang: Language,
) -> anyhow::Result<Option<Vec<SectionRow>>> {
    if state.store.first_evaluation_at().await?.is_none() {
        return Ok(None);
    }
    let sections = sections_of(live);
    let open: Vec<(u8, Severity)> = state
        .store
        .findings()
        .await?
        .into_iter()
        .filter(|f| f.state.is_active())
        .map(|f| {
            let s = sections.get(f.rule_id.as_str()).copied().unwrap_or(5);
            (s, f.severity)
        })
        .collect();
    Ok(Some(sections_table(&open, lang)))
}

#[cfg(test)]
mod tests;
