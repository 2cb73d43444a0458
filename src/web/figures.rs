//! The pieces the overview and a unit's page share, read from the same
//! services as the digests and the `indicators` command: the 766 index
//! with the portal's figures beside ours, the sources' freshness for a
//! period, twelve months of figures for the trend charts, and the plan
//! sections findings fall in.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::charts::{LineChart, Scale, Series, line_chart};
use crate::coverage::Coverage;
use crate::domain::{Language, Severity, SourceHealth};
use crate::indicators::IndicatorId;
use crate::live::Live;
use crate::locale;
use crate::overview::{UnitOverview, compute_period, source_facts};
use crate::periods::Period;
use crate::score766::Group;
use crate::storage::Store;
use crate::time::{Month, rfc3339_local};

/// A page's words, `(key, Vietnamese, English)`: the shape of
/// `i18n::Texts`, spelled out so that the pages need not import `i18n`
/// (which imports their lists for its catalog).
pub(super) type Words = &'static [(&'static str, &'static str, &'static str)];

pub(super) const TEXTS: Words = &[
    ("figures.severity.info", "Thông tin", "Info"),
    ("figures.severity.warning", "Cảnh báo", "Warning"),
    ("figures.severity.critical", "Nghiêm trọng", "Critical"),
    ("figures.group", "Nhóm chỉ số", "Group"),
    ("figures.max", "Tối đa", "Maximum"),
    ("figures.ours", "Theo par-monitor", "Ours"),
    ("figures.official", "Theo Cổng DVCQG", "The portal's"),
    ("figures.difference", "Chênh lệch", "Difference"),
    ("figures.total", "Tổng điểm 766", "766 total"),
    (
        "figures.official_none",
        "Cổng DVCQG chưa công bố điểm cho kỳ này",
        "The portal has published no score for this period",
    ),
    ("figures.source", "Nguồn dữ liệu", "Source"),
    ("figures.health", "Tình trạng", "Health"),
    ("figures.data_as_of", "Dữ liệu đến", "Data as of"),
    ("figures.stale", "dữ liệu cũ", "stale"),
    (
        "figures.gap",
        "Không tính cho kỳ này vì",
        "Left out of this period because",
    ),
    (
        "figures.sources_link",
        "Chi tiết các nguồn dữ liệu",
        "Details of the data sources",
    ),
];

/// How many months the trend charts show.
pub(super) const TREND_MONTHS: usize = 12;

/// One group of the 766 index: our score, the portal's, and ours minus
/// the portal's in words (`▲ 1,25`, `bằng nhau`), each absent without data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(super) struct GroupRow {
    pub code: &'static str,
    pub name: &'static str,
    pub max: f64,
    pub ours: Option<f64>,
    pub official: Option<f64>,
    pub difference: Option<String>,
}

/// The 766 total as a page shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(super) struct TotalView {
    /// The total in words: a band only over all six groups, the missing
    /// groups named otherwise, "no data" when none is scored.
    pub summary: String,
    pub total: Option<f64>,
    pub complete: bool,
    /// The portal's official total, when it published one.
    pub official: Option<f64>,
    pub groups: Vec<GroupRow>,
}

pub(super) fn total_view(u: &UnitOverview, lang: Language) -> TotalView {
    let groups = Group::ALL
        .iter()
        .map(|g| {
            let cmp = u.comparison.iter().find(|c| c.group == *g);
            GroupRow {
                code: g.code(),
                name: match lang {
                    Language::Vi => g.name_vi(),
                    Language::En => g.name_en(),
                },
                max: g.max_points(),
                ours: u.score.groups.get(g).copied().flatten(),
                official: cmp.and_then(|c| c.official),
                difference: cmp
                    .and_then(|c| c.difference)
                    .map(|d| locale::difference(d, lang)),
            }
        })
        .collect();
    TotalView {
        summary: u.score.summary(lang),
        total: u.score.total,
        complete: u.score.is_complete(),
        official: u.official_total,
        groups,
    }
}

/// A value of `indicator` for a unit: `None` without covering data or
/// with an empty denominator.
pub(super) fn value_of(u: &UnitOverview, indicator: IndicatorId) -> Option<f64> {
    u.values
        .iter()
        .find(|v| v.indicator == indicator)
        .and_then(|v| v.ratio.value())
}

/// One enabled source's freshness, and why its figures are left out of
/// the period shown, if they are.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(super) struct SourceRow {
    pub source: &'static str,
    pub name: &'static str,
    pub health: &'static str,
    /// RFC 3339, for the `localtime` filter; `None` before any poll.
    pub data_as_of: Option<String>,
    pub stale: bool,
    pub gap: Option<String>,
}

pub(super) async fn freshness(
    store: &Store,
    live: &Live,
    coverage: &Coverage,
    now: DateTime<Utc>,
    lang: Language,
) -> anyhow::Result<Vec<SourceRow>> {
    let states = store.source_states().await?;
    Ok(source_facts(live, &states, now)?
        .into_iter()
        .map(|f| SourceRow {
            source: f.source.as_str(),
            name: f.source.name(lang),
            health: f.health.name(lang),
            data_as_of: f.data_as_of.map(rfc3339_local),
            stale: f.data_as_of.is_none_or(|t| now - t > f.stale_after),
            gap: coverage.gaps.get(&f.source).map(|g| g.reason(lang)),
        })
        .collect())
}

