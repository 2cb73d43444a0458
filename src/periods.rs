//! The periods indicators are computed over, in the province's time zone.
//!
//! Every period is a half-open span of instants `[start, end)` whose bounds
//! are local midnights in Asia/Ho_Chi_Minh (a rolling window may end at any
//! instant), held and compared in UTC. Each has a stable text id, used as the
//! `period` of stored indicator values, which [`FromStr`] reads back:
//!
//! | kind | id | span (local time) |
//! |---|---|---|
//! | calendar month | `2026-08` | 1/8/2026 00:00 to 1/9/2026 00:00 |
//! | quarter | `2026-Q3` | 1/7/2026 to 1/10/2026 |
//! | calendar year | `2026` | 1/1/2026 to 1/1/2027 |
//! | year to date | `2026-YTD-08` | 1/1/2026 to 1/9/2026 (through August) |
//! | rolling window | `R30D-20260820` | the 30 days through 20/8/2026: 22/7/2026 to 21/8/2026 |
//! | rolling window | `R30D-20260820T153000` | the 30 days before 20/8/2026 15:30:00 |
//! | Decree 09 monthly window | `W2026-08` | 15/7/2026 to 15/8/2026 (through the 14th) |
//! | Decree 09 quarterly window | `W2026-Q3` | 15/6/2026 to 15/9/2026 |
//! | Decree 09 yearly window | `W2026` | 15/12/2025 to 15/12/2026 |
//!
//! A rolling window's id names the last local day it covers when it ends at a
//! local midnight, because that is how people say it ("the 30 days up to
//! 20 August"); otherwise it names its (exclusive) end to the second. Rolling
//! windows are therefore kept to whole seconds.
//!
//! Ids are case-insensitive on input (`2026-q3` reads as `2026-Q3`) and
//! always written in the canonical form above.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::time::{Month, local_to_utc, utc_to_local};

/// The years a period may fall in: four-digit years keep ids fixed-width and
/// sortable, and stay far inside what `chrono` can represent.
const YEARS: std::ops::RangeInclusive<i32> = 1000..=9999;

/// The longest rolling window accepted, about 100 years: long enough for any
/// question people ask, short enough that no date arithmetic can overflow.
const MAX_ROLLING_DAYS: u32 = 36_600;

/// Decree 09/2019's reporting windows close on this day of the month.
const WINDOW_LAST_DAY: u32 = 14;

/// A span of time that indicators are computed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Period {
    /// A calendar month.
    Month(Month),
    /// A calendar quarter.
    Quarter(Quarter),
    /// A calendar year.
    Year(Year),
    /// From 1 January to the end of the given month of the same year.
    YearToDate(Month),
    /// A number of days ending at a given instant.
    Rolling(RollingWindow),
    /// A reporting window of Decree 09/2019.
    Reporting(ReportingWindow),
}

impl Period {
    /// Start of the period (inclusive), in UTC.
    pub fn start(&self) -> DateTime<Utc> {
        match *self {
            Period::Month(month) => month.start(),
            Period::Quarter(quarter) => quarter.first_month().start(),
            Period::Year(year) => year.january().start(),
            Period::YearToDate(through) => Year(through.first_day().year()).january().start(),
            Period::Rolling(window) => window.start(),
            Period::Reporting(window) => window.start(),
        }
    }

    /// End of the period (exclusive), in UTC.
    pub fn end(&self) -> DateTime<Utc> {
        match *self {
            Period::Month(month) => month.end(),
            Period::Quarter(quarter) => quarter.last_month().end(),
            Period::Year(year) => year.december().end(),
            Period::YearToDate(through) => through.end(),
            Period::Rolling(window) => window.end(),
            Period::Reporting(window) => window.end(),
        }
    }

