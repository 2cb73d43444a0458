use super::*;
use crate::rules::RuleSet;
use chrono::{Duration, TimeZone};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 8, 20, 3, 0, 0).unwrap()
}

fn rule(body: &str) -> Rule {
    let text = format!(
        "[[rule]]\nid = \"r\"\ntitle_vi = \"Quy tắc\"\ntitle_en = \"Rule\"\nsection = 2\n{body}"
    );
    RuleSet::parse(&text, "rules.toml")
        .unwrap_or_else(|e| panic!("{e}"))
        .rules
        .remove(0)
}

fn fresh() -> HashMap<String, Freshness> {
    ["procedures", "documents", "reports"]
        .into_iter()
        .map(|s| {
            (
                s.to_owned(),
                Freshness {
                    source: s.into(),
                    last_success: Some(now() - Duration::minutes(5)),
                    stale_after: Duration::minutes(10),
                    down: None,
                },
            )
        })
        .collect()
}

fn values(list: &[(IndicatorId, u64, u64)]) -> HashMap<IndicatorId, Observed> {
    list.iter()
        .map(|(i, n, d)| {
            (
                *i,
                Observed {
                    ratio: Ratio::new(*n, *d),
                    sample: vec![],
                },
            )
        })
        .collect()
}

struct Case<'a> {
    current: HashMap<IndicatorId, Observed>,
    previous: Option<HashMap<IndicatorId, Observed>>,
    peers: Vec<Ratio>,
    score: Option<&'a Score766>,
    official: Option<crate::domain::PortalScore>,
    freshness: HashMap<String, Freshness>,
}

impl Case<'_> {
    fn new(current: &[(IndicatorId, u64, u64)]) -> Self {
        Case {
            current: values(current),
            previous: None,
            peers: vec![],
            score: None,
            official: None,
            freshness: fresh(),
        }
    }

    fn eval(&self, r: &Rule) -> Evaluation {
        evaluate(
            r,
            &Facts {
                now: now(),
                current: &self.current,
                previous: self.previous.as_ref(),
                last_year: None,
                peers: &self.peers,
                score: self.score,
                official: self.official.as_ref(),
                freshness: &self.freshness,
            },
        )
    }
}

fn fail(s: Severity) -> Outcome {
    Outcome::Fail { severity: s }
}

use IndicatorId as I;
use Severity::*;

#[test]
fn thresholds_split_pass_warning_and_critical() {
    let r = rule(
        "kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 0.95\ncritical_below = 0.90\nmin_sample = 5\nresolve_margin = 0.02\n",
    );
    let cases = [
        ((95, 100), Outcome::Pass, false),
        ((97, 100), Outcome::Pass, true),
        ((94, 100), fail(Warning), false),
        ((90, 100), fail(Warning), false),
        ((89, 100), fail(Critical), false),
    ];
    for ((n, d), expected, clear) in cases {
        let e = Case::new(&[(I::OnTime, n, d)]).eval(&r);
        assert_eq!((e.outcome, e.clear), (expected, clear), "{n}/{d}");
    }
    // 4 of 4 on time is a perfect rate on too small a sample: unknown.
    let e = Case::new(&[(I::OnTime, 4, 4)]).eval(&r);
    assert_eq!(
        e.outcome,
        Outcome::Unknown(Unknown::InsufficientSample {
            denominator: 4,
            min_sample: 5
        })
    );
}

#[test]
fn stale_or_missing_data_is_unknown_whatever_the_value() {
    let r = rule("kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 0.95\n");
    let mut c = Case::new(&[(I::OnTime, 100, 100)]);
    c.freshness.get_mut("procedures").unwrap().last_success = Some(now() - Duration::minutes(11));
    assert!(matches!(
        c.eval(&r).outcome,
        Outcome::Unknown(Unknown::StaleSource { .. })
    ));
    // Failing polls on top of stale data: the reason says the source is down.
    c.freshness.get_mut("procedures").unwrap().down = Some(4);
    assert_eq!(
        c.eval(&r).outcome,
        Outcome::Unknown(Unknown::SourceDown {
            source: "procedures".into(),
            failures: 4,
            last_success: Some(now() - Duration::minutes(11)),
        })
    );
    // A failed poll while the data is still fresh does not stop judging.
    c.freshness.get_mut("procedures").unwrap().last_success = Some(now() - Duration::minutes(2));
    assert_eq!(c.eval(&r).outcome, Outcome::Pass);
    c.freshness.remove("procedures");
    assert!(matches!(
        c.eval(&r).outcome,
        Outcome::Unknown(Unknown::StaleSource {
            last_success: None,
            ..
        })
    ));
}

