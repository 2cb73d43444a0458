//! The working-day calendar that deadlines are counted in.
//!
//! Vietnamese time limits for dossiers, petitions and reports are given in working days: Monday to
//! Friday, less public holidays, plus the Saturdays the government turns into make-up working days
//! when it swaps a weekday into a holiday break. Which days those are is configuration
//! (`config/holidays.toml`, read through [`HolidayConfig`]); this module only counts.

use std::collections::{BTreeSet, HashSet};
use std::ops::Bound::{Excluded, Included};

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, Weekday};
use serde::Deserialize;
use thiserror::Error;

/// Weekends (Saturday, Sunday) plus configured public holidays, minus configured make-up working days.
///
/// The calendar stores only the exceptions to the Monday-to-Friday pattern, which keeps counting over
/// long spans cheap: a span's working days are its weekdays, less the days off inside it, plus the
/// make-up days inside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    /// Weekdays that are not working days.
    weekdays_off: BTreeSet<NaiveDate>,
    /// Saturdays and Sundays that are working days.
    weekend_workdays: BTreeSet<NaiveDate>,
    /// The last day whose holidays are known. After it working days are
    /// still counted (Monday to Friday), but a holiday there is missed.
    covered_until: Option<NaiveDate>,
}

/// How far ahead the holiday calendar must reach: the longest statutory
/// limits run a few weeks, so 60 days leaves time to add next year's
/// holidays before a deadline lands on an unknown one.
pub const COVERAGE_AHEAD_DAYS: u64 = 60;

impl WorkCalendar {
    /// Builds a calendar from holidays and make-up working days.
    ///
    /// A date listed in both is a working day: a make-up day is always announced against a known
    /// holiday break, so it is the more specific of the two. Holidays that fall on a weekend and
    /// make-up days that fall on a weekday change nothing and are dropped. ([`HolidayConfig`] rejects
    /// both conflicts instead, because in a configuration file they are typos.)
    pub fn new(
        holidays: impl IntoIterator<Item = NaiveDate>,
        working_weekends: impl IntoIterator<Item = NaiveDate>,
    ) -> Self {
        let working: BTreeSet<NaiveDate> = working_weekends.into_iter().collect();
        let weekdays_off = holidays
            .into_iter()
            .filter(|day| !is_weekend(*day) && !working.contains(day))
            .collect();
        let weekend_workdays = working.into_iter().filter(|day| is_weekend(*day)).collect();
        Self {
            weekdays_off,
            weekend_workdays,
            covered_until: None,
        }
    }

    /// The same calendar, known to list every holiday up to `day`.
    pub fn covering_until(mut self, day: NaiveDate) -> Self {
        self.covered_until = Some(day);
        self
    }

    /// The last day whose holidays the calendar lists (`None`: none known).
    pub fn covered_until(&self) -> Option<NaiveDate> {
        self.covered_until
    }

