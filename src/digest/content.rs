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

mod view;

use super::DigestPeriod;
use crate::coverage::Gap;
use crate::domain::{Language, NationalStanding, Severity, SourceHealth, SourceId, UnitCode};
use crate::indicators::IndicatorId;
use crate::notify::compose::PlanUnit;
use crate::overview::UnitOverview;
use crate::risk::UnitRisk;
use crate::score766::Group;
use crate::time::format_local;

pub use view::{
    ChartBar, Digest, FindingLine, GroupLine, GroupRank, GroupScore, NamedUnit, NationalView,
    ProposalView, RateView, RiskLine, ScoreView, SectionLine, SourceLine, UnitLine, WatchView,
};

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
    let s = Scope::of(input, audience)?;
    let (bottom_units, risks, units_without_data) = if s.only_unit.is_some() {
        (Vec::new(), Vec::new(), Vec::new())
    } else {
        (s.bottom_units(), s.risks(), s.units_without_data())
    };
    let sections = s.sections();
    let period = input.period;
    let unit = s.unit;
    // The portal's figures are shown only when its data is not left out.
    let official = !input
        .sources
        .iter()
        .any(|s| s.source == SourceId::Portal && s.gap.is_some());
    Some(Digest {
        kind: period.kind(),
        period: period.id(),
        period_vi: period.label(Language::Vi),
        period_en: period.label(Language::En),
        previous_vi: period.previous().label(Language::Vi),
        previous_en: period.previous().label(Language::En),
        audience: audience.as_str(),
        scope_code: unit.code.clone(),
        scope_name: unit.name.clone(),
        score: score_view(unit, s.previous_of(&unit.code), official),
        on_time: rate_view(unit, s.previous_of(&unit.code)),
        new_total: sections.iter().map(|s| s.new).sum(),
        resolved_total: sections.iter().map(|s| s.resolved).sum(),
        open_total: sections.iter().map(|s| s.open).sum(),
        watch: WatchView::of(period, input.watched_since),
        sections,
        chart: s.chart(&bottom_units),
        bottom_units,
        risks,
        sources: input.sources.iter().map(source_line).collect(),
        units_without_data,
        proposal: match audience {
            Audience::InspectionTeam => input.proposal.as_ref().map(|p| ProposalView {
                id: p.id,
                created_at: format_local(p.created_at),
                reason: p.reason.clone(),
                units: p.units.clone(),
            }),
            _ => None,
        },
        national: s
            .only_unit
            .is_none()
            .then(|| input.national.as_ref().map(national_view))
            .flatten(),
    })
}

/// What a digest is built against: its data, and whose it is.
struct Scope<'i> {
    input: &'i DigestInput,
    province: &'i UnitOverview,
    /// The province, or a unit head's unit.
    unit: &'i UnitOverview,
    /// A unit head's unit code: the digest carries that unit's rows only.
    only_unit: Option<&'i str>,
    names: BTreeMap<&'i str, &'i str>,
}

impl<'i> Scope<'i> {
    fn of(input: &'i DigestInput, audience: &Audience) -> Option<Scope<'i>> {
        let province = input.current.first()?;
        let (unit, only_unit) = match audience {
            Audience::UnitHead(code) => {
                let unit = input
                    .current
                    .iter()
                    .skip(1)
                    .find(|o| o.code == code.as_str())?;
                (unit, Some(unit.code.as_str()))
            }
            _ => (province, None),
        };
        Some(Scope {
            input,
            province,
            unit,
            only_unit,
            names: input
                .current
                .iter()
                .map(|o| (o.code.as_str(), o.name.as_str()))
                .collect(),
        })
    }

    /// The previous period's overview of unit `code`.
    fn previous_of(&self, code: &str) -> Option<&'i UnitOverview> {
        self.input.previous.iter().find(|o| o.code == code)
    }

    fn name_of(&self, code: &str) -> String {
        self.names.get(code).copied().unwrap_or("").to_owned()
    }

    /// The units, the province left out.
    fn units(&self) -> impl Iterator<Item = &'i UnitOverview> + use<'i> {
        self.input.current.iter().skip(1)
    }

