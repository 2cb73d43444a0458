//! Findings: the pure decision of what an evaluation does to a finding.
//!
//! A finding is keyed by (rule, unit) and has two axes: the latest
//! evaluation result and a workflow state. A new failure after resolution
//! reopens the same finding. Storage applies the decision, writes the audit
//! event and queues the e-mail in one transaction.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::Severity;
use crate::rules::{Hysteresis, Outcome};

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

    /// The state in Vietnamese, for people.
    pub fn name_vi(self) -> &'static str {
        match self {
            State::Open => "đang mở",
            State::Acknowledged => "đã tiếp nhận",
            State::Silenced => "tạm ẩn",
            State::Resolved => "đã khắc phục",
        }
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

    /// The result in Vietnamese, for people.
    pub fn name_vi(self) -> &'static str {
        match self {
            LastResult::Pass => "đạt",
            LastResult::Fail => "không đạt",
            LastResult::Unknown => "không xác định",
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The rule's kind: threshold, count, trend, peer_outlier, staleness,
    /// score766.
    pub rule_kind: String,
    /// The indicator judged, if the rule reads one.
    pub indicator: Option<String>,
    /// The period judged (a month, e.g. `2026-08`), or the time of a
    /// staleness check.
    pub period: String,
    pub numerator: Option<u64>,
    pub denominator: Option<u64>,
    /// The value judged, in the check's units (see `unit_of_value`).
    pub value: Option<f64>,
    /// What it was compared with: the earlier value of a trend, the peers'
    /// median.
    pub reference: Option<f64>,
    /// `below` or `above`: which side of a level is a breach.
    pub bound: String,
    pub info: Option<f64>,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
    /// `ratio`, `count`, `points` or `seconds`.
    pub unit_of_value: String,
    /// `pass`, `fail` or `unknown`.
    pub result: String,
    /// Why the result is unknown, in words.
    pub reason: Option<String>,
    /// Ids of records behind the shortfall (e.g. late dossiers' codes).
    pub sample: Vec<String>,
    /// The rule's window (`rolling:30d`, `month_to_date`, …) when it was
    /// judged over one, and the span it covered: from `window_start` to
    /// `window_end` (exclusive), or to the moment judged if that is earlier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_start: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_end: Option<DateTime<Utc>>,
    /// The 766 groups without a score when a total was judged without
    /// them (their codes): the value is then the most (for a breach) or the
    /// least (for a pass) the total could be.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_groups: Vec<String>,
    /// Why the result is unknown, as data, for people's own language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<crate::rules::Unknown>,
    /// The first local day whose working days were counted without a
    /// holiday calendar (Monday to Friday only), when the calendar does not
    /// reach 60 days past the span judged: deadlines near or after it are
    /// uncertain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_days_uncertain_from: Option<chrono::NaiveDate>,
}

/// Evaluations in a row that failed, and passes in a row that cleared the
/// resolve margin: what hysteresis counts. Unknown results change neither.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Streak {
    pub fails: u32,
    pub passes: u32,
}

impl Streak {
    /// The streak after one more evaluation.
    pub fn after(self, outcome: &Outcome, clear: bool) -> Streak {
        match outcome {
            Outcome::Fail { .. } => Streak {
                fails: self.fails.saturating_add(1),
                passes: 0,
            },
            // A pass inside the margin breaks a run of failures but does not
            // count towards resolving.
            Outcome::Pass => Streak {
                fails: 0,
                passes: if clear {
                    self.passes.saturating_add(1)
                } else {
                    0
                },
            },
            Outcome::Unknown(_) => self,
        }
    }
}

/// What the decision needs to know of an existing finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Current {
    pub state: State,
    pub severity: Severity,
    pub last_result: LastResult,
}

/// A person's action on a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// "We know, we are on it."
    Acknowledge,
    /// No notifications until `until`; then the finding returns to the state
    /// it was in.
    Silence { until: DateTime<Utc> },
    /// Resolved by a person (a note is required).
    Resolve,
}

/// Why a person's action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("finding is resolved; it reopens by itself if the data fails again")]
    AlreadyResolved,
    #[error("finding is already acknowledged")]
    AlreadyAcknowledged,
    #[error("a silence must end in the future")]
    SilenceInThePast,
    #[error("a note is required: say why")]
    NoteRequired,
    #[error("a name is required: say who")]
    ActorRequired,
}

