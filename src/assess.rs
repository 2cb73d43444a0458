//! One cycle's judgement, pure: which rule applies to which unit, what each
//! rule makes of a unit's facts, the evidence kept, and what that does to
//! the unit's finding. Live evaluation (`evaluate`) and `rules replay` both
//! go through here, so a replay reports what live evaluation would do.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use crate::domain::{PortalScore, Ratio, SourceId, Unit, UnitCode, UnitKind};
use crate::findings::{Current, Decision, Evidence, Streak, decide};
use crate::indicators::{IndicatorId, IndicatorValue, counts_766};
use crate::periods::Period;
use crate::rules::{
    Bound, Check, Compare, Evaluation, Facts, Freshness, Observed, Outcome, Rule, evaluate,
};
use crate::score766::{Bands, Score766, score_unit};
use crate::window::Window;

/// One unit's indicator values for one period.
pub type UnitValues = HashMap<IndicatorId, Observed>;

/// Indicator values grouped by unit.
pub fn by_unit<'v>(
    values: impl IntoIterator<Item = &'v IndicatorValue>,
) -> HashMap<UnitCode, UnitValues> {
    let mut out: HashMap<UnitCode, UnitValues> = HashMap::new();
    for v in values {
        out.entry(v.unit_code.clone()).or_default().insert(
            v.indicator,
            Observed {
                ratio: v.ratio,
                sample: v.sample.clone(),
            },
        );
    }
    out
}

/// Each unit's 766 score from its indicator values (and the portal's
/// online-services group, which no upstream record gives us).
pub fn scores(
    values: &[IndicatorValue],
    portal: &[PortalScore],
    bands: &Bands,
) -> HashMap<UnitCode, Score766> {
    let mut grouped: HashMap<&UnitCode, Vec<&IndicatorValue>> = HashMap::new();
    for v in values {
        grouped.entry(&v.unit_code).or_default().push(v);
    }
    grouped
        .into_iter()
        .map(|(code, values)| {
            let online = portal
                .iter()
                .find(|p| &p.unit_code == code)
                .and_then(|p| p.groups.get("ONLINE_SERVICES").copied().flatten());
            let counts = counts_766(values, online);
            (code.clone(), score_unit(&counts, bands))
        })
        .collect()
}

/// What is known of one evaluation window at the moment judged.
#[derive(Debug)]
pub struct WindowFacts {
    /// The period the window is at that moment, e.g. `R30D-20261202`.
    pub period: Period,
    pub current: HashMap<UnitCode, UnitValues>,
    /// The period before, for trends (as stored, judged at its end).
    pub previous: HashMap<UnitCode, UnitValues>,
    /// The same period a year earlier.
    pub last_year: HashMap<UnitCode, UnitValues>,
    pub scores: HashMap<UnitCode, Score766>,
    /// The portal's published scores for the period, by unit.
    pub official: HashMap<UnitCode, PortalScore>,
}

impl WindowFacts {
    pub fn new(period: Period) -> Self {
        WindowFacts {
            period,
            current: HashMap::new(),
            previous: HashMap::new(),
            last_year: HashMap::new(),
            scores: HashMap::new(),
            official: HashMap::new(),
        }
    }
}

/// What is known for one cycle: each window the rules are judged over, and
/// every source's freshness.
#[derive(Debug, Default)]
pub struct PeriodFacts {
    pub windows: HashMap<Window, WindowFacts>,
    pub freshness: HashMap<String, Freshness>,
}

/// A rule's result for one unit.
#[derive(Debug, Clone)]
pub struct Judgement<'a> {
    pub rule: &'a Rule,
    pub unit: &'a Unit,
    pub evaluation: Evaluation,
    pub evidence: Evidence,
}

/// Whether any rule judged over `window` (as its window or its fallback)
/// compares with an earlier period of this kind (so that its values must be
/// loaded).
pub fn compares_with(rules: &[Rule], window: Window, compare: Compare) -> bool {
    rules.iter().any(|r| {
        matches!(r.check, Check::Trend { compare: c, .. } if c == compare)
            && windows_of(r).contains(&window)
    })
}

/// Whether any rule judged over `window` reads the 766 index.
pub fn scores_over(rules: &[Rule], window: Window) -> bool {
    rules.iter().any(|r| {
        matches!(r.check, Check::Score766 { .. } | Check::PortalGap { .. })
            && windows_of(r).contains(&window)
    })
}

