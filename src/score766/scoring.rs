//! The arithmetic of the index, in whole hundredths of a point: one indicator's score, the groups'
//! sums, the total out of what the scored groups could earn, and its band.

use std::collections::BTreeMap;
use std::iter::Sum;
use std::ops::Add;

use super::definition::EmptyDenominator;
use super::{Bands, Count, Group, IndicatorCode, Score766, UnitCounts};

/// A score in whole hundredths of a point, the portal's precision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Hundredths(u64);

impl Hundredths {
    fn points(self) -> f64 {
        // Division is correctly rounded, so this is the `f64` nearest to the two-decimal value.
        self.0 as f64 / 100.0
    }
}

impl Add for Hundredths {
    type Output = Hundredths;

    fn add(self, other: Hundredths) -> Hundredths {
        Hundredths(self.0 + other.0)
    }
}

impl Sum for Hundredths {
    fn sum<I: Iterator<Item = Hundredths>>(scores: I) -> Hundredths {
        scores.fold(Hundredths::default(), Add::add)
    }
}

/// `numerator / denominator` rounded half-up to a whole number, exactly.
fn round_half_up(numerator: u128, denominator: u128) -> u128 {
    (2 * numerator + denominator) / (2 * denominator)
}

/// One indicator's score; `None` for an absent count or an empty denominator without a score.
pub fn score_indicator(code: IndicatorCode, count: Option<Count>) -> Option<f64> {
    indicator_hundredths(code, count?).map(Hundredths::points)
}

fn indicator_hundredths(code: IndicatorCode, count: Count) -> Option<Hundredths> {
    let rule = code.rule();
    let full_marks = Hundredths(rule.points * 100);
    if count.denominator == 0 {
        return match rule.when_empty {
            EmptyDenominator::NoScore => None,
            EmptyDenominator::Zero => Some(Hundredths(0)),
            EmptyDenominator::FullMarks => Some(full_marks),
        };
    }
    let (numerator, denominator) = if rule.ratio_as_percentage {
        // A percentage with two decimals is a whole number of ten-thousandths.
        let ten_thousandths = round_half_up(
            u128::from(count.numerator) * 10_000,
            u128::from(count.denominator),
        );
        (ten_thousandths, 10_000)
    } else {
        (u128::from(count.numerator), u128::from(count.denominator))
    };
    // P × R / t in hundredths of a point is 100 × P × numerator × t.den / (denominator × t.num).
    // u128 holds it for any u64 counts: at most 2,000 × 10^4 × 2^64 × 10.
    let threshold = rule.full_marks_at;
    let score = round_half_up(
        u128::from(full_marks.0) * numerator * u128::from(threshold.denominator),
        denominator * u128::from(threshold.numerator),
    );
    let capped = score.min(u128::from(full_marks.0));
    Some(Hundredths(
        u64::try_from(capped).expect("a score capped at full marks fits in u64"),
    ))
}

/// The portal's `ONLINE_SERVICES` score in hundredths, clamped to 0..=12.
fn online_services_hundredths(given: Option<f64>) -> Option<Hundredths> {
    let value = given.filter(|value| value.is_finite())?;
    let points = value.clamp(0.0, Group::OnlineServices.max_points());
    // The tolerance absorbs the binary representation error of a two- or three-decimal value, so
    // that 8.835 (stored just below it) still rounds half-up to 8.84. On 0..=1,200 hundredths it is
    // far below the precision of any value the portal publishes.
    let hundredths = (points * 100.0 + 0.5 + 1e-9).floor();
    Some(Hundredths(hundredths as u64))
}

/// The sum of the scores present, or `None` if there are none.
fn sum_present(scores: impl Iterator<Item = Option<Hundredths>>) -> Option<Hundredths> {
    scores.fold(None, |sum, score| match score {
        Some(score) => Some(sum.unwrap_or_default() + score),
        None => sum,
    })
}

/// A unit's full score: every indicator, every group, the total and its band.
pub fn score_unit(counts: &UnitCounts, bands: &Bands) -> Score766 {
    let indicators: BTreeMap<IndicatorCode, Option<Hundredths>> = IndicatorCode::ALL
        .into_iter()
        .map(|code| {
            let count = counts.counts.get(&code);
            (
                code,
                count.and_then(|count| indicator_hundredths(code, *count)),
            )
        })
        .collect();
    let groups: BTreeMap<Group, Option<Hundredths>> = Group::ALL
        .into_iter()
        .map(|group| {
            let score = match group {
                Group::OnlineServices => online_services_hundredths(counts.online_services),
                _ => sum_present(group.indicators().map(|code| indicators[&code])),
            };
            (group, score)
        })
        .collect();
    let total = sum_present(groups.values().copied()).map(Hundredths::points);
    let missing: Vec<Group> = Group::ALL
        .into_iter()
        .filter(|g| groups[g].is_none())
        .collect();
    let attainable = Group::ALL
        .into_iter()
        .filter(|g| groups[g].is_some())
        .map(Group::max_points)
        .sum();
    let band = total
        .filter(|_| missing.is_empty())
        .map(|t| bands.band_for(t));
    Score766 {
        indicators: to_points(indicators),
        groups: to_points(groups),
        total,
        attainable,
        missing,
        band,
    }
}

fn to_points<K: Ord>(scores: BTreeMap<K, Option<Hundredths>>) -> BTreeMap<K, Option<f64>> {
    scores
        .into_iter()
        .map(|(key, score)| (key, score.map(Hundredths::points)))
        .collect()
}
