//! What a digest shows: the [`Digest`] that [`super::build`] makes and
//! the templates render, every figure and name already chosen for its
//! audience.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::digest::{DigestKind, DigestPeriod};
use crate::domain::Rank;
use crate::notify::compose::PlanUnit;

/// One audience's digest of one period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Digest {
    pub kind: DigestKind,
    pub period: String,
    pub period_vi: String,
    pub period_en: String,
    pub previous_vi: String,
    pub previous_en: String,
    pub audience: &'static str,
    /// The province, or the unit of a unit head's digest.
    pub scope_code: String,
    pub scope_name: String,
    pub score: ScoreView,
    pub on_time: RateView,
    pub bottom_units: Vec<UnitLine>,
    pub risks: Vec<RiskLine>,
    pub sections: Vec<SectionLine>,
    pub new_total: usize,
    pub resolved_total: usize,
    pub open_total: usize,
    pub watch: WatchView,
    pub sources: Vec<SourceLine>,
    pub units_without_data: Vec<NamedUnit>,
    /// The chart's bars, in order: on-time rates from 0 to 1.
    pub chart: Vec<ChartBar>,
    pub proposal: Option<ProposalView>,
    /// Province-wide digests only.
    pub national: Option<NationalView>,
}

/// The province's national standing as a digest shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NationalView {
    pub year: i32,
    /// Ranked by the total; `None` when the province has no total.
    pub total: Option<Rank>,
    pub official_total: Option<f64>,
    /// The groups the province is ranked on, in the portal's order.
    pub groups: Vec<GroupRank>,
    /// Local time, `dd/mm/yyyy hh:mm`.
    pub as_of: Option<String>,
    pub stale: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupRank {
    pub name_vi: &'static str,
    pub name_en: &'static str,
    pub rank: u32,
    pub of: u32,
}

/// The 766 index as a digest shows it: a total only from the groups that
/// have a score, a band only when all six do, and a trend only between two
/// complete totals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreView {
    /// The sum of the scored groups; `None` when none is scored.
    pub total: Option<f64>,
    /// Whether all six groups are scored (the total is the index).
    pub complete: bool,
    /// The total in words (`Score766::summary`).
    pub summary_vi: String,
    pub summary_en: String,
    pub previous: Option<f64>,
    pub delta: Option<f64>,
    pub band_vi: Option<&'static str>,
    pub band_en: Option<&'static str>,
    pub groups: Vec<GroupLine>,
    /// The portal published official scores for the period (a month,
    /// quarter or year it scores), shown beside ours.
    pub has_official: bool,
    pub official_total: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupLine {
    pub code: &'static str,
    pub name_vi: &'static str,
    pub name_en: &'static str,
    pub max: f64,
    pub score: Option<f64>,
    pub previous: Option<f64>,
    pub delta: Option<f64>,
    /// The portal's official score, and ours minus it where both exist.
    pub official: Option<f64>,
    pub difference: Option<f64>,
}

/// An on-time rate with its counts and trend (the delta in percentage
/// points, as a fraction: 0.012 is +1.2 points). The counts are `None`
/// when no covering data exists (not 0/0, which is a period without
/// dossiers).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RateView {
    pub value: Option<f64>,
    pub numerator: Option<u64>,
    pub denominator: Option<u64>,
    pub previous: Option<f64>,
    pub delta: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitLine {
    pub code: String,
    pub name: String,
    pub total: Option<f64>,
    /// The total in words (`Score766::summary`), band included when complete.
    pub summary_vi: String,
    pub summary_en: String,
    pub delta: Option<f64>,
    pub on_time: Option<f64>,
    /// Its group scores, in the portal's order.
    pub groups: Vec<GroupScore>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupScore {
    pub name_vi: &'static str,
    pub name_en: &'static str,
    pub score: Option<f64>,
    pub max: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RiskLine {
    pub code: String,
    pub name: String,
    pub score: f64,
    pub findings: u32,
    pub critical: u32,
}

/// Whether the period's findings are known: par-monitor judged the rules
/// during it. Before the first evaluation there are no findings to count,
/// which is not the same as none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WatchView {
    /// The rules have ever been judged (risks and open findings mean something).
    pub ever: bool,
    /// They were judged before the period ended.
    pub known: bool,
    /// When judging began, local time, if after the period's start: the
    /// counts cover only the time since (or, when not `known`, nothing).
    pub since: Option<String>,
}

impl WatchView {
    pub fn of(period: DigestPeriod, watched_since: Option<DateTime<Utc>>) -> WatchView {
        WatchView {
            ever: watched_since.is_some(),
            known: watched_since.is_some_and(|t| t < period.end()),
            since: watched_since
                .filter(|t| *t > period.start())
                .map(crate::time::format_local),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SectionLine {
    pub number: u8,
    pub name_vi: &'static str,
    pub name_en: &'static str,
    pub new: usize,
    pub resolved: usize,
    pub open: usize,
    /// The findings opened in the period, most severe first.
    pub new_items: Vec<FindingLine>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingLine {
    pub unit_code: String,
    pub unit_name: String,
    pub title_vi: String,
    pub title_en: String,
    pub severity: &'static str,
    pub severity_vi: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceLine {
    pub source: &'static str,
    pub name_vi: &'static str,
    pub name_en: &'static str,
    pub health_vi: &'static str,
    pub health_en: &'static str,
    /// Local time, `dd/mm/yyyy hh:mm`.
    pub data_as_of: Option<String>,
    pub stale: bool,
    /// Why its figures are left out of this digest, when they are.
    pub gap_vi: Option<String>,
    pub gap_en: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NamedUnit {
    pub code: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChartBar {
    pub label: String,
    pub value: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProposalView {
    pub id: i64,
    pub created_at: String,
    pub reason: String,
    pub units: Vec<PlanUnit>,
}
