//! Evaluation windows, pure: what a rule is judged over, as a period at a
//! given moment.
//!
//! A calendar month judged on its own is blind at every month start: on the
//! 2nd a small commune has received a handful of dossiers, below any
//! minimum sample. So each rule names its window (`window` in
//! `rules.toml`), one of
//!
//! | window | the period at `now` | made of |
//! |---|---|---|
//! | `month_to_date` | the calendar month containing `now` | that month |
//! | `rolling:Nd` | the N days through today (ending at the next local midnight) | records |
//! | `previous_month` | the calendar month before | that month |
//! | `quarter_to_date` | the calendar quarter containing `now` | its months so far |
//! | `year_to_date` | 1 January to the end of this month | its months so far |
//!
//! and may name a `fallback` window, judged for a unit while its own window
//! has fewer records than the rule's minimum sample (e.g. the portal's
//! calendar month, with the previous month judged until the current one has
//! enough). Windows made of whole months are summed from the stored monthly
//! values; a rolling window is computed from the records.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, Utc};
use serde::{Serialize, Serializer};

use crate::periods::{Period, Quarter, RollingWindow};
use crate::time::{Month, utc_to_local};

/// What a rule is judged over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Window {
    MonthToDate,
    /// The `days` days through today.
    Rolling {
        days: u32,
    },
    PreviousMonth,
    QuarterToDate,
    YearToDate,
}

/// The longest rolling window a rule may use: a year and a bit.
const MAX_ROLLING_DAYS: u32 = 400;

impl Window {
    /// The period the window is at `now`.
    pub fn period_at(self, now: DateTime<Utc>) -> Period {
        let month = Month::containing(now);
        match self {
            Window::MonthToDate => Period::Month(month),
            Window::PreviousMonth => Period::Month(month.previous()),
            Window::QuarterToDate => Period::Quarter(Quarter::containing(now)),
            Window::YearToDate => Period::YearToDate(month),
            Window::Rolling { days } => {
                let today = utc_to_local(now).date();
                Period::Rolling(
                    RollingWindow::through_day(days, today)
                        .expect("a validated window ends on a representable day"),
                )
            }
        }
    }

    /// The period a trend compares the window with: the one just before it
    /// (the previous month, quarter, year to date, or the N days before).
    pub fn previous_period(self, now: DateTime<Utc>) -> Period {
        match self.period_at(now) {
            Period::Month(m) => Period::Month(m.previous()),
            Period::Quarter(q) => Period::Quarter(previous_quarter(q)),
            Period::YearToDate(m) => Period::YearToDate(m.year_earlier()),
            Period::Rolling(r) => Period::Rolling(
                RollingWindow::new(r.days(), r.start()).expect("the days before a window"),
            ),
            other => other,
        }
    }

    /// The same window a year earlier.
    pub fn year_earlier_period(self, now: DateTime<Utc>) -> Period {
        match self.period_at(now) {
            Period::Month(m) => Period::Month(m.year_earlier()),
            Period::Quarter(q) => Period::Quarter(
                Quarter::new(q.year() - 1, q.number()).expect("a quarter a year earlier"),
            ),
            Period::YearToDate(m) => Period::YearToDate(m.year_earlier()),
            Period::Rolling(r) => Period::Rolling(
                RollingWindow::new(r.days(), r.end() - Duration::days(365))
                    .expect("a window a year earlier"),
            ),
            other => other,
        }
    }

    /// Whether the window is one of the portal's calendar months, whose
    /// official scores exist.
    pub fn is_calendar_month(self) -> bool {
        matches!(self, Window::MonthToDate | Window::PreviousMonth)
    }
}

/// The whole months a period is made of, in order, when it is made of
/// whole months: a month, a quarter, a year, a year to date. `None` for a
/// rolling or a reporting window, which are computed from the records.
pub fn months_of(period: &Period) -> Option<Vec<Month>> {
    let (first, last) = match *period {
        Period::Month(m) => (m, m),
        Period::Quarter(q) => (q.first_month(), q.last_month()),
        Period::YearToDate(m) => (Month::new(m.first_day().year(), 1)?, m),
        Period::Year(y) => (Month::new(y.number(), 1)?, Month::new(y.number(), 12)?),
        Period::Rolling(_) | Period::Reporting(_) => return None,
    };
    let mut out = vec![first];
    while *out.last().expect("not empty") < last {
        let next = out.last().expect("not empty").next();
        out.push(next);
    }
    Some(out)
}

fn previous_quarter(q: Quarter) -> Quarter {
    if q.number() == 1 {
        Quarter::new(q.year() - 1, 4)
    } else {
        Quarter::new(q.year(), q.number() - 1)
    }
    .expect("the quarter before")
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Window::MonthToDate => f.write_str("month_to_date"),
            Window::Rolling { days } => write!(f, "rolling:{days}d"),
            Window::PreviousMonth => f.write_str("previous_month"),
            Window::QuarterToDate => f.write_str("quarter_to_date"),
            Window::YearToDate => f.write_str("year_to_date"),
        }
    }
}