    /// Whether `t` falls in the period: `start() <= t < end()`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start() <= t && t < self.end()
    }

    /// The stable text id under which values for this period are stored.
    pub fn id(&self) -> String {
        self.to_string()
    }

    /// The period under which the national portal publishes its scores
    /// (`2026-08`, `2026-Q3`, `2026`), when it scores this one: a year to
    /// date is the portal's year so far; rolling and reporting windows it
    /// does not score.
    pub fn portal_key(&self) -> Option<String> {
        match *self {
            Period::Month(_) | Period::Quarter(_) | Period::Year(_) => Some(self.id()),
            Period::YearToDate(m) => Some(m.year().to_string()),
            Period::Rolling(_) | Period::Reporting(_) => None,
        }
    }

    /// The month, when the period is one.
    pub fn as_month(&self) -> Option<Month> {
        match *self {
            Period::Month(month) => Some(month),
            _ => None,
        }
    }
}

impl From<Month> for Period {
    fn from(month: Month) -> Self {
        Period::Month(month)
    }
}

/// A calendar year, e.g. `2026`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Year(i32);

impl Year {
    pub fn new(year: i32) -> Option<Self> {
        YEARS.contains(&year).then_some(Self(year))
    }

    pub fn number(self) -> i32 {
        self.0
    }

    fn january(self) -> Month {
        Month::new(self.0, 1).expect("January is a month")
    }

    fn december(self) -> Month {
        Month::new(self.0, 12).expect("December is a month")
    }
}

/// A calendar quarter, e.g. `2026-Q3` (July to September).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    year: i32,
    /// 1 to 4.
    quarter: u32,
}

impl Quarter {
    pub fn new(year: i32, quarter: u32) -> Option<Self> {
        (YEARS.contains(&year) && (1..=4).contains(&quarter)).then_some(Self { year, quarter })
    }

    /// The quarter that contains `t`, as people in the province see it.
    pub fn containing(t: DateTime<Utc>) -> Self {
        let local = utc_to_local(t);
        Self {
            year: local.year(),
            quarter: (local.month() - 1) / 3 + 1,
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn number(self) -> u32 {
        self.quarter
    }

    pub fn first_month(self) -> Month {
        Month::new(self.year, 3 * self.quarter - 2).expect("a quarter starts in a month")
    }

    pub fn last_month(self) -> Month {
        Month::new(self.year, 3 * self.quarter).expect("a quarter ends in a month")
    }
}

/// The `days` days that end (exclusively) at `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RollingWindow {
    days: u32,
    end: DateTime<Utc>,
}

impl RollingWindow {
    /// The `days` days before `end`, with `end` truncated to the whole second
    /// so that the window's id names it exactly. `None` for 0 days, more than
    /// about a century, or an end outside the years 1000 to 9999.
    pub fn new(days: u32, end: DateTime<Utc>) -> Option<Self> {
        let end = end.with_nanosecond(0)?;
        let year = utc_to_local(end).year();
        ((1..=MAX_ROLLING_DAYS).contains(&days) && YEARS.contains(&year))
            .then_some(Self { days, end })
    }

    /// The `days` days up to and including the local day `last_day`: the
    /// window ends at the local midnight that follows it.
    pub fn through_day(days: u32, last_day: NaiveDate) -> Option<Self> {
        let next_midnight = last_day.succ_opt()?.and_hms_opt(0, 0, 0)?;
        Self::new(days, local_to_utc(next_midnight))
    }

    pub fn days(self) -> u32 {
        self.days
    }

    /// Vietnam has no daylight-saving time, so N days are N × 24 hours and
    /// the window starts at the same local time of day as it ends.
    pub fn start(self) -> DateTime<Utc> {
        self.end - Duration::days(i64::from(self.days))
    }

    pub fn end(self) -> DateTime<Utc> {
        self.end
    }
}

/// A reporting window of Decree 09/2019: data from the 15th of one month to
/// the 14th of a later one, both in local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReportingWindow {
    /// The month up to the 14th of the given month: `W2026-08` covers
    /// 15/7/2026 to 14/8/2026.
    Monthly(Month),
    /// The three months up to the 14th of the quarter's last month:
    /// `W2026-Q3` covers 15/6/2026 to 14/9/2026.
    Quarterly(Quarter),
    /// The year up to 14 December: `W2026` covers 15/12/2025 to 14/12/2026.
    Yearly(Year),
}

