//! Evaluation of one rule for one unit: pure and tri-state.
//!
//! The result is pass, fail (with a severity) or unknown (with the reason:
//! stale source, insufficient sample, nothing to compare with). Unknown is
//! never compliant and never resolves a finding.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Check, Compare, Rule};
use crate::domain::{Language, Ratio, Severity, SourceId};
use crate::indicators::IndicatorId;
use crate::score766::{Group, Score766};

/// Why a result is unknown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Unknown {
    /// The source's data is older than its staleness limit (or never arrived).
    StaleSource {
        source: String,
        last_success: Option<DateTime<Utc>>,
    },
    /// The source's last polls failed and its data is stale.
    SourceDown {
        source: String,
        failures: u32,
        last_success: Option<DateTime<Utc>>,
    },
    /// Too few records for the result to mean anything.
    InsufficientSample { denominator: u64, min_sample: u64 },
    /// A trend with no earlier value to compare with.
    NoComparison,
    /// Too few peers with enough data for a median.
    TooFewPeers { peers: usize, needed: usize },
    /// The 766 score or group has no score (no data behind it).
    NotScored,
    /// The 766 total lacks groups whose score could put it on either side
    /// of the level.
    IncompleteScore { missing: Vec<Group> },
}

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(Language::En))
    }
}

impl Unknown {
    /// Why the result is unknown, in the reader's language.
    pub fn describe(&self, lang: Language) -> String {
        let name = |source: &str| -> String {
            source
                .parse::<SourceId>()
                .map_or_else(|_| source.to_owned(), |s| s.name(lang).to_owned())
        };
        let vi = lang == Language::Vi;
        match self {
            Unknown::StaleSource {
                source,
                last_success: Some(t),
            } => {
                let t = crate::time::format_local(*t);
                if vi {
                    format!("dữ liệu {} đã cũ (lấy được lần gần nhất {t})", name(source))
                } else {
                    format!("{} data is stale (last success {t})", name(source))
                }
            }
            Unknown::StaleSource {
                source,
                last_success: None,
            } => {
                if vi {
                    format!("{} chưa lấy được dữ liệu lần nào", name(source))
                } else {
                    format!("{} has never been polled successfully", name(source))
                }
            }
            Unknown::SourceDown {
                source,
                failures,
                last_success,
            } => {
                let last = last_success.map(crate::time::format_local);
                match (vi, last) {
                    (true, Some(t)) => format!(
                        "{} mất kết nối ({failures} lần lấy dữ liệu liên tiếp thất bại; lần thành công gần nhất {t})",
                        name(source)
                    ),
                    (true, None) => format!(
                        "{} mất kết nối ({failures} lần lấy dữ liệu liên tiếp thất bại; chưa lần nào thành công)",
                        name(source)
                    ),
                    (false, Some(t)) => format!(
                        "{} is down ({failures} failed poll(s) in a row; last success {t})",
                        name(source)
                    ),
                    (false, None) => format!(
                        "{} is down ({failures} failed poll(s) in a row; never polled successfully)",
                        name(source)
                    ),
                }
            }
            Unknown::InsufficientSample {
                denominator,
                min_sample,
            } => {
                if vi {
                    format!("chưa đủ số liệu ({denominator} < {min_sample} bản ghi)")
                } else {
                    format!("insufficient sample ({denominator} < {min_sample} records)")
                }
            }
            Unknown::NoComparison => if vi {
                "không có số liệu kỳ trước để so sánh"
            } else {
                "no earlier value to compare with"
            }
            .to_owned(),
            Unknown::TooFewPeers { peers, needed } => {
                if vi {
                    format!("quá ít đơn vị cùng loại có số liệu ({peers} < {needed})")
                } else {
                    format!("too few peers with data ({peers} < {needed})")
                }
            }
            Unknown::NotScored => if vi {
                "chưa có điểm (không có dữ liệu)"
            } else {
                "no score (no data behind it)"
            }
            .to_owned(),
            Unknown::IncompleteScore { missing } => {
                let names: Vec<&str> = missing
                    .iter()
                    .map(|g| if vi { g.name_vi() } else { g.name_en() })
                    .collect();
                if vi {
                    format!(
                        "tổng điểm 766 thiếu {} nhóm ({}) nên chưa thể kết luận",
                        missing.len(),
                        names.join(", ")
                    )
                } else {
                    format!(
                        "the 766 total lacks {} group(s) ({}) that could put it on either side of the level",
                        missing.len(),
                        names.join(", ")
                    )
                }
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail { severity: Severity },
    Unknown(Unknown),
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail { .. } => "fail",
            Outcome::Unknown(_) => "unknown",
        }
    }
}

/// How fresh a source's data is.
#[derive(Clone, Debug, PartialEq)]
pub struct Freshness {
    pub source: String,
    /// The start of the last complete poll (the data's as-of time).
    pub last_success: Option<DateTime<Utc>>,
    pub stale_after: chrono::Duration,
    /// Failed polls in a row, when the source is considered down.
    pub down: Option<u32>,
}

impl Freshness {
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        self.last_success
            .is_some_and(|t| now - t <= self.stale_after)
    }
}