/// The last [`TREND_MONTHS`] months, oldest first, ending with the month
/// of `now`.
pub(super) fn trend_months(now: DateTime<Utc>) -> Vec<Month> {
    let mut m = Month::containing(now);
    let mut out = vec![m];
    while out.len() < TREND_MONTHS {
        m = m.previous();
        out.push(m);
    }
    out.reverse();
    out
}

/// The trend as last computed, reused until what it was computed from
/// changes: the month, the live configuration (a reload) or any source's
/// state (every poll, successful or not, moves it). Twelve months of every
/// unit's figures cost seconds at 3,000 units, and a page must not; the
/// current month is therefore as at the first request after the latest
/// poll. Concurrent requests wait for one computation.
#[derive(Debug, Default)]
pub struct TrendCache(tokio::sync::Mutex<Option<(TrendKey, Arc<Trend>)>>);

#[derive(Debug)]
struct TrendKey {
    month: Month,
    /// Held, so that a reloaded configuration can never take its address.
    live: Arc<Live>,
    sources: Vec<SourceStamp>,
}

type SourceStamp = (
    String,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    SourceHealth,
);

impl TrendKey {
    fn same(&self, other: &TrendKey) -> bool {
        self.month == other.month
            && Arc::ptr_eq(&self.live, &other.live)
            && self.sources == other.sources
    }
}

impl TrendCache {
    pub(super) async fn get(
        &self,
        store: &Store,
        live: &Arc<Live>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Arc<Trend>> {
        let sources = store
            .source_states()
            .await?
            .into_iter()
            .map(|s| (s.source, s.last_attempt_at, s.last_success_at, s.health))
            .collect();
        let key = TrendKey {
            month: Month::containing(now),
            live: live.clone(),
            sources,
        };
        let mut slot = self.0.lock().await;
        if let Some((k, trend)) = slot.as_ref()
            && k.same(&key)
        {
            return Ok(trend.clone());
        }
        let trend = Arc::new(Trend::read(store, live, now).await?);
        *slot = Some((key, trend.clone()));
        Ok(trend)
    }
}

/// Every unit's figures in each of the trend's months, each month judged
/// as at its end (as a digest is), from the sources that cover it.
#[derive(Clone, Debug)]
pub(super) struct Trend {
    pub months: Vec<Month>,
    /// Per month, the overview rows: the province first.
    pub rows: Vec<Vec<UnitOverview>>,
}

impl Trend {
    pub async fn read(store: &Store, live: &Live, now: DateTime<Utc>) -> anyhow::Result<Trend> {
        let months = trend_months(now);
        let mut rows = Vec::with_capacity(months.len());
        for m in &months {
            let at = m.end().min(now);
            rows.push(
                compute_period(store, live, Period::from(*m), at, None)
                    .await?
                    .units,
            );
        }
        Ok(Trend { months, rows })
    }

    /// One unit's series of `f`, a gap where the unit has no figure.
    pub fn series(
        &self,
        name: &str,
        code: &str,
        f: impl Fn(&UnitOverview) -> Option<f64>,
    ) -> Series {
        Series {
            name: name.to_owned(),
            values: self
                .rows
                .iter()
                .map(|month| month.iter().find(|u| u.code == code).and_then(&f))
                .collect(),
        }
    }

    /// A chart of `series` over the trend's months, as escaped SVG.
    pub fn chart(&self, title: &str, scale: Scale, series: Vec<Series>, lang: Language) -> String {
        line_chart(
            &LineChart {
                title: title.to_owned(),
                months: self.months.clone(),
                series,
                scale,
            },
            lang,
        )
    }
}

/// A word of `texts` for text built outside a template (chart titles);
/// a key missing from the list is a programming error, caught by the
/// pages' tests.
pub(super) fn word(texts: Words, lang: Language, key: &str) -> &'static str {
    let found = texts.iter().find(|(k, _, _)| *k == key);
    debug_assert!(found.is_some(), "console text `{key}` is not defined");
    found
        .map(|(_, vi, en)| match lang {
            Language::Vi => *vi,
            Language::En => *en,
        })
        .unwrap_or("")
}

/// An indicator's name in the reader's language.
pub(super) fn indicator_name(id: IndicatorId, lang: Language) -> &'static str {
    match lang {
        Language::Vi => id.name_vi(),
        Language::En => id.name_en(),
    }
}

/// Rule id → the plan section of its rule; a rule no longer configured
/// counts in "other tasks" (5), as risk and digests count it.
pub(super) fn sections_of(live: &Live) -> HashMap<String, u8> {
    live.rules
        .rules
        .iter()
        .map(|r| (r.id.as_str().to_owned(), r.section.number()))
        .collect()
}

/// The key of a severity's word in [`TEXTS`].
pub(super) fn severity_key(s: Severity) -> &'static str {
    match s {
        Severity::Info => "figures.severity.info",
        Severity::Warning => "figures.severity.warning",
        Severity::Critical => "figures.severity.critical",
    }
}

#[cfg(test)]
mod tests;
