//! The check of each rule kind: which fields it takes (any other is an
//! error), which it requires, and what they must hold.

use super::levels::{check_levels, levels};
use super::{Problem, RawRule};
use crate::indicators::IndicatorId;
use crate::rules::{Bound, Check, Compare, duration_secs};
use crate::score766::Group;

/// The rule's check, by its `kind`.
pub(super) fn check(r: &RawRule) -> Result<Check, Problem> {
    match r.kind.as_str() {
        "threshold" => threshold(r),
        "count" => count(r),
        "trend" => trend(r),
        "peer_outlier" => peer_outlier(r),
        "staleness" => staleness(r),
        "score766" => score766(r),
        "portal_gap" => portal_gap(r),
        other => Err((
            "kind",
            format!(
                "unknown rule kind `{other}`: expected threshold, count, trend, peer_outlier, staleness, score766 or portal_gap"
            ),
        )),
    }
}

fn threshold(r: &RawRule) -> Result<Check, Problem> {
    unused(
        r,
        &[
            "indicator",
            "info_below",
            "warning_below",
            "critical_below",
            "info_above",
            "warning_above",
            "critical_above",
        ],
    )?;
    let indicator = indicator(r)?;
    let levels = levels(r, indicator.is_share())?;
    Ok(Check::Threshold { indicator, levels })
}

fn count(r: &RawRule) -> Result<Check, Problem> {
    unused(
        r,
        &["indicator", "info_above", "warning_above", "critical_above"],
    )?;
    let indicator = indicator(r)?;
    let levels = levels(r, false)?;
    Ok(Check::Count { indicator, levels })
}

fn trend(r: &RawRule) -> Result<Check, Problem> {
    unused(
        r,
        &["indicator", "compare", "warning_drop", "critical_drop"],
    )?;
    let indicator = indicator(r)?;
    let compare = compare(r)?;
    let levels = check_levels(
        Bound::Above,
        [None, r.warning_drop, r.critical_drop],
        ["info_drop", "warning_drop", "critical_drop"],
        true,
    )?;
    if levels.warning.is_none() && levels.critical.is_none() {
        return Err((
            "warning_drop",
            "required for kind = \"trend\" (e.g. 0.05 for 5 points)".into(),
        ));
    }
    Ok(Check::Trend {
        indicator,
        compare,
        levels,
    })
}

/// A trend's `compare`: `previous_period` (the default) or `last_year`.
fn compare(r: &RawRule) -> Result<Compare, Problem> {
    match r.compare.as_deref().unwrap_or("previous_period") {
        "previous_period" => Ok(Compare::PreviousPeriod),
        "last_year" => Ok(Compare::LastYear),
        other => Err((
            "compare",
            format!("`{other}`: expected previous_period or last_year"),
        )),
    }
}

fn peer_outlier(r: &RawRule) -> Result<Check, Problem> {
    unused(r, &["indicator", "warning_gap", "critical_gap", "bottom"])?;
    let indicator = indicator(r)?;
    let levels = check_levels(
        Bound::Above,
        [None, r.warning_gap, r.critical_gap],
        ["info_gap", "warning_gap", "critical_gap"],
        true,
    )?;
    if levels.warning.is_none() && levels.critical.is_none() && r.bottom.is_none() {
        return Err((
            "warning_gap",
            "required for kind = \"peer_outlier\" (or bottom)".into(),
        ));
    }
    if r.bottom == Some(0) {
        return Err(("bottom", "expected at least 1".into()));
    }
    Ok(Check::PeerOutlier {
        indicator,
        levels,
        bottom: r.bottom,
    })
}