/// An indicator value as a rule sees it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    pub ratio: Ratio,
    /// Record ids behind the shortfall (evidence).
    pub sample: Vec<String>,
}

/// What a rule may look at for one unit.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub now: DateTime<Utc>,
    /// The unit's values for the period judged.
    pub current: &'a HashMap<IndicatorId, Observed>,
    pub previous: Option<&'a HashMap<IndicatorId, Observed>>,
    pub last_year: Option<&'a HashMap<IndicatorId, Observed>>,
    /// The rule's indicator for the unit's peer group (the unit included).
    pub peers: &'a [Ratio],
    pub score: Option<&'a Score766>,
    /// The portal's published scores of the unit for the period, if any.
    pub official: Option<&'a crate::domain::PortalScore>,
    pub freshness: &'a HashMap<String, Freshness>,
}

/// The result of a rule for a unit, with what it was judged on.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub outcome: Outcome,
    /// A pass beyond the resolve margin (only such passes resolve).
    pub clear: bool,
    /// The value judged, in the check's units (a ratio, a count, a drop in
    /// fractions, a gap to the median, seconds of age, points).
    pub value: Option<f64>,
    /// What it was compared with: the earlier ratio of a trend, the peers'
    /// median.
    pub reference: Option<f64>,
    pub ratio: Option<Ratio>,
    pub sample: Vec<String>,
    /// A 766 total judged without these groups (no score): the value is
    /// then the most the total could be for a breach, the least for a pass.
    pub missing_groups: Vec<Group>,
}

impl Evaluation {
    fn unknown(u: Unknown) -> Self {
        Evaluation {
            outcome: Outcome::Unknown(u),
            clear: false,
            value: None,
            reference: None,
            ratio: None,
            sample: Vec::new(),
            missing_groups: Vec::new(),
        }
    }
}

/// The 766 total against its levels, when groups may be missing: the
/// missing groups could add anything from 0 to their maximum, so the result
/// is a breach only if even full marks in them would still breach (judged
/// on that most-possible total), a pass only if the partial total already
/// passes, and unknown otherwise. A complete total is judged as it is.
fn judge_partial_total(
    score: &Score766,
    judge: &impl Fn(f64, Option<f64>, Option<Ratio>, Vec<String>) -> Evaluation,
    levels: &super::Levels,
    margin: f64,
) -> Evaluation {
    let Some((least, most)) = score.bounds() else {
        return Evaluation::unknown(Unknown::NotScored);
    };
    if score.is_complete() {
        return judge(least, None, None, Vec::new());
    }
    let with_missing = |mut e: Evaluation| {
        e.missing_groups = score.missing.clone();
        e
    };
    if levels.breach(most).is_some() {
        return with_missing(judge(most, None, None, Vec::new()));
    }
    if levels.breach(least).is_none() {
        let mut e = with_missing(judge(least, None, None, Vec::new()));
        e.clear = levels.clear(least, margin);
        return e;
    }
    Evaluation::unknown(Unknown::IncompleteScore {
        missing: score.missing.clone(),
    })
}

