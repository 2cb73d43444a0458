//! Time: the clock, the people's time zone, and calendar periods.
//!
//! Storage and computation use UTC; people see Asia/Ho_Chi_Minh. Nothing
//! outside this module calls `Utc::now()`: code that needs the time takes a
//! [`Clock`] or a `now` argument, so tests can fix it.

use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The province's time zone. Vietnam has no daylight-saving time, but we go
/// through chrono-tz anyway so that conversions never assume a fixed offset.
pub const LOCAL_TZ: Tz = chrono_tz::Asia::Ho_Chi_Minh;

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The system clock shifted by a fixed offset: time runs at its real pace
/// from another present (`demo --now`, to see any day of the month).
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock {
    offset: Duration,
}

impl OffsetClock {
    /// A clock that reads `start` now and runs on from there.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            offset: start - Utc::now(),
        }
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

/// A clock that tests set and advance by hand.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    pub fn advance(&self, by: Duration) {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *guard += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// Interprets a wall-clock time in the province's zone as UTC. Vietnam has no
/// DST, so every local time maps to exactly one instant; should that ever
/// change, the earlier of two candidates is taken.
pub fn local_to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    LOCAL_TZ
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

pub fn utc_to_local(t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&LOCAL_TZ).naive_local()
}

/// Formats an instant for people: `26/11/2026 14:05` in Asia/Ho_Chi_Minh.
pub fn format_local(t: DateTime<Utc>) -> String {
    t.with_timezone(&LOCAL_TZ)
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// Formats an instant as RFC 3339 with the local offset, for JSON read by people and tools.
pub fn rfc3339_local(t: DateTime<Utc>) -> String {
    t.with_timezone(&LOCAL_TZ).to_rfc3339()
}

pub fn to_unix(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

pub fn from_unix(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// A calendar month in the province's time zone, e.g. `2026-08`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Self> {
        (1..=12).contains(&month).then_some(Self { year, month })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// The month's number, 1 to 12.
    pub fn number(self) -> u32 {
        self.month
    }

    /// The month that contains `t`, as people in the province see it.
    pub fn containing(t: DateTime<Utc>) -> Self {
        let local = t.with_timezone(&LOCAL_TZ);
        Self {
            year: local.year(),
            month: local.month(),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("month is validated")
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn previous(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The same month a year earlier.
    pub fn year_earlier(self) -> Self {
        Self {
            year: self.year - 1,
            month: self.month,
        }
    }

    /// Start of the month (inclusive) in UTC.
    pub fn start(self) -> DateTime<Utc> {
        local_to_utc(self.first_day().and_hms_opt(0, 0, 0).expect("midnight"))
    }

    /// End of the month (exclusive) in UTC.
    pub fn end(self) -> DateTime<Utc> {
        self.next().start()
    }

    pub fn contains(self, t: DateTime<Utc>) -> bool {
        self.start() <= t && t < self.end()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Month {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a month: expected YYYY-MM, e.g. 2026-08");
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        Month::new(year, month).ok_or_else(bad)
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_start_at_local_midnight() {
        let m: Month = "2026-08".parse().unwrap();
        // 2026-08-01 00:00 in Hanoi (UTC+7) is 2026-07-31 17:00 UTC.
        assert_eq!(m.start().to_rfc3339(), "2026-07-31T17:00:00+00:00");
        assert_eq!(m.end().to_rfc3339(), "2026-08-31T17:00:00+00:00");
        // 18:00 UTC on 31 July is already August in Hanoi.
        let t = Utc.with_ymd_and_hms(2026, 7, 31, 18, 0, 0).unwrap();
        assert_eq!(Month::containing(t), m);
        assert!(m.contains(t));
    }

    #[test]
    fn month_arithmetic_wraps_years() {
        let dec: Month = "2025-12".parse().unwrap();
        assert_eq!(dec.next().to_string(), "2026-01");
        assert_eq!(dec.next().previous(), dec);
    }

    #[test]
    fn month_parse_rejects_malformed_input() {
        for bad in ["2026-13", "2026-8", "26-08", "2026/08", ""] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
    }

    #[test]
    fn people_see_local_time() {
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 7, 5, 0).unwrap();
        assert_eq!(format_local(t), "26/11/2026 14:05");
    }
}
