//! Pure: what `outbox list` shows of a row, and whether `outbox retry` may
//! requeue it. Recipients appear as domains unless the operator asks for
//! full addresses (`--show-recipients`); times are Asia/Ho_Chi_Minh.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::sent::domain_of;
use crate::storage::{OutboxEmail, OutboxStatus};
use crate::time::{format_local, rfc3339_local};

/// One row as `outbox list` shows it (the JSON form; `text` is one line,
/// plus one for the last error).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Item {
    pub id: i64,
    pub kind: String,
    pub status: OutboxStatus,
    /// Claimed by a worker that has not finished sending it.
    pub in_flight: bool,
    pub attempts: i64,
    /// When a pending e-mail is next tried (or, in flight, when its claim
    /// runs out); none once sent or dead.
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub recipient_domains: Vec<String>,
    /// Full addresses, only with `--show-recipients`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<String>>,
    pub subject: String,
    pub message_id: String,
    pub last_error: Option<String>,
}

impl Item {
    pub fn of(e: &OutboxEmail, now: DateTime<Utc>, show_recipients: bool) -> Item {
        let mut domains: Vec<String> = Vec::new();
        for r in &e.recipients {
            let d = domain_of(r);
            if !domains.iter().any(|x| x == d) {
                domains.push(d.to_owned());
            }
        }
        Item {
            id: e.id,
            kind: e.kind.clone(),
            status: e.status,
            in_flight: e.in_flight(now),
            attempts: e.attempts,
            next_attempt_at: (e.status == OutboxStatus::Pending)
                .then(|| rfc3339_local(e.next_attempt_at)),
            created_at: rfc3339_local(e.created_at),
            sent_at: e.sent_at.map(rfc3339_local),
            recipient_domains: domains,
            recipients: show_recipients.then(|| e.recipients.clone()),
            subject: e.subject.clone(),
            message_id: e.message_id.clone(),
            last_error: e.last_error.clone(),
        }
    }

    pub fn text(&self) -> String {
        let when = match (self.status.as_str(), self.in_flight) {
            ("pending", true) => format!(
                "đang gửi (being sent, claim until {})",
                local(self.next_attempt_at.as_deref())
            ),
            ("pending", false) => format!("next {}", local(self.next_attempt_at.as_deref())),
            ("sent", _) => format!("sent {}", local(self.sent_at.as_deref())),
            _ => "no further attempt".to_owned(),
        };
        let to = match &self.recipients {
            Some(full) => full.join(", "),
            None => self.recipient_domains.join(", "),
        };
        let mut line = format!(
            "#{:<5} {:<7} {:<16} attempts {:<2} {}  to {}  \u{201c}{}\u{201d}",
            self.id, self.status, self.kind, self.attempts, when, to, self.subject
        );
        if let Some(err) = &self.last_error {
            line.push_str(&format!("\n       last error: {err}"));
        }
        line
    }
}

/// An RFC 3339 local time back to the `dd/mm/yyyy HH:MM` people read.
fn local(t: Option<&str>) -> String {
    t.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| format_local(t.with_timezone(&Utc)))
        .unwrap_or_else(|| "—".into())
}

/// Whether `outbox retry` may requeue an e-mail.
#[derive(Debug, PartialEq, Eq)]
pub enum Requeue<'a> {
    Go(&'a OutboxEmail),
    /// Why not, for the operator.
    Refuse(String),
}

pub fn requeue_verdict(email: Option<&OutboxEmail>, now: DateTime<Utc>) -> Requeue<'_> {
    let Some(e) = email else {
        return Requeue::Refuse("no such e-mail in the outbox (see `outbox list`)".into());
    };
    if e.status == OutboxStatus::Sent {
        return Requeue::Refuse(format!(
            "e-mail #{} was already sent{}; requeueing it would send it twice",
            e.id,
            e.sent_at
                .map(|t| format!(" at {}", format_local(t)))
                .unwrap_or_default()
        ));
    }
    if e.in_flight(now) {
        return Requeue::Refuse(format!(
            "e-mail #{} is being sent right now (claimed until {}); if that attempt fails, retry after it",
            e.id,
            format_local(e.next_attempt_at)
        ));
    }
    Requeue::Go(e)
}

