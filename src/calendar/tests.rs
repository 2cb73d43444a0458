use super::*;
use chrono::NaiveTime;
use proptest::prelude::*;

const HOLIDAY_FILE: &str = include_str!("../../config/holidays.toml");

fn date(text: &str) -> NaiveDate {
    text.parse().expect("test dates are valid")
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("test times are valid")
}

fn shipped_config() -> HolidayConfig {
    toml::from_str(HOLIDAY_FILE).expect("config/holidays.toml parses")
}

fn shipped_calendar() -> WorkCalendar {
    shipped_config()
        .into_calendar()
        .expect("config/holidays.toml is consistent")
}

/// A small calendar for hand-checked cases: the 2025 Tết break on its weekdays and the 2025
/// swap of Friday 2/5 for Saturday 26/4.
fn tet_2025_calendar() -> WorkCalendar {
    let tet = [
        "2025-01-27",
        "2025-01-28",
        "2025-01-29",
        "2025-01-30",
        "2025-01-31",
    ];
    let may = ["2025-04-30", "2025-05-01", "2025-05-02"];
    WorkCalendar::new(tet.into_iter().chain(may).map(date), [date("2025-04-26")])
}

#[test]
fn the_shipped_calendar_covers_2027_and_warns_from_november() {
    let calendar = shipped_calendar();
    assert_eq!(calendar.covered_until(), Some(date("2027-12-31")));
    let file = std::path::Path::new("/etc/par-monitor/holidays.toml");
    assert_eq!(calendar.coverage_warning(date("2027-10-31"), file), None);
    assert_eq!(calendar.uncertain_after(date("2027-10-31")), None);
    let warning = calendar
        .coverage_warning(date("2027-11-15"), file)
        .expect("60 days from 15/11/2027 are in 2028");
    assert!(
            warning.starts_with("/etc/par-monitor/holidays.toml: the holiday calendar (indicators.holidays_file) lists holidays only up to 2027-12-31"),
            "{warning}"
        );
    assert_eq!(
        calendar.uncertain_after(date("2027-11-15")),
        Some(date("2028-01-01"))
    );
    assert_eq!(
        calendar.uncertain_after(date("2028-03-01")),
        Some(date("2028-03-01"))
    );
    // Still counted, by weekends: Monday 3/1/2028 is a working day.
    assert!(calendar.is_working_day(date("2028-01-03")));
}

#[test]
fn covered_until_can_be_stated_and_an_empty_calendar_covers_nothing() {
    let stated: HolidayConfig = toml::from_str(
            "covered_until = \"2028-06-30\"\n[[holidays]]\ndate = \"2027-01-01\"\nname = \"Tết Dương lịch\"\n",
        )
        .unwrap();
    assert_eq!(
        stated.into_calendar().unwrap().covered_until(),
        Some(date("2028-06-30"))
    );
    let empty = HolidayConfig::default().into_calendar().unwrap();
    assert_eq!(empty.covered_until(), None);
    assert!(
        empty
            .coverage_warning(date("2026-01-01"), "h.toml".as_ref())
            .unwrap()
            .contains("lists no holidays")
    );
}

fn check_working(calendar: &WorkCalendar, cases: &[(&str, bool)]) {
    for &(day, expected) in cases {
        assert_eq!(calendar.is_working_day(date(day)), expected, "{day}");
    }
}

fn check_add(calendar: &WorkCalendar, cases: &[(&str, u32, &str)]) {
    for &(start, n, expected) in cases {
        assert_eq!(
            calendar.add_working_days(at(start), n),
            at(expected),
            "{start} + {n} working days"
        );
    }
}

fn check_between(calendar: &WorkCalendar, cases: &[(&str, &str, u32)]) {
    for &(from, to, expected) in cases {
        assert_eq!(
            calendar.working_days_between(date(from), date(to)),
            expected,
            "working days after {from} up to {to}"
        );
    }
}

#[test]
fn weekends_are_days_off_and_weekdays_are_working_days() {
    check_working(
        &WorkCalendar::weekends_only(),
        &[
            ("2025-03-03", true),  // Monday
            ("2025-03-04", true),  // Tuesday
            ("2025-03-05", true),  // Wednesday
            ("2025-03-06", true),  // Thursday
            ("2025-03-07", true),  // Friday
            ("2025-03-08", false), // Saturday
            ("2025-03-09", false), // Sunday
        ],
    );
}

