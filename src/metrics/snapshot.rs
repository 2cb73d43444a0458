//! The province's state as stored, and how it replaces the database-derived
//! series: indicators, the Decision 766 index, the national ranks,
//! findings, the unit directory, the outbox, sources and digests.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::Metrics;
use crate::config::MetricsSettings;
use crate::domain::{NationalStanding, Severity};
use crate::indicators::{IndicatorId, counts_766_from_ratios};
use crate::score766::{Bands, score_unit};
use crate::storage::{OutboxStats, SourceState};

/// The province's state as stored, read by the metrics refresh job.
#[derive(Clone, Debug, Default)]
pub struct DbSnapshot {
    /// Units that are not retired: `(code, name, kind)`.
    pub units: Vec<(String, String, Option<String>)>,
    /// Stored indicator values of the current period for those units:
    /// `(unit, indicator, numerator, denominator)`.
    pub indicators: Vec<(String, String, i64, i64)>,
    /// Findings not resolved: `(rule, unit, severity)`.
    pub active_findings: Vec<(String, String, Severity)>,
    /// The plan section of each rule in force.
    pub rule_sections: HashMap<String, u8>,
    pub outbox: OutboxStats,
    pub sources: Vec<SourceState>,
    /// The last digest sent of each kind.
    pub digests: Vec<(String, DateTime<Utc>)>,
    /// The national portal's ONLINE_SERVICES group score of the current
    /// month, by unit, where imported (the index takes it as given).
    pub online_services: HashMap<String, f64>,
    /// The province's national standing for the current year, as the
    /// portal last published it (where the portal's data covers now).
    pub national: Option<NationalStanding>,
}

impl Metrics {
    /// Replaces every database-derived series with what `snap` holds.
    /// Which per-unit series exist is decided by `cfg`.
    pub fn apply(&self, snap: &DbSnapshot, cfg: &MetricsSettings) {
        let live: HashSet<&str> = snap.units.iter().map(|u| u.0.as_str()).collect();
        self.apply_indicators(snap, &live, &cfg.per_unit_indicators);
        self.apply_score766(snap, &live, cfg.per_unit_score766);
        self.apply_national(snap.national.as_ref());
        self.apply_findings(snap, cfg.per_unit_findings);
        self.apply_unit_directory(snap, cfg);
        self.apply_activity(&snap.outbox, &snap.sources, &snap.digests);
    }

    /// Replaces the series that move between evaluations: the outbox, the
    /// sources' states and the last digest sent of each kind.
    pub fn apply_activity(
        &self,
        outbox: &OutboxStats,
        sources: &[SourceState],
        digests: &[(String, DateTime<Utc>)],
    ) {
        self.set_outbox(outbox);
        self.apply_sources(sources);
        self.last_digest_sent_timestamp_seconds.replace(
            digests
                .iter()
                .map(|(kind, at)| (vec![kind.clone()], at.timestamp())),
        );
    }

    /// The per-unit indicators of live units: the ratio (absent when the
    /// denominator is 0) and the denominator.
    fn apply_indicators(&self, snap: &DbSnapshot, live: &HashSet<&str>, per_unit: &[IndicatorId]) {
        let per_unit: HashSet<&str> = per_unit.iter().map(|i| i.as_str()).collect();
        let exported = snap.indicators.iter().filter(|(unit, indicator, _, _)| {
            per_unit.contains(indicator.as_str()) && live.contains(unit.as_str())
        });
        self.indicator_ratio.replace(
            exported
                .clone()
                .filter(|(.., d)| *d > 0)
                .map(|(u, i, n, d)| (vec![u.clone(), i.clone()], *n as f64 / *d as f64)),
        );
        self.indicator_denominator
            .replace(exported.map(|(u, i, _, d)| (vec![u.clone(), i.clone()], *d)));
    }

    /// Active findings by severity, by the plan section of their rule (every
    /// section of the rules in force, 0 when it has none) and, when
    /// `per_unit` is on, by unit and severity.
    fn apply_findings(&self, snap: &DbSnapshot, per_unit: bool) {
        let mut by_severity: BTreeMap<Severity, i64> =
            Severity::ALL.iter().map(|s| (*s, 0)).collect();
        let mut by_unit: HashMap<(&str, Severity), i64> = HashMap::new();
        let mut by_section: BTreeMap<(String, Severity), i64> = BTreeMap::new();
        for (rule, unit, severity) in &snap.active_findings {
            *by_severity.entry(*severity).or_default() += 1;
            *by_unit.entry((unit.as_str(), *severity)).or_default() += 1;
            let section = snap
                .rule_sections
                .get(rule)
                .map_or_else(|| "unknown".to_owned(), |s| s.to_string());
            *by_section.entry((section, *severity)).or_default() += 1;
        }
        for (severity, n) in by_severity {
            self.findings_active
                .with_label_values(&[severity.as_str()])
                .set(n);
        }
        let mut sections: BTreeMap<(String, Severity), i64> = BTreeMap::new();
        for s in snap.rule_sections.values() {
            for sev in Severity::ALL {
                sections.insert((s.to_string(), sev), 0);
            }
        }
        sections.extend(by_section);
        self.section_findings_active.replace(
            sections
                .into_iter()
                .map(|((section, sev), n)| (vec![section, sev.as_str().to_owned()], n)),
        );
        self.unit_findings_active
            .replace(
                snap.units
                    .iter()
                    .filter(|_| per_unit)
                    .flat_map(|(code, ..)| {
                        Severity::ALL.iter().map(|sev| {
                            let n = by_unit.get(&(code.as_str(), *sev)).copied().unwrap_or(0);
                            (vec![code.clone(), sev.as_str().to_owned()], n)
                        })
                    }),
            );
    }

