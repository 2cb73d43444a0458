//! `[metrics]`: which series `/metrics` carries per unit, and how often
//! the database-derived ones are refreshed.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which series `/metrics` carries per unit. Per-unit series are what make
/// dashboards useful and what costs Prometheus memory: at 3,000 units each
/// per-unit indicator adds 6,000 series (a ratio and a denominator per unit),
/// per-unit findings add 9,000 (one per unit and severity) and the unit
/// directory (`par_monitor_unit_info`) 3,000. The defaults come to about
/// 18,000 series at 3,000 units (config/par-monitor.toml and ARCHITECTURE.md
/// carry the same budget).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Indicators exported per unit (`par_monitor_indicator_ratio{unit,indicator}`
    /// and `par_monitor_indicator_denominator`).
    pub per_unit_indicators: Vec<crate::indicators::IndicatorId>,
    /// Export active findings per unit and severity
    /// (`par_monitor_unit_findings_active{unit,severity}`) and the unit
    /// directory (`par_monitor_unit_info`).
    pub per_unit_findings: bool,
    /// Export each unit's Decision 766 index of the current month
    /// (`par_monitor_unit_score766_points{unit}`); the province's total and
    /// groups are always exported.
    pub per_unit_score766: bool,
    /// How often the database-derived series are refreshed between
    /// evaluation cycles (they are also refreshed after each cycle).
    #[serde(with = "humantime_serde")]
    pub refresh_interval: Duration,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            per_unit_indicators: vec![crate::indicators::IndicatorId::OnTime],
            per_unit_findings: true,
            per_unit_score766: true,
            refresh_interval: Duration::from_secs(15),
        }
    }
}

impl MetricsSettings {
    /// Problems with `[metrics]`, as `(key, message)`.
    pub(super) fn check(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.refresh_interval < Duration::from_secs(1) {
            out.push((
                "metrics.refresh_interval".into(),
                "expected at least 1s".into(),
            ));
        }
        out
    }
}
