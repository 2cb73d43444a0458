//! Petition indicators (phản ánh kiến nghị), by the time a petition was
//! received.
//!
//! A petition's deadline is its HanXuLy when the upstream gives one, else
//! [`PETITION_ANSWER_DAYS`] working days after receipt (same time of day,
//! by the working-day calendar).
//!
//! Rules where domain.md leaves room:
//! - `petitions_on_time`: an answered petition counts, on time if answered
//!   by its deadline (the deadline itself included). An unanswered petition
//!   counts, as late, once its deadline has passed at `as_of`; before that
//!   it is not counted at all, because it can still be answered on time. So
//!   a unit with only fresh, unanswered petitions has 0/0, which Decision 766
//!   scores as full marks.
//! - `petitions_satisfied`: among answered petitions with a rating, only
//!   "satisfied" counts; "neutral" does not. Unanswered and unrated petitions
//!   are left out.

use chrono::{DateTime, Utc};

use crate::domain::{Petition, Satisfaction};
use crate::time::{local_to_utc, utc_to_local};

use super::{DeadlineRules, IndicatorId as I, Tallies, Window};

/// The time limit for answering a petition that has no deadline of its own:
/// 15 working days (Decision 766's rule, domain.md's targets).
pub const PETITION_ANSWER_DAYS: u32 = 15;

/// Counts one petition into its unit's tallies.
pub(crate) fn count<'a>(p: &'a Petition, w: &Window<'_>, tallies: &mut Tallies<'a>) {
    let Some(received_at) = p.received_at.filter(|&t| w.contains(t)) else {
        return;
    };
    let (id, limit) = (p.code.as_str(), w.sample_limit);
    let deadline = deadline_of(p, received_at, w.rules);
    match p.answered_at {
        Some(answered_at) => {
            tallies.record(I::PetitionsOnTime, answered_at <= deadline, id, limit);
            if let Some(rating) = p.satisfaction {
                let satisfied = rating == Satisfaction::Satisfied;
                tallies.record(I::PetitionsSatisfied, satisfied, id, limit);
            }
        }
        None if w.as_of > deadline => tallies.record(I::PetitionsOnTime, false, id, limit),
        None => {}
    }
}

fn deadline_of(
    p: &Petition,
    received_at: DateTime<Utc>,
    rules: &DeadlineRules<'_>,
) -> DateTime<Utc> {
    p.due_at.unwrap_or_else(|| {
        let local = rules
            .calendar
            .add_working_days(utc_to_local(received_at), PETITION_ANSWER_DAYS);
        local_to_utc(local)
    })
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::super::IndicatorId as I;
    use super::super::fixtures::{at, check, petition};
    use crate::domain::{Petition, Satisfaction};

    fn answered(code: &str, at: DateTime<Utc>) -> Petition {
        Petition {
            answered_at: Some(at),
            ..petition(code)
        }
    }

    #[test]
    fn petitions_are_on_time_if_answered_within_fifteen_working_days_or_their_own_deadline() {
        // Without HanXuLy, a petition received Mon 3/8 09:00 is due 15
        // working days later: Tue 4 … Fri 7 (4), Mon 10 … Fri 14 (9),
        // Mon 17 … Fri 21 (14), Sat 22, a make-up working day (15): due
        // Sat 22/8 09:00. (Weekends alone would give Mon 24/8.)
        let petitions = [
            // Answered at the deadline itself: on time.
            answered("P1", at(22, 8, 9)),
            // Answered Mon 24/8 08:00: late, though on time by weekends alone.
            answered("P2", at(24, 8, 8)),
            // Its own deadline, Fri 7/8 17:00, is earlier: answered 10/8, late.
            Petition {
                due_at: Some(at(7, 8, 17)),
                ..answered("P3", at(10, 8, 9))
            },
            // Received Fri 28/8 09:00, unanswered. Due 15 working days on:
            // 31/8, 1/9, 2/9 are holidays; Thu 3, Fri 4 (2), Mon 7 … Fri 11
            // (7), Mon 14 … Fri 18 (12), Mon 21, Tue 22, Wed 23 (15): due
            // 23/9. Not yet due on 5/9, so not counted.
            Petition {
                received_at: Some(at(28, 8, 9)),
                ..petition("P4")
            },
            // Due 14/8 17:00 and still unanswered on 5/9: late.
            Petition {
                received_at: Some(at(4, 8, 9)),
                due_at: Some(at(14, 8, 17)),
                ..petition("P5")
            },
            // Received in July: another period's.
            Petition {
                received_at: Some(at(31, 7, 9)),
                ..petition("P6")
            },
        ];
        // Counted: P1, P2, P3, P5. On time: P1. 1/4.
        check(
            &petitions,
            "2026-08",
            at(5, 9, 10),
            I::PetitionsOnTime,
            (1, 4),
            &["P2", "P3", "P5"],
        );
    }

    #[test]
    fn an_unanswered_petition_counts_only_once_its_deadline_has_passed() {
        // P is due 22/8 09:00 (see above). On 22/8 09:00 it can still be
        // answered on time: not counted, so 0/0 (full marks in the index).
        check(
            &[petition("P")],
            "2026-08",
            at(22, 8, 9),
            I::PetitionsOnTime,
            (0, 0),
            &[],
        );
        // An hour later it is late: 0/1.
        check(
            &[petition("P")],
            "2026-08",
            at(22, 8, 10),
            I::PetitionsOnTime,
            (0, 1),
            &["P"],
        );
    }

    #[test]
    fn petitions_satisfied_counts_satisfied_ratings_among_rated_answers() {
        let rated = |code, rating| Petition {
            satisfaction: rating,
            ..answered(code, at(10, 8, 9))
        };
        let petitions = [
            rated("P1", Some(Satisfaction::Satisfied)),
            // Neutral is not satisfied.
            rated("P2", Some(Satisfaction::Neutral)),
            rated("P3", Some(Satisfaction::Dissatisfied)),
            // Answered without a rating: not counted.
            rated("P4", None),
            // A rating on an unanswered petition: not counted.
            Petition {
                satisfaction: Some(Satisfaction::Satisfied),
                ..petition("P5")
            },
        ];
        check(
            &petitions,
            "2026-08",
            at(5, 9, 10),
            I::PetitionsSatisfied,
            (1, 3),
            &["P2", "P3"],
        );
    }

    #[test]
    fn a_unit_without_petitions_has_zero_over_zero() {
        let none: &[Petition] = &[];
        check(
            none,
            "2026-08",
            at(5, 9, 10),
            I::PetitionsOnTime,
            (0, 0),
            &[],
        );
        check(
            none,
            "2026-08",
            at(5, 9, 10),
            I::PetitionsSatisfied,
            (0, 0),
            &[],
        );
    }
}
