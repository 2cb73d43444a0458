//! Data readiness, pure: whether a source's data covers the period a figure
//! speaks of, so that no score, rate, rank or rating leaves the house
//! computed from data that was never read.
//!
//! A source covers
//! - a **past** period (it ended at or before `now`) once a successful poll
//!   started at or after the period's end: only then has everything that
//!   happened in the period had a chance to arrive;
//! - the **current** period once a successful poll of this run has
//!   completed, or the stored last poll is fresh by the source's staleness
//!   limit (a restart a minute after the last poll need not wait).
//!
//! "Successful poll" is the data's as-of time: the start of the last poll
//! that completed (`SourceState::data_as_of`). A source that does not cover
//! a period is a [`Gap`], with the reason people are told.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::domain::{Language, SourceHealth, SourceId};
use crate::time::format_local;

/// What is known of one enabled source, for readiness.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceFacts {
    pub source: SourceId,
    pub health: SourceHealth,
    /// The start of the last poll that completed.
    pub data_as_of: Option<DateTime<Utc>>,
    /// Data older than this is stale.
    pub stale_after: Duration,
}

/// Why a source's data does not cover a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gap {
    /// No poll has ever completed.
    NeverPolled { health: SourceHealth },
    /// The last completed poll started before the period ended.
    NotSinceEnd {
        health: SourceHealth,
        data_as_of: DateTime<Utc>,
    },
    /// The last completed poll is older than the staleness limit, and none
    /// completed in this run.
    Stale {
        health: SourceHealth,
        data_as_of: DateTime<Utc>,
    },
}

impl Gap {
    /// The reason in words: `mất kết nối; dữ liệu đến 30/11/2026 23:40,
    /// chưa có lần lấy dữ liệu nào sau khi kỳ kết thúc`.
    pub fn reason(&self, lang: Language) -> String {
        let health = |h: &SourceHealth| match h {
            // "Never polled" says it all; a healthy state says nothing.
            SourceHealth::NeverPolled | SourceHealth::Healthy => None,
            h => Some(h.name(lang)),
        };
        let (h, text) = match (self, lang) {
            (Gap::NeverPolled { health: h }, Language::Vi) => {
                (h, "chưa lấy được dữ liệu lần nào".to_owned())
            }
            (Gap::NeverPolled { health: h }, Language::En) => {
                (h, "no poll has completed yet".to_owned())
            }
            (
                Gap::NotSinceEnd {
                    health: h,
                    data_as_of,
                },
                Language::Vi,
            ) => (
                h,
                format!(
                    "dữ liệu đến {}, chưa có lần lấy dữ liệu nào sau khi kỳ kết thúc",
                    format_local(*data_as_of)
                ),
            ),
            (
                Gap::NotSinceEnd {
                    health: h,
                    data_as_of,
                },
                Language::En,
            ) => (
                h,
                format!(
                    "data as of {}, no poll since the period ended",
                    format_local(*data_as_of)
                ),
            ),
            (
                Gap::Stale {
                    health: h,
                    data_as_of,
                },
                Language::Vi,
            ) => (h, format!("dữ liệu cũ, đến {}", format_local(*data_as_of))),
            (
                Gap::Stale {
                    health: h,
                    data_as_of,
                },
                Language::En,
            ) => (
                h,
                format!("stale data, as of {}", format_local(*data_as_of)),
            ),
        };
        match health(h) {
            Some(h) => format!("{h}; {text}"),
            None => text,
        }
    }
}

/// Whether `source`'s data covers a period ending (exclusively) at
/// `period_end`, judged at `now`. `run_started` is when this daemon run
/// began (`None` for a one-off command, which only trusts fresh data).
pub fn covers(
    source: &SourceFacts,
    period_end: DateTime<Utc>,
    now: DateTime<Utc>,
    run_started: Option<DateTime<Utc>>,
) -> Result<(), Gap> {
    let health = source.health;
    let Some(as_of) = source.data_as_of else {
        return Err(Gap::NeverPolled { health });
    };
    if period_end <= now {
        return if as_of >= period_end {
            Ok(())
        } else {
            Err(Gap::NotSinceEnd {
                health,
                data_as_of: as_of,
            })
        };
    }
    let this_run = run_started.is_some_and(|t| as_of >= t);
    if this_run || now - as_of <= source.stale_after {
        Ok(())
    } else {
        Err(Gap::Stale {
            health,
            data_as_of: as_of,
        })
    }
}