#[test]
fn holidays_are_days_off_and_make_up_saturdays_are_working_days() {
    check_working(
        &tet_2025_calendar(),
        &[
            ("2025-01-24", true),  // Friday before Tết
            ("2025-01-27", false), // Monday, 28 tháng Chạp
            ("2025-01-29", false), // Wednesday, mùng 1
            ("2025-02-03", true),  // Monday after Tết
            ("2025-04-26", true),  // make-up Saturday
            ("2025-04-27", false), // the Sunday after it stays off
            ("2025-05-02", false), // the Friday swapped for it
        ],
    );
}

#[test]
fn a_date_listed_as_both_holiday_and_make_up_day_is_a_working_day() {
    let saturday = date("2025-04-26");
    let calendar = WorkCalendar::new([saturday], [saturday]);
    assert!(calendar.is_working_day(saturday));
}

#[test]
fn holidays_on_weekends_and_make_up_days_on_weekdays_change_nothing() {
    let calendar = WorkCalendar::new([date("2025-03-08")], [date("2025-03-05")]);
    assert_eq!(calendar, WorkCalendar::weekends_only());
}

#[test]
fn adding_working_days_skips_weekends() {
    check_add(
        &WorkCalendar::weekends_only(),
        &[
            ("2025-03-03 10:00", 1, "2025-03-04 10:00"), // Monday -> Tuesday
            ("2025-03-07 10:00", 1, "2025-03-10 10:00"), // Friday -> Monday
            ("2025-03-07 10:00", 5, "2025-03-14 10:00"), // Friday -> next Friday
            ("2025-03-05 16:45", 3, "2025-03-10 16:45"), // Wednesday -> Monday, time kept
        ],
    );
}

#[test]
fn adding_zero_working_days_returns_the_start_even_on_a_day_off() {
    check_add(
        &tet_2025_calendar(),
        &[
            ("2025-03-05 09:30", 0, "2025-03-05 09:30"), // Wednesday
            ("2025-03-08 09:30", 0, "2025-03-08 09:30"), // Saturday
            ("2025-01-29 09:30", 0, "2025-01-29 09:30"), // mùng 1 Tết
        ],
    );
}

#[test]
fn a_start_on_a_day_off_counts_from_the_next_working_day() {
    check_add(
        &tet_2025_calendar(),
        &[
            // Saturday: received as of Monday 10/3, so one working day later is Tuesday.
            ("2025-03-08 11:00", 1, "2025-03-11 11:00"),
            // Sunday: the same.
            ("2025-03-09 23:59", 1, "2025-03-11 23:59"),
            // mùng 1 Tết: received as of Monday 3/2 after the break, due Tuesday 4/2.
            ("2025-01-29 08:00", 1, "2025-02-04 08:00"),
        ],
    );
}

#[test]
fn adding_working_days_skips_a_tet_break() {
    check_add(
        &tet_2025_calendar(),
        &[
            // Friday 24/1 + 1: 27/1 to 31/1 are Tết, 1/2 and 2/2 a weekend, so Monday 3/2.
            ("2025-01-24 14:00", 1, "2025-02-03 14:00"),
            // Wednesday 22/1 + 3: Thursday 23/1 (1), Friday 24/1 (2), Monday 3/2 (3).
            ("2025-01-22 14:00", 3, "2025-02-03 14:00"),
        ],
    );
}

#[test]
fn adding_working_days_lands_on_a_make_up_saturday() {
    check_add(
        &tet_2025_calendar(),
        &[
            // Friday 25/4/2025 + 1 is the make-up Saturday 26/4.
            ("2025-04-25 10:00", 1, "2025-04-26 10:00"),
            // Tuesday 29/4 + 1: 30/4, 1/5 and the swapped 2/5 are off, 3/5 and 4/5 a weekend.
            ("2025-04-29 10:00", 1, "2025-05-05 10:00"),
        ],
    );
}

#[test]
fn a_start_on_a_make_up_saturday_that_is_the_last_exception_counts_from_that_saturday() {
    // The Saturday is a working day, so counting starts there: Monday 28/4 (1) to Friday 2/5 (5).
    // Skipping a whole week from the Saturday would wrongly land on Saturday 3/5, a day off.
    let calendar = WorkCalendar::new([], [date("2025-04-26")]);
    check_add(&calendar, &[("2025-04-26 09:00", 5, "2025-05-02 09:00")]);
}

#[test]
fn adding_many_working_days_past_the_last_holiday_skips_whole_weeks() {
    // 5,000 working days on a Monday with no holidays is exactly 1,000 weeks later.
    let start = at("2025-01-06 08:00");
    let expected = start + chrono::Duration::days(7_000);
    assert_eq!(
        WorkCalendar::weekends_only().add_working_days(start, 5_000),
        expected
    );
}