/// The windows a rule may be judged over: its own and its fallback. None
/// for a province-wide (staleness) rule, which judges a source's age now.
pub fn windows_of(rule: &Rule) -> Vec<Window> {
    if rule.is_province_wide() {
        return Vec::new();
    }
    std::iter::once(rule.window).chain(rule.fallback).collect()
}

/// Every window the rules are judged over, each once, in order.
pub fn windows_needed(rules: &[Rule]) -> Vec<Window> {
    let mut out: Vec<Window> = rules.iter().flat_map(windows_of).collect();
    out.sort();
    out.dedup();
    out
}

/// The sources whose records the rules judged over `w` read: an
/// indicator's own source; all three for a 766 index (its groups draw on
/// every record family). A window read for nothing else loads only these.
pub fn record_sources(rules: &[Rule], w: Window) -> BTreeSet<SourceId> {
    let mut out = BTreeSet::new();
    for rule in rules.iter().filter(|r| windows_of(r).contains(&w)) {
        match rule.indicator() {
            Some(i) => {
                out.insert(i.source_id());
            }
            None => out.extend([SourceId::Procedures, SourceId::Documents, SourceId::Reports]),
        }
    }
    out
}

/// The unit that holds province-wide findings (data staleness): the unit
/// of kind `province`, if the directory has one.
pub fn province_unit(units: &[Unit]) -> Option<&Unit> {
    units.iter().find(|u| u.kind == Some(UnitKind::Province))
}

/// The ratios of the rule's indicator over one window, for the units the
/// rule applies to, by kind.
type Peers = HashMap<Option<UnitKind>, Vec<Ratio>>;

/// Peers of each kind for a rule: the ratios of the rule's indicator in
/// one window, for the units of each kind the rule applies to.
fn peers_of(rule: &Rule, applies: &[&Unit], facts: &WindowFacts) -> Peers {
    let mut peers = Peers::new();
    if let Check::PeerOutlier { indicator, .. } = &rule.check {
        for u in applies {
            if let Some(o) = facts.current.get(&u.code).and_then(|v| v.get(indicator)) {
                peers.entry(u.kind).or_default().push(o.ratio);
            }
        }
    }
    peers
}

/// Every rule on every unit it applies to (a province-wide rule once, on
/// the province unit), in rule order then unit order. A unit whose window
/// has too few records for the rule is judged over the rule's fallback
/// window, when it has one and that has enough.
pub fn judge<'a>(
    rules: &'a [Rule],
    units: &'a [Unit],
    facts: &PeriodFacts,
    now: DateTime<Utc>,
) -> Vec<Judgement<'a>> {
    let mut out = Vec::new();
    for rule in rules {
        if rule.is_province_wide() {
            out.extend(judge_province_wide(rule, units, facts, now));
        } else {
            out.extend(judge_units(rule, units, facts, now));
        }
    }
    out
}

/// A province-wide rule, once, on the province unit (if the directory has
/// one).
fn judge_province_wide<'a>(
    rule: &'a Rule,
    units: &'a [Unit],
    facts: &PeriodFacts,
    now: DateTime<Utc>,
) -> Option<Judgement<'a>> {
    // A source that is not enabled has no freshness to judge.
    if !facts.freshness.contains_key(rule.source()) {
        return None;
    }
    let unit = province_unit(units)?;
    let f = Facts {
        now,
        current: &UnitValues::new(),
        previous: None,
        last_year: None,
        peers: &[],
        score: None,
        official: None,
        freshness: &facts.freshness,
    };
    let evaluation = evaluate(rule, &f);
    let evidence = evidence(rule, None, &now.to_rfc3339(), &evaluation, now);
    Some(Judgement {
        rule,
        unit,
        evaluation,
        evidence,
    })
}

/// One window as a rule is judged over it: the window, what is known of
/// it, and the peers in it.
struct Over<'w> {
    window: Window,
    facts: &'w WindowFacts,
    peers: Peers,
}