    /// The unit directory (`unit_info`), which the per-unit series are
    /// joined with: exported when any per-unit series is.
    fn apply_unit_directory(&self, snap: &DbSnapshot, cfg: &MetricsSettings) {
        let directory =
            cfg.per_unit_findings || !cfg.per_unit_indicators.is_empty() || cfg.per_unit_score766;
        self.unit_info
            .replace(
                snap.units
                    .iter()
                    .filter(|_| directory)
                    .map(|(code, name, kind)| {
                        (
                            vec![code.clone(), name.clone(), kind.clone().unwrap_or_default()],
                            1,
                        )
                    }),
            );
    }

    /// Each source's state: up, health, the last successful poll and how
    /// far its data is known complete.
    fn apply_sources(&self, sources: &[SourceState]) {
        for s in sources {
            let src = s.source.as_str();
            let up = s.consecutive_failures == 0 && s.last_success_at.is_some();
            self.source_up.with_label_values(&[src]).set(i64::from(up));
            self.set_source_health(src, s.health);
            if let Some(t) = s.last_success_at {
                self.last_successful_poll_timestamp_seconds
                    .with_label_values(&[src])
                    .set(t.timestamp());
            }
            if let Some(t) = s.data_as_of {
                self.data_as_of_timestamp_seconds
                    .with_label_values(&[src])
                    .set(t.timestamp());
            }
        }
    }

    /// The Decision 766 index from the stored counts: the province's total
    /// and groups (from every live unit's counts summed), and each unit's
    /// total when `per_unit` is on. Totals only where every group is scored;
    /// groups only where they have a score.
    fn apply_score766(&self, snap: &DbSnapshot, live: &HashSet<&str>, per_unit: bool) {
        let mut by_unit: BTreeMap<&str, Vec<(IndicatorId, u64, u64)>> = BTreeMap::new();
        for (unit, indicator, n, d) in &snap.indicators {
            let (Ok(id), Ok(n), Ok(d)) = (
                indicator.parse::<IndicatorId>(),
                u64::try_from(*n),
                u64::try_from(*d),
            ) else {
                continue;
            };
            if live.contains(unit.as_str()) {
                by_unit.entry(unit.as_str()).or_default().push((id, n, d));
            }
        }
        let bands = Bands::default();
        let score = |unit: &str, ratios: Vec<(IndicatorId, u64, u64)>| {
            let online = snap.online_services.get(unit).copied();
            score_unit(&counts_766_from_ratios(ratios, online), &bands)
        };
        let province_code = snap
            .units
            .iter()
            .find(|(_, _, kind)| kind.as_deref() == Some("province"))
            .map(|(code, ..)| code.as_str());
        let all: Vec<_> = by_unit.values().flatten().copied().collect();
        let province = (!all.is_empty()).then(|| score(province_code.unwrap_or(""), all));
        // A total is exported only over all six groups: a partial sum would
        // read as a low index (groups without a score have no series).
        self.score766_points.replace(
            province
                .iter()
                .filter_map(|s| s.complete_total().map(|t| (Vec::new(), t))),
        );
        self.score766_group_points
            .replace(province.iter().flat_map(|s| {
                s.groups
                    .iter()
                    .filter_map(|(g, v)| v.map(|v| (vec![g.code().to_owned()], v)))
            }));
        self.unit_score766_points
            .replace(
                by_unit
                    .into_iter()
                    .filter(|_| per_unit)
                    .filter_map(|(unit, ratios)| {
                        let total = score(unit, ratios).complete_total()?;
                        Some((vec![unit.to_owned()], total))
                    }),
            );
    }

    /// The province's national ranks: one series per ranking it is in.
    fn apply_national(&self, national: Option<&NationalStanding>) {
        let ranks: Vec<(String, crate::domain::Rank)> = national
            .into_iter()
            .flat_map(|n| {
                n.total
                    .map(|r| ("total".to_owned(), r))
                    .into_iter()
                    .chain(n.groups.iter().map(|(g, r)| (g.clone(), *r)))
            })
            .collect();
        self.portal_national_rank.replace(
            ranks
                .iter()
                .map(|(g, r)| (vec![g.clone()], i64::from(r.rank))),
        );
        self.portal_national_ranked.replace(
            ranks
                .iter()
                .map(|(g, r)| (vec![g.clone()], i64::from(r.of))),
        );
    }
}