#[test]
fn counts_judge_the_number_of_records() {
    let r = rule(
        "kind = \"count\"\nindicator = \"late_without_apology\"\nwarning_above = 0\ncritical_above = 4\n",
    );
    // No late dossier at all: 0 of 0, nothing to apologise for: pass.
    assert_eq!(
        Case::new(&[(I::LateWithoutApology, 0, 0)]).eval(&r).outcome,
        Outcome::Pass
    );
    assert_eq!(
        Case::new(&[(I::LateWithoutApology, 1, 7)]).eval(&r).outcome,
        fail(Warning)
    );
    assert_eq!(
        Case::new(&[(I::LateWithoutApology, 5, 7)]).eval(&r).outcome,
        fail(Critical)
    );
}

#[test]
fn trends_judge_the_fall_against_the_earlier_period() {
    let r = rule(
        "kind = \"trend\"\nindicator = \"on_time\"\nwarning_drop = 0.05\ncritical_drop = 0.10\n",
    );
    let mut c = Case::new(&[(I::OnTime, 90, 100)]);
    assert_eq!(c.eval(&r).outcome, Outcome::Unknown(Unknown::NoComparison));
    // 97% → 90%: a 7-point fall, beyond 5.
    c.previous = Some(values(&[(I::OnTime, 97, 100)]));
    let e = c.eval(&r);
    assert_eq!(e.outcome, fail(Warning));
    assert!((e.value.unwrap() - 0.07).abs() < 1e-9);
    assert_eq!(e.reference, Some(0.97));
    // 85% → 90%: better, pass.
    c.previous = Some(values(&[(I::OnTime, 85, 100)]));
    assert_eq!(c.eval(&r).outcome, Outcome::Pass);
    // For a lower-is-better indicator a rise is the bad direction:
    // overdue 2% → 15% is a 13-point "drop".
    let r = rule(
        "kind = \"trend\"\nindicator = \"overdue_open\"\nwarning_drop = 0.05\ncritical_drop = 0.10\n",
    );
    let mut c = Case::new(&[(I::OverdueOpen, 15, 100)]);
    c.previous = Some(values(&[(I::OverdueOpen, 2, 100)]));
    assert_eq!(c.eval(&r).outcome, fail(Critical));
}

#[test]
fn peer_outliers_are_judged_against_the_median_and_the_bottom() {
    let r =
        rule("kind = \"peer_outlier\"\nindicator = \"on_time\"\nwarning_gap = 0.10\nbottom = 1\n");
    let peers = |list: &[(u64, u64)]| {
        list.iter()
            .map(|(n, d)| Ratio::new(*n, *d))
            .collect::<Vec<_>>()
    };
    // Peers 98, 96, 95, 80 (the unit): median (95 + 96) / 2 = 95.5; gap 15.5 > 10.
    let mut c = Case::new(&[(I::OnTime, 80, 100)]);
    c.peers = peers(&[(98, 100), (96, 100), (95, 100), (80, 100)]);
    let e = c.eval(&r);
    assert_eq!(e.outcome, fail(Warning));
    assert_eq!(e.reference, Some(0.955));
    // 94 of 100: gap 1.5 points, but the worst of the group: bottom 1.
    let mut c = Case::new(&[(I::OnTime, 94, 100)]);
    c.peers = peers(&[(98, 100), (96, 100), (95, 100), (94, 100)]);
    assert_eq!(c.eval(&r).outcome, fail(Warning));
    // 97: neither far from the median nor at the bottom.
    let mut c = Case::new(&[(I::OnTime, 97, 100)]);
    c.peers = peers(&[(98, 100), (96, 100), (95, 100), (97, 100)]);
    assert_eq!(c.eval(&r).outcome, Outcome::Pass);
    // Two peers with enough data is no group.
    let mut c = Case::new(&[(I::OnTime, 80, 100)]);
    c.peers = peers(&[(98, 100), (80, 100), (1, 2)]);
    assert_eq!(
        c.eval(&r).outcome,
        Outcome::Unknown(Unknown::TooFewPeers {
            peers: 2,
            needed: 3
        })
    );
}

