//! The peer-outlier check: how far a unit is from its peers' median, and
//! whether it is among the worst of them.

use super::{Evaluation, Facts, Judge, Outcome, Unknown};
use crate::domain::{Ratio, Severity};
use crate::indicators::IndicatorId;

/// Peers a median needs.
const MIN_PEERS: usize = 3;

/// The gap to the peers' median against the levels, and a warning for a
/// unit in the `bottom` worst of its peers that passes otherwise.
pub(super) fn outlier(
    judge: &Judge<'_>,
    f: &Facts<'_>,
    indicator: IndicatorId,
    bottom: Option<usize>,
) -> Result<Evaluation, Unknown> {
    let o = judge.sampled(f, indicator)?;
    let better = indicator.higher_is_better();
    let peers = peer_values(judge, f.peers, better)?;
    let median = median(&peers);
    let value = o.ratio.value().unwrap_or(0.0);
    let gap = if better {
        median - value
    } else {
        value - median
    };
    let mut e = judge.value(gap, Some(median), Some(o.ratio), o.sample);
    if bottom.is_some_and(|k| in_bottom(&peers, value, better, k)) && e.outcome == Outcome::Pass {
        e.outcome = Outcome::Fail {
            severity: Severity::Warning,
        };
        e.clear = false;
    }
    Ok(e)
}

/// The values of the peers with the sample to count, worst first; unknown
/// when too few are left for a median.
fn peer_values(judge: &Judge<'_>, peers: &[Ratio], better: bool) -> Result<Vec<f64>, Unknown> {
    let mut values: Vec<f64> = peers
        .iter()
        .filter(|r| judge.enough(**r))
        .filter_map(|r| r.value())
        .collect();
    if values.len() < MIN_PEERS {
        return Err(Unknown::TooFewPeers {
            peers: values.len(),
            needed: MIN_PEERS,
        });
    }
    values.sort_by(|a, b| {
        if better {
            a.total_cmp(b)
        } else {
            b.total_cmp(a)
        }
    });
    Ok(values)
}

/// The median of sorted values.
fn median(sorted: &[f64]) -> f64 {
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// Worst first: the unit is in the bottom `k` when fewer than `k` peers
/// are worse than it.
fn in_bottom(peers: &[f64], value: f64, better: bool, k: usize) -> bool {
    let worse = peers
        .iter()
        .filter(|p| if better { **p < value } else { **p > value })
        .count();
    worse < k
}
