//! Findings: the pure decision of what an evaluation does to a finding.
//!
//! A finding is keyed by (rule, unit) and has two axes: the latest
//! evaluation result and a workflow state. A new failure after resolution
//! reopens the same finding. Storage applies the decision, writes the audit
//! event and queues the e-mail in one transaction.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::domain::Severity;
use crate::rules::Outcome;

/// The workflow axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Open,
    Acknowledged,
    Silenced,
    Resolved,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Acknowledged => "acknowledged",
            State::Silenced => "silenced",
            State::Resolved => "resolved",
        }
    }

    pub fn is_active(self) -> bool {
        !matches!(self, State::Resolved)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(State::Open),
            "acknowledged" => Ok(State::Acknowledged),
            "silenced" => Ok(State::Silenced),
            "resolved" => Ok(State::Resolved),
            other => Err(format!("unknown finding state `{other}`")),
        }
    }
}

/// The latest evaluation result, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LastResult {
    Pass,
    Fail,
    Unknown,
}

impl LastResult {
    pub fn of(outcome: &Outcome) -> Self {
        match outcome {
            Outcome::Pass => LastResult::Pass,
            Outcome::Fail { .. } => LastResult::Fail,
            Outcome::Unknown(_) => LastResult::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LastResult::Pass => "pass",
            LastResult::Fail => "fail",
            LastResult::Unknown => "unknown",
        }
    }
}

impl FromStr for LastResult {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pass" => Ok(LastResult::Pass),
            "fail" => Ok(LastResult::Fail),
            "unknown" => Ok(LastResult::Unknown),
            other => Err(format!("unknown evaluation result `{other}`")),
        }
    }
}

/// The evidence snapshot kept with every evaluation and audit event: enough
/// to explain the result without the data it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub indicator: String,
    pub period: String,
    pub numerator: u64,
    pub denominator: u64,
    pub value: Option<f64>,
    pub warning_below: f64,
    pub critical_below: Option<f64>,
    /// `pass`, `fail` or `unknown`.
    pub result: String,
    /// Why the result is unknown, in words.
    pub reason: Option<String>,
    /// Ids of records behind the shortfall (e.g. late dossiers' codes).
    pub sample: Vec<String>,
}

/// What the decision needs to know of an existing finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Current {
    pub state: State,
    pub severity: Severity,
    pub last_result: LastResult,
}

/// Kinds of audit event; each transition writes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Opened,
    Reopened,
    Resolved,
    SeverityChanged,
    /// The result became unknown while the finding was active.
    BecameUnknown,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Opened => "opened",
            EventKind::Reopened => "reopened",
            EventKind::Resolved => "resolved",
            EventKind::SeverityChanged => "severity_changed",
            EventKind::BecameUnknown => "became_unknown",
        }
    }

    /// Whether people are told by e-mail. Escalations are; de-escalations
    /// and unknowns are visible in the trail and the digest instead.
    pub fn notifies(self, from: Option<Severity>, to: Severity) -> bool {
        match self {
            EventKind::Opened | EventKind::Reopened | EventKind::Resolved => true,
            EventKind::SeverityChanged => from.is_some_and(|f| to > f),
            EventKind::BecameUnknown => false,
        }
    }
}

/// What to do with a finding after an evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nothing worth an event; the latest result is still recorded.
    Record,
    /// No finding and nothing to open.
    Nothing,
    Transition {
        kind: EventKind,
        state: State,
        severity: Severity,
    },
}