/// Decides what a person's action does to a finding: the event to record
/// and the new state.
pub fn act(
    current: &Current,
    action: &Action,
    actor: &str,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(EventKind, State), ActionError> {
    if actor.trim().is_empty() {
        return Err(ActionError::ActorRequired);
    }
    if current.state == State::Resolved {
        return Err(ActionError::AlreadyResolved);
    }
    match action {
        Action::Acknowledge if current.state == State::Acknowledged => {
            Err(ActionError::AlreadyAcknowledged)
        }
        // A silenced finding acknowledged stays silenced; the silence ends
        // in the acknowledged state.
        Action::Acknowledge => Ok((
            EventKind::Acknowledged,
            current.state.max_with(State::Acknowledged),
        )),
        Action::Silence { until } if *until <= now => Err(ActionError::SilenceInThePast),
        Action::Silence { .. } if note.trim().is_empty() => Err(ActionError::NoteRequired),
        Action::Silence { .. } => Ok((EventKind::Silenced, State::Silenced)),
        Action::Resolve if note.trim().is_empty() => Err(ActionError::NoteRequired),
        Action::Resolve => Ok((EventKind::ResolvedManually, State::Resolved)),
    }
}

impl State {
    /// Acknowledging does not lift a silence.
    fn max_with(self, other: State) -> State {
        if self == State::Silenced { self } else { other }
    }
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
    Acknowledged,
    Silenced,
    /// A silence ran out; the finding is back in its earlier state.
    SilenceExpired,
    ResolvedManually,
}

impl FromStr for EventKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use EventKind::*;
        [
            Opened,
            Reopened,
            Resolved,
            SeverityChanged,
            BecameUnknown,
            Acknowledged,
            Silenced,
            SilenceExpired,
            ResolvedManually,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| format!("unknown event kind `{s}`"))
    }
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Opened => "opened",
            EventKind::Reopened => "reopened",
            EventKind::Resolved => "resolved",
            EventKind::SeverityChanged => "severity_changed",
            EventKind::BecameUnknown => "became_unknown",
            EventKind::Acknowledged => "acknowledged",
            EventKind::Silenced => "silenced",
            EventKind::SilenceExpired => "silence_expired",
            EventKind::ResolvedManually => "resolved_manually",
        }
    }

    /// The event in Vietnamese, for the audit trail people read.
    pub fn name_vi(self) -> &'static str {
        match self {
            EventKind::Opened => "phát hiện",
            EventKind::Reopened => "tái diễn",
            EventKind::Resolved => "đã khắc phục",
            EventKind::SeverityChanged => "đổi mức độ",
            EventKind::BecameUnknown => "không xác định",
            EventKind::Acknowledged => "tiếp nhận",
            EventKind::Silenced => "tạm ẩn",
            EventKind::SilenceExpired => "hết tạm ẩn",
            EventKind::ResolvedManually => "đóng thủ công",
        }
    }

    /// Whether people are told by e-mail. Escalations are; de-escalations
    /// and unknowns are visible in the trail and the digest instead.
    pub fn notifies(self, from: Option<Severity>, to: Severity) -> bool {
        match self {
            EventKind::Opened | EventKind::Reopened | EventKind::Resolved => true,
            EventKind::SeverityChanged => from.is_some_and(|f| to > f),
            EventKind::BecameUnknown
            | EventKind::Acknowledged
            | EventKind::Silenced
            | EventKind::ResolvedManually => false,
            // Still failing when the silence ends: people hear of it again.
            EventKind::SilenceExpired => true,
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

/// Decides the transition for a finding (`None`: none exists) given an
/// evaluation, with hysteresis: a finding opens after
/// `breaches_to_open` failures in a row and resolves after
/// `passes_to_resolve` passes in a row beyond the resolve margin. `streak`
/// already counts this evaluation (see [`Streak::after`]).
pub fn decide(
    current: Option<Current>,
    outcome: &Outcome,
    streak: Streak,
    hysteresis: &Hysteresis,
) -> Decision {
    use Decision::*;
    let may_open = streak.fails >= hysteresis.breaches_to_open.max(1);
    let may_resolve = streak.passes >= hysteresis.passes_to_resolve.max(1);
    match (current, outcome) {
        (None, Outcome::Fail { severity }) if may_open => Transition {
            kind: EventKind::Opened,
            state: State::Open,
            severity: *severity,
        },
        (None, _) => Nothing,
        (Some(c), Outcome::Fail { severity }) if c.state == State::Resolved && may_open => {
            Transition {
                kind: EventKind::Reopened,
                state: State::Open,
                severity: *severity,
            }
        }
        (Some(c), Outcome::Fail { severity }) if c.state.is_active() && *severity != c.severity => {
            Transition {
                kind: EventKind::SeverityChanged,
                state: c.state,
                severity: *severity,
            }
        }
        (Some(c), Outcome::Pass) if c.state.is_active() && may_resolve => Transition {
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
mod tests;
