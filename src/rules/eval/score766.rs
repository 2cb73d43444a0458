//! The Decision 766 checks: our score (the total or a group), the portal's
//! published one, and the gap between the two.

use super::{Evaluation, Facts, Judge, Unknown, observed};
use crate::domain::PortalScore;
use crate::indicators::IndicatorId;
use crate::score766::{Group, Score766};

/// The portal's own figure against the levels: no sample of ours to wait
/// for.
pub(super) fn official(
    judge: &Judge<'_>,
    f: &Facts<'_>,
    group: Option<Group>,
) -> Result<Evaluation, Unknown> {
    let value = f
        .official
        .and_then(|p| portal_figure(p, group))
        .ok_or(Unknown::NotScored)?;
    Ok(judge.points(value))
}

/// Our score, computed from the records, against the levels: a group as
/// it is, the total as [`partial_total`] judges it.
pub(super) fn ours(
    judge: &Judge<'_>,
    f: &Facts<'_>,
    group: Option<Group>,
) -> Result<Evaluation, Unknown> {
    let score = f.score.ok_or(Unknown::NotScored)?;
    judge.require_records(observed(f, IndicatorId::OnTime).ratio)?;
    match group {
        None => partial_total(judge, score),
        Some(g) => score
            .groups
            .get(&g)
            .copied()
            .flatten()
            .map(|v| judge.points(v))
            .ok_or(Unknown::NotScored),
    }
}

/// How far our score is from the portal's, in points, against the levels.
pub(super) fn portal_gap(
    judge: &Judge<'_>,
    f: &Facts<'_>,
    group: Option<Group>,
) -> Result<Evaluation, Unknown> {
    let (Some(score), Some(portal)) = (f.score, f.official) else {
        return Err(Unknown::NotScored);
    };
    judge.require_records(observed(f, IndicatorId::OnTime).ratio)?;
    // Totals only over all six groups: a partial sum of ours is not
    // comparable with the portal's total.
    let ours = match group {
        None => score.complete_total(),
        Some(g) => score.groups.get(&g).copied().flatten(),
    };
    let (ours, official) = ours
        .zip(portal_figure(portal, group))
        .ok_or(Unknown::NotScored)?;
    Ok(judge.points(((ours - official).abs() * 100.0).round() / 100.0))
}

/// The portal's published total (`None`) or group score.
fn portal_figure(portal: &PortalScore, group: Option<Group>) -> Option<f64> {
    match group {
        None => portal.total,
        Some(g) => portal.groups.get(g.code()).copied().flatten(),
    }
}

/// The 766 total against its levels, when groups may be missing: the
/// missing groups could add anything from 0 to their maximum, so the result
/// is a breach only if even full marks in them would still breach (judged
/// on that most-possible total), a pass only if the partial total already
/// passes, and unknown otherwise. A complete total is judged as it is.
fn partial_total(judge: &Judge<'_>, score: &Score766) -> Result<Evaluation, Unknown> {
    let (least, most) = score.bounds().ok_or(Unknown::NotScored)?;
    if score.is_complete() {
        return Ok(judge.points(least));
    }
    let judged_on = if judge.levels.breach(most).is_some() {
        most
    } else if judge.levels.breach(least).is_none() {
        least
    } else {
        return Err(Unknown::IncompleteScore {
            missing: score.missing.clone(),
        });
    };
    let mut e = judge.points(judged_on);
    e.missing_groups = score.missing.clone();
    Ok(e)
}