/// Decides the transition for a finding (`None`: none exists) given an outcome.
pub fn decide(current: Option<Current>, outcome: &Outcome) -> Decision {
    use Decision::*;
    match (current, outcome) {
        (None, Outcome::Fail { severity }) => Transition {
            kind: EventKind::Opened,
            state: State::Open,
            severity: *severity,
        },
        (None, _) => Nothing,
        (Some(c), Outcome::Fail { severity }) if c.state == State::Resolved => Transition {
            kind: EventKind::Reopened,
            state: State::Open,
            severity: *severity,
        },
        (Some(c), Outcome::Fail { severity }) if *severity != c.severity => Transition {
            kind: EventKind::SeverityChanged,
            state: c.state,
            severity: *severity,
        },
        (Some(c), Outcome::Pass) if c.state.is_active() => Transition {
            kind: EventKind::Resolved,
            state: State::Resolved,
            severity: c.severity,
        },
        // Unknown never resolves: the finding stays as it is, and the change
        // to unknown is an event once, not once per poll.
        (Some(c), Outcome::Unknown(_))
            if c.state.is_active() && c.last_result != LastResult::Unknown =>
        {
            Transition {
                kind: EventKind::BecameUnknown,
                state: c.state,
                severity: c.severity,
            }
        }
        (Some(_), _) => Record,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Unknown;

    fn current(state: State, severity: Severity, last: LastResult) -> Option<Current> {
        Some(Current {
            state,
            severity,
            last_result: last,
        })
    }

    fn fail(severity: Severity) -> Outcome {
        Outcome::Fail { severity }
    }

    fn unknown() -> Outcome {
        Outcome::Unknown(Unknown::InsufficientSample {
            denominator: 0,
            min_sample: 5,
        })
    }

    fn to(kind: EventKind, state: State, severity: Severity) -> Decision {
        Decision::Transition {
            kind,
            state,
            severity,
        }
    }

    #[test]
    fn decisions() {
        use LastResult as R;
        use Severity::*;
        use State::*;
        let cases = [
            // No finding yet.
            (None, fail(Warning), to(EventKind::Opened, Open, Warning)),
            (None, Outcome::Pass, Decision::Nothing),
            (None, unknown(), Decision::Nothing),
            // An open finding that keeps failing is not opened again.
            (
                current(Open, Warning, R::Fail),
                fail(Warning),
                Decision::Record,
            ),
            (
                current(Open, Warning, R::Fail),
                fail(Critical),
                to(EventKind::SeverityChanged, Open, Critical),
            ),
            (
                current(Acknowledged, Critical, R::Fail),
                fail(Warning),
                to(EventKind::SeverityChanged, Acknowledged, Warning),
            ),
            // Fresh passing data resolves, from any active state.
            (
                current(Open, Warning, R::Fail),
                Outcome::Pass,
                to(EventKind::Resolved, Resolved, Warning),
            ),
            (
                current(Silenced, Warning, R::Fail),
                Outcome::Pass,
                to(EventKind::Resolved, Resolved, Warning),
            ),
            // Unknown never resolves; it is recorded once.
            (
                current(Open, Warning, R::Fail),
                unknown(),
                to(EventKind::BecameUnknown, Open, Warning),
            ),
            (
                current(Open, Warning, R::Unknown),
                unknown(),
                Decision::Record,
            ),
            // A failure after resolution reopens the same finding.
            (
                current(Resolved, Warning, R::Pass),
                fail(Critical),
                to(EventKind::Reopened, Open, Critical),
            ),
            (
                current(Resolved, Warning, R::Pass),
                Outcome::Pass,
                Decision::Record,
            ),
            (
                current(Resolved, Warning, R::Pass),
                unknown(),
                Decision::Record,
            ),
        ];
        for (cur, outcome, expected) in cases {
            assert_eq!(decide(cur, &outcome), expected, "{cur:?} + {outcome:?}");
        }
    }

    #[test]
    fn only_openings_resolutions_and_escalations_send_mail() {
        use Severity::*;
        assert!(EventKind::Opened.notifies(None, Warning));
        assert!(EventKind::Resolved.notifies(Some(Warning), Warning));
        assert!(EventKind::SeverityChanged.notifies(Some(Warning), Critical));
        assert!(!EventKind::SeverityChanged.notifies(Some(Critical), Warning));
        assert!(!EventKind::BecameUnknown.notifies(Some(Warning), Warning));
    }
}