impl ReportingWindow {
    /// The monthly window that contains `t`: up to the 14th of `t`'s month
    /// when `t` falls on or before the 14th (local time), else up to the 14th
    /// of the next month.
    pub fn monthly_containing(t: DateTime<Utc>) -> Self {
        let month = Month::containing(t);
        if utc_to_local(t).day() <= WINDOW_LAST_DAY {
            ReportingWindow::Monthly(month)
        } else {
            ReportingWindow::Monthly(month.next())
        }
    }

    /// The month whose 14th is the window's last day.
    fn closing_month(self) -> Month {
        match self {
            ReportingWindow::Monthly(month) => month,
            ReportingWindow::Quarterly(quarter) => quarter.last_month(),
            ReportingWindow::Yearly(year) => year.december(),
        }
    }

    fn months(self) -> u32 {
        match self {
            ReportingWindow::Monthly(_) => 1,
            ReportingWindow::Quarterly(_) => 3,
            ReportingWindow::Yearly(_) => 12,
        }
    }

    /// The 15th of the month `months()` before the closing month, local midnight.
    pub fn start(self) -> DateTime<Utc> {
        let mut opening = self.closing_month();
        for _ in 0..self.months() {
            opening = opening.previous();
        }
        fifteenth(opening)
    }

    /// The 15th of the closing month, local midnight: the window covers the
    /// whole of the 14th.
    pub fn end(self) -> DateTime<Utc> {
        fifteenth(self.closing_month())
    }
}

fn fifteenth(month: Month) -> DateTime<Utc> {
    let day = month
        .first_day()
        .with_day(WINDOW_LAST_DAY + 1)
        .expect("every month has a 15th");
    local_to_utc(day.and_hms_opt(0, 0, 0).expect("midnight"))
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Period::Month(month) => write!(f, "{month}"),
            Period::Quarter(quarter) => write!(f, "{quarter}"),
            Period::Year(year) => write!(f, "{year}"),
            Period::YearToDate(through) => {
                let first = through.first_day();
                write!(f, "{:04}-YTD-{:02}", first.year(), first.month())
            }
            Period::Rolling(window) => write!(f, "{window}"),
            Period::Reporting(window) => write!(f, "{window}"),
        }
    }
}

impl fmt::Display for Year {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-Q{}", self.year, self.quarter)
    }
}

impl fmt::Display for RollingWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = utc_to_local(self.end);
        if end.time() == chrono::NaiveTime::MIN {
            let last_day = end.date().pred_opt().ok_or(fmt::Error)?;
            write!(f, "R{}D-{}", self.days, last_day.format("%Y%m%d"))
        } else {
            write!(f, "R{}D-{}", self.days, end.format("%Y%m%dT%H%M%S"))
        }
    }
}

impl fmt::Display for ReportingWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportingWindow::Monthly(month) => write!(f, "W{month}"),
            ReportingWindow::Quarterly(quarter) => write!(f, "W{quarter}"),
            ReportingWindow::Yearly(year) => write!(f, "W{year}"),
        }
    }
}

/// The text is not a period id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a period: expected a month (2026-08), a quarter (2026-Q3), a year (2026), \
     a year to date (2026-YTD-08), a rolling window (R30D-20260820 or R30D-20260820T153000) \
     or a reporting window (W2026-08, W2026-Q3, W2026)"
)]
pub struct InvalidPeriod(pub String);

impl FromStr for Period {
    type Err = InvalidPeriod;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let canonical = text.trim().to_ascii_uppercase();
        parse_period(&canonical).ok_or_else(|| InvalidPeriod(text.to_owned()))
    }
}