#[test]
fn staleness_judges_the_age_of_a_sources_data() {
    let r = rule(
        "kind = \"staleness\"\nsource = \"documents\"\nwarning_after = \"30m\"\ncritical_after = \"2h\"\n",
    );
    let mut c = Case::new(&[]);
    assert_eq!(c.eval(&r).outcome, Outcome::Pass, "5 minutes old");
    c.freshness.get_mut("documents").unwrap().last_success = Some(now() - Duration::minutes(45));
    assert_eq!(c.eval(&r).outcome, fail(Warning));
    // Not polled yet (just started): nothing to judge, no finding.
    let docs = c.freshness.get_mut("documents").unwrap();
    docs.last_success = None;
    assert!(matches!(
        c.eval(&r).outcome,
        Outcome::Unknown(Unknown::StaleSource { .. })
    ));
    // Polls fail and none ever succeeded: critical.
    c.freshness.get_mut("documents").unwrap().down = Some(3);
    assert_eq!(c.eval(&r).outcome, fail(Critical), "down, never polled");
}

#[test]
fn score766_rules_judge_the_total_or_a_group() {
    use crate::score766::{Bands, Count, IndicatorCode, UnitCounts, score_unit};
    let mut counts = UnitCounts::default();
    counts
        .counts
        .insert(IndicatorCode::OnTime, Count::new(80, 100));
    let score = score_unit(&counts, &Bands::default());
    let r = rule("kind = \"score766\"\nwarning_below = 80\ncritical_below = 50\n");
    let mut c = Case::new(&[(I::OnTime, 80, 100)]);
    c.score = Some(&score);
    // 20 × 0.80 = 16 points, and five groups (80 points) have no score:
    // anything from 16 to 96. Not judged.
    let e = c.eval(&r);
    assert!(
        matches!(&e.outcome, Outcome::Unknown(Unknown::IncompleteScore { missing }) if missing.len() == 5),
        "{e:?}"
    );

    // Every group but online services (12 points): the total lies between
    // the partial sum and 12 more.
    let every = |n: u64, d: u64| UnitCounts {
        counts: IndicatorCode::ALL
            .into_iter()
            .map(|code| (code, Count::new(n, d)))
            .collect(),
        online_services: None,
    };
    let cases: [(UnitCounts, Outcome, Option<f64>, usize); 4] = [
        // 45.08 of 88: at most 57.08, below 80 whatever the portal says,
        // not certainly below 50.
        (every(5, 10), fail(Warning), Some(57.08), 1),
        // 88 of 88: at least 88, a pass.
        (every(10, 10), Outcome::Pass, Some(88.0), 1),
        // About 76 of 88: between that and 12 more, not judged.
        (
            every(85, 100),
            Outcome::Unknown(Unknown::IncompleteScore {
                missing: vec![Group::OnlineServices],
            }),
            None,
            0,
        ),
        // The portal's score given: complete, judged as it is.
        (
            UnitCounts {
                online_services: Some(2.0),
                ..every(5, 10)
            },
            fail(Critical),
            Some(47.08),
            0,
        ),
    ];
    for (counts, outcome, value, missing) in cases {
        let score = score_unit(&counts, &Bands::default());
        let mut c = Case::new(&[(I::OnTime, 80, 100)]);
        c.score = Some(&score);
        let e = c.eval(&r);
        assert_eq!((&e.outcome, e.value), (&outcome, value), "{score:?}");
        assert_eq!(e.missing_groups.len(), missing);
    }
    let r = rule("kind = \"score766\"\ngroup = \"DIGITIZATION\"\nwarning_below = 15\n");
    assert_eq!(c.eval(&r).outcome, Outcome::Unknown(Unknown::NotScored));
}