/// A rule on each unit it applies to, over the rule's window or, for a
/// unit with too few records there, its fallback. None when the rule's
/// window was not gathered.
fn judge_units<'a>(
    rule: &'a Rule,
    units: &'a [Unit],
    facts: &PeriodFacts,
    now: DateTime<Utc>,
) -> Vec<Judgement<'a>> {
    let applies: Vec<&Unit> = units
        .iter()
        .filter(|u| rule.applies_to.matches(u))
        .collect();
    // Peers are the units of the same kind the rule applies to.
    let over = |window: Window| {
        facts.windows.get(&window).map(|w| Over {
            window,
            facts: w,
            peers: peers_of(rule, &applies, w),
        })
    };
    let Some(primary) = over(rule.window) else {
        return Vec::new();
    };
    let fallback = rule.fallback.and_then(over);
    let empty = UnitValues::new();
    let evaluate_over = |over: &Over<'_>, unit: &Unit| {
        let w = over.facts;
        let f = Facts {
            now,
            current: w.current.get(&unit.code).unwrap_or(&empty),
            previous: w.previous.get(&unit.code),
            last_year: w.last_year.get(&unit.code),
            peers: over.peers.get(&unit.kind).map_or(&[], |p| p.as_slice()),
            score: w.scores.get(&unit.code),
            official: w.official.get(&unit.code),
            freshness: &facts.freshness,
        };
        evaluate(rule, &f)
    };
    applies
        .iter()
        .map(|&unit| {
            let (over, evaluation) =
                with_fallback(&primary, fallback.as_ref(), |o| evaluate_over(o, unit));
            let period = &over.facts.period;
            let evidence = evidence(
                rule,
                Some((over.window, period)),
                &period.id(),
                &evaluation,
                now,
            );
            Judgement {
                rule,
                unit,
                evaluation,
                evidence,
            }
        })
        .collect()
}

