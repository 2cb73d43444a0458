//! Grouping and throttling of alerts, pure: what to send to whom, and when.
//!
//! Alertmanager's model, per recipient: notifications wait `group_wait`
//! after the first of a group arrives so that findings opened by one
//! evaluation go out as one e-mail; the next e-mail to the same recipient
//! comes no sooner than `group_interval`; an open group with nothing new is
//! repeated only after `repeat_interval`. A finding that opened and resolved
//! within the wait is never sent. Alerts about a source that is down are
//! held: one "source down" e-mail replaces them, and they go out (if still
//! pending) once the source is back.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use crate::domain::EmailAddress;
use crate::findings::EventKind;

/// A notification waiting to be sent: one transition for one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub id: i64,
    pub recipient: EmailAddress,
    pub finding_id: i64,
    pub kind: EventKind,
    /// The source whose data the finding's rule reads.
    pub source: String,
    pub created_at: DateTime<Utc>,
}

/// What is known of past e-mails to a recipient.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecipientState {
    /// The last alert e-mail (of any content).
    pub last_sent_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
}

/// What to do for one recipient now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send one e-mail with these notifications (ids), in order.
    Send {
        recipient: EmailAddress,
        include: Vec<i64>,
        cancel: Vec<i64>,
    },
    /// Drop these without sending (they cancelled each other out).
    Cancel {
        recipient: EmailAddress,
        cancel: Vec<i64>,
    },
}

fn opens(kind: EventKind) -> bool {
    matches!(kind, EventKind::Opened | EventKind::Reopened)
}

/// Decides, for every recipient with pending notifications, whether to send
/// now. Recipients are handled in address order, notifications in id order.
pub fn plan(
    pending: &[Pending],
    recipients: &BTreeMap<EmailAddress, RecipientState>,
    down_sources: &HashSet<String>,
    t: &Timing,
    now: DateTime<Utc>,
) -> Vec<Step> {
    let mut by_recipient: BTreeMap<&EmailAddress, Vec<&Pending>> = BTreeMap::new();
    for p in pending {
        by_recipient.entry(&p.recipient).or_default().push(p);
    }
    let mut steps = Vec::new();
    for (recipient, mut items) in by_recipient {
        items.sort_by_key(|p| p.id);
        // Held while their source is down; the source-down e-mail speaks for them.
        items.retain(|p| !down_sources.contains(&p.source));
        if items.is_empty() {
            continue;
        }
        let oldest = items.iter().map(|p| p.created_at).min().expect("not empty");
        if now < oldest + t.group_wait {
            continue;
        }
        let state = recipients.get(recipient).copied().unwrap_or_default();
        if state
            .last_sent_at
            .is_some_and(|last| now < last + t.group_interval)
        {
            continue;
        }
        // Per finding, what happened within the group: opened and resolved
        // again cancels out; otherwise the events are told in order.
        let mut by_finding: BTreeMap<i64, Vec<&Pending>> = BTreeMap::new();
        for p in &items {
            by_finding.entry(p.finding_id).or_default().push(p);
        }
        let mut include = Vec::new();
        let mut cancel = Vec::new();
        for events in by_finding.values() {
            let first_opens = events.first().is_some_and(|p| opens(p.kind));
            let last_resolves = events.last().is_some_and(|p| {
                matches!(p.kind, EventKind::Resolved | EventKind::ResolvedManually)
            });
            if first_opens && last_resolves {
                cancel.extend(events.iter().map(|p| p.id));
            } else {
                include.extend(events.iter().map(|p| p.id));
            }
        }
        include.sort_unstable();
        cancel.sort_unstable();
        let recipient = recipient.clone();
        if include.is_empty() {
            steps.push(Step::Cancel { recipient, cancel });
        } else {
            steps.push(Step::Send {
                recipient,
                include,
                cancel,
            });
        }
    }
    steps
}

