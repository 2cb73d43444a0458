//! Data that cannot be true. A record can map cleanly, every field of the
//! right type, and still be impossible: a deadline before the dossier was
//! received, an end before its start, a date after the moment it was
//! polled. Counted, such a record would make a unit look late (or early)
//! for the source's fault; it is evidence of a data-quality problem of the
//! source instead, and is quarantined with the check it failed.
//!
//! Order checks are judged by calendar day in Asia/Ho_Chi_Minh, so that a
//! date-only value (read as midnight) never looks earlier than a time on
//! the same day: only what is impossible by whole days is caught.
//!
//! Upstream text is also cleaned here: control characters and the Unicode
//! direction overrides, which can hide or reorder what an inspector reads,
//! never reach storage.

use std::borrow::Cow;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::records::{Document, Dossier, Petition, PortalScore, Report};
use crate::time::utc_to_local;

/// How far ahead of the poll an upstream clock may run before its dates
/// count as impossible.
pub const CLOCK_SKEW: Duration = Duration::minutes(15);

/// Which data-quality check a record failed; also the `check` label of
/// the metrics and the reason shown by `quarantine`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// A deadline before the day the record was received.
    DeadlineBeforeReception,
    /// An end (processing finished, answered, completed) before the start.
    EndBeforeStart,
    /// An event dated after the poll that fetched it.
    DateAfterPoll,
    /// One code served for two units in one sync: which is true is unknown.
    CodeForTwoUnits,
}

impl Check {
    pub const ALL: [Check; 4] = [
        Check::DeadlineBeforeReception,
        Check::EndBeforeStart,
        Check::DateAfterPoll,
        Check::CodeForTwoUnits,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Check::DeadlineBeforeReception => "deadline_before_reception",
            Check::EndBeforeStart => "end_before_start",
            Check::DateAfterPoll => "date_after_poll",
            Check::CodeForTwoUnits => "code_for_two_units",
        }
    }

    /// The check's name for people.
    pub fn name(self, lang: crate::domain::Language) -> &'static str {
        use crate::domain::Language::{En, Vi};
        match (self, lang) {
            (Check::DeadlineBeforeReception, Vi) => "hạn xử lý trước ngày tiếp nhận",
            (Check::DeadlineBeforeReception, En) => "deadline before reception",
            (Check::EndBeforeStart, Vi) => "ngày kết thúc trước ngày bắt đầu",
            (Check::EndBeforeStart, En) => "end before start",
            (Check::DateAfterPoll, Vi) => "ngày sau thời điểm lấy dữ liệu",
            (Check::DateAfterPoll, En) => "date after the poll",
            (Check::CodeForTwoUnits, Vi) => "một mã cho hai đơn vị",
            (Check::CodeForTwoUnits, En) => "one code for two units",
        }
    }

    pub fn from_name(s: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a record cannot be true: the check, the record's field at fault (by
/// its internal name, which the connector turns into the wire name) and
/// what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Implausible {
    pub check: Check,
    pub field: &'static str,
    pub problem: String,
}

/// A record that can say whether it could be true, as of the poll that
/// fetched it.
pub trait Plausible {
    fn implausible(&self, polled_at: DateTime<Utc>) -> Option<Implausible>;
}

fn day(t: DateTime<Utc>) -> NaiveDate {
    utc_to_local(t).date()
}

fn shown(t: DateTime<Utc>) -> String {
    utc_to_local(t).format("%Y-%m-%d %H:%M").to_string()
}

