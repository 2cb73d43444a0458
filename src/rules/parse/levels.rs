//! A rule's levels: from `*_below` or `*_above` fields, each a valid
//! number, and ordered from the mildest to the most severe.

use super::{Problem, RawRule};
use crate::rules::{Bound, Levels};

/// Levels from `*_below` or `*_above` fields (not both), ordered from the
/// mildest to the most severe. `fraction`: values must lie in [0, 1].
pub(super) fn levels(r: &RawRule, fraction: bool) -> Result<Levels, Problem> {
    let below = [r.info_below, r.warning_below, r.critical_below];
    let above = [r.info_above, r.warning_above, r.critical_above];
    let (bound, vals, names) = match (
        below.iter().any(Option::is_some),
        above.iter().any(Option::is_some),
    ) {
        (true, false) => (
            Bound::Below,
            below,
            ["info_below", "warning_below", "critical_below"],
        ),
        (false, true) => (
            Bound::Above,
            above,
            ["info_above", "warning_above", "critical_above"],
        ),
        (true, true) => {
            return Err((
                "warning_below",
                "give *_below or *_above levels, not both".into(),
            ));
        }
        (false, false) => {
            return Err((
                "warning_below",
                "at least one level is required (e.g. warning_below)".into(),
            ));
        }
    };
    check_levels(bound, vals, names, fraction)
}

pub(super) fn check_levels(
    bound: Bound,
    vals: [Option<f64>; 3],
    names: [&'static str; 3],
    fraction: bool,
) -> Result<Levels, Problem> {
    for (v, name) in vals.iter().zip(names) {
        if let Some(v) = v
            && (!v.is_finite() || *v < 0.0 || (fraction && *v > 1.0))
        {
            let expected = if fraction {
                "a fraction from 0 to 1, e.g. 0.95 for 95%"
            } else {
                "a number >= 0"
            };
            return Err((name, format!("{v} is not valid: expected {expected}")));
        }
    }
    // Each more severe level must be further into the breach than the milder ones.
    let set: Vec<(f64, &str)> = vals
        .iter()
        .zip(names)
        .filter_map(|(v, n)| v.map(|v| (v, n)))
        .collect();
    for pair in set.windows(2) {
        let ((milder, _), (severer, name)) = (pair[0], pair[1]);
        let ordered = match bound {
            Bound::Below => severer <= milder,
            Bound::Above => severer >= milder,
        };
        if !ordered {
            return Err((
                name,
                format!(
                    "{severer} is a milder level than {milder}: the more severe level must be further {}",
                    if bound == Bound::Below {
                        "below"
                    } else {
                        "above"
                    }
                ),
            ));
        }
    }
    Ok(Levels {
        bound,
        info: vals[0],
        warning: vals[1],
        critical: vals[2],
    })
}
