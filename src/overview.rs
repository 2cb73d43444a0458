//! Indicators and the Decision 766 index of a period, per unit and for the
//! province, as people read them (the `indicators` command, digests).
//!
//! Values are computed from the stored records for the period asked, so any
//! period works (a month, a quarter, year-to-date, a reporting window). The
//! online-services group comes only from the national portal's imported
//! score, never invented; where the portal's official scores are imported,
//! both are shown with their difference per group.
//!
//! Only sources whose data covers the period ([`crate::coverage`]) give
//! figures: the indicators of a source that does not are left out (n/a, not
//! 0/0), and so are the 766 groups they would score. The gaps come back with
//! the figures, so that every surface can say what is missing and why.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::coverage::{Coverage, SourceFacts};
use crate::domain::{PortalScore, SourceHealth, SourceId, Unit, UnitCode, UnitKind};
use crate::indicators::{DeadlineRules, IndicatorValue, Inputs, aggregate, compute, counts_766};
use crate::live::Live;
use crate::periods::Period;
use crate::score766::{Group, Score766, score_unit};
use crate::storage::{SourceState, Store};

/// One group's score, ours and the portal's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupComparison {
    pub group: Group,
    pub ours: Option<f64>,
    pub official: Option<f64>,
    /// Ours minus the portal's, where both exist.
    pub difference: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitOverview {
    pub code: String,
    pub name: String,
    pub values: Vec<IndicatorValue>,
    pub score: Score766,
    /// The portal's official scores for the period, when imported.
    pub official_total: Option<f64>,
    pub comparison: Vec<GroupComparison>,
}

/// The code under which province-wide aggregates are reported: the unit
/// of kind `province` if there is one.
pub fn province_code(units: &[Unit]) -> UnitCode {
    units
        .iter()
        .find(|u| u.kind == Some(UnitKind::Province))
        .map(|u| u.code.clone())
        .unwrap_or_else(|| UnitCode::parse("PROVINCE").expect("valid code"))
}

/// A period's figures and which sources they could come from.
#[derive(Clone, Debug, PartialEq)]
pub struct Overview {
    /// The province first, then every unit in code order.
    pub units: Vec<UnitOverview>,
    pub coverage: Coverage,
}