/// The first event dated after the poll (beyond the allowed skew).
fn after_poll(
    polled_at: DateTime<Utc>,
    events: &[(&'static str, Option<DateTime<Utc>>)],
) -> Option<Implausible> {
    let limit = polled_at + CLOCK_SKEW;
    events.iter().find_map(|&(field, t)| {
        let t = t?;
        (t > limit).then(|| Implausible {
            check: Check::DateAfterPoll,
            field,
            problem: format!(
                "dated {} (local time), after the poll at {}: a date that has not happened yet",
                shown(t),
                shown(polled_at)
            ),
        })
    })
}

/// `later` on a calendar day before `earlier`'s.
fn before_day(
    check: Check,
    field: &'static str,
    what: &str,
    later: Option<DateTime<Utc>>,
    start: &str,
    earlier: Option<DateTime<Utc>>,
) -> Option<Implausible> {
    let (l, e) = (later?, earlier?);
    (day(l) < day(e)).then(|| Implausible {
        check,
        field,
        problem: format!("{what} {} is before {start} {}", day(l), day(e)),
    })
}

impl Plausible for Dossier {
    fn implausible(&self, polled_at: DateTime<Utc>) -> Option<Implausible> {
        let mut events = vec![
            ("submitted_at", self.submitted_at),
            ("received_at", self.received_at),
            ("finished_at", self.finished_at),
            ("returned_at", self.returned_at),
            ("refused_at", self.refused_at),
            ("updated_at", self.updated_at),
        ];
        for s in &self.supplements {
            events.push(("supplements", Some(s.requested_at)));
            events.push(("supplements", s.completed_at));
        }
        for a in &self.apologies {
            events.push(("apologies", a.issued_at));
        }
        // Reception, or submission for a dossier not yet received.
        let start = self.received_at.or(self.submitted_at);
        after_poll(polled_at, &events)
            .or_else(|| {
                before_day(
                    Check::DeadlineBeforeReception,
                    "due_at",
                    "deadline",
                    self.due_at,
                    "reception on",
                    start,
                )
            })
            .or_else(|| {
                [
                    ("finished_at", "processing end", self.finished_at),
                    ("returned_at", "result returned", self.returned_at),
                    ("refused_at", "refusal", self.refused_at),
                ]
                .into_iter()
                .find_map(|(field, what, t)| {
                    before_day(Check::EndBeforeStart, field, what, t, "reception on", start)
                })
            })
            .or_else(|| {
                self.supplements.iter().enumerate().find_map(|(i, s)| {
                    before_day(
                        Check::EndBeforeStart,
                        "supplements",
                        &format!("supplement {i} completed"),
                        s.completed_at,
                        "its request on",
                        Some(s.requested_at),
                    )
                })
            })
    }
}

impl Plausible for Petition {
    fn implausible(&self, polled_at: DateTime<Utc>) -> Option<Implausible> {
        Handled {
            start: ("received_at", "reception on", self.received_at),
            due_at: self.due_at,
            end: ("answered_at", "answer", self.answered_at),
            updated_at: self.updated_at,
        }
        .implausible(polled_at)
    }
}

impl Plausible for Document {
    fn implausible(&self, polled_at: DateTime<Utc>) -> Option<Implausible> {
        Handled {
            start: ("registered_at", "registration on", self.registered_at),
            due_at: self.due_at,
            end: ("completed_at", "completion", self.completed_at),
            updated_at: self.updated_at,
        }
        .implausible(polled_at)
    }
}

/// The dates of a record that starts (received, registered), may have a
/// deadline and ends (answered, completed): a petition or a document. The
/// start and the end each with their field and the words the problem uses.
struct Handled {
    start: (&'static str, &'static str, Option<DateTime<Utc>>),
    due_at: Option<DateTime<Utc>>,
    end: (&'static str, &'static str, Option<DateTime<Utc>>),
    updated_at: Option<DateTime<Utc>>,
}

impl Handled {
    /// No date after the poll, and neither the deadline nor the end on a
    /// day before the start.
    fn implausible(&self, polled_at: DateTime<Utc>) -> Option<Implausible> {
        let (start_field, start_words, start) = self.start;
        let (end_field, end_words, end) = self.end;
        after_poll(
            polled_at,
            &[
                (start_field, start),
                (end_field, end),
                ("updated_at", self.updated_at),
            ],
        )
        .or_else(|| {
            before_day(
                Check::DeadlineBeforeReception,
                "due_at",
                "deadline",
                self.due_at,
                start_words,
                start,
            )
        })
        .or_else(|| {
            before_day(
                Check::EndBeforeStart,
                end_field,
                end_words,
                end,
                start_words,
                start,
            )
        })
    }
}

impl Plausible for Report {
    fn implausible(&self, polled_at: DateTime<Utc>) -> Option<Implausible> {
        // A report's deadline may lie ahead; its submission may not.
        after_poll(
            polled_at,
            &[
                ("submitted_at", self.submitted_at),
                ("updated_at", self.updated_at),
            ],
        )
    }
}

impl Plausible for PortalScore {
    fn implausible(&self, polled_at: DateTime<Utc>) -> Option<Implausible> {
        after_poll(polled_at, &[("updated_at", self.updated_at)])
    }
}

/// Whether a character is stripped from upstream text: the C0 and C1
/// control characters (NUL, BEL, ESC, …, tabs and line breaks included:
/// none belongs in a code or a name) and the bidirectional formatting
/// characters, which make text display in another order than it is stored.
pub fn is_stripped(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// Upstream text without [`is_stripped`] characters; borrowed when clean,
/// as nearly all text is.
pub fn clean_text(s: &str) -> Cow<'_, str> {
    if s.chars().any(is_stripped) {
        Cow::Owned(s.chars().filter(|c| !is_stripped(*c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DossierStatus, SupplementRequest, UnitCode};
    use crate::time::local_to_utc;

    fn at(s: &str) -> DateTime<Utc> {
        local_to_utc(chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
    }

    fn poll() -> DateTime<Utc> {
        at("2026-12-02 08:00")
    }

    fn dossier() -> Dossier {
        let mut d = Dossier::new("HS-1", UnitCode::parse("H44.07").unwrap(), "P1");
        d.received_at = Some(at("2026-11-20 14:30"));
        d.due_at = Some(at("2026-11-27 17:00"));
        d.updated_at = Some(at("2026-11-30 09:00"));
        d
    }

    #[test]
    fn dossier_checks_table() {
        type Edit = fn(&mut Dossier);
        type Want = Option<(Check, &'static str)>;
        let cases: &[(&str, Edit, Want)] = &[
            ("plausible", |_| {}, None),
            (
                "deadline on the day of reception, date only: fine",
                |d| d.due_at = Some(at("2026-11-20 00:00")),
                None,
            ),
            (
                "deadline of 1900",
                |d| d.due_at = Some(at("1900-01-01 00:00")),
                Some((Check::DeadlineBeforeReception, "due_at")),
            ),
            (
                "deadline the day before reception",
                |d| d.due_at = Some(at("2026-11-19 17:00")),
                Some((Check::DeadlineBeforeReception, "due_at")),
            ),
            (
                "deadline before submission when not yet received",
                |d| {
                    d.received_at = None;
                    d.submitted_at = Some(at("2026-11-20 08:00"));
                    d.due_at = Some(at("2026-11-01 08:00"));
                },
                Some((Check::DeadlineBeforeReception, "due_at")),
            ),
            (
                "finished the morning of the day received in the afternoon: fine",
                |d| {
                    d.status = DossierStatus::Done;
                    d.finished_at = Some(at("2026-11-20 00:00"));
                },
                None,
            ),
            (
                "finished before reception",
                |d| {
                    d.status = DossierStatus::Done;
                    d.finished_at = Some(at("2026-11-10 10:00"));
                },
                Some((Check::EndBeforeStart, "finished_at")),
            ),
            (
                "returned before reception",
                |d| d.returned_at = Some(at("2026-11-19 10:00")),
                Some((Check::EndBeforeStart, "returned_at")),
            ),
            (
                "supplement completed before requested",
                |d| {
                    d.supplements.push(SupplementRequest {
                        requested_at: at("2026-11-22 09:00"),
                        completed_at: Some(at("2026-11-21 09:00")),
                        old_due_at: None,
                        new_due_at: None,
                    })
                },
                Some((Check::EndBeforeStart, "supplements")),
            ),
            (
                "received tomorrow",
                |d| d.received_at = Some(at("2026-12-03 08:00")),
                Some((Check::DateAfterPoll, "received_at")),
            ),
            (
                "updated ten minutes ahead: clock skew, fine",
                |d| d.updated_at = Some(at("2026-12-02 08:10")),
                None,
            ),
            (
                "updated an hour ahead",
                |d| d.updated_at = Some(at("2026-12-02 09:00")),
                Some((Check::DateAfterPoll, "updated_at")),
            ),
            (
                "a deadline ahead is what deadlines are",
                |d| d.due_at = Some(at("2027-01-15 17:00")),
                None,
            ),
            (
                "no dates at all: nothing to contradict",
                |d| {
                    d.received_at = None;
                    d.due_at = None;
                    d.updated_at = None;
                },
                None,
            ),
        ];
        for (name, edit, want) in cases {
            let mut d = dossier();
            edit(&mut d);
            let got = d.implausible(poll()).map(|i| (i.check, i.field));
            assert_eq!(got, *want, "{name}");
        }
    }

    #[test]
    fn the_problem_names_both_dates() {
        let mut d = dossier();
        d.due_at = Some(at("1900-01-01 00:00"));
        let i = d.implausible(poll()).unwrap();
        assert_eq!(
            i.problem,
            "deadline 1900-01-01 is before reception on 2026-11-20"
        );
    }

    #[test]
    fn petitions_documents_reports_scores() {
        let code = UnitCode::parse("H44.07").unwrap();
        let p = Petition {
            code: "PA-1".into(),
            unit_code: code.clone(),
            category: crate::domain::PetitionCategory::Procedure,
            received_at: Some(at("2026-11-20 10:00")),
            due_at: Some(at("2026-11-10 10:00")),
            answered_at: None,
            satisfaction: None,
            updated_at: None,
        };
        assert_eq!(
            p.implausible(poll()).map(|i| i.check),
            Some(Check::DeadlineBeforeReception)
        );
        let doc = Document {
            id: "VB-1".into(),
            unit_code: code.clone(),
            direction: crate::domain::Direction::Incoming,
            registered_at: Some(at("2026-11-20 10:00")),
            electronic: true,
            axis_status: None,
            signed: true,
            signature_verified: None,
            due_at: None,
            completed_at: Some(at("2026-11-02 10:00")),
            filed_electronically: false,
            updated_at: None,
        };
        assert_eq!(
            doc.implausible(poll()).map(|i| (i.check, i.field)),
            Some((Check::EndBeforeStart, "completed_at"))
        );
        let r = Report {
            id: "BC-1".into(),
            unit_code: code.clone(),
            report_type: "cchc".into(),
            title: None,
            period: "2026-12".into(),
            due_at: at("2026-12-20 17:00"),
            submitted_at: Some(at("2026-12-05 10:00")),
            status: crate::domain::ReportStatus::Submitted,
            updated_at: None,
        };
        assert_eq!(
            r.implausible(poll()).map(|i| (i.check, i.field)),
            Some((Check::DateAfterPoll, "submitted_at"))
        );
        let s = PortalScore {
            unit_code: code,
            period: "2026-11".into(),
            total: Some(80.0),
            groups: Default::default(),
            updated_at: Some(at("2026-12-01 10:00")),
            details: Default::default(),
        };
        assert_eq!(s.implausible(poll()), None);
    }

    #[test]
    fn text_loses_controls_and_direction_overrides_only() {
        let cases = [
            ("Cấp giấy phép xây dựng", "Cấp giấy phép xây dựng"),
            ("Cấp\u{0}giấy\u{7} phép", "Cấpgiấy phép"),
            ("abc\u{202E}fed", "abcfed"),
            ("tab\there\r\n", "tabhere"),
            ("\u{2066}isolate\u{2069}", "isolate"),
            ("\u{85}NEL and \u{9B}CSI", "NEL and CSI"),
        ];
        for (input, want) in cases {
            assert_eq!(clean_text(input), want, "{input:?}");
        }
        assert!(matches!(clean_text("sạch"), Cow::Borrowed(_)));
    }
}