/// Peers a median needs.
const MIN_PEERS: usize = 3;

/// Evaluates `rule` on one unit's facts.
pub fn evaluate(rule: &Rule, f: &Facts<'_>) -> Evaluation {
    let levels = rule.levels();
    let margin = rule.hysteresis.resolve_margin;
    let judge = |value: f64, reference: Option<f64>, ratio: Option<Ratio>, sample: Vec<String>| {
        let outcome = match levels.breach(value) {
            Some(severity) => Outcome::Fail { severity },
            None => Outcome::Pass,
        };
        Evaluation {
            clear: outcome == Outcome::Pass && levels.clear(value, margin),
            outcome,
            value: Some(value),
            reference,
            ratio,
            sample,
            missing_groups: Vec::new(),
        }
    };

    // Staleness is about freshness itself: it is not gated by it. A source
    // not polled yet (the daemon just started) has no age to judge; one
    // that is down and never succeeded is as stale as can be.
    if let Check::Staleness { source, .. } = &rule.check {
        let fr = f.freshness.get(source);
        if fr.is_some_and(|s| s.last_success.is_none() && s.down.is_none()) {
            return Evaluation::unknown(Unknown::StaleSource {
                source: source.clone(),
                last_success: None,
            });
        }
        return judge(age(f, source), None, None, Vec::new());
    }
    match f.freshness.get(rule.source()) {
        Some(fr) if fr.is_fresh(f.now) => {}
        Some(Freshness {
            down: Some(failures),
            last_success,
            ..
        }) => {
            return Evaluation::unknown(Unknown::SourceDown {
                source: rule.source().to_owned(),
                failures: *failures,
                last_success: *last_success,
            });
        }
        fr => {
            return Evaluation::unknown(Unknown::StaleSource {
                source: rule.source().to_owned(),
                last_success: fr.and_then(|s| s.last_success),
            });
        }
    }
    let enough = |ratio: Ratio| ratio.denominator >= rule.min_sample && ratio.value().is_some();
    let insufficient = |ratio: Ratio| {
        Evaluation::unknown(Unknown::InsufficientSample {
            denominator: ratio.denominator,
            min_sample: rule.min_sample.max(1),
        })
    };
    let observed = |ind: IndicatorId| f.current.get(&ind).cloned().unwrap_or_default();

    match &rule.check {
        Check::Threshold { indicator, .. } => {
            let o = observed(*indicator);
            if !enough(o.ratio) {
                return insufficient(o.ratio);
            }
            judge(
                o.ratio.value().unwrap_or(0.0),
                None,
                Some(o.ratio),
                o.sample,
            )
        }
        Check::Count { indicator, .. } => {
            let o = observed(*indicator);
            if o.ratio.denominator < rule.min_sample {
                return insufficient(o.ratio);
            }
            judge(o.ratio.numerator as f64, None, Some(o.ratio), o.sample)
        }
        Check::Trend {
            indicator, compare, ..
        } => {
            let o = observed(*indicator);
            if !enough(o.ratio) {
                return insufficient(o.ratio);
            }
            let earlier = match compare {
                Compare::PreviousPeriod => f.previous,
                Compare::LastYear => f.last_year,
            }
            .and_then(|m| m.get(indicator))
            .map(|e| e.ratio)
            .filter(|r| enough(*r));
            let Some(earlier) = earlier else {
                return Evaluation::unknown(Unknown::NoComparison);
            };
            let (now_v, then_v) = (
                o.ratio.value().unwrap_or(0.0),
                earlier.value().unwrap_or(0.0),
            );
            // A drop is a fall for "higher is better" and a rise otherwise.
            let drop = if indicator.higher_is_better() {
                then_v - now_v
            } else {
                now_v - then_v
            };
            judge(drop, Some(then_v), Some(o.ratio), o.sample)
        }
        Check::PeerOutlier {
            indicator, bottom, ..
        } => {
            let o = observed(*indicator);
            if !enough(o.ratio) {
                return insufficient(o.ratio);
            }
            let mut peers: Vec<f64> = f
                .peers
                .iter()
                .filter(|r| enough(**r))
                .filter_map(|r| r.value())
                .collect();
            if peers.len() < MIN_PEERS {
                return Evaluation::unknown(Unknown::TooFewPeers {
                    peers: peers.len(),
                    needed: MIN_PEERS,
                });
            }
            let better = indicator.higher_is_better();
            peers.sort_by(|a, b| {
                if better {
                    a.total_cmp(b)
                } else {
                    b.total_cmp(a)
                }
            });
            let median = if peers.len() % 2 == 1 {
                peers[peers.len() / 2]
            } else {
                (peers[peers.len() / 2 - 1] + peers[peers.len() / 2]) / 2.0
            };
            let value = o.ratio.value().unwrap_or(0.0);
            let gap = if better {
                median - value
            } else {
                value - median
            };
            let mut e = judge(gap, Some(median), Some(o.ratio), o.sample);
            // Worst first: the unit is in the bottom k when fewer than k
            // peers are worse than it.
            let worse = peers
                .iter()
                .filter(|p| if better { **p < value } else { **p > value })
                .count();
            if let Some(k) = bottom
                && worse < *k
                && e.outcome == Outcome::Pass
            {
                e.outcome = Outcome::Fail {
                    severity: Severity::Warning,
                };
                e.clear = false;
            }
            e
        }
        Check::Score766 {
            group,
            official: true,
            ..
        } => {
            // The portal's own figure: no sample of ours to wait for.
            let value = f.official.and_then(|p| match group {
                None => p.total,
                Some(g) => p.groups.get(g.code()).copied().flatten(),
            });
            match value {
                Some(v) => judge(v, None, None, Vec::new()),
                None => Evaluation::unknown(Unknown::NotScored),
            }
        }
        Check::PortalGap { group, .. } => {
            let (Some(score), Some(portal)) = (f.score, f.official) else {
                return Evaluation::unknown(Unknown::NotScored);
            };
            let base = observed(IndicatorId::OnTime).ratio;
            if base.denominator < rule.min_sample {
                return insufficient(base);
            }
            // Totals only over all six groups: a partial sum of ours is not
            // comparable with the portal's total.
            let pair = match group {
                None => score.complete_total().zip(portal.total),
                Some(g) => score
                    .groups
                    .get(g)
                    .copied()
                    .flatten()
                    .zip(portal.groups.get(g.code()).copied().flatten()),
            };
            match pair {
                Some((ours, official)) => judge(
                    ((ours - official).abs() * 100.0).round() / 100.0,
                    None,
                    None,
                    Vec::new(),
                ),
                None => Evaluation::unknown(Unknown::NotScored),
            }
        }
        Check::Score766 { group, .. } => {
            let Some(score) = f.score else {
                return Evaluation::unknown(Unknown::NotScored);
            };
            let base = observed(IndicatorId::OnTime).ratio;
            if base.denominator < rule.min_sample {
                return insufficient(base);
            }
            let Some(g) = group else {
                return judge_partial_total(score, &judge, levels, margin);
            };
            match score.groups.get(g).copied().flatten() {
                Some(v) => judge(v, None, None, Vec::new()),
                None => Evaluation::unknown(Unknown::NotScored),
            }
        }
        Check::Staleness { source, .. } => judge(age(f, source), None, None, Vec::new()),
    }
}

/// Seconds since the source's data was current; never polled is as stale
/// as can be.
fn age(f: &Facts<'_>, source: &str) -> f64 {
    f.freshness
        .get(source)
        .and_then(|s| s.last_success)
        .map_or(f64::INFINITY, |t| (f.now - t).num_seconds().max(0) as f64)
}

#[cfg(test)]
mod tests;
