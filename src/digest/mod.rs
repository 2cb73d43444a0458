//! Digests: periodic summaries by e-mail for leadership, the inspection
//! team and unit heads.
//!
//! The pure parts are here and in [`content`] (data in, a [`Digest`] out),
//! [`chart`] (a PNG from numbers) and [`render`] (templates). [`run`] is the
//! I/O shell: it reads the database, decides which digests are due, and
//! queues them in the outbox with the period recorded as sent, in one
//! transaction.
//!
//! The cron clock only wakes the digest job. Which period is due comes from
//! the schedule, the last period sent (stored per kind) and `now`
//! ([`due_period`]), so a missed or doubled tick, or a restart across a
//! scheduled time, sends each digest once. Catch-up sends at most the
//! latest missed period of each kind.

pub mod chart;
pub mod content;
pub mod render;
pub mod run;

use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};

use crate::config::Schedule;
use crate::periods::{Period, RollingWindow};
use crate::time::{Month, local_to_utc, utc_to_local};

pub use crate::config::DigestKind;
pub use content::{Audience, Digest, DigestInput, build};

/// The outbox kind of a digest's e-mails, `digest_<kind>`, which the
/// last-digest metric reads. (The kind itself is configuration's word:
/// `[digests] kinds`.)
impl DigestKind {
    pub fn outbox_kind(self) -> String {
        format!("{}{}", crate::storage::DIGEST_KIND_PREFIX, self.as_str())
    }
}

/// The period a digest covers: a local day, a Monday-to-Sunday week, or a
/// calendar month, all in Asia/Ho_Chi_Minh.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DigestPeriod {
    Day(NaiveDate),
    /// Named by its Monday.
    Week(NaiveDate),
    Month(Month),
}

impl DigestPeriod {
    /// The period of `kind` that contains `t` (local time).
    pub fn containing(kind: DigestKind, t: DateTime<Utc>) -> Self {
        let day = utc_to_local(t).date();
        match kind {
            DigestKind::Daily => DigestPeriod::Day(day),
            DigestKind::Weekly => DigestPeriod::Week(
                day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
            ),
            DigestKind::Monthly => DigestPeriod::Month(Month::containing(t)),
        }
    }

    pub fn kind(self) -> DigestKind {
        match self {
            DigestPeriod::Day(_) => DigestKind::Daily,
            DigestPeriod::Week(_) => DigestKind::Weekly,
            DigestPeriod::Month(_) => DigestKind::Monthly,
        }
    }

    fn first_day(self) -> NaiveDate {
        match self {
            DigestPeriod::Day(d) | DigestPeriod::Week(d) => d,
            DigestPeriod::Month(m) => m.first_day(),
        }
    }

    /// The last local day the period covers.
    fn last_day(self) -> NaiveDate {
        match self {
            DigestPeriod::Day(d) => d,
            DigestPeriod::Week(monday) => monday + Duration::days(6),
            DigestPeriod::Month(m) => m.next().first_day() - Duration::days(1),
        }
    }

    /// Start (inclusive, local midnight) in UTC.
    pub fn start(self) -> DateTime<Utc> {
        local_to_utc(self.first_day().and_hms_opt(0, 0, 0).expect("midnight"))
    }

    /// End (exclusive, the local midnight after its last day) in UTC.
    pub fn end(self) -> DateTime<Utc> {
        let next = self.last_day() + Duration::days(1);
        local_to_utc(next.and_hms_opt(0, 0, 0).expect("midnight"))
    }

    pub fn previous(self) -> Self {
        match self {
            DigestPeriod::Day(d) => DigestPeriod::Day(d - Duration::days(1)),
            DigestPeriod::Week(d) => DigestPeriod::Week(d - Duration::days(7)),
            DigestPeriod::Month(m) => DigestPeriod::Month(m.previous()),
        }
    }

    pub fn next(self) -> Self {
        match self {
            DigestPeriod::Day(d) => DigestPeriod::Day(d + Duration::days(1)),
            DigestPeriod::Week(d) => DigestPeriod::Week(d + Duration::days(7)),
            DigestPeriod::Month(m) => DigestPeriod::Month(m.next()),
        }
    }

    /// The span indicators are computed over.
    pub fn as_period(self) -> Period {
        match self {
            DigestPeriod::Month(m) => Period::Month(m),
            DigestPeriod::Day(_) | DigestPeriod::Week(_) => {
                let days = (self.last_day() - self.first_day()).num_days() as u32 + 1;
                Period::Rolling(
                    RollingWindow::through_day(days, self.last_day())
                        .expect("a day or a week within the supported years"),
                )
            }
        }
    }