/// Which of the enabled sources cover a period, and why the others do not.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Coverage {
    pub covered: Vec<SourceId>,
    pub gaps: BTreeMap<SourceId, Gap>,
}

impl Coverage {
    /// Judges every enabled source for a period ending at `period_end`.
    pub fn of(
        sources: &[SourceFacts],
        period_end: DateTime<Utc>,
        now: DateTime<Utc>,
        run_started: Option<DateTime<Utc>>,
    ) -> Coverage {
        let mut out = Coverage::default();
        for s in sources {
            match covers(s, period_end, now, run_started) {
                Ok(()) => out.covered.push(s.source),
                Err(gap) => {
                    out.gaps.insert(s.source, gap);
                }
            }
        }
        out
    }

    /// Every source covered: nothing to wait for.
    pub fn is_complete(&self) -> bool {
        self.gaps.is_empty()
    }

    pub fn covers(&self, source: SourceId) -> bool {
        self.covered.contains(&source)
    }

    /// Coverage with every source covered (replay, and tests that judge
    /// history as if it had all been read).
    pub fn all(sources: impl IntoIterator<Item = SourceId>) -> Coverage {
        Coverage {
            covered: sources.into_iter().collect(),
            gaps: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap()
    }

    fn source(as_of: Option<DateTime<Utc>>) -> SourceFacts {
        SourceFacts {
            source: SourceId::Procedures,
            health: SourceHealth::Healthy,
            data_as_of: as_of,
            stale_after: Duration::minutes(10),
        }
    }

    /// (data as of, period end, now, run started, covered?)
    #[allow(clippy::type_complexity)]
    fn check(
        cases: &[(
            Option<DateTime<Utc>>,
            DateTime<Utc>,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            bool,
        )],
    ) {
        for (i, &(as_of, end, now, run, expected)) in cases.iter().enumerate() {
            assert_eq!(
                covers(&source(as_of), end, now, run).is_ok(),
                expected,
                "case {i}: as of {as_of:?}, end {end}, now {now}, run {run:?}"
            );
        }
    }

    #[test]
    fn a_past_period_is_covered_only_by_a_poll_after_it_ended() {
        let end = at(2, 0);
        check(&[
            (None, end, at(2, 8), Some(at(2, 7)), false),
            // Polled before the end, however fresh: not covered.
            (Some(at(1, 23)), end, at(2, 0), Some(at(1, 0)), false),
            (Some(at(2, 0)), end, at(2, 8), None, true),
            // Old but after the end: covered (the period is judged as at its end).
            (Some(at(2, 1)), end, at(9, 8), Some(at(9, 8)), true),
        ]);
    }

    #[test]
    fn the_current_period_is_covered_by_a_poll_of_this_run_or_fresh_stored_data() {
        let end = at(31, 0);
        check(&[
            (None, end, at(2, 8), Some(at(2, 7)), false),
            // Stored, fresh (5 minutes old): covered, even at start-up.
            (
                Some(at(2, 8) - Duration::minutes(5)),
                end,
                at(2, 8),
                Some(at(2, 8)),
                true,
            ),
            // Stored, stale, before this run: not covered.
            (Some(at(1, 8)), end, at(2, 8), Some(at(2, 7)), false),
            // Polled in this run, then the source went quiet: covered.
            (Some(at(2, 7)), end, at(2, 8), Some(at(2, 7)), true),
            // A one-off command trusts only fresh data.
            (Some(at(2, 7)), end, at(2, 8), None, false),
        ]);
    }

    #[test]
    fn gaps_say_why_in_the_readers_language() {
        let down = SourceFacts {
            health: SourceHealth::Down,
            ..source(Some(at(1, 16)))
        };
        let gap = covers(&down, at(2, 0), at(2, 8), None).unwrap_err();
        assert_eq!(
            gap.reason(Language::Vi),
            "mất kết nối; dữ liệu đến 01/12/2026 23:00, chưa có lần lấy dữ liệu nào sau khi kỳ kết thúc"
        );
        let never = covers(&source(None), at(2, 0), at(2, 8), None).unwrap_err();
        assert_eq!(never.reason(Language::Vi), "chưa lấy được dữ liệu lần nào");
        let c = Coverage::of(&[source(None)], at(2, 0), at(2, 8), None);
        assert!(!c.is_complete() && !c.covers(SourceId::Procedures));
    }
}