#[test]
#[should_panic(expected = "beyond the last representable date")]
fn a_deadline_beyond_chronos_range_panics() {
    WorkCalendar::weekends_only().add_working_days(at("2025-01-06 08:00"), u32::MAX);
}

#[test]
fn working_days_between_counts_days_after_from_up_to_and_including_to() {
    check_between(
        &tet_2025_calendar(),
        &[
            ("2025-03-03", "2025-03-03", 0), // same day
            ("2025-03-04", "2025-03-03", 0), // backwards
            ("2025-03-03", "2025-03-04", 1), // Monday -> Tuesday
            ("2025-03-07", "2025-03-10", 1), // Friday -> Monday
            ("2025-03-07", "2025-03-09", 0), // Friday -> Sunday
            ("2025-03-08", "2025-03-09", 0), // Saturday -> Sunday
            ("2025-03-08", "2025-03-10", 1), // Saturday -> Monday
            ("2025-03-03", "2025-03-10", 5), // a full week
            ("2025-01-24", "2025-02-03", 1), // across the Tết break
            ("2025-01-24", "2025-01-31", 0), // into the Tết break
            ("2025-04-25", "2025-04-28", 2), // the make-up Saturday and Monday
            ("2025-04-29", "2025-05-05", 1), // across the 30/4 break
        ],
    );
}

#[test]
fn working_days_between_counts_the_whole_of_2025() {
    // 2025 starts on a Wednesday and has 365 days: 52 weeks plus one Wednesday, so 261 weekdays.
    // Less 12 weekday holidays (1/1; 27-31/1; 7/4; 30/4, 1/5, 2/5; 1/9, 2/9), plus the make-up
    // Saturday 26/4: 261 - 12 + 1 = 250.
    assert_eq!(
        shipped_calendar().working_days_between(date("2024-12-31"), date("2025-12-31")),
        250
    );
}

#[test]
fn the_shipped_holiday_file_has_the_known_dates() {
    check_working(
        &shipped_calendar(),
        &[
            ("2024-02-12", false), // Tết Giáp Thìn, mùng 3
            ("2024-05-04", true),  // make-up Saturday
            ("2025-01-01", false), // New Year
            ("2025-01-29", false), // Tết Ất Tỵ, mùng 1
            ("2025-04-07", false), // Hung Kings
            ("2025-04-30", false), // Victory Day
            ("2025-05-02", false), // swapped Friday
            ("2025-09-01", false), // day adjacent to National Day
            ("2025-03-11", true),  // an ordinary Tuesday
            ("2026-01-02", false), // swapped Friday
            ("2026-01-10", true),  // make-up Saturday
            ("2026-02-20", false), // Tết Bính Ngọ, mùng 4
            ("2026-02-23", true),  // first day back after Tết
            ("2026-04-27", false), // compensatory day for Hung Kings on a Sunday
            ("2026-08-22", true),  // make-up Saturday
            ("2026-08-31", false), // swapped Monday
            ("2027-02-10", false), // Tết Đinh Mùi, mùng 5 (computed)
            ("2027-05-03", false), // compensatory day for 1/5 on a Saturday
        ],
    );
}

#[test]
fn the_shipped_holiday_file_has_the_fixed_holidays_of_every_year() {
    let listed: BTreeSet<NaiveDate> = shipped_config().holidays.iter().map(|h| h.date).collect();
    for year in 2024..=2027 {
        for (month, day) in [(1, 1), (4, 30), (5, 1), (9, 2)] {
            let holiday = NaiveDate::from_ymd_opt(year, month, day).expect("valid date");
            assert!(listed.contains(&holiday), "{holiday} is missing");
        }
    }
}

#[test]
fn the_shipped_holiday_file_lists_each_date_once_with_a_vietnamese_name() {
    let config = shipped_config();
    let mut seen = BTreeSet::new();
    for entry in &config.holidays {
        assert!(seen.insert(entry.date), "{} is listed twice", entry.date);
        // Every Vietnamese holiday name carries at least one letter with a diacritic.
        assert!(
            !entry.name.is_ascii(),
            "{}: name {:?} has no diacritics",
            entry.date,
            entry.name
        );
    }
}

#[test]
fn a_make_up_day_on_a_weekday_is_rejected() {
    let config = HolidayConfig {
        holidays: vec![],
        working_weekends: vec![date("2025-04-25")],
        covered_until: None,
    };
    assert_eq!(
        config.into_calendar(),
        Err(HolidayConfigError::WorkingWeekendOnWeekday {
            date: date("2025-04-25"),
            weekday: Weekday::Fri,
        })
    );
}