/// What the enabled sources' stored states say, for [`Coverage`].
pub fn source_facts(
    live: &Live,
    states: &[SourceState],
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<SourceFacts>> {
    let mut out = Vec::new();
    for (name, settings) in live.settings.sources.all() {
        if !settings.enabled {
            continue;
        }
        let source: SourceId = name.parse()?;
        // The unit directory names units; it gives no figure to cover.
        if source == SourceId::Units {
            continue;
        }
        let state = states.iter().find(|s| s.source == name);
        out.push(SourceFacts {
            source,
            health: state.map_or(SourceHealth::NeverPolled, |s| s.health),
            data_as_of: state.and_then(|s| s.data_as_of),
            stale_after: chrono::Duration::from_std(settings.stale_after(now))?,
        });
    }
    Ok(out)
}

/// Which enabled sources cover `period` at `now` (see [`crate::coverage`]).
pub async fn coverage(
    store: &Store,
    live: &Live,
    period: &Period,
    now: DateTime<Utc>,
    run_started: Option<DateTime<Utc>>,
) -> anyhow::Result<Coverage> {
    let states = store.source_states().await?;
    let facts = source_facts(live, &states, now)?;
    Ok(Coverage::of(&facts, period.end(), now, run_started))
}

/// Computes every unit's indicators and 766 index for `period` as at `now`
/// (and the province's, as the sum of all units' parts, first in the
/// list), from the sources that cover it. `run_started` is when this
/// daemon run began (`None` for a one-off command).
pub async fn compute_period(
    store: &Store,
    live: &Live,
    period: Period,
    now: DateTime<Utc>,
    run_started: Option<DateTime<Utc>>,
) -> anyhow::Result<Overview> {
    let coverage = coverage(store, live, &period, now, run_started).await?;
    let units = compute_covered(store, live, period, now, &coverage).await?;
    Ok(Overview { units, coverage })
}

/// [`compute_period`] with the coverage already judged.
pub async fn compute_covered(
    store: &Store,
    live: &Live,
    period: Period,
    now: DateTime<Utc>,
    coverage: &Coverage,
) -> anyhow::Result<Vec<UnitOverview>> {
    let units = store.units().await?;
    let (from, to) = (period.start(), period.end());
    let dossiers = store.dossiers_for_period(from, to).await?;
    let petitions = store.petitions_received_between(from, to).await?;
    let documents = store.documents_registered_between(from, to).await?;
    let reports = store.reports_due_between(from, to).await?;
    let ind = &live.settings.indicators;
    let rules = DeadlineRules {
        calendar: &live.calendar,
        statutory_days: &ind.statutory_days,
        default_statutory_days: ind.default_statutory_days,
    };
    let inputs = Inputs::new(units.iter().map(|u| &u.code))
        .with_dossiers(&dossiers)
        .with_petitions(&petitions)
        .with_documents(&documents)
        .with_reports(&reports);
    let mut values = compute(&inputs, &period, now, &rules, ind.evidence_sample);
    // A source that does not cover the period gives no figure at all.
    values.retain(|v| coverage.covers(v.indicator.source_id()));
    let province = province_code(&units);
    let province_values = aggregate(&values, |_| Some(province.clone()), ind.evidence_sample);
    let portal: BTreeMap<String, PortalScore> = match period.as_month() {
        Some(m) if coverage.covers(SourceId::Portal) => store
            .portal_scores(&m.to_string())
            .await?
            .into_iter()
            .map(|p| (p.unit_code.to_string(), p))
            .collect(),
        _ => BTreeMap::new(),
    };
    let names: BTreeMap<&str, &str> = units
        .iter()
        .map(|u| (u.code.as_str(), u.name.as_str()))
        .collect();
    // Every unit is listed, with no values where no source covers the period.
    let mut by_unit: BTreeMap<String, Vec<IndicatorValue>> = units
        .iter()
        .map(|u| (u.code.to_string(), Vec::new()))
        .collect();
    for v in values {
        by_unit.entry(v.unit_code.to_string()).or_default().push(v);
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    // The province first, from all units' parts (its own dossiers included).
    out.push(overview(
        province.as_str(),
        names.get(province.as_str()).copied().unwrap_or("Toàn tỉnh"),
        province_values,
        portal.get(province.as_str()),
        live,
    ));
    seen.insert(province.to_string());
    for (code, values) in by_unit {
        if seen.contains(&code) {
            continue;
        }
        let name = names.get(code.as_str()).copied().unwrap_or("").to_owned();
        out.push(overview(&code, &name, values, portal.get(&code), live));
    }
    Ok(out)
}

fn overview(
    code: &str,
    name: &str,
    values: Vec<IndicatorValue>,
    portal: Option<&PortalScore>,
    live: &Live,
) -> UnitOverview {
    let online_services = portal.and_then(|p| p.groups.get("ONLINE_SERVICES").copied().flatten());
    let counts = counts_766(&values, online_services);
    let score = score_unit(&counts, &live.settings.indicators.bands);
    let comparison = match portal {
        Some(p) => Group::ALL
            .iter()
            .map(|g| {
                let ours = score.groups.get(g).copied().flatten();
                let official = p.groups.get(g.code()).copied().flatten();
                GroupComparison {
                    group: *g,
                    ours,
                    official,
                    difference: ours
                        .zip(official)
                        .map(|(a, b)| ((a - b) * 100.0).round() / 100.0),
                }
            })
            .collect(),
        None => Vec::new(),
    };
    UnitOverview {
        code: code.to_owned(),
        name: name.to_owned(),
        values,
        score,
        official_total: portal.and_then(|p| p.total),
        comparison,
    }
}