/// What `outbox retry` prints after requeueing.
pub fn requeued_text(e: &OutboxEmail, poll_interval: Duration) -> String {
    let before = match &e.last_error {
        Some(err) => format!(", last error: {err}"),
        None => String::new(),
    };
    format!(
        "e-mail #{} requeued: was {} after {} attempt(s){before}; now pending with 0 attempts, due now \
         (the daemon picks it up within {})",
        e.id,
        e.status,
        e.attempts,
        humantime::format_duration(poll_interval)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, h, m, 0).unwrap()
    }

    fn email(status: &str, attempts: i64, error: Option<&str>, next: DateTime<Utc>) -> OutboxEmail {
        OutboxEmail {
            id: 7,
            dedup_key: "k".into(),
            message_id: "<m@vpubnd.example>".into(),
            kind: "alert".into(),
            recipients: vec![
                "lanhdao@h44-100.example".into(),
                "thanhtra@vpubnd.example".into(),
            ],
            subject: "Cảnh báo: UBND phường Hồng Bàng".into(),
            body_text: String::new(),
            body_html: String::new(),
            status: status.parse().unwrap(),
            attempts,
            next_attempt_at: next,
            last_error: error.map(Into::into),
            created_at: at(1, 0),
            sent_at: (status == "sent").then(|| at(2, 0)),
            parts: Vec::new(),
            thread_refs: Vec::new(),
        }
    }

    #[test]
    fn requeue_is_refused_for_sent_and_in_flight_e_mails_only() {
        let now = at(3, 0);
        let err = Some("recipient refused @h44-100.example: permanent error (550)");
        // (status, attempts, last error, next attempt, allowed?, refusal mentions)
        let table = [
            ("dead", 1, err, at(1, 0), true, ""),
            ("dead", 10, Some("timeout"), at(2, 59), true, ""),
            ("pending", 0, None, at(1, 0), true, ""),
            ("pending", 3, Some("timeout"), at(4, 0), true, ""),
            ("pending", 2, None, at(1, 0), true, ""),
            ("pending", 1, None, at(3, 1), false, "being sent right now"),
            (
                "sent",
                1,
                None,
                at(1, 0),
                false,
                "already sent at 26/11/2026 09:00",
            ),
        ];
        for (status, attempts, error, next, allowed, why) in table {
            let e = email(status, attempts, error, next);
            match requeue_verdict(Some(&e), now) {
                Requeue::Go(_) => assert!(allowed, "{status} {attempts} {error:?}"),
                Requeue::Refuse(msg) => {
                    assert!(!allowed, "{status} {attempts} {error:?}: {msg}");
                    assert!(msg.contains(why), "{msg}");
                }
            }
        }
        assert!(
            matches!(requeue_verdict(None, now), Requeue::Refuse(m) if m.contains("no such e-mail"))
        );
    }

    #[test]
    fn the_list_shows_domains_unless_asked_and_local_times() {
        let now = at(3, 0);
        let dead = email(
            "dead",
            1,
            Some("recipient refused @h44-100.example"),
            at(1, 0),
        );
        let item = Item::of(&dead, now, false);
        let text = item.text();
        assert!(text.contains("h44-100.example, vpubnd.example"), "{text}");
        assert!(!text.contains("lanhdao@"), "{text}");
        assert!(text.contains("no further attempt"), "{text}");
        assert!(
            text.contains("last error: recipient refused @h44-100.example"),
            "{text}"
        );
        let json = serde_json::to_value(&item).unwrap();
        assert!(json.get("recipients").is_none(), "{json}");
        assert_eq!(json["recipient_domains"][0], "h44-100.example");
        assert_eq!(json["next_attempt_at"], serde_json::Value::Null);

        let full = Item::of(&dead, now, true);
        assert!(full.text().contains("lanhdao@h44-100.example"));
        assert_eq!(
            serde_json::to_value(&full).unwrap()["recipients"][0],
            "lanhdao@h44-100.example"
        );

        let pending = Item::of(&email("pending", 2, Some("timeout"), at(3, 30)), now, false);
        assert!(
            pending.text().contains("next 26/11/2026 10:30"),
            "{}",
            pending.text()
        );
        assert_eq!(
            pending.next_attempt_at.as_deref(),
            Some("2026-11-26T10:30:00+07:00")
        );
        let flying = Item::of(&email("pending", 1, None, at(3, 2)), now, false);
        assert!(flying.in_flight);
        assert!(flying.text().contains("đang gửi"), "{}", flying.text());
        let sent = Item::of(&email("sent", 1, None, at(1, 0)), now, false);
        assert!(
            sent.text().contains("sent 26/11/2026 09:00"),
            "{}",
            sent.text()
        );
    }

    #[test]
    fn requeueing_says_what_it_did() {
        let e = email(
            "dead",
            1,
            Some("recipient refused @h44-100.example"),
            at(1, 0),
        );
        let t = requeued_text(&e, Duration::from_secs(10));
        assert!(
            t.starts_with("e-mail #7 requeued: was dead after 1 attempt(s)"),
            "{t}"
        );
        assert!(t.contains("within 10s"), "{t}");
    }
}