    /// Whether the calendar lists the holidays of every day up to `day`.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.covered_until.is_some_and(|last| day <= last)
    }

    /// The first day whose working days are uncertain, when the calendar
    /// does not reach [`COVERAGE_AHEAD_DAYS`] past `day`.
    pub fn uncertain_after(&self, day: NaiveDate) -> Option<NaiveDate> {
        let horizon = day.checked_add_days(Days::new(COVERAGE_AHEAD_DAYS))?;
        if self.covers(horizon) {
            return None;
        }
        Some(
            self.covered_until
                .and_then(|d| d.succ_opt())
                .unwrap_or(day)
                .max(day),
        )
    }

    /// The warning to give on `today` when the calendar does not cover the
    /// next [`COVERAGE_AHEAD_DAYS`] days, naming the file to extend.
    pub fn coverage_warning(&self, today: NaiveDate, file: &std::path::Path) -> Option<String> {
        self.uncertain_after(today)?;
        let known = match self.covered_until {
            Some(d) => format!("lists holidays only up to {d}"),
            None => "lists no holidays".to_owned(),
        };
        Some(format!(
            "{}: the holiday calendar (indicators.holidays_file) {known}, less than \
             {COVERAGE_AHEAD_DAYS} days ahead of {today}; later working days are counted \
             Monday to Friday without holidays (deadlines may be wrong, evidence marks them \
             uncertain). Add the coming year's holidays and make-up days from the government's \
             notice, or set covered_until",
            file.display()
        ))
    }

    /// A calendar with no holidays: Monday to Friday are working days.
    pub fn weekends_only() -> Self {
        Self::default()
    }

    /// Whether `day` is a working day.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if is_weekend(day) {
            self.weekend_workdays.contains(&day)
        } else {
            !self.weekdays_off.contains(&day)
        }
    }

    /// The deadline `n` working days after `start` (local wall-clock time): the same time of day on
    /// the n-th working day after start's date. `n = 0` returns `start` unchanged.
    ///
    /// A start on a non-working day counts as a start on the next working day, so the deadline is
    /// the n-th working day after that one: a dossier submitted online on a Saturday with a one-day
    /// limit is due on Tuesday, as if it had been received on Monday. This matches one-stop practice,
    /// where a dossier arriving outside working days is received on the next working day. The time of
    /// day is kept as it was.
    ///
    /// # Panics
    ///
    /// If the deadline would fall after the last date `chrono` can represent, more than 260,000
    /// years ahead, which no statutory time limit comes near.
    pub fn add_working_days(&self, start: NaiveDateTime, n: u32) -> NaiveDateTime {
        if n == 0 {
            return start;
        }
        let mut day = start.date();
        if !self.is_working_day(day) {
            day = self.next_working_day(day);
        }
        let last_exception = self.last_exception();
        let mut remaining = n;
        while remaining > 0 {
            // Past the last configured exception every week holds exactly five working days, so whole
            // weeks can be skipped at once; this keeps an absurd time limit from spinning day by day.
            // `day` is then a plain working day, Monday to Friday, and a jump of whole weeks lands on
            // the same weekday. (On the last exception itself `day` may be a make-up Saturday, whose
            // next week's twin is a day off: hence strictly after it.)
            if last_exception.is_none_or(|last| day > last) && remaining >= 5 {
                let weeks = remaining / 5;
                day = day
                    .checked_add_days(Days::new(7 * u64::from(weeks)))
                    .expect("deadline falls beyond the last representable date");
                remaining -= weeks * 5;
                continue;
            }
            day = self.next_working_day(day);
            remaining -= 1;
        }
        day.and_time(start.time())
    }

    /// Number of working days strictly after `from` up to and including `to` (0 if `to <= from`).
    ///
    /// This is the inverse of [`add_working_days`](Self::add_working_days) for a start on a working
    /// day: a dossier received on `from` and finished on `to` took this many working days.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        if to <= from {
            return 0;
        }
        let span = (Excluded(from), Included(to));
        let weekdays = weekdays_after(from, to);
        let off = self.weekdays_off.range(span).count();
        let made_up = self.weekend_workdays.range(span).count();
        // Every day off counted here is also one of the weekdays, so the subtraction cannot underflow.
        let days = weekdays - off + made_up;
        u32::try_from(days).expect("chrono's date range holds fewer than u32::MAX days")
    }

    /// The first working day after `day`.
    fn next_working_day(&self, day: NaiveDate) -> NaiveDate {
        let mut next = day;
        loop {
            next = next
                .succ_opt()
                .expect("deadline falls beyond the last representable date");
            if self.is_working_day(next) {
                return next;
            }
        }
    }

    /// The latest date on which the calendar departs from the Monday-to-Friday pattern.
    fn last_exception(&self) -> Option<NaiveDate> {
        let last_off = self.weekdays_off.last().copied();
        let last_made_up = self.weekend_workdays.last().copied();
        last_off.max(last_made_up)
    }
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Number of Mondays to Fridays strictly after `from` up to and including `to`, for `from < to`.
fn weekdays_after(from: NaiveDate, to: NaiveDate) -> usize {
    let days = usize::try_from((to - from).num_days()).expect("`from` is before `to`");
    let (full_weeks, rest) = (days / 7, days % 7);
    let first = from.weekday().num_days_from_monday() as usize;
    // Within the last partial week, day `offset` after `from` is a weekday when its position from
    // Monday (0) is below 5 (Saturday).
    let rest_weekdays = (1..=rest).filter(|offset| (first + offset) % 7 < 5).count();
    full_weeks * 5 + rest_weekdays
}