#[test]
fn score766_rules_on_the_portals_figures_judge_what_it_published_and_nothing_else() {
    use crate::domain::{PortalDetails, PortalScore, UnitCode};
    let official = |total: Option<f64>, digitization: Option<f64>| PortalScore {
        unit_code: UnitCode::parse("H44.07").unwrap(),
        period: "2026-08".into(),
        total,
        groups: [("DIGITIZATION".to_owned(), digitization)].into(),
        updated_at: None,
        details: PortalDetails::default(),
    };
    let total =
        rule("kind = \"score766\"\nsource = \"portal\"\nwarning_below = 80\ncritical_below = 50\n");
    let group = rule(
        "kind = \"score766\"\nsource = \"portal\"\ngroup = \"DIGITIZATION\"\nwarning_below = 15\n",
    );
    assert_eq!(total.source(), "portal", "the portal's freshness gates it");
    // No sample of ours is needed: the figure is the portal's.
    let mut c = Case::new(&[]);
    let mut portal_fresh = fresh();
    let f = portal_fresh["procedures"].clone();
    portal_fresh.insert(
        "portal".into(),
        Freshness {
            source: "portal".into(),
            ..f
        },
    );
    c.freshness = portal_fresh.clone();
    let cases = [
        (
            official(Some(85.0), Some(16.0)),
            Outcome::Pass,
            Outcome::Pass,
        ),
        (
            official(Some(72.5), Some(10.0)),
            fail(Warning),
            fail(Warning),
        ),
        (
            official(Some(40.0), None),
            fail(Critical),
            Outcome::Unknown(Unknown::NotScored),
        ),
        (
            official(None, Some(3.0)),
            Outcome::Unknown(Unknown::NotScored),
            fail(Warning),
        ),
    ];
    for (score, on_total, on_group) in cases {
        c.official = Some(score.clone());
        assert_eq!(c.eval(&total).outcome, on_total, "{score:?}");
        assert_eq!(c.eval(&group).outcome, on_group, "{score:?}");
    }
    // Nothing published for the unit and period: unknown, never a pass.
    c.official = None;
    assert_eq!(c.eval(&total).outcome, Outcome::Unknown(Unknown::NotScored));
    // A stale portal is not evidence either.
    c.official = Some(official(Some(85.0), None));
    c.freshness = fresh();
    assert!(
        matches!(c.eval(&total).outcome, Outcome::Unknown(_)),
        "{:?}",
        c.eval(&total).outcome
    );
}

#[test]
fn portal_gap_rules_judge_the_distance_between_ours_and_the_portals() {
    use crate::domain::{PortalDetails, PortalScore, UnitCode};
    use crate::score766::{Bands, Count, IndicatorCode, UnitCounts, score_unit};
    let official = |total: Option<f64>, progress: Option<f64>| PortalScore {
        unit_code: UnitCode::parse("H44.07").unwrap(),
        period: "2026-08".into(),
        total,
        groups: [("PROGRESS".to_owned(), progress)].into(),
        updated_at: None,
        details: PortalDetails::default(),
    };
    let gap = rule(
        "kind = \"portal_gap\"\ngroup = \"PROGRESS\"\nwarning_above = 2\ncritical_above = 5\n",
    );
    let total_gap = rule("kind = \"portal_gap\"\nwarning_above = 3\n");
    assert_eq!(gap.source(), "portal");
    // Ours: 80 of 100 on time, PROGRESS 16 points; the other groups unscored.
    let mut counts = UnitCounts::default();
    counts
        .counts
        .insert(IndicatorCode::OnTime, Count::new(80, 100));
    let ours = score_unit(&counts, &Bands::default());
    let mut c = Case::new(&[(I::OnTime, 80, 100)]);
    c.score = Some(&ours);
    let p = c.freshness["procedures"].clone();
    c.freshness.insert(
        "portal".into(),
        Freshness {
            source: "portal".into(),
            ..p
        },
    );
    let cases = [
        (Some(16.0), Outcome::Pass, Some(0.0)),
        (Some(13.0), fail(Warning), Some(3.0)),
        (Some(10.0), fail(Critical), Some(6.0)),
        (None, Outcome::Unknown(Unknown::NotScored), None),
    ];
    for (portal, outcome, value) in cases {
        c.official = Some(official(Some(90.0), portal));
        let e = c.eval(&gap);
        assert_eq!(
            (&e.outcome, e.value),
            (&outcome, value),
            "portal {portal:?}"
        );
    }
    // Our total lacks groups: not comparable, unknown rather than a gap.
    c.official = Some(official(Some(90.0), Some(16.0)));
    assert_eq!(
        c.eval(&total_gap).outcome,
        Outcome::Unknown(Unknown::NotScored)
    );
    // Nothing published: unknown, never a pass.
    c.official = None;
    assert_eq!(c.eval(&gap).outcome, Outcome::Unknown(Unknown::NotScored));
}