    /// The stored id: `2026-08-19`, `2026-W34` (ISO week) or `2026-08`.
    pub fn id(self) -> String {
        self.to_string()
    }

    /// Reads an id of the given kind back.
    pub fn parse(kind: DigestKind, id: &str) -> Option<Self> {
        match kind {
            DigestKind::Daily => NaiveDate::parse_from_str(id, "%Y-%m-%d")
                .ok()
                .map(DigestPeriod::Day),
            DigestKind::Weekly => {
                let (year, week) = id.split_once("-W")?;
                NaiveDate::from_isoywd_opt(year.parse().ok()?, week.parse().ok()?, Weekday::Mon)
                    .map(DigestPeriod::Week)
            }
            DigestKind::Monthly => id.parse().ok().map(DigestPeriod::Month),
        }
    }

    /// How people read it, e.g. `ngày 19/08/2026`, `tuần 17/08–23/08/2026`,
    /// `tháng 08/2026`; in English `19/08/2026`, `week 17/08–23/08/2026`,
    /// `August 2026`.
    pub fn label(self, lang: crate::domain::Language) -> String {
        use crate::domain::Language::{En, Vi};
        let (first, last) = (self.first_day(), self.last_day());
        match (self, lang) {
            (DigestPeriod::Day(d), Vi) => format!("ngày {}", d.format("%d/%m/%Y")),
            (DigestPeriod::Day(d), En) => d.format("%d/%m/%Y").to_string(),
            (DigestPeriod::Week(_), Vi) => {
                format!("tuần {}–{}", first.format("%d/%m"), last.format("%d/%m/%Y"))
            }
            (DigestPeriod::Week(_), En) => {
                format!("week {}–{}", first.format("%d/%m"), last.format("%d/%m/%Y"))
            }
            (DigestPeriod::Month(_), Vi) => format!("tháng {}", first.format("%m/%Y")),
            (DigestPeriod::Month(_), En) => first.format("%B %Y").to_string(),
        }
    }
}

impl fmt::Display for DigestPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DigestPeriod::Day(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            DigestPeriod::Week(d) => {
                let w = d.iso_week();
                write!(f, "{:04}-W{:02}", w.year(), w.week())
            }
            DigestPeriod::Month(m) => write!(f, "{m}"),
        }
    }
}

/// How far back [`due_period`] looks for a period whose digest time has
/// passed: a schedule that fires less often than its kind's period (a daily
/// digest sent only on Mondays) still finds its latest period.
const MAX_LOOKBACK: usize = 62;

