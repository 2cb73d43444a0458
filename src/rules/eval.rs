//! Evaluation of one rule for one unit: pure and tri-state.
//!
//! The result is pass, fail (with a severity) or unknown (with the reason:
//! stale source, insufficient sample, nothing to compare with). Unknown is
//! never compliant and never resolves a finding. Each kind of check is
//! judged by its own step: the ratio checks here, the others in
//! [`freshness`], [`trend`], [`peers`] and [`score766`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Check, Levels, Rule};
use crate::domain::{Ratio, Severity};
use crate::indicators::IndicatorId;
use crate::score766::{Group, Score766};

mod freshness;
mod peers;
mod score766;
mod trend;
mod unknown;

pub use unknown::Unknown;

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

/// Evaluates `rule` on one unit's facts.
pub fn evaluate(rule: &Rule, f: &Facts<'_>) -> Evaluation {
    let judge = Judge::new(rule);
    let gate = match &rule.check {
        // Staleness is about freshness itself: it is not gated by it.
        Check::Staleness { .. } => Ok(()),
        _ => freshness::gate(rule.source(), f),
    };
    gate.and_then(|()| judge_check(&judge, &rule.check, f))
        .unwrap_or_else(Evaluation::unknown)
}

/// The step that judges each kind of check, once the source is fresh.
fn judge_check(judge: &Judge<'_>, check: &Check, f: &Facts<'_>) -> Result<Evaluation, Unknown> {
    match check {
        Check::Threshold { indicator, .. } => threshold(judge, f, *indicator),
        Check::Count { indicator, .. } => count(judge, f, *indicator),
        Check::Trend {
            indicator, compare, ..
        } => trend::drop_since(judge, f, *indicator, *compare),
        Check::PeerOutlier {
            indicator, bottom, ..
        } => peers::outlier(judge, f, *indicator, *bottom),
        Check::Score766 {
            group,
            official: true,
            ..
        } => score766::official(judge, f, *group),
        Check::Score766 { group, .. } => score766::ours(judge, f, *group),
        Check::PortalGap { group, .. } => score766::portal_gap(judge, f, *group),
        Check::Staleness { source, .. } => freshness::staleness(judge, f, source),
    }
}

/// The indicator's ratio against the levels.
fn threshold(
    judge: &Judge<'_>,
    f: &Facts<'_>,
    indicator: IndicatorId,
) -> Result<Evaluation, Unknown> {
    let o = judge.sampled(f, indicator)?;
    Ok(judge.value(
        o.ratio.value().unwrap_or(0.0),
        None,
        Some(o.ratio),
        o.sample,
    ))
}

/// The indicator's numerator (a count of records) against the levels.
fn count(judge: &Judge<'_>, f: &Facts<'_>, indicator: IndicatorId) -> Result<Evaluation, Unknown> {
    let o = observed(f, indicator);
    judge.require_records(o.ratio)?;
    Ok(judge.value(o.ratio.numerator as f64, None, Some(o.ratio), o.sample))
}

/// The unit's value of an indicator; none observed is 0 of 0.
fn observed(f: &Facts<'_>, indicator: IndicatorId) -> Observed {
    f.current.get(&indicator).cloned().unwrap_or_default()
}

/// How one rule judges a value: its levels, its resolve margin and its
/// minimum sample.
struct Judge<'r> {
    levels: &'r Levels,
    margin: f64,
    min_sample: u64,
}

impl<'r> Judge<'r> {
    fn new(rule: &'r Rule) -> Self {
        Judge {
            levels: rule.levels(),
            margin: rule.hysteresis.resolve_margin,
            min_sample: rule.min_sample,
        }
    }

    /// The value against the levels: a failure of the most severe level it
    /// crosses, else a pass (clear when beyond the resolve margin).
    fn value(
        &self,
        value: f64,
        reference: Option<f64>,
        ratio: Option<Ratio>,
        sample: Vec<String>,
    ) -> Evaluation {
        let outcome = match self.levels.breach(value) {
            Some(severity) => Outcome::Fail { severity },
            None => Outcome::Pass,
        };
        Evaluation {
            clear: outcome == Outcome::Pass && self.levels.clear(value, self.margin),
            outcome,
            value: Some(value),
            reference,
            ratio,
            sample,
            missing_groups: Vec::new(),
        }
    }

    /// A bare value (an age, points), with no reference, ratio or sample.
    fn points(&self, value: f64) -> Evaluation {
        self.value(value, None, None, Vec::new())
    }

    /// Whether a ratio has a value and at least the minimum sample.
    fn enough(&self, ratio: Ratio) -> bool {
        ratio.denominator >= self.min_sample && ratio.value().is_some()
    }

    fn insufficient(&self, ratio: Ratio) -> Unknown {
        Unknown::InsufficientSample {
            denominator: ratio.denominator,
            min_sample: self.min_sample.max(1),
        }
    }

    /// The unit's value of a ratio indicator, if it has the sample to judge.
    fn sampled(&self, f: &Facts<'_>, indicator: IndicatorId) -> Result<Observed, Unknown> {
        let o = observed(f, indicator);
        if self.enough(o.ratio) {
            Ok(o)
        } else {
            Err(self.insufficient(o.ratio))
        }
    }

    /// At least the minimum sample of records behind a count or a score
    /// (which, unlike a ratio, means something at 0 of 0).
    fn require_records(&self, ratio: Ratio) -> Result<(), Unknown> {
        if ratio.denominator < self.min_sample {
            Err(self.insufficient(ratio))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;
