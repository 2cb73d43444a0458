//! Indicators and the Decision 766 index of a period, per unit and for the
//! province, as people read them (the `indicators` command, digests).
//!
//! Values are computed from the stored records for the period asked, so any
//! period works (a month, a quarter, year-to-date, a reporting window). The
//! online-services group comes only from the national portal's imported
//! score, never invented; where the portal's official scores are imported,
//! both are shown with their difference per group.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{PortalScore, Unit, UnitCode, UnitKind};
use crate::evaluate::Evaluator;
use crate::indicators::{DeadlineRules, IndicatorValue, Inputs, aggregate, compute, counts_766};
use crate::periods::Period;
use crate::score766::{Group, Score766, score_unit};
use crate::storage::Store;

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

/// Computes every unit's indicators and 766 index for `period` (and the
/// province's, as the sum of all units' parts, first in the list).
pub async fn compute_period(
    store: &Store,
    evaluator: &Evaluator,
    period: Period,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<UnitOverview>> {
    let units = store.units().await?;
    let (from, to) = (period.start(), period.end());
    let dossiers = store.dossiers_for_period(from, to).await?;
    let petitions = store.petitions_received_between(from, to).await?;
    let documents = store.documents_registered_between(from, to).await?;
    let reports = store.reports_due_between(from, to).await?;
    let ind = &evaluator.settings.indicators;
    let rules = DeadlineRules {
        calendar: &evaluator.calendar,
        statutory_days: &ind.statutory_days,
        default_statutory_days: ind.default_statutory_days,
    };
    let inputs = Inputs::new(units.iter().map(|u| &u.code))
        .with_dossiers(&dossiers)
        .with_petitions(&petitions)
        .with_documents(&documents)
        .with_reports(&reports);
    let values = compute(&inputs, &period, now, &rules, ind.evidence_sample);
    let province = province_code(&units);
    let province_values = aggregate(&values, |_| Some(province.clone()), ind.evidence_sample);
    let portal: BTreeMap<String, PortalScore> = match period.as_month() {
        Some(m) => store
            .portal_scores(&m.to_string())
            .await?
            .into_iter()
            .map(|p| (p.unit_code.to_string(), p))
            .collect(),
        None => BTreeMap::new(),
    };
    let names: BTreeMap<&str, &str> = units
        .iter()
        .map(|u| (u.code.as_str(), u.name.as_str()))
        .collect();
    let mut by_unit: BTreeMap<String, Vec<IndicatorValue>> = BTreeMap::new();
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
        evaluator,
    ));
    seen.insert(province.to_string());
    for (code, values) in by_unit {
        if seen.contains(&code) {
            continue;
        }
        let name = names.get(code.as_str()).copied().unwrap_or("").to_owned();
        out.push(overview(&code, &name, values, portal.get(&code), evaluator));
    }
    Ok(out)
}

fn overview(
    code: &str,
    name: &str,
    values: Vec<IndicatorValue>,
    portal: Option<&PortalScore>,
    evaluator: &Evaluator,
) -> UnitOverview {
    let online_services = portal.and_then(|p| p.groups.get("ONLINE_SERVICES").copied().flatten());
    let counts = counts_766(&values, online_services);
    let score = score_unit(&counts, &evaluator.settings.indicators.bands);
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
