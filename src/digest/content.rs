//! What a digest says, as a pure function of the data: the 766 index of the
//! province (or of one unit) and its groups with trends, the lowest-scoring
//! units, the highest risks, findings by plan section, data freshness and
//! units without data, the chart's bars, and, for the inspection team only,
//! the latest unannounced-inspection proposal.
//!
//! Confidentiality is decided here, once: [`build`] puts a proposal only in
//! a digest for [`Audience::InspectionTeam`], and a unit head's digest
//! carries that unit's rows only.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{DigestKind, DigestPeriod};
use crate::coverage::Gap;
use crate::domain::{Language, NationalStanding, Rank, Severity, SourceHealth, SourceId, UnitCode};
use crate::indicators::IndicatorId;
use crate::notify::compose::PlanUnit;
use crate::overview::UnitOverview;
use crate::risk::UnitRisk;
use crate::score766::Group;
use crate::time::format_local;

/// Who a digest is for; it decides what the digest may contain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Province-wide, no proposals.
    Leadership,
    /// Province-wide, with the latest proposal.
    InspectionTeam,
    /// One unit's own data only, no proposals.
    UnitHead(UnitCode),
}

impl Audience {
    pub fn as_str(&self) -> &'static str {
        match self {
            Audience::Leadership => "leadership",
            Audience::InspectionTeam => "inspection_team",
            Audience::UnitHead(_) => "unit_head",
        }
    }
}

/// A finding, as much as a digest shows of it.
#[derive(Clone, Debug, PartialEq)]
pub struct FindingFact {
    pub unit: String,
    pub title_vi: String,
    pub title_en: String,
    /// The inspection plan section of its rule (1–5).
    pub section: u8,
    pub severity: Severity,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// An upstream source's freshness, and whether its data covers the
/// digest's period (when it does not, its figures are left out and the
/// digest says why).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFact {
    pub source: SourceId,
    pub health: SourceHealth,
    pub data_as_of: Option<DateTime<Utc>>,
    pub stale: bool,
    pub gap: Option<Gap>,
}

/// The latest unannounced-inspection proposal.
#[derive(Clone, Debug, PartialEq)]
pub struct ProposalFact {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub reason: String,
    pub units: Vec<PlanUnit>,
}

/// Where the province stands among all provinces, as the national portal
/// last published it.
#[derive(Clone, Debug, PartialEq)]
pub struct NationalFact {
    pub year: i32,
    pub standing: NationalStanding,
    /// The province's official total for the year.
    pub total: Option<f64>,
    /// When the portal source was last polled successfully.
    pub as_of: Option<DateTime<Utc>>,
    /// The portal source's data is older than its `stale_after`.
    pub stale: bool,
}

/// Everything a digest is built from.
#[derive(Clone, Debug)]
pub struct DigestInput {
    pub period: DigestPeriod,
    /// The period's overview, the province first (as `compute_period` gives it).
    pub current: Vec<UnitOverview>,
    /// The previous period's, for trends.
    pub previous: Vec<UnitOverview>,
    pub risks: Vec<UnitRisk>,
    pub findings: Vec<FindingFact>,
    pub sources: Vec<SourceFact>,
    pub proposal: Option<ProposalFact>,
    /// How many low scorers and high risks to list.
    pub bottom_n: usize,
    /// When par-monitor first judged the rules: before then no period's
    /// findings are known.
    pub watched_since: Option<DateTime<Utc>>,
    /// The province's national standing for the period's year, if the
    /// portal has published one.
    pub national: Option<NationalFact>,
}

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