/// The holiday file (`config/holidays.toml`): public holidays and make-up working days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayConfig {
    /// Days off that would otherwise be working days, or that are holidays in their own right.
    #[serde(default)]
    pub holidays: Vec<HolidayEntry>,
    /// Saturdays and Sundays that are working days because a weekday was swapped into a break.
    #[serde(default)]
    pub working_weekends: Vec<NaiveDate>,
    /// The last day the file lists every holiday for. Default: 31 December of the latest year
    /// with an entry.
    #[serde(default)]
    pub covered_until: Option<NaiveDate>,
}

/// One day off in the holiday file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayEntry {
    /// The day off.
    pub date: NaiveDate,
    /// The holiday's Vietnamese name, for reports.
    pub name: String,
}

/// A holiday file that contradicts itself.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HolidayConfigError {
    /// A make-up working day that is already a working day, most likely a mistyped date.
    #[error("working_weekends: {date} is a {weekday:?}, not a Saturday or Sunday")]
    WorkingWeekendOnWeekday {
        /// The listed date.
        date: NaiveDate,
        /// Its day of the week.
        weekday: Weekday,
    },
    /// A date listed both as a holiday and as a make-up working day.
    #[error("{date} is listed both as the holiday \"{name}\" and in working_weekends")]
    BothHolidayAndWorkingDay {
        /// The listed date.
        date: NaiveDate,
        /// The holiday's name.
        name: String,
    },
}

impl HolidayConfig {
    /// Checks the file for contradictions and builds the calendar.
    ///
    /// Unlike [`WorkCalendar::new`], which resolves them silently, this rejects a make-up day on a
    /// weekday and a date that is both a holiday and a make-up day: in a hand-edited file both are
    /// typos that would otherwise quietly shift every deadline near them.
    ///
    /// # Errors
    ///
    /// [`HolidayConfigError`] for the first contradiction found.
    pub fn into_calendar(self) -> Result<WorkCalendar, HolidayConfigError> {
        if let Some(&date) = self.working_weekends.iter().find(|day| !is_weekend(**day)) {
            return Err(HolidayConfigError::WorkingWeekendOnWeekday {
                date,
                weekday: date.weekday(),
            });
        }
        let working: HashSet<NaiveDate> = self.working_weekends.iter().copied().collect();
        if let Some(entry) = self.holidays.iter().find(|h| working.contains(&h.date)) {
            return Err(HolidayConfigError::BothHolidayAndWorkingDay {
                date: entry.date,
                name: entry.name.clone(),
            });
        }
        let last_year = self
            .holidays
            .iter()
            .map(|h| h.date)
            .chain(self.working_weekends.iter().copied())
            .map(|d| d.year())
            .max();
        let covered_until = self
            .covered_until
            .or_else(|| last_year.and_then(|y| NaiveDate::from_ymd_opt(y, 12, 31)));
        let calendar = WorkCalendar::new(
            self.holidays.into_iter().map(|entry| entry.date),
            self.working_weekends,
        );
        Ok(match covered_until {
            Some(d) => calendar.covering_until(d),
            None => calendar,
        })
    }
}

#[cfg(test)]
mod tests;
