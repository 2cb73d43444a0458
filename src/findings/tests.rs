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
        let streak = Streak::default().after(&outcome, true);
        assert_eq!(
            decide(cur, &outcome, streak, &Hysteresis::default()),
            expected,
            "{cur:?} + {outcome:?}"
        );
    }
}

/// Runs a sequence of evaluations through `decide`, as the evaluator
/// does, and returns the transitions that happened (by step index).
fn run(steps: &[(Outcome, bool)], h: &Hysteresis) -> Vec<(usize, EventKind)> {
    let mut current: Option<Current> = None;
    let mut streak = Streak::default();
    let mut out = Vec::new();
    for (i, (outcome, clear)) in steps.iter().enumerate() {
        streak = streak.after(outcome, *clear);
        match decide(current, outcome, streak, h) {
            Decision::Transition {
                kind,
                state,
                severity,
            } => {
                out.push((i, kind));
                current = Some(Current {
                    state,
                    severity,
                    last_result: LastResult::of(outcome),
                });
            }
            Decision::Record | Decision::Nothing => {
                if let Some(c) = current.as_mut() {
                    c.last_result = LastResult::of(outcome);
                }
            }
        }
    }
    out
}

#[test]
fn hysteresis_keeps_a_value_oscillating_around_the_level_from_flapping() {
    use EventKind::*;
    let w = || fail(Severity::Warning);
    let pass_near = || (Outcome::Pass, false);
    let pass_clear = || (Outcome::Pass, true);
    let h = Hysteresis {
        breaches_to_open: 2,
        passes_to_resolve: 2,
        resolve_margin: 0.02,
    };
    type Case = (&'static str, Vec<(Outcome, bool)>, Vec<(usize, EventKind)>);
    let cases: Vec<Case> = vec![
        (
            "one breach alone never opens",
            vec![(w(), false), pass_near(), (w(), false), pass_near()],
            vec![],
        ),
        (
            "two breaches in a row open",
            vec![(w(), false), (w(), false), (w(), false)],
            vec![(1, Opened)],
        ),
        (
            "oscillating just above the level after opening never resolves",
            vec![
                (w(), false),
                (w(), false),
                pass_near(),
                (w(), false),
                pass_near(),
                pass_near(),
                pass_near(),
            ],
            vec![(1, Opened)],
        ),
        (
            "two clear passes in a row resolve",
            vec![
                (w(), false),
                (w(), false),
                pass_clear(),
                pass_near(),
                pass_clear(),
                pass_clear(),
            ],
            vec![(1, Opened), (5, Resolved)],
        ),
        (
            "unknown in between neither opens, resolves nor breaks a run",
            vec![
                (w(), false),
                (unknown(), false),
                (w(), false),
                pass_clear(),
                (unknown(), false),
                (unknown(), false),
                pass_clear(),
            ],
            vec![(2, Opened), (4, BecameUnknown), (6, Resolved)],
        ),
        (
            "a failure after resolution reopens after two breaches",
            vec![
                (w(), false),
                (w(), false),
                pass_clear(),
                pass_clear(),
                (w(), false),
                (w(), false),
            ],
            vec![(1, Opened), (3, Resolved), (5, Reopened)],
        ),
    ];
    for (name, steps, expected) in cases {
        assert_eq!(run(&steps, &h), expected, "{name}");
    }
    // Without hysteresis the same oscillation opens and resolves every time.
    let flappy = vec![(w(), false), pass_clear(), (w(), false), pass_clear()];
    assert_eq!(
        run(&flappy, &Hysteresis::default()),
        vec![(0, Opened), (1, Resolved), (2, Reopened), (3, Resolved)]
    );
}

#[test]
fn a_stale_source_keeps_an_open_finding_open_and_marks_it_unknown() {
    let h = Hysteresis::default();
    let stale = Outcome::Unknown(crate::rules::Unknown::StaleSource {
        source: "procedures".into(),
        last_success: None,
    });
    let steps = vec![
        (fail(Severity::Critical), false),
        (stale.clone(), false),
        (stale.clone(), false),
        (stale, false),
    ];
    assert_eq!(
        run(&steps, &h),
        vec![(0, EventKind::Opened), (1, EventKind::BecameUnknown)],
        "only one event for becoming unknown, and no resolution"
    );
}

#[test]
fn people_act_on_findings_within_the_workflow() {
    use Severity::*;
    use State::*;
    let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 8, 20, 3, 0, 0).unwrap();
    let later = now + chrono::Duration::days(2);
    let f = |state| Current {
        state,
        severity: Warning,
        last_result: LastResult::Fail,
    };
    type Expected = Result<(EventKind, State), ActionError>;
    let cases: Vec<(State, Action, &str, Expected)> = vec![
        (
            Open,
            Action::Acknowledge,
            "",
            Ok((EventKind::Acknowledged, Acknowledged)),
        ),
        (
            Acknowledged,
            Action::Acknowledge,
            "",
            Err(ActionError::AlreadyAcknowledged),
        ),
        (
            Silenced,
            Action::Acknowledge,
            "",
            Ok((EventKind::Acknowledged, Silenced)),
        ),
        (
            Open,
            Action::Silence { until: later },
            "chờ sửa phần mềm",
            Ok((EventKind::Silenced, Silenced)),
        ),
        (
            Open,
            Action::Silence { until: now },
            "x",
            Err(ActionError::SilenceInThePast),
        ),
        (
            Open,
            Action::Silence { until: later },
            " ",
            Err(ActionError::NoteRequired),
        ),
        (
            Acknowledged,
            Action::Resolve,
            "đã khắc phục",
            Ok((EventKind::ResolvedManually, Resolved)),
        ),
        (Open, Action::Resolve, "", Err(ActionError::NoteRequired)),
        (
            Resolved,
            Action::Acknowledge,
            "",
            Err(ActionError::AlreadyResolved),
        ),
    ];
    for (state, action, note, expected) in cases {
        assert_eq!(
            act(&f(state), &action, "Nguyễn Văn A", note, now),
            expected,
            "{state:?} {action:?}"
        );
    }
    assert_eq!(
        act(&f(Open), &Action::Acknowledge, " ", "", now),
        Err(ActionError::ActorRequired)
    );
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