fn staleness(r: &RawRule) -> Result<Check, Problem> {
    unused(r, &["source", "warning_after", "critical_after"])?;
    let source = r
        .source
        .clone()
        .ok_or(("source", "required for kind = \"staleness\"".to_owned()))?;
    if !["procedures", "documents", "reports", "portal", "units"].contains(&source.as_str()) {
        return Err((
            "source",
            format!("`{source}`: expected procedures, documents, reports, portal or units"),
        ));
    }
    let w = after(r.warning_after.as_deref(), "warning_after")?;
    let c = after(r.critical_after.as_deref(), "critical_after")?;
    if w.is_none() && c.is_none() {
        return Err((
            "warning_after",
            "required for kind = \"staleness\" (e.g. \"30m\")".into(),
        ));
    }
    let levels = check_levels(
        Bound::Above,
        [None, w, c],
        ["info_after", "warning_after", "critical_after"],
        false,
    )?;
    Ok(Check::Staleness { source, levels })
}

/// A staleness level, a duration like `30m`, in seconds.
fn after(text: Option<&str>, field: &'static str) -> Result<Option<f64>, Problem> {
    text.map(duration_secs).transpose().map_err(|m| (field, m))
}

fn score766(r: &RawRule) -> Result<Check, Problem> {
    unused(
        r,
        &[
            "group",
            "source",
            "info_below",
            "warning_below",
            "critical_below",
        ],
    )?;
    let official = match r.source.as_deref() {
        None | Some("ours") => false,
        Some("portal") => true,
        Some(other) => {
            return Err((
                "source",
                format!(
                    "`{other}`: expected ours (computed from the records) or portal (the portal's published score)"
                ),
            ));
        }
    };
    let group = group_of(r)?;
    let levels = levels(r, false)?;
    if levels.bound != Bound::Below {
        return Err((
            "warning_below",
            "a 766 score is a breach below a level".into(),
        ));
    }
    Ok(Check::Score766 {
        group,
        levels,
        official,
    })
}

fn portal_gap(r: &RawRule) -> Result<Check, Problem> {
    unused(
        r,
        &["group", "info_above", "warning_above", "critical_above"],
    )?;
    let group = group_of(r)?;
    let levels = levels(r, false)?;
    // `unused` admits *_above levels only: the bound is Above.
    Ok(Check::PortalGap { group, levels })
}

fn indicator(r: &RawRule) -> Result<IndicatorId, Problem> {
    r.indicator
        .as_deref()
        .ok_or(("indicator", format!("required for kind = \"{}\"", r.kind)))?
        .parse()
        .map_err(|m| ("indicator", m))
}

/// A 766 rule's `group`: `total` (the default) or a group code.
fn group_of(r: &RawRule) -> Result<Option<Group>, Problem> {
    match r.group.as_deref().unwrap_or("total") {
        "total" => Ok(None),
        g => Group::ALL
            .into_iter()
            .find(|x| x.code() == g)
            .map(Some)
            .ok_or((
                "group",
                format!("`{g}`: expected total or a group code such as PROGRESS"),
            )),
    }
}

/// Fields a kind does not use are an error, not silently ignored.
fn unused(r: &RawRule, allowed: &[&str]) -> Result<(), Problem> {
    let present = [
        ("indicator", r.indicator.is_some()),
        ("source", r.source.is_some()),
        ("group", r.group.is_some()),
        ("compare", r.compare.is_some()),
        ("info_below", r.info_below.is_some()),
        ("warning_below", r.warning_below.is_some()),
        ("critical_below", r.critical_below.is_some()),
        ("info_above", r.info_above.is_some()),
        ("warning_above", r.warning_above.is_some()),
        ("critical_above", r.critical_above.is_some()),
        ("warning_drop", r.warning_drop.is_some()),
        ("critical_drop", r.critical_drop.is_some()),
        ("warning_gap", r.warning_gap.is_some()),
        ("critical_gap", r.critical_gap.is_some()),
        ("bottom", r.bottom.is_some()),
        ("warning_after", r.warning_after.is_some()),
        ("critical_after", r.critical_after.is_some()),
    ];
    for (field, set) in present {
        if set && !allowed.contains(&field) {
            return Err((field, format!("not used by kind = \"{}\"", r.kind)));
        }
    }
    Ok(())
}
