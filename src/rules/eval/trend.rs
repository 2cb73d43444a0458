//! The trend check: how far an indicator's ratio fell since an earlier
//! period.

use super::{Evaluation, Facts, Judge, Unknown};
use crate::indicators::IndicatorId;
use crate::rules::Compare;

/// The drop of the ratio since the period `compare` names, in fractions of
/// 1, against the levels; unknown without an earlier ratio to compare with.
pub(super) fn drop_since(
    judge: &Judge<'_>,
    f: &Facts<'_>,
    indicator: IndicatorId,
    compare: Compare,
) -> Result<Evaluation, Unknown> {
    let o = judge.sampled(f, indicator)?;
    let earlier = match compare {
        Compare::PreviousPeriod => f.previous,
        Compare::LastYear => f.last_year,
    }
    .and_then(|m| m.get(&indicator))
    .map(|e| e.ratio)
    .filter(|r| judge.enough(*r))
    .ok_or(Unknown::NoComparison)?;
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
    Ok(judge.value(drop, Some(then_v), Some(o.ratio), o.sample))
}