fn parse_period(s: &str) -> Option<Period> {
    if let Some(rest) = s.strip_prefix('W') {
        return parse_reporting_window(rest).map(Period::Reporting);
    }
    if let Some(rest) = s.strip_prefix('R') {
        return parse_rolling_window(rest).map(Period::Rolling);
    }
    if let Some((year, month)) = s.split_once("-YTD-") {
        return Some(Period::YearToDate(parse_month(year, month)?));
    }
    parse_calendar_span(s)
}

/// `2026-08`, `2026-Q3` or `2026`: the spans both the calendar periods and
/// the reporting windows are named by.
fn parse_calendar_span(s: &str) -> Option<Period> {
    match s.split_once('-') {
        None => Some(Period::Year(Year::new(parse_year(s)?)?)),
        Some((year, rest)) => match rest.strip_prefix('Q') {
            Some(quarter) if quarter.len() == 1 => Some(Period::Quarter(Quarter::new(
                parse_year(year)?,
                quarter.parse().ok()?,
            )?)),
            Some(_) => None,
            None => Some(Period::Month(parse_month(year, rest)?)),
        },
    }
}

fn parse_reporting_window(s: &str) -> Option<ReportingWindow> {
    match parse_calendar_span(s)? {
        Period::Month(month) => Some(ReportingWindow::Monthly(month)),
        Period::Quarter(quarter) => Some(ReportingWindow::Quarterly(quarter)),
        Period::Year(year) => Some(ReportingWindow::Yearly(year)),
        _ => None,
    }
}

/// `30D-20260820` (through that local day) or `30D-20260820T153000` (up to
/// that local instant).
fn parse_rolling_window(s: &str) -> Option<RollingWindow> {
    let (days, end) = s.split_once("D-")?;
    if days.is_empty() || !days.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let days: u32 = days.parse().ok()?;
    match end.len() {
        8 => RollingWindow::through_day(days, NaiveDate::parse_from_str(end, "%Y%m%d").ok()?),
        15 => {
            let local = NaiveDateTime::parse_from_str(end, "%Y%m%dT%H%M%S").ok()?;
            RollingWindow::new(days, local_to_utc(local))
        }
        _ => None,
    }
}

