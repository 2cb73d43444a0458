//! Whether an evaluation woken by a poll would judge anything new. A poll
//! round wakes the evaluation whether or not it stored anything; at 3,000
//! units a cycle reads a month and a rolling 30 days of dossiers, seconds
//! of work, to judge again what was judged five minutes ago. A cycle runs
//! when what it judges may have moved, and at least every
//! `rules.max_evaluation_interval` for what moves with the clock alone
//! (open dossiers passing their deadline, rolling windows sliding).

use chrono::{DateTime, NaiveDate, Utc};

use crate::storage::EvaluationInputs;

/// What an evaluation judges besides the clock: one of these moving is a
/// reason to judge again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inputs {
    /// The live configuration in force (rules, calendar, settings), by
    /// identity: a reload replaces it.
    pub config: usize,
    /// The local day: windows and periods are days and months in Vietnam.
    pub day: NaiveDate,
    /// Per enabled source: whether its data is fresh, and whether it is
    /// down (failed polls in a row).
    pub sources: Vec<(String, bool, Option<u32>)>,
    pub stored: EvaluationInputs,
}

/// The inputs an evaluation judged, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judged {
    pub inputs: Inputs,
    pub at: DateTime<Utc>,
}

/// Why an evaluation runs; `None` from [`due`] when it need not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    FirstSinceStart,
    RecordsChanged,
    SilenceEnded,
    Configuration,
    NewDay,
    SourceFreshness,
    UnitsOrScores,
    Interval,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::FirstSinceStart => "first since start",
            Reason::RecordsChanged => "records changed",
            Reason::SilenceEnded => "a silence ended",
            Reason::Configuration => "configuration reloaded",
            Reason::NewDay => "a new day",
            Reason::SourceFreshness => "a source's freshness changed",
            Reason::UnitsOrScores => "units or portal scores changed",
            Reason::Interval => "interval passed",
        }
    }
}

/// Whether to evaluate at `now` given what was last judged: the first
/// reason that holds, or `None` when nothing judged can have moved and
/// the last judgement is younger than `every`.
pub fn due(
    last: Option<&Judged>,
    now_inputs: &Inputs,
    now: DateTime<Utc>,
    every: std::time::Duration,
) -> Option<Reason> {
    let Some(last) = last else {
        return Some(Reason::FirstSinceStart);
    };
    let (was, is) = (&last.inputs, now_inputs);
    let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX);
    [
        (is.stored.dirty > 0, Reason::RecordsChanged),
        (is.stored.silence_ended, Reason::SilenceEnded),
        (was.config != is.config, Reason::Configuration),
        (was.day != is.day, Reason::NewDay),
        (was.sources != is.sources, Reason::SourceFreshness),
        (was.stored != is.stored, Reason::UnitsOrScores),
        (now - last.at >= every, Reason::Interval),
    ]
    .into_iter()
    .find_map(|(holds, reason)| holds.then_some(reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_796_000_000 + min * 60, 0).unwrap()
    }

    fn inputs() -> Inputs {
        Inputs {
            config: 1,
            day: NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(),
            sources: vec![("procedures".into(), true, None)],
            stored: EvaluationInputs::for_tests(0, false, 1),
        }
    }

    #[test]
    fn an_evaluation_runs_only_when_what_it_judges_may_have_moved() {
        let every = Duration::from_secs(30 * 60);
        let last = Judged {
            inputs: inputs(),
            at: at(0),
        };
        type Change = fn(&mut Inputs);
        let cases: [(&str, Change, i64, Option<Reason>); 9] = [
            ("nothing moved", |_| {}, 5, None),
            ("nothing moved, 29 minutes", |_| {}, 29, None),
            ("the interval passed", |_| {}, 30, Some(Reason::Interval)),
            (
                "records stored",
                |i| i.stored = EvaluationInputs::for_tests(3, false, 1),
                5,
                Some(Reason::RecordsChanged),
            ),
            (
                "a silence ran out",
                |i| i.stored = EvaluationInputs::for_tests(0, true, 1),
                5,
                Some(Reason::SilenceEnded),
            ),
            ("a reload", |i| i.config = 2, 5, Some(Reason::Configuration)),
            (
                "midnight in Vietnam",
                |i| i.day = i.day.succ_opt().unwrap(),
                5,
                Some(Reason::NewDay),
            ),
            (
                "a source went stale",
                |i| i.sources[0].1 = false,
                5,
                Some(Reason::SourceFreshness),
            ),
            (
                "the unit directory changed",
                |i| i.stored = EvaluationInputs::for_tests(0, false, 2),
                5,
                Some(Reason::UnitsOrScores),
            ),
        ];
        for (what, change, minutes, expected) in cases {
            let mut now = inputs();
            change(&mut now);
            assert_eq!(
                due(Some(&last), &now, at(minutes), every),
                expected,
                "{what}"
            );
        }
        assert_eq!(
            due(None, &inputs(), at(0), every),
            Some(Reason::FirstSinceStart)
        );
    }
}