/// The period of `kind` whose digest is due at `now`, if any: the latest
/// period whose first scheduled firing after its end has passed, unless it
/// (or a later one) was already sent. Only the latest missed period is
/// returned: catch-up after downtime sends one digest per kind, not one per
/// period missed.
pub fn due_period(
    kind: DigestKind,
    schedule: &Schedule,
    last_sent: Option<DigestPeriod>,
    now: DateTime<Utc>,
) -> Option<DigestPeriod> {
    let mut period = DigestPeriod::containing(kind, now).previous();
    for _ in 0..MAX_LOOKBACK {
        let send_at = schedule.next_after(period.end() - Duration::seconds(1))?;
        if send_at <= now {
            return match last_sent {
                Some(last) if last >= period => None,
                _ => Some(period),
            };
        }
        period = period.previous();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Language;
    use chrono::NaiveDateTime;

    /// A local wall-clock time, `dd/mm/yyyy hh:mm`, as UTC.
    fn local(text: &str) -> DateTime<Utc> {
        local_to_utc(NaiveDateTime::parse_from_str(text, "%d/%m/%Y %H:%M").expect("valid"))
    }

    fn schedule(kind: DigestKind) -> Schedule {
        let s = crate::config::DigestSettings::default();
        s.schedule(kind).clone()
    }

    fn period(kind: DigestKind, id: &str) -> DigestPeriod {
        DigestPeriod::parse(kind, id).unwrap_or_else(|| panic!("{id}"))
    }

    #[test]
    fn due_periods_follow_the_schedule_in_local_time() {
        use DigestKind::{Daily, Monthly, Weekly};
        let cases: &[(DigestKind, Option<&str>, &str, Option<&str>)] = &[
            // (kind, last sent, now (local), due)
            // Daily at 07:00: before it, yesterday's digest is not yet due.
            (Daily, Some("2026-08-18"), "20/08/2026 06:59", None),
            (
                Daily,
                Some("2026-08-18"),
                "20/08/2026 07:00",
                Some("2026-08-19"),
            ),
            (Daily, Some("2026-08-19"), "20/08/2026 07:00", None),
            // First run ever: the latest period whose time has passed.
            (Daily, None, "20/08/2026 06:00", Some("2026-08-18")),
            // Down for a week: only the latest missed day is sent.
            (
                Daily,
                Some("2026-08-10"),
                "20/08/2026 09:00",
                Some("2026-08-19"),
            ),
            // 07:00 local is 00:00 UTC: the date flips in local time, not UTC.
            (Daily, Some("2026-08-18"), "20/08/2026 00:30", None),
            // Weekly on Monday 07:30: the previous Monday-to-Sunday week.
            (Weekly, None, "24/08/2026 07:29", Some("2026-W33")),
            (Weekly, Some("2026-W33"), "24/08/2026 07:29", None),
            (
                Weekly,
                Some("2026-W33"),
                "24/08/2026 07:30",
                Some("2026-W34"),
            ),
            (Weekly, Some("2026-W34"), "30/08/2026 23:59", None),
            // Monthly on the 1st at 08:00: the previous month.
            (Monthly, Some("2026-07"), "01/09/2026 07:59", None),
            (
                Monthly,
                Some("2026-07"),
                "01/09/2026 08:00",
                Some("2026-08"),
            ),
            (Monthly, Some("2026-08"), "15/09/2026 12:00", None),
            // Across the new year: December's digest on 1 January.
            (
                Monthly,
                Some("2026-11"),
                "01/01/2027 08:00",
                Some("2026-12"),
            ),
            (
                Daily,
                Some("2026-12-30"),
                "01/01/2027 07:00",
                Some("2026-12-31"),
            ),
            (
                Weekly,
                Some("2026-W52"),
                "04/01/2027 07:30",
                Some("2026-W53"),
            ),
            // A record ahead of the clock (another instance, a clock step back) sends nothing.
            (Daily, Some("2026-08-25"), "20/08/2026 09:00", None),
        ];
        for (kind, last, now, due) in cases {
            let last = last.map(|id| period(*kind, id));
            let got = due_period(*kind, &schedule(*kind), last, local(now));
            assert_eq!(
                got.map(|p| p.id()),
                due.map(str::to_owned),
                "{kind} last {last:?} at {now}"
            );
        }
    }

    #[test]
    fn a_schedule_slower_than_the_period_still_finds_the_latest_period() {
        // A daily digest sent only on Mondays at 07:00 covers the Sunday before.
        let mondays = Schedule::parse("0 0 7 * * Mon").unwrap();
        let due = due_period(DigestKind::Daily, &mondays, None, local("26/08/2026 10:00"));
        assert_eq!(due.map(|p| p.id()).as_deref(), Some("2026-08-23"));
    }

    #[test]
    fn periods_span_local_days_and_read_back_from_their_ids() {
        let cases = [
            // (kind, id, start, end, label vi, label en)
            (
                DigestKind::Daily,
                "2026-08-19",
                "19/08/2026 00:00",
                "20/08/2026 00:00",
                "ngày 19/08/2026",
                "19/08/2026",
            ),
            (
                DigestKind::Weekly,
                "2026-W34",
                "17/08/2026 00:00",
                "24/08/2026 00:00",
                "tuần 17/08–23/08/2026",
                "week 17/08–23/08/2026",
            ),
            (
                DigestKind::Monthly,
                "2026-02",
                "01/02/2026 00:00",
                "01/03/2026 00:00",
                "tháng 02/2026",
                "February 2026",
            ),
        ];
        for (kind, id, start, end, vi, en) in cases {
            let p = period(kind, id);
            assert_eq!(p.id(), id);
            assert_eq!(p.kind(), kind);
            assert_eq!((p.start(), p.end()), (local(start), local(end)), "{id}");
            assert_eq!(
                (p.as_period().start(), p.as_period().end()),
                (p.start(), p.end())
            );
            assert_eq!(p.label(Language::Vi), vi);
            assert_eq!(p.label(Language::En), en);
            assert_eq!(p.next().previous(), p);
        }
        assert_eq!(
            DigestPeriod::containing(DigestKind::Weekly, local("23/08/2026 23:59")).id(),
            "2026-W34"
        );
        assert_eq!(DigestPeriod::parse(DigestKind::Weekly, "2026-34"), None);
        assert_eq!(DigestPeriod::parse(DigestKind::Daily, "19/08/2026"), None);
    }
}