fn parse_year(s: &str) -> Option<i32> {
    (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
        .filter(|year| YEARS.contains(year))
}

fn parse_month(year: &str, month: &str) -> Option<Month> {
    if month.len() != 2 || !month.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Month::new(parse_year(year)?, month.parse().ok()?)
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A local wall-clock time, `dd/mm/yyyy hh:mm`, as UTC.
    fn local(text: &str) -> DateTime<Utc> {
        local_to_utc(NaiveDateTime::parse_from_str(text, "%d/%m/%Y %H:%M").expect("valid"))
    }

    fn period(id: &str) -> Period {
        id.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Parses `id`, checks both bounds in local time, and checks that the
    /// period writes itself back as `id`.
    fn check(id: &str, start: &str, end: &str) {
        let p = period(id);
        assert_eq!(p.start(), local(start), "{id}: start");
        assert_eq!(p.end(), local(end), "{id}: end");
        assert_eq!(p.id(), id, "{id}: id round trip");
    }

    #[test]
    fn calendar_periods_run_from_local_midnight_to_local_midnight() {
        // A month: 1 Aug 00:00 to 1 Sep 00:00 (exclusive).
        check("2026-08", "01/08/2026 00:00", "01/09/2026 00:00");
        // February of a non-leap year ends on the 28th.
        check("2026-02", "01/02/2026 00:00", "01/03/2026 00:00");
        // Quarters: Q1 starts on New Year's Day; Q4 ends at the next one.
        check("2026-Q1", "01/01/2026 00:00", "01/04/2026 00:00");
        check("2026-Q3", "01/07/2026 00:00", "01/10/2026 00:00");
        check("2026-Q4", "01/10/2026 00:00", "01/01/2027 00:00");
        // A year.
        check("2026", "01/01/2026 00:00", "01/01/2027 00:00");
        // Year to date: 1 January to the end of the named month.
        check("2026-YTD-08", "01/01/2026 00:00", "01/09/2026 00:00");
        check("2026-YTD-01", "01/01/2026 00:00", "01/02/2026 00:00");
        // Through December, a year to date spans the whole year.
        check("2026-YTD-12", "01/01/2026 00:00", "01/01/2027 00:00");
    }

    #[test]
    fn decree_09_windows_run_from_the_15th_to_the_14th() {
        // Monthly window closing 14/8: 15/7 00:00 to 15/8 00:00 (covers the 14th whole).
        check("W2026-08", "15/07/2026 00:00", "15/08/2026 00:00");
        // January's window opens in the previous December.
        check("W2026-01", "15/12/2025 00:00", "15/01/2026 00:00");
        // Quarterly windows close on the 14th of the quarter's last month.
        check("W2026-Q1", "15/12/2025 00:00", "15/03/2026 00:00");
        check("W2026-Q3", "15/06/2026 00:00", "15/09/2026 00:00");
        check("W2026-Q4", "15/09/2026 00:00", "15/12/2026 00:00");
        // Yearly window: 15/12 of the previous year to 14/12.
        check("W2026", "15/12/2025 00:00", "15/12/2026 00:00");
    }

    #[test]
    fn rolling_windows_count_whole_days_back_from_their_end() {
        // The 30 days through 20/8 end at 21/8 00:00 and start 30 days
        // earlier: 21 days back is 31/7, 9 more is 22/7 00:00. (22/7 to 31/7
        // is 10 days, 1/8 to 20/8 is 20: 30.)
        check("R30D-20260820", "22/07/2026 00:00", "21/08/2026 00:00");
        // One day through 31/12: exactly that day.
        check("R1D-20261231", "31/12/2026 00:00", "01/01/2027 00:00");
        // Ending at 20/8 15:30 (exclusive): from 21/7 15:30.
        let p = period("R30D-20260820T153000");
        assert_eq!(p.start(), local("21/07/2026 15:30"));
        assert_eq!(p.end(), local("20/08/2026 15:30"));
        assert_eq!(p.id(), "R30D-20260820T153000");
        // An end at local midnight written with a time reads as the day before.
        assert_eq!(period("R7D-20260821T000000").id(), "R7D-20260820");
    }

    #[test]
    fn a_rolling_window_built_from_an_instant_keeps_whole_seconds() {
        // 08:30:15.250 UTC on 20/8 is 15:30:15.250 local; the fraction is dropped.
        let end =
            Utc.with_ymd_and_hms(2026, 8, 20, 8, 30, 15).unwrap() + Duration::milliseconds(250);
        let window = RollingWindow::new(7, end).unwrap();
        assert_eq!(window.end(), end - Duration::milliseconds(250));
        let p = Period::Rolling(window);
        assert_eq!(p.id(), "R7D-20260820T153015");
        assert_eq!(period(&p.id()), p);
        assert!(RollingWindow::new(0, end).is_none(), "an empty window");
        assert!(RollingWindow::new(MAX_ROLLING_DAYS + 1, end).is_none());
    }

    #[test]
    fn contains_includes_the_start_and_excludes_the_end() {
        let cases = [
            // (period, instant, contained)
            ("2026-08", "01/08/2026 00:00", true),
            ("2026-08", "31/07/2026 23:59", false),
            ("2026-08", "31/08/2026 23:59", true),
            ("2026-08", "01/09/2026 00:00", false),
            ("2026-Q3", "30/09/2026 23:59", true),
            ("2026-Q3", "01/10/2026 00:00", false),
            ("2026", "31/12/2026 23:59", true),
            ("2026", "01/01/2027 00:00", false),
            ("2026-YTD-08", "01/01/2026 00:00", true),
            ("2026-YTD-08", "01/09/2026 00:00", false),
            // The 14th belongs to the window that closes on it, the 15th to the next.
            ("W2026-08", "14/08/2026 23:59", true),
            ("W2026-08", "15/08/2026 00:00", false),
            ("W2026-08", "15/07/2026 00:00", true),
            ("W2026-08", "14/07/2026 23:59", false),
            ("W2026-09", "15/08/2026 00:00", true),
            ("W2026", "15/12/2025 00:00", true),
            ("W2026", "14/12/2026 23:59", true),
            ("W2026", "15/12/2026 00:00", false),
            ("R30D-20260820", "20/08/2026 23:59", true),
            ("R30D-20260820", "21/08/2026 00:00", false),
            ("R30D-20260820", "22/07/2026 00:00", true),
            ("R30D-20260820", "21/07/2026 23:59", false),
        ];
        for (id, instant, expected) in cases {
            assert_eq!(
                period(id).contains(local(instant)),
                expected,
                "{id} ∋ {instant}"
            );
        }
    }

    #[test]
    fn local_midnight_is_seventeen_hundred_utc_the_day_before() {
        // Asia/Ho_Chi_Minh is UTC+7: 1/8/2026 00:00 local = 31/7/2026 17:00 UTC.
        let p = period("2026-08");
        assert_eq!(p.start().to_rfc3339(), "2026-07-31T17:00:00+00:00");
        let just_before = Utc.with_ymd_and_hms(2026, 7, 31, 16, 59, 59).unwrap();
        assert!(!p.contains(just_before));
        assert!(p.contains(just_before + Duration::seconds(1)));
    }

    #[test]
    fn people_may_type_ids_in_lower_case_and_with_spaces() {
        assert_eq!(period(" 2026-q3 ").id(), "2026-Q3");
        assert_eq!(period("w2026-08").id(), "W2026-08");
        assert_eq!(period("2026-ytd-08").id(), "2026-YTD-08");
        assert_eq!(period("r30d-20260820").id(), "R30D-20260820");
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "2026-13",
            "2026-8",
            "26-08",
            "2026/08",
            "2026-Q5",
            "2026-Q0",
            "2026-Q12",
            "226",
            "20260",
            "2026-YTD-13",
            "2026-YTD-8",
            "W2026-YTD-08",
            "WR30D-20260820",
            "R0D-20260820",
            "RD-20260820",
            "R-1D-20260820",
            "R30D-2026082",
            "R30D-20260832",
            "R30D-20260820T2500",
            "R30D-20260820T250000",
            "W",
            "R",
            "Q3",
            "0999",
            "2026-",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn months_convert_into_periods_with_the_same_id_and_span() {
        let month: Month = "2026-08".parse().unwrap();
        let p = Period::from(month);
        assert_eq!(p.id(), month.to_string());
        assert_eq!((p.start(), p.end()), (month.start(), month.end()));
        assert_eq!(p.as_month(), Some(month));
        assert_eq!(period("2026-Q3").as_month(), None);
    }

    #[test]
    fn the_containing_quarter_and_reporting_window_follow_local_time() {
        // 30/6/2026 18:00 UTC is 1/7/2026 01:00 local: the third quarter.
        let t = Utc.with_ymd_and_hms(2026, 6, 30, 18, 0, 0).unwrap();
        assert_eq!(Quarter::containing(t).to_string(), "2026-Q3");
        // 14/8 23:59 local is in the window closing 14/8; 15/8 00:00 in the next one.
        let window = |text| Period::Reporting(ReportingWindow::monthly_containing(local(text)));
        assert_eq!(window("14/08/2026 23:59").id(), "W2026-08");
        assert_eq!(window("15/08/2026 00:00").id(), "W2026-09");
        // Late December belongs to next January's window.
        assert_eq!(window("20/12/2026 10:00").id(), "W2027-01");
    }

    #[test]
    fn periods_serialize_as_their_ids() {
        let p = period("W2026-Q3");
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, "\"W2026-Q3\"");
        assert_eq!(serde_json::from_str::<Period>(&json).unwrap(), p);
    }
}