impl Serialize for Window {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl FromStr for Window {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let expected = "expected month_to_date, rolling:Nd (e.g. rolling:30d), previous_month, \
                        quarter_to_date or year_to_date";
        match s {
            "month_to_date" => Ok(Window::MonthToDate),
            "previous_month" => Ok(Window::PreviousMonth),
            "quarter_to_date" => Ok(Window::QuarterToDate),
            "year_to_date" => Ok(Window::YearToDate),
            _ => {
                let days = s
                    .strip_prefix("rolling:")
                    .and_then(|d| d.strip_suffix('d'))
                    .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|d| d.parse::<u32>().ok())
                    .ok_or_else(|| format!("`{s}` is not a window: {expected}"))?;
                if (1..=MAX_ROLLING_DAYS).contains(&days) {
                    Ok(Window::Rolling { days })
                } else {
                    Err(format!(
                        "`{s}`: a rolling window is 1 to {MAX_ROLLING_DAYS} days"
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::local_to_utc;
    use chrono::NaiveDateTime;

    fn local(text: &str) -> DateTime<Utc> {
        local_to_utc(NaiveDateTime::parse_from_str(text, "%d/%m/%Y %H:%M").expect("valid"))
    }

    #[test]
    fn windows_read_back_from_their_names_and_bad_ones_say_what_was_expected() {
        for text in [
            "month_to_date",
            "rolling:30d",
            "rolling:7d",
            "previous_month",
            "quarter_to_date",
            "year_to_date",
        ] {
            let w: Window = text.parse().unwrap();
            assert_eq!(w.to_string(), text);
        }
        for bad in [
            "monthly",
            "rolling:30",
            "rolling:d",
            "rolling:0d",
            "rolling:-3d",
            "rolling:401d",
            "",
        ] {
            let e = bad.parse::<Window>().unwrap_err();
            assert!(e.contains(bad) || e.contains("rolling"), "{bad}: {e}");
        }
    }

    /// (window, now, period id, previous id, a year earlier id)
    #[test]
    fn each_window_is_a_period_at_a_moment() {
        let cases = [
            (
                "month_to_date",
                "01/12/2026 08:00",
                "2026-12",
                "2026-11",
                "2025-12",
            ),
            (
                "previous_month",
                "01/12/2026 08:00",
                "2026-11",
                "2026-10",
                "2025-11",
            ),
            (
                "previous_month",
                "15/01/2027 08:00",
                "2026-12",
                "2026-11",
                "2025-12",
            ),
            (
                "quarter_to_date",
                "02/12/2026 08:00",
                "2026-Q4",
                "2026-Q3",
                "2025-Q4",
            ),
            (
                "quarter_to_date",
                "02/01/2027 08:00",
                "2027-Q1",
                "2026-Q4",
                "2026-Q1",
            ),
            (
                "year_to_date",
                "02/12/2026 08:00",
                "2026-YTD-12",
                "2025-YTD-12",
                "2025-YTD-12",
            ),
            // The 30 days through 1 December: 2 November to 1 December.
            (
                "rolling:30d",
                "01/12/2026 08:00",
                "R30D-20261201",
                "R30D-20261101",
                "R30D-20251201",
            ),
        ];
        for (w, now, id, previous, last_year) in cases {
            let w: Window = w.parse().unwrap();
            let now = local(now);
            assert_eq!(w.period_at(now).id(), id, "{w}");
            assert_eq!(w.previous_period(now).id(), previous, "{w}");
            assert_eq!(w.year_earlier_period(now).id(), last_year, "{w}");
            assert!(w.period_at(now).start() <= now, "{w} starts before now");
        }
        let rolling = Window::Rolling { days: 30 }.period_at(local("01/12/2026 08:00"));
        assert_eq!(rolling.start(), local("02/11/2026 00:00"));
        assert_eq!(rolling.end(), local("02/12/2026 00:00"));
    }

    #[test]
    fn whole_month_periods_list_their_months() {
        let ids = |p: &str| {
            months_of(&p.parse().unwrap())
                .map(|ms| ms.iter().map(|m| m.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(ids("2026-12"), Some(vec!["2026-12".to_owned()]));
        assert_eq!(
            ids("2026-Q4"),
            Some(vec!["2026-10".into(), "2026-11".into(), "2026-12".into()])
        );
        assert_eq!(
            ids("2026-YTD-03"),
            Some(vec!["2026-01".into(), "2026-02".into(), "2026-03".into()])
        );
        assert_eq!(ids("2026").map(|m| m.len()), Some(12));
        assert_eq!(ids("R30D-20261201"), None);
        assert_eq!(ids("W2026-08"), None);
    }
}
