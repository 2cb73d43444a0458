//! Time for the generator: the months of history, working days from the
//! shipped holiday calendar, and fast local-time arithmetic.
//!
//! Generating a million dossiers computes a few million deadlines, so the
//! working days of the whole span are laid out once and a deadline becomes
//! an index lookup. Outside that span the calendar itself answers.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use rand::Rng;
use rand::rngs::StdRng;

use crate::calendar::{HolidayConfig, WorkCalendar};
use crate::time::{Month, local_to_utc, utc_to_local};

/// The holiday calendar that ships with par-monitor, so that simulated
/// deadlines agree with the ones par-monitor computes by default.
const HOLIDAYS: &str = include_str!("../../config/holidays.toml");

pub(crate) fn shipped_calendar() -> WorkCalendar {
    toml::from_str::<HolidayConfig>(HOLIDAYS)
        .expect("config/holidays.toml parses")
        .into_calendar()
        .expect("config/holidays.toml is consistent")
}

/// Days after `now` that deadlines may reach (20 working days, apologies
/// moving them twice, report deadlines): well past any of them.
const FUTURE_DAYS: i64 = 400;

pub(crate) struct Timeline {
    pub now: DateTime<Utc>,
    pub now_local: NaiveDateTime,
    /// The months of history, oldest first; the last contains `now`.
    pub months: Vec<Month>,
    pub calendar: WorkCalendar,
    first: NaiveDate,
    /// Local midnight of each day from `first`, in UTC.
    midnights: Vec<DateTime<Utc>>,
    /// For each day from `first`: the index in `workdays` of the first
    /// working day on or after it.
    next_work: Vec<u32>,
    workdays: Vec<NaiveDate>,
    /// For each day from `first`: whether it is a working day.
    working: Vec<bool>,
    /// The zone's offset if it is the same all through the span. It is for
    /// Asia/Ho_Chi_Minh (no DST since 1975), and then converting to local
    /// time is an addition instead of a time-zone table lookup, which
    /// generation does millions of times.
    fixed_offset: Option<Duration>,
}

impl Timeline {
    pub fn new(now: DateTime<Utc>, months: u32) -> Timeline {
        let mut month = Month::containing(now);
        let mut list = vec![month];
        for _ in 1..months.max(1) {
            month = month.previous();
            list.push(month);
        }
        list.reverse();
        let calendar = shipped_calendar();
        // A month before the history too: online submissions and deadlines
        // of the first days reach back a little.
        let first = list[0].previous().first_day();
        let last = utc_to_local(now).date() + Duration::days(FUTURE_DAYS);
        let mut midnights = Vec::new();
        let mut next_work = Vec::new();
        let mut workdays = Vec::new();
        let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
        let working: Vec<bool> = days.iter().map(|d| calendar.is_working_day(*d)).collect();
        let mut offsets = BTreeSet::new();
        for (&day, &work) in days.iter().zip(&working) {
            let local = day.and_time(NaiveTime::MIN);
            let midnight = local_to_utc(local);
            offsets.insert(local - midnight.naive_utc());
            midnights.push(midnight);
            if work {
                workdays.push(day);
            }
        }
        // Walk backwards so each day knows the next working day on or after it.
        let mut w = workdays.len();
        for &work in working.iter().rev() {
            if work {
                w -= 1;
            }
            next_work.push(u32::try_from(w).expect("fewer than 2^32 working days"));
        }
        next_work.reverse();
        let fixed_offset = (offsets.len() == 1)
            .then(|| offsets.into_iter().next())
            .flatten();
        Timeline {
            now,
            now_local: utc_to_local(now),
            months: list,
            calendar,
            first,
            midnights,
            next_work,
            workdays,
            working,
            fixed_offset,
        }
    }

    /// `t` in local wall-clock time.
    pub fn local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        match self.fixed_offset {
            Some(offset) => t.naive_utc() + offset,
            None => utc_to_local(t),
        }
    }

    /// Whether `day` is a working day.
    pub fn is_working(&self, day: NaiveDate) -> bool {
        match self.offset(day) {
            Some(i) => self.working[i],
            None => self.calendar.is_working_day(day),
        }
    }

    fn offset(&self, day: NaiveDate) -> Option<usize> {
        usize::try_from((day - self.first).num_days())
            .ok()
            .filter(|&i| i < self.midnights.len())
    }

    /// `secs` seconds after local midnight of `day`, in UTC. Vietnam keeps no
    /// daylight-saving time, so a day is always 86,400 seconds long.
    pub fn at(&self, day: NaiveDate, secs: u32) -> DateTime<Utc> {
        match self.offset(day) {
            Some(i) => self.midnights[i] + Duration::seconds(i64::from(secs)),
            None => local_to_utc(day.and_time(NaiveTime::MIN)) + Duration::seconds(i64::from(secs)),
        }
    }

    /// The deadline `n` working days after `t`, the same local time of day,
    /// exactly as [`WorkCalendar::add_working_days`] counts it.
    pub fn add_working_days(&self, t: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let local = self.local(t);
        if n == 0 {
            return t;
        }
        let target = self
            .offset(local.date())
            .map(|i| self.next_work[i] as usize + n as usize)
            .and_then(|k| self.workdays.get(k).copied());
        match target {
            Some(day) => self.at(day, local.time().num_seconds_from_midnight()),
            None => local_to_utc(self.calendar.add_working_days(local, n)),
        }
    }

    /// The working days of `month`.
    pub fn working_days_in(&self, month: Month) -> Vec<NaiveDate> {
        let first = month.first_day();
        let next = month.next().first_day();
        first
            .iter_days()
            .take_while(|d| *d < next)
            .filter(|d| self.is_working(*d))
            .collect()
    }

    /// The working days of `month` on which something can already have been
    /// received: before today, or today once the office has opened.
    pub fn open_days_in(&self, month: Month) -> Vec<NaiveDate> {
        let today = self.now_local.date();
        let opened = self.now_local.time() > OPENING + chrono::Duration::minutes(10);
        self.working_days_in(month)
            .into_iter()
            .filter(|d| *d < today || (*d == today && opened))
            .collect()
    }

    /// A time during office hours on `day`, never after `now`.
    pub fn office_time(&self, day: NaiveDate, rng: &mut StdRng) -> DateTime<Utc> {
        let open = OPENING.num_seconds_from_midnight();
        if day == self.now_local.date() {
            let now_secs = self.now_local.time().num_seconds_from_midnight();
            let secs = rng.random_range(open..now_secs.max(open + 1));
            return self.at(day, secs.min(now_secs));
        }
        // 07:30–11:30 and 13:30–17:00: 450 minutes of desk time.
        let minute = rng.random_range(0..450u32);
        let secs = if minute < 240 {
            open + minute * 60
        } else {
            13 * 3600 + 30 * 60 + (minute - 240) * 60
        };
        self.at(day, secs + rng.random_range(0..60))
    }
}