/// Whether an unchanged open group is due to be repeated to a recipient.
pub fn repeat_due(state: &RecipientState, has_open: bool, t: &Timing, now: DateTime<Utc>) -> bool {
    has_open
        && state
            .last_sent_at
            .is_some_and(|last| now >= last + t.repeat_interval)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 8, 20, 3, 0, 0).unwrap()
    }

    fn addr(a: &str) -> EmailAddress {
        EmailAddress::parse(a).unwrap()
    }

    fn timing() -> Timing {
        Timing {
            group_wait: Duration::seconds(30),
            group_interval: Duration::minutes(5),
            repeat_interval: Duration::hours(4),
        }
    }

    fn p(id: i64, to: &str, finding: i64, kind: EventKind, secs: i64) -> Pending {
        Pending {
            id,
            recipient: addr(to),
            finding_id: finding,
            kind,
            source: "procedures".into(),
            created_at: t0() + Duration::seconds(secs),
        }
    }

    fn check(
        pending: &[Pending],
        last_sent: Option<i64>,
        down: &[&str],
        now_secs: i64,
        expected: Vec<Step>,
    ) {
        let states: BTreeMap<EmailAddress, RecipientState> = ["a@x.example", "b@x.example"]
            .into_iter()
            .map(|r| {
                (
                    addr(r),
                    RecipientState {
                        last_sent_at: last_sent.map(|s| t0() + Duration::seconds(s)),
                    },
                )
            })
            .collect();
        let down: HashSet<String> = down.iter().map(|s| s.to_string()).collect();
        let got = plan(
            pending,
            &states,
            &down,
            &timing(),
            t0() + Duration::seconds(now_secs),
        );
        assert_eq!(got, expected);
    }

    fn send(to: &str, include: &[i64], cancel: &[i64]) -> Step {
        Step::Send {
            recipient: addr(to),
            include: include.to_vec(),
            cancel: cancel.to_vec(),
        }
    }

    #[test]
    fn findings_opened_together_go_out_as_one_email_after_the_wait() {
        let pending = [
            p(1, "a@x.example", 10, EventKind::Opened, 0),
            p(2, "a@x.example", 11, EventKind::Opened, 5),
            p(3, "b@x.example", 12, EventKind::Opened, 5),
        ];
        // 20 s after the first: still inside the 30 s wait.
        check(&pending, None, &[], 20, vec![]);
        // 30 s: the first recipient's group is due, with both of theirs; the
        // second's began 5 s later and waits until 35 s.
        check(
            &pending,
            None,
            &[],
            30,
            vec![send("a@x.example", &[1, 2], &[])],
        );
        check(
            &pending,
            None,
            &[],
            35,
            vec![
                send("a@x.example", &[1, 2], &[]),
                send("b@x.example", &[3], &[]),
            ],
        );
    }

    #[test]
    fn the_next_email_waits_for_the_group_interval() {
        let pending = [p(4, "a@x.example", 10, EventKind::SeverityChanged, 0)];
        // Last e-mail 2 minutes ago: the 5-minute interval holds this one.
        check(&pending, Some(-120), &[], 60, vec![]);
        check(
            &pending,
            Some(-120),
            &[],
            180,
            vec![send("a@x.example", &[4], &[])],
        );
    }

    #[test]
    fn opened_and_resolved_within_the_wait_is_never_sent() {
        let pending = [
            p(1, "a@x.example", 10, EventKind::Opened, 0),
            p(2, "a@x.example", 10, EventKind::Resolved, 10),
            p(3, "a@x.example", 11, EventKind::Opened, 12),
        ];
        check(
            &pending,
            None,
            &[],
            40,
            vec![send("a@x.example", &[3], &[1, 2])],
        );
        let only_flap = [
            p(1, "a@x.example", 10, EventKind::Opened, 0),
            p(2, "a@x.example", 10, EventKind::Resolved, 10),
        ];
        check(
            &only_flap,
            None,
            &[],
            40,
            vec![Step::Cancel {
                recipient: addr("a@x.example"),
                cancel: vec![1, 2],
            }],
        );
        // A resolution of something opened earlier is announced.
        let resolution = [p(5, "a@x.example", 9, EventKind::Resolved, 0)];
        check(
            &resolution,
            None,
            &[],
            30,
            vec![send("a@x.example", &[5], &[])],
        );
    }

    #[test]
    fn alerts_of_a_down_source_are_held() {
        let mut documents = p(2, "a@x.example", 11, EventKind::Opened, 0);
        documents.source = "documents".into();
        let pending = [p(1, "a@x.example", 10, EventKind::Opened, 0), documents];
        check(
            &pending,
            None,
            &["procedures"],
            60,
            vec![send("a@x.example", &[2], &[])],
        );
        check(&pending, None, &["procedures", "documents"], 60, vec![]);
    }

    #[test]
    fn an_unchanged_open_group_repeats_only_after_the_repeat_interval() {
        let t = timing();
        let sent = RecipientState {
            last_sent_at: Some(t0()),
        };
        assert!(!repeat_due(&sent, true, &t, t0() + Duration::hours(3)));
        assert!(repeat_due(&sent, true, &t, t0() + Duration::hours(4)));
        assert!(
            !repeat_due(&sent, false, &t, t0() + Duration::hours(5)),
            "nothing open, nothing to repeat"
        );
        assert!(
            !repeat_due(&RecipientState::default(), true, &t, t0()),
            "never told: the first alert is not a repeat"
        );
    }
}