#[test]
fn a_date_both_holiday_and_make_up_day_is_rejected() {
    let config = HolidayConfig {
        holidays: vec![HolidayEntry {
            date: date("2025-04-26"),
            name: "Ngày thử".to_owned(),
        }],
        working_weekends: vec![date("2025-04-26")],
        covered_until: None,
    };
    let error = config.into_calendar().expect_err("contradiction");
    assert_eq!(
        error.to_string(),
        "2025-04-26 is listed both as the holiday \"Ngày thử\" and in working_weekends"
    );
}

#[test]
fn an_unknown_key_in_the_holiday_file_is_rejected() {
    let text = "working_weekend = [\"2025-04-26\"]\n";
    assert!(toml::from_str::<HolidayConfig>(text).is_err());
}

/// Counts working days one by one, as a reference for the arithmetic in `working_days_between`.
fn count_one_by_one(calendar: &WorkCalendar, from: NaiveDate, to: NaiveDate) -> u32 {
    from.iter_days()
        .skip(1)
        .take_while(|day| *day <= to)
        .filter(|day| calendar.is_working_day(*day))
        .fold(0, |count, _| count + 1)
}

/// `day` if it is a working day, else the next one: the properties below start on working days,
/// and moving a start is cheaper than rejecting it.
fn first_working_day_from(calendar: &WorkCalendar, day: NaiveDate) -> NaiveDate {
    if calendar.is_working_day(day) {
        day
    } else {
        calendar.next_working_day(day)
    }
}

/// Dates from mid-2023 to the end of 2028, around the years the shipped file covers, so that
/// cases fall before, inside and after its exceptions.
fn any_date() -> impl Strategy<Value = NaiveDate> {
    (0u64..2_000).prop_map(|offset| date("2023-06-01") + Days::new(offset))
}

fn any_time() -> impl Strategy<Value = NaiveTime> {
    (0u32..24, 0u32..60).prop_map(|(h, m)| NaiveTime::from_hms_opt(h, m, 0).expect("valid"))
}

proptest! {
    #[test]
    fn a_deadline_from_a_working_day_is_n_working_days_later(
        start in any_date(), time in any_time(), n in 0u32..400,
    ) {
        let calendar = shipped_calendar();
        let start = first_working_day_from(&calendar, start);
        let deadline = calendar.add_working_days(start.and_time(time), n);
        prop_assert!(calendar.is_working_day(deadline.date()));
        prop_assert_eq!(deadline.time(), time);
        prop_assert_eq!(calendar.working_days_between(start, deadline.date()), n);
    }

    #[test]
    fn a_deadline_from_a_working_day_is_n_working_days_later_on_any_calendar(
        holidays in proptest::collection::vec(0u64..120, 0..30),
        make_up_weeks in proptest::collection::vec(0u64..17, 0..4),
        start in 0u64..120,
        n in 0u32..60,
    ) {
        // Random holidays in the first four months of 2025 and random make-up Saturdays among
        // them, so that runs start on, cross and end at every kind of exception.
        let first_day = date("2025-01-01");
        let first_saturday = date("2025-01-04");
        let calendar = WorkCalendar::new(
            holidays.iter().map(|offset| first_day + Days::new(*offset)),
            make_up_weeks.iter().map(|week| first_saturday + Days::new(7 * week)),
        );
        let start = first_working_day_from(&calendar, first_day + Days::new(start));
        let deadline = calendar.add_working_days(start.and_time(NaiveTime::MIN), n);
        prop_assert!(calendar.is_working_day(deadline.date()));
        prop_assert_eq!(calendar.working_days_between(start, deadline.date()), n);
    }

    #[test]
    fn a_deadline_from_any_day_is_a_later_working_day(start in any_date(), n in 1u32..400) {
        let calendar = shipped_calendar();
        let deadline = calendar.add_working_days(start.and_time(NaiveTime::MIN), n);
        prop_assert!(deadline.date() > start);
        prop_assert!(calendar.is_working_day(deadline.date()));
    }

    #[test]
    fn working_days_between_matches_counting_one_by_one(a in any_date(), b in any_date()) {
        let calendar = shipped_calendar();
        prop_assert_eq!(
            calendar.working_days_between(a, b),
            count_one_by_one(&calendar, a, b)
        );
    }

    #[test]
    fn working_days_between_adds_up_over_consecutive_spans(
        a in any_date(), b in any_date(), c in any_date(),
    ) {
        let mut days = [a, b, c];
        days.sort();
        let [a, b, c] = days;
        let calendar = shipped_calendar();
        prop_assert_eq!(
            calendar.working_days_between(a, b) + calendar.working_days_between(b, c),
            calendar.working_days_between(a, c)
        );
    }
}