    /// The lowest-scoring units, each with its groups and trend. Units are
    /// ranked only against units scored on the same groups: a total that
    /// lacks a group is not lower, it is incomplete.
    fn bottom_units(&self) -> Vec<UnitLine> {
        let missing = &self.province.score.missing;
        let mut scored: Vec<(&UnitOverview, f64)> = self
            .units()
            .filter(|o| has_data(o) && o.score.missing == *missing)
            .filter_map(|o| o.score.total.map(|t| (o, t)))
            .collect();
        scored.sort_by(|(a, ta), (b, tb)| ta.total_cmp(tb).then_with(|| a.code.cmp(&b.code)));
        scored
            .into_iter()
            .take(self.input.bottom_n)
            .map(|(o, total)| UnitLine {
                code: o.code.clone(),
                name: o.name.clone(),
                total: Some(total),
                summary_vi: o.score.summary(Language::Vi),
                summary_en: o.score.summary(Language::En),
                delta: self
                    .previous_of(&o.code)
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
            .collect()
    }

    /// The highest risks, highest first.
    fn risks(&self) -> Vec<RiskLine> {
        let mut ranked: Vec<&UnitRisk> =
            self.input.risks.iter().filter(|r| r.score > 0.0).collect();
        ranked.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.unit.cmp(&b.unit))
        });
        ranked
            .into_iter()
            .take(self.input.bottom_n)
            .map(|r| RiskLine {
                code: r.unit.to_string(),
                name: self.name_of(r.unit.as_str()),
                score: r.score,
                findings: r.findings,
                critical: r.critical,
            })
            .collect()
    }

    fn units_without_data(&self) -> Vec<NamedUnit> {
        self.units()
            .filter(|o| !has_data(o))
            .map(|o| NamedUnit {
                code: o.code.clone(),
                name: o.name.clone(),
            })
            .collect()
    }

    /// The findings by plan section: how many were opened, resolved and
    /// left open in the period, and the new ones, most severe first.
    fn sections(&self) -> Vec<SectionLine> {
        let (start, end) = (self.input.period.start(), self.input.period.end());
        let findings: Vec<&FindingFact> = self
            .input
            .findings
            .iter()
            .filter(|f| self.only_unit.is_none_or(|u| f.unit == u))
            .collect();
        (1..=5u8)
            .map(|n| {
                let in_section: Vec<&FindingFact> = findings
                    .iter()
                    .copied()
                    .filter(|f| f.section == n)
                    .collect();
                let mut new: Vec<&FindingFact> = in_section
                    .iter()
                    .copied()
                    .filter(|f| start <= f.opened_at && f.opened_at < end)
                    .collect();
                new.sort_by(|a, b| {
                    b.severity
                        .cmp(&a.severity)
                        .then_with(|| a.unit.cmp(&b.unit))
                        .then_with(|| a.title_vi.cmp(&b.title_vi))
                });
                let (name_vi, name_en) = section_names(n);
                SectionLine {
                    number: n,
                    name_vi,
                    name_en,
                    new: new.len(),
                    resolved: in_section
                        .iter()
                        .filter(|f| f.resolved_at.is_some_and(|t| start <= t && t < end))
                        .count(),
                    open: in_section
                        .iter()
                        .filter(|f| f.opened_at < end && f.resolved_at.is_none_or(|t| t >= end))
                        .count(),
                    new_items: new
                        .iter()
                        .take(NEW_ITEMS_PER_SECTION)
                        .map(|f| self.finding_line(f))
                        .collect(),
                }
            })
            .collect()
    }

    fn finding_line(&self, f: &FindingFact) -> FindingLine {
        FindingLine {
            unit_code: f.unit.clone(),
            unit_name: self.name_of(&f.unit),
            title_vi: f.title_vi.clone(),
            title_en: f.title_en.clone(),
            severity: f.severity.as_str(),
            severity_vi: f.severity.name_vi(),
        }
    }

    /// The chart's bars: a unit head's unit this period and the one
    /// before; else the province, then the lowest scorers.
    fn chart(&self, bottom_units: &[UnitLine]) -> Vec<ChartBar> {
        let period = self.input.period;
        match self.only_unit {
            Some(_) => vec![
                ChartBar {
                    label: period.previous().id(),
                    value: self.previous_of(&self.unit.code).and_then(on_time_value),
                },
                ChartBar {
                    label: period.id(),
                    value: on_time_value(self.unit),
                },
            ],
            None => std::iter::once(ChartBar {
                label: self.province.code.clone(),
                value: on_time_value(self.province),
            })
            .chain(bottom_units.iter().map(|u| ChartBar {
                label: u.code.clone(),
                value: u.on_time,
            }))
            .collect(),
        }
    }
}

fn source_line(s: &SourceFact) -> SourceLine {
    SourceLine {
        source: s.source.as_str(),
        name_vi: s.source.name(Language::Vi),
        name_en: s.source.name(Language::En),
        health_vi: s.health.name(Language::Vi),
        health_en: s.health.name(Language::En),
        data_as_of: s.data_as_of.map(format_local),
        stale: s.stale,
        gap_vi: s.gap.map(|g| g.reason(Language::Vi)),
        gap_en: s.gap.map(|g| g.reason(Language::En)),
    }
}

#[cfg(test)]
pub(crate) mod tests;