fn national_view(f: &NationalFact) -> NationalView {
    NationalView {
        year: f.year,
        total: f.standing.total,
        official_total: f.total,
        groups: Group::ALL
            .iter()
            .filter_map(|g| {
                let r = f.standing.groups.get(g.code())?;
                Some(GroupRank {
                    name_vi: g.name_vi(),
                    name_en: g.name_en(),
                    rank: r.rank,
                    of: r.of,
                })
            })
            .collect(),
        as_of: f.as_of.map(format_local),
        stale: f.stale,
    }
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

/// How many findings opened in the period each section lists by name.
const NEW_ITEMS_PER_SECTION: usize = 10;

/// The inspection plan's sections (domain.md "Where findings go").
fn section_names(n: u8) -> (&'static str, &'static str) {
    match n {
        1 => ("Lãnh đạo, chỉ đạo", "Leadership and direction"),
        2 => (
            "Kết quả giải quyết TTHC theo cơ chế một cửa, một cửa liên thông",
            "One-stop shop results",
        ),
        3 => ("Ứng dụng công nghệ thông tin", "IT in administration"),
        4 => (
            "Thái độ, tác phong của công chức",
            "Civil servants' conduct",
        ),
        _ => ("Nhiệm vụ khác", "Other tasks"),
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn on_time_of(o: &UnitOverview) -> Option<crate::domain::Ratio> {
    o.values
        .iter()
        .find(|v| v.indicator == IndicatorId::OnTime)
        .map(|v| v.ratio)
}

fn on_time_value(o: &UnitOverview) -> Option<f64> {
    on_time_of(o).and_then(|r| r.value())
}

fn has_data(o: &UnitOverview) -> bool {
    o.values.iter().any(|v| v.ratio.denominator > 0)
}

/// `official`: whether the portal's figures may be shown (its data is not
/// left out of this digest).
fn score_view(
    current: &UnitOverview,
    previous: Option<&UnitOverview>,
    official: bool,
) -> ScoreView {
    let compared = |g: &Group| {
        current
            .comparison
            .iter()
            .find(|c| c.group == *g)
            .filter(|_| official)
    };
    // A previous period without data has no trend to show, only zeros.
    let previous = previous.filter(|p| has_data(p));
    let prev_total = previous.and_then(|p| p.score.complete_total());
    let groups = Group::ALL
        .iter()
        .map(|g| {
            let score = current.score.groups.get(g).copied().flatten();
            let prev = previous.and_then(|p| p.score.groups.get(g).copied().flatten());
            GroupLine {
                code: g.code(),
                name_vi: g.name_vi(),
                name_en: g.name_en(),
                max: g.max_points(),
                score,
                previous: prev,
                delta: score.zip(prev).map(|(a, b)| round2(a - b)),
                official: compared(g).and_then(|c| c.official),
                difference: compared(g).and_then(|c| c.difference),
            }
        })
        .collect();
    let s = &current.score;
    ScoreView {
        total: s.total,
        complete: s.is_complete(),
        summary_vi: s.summary(Language::Vi),
        summary_en: s.summary(Language::En),
        previous: prev_total,
        // Two totals over different groups are not comparable.
        delta: s
            .complete_total()
            .zip(prev_total)
            .map(|(a, b)| round2(a - b)),
        band_vi: s.band.map(|b| b.name_vi()),
        band_en: s.band.map(|b| b.name_en()),
        groups,
        has_official: official && !current.comparison.is_empty(),
        official_total: current.official_total.filter(|_| official),
    }
}

fn rate_view(current: &UnitOverview, previous: Option<&UnitOverview>) -> RateView {
    let ratio = on_time_of(current);
    let value = ratio.and_then(|r| r.value());
    let prev = previous.and_then(on_time_value);
    RateView {
        value,
        numerator: ratio.map(|r| r.numerator),
        denominator: ratio.map(|r| r.denominator),
        previous: prev,
        delta: value.zip(prev).map(|(a, b)| a - b),
    }
}

/// Builds the digest for `audience`, or `None` when a unit head's unit is
/// not in the data.
pub fn build(input: &DigestInput, audience: &Audience) -> Option<Digest> {
    let province = input.current.first()?;
    let names: BTreeMap<&str, &str> = input
        .current
        .iter()
        .map(|o| (o.code.as_str(), o.name.as_str()))
        .collect();
    let previous_of = |code: &str| input.previous.iter().find(|o| o.code == code);
    let (scope, only_unit) = match audience {
        Audience::UnitHead(code) => (
            input
                .current
                .iter()
                .skip(1)
                .find(|o| o.code == code.as_str())?,
            Some(code.as_str()),
        ),
        _ => (province, None),
    };
    let period = input.period;

    let units = || input.current.iter().skip(1);
    let (bottom_units, risks, units_without_data) = if only_unit.is_some() {
        (Vec::new(), Vec::new(), Vec::new())
    } else {
        // Units are ranked only against units scored on the same groups:
        // a total that lacks a group is not lower, it is incomplete.
        let mut scored: Vec<(&UnitOverview, f64)> = units()
            .filter(|o| has_data(o) && o.score.missing == province.score.missing)
            .filter_map(|o| o.score.total.map(|t| (o, t)))
            .collect();
        scored.sort_by(|(a, ta), (b, tb)| ta.total_cmp(tb).then_with(|| a.code.cmp(&b.code)));
        let bottom = scored
            .into_iter()
            .take(input.bottom_n)
            .map(|(o, total)| UnitLine {
                code: o.code.clone(),
                name: o.name.clone(),
                total: Some(total),
                summary_vi: o.score.summary(Language::Vi),
                summary_en: o.score.summary(Language::En),
                delta: previous_of(&o.code)
                    .filter(|p| has_data(p) && p.score.missing == o.score.missing)
                    .and_then(|p| p.score.total)
                    .map(|p| round2(total - p)),
                on_time: on_time_value(o),
                groups: Group::ALL
                    .iter()
                    .map(|g| GroupScore {
                        name_vi: g.name_vi(),
                        name_en: g.name_en(),
                        score: o.score.groups.get(g).copied().flatten(),
                        max: g.max_points(),
                    })
                    .collect(),
            })
            .collect();
        let mut ranked: Vec<&UnitRisk> = input.risks.iter().filter(|r| r.score > 0.0).collect();
        ranked.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.unit.cmp(&b.unit))
        });
        let risks = ranked
            .into_iter()
            .take(input.bottom_n)
            .map(|r| RiskLine {
                code: r.unit.to_string(),
                name: names.get(r.unit.as_str()).copied().unwrap_or("").to_owned(),
                score: r.score,
                findings: r.findings,
                critical: r.critical,
            })
            .collect();
        let without = units()
            .filter(|o| !has_data(o))
            .map(|o| NamedUnit {
                code: o.code.clone(),
                name: o.name.clone(),
            })
            .collect();
        (bottom, risks, without)
    };

    let (start, end) = (period.start(), period.end());
    let findings: Vec<&FindingFact> = input
        .findings
        .iter()
        .filter(|f| only_unit.is_none_or(|u| f.unit == u))
        .collect();
    let mut sections = Vec::new();
    for n in 1..=5u8 {
        let in_section: Vec<&&FindingFact> = findings.iter().filter(|f| f.section == n).collect();
        let mut new: Vec<&&FindingFact> = in_section
            .iter()
            .copied()
            .filter(|f| start <= f.opened_at && f.opened_at < end)
            .collect();
        let resolved = in_section
            .iter()
            .filter(|f| f.resolved_at.is_some_and(|t| start <= t && t < end))
            .count();
        let open = in_section
            .iter()
            .filter(|f| f.opened_at < end && f.resolved_at.is_none_or(|t| t >= end))
            .count();
        new.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.unit.cmp(&b.unit))
                .then_with(|| a.title_vi.cmp(&b.title_vi))
        });
        let (name_vi, name_en) = section_names(n);
        sections.push(SectionLine {
            number: n,
            name_vi,
            name_en,
            new: new.len(),
            resolved,
            open,
            new_items: new
                .iter()
                .take(NEW_ITEMS_PER_SECTION)
                .map(|f| FindingLine {
                    unit_code: f.unit.clone(),
                    unit_name: names.get(f.unit.as_str()).copied().unwrap_or("").to_owned(),
                    title_vi: f.title_vi.clone(),
                    title_en: f.title_en.clone(),
                    severity: f.severity.as_str(),
                    severity_vi: f.severity.name_vi(),
                })
                .collect(),
        });
    }

    let chart = match only_unit {
        Some(_) => vec![
            ChartBar {
                label: period.previous().id(),
                value: previous_of(&scope.code).and_then(on_time_value),
            },
            ChartBar {
                label: period.id(),
                value: on_time_value(scope),
            },
        ],
        None => std::iter::once(ChartBar {
            label: province.code.clone(),
            value: on_time_value(province),
        })
        .chain(bottom_units.iter().map(|u| ChartBar {
            label: u.code.clone(),
            value: u.on_time,
        }))
        .collect(),
    };

    Some(Digest {
        kind: period.kind(),
        period: period.id(),
        period_vi: period.label(Language::Vi),
        period_en: period.label(Language::En),
        previous_vi: period.previous().label(Language::Vi),
        previous_en: period.previous().label(Language::En),
        audience: audience.as_str(),
        scope_code: scope.code.clone(),
        scope_name: scope.name.clone(),
        score: score_view(
            scope,
            previous_of(&scope.code),
            !input
                .sources
                .iter()
                .any(|s| s.source == SourceId::Portal && s.gap.is_some()),
        ),
        on_time: rate_view(scope, previous_of(&scope.code)),
        new_total: sections.iter().map(|s| s.new).sum(),
        resolved_total: sections.iter().map(|s| s.resolved).sum(),
        open_total: sections.iter().map(|s| s.open).sum(),
        watch: WatchView::of(period, input.watched_since),
        sections,
        bottom_units,
        risks,
        sources: input
            .sources
            .iter()
            .map(|s| SourceLine {
                source: s.source.as_str(),
                name_vi: s.source.name(Language::Vi),
                name_en: s.source.name(Language::En),
                health_vi: s.health.name(Language::Vi),
                health_en: s.health.name(Language::En),
                data_as_of: s.data_as_of.map(format_local),
                stale: s.stale,
                gap_vi: s.gap.map(|g| g.reason(Language::Vi)),
                gap_en: s.gap.map(|g| g.reason(Language::En)),
            })
            .collect(),
        units_without_data,
        chart,
        proposal: match audience {
            Audience::InspectionTeam => input.proposal.as_ref().map(|p| ProposalView {
                id: p.id,
                created_at: format_local(p.created_at),
                reason: p.reason.clone(),
                units: p.units.clone(),
            }),
            _ => None,
        },
        national: only_unit
            .is_none()
            .then(|| input.national.as_ref().map(national_view))
            .flatten(),
    })
}

#[cfg(test)]
pub(crate) mod tests;