/// The evaluation over the primary window, or over the fallback when the
/// primary has too few records and the fallback enough; with the window
/// judged over.
fn with_fallback<'o, 'w>(
    primary: &'o Over<'w>,
    fallback: Option<&'o Over<'w>>,
    evaluate: impl Fn(&Over<'w>) -> Evaluation,
) -> (&'o Over<'w>, Evaluation) {
    let evaluation = evaluate(primary);
    if let Some(fallback) = fallback
        && is_insufficient(&evaluation)
    {
        let e = evaluate(fallback);
        if !is_insufficient(&e) {
            return (fallback, e);
        }
    }
    (primary, evaluation)
}

fn is_insufficient(e: &Evaluation) -> bool {
    matches!(
        e.outcome,
        Outcome::Unknown(crate::rules::Unknown::InsufficientSample { .. })
    )
}

/// The finding's decision after one more evaluation, and the streak to
/// keep. Only the count that can still matter is kept: failures while no
/// finding is active (towards opening), passes while one is (towards
/// resolving). So a pair that steadily passes, or steadily fails with its
/// finding open, keeps a zero streak and costs no write.
pub fn step(current: Option<Current>, streak: Streak, j: &Judgement<'_>) -> (Decision, Streak) {
    let e = &j.evaluation;
    let streak = streak.after(&e.outcome, e.clear);
    let decision = decide(current, &e.outcome, streak, &j.rule.hysteresis);
    let active = match decision {
        Decision::Transition { state, .. } => state.is_active(),
        Decision::Record | Decision::Nothing => current.is_some_and(|c| c.state.is_active()),
    };
    let kept = if active {
        Streak {
            fails: 0,
            passes: streak.passes,
        }
    } else {
        Streak {
            fails: streak.fails,
            passes: 0,
        }
    };
    (decision, kept)
}

/// The evidence snapshot of an evaluation: over `window`'s period when
/// the rule was judged over one, as at `now`.
pub fn evidence(
    rule: &Rule,
    window: Option<(Window, &Period)>,
    period: &str,
    e: &Evaluation,
    now: DateTime<Utc>,
) -> Evidence {
    let levels = rule.levels();
    let unit_of_value = match rule.check {
        Check::Threshold { .. } | Check::Trend { .. } | Check::PeerOutlier { .. } => "ratio",
        Check::Count { .. } => "count",
        Check::Staleness { .. } => "seconds",
        Check::Score766 { .. } | Check::PortalGap { .. } => "points",
    };
    Evidence {
        rule_kind: rule.kind().to_owned(),
        indicator: rule.indicator().map(|i| i.as_str().to_owned()),
        period: period.to_owned(),
        numerator: e.ratio.map(|r| r.numerator),
        denominator: e.ratio.map(|r| r.denominator),
        value: e.value.filter(|v| v.is_finite()),
        reference: e.reference,
        bound: match levels.bound {
            Bound::Below => "below",
            Bound::Above => "above",
        }
        .to_owned(),
        info: levels.info,
        warning: levels.warning,
        critical: levels.critical,
        unit_of_value: unit_of_value.to_owned(),
        result: e.outcome.label().to_owned(),
        reason: match &e.outcome {
            Outcome::Unknown(u) => Some(u.to_string()),
            _ => None,
        },
        sample: e.sample.clone(),
        window: window.map(|(w, _)| w.to_string()),
        window_start: window.map(|(_, p)| p.start()),
        window_end: window.map(|(_, p)| p.end().min(now)),
        missing_groups: e
            .missing_groups
            .iter()
            .map(|g| g.code().to_owned())
            .collect(),
        unknown: match &e.outcome {
            Outcome::Unknown(u) => Some(u.clone()),
            _ => None,
        },
        working_days_uncertain_from: None,
    }
}

/// Marks evidence whose span reaches days the holiday calendar does not
/// cover (see [`Evidence::working_days_uncertain_from`]).
pub fn mark_calendar_uncertainty(
    evidence: &mut Evidence,
    calendar: &crate::calendar::WorkCalendar,
    now: DateTime<Utc>,
) {
    let end = evidence.window_end.unwrap_or(now).min(now);
    let day = crate::time::utc_to_local(end).date();
    evidence.working_days_uncertain_from = calendar.uncertain_after(day);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Ratio;
    use crate::rules::RuleSet;
    use chrono::TimeZone;

    fn unit(code: &str, kind: UnitKind) -> Unit {
        Unit {
            code: UnitCode::parse(code).unwrap(),
            name: code.into(),
            kind: Some(kind),
            parent: None,
            head_email: None,
        }
    }

    fn fresh(now: DateTime<Utc>) -> HashMap<String, Freshness> {
        ["procedures", "documents", "reports"]
            .into_iter()
            .map(|s| {
                let f = Freshness {
                    source: s.into(),
                    last_success: Some(now),
                    stale_after: chrono::Duration::minutes(10),
                    down: None,
                };
                (s.to_owned(), f)
            })
            .collect()
    }

    fn on_time(n: u64, d: u64) -> UnitValues {
        [(
            IndicatorId::OnTime,
            Observed {
                ratio: Ratio::new(n, d),
                sample: vec!["HS-1".into()],
            },
        )]
        .into_iter()
        .collect()
    }

    #[test]
    fn rules_apply_to_their_units_and_peers_are_of_the_same_kind() {
        let now = Utc.with_ymd_and_hms(2026, 8, 20, 3, 0, 0).unwrap();
        let rules = RuleSet::parse(
            r#"
[[rule]]
id = "on-time"
title_vi = "Đúng hạn"
title_en = "On time"
section = 2
kind = "threshold"
indicator = "on_time"
warning_below = 0.95
applies_to = { kinds = ["xa"], exclude = ["XA.3"] }

[[rule]]
id = "outlier"
title_vi = "Thấp hơn đơn vị cùng loại"
title_en = "Below peers"
section = 2
kind = "peer_outlier"
indicator = "on_time"
warning_gap = 0.10

[[rule]]
id = "stale"
title_vi = "Dữ liệu cũ"
title_en = "Stale data"
section = 3
kind = "staleness"
source = "procedures"
warning_after = "1h"
"#,
            "rules.toml",
        )
        .unwrap();
        let units = vec![
            unit("TINH", UnitKind::Province),
            unit("XA.1", UnitKind::Xa),
            unit("XA.2", UnitKind::Xa),
            unit("XA.3", UnitKind::Xa),
            unit("XA.4", UnitKind::Xa),
            unit("SO.1", UnitKind::SoNganh),
        ];
        let mut month = WindowFacts::new(Window::MonthToDate.period_at(now));
        for (code, n) in [
            ("XA.1", 99),
            ("XA.2", 98),
            ("XA.3", 97),
            ("XA.4", 80),
            ("SO.1", 50),
        ] {
            month
                .current
                .insert(UnitCode::parse(code).unwrap(), on_time(n, 100));
        }
        let facts = PeriodFacts {
            windows: HashMap::from([(Window::MonthToDate, month)]),
            freshness: fresh(now),
        };
        let js = judge(&rules.rules, &units, &facts, now);
        let seen: Vec<(&str, &str, &str)> = js
            .iter()
            .map(|j| {
                (
                    j.rule.id.as_str(),
                    j.unit.code.as_str(),
                    j.evaluation.outcome.label(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("on-time", "XA.1", "pass"),
                ("on-time", "XA.2", "pass"),
                ("on-time", "XA.4", "fail"),
                // The province and the department have no peers of their kind.
                ("outlier", "TINH", "unknown"),
                ("outlier", "XA.1", "pass"),
                ("outlier", "XA.2", "pass"),
                ("outlier", "XA.3", "pass"),
                ("outlier", "XA.4", "fail"),
                ("outlier", "SO.1", "unknown"),
                // Staleness once, on the province.
                ("stale", "TINH", "pass"),
            ]
        );
        let xa4 = &js[2].evidence;
        assert_eq!((xa4.numerator, xa4.denominator), (Some(80), Some(100)));
        assert_eq!(xa4.warning, Some(0.95));
        assert_eq!(xa4.bound, "below");
        assert_eq!(xa4.sample, vec!["HS-1".to_owned()]);
        assert_eq!(
            js[7].evidence.reference,
            Some(0.975),
            "median of 99, 98, 97, 80"
        );
    }

    #[test]
    fn only_the_streak_that_can_still_matter_is_kept() {
        use crate::domain::Severity;
        use crate::findings::{LastResult, State};
        use crate::rules::Unknown;
        let rule = RuleSet::parse(
            "[[rule]]\nid = \"r\"\ntitle_vi = \"Quy tắc\"\ntitle_en = \"Rule\"\nsection = 2\n\
             kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 0.95\n\
             breaches_to_open = 2\npasses_to_resolve = 2\n",
            "rules.toml",
        )
        .unwrap()
        .rules
        .remove(0);
        let u = unit("XA.1", UnitKind::Xa);
        let judged = |outcome: Outcome, clear: bool| {
            let evaluation = Evaluation {
                outcome,
                clear,
                value: None,
                reference: None,
                ratio: None,
                sample: vec![],
                missing_groups: vec![],
            };
            Judgement {
                rule: &rule,
                unit: &u,
                evidence: evidence(&rule, None, "2026-08", &evaluation, Utc::now()),
                evaluation,
            }
        };
        let fail = || {
            let severity = Severity::Warning;
            judged(Outcome::Fail { severity }, false)
        };
        let open = Some(Current {
            state: State::Open,
            severity: Severity::Warning,
            last_result: LastResult::Fail,
        });
        let zero = Streak::default();
        // Steady passes without a finding, steady failures with one open:
        // nothing to count, nothing to store.
        assert_eq!(step(None, zero, &judged(Outcome::Pass, true)).1, zero);
        assert_eq!(step(open, zero, &fail()).1, zero);
        // Counting towards opening, then towards resolving.
        let (d, s) = step(None, zero, &fail());
        assert_eq!(
            (d, s),
            (
                Decision::Nothing,
                Streak {
                    fails: 1,
                    passes: 0
                }
            )
        );
        let (d, s) = step(None, s, &fail());
        assert!(
            matches!(d, Decision::Transition { .. }),
            "opens at the second"
        );
        assert_eq!(s, zero, "an open finding does not count failures");
        let (_, s) = step(open, zero, &judged(Outcome::Pass, true));
        assert_eq!(
            s,
            Streak {
                fails: 0,
                passes: 1
            }
        );
        // Unknown keeps the count.
        let stale = Outcome::Unknown(Unknown::NoComparison);
        assert_eq!(step(open, s, &judged(stale, false)).1, s);
    }

    #[test]
    fn a_window_reads_the_records_of_the_sources_its_rules_need() {
        let rules = RuleSet::parse(
            r#"
[[rule]]
id = "on-time"
title_vi = "Đúng hạn"
title_en = "On time"
section = 2
kind = "threshold"
window = "rolling:30d"
indicator = "on_time"
warning_below = 0.95

[[rule]]
id = "reports"
title_vi = "Báo cáo đúng hạn"
title_en = "Reports on time"
section = 3
kind = "threshold"
window = "quarter_to_date"
indicator = "reports_on_time"
warning_below = 0.9

[[rule]]
id = "score"
title_vi = "Điểm 766"
title_en = "766 score"
section = 2
kind = "score766"
window = "month_to_date"
group = "total"
warning_below = 80.0
"#,
            "rules.toml",
        )
        .unwrap();
        let r = &rules.rules;
        let sources = |w| record_sources(r, w).into_iter().collect::<Vec<_>>();
        use SourceId::*;
        assert_eq!(sources(Window::Rolling { days: 30 }), [Procedures]);
        assert_eq!(sources(Window::QuarterToDate), [Reports]);
        assert_eq!(
            sources(Window::MonthToDate),
            [Procedures, Documents, Reports]
        );
        assert!(sources(Window::PreviousMonth).is_empty());
    }
}