impl Timeline {
    /// Whether `t` falls in office hours on a working day.
    fn in_office_hours(&self, t: DateTime<Utc>) -> bool {
        let local = self.local(t);
        let minute = local.time().num_seconds_from_midnight() / 60;
        let desk = (7 * 60 + 30..11 * 60 + 30).contains(&minute)
            || (13 * 60 + 30..17 * 60).contains(&minute);
        desk && self.is_working(local.date())
    }

    /// A random instant in `[from, to)`, in office hours if a few draws find
    /// one: civil servants act during the working day, mostly.
    pub fn during(
        &self,
        rng: &mut StdRng,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let mut t = between(rng, from, to);
        for _ in 0..6 {
            if self.in_office_hours(t) {
                break;
            }
            t = between(rng, from, to);
        }
        t
    }

    /// A random instant `lo` to `hi` minutes after `t`, in office hours if
    /// a few draws find one.
    pub fn after(&self, rng: &mut StdRng, t: DateTime<Utc>, lo: i64, hi: i64) -> DateTime<Utc> {
        self.during(
            rng,
            t + Duration::minutes(lo),
            t + Duration::minutes(hi.max(lo + 1)),
        )
    }
}

impl Timeline {
    /// The month `t` falls in, local time.
    pub fn month_of(&self, t: DateTime<Utc>) -> Month {
        let local = self.local(t);
        Month::new(local.year(), local.month()).expect("a calendar month")
    }
}

/// When one-stop desks open.
const OPENING: NaiveTime = match NaiveTime::from_hms_opt(7, 30, 0) {
    Some(t) => t,
    None => panic!("07:30 is a valid time"),
};

/// A uniformly random instant in `[from, to)`, or `from` when the span is empty.
pub(crate) fn between(rng: &mut StdRng, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
    let span = (to - from).num_seconds();
    if span <= 0 {
        return from;
    }
    from + Duration::seconds(rng.random_range(0..span))
}

/// A random duration between `lo` and `hi` minutes.
pub(crate) fn minutes(rng: &mut StdRng, lo: i64, hi: i64) -> Duration {
    Duration::minutes(rng.random_range(lo..hi.max(lo + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rand::SeedableRng;

    #[test]
    fn deadlines_agree_with_the_calendar() {
        let now = Utc.with_ymd_and_hms(2026, 8, 20, 3, 0, 0).unwrap();
        let tl = Timeline::new(now, 14);
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..2_000 {
            let t = between(&mut rng, tl.months[0].start(), now);
            let n = rng.random_range(0..25);
            let expected = local_to_utc(tl.calendar.add_working_days(utc_to_local(t), n));
            assert_eq!(tl.add_working_days(t, n), expected, "{t} + {n}");
        }
    }

    #[test]
    fn the_fast_local_time_agrees_with_the_time_zone() {
        let now = Utc.with_ymd_and_hms(2026, 8, 20, 3, 0, 0).unwrap();
        let tl = Timeline::new(now, 12);
        assert!(tl.fixed_offset.is_some());
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..1_000 {
            let t = between(&mut rng, tl.months[0].start(), now + Duration::days(300));
            assert_eq!(tl.local(t), utc_to_local(t));
            assert_eq!(tl.month_of(t), Month::containing(t));
        }
    }

    #[test]
    fn office_times_fall_on_the_day_and_never_after_now() {
        let now = Utc.with_ymd_and_hms(2026, 8, 20, 3, 0, 0).unwrap();
        let tl = Timeline::new(now, 2);
        let mut rng = StdRng::seed_from_u64(2);
        for day in tl.open_days_in(Month::containing(now)) {
            for _ in 0..50 {
                let t = tl.office_time(day, &mut rng);
                assert_eq!(utc_to_local(t).date(), day);
                assert!(t <= now);
            }
        }
    }
}
