//! Reading `rules.toml`: every rule is checked field by field and every
//! problem names the file, the rule and the field.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::{
    AppliesTo, Bound, Check, Compare, Hysteresis, Levels, PlanSection, Rule, RuleError, RuleId,
    RuleSet, duration_secs,
};
use crate::domain::{UnitCode, UnitKind};
use crate::indicators::IndicatorId;
use crate::score766::Group;
use crate::window::Window;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default, rename = "rule")]
    rules: Vec<RawRule>,
}

/// The rule as written; the kinds' fields are all optional here and
/// checked per kind, so that errors can name the rule.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    title_vi: String,
    title_en: String,
    section: u8,
    kind: String,
    indicator: Option<String>,
    source: Option<String>,
    group: Option<String>,
    compare: Option<String>,
    info_below: Option<f64>,
    warning_below: Option<f64>,
    critical_below: Option<f64>,
    info_above: Option<f64>,
    warning_above: Option<f64>,
    critical_above: Option<f64>,
    warning_drop: Option<f64>,
    critical_drop: Option<f64>,
    warning_gap: Option<f64>,
    critical_gap: Option<f64>,
    bottom: Option<usize>,
    warning_after: Option<String>,
    critical_after: Option<String>,
    min_sample: Option<u64>,
    #[serde(default)]
    applies_to: RawAppliesTo,
    breaches_to_open: Option<u32>,
    passes_to_resolve: Option<u32>,
    resolve_margin: Option<f64>,
    window: Option<String>,
    fallback: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAppliesTo {
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    codes: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

pub(super) fn parse(text: &str, file: &str) -> Result<RuleSet, RuleError> {
    let err = |location: String, message: String| RuleError {
        file: file.to_owned(),
        location,
        message,
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let location = match e.span() {
            Some(span) => format!("line {}", text[..span.start].matches('\n').count() + 1),
            None => "file".into(),
        };
        err(location, e.message().to_owned())
    })?;
    let mut seen = BTreeSet::new();
    let mut rules = Vec::new();
    for (i, r) in raw.rules.into_iter().enumerate() {
        let at = |field: &str| format!("rule #{} (`{}`): field `{field}`", i + 1, r.id);
        let fail = |field: &str, message: String| err(at(field), message);
        let id = RuleId::parse(&r.id).map_err(|m| fail("id", m))?;
        if !seen.insert(id.clone()) {
            return Err(fail("id", "duplicate rule id".into()));
        }
        let section = PlanSection::new(r.section).map_err(|m| fail("section", m))?;
        for (field, title) in [("title_vi", &r.title_vi), ("title_en", &r.title_en)] {
            if title.trim().is_empty() {
                return Err(fail(field, "expected a title".into()));
            }
        }
        let check = check(&r).map_err(|(field, m)| fail(field, m))?;
        let applies_to = applies_to(&r.applies_to).map_err(|(field, m)| fail(field, m))?;
        let hysteresis = Hysteresis {
            breaches_to_open: positive(r.breaches_to_open, 1)
                .map_err(|m| fail("breaches_to_open", m))?,
            passes_to_resolve: positive(r.passes_to_resolve, 1)
                .map_err(|m| fail("passes_to_resolve", m))?,
            resolve_margin: match r.resolve_margin {
                Some(m) if !(m.is_finite() && m >= 0.0) => {
                    return Err(fail(
                        "resolve_margin",
                        format!("{m} is not a margin: expected a number >= 0"),
                    ));
                }
                m => m.unwrap_or(0.0),
            },
        };
        // Ratios need a handful of records to mean anything; a count of
        // problems means something from the first one.
        let default_sample = match check {
            Check::Threshold { .. }
            | Check::Trend { .. }
            | Check::PeerOutlier { .. }
            | Check::Score766 { .. }
            | Check::PortalGap { .. } => 5,
            Check::Count { .. } | Check::Staleness { .. } => 0,
        };
        let (window, fallback) = windows(&r, &check).map_err(|(field, m)| fail(field, m))?;
        rules.push(Rule {
            id,
            title_vi: r.title_vi.clone(),
            title_en: r.title_en.clone(),
            section,
            check,
            applies_to,
            min_sample: r.min_sample.unwrap_or(default_sample),
            hysteresis,
            window,
            fallback,
        });
    }
    Ok(RuleSet { rules })
}

type Problem = (&'static str, String);

/// The window a rule is judged over (default `month_to_date`) and the one
/// judged while it has too few records. A staleness rule judges a source's
/// age now and takes neither.
fn windows(r: &RawRule, check: &Check) -> Result<(Window, Option<Window>), Problem> {
    if matches!(check, Check::Staleness { .. }) {
        if r.window.is_some() {
            return Err(("window", "not used by kind = \"staleness\"".into()));
        }
        if r.fallback.is_some() {
            return Err(("fallback", "not used by kind = \"staleness\"".into()));
        }
        return Ok((Window::MonthToDate, None));
    }
    let window = match &r.window {
        Some(w) => w.parse().map_err(|m| ("window", m))?,
        None => Window::MonthToDate,
    };
    let fallback = match &r.fallback {
        Some(w) => Some(w.parse::<Window>().map_err(|m| ("fallback", m))?),
        None => None,
    };
    if fallback == Some(window) {
        return Err(("fallback", format!("the same as the window ({window})")));
    }
    Ok((window, fallback))
}

fn positive(v: Option<u32>, default: u32) -> Result<u32, String> {
    match v {
        Some(0) => Err("expected at least 1".into()),
        Some(n) => Ok(n),
        None => Ok(default),
    }
}

fn indicator(r: &RawRule) -> Result<IndicatorId, Problem> {
    r.indicator
        .as_deref()
        .ok_or(("indicator", format!("required for kind = \"{}\"", r.kind)))?
        .parse()
        .map_err(|m| ("indicator", m))
}

/// Fields a kind does not use are an error, not silently ignored.
/// A 766 rule's `group`: `total` (the default) or a group code.
fn group_of(r: &RawRule) -> Result<Option<Group>, Problem> {
    match r.group.as_deref().unwrap_or("total") {
        "total" => Ok(None),
        g => Group::ALL
            .into_iter()
            .find(|x| x.code() == g)
            .map(Some)
            .ok_or((
                "group",
                format!("`{g}`: expected total or a group code such as PROGRESS"),
            )),
    }
}

fn unused(r: &RawRule, allowed: &[&str]) -> Result<(), Problem> {
    let present = [
        ("indicator", r.indicator.is_some()),
        ("source", r.source.is_some()),
        ("group", r.group.is_some()),
        ("compare", r.compare.is_some()),
        ("info_below", r.info_below.is_some()),
        ("warning_below", r.warning_below.is_some()),
        ("critical_below", r.critical_below.is_some()),
        ("info_above", r.info_above.is_some()),
        ("warning_above", r.warning_above.is_some()),
        ("critical_above", r.critical_above.is_some()),
        ("warning_drop", r.warning_drop.is_some()),
        ("critical_drop", r.critical_drop.is_some()),
        ("warning_gap", r.warning_gap.is_some()),
        ("critical_gap", r.critical_gap.is_some()),
        ("bottom", r.bottom.is_some()),
        ("warning_after", r.warning_after.is_some()),
        ("critical_after", r.critical_after.is_some()),
    ];
    for (field, set) in present {
        if set && !allowed.contains(&field) {
            return Err((field, format!("not used by kind = \"{}\"", r.kind)));
        }
    }
    Ok(())
}

/// Levels from `*_below` or `*_above` fields (not both), ordered from the
/// mildest to the most severe. `fraction`: values must lie in [0, 1].
fn levels(r: &RawRule, fraction: bool) -> Result<Levels, Problem> {
    let below = [r.info_below, r.warning_below, r.critical_below];
    let above = [r.info_above, r.warning_above, r.critical_above];
    let (bound, vals, names) = match (
        below.iter().any(Option::is_some),
        above.iter().any(Option::is_some),
    ) {
        (true, false) => (
            Bound::Below,
            below,
            ["info_below", "warning_below", "critical_below"],
        ),
        (false, true) => (
            Bound::Above,
            above,
            ["info_above", "warning_above", "critical_above"],
        ),
        (true, true) => {
            return Err((
                "warning_below",
                "give *_below or *_above levels, not both".into(),
            ));
        }
        (false, false) => {
            return Err((
                "warning_below",
                "at least one level is required (e.g. warning_below)".into(),
            ));
        }
    };
    check_levels(bound, vals, names, fraction)
}

fn check_levels(
    bound: Bound,
    vals: [Option<f64>; 3],
    names: [&'static str; 3],
    fraction: bool,
) -> Result<Levels, Problem> {
    for (v, name) in vals.iter().zip(names) {
        if let Some(v) = v
            && (!v.is_finite() || *v < 0.0 || (fraction && *v > 1.0))
        {
            let expected = if fraction {
                "a fraction from 0 to 1, e.g. 0.95 for 95%"
            } else {
                "a number >= 0"
            };
            return Err((name, format!("{v} is not valid: expected {expected}")));
        }
    }
    // Each more severe level must be further into the breach than the milder ones.
    let set: Vec<(f64, &str)> = vals
        .iter()
        .zip(names)
        .filter_map(|(v, n)| v.map(|v| (v, n)))
        .collect();
    for pair in set.windows(2) {
        let ((milder, _), (severer, name)) = (pair[0], pair[1]);
        let ordered = match bound {
            Bound::Below => severer <= milder,
            Bound::Above => severer >= milder,
        };
        if !ordered {
            return Err((
                name,
                format!(
                    "{severer} is a milder level than {milder}: the more severe level must be further {}",
                    if bound == Bound::Below {
                        "below"
                    } else {
                        "above"
                    }
                ),
            ));
        }
    }
    Ok(Levels {
        bound,
        info: vals[0],
        warning: vals[1],
        critical: vals[2],
    })
}

fn check(r: &RawRule) -> Result<Check, Problem> {
    match r.kind.as_str() {
        "threshold" => {
            unused(
                r,
                &[
                    "indicator",
                    "info_below",
                    "warning_below",
                    "critical_below",
                    "info_above",
                    "warning_above",
                    "critical_above",
                ],
            )?;
            let indicator = indicator(r)?;
            let levels = levels(r, indicator.is_share())?;
            Ok(Check::Threshold { indicator, levels })
        }
        "count" => {
            unused(
                r,
                &["indicator", "info_above", "warning_above", "critical_above"],
            )?;
            let indicator = indicator(r)?;
            let levels = levels(r, false)?;
            Ok(Check::Count { indicator, levels })
        }
        "trend" => {
            unused(
                r,
                &["indicator", "compare", "warning_drop", "critical_drop"],
            )?;
            let indicator = indicator(r)?;
            let compare = match r.compare.as_deref().unwrap_or("previous_period") {
                "previous_period" => Compare::PreviousPeriod,
                "last_year" => Compare::LastYear,
                other => {
                    return Err((
                        "compare",
                        format!("`{other}`: expected previous_period or last_year"),
                    ));
                }
            };
            let levels = check_levels(
                Bound::Above,
                [None, r.warning_drop, r.critical_drop],
                ["info_drop", "warning_drop", "critical_drop"],
                true,
            )?;
            if levels.warning.is_none() && levels.critical.is_none() {
                return Err((
                    "warning_drop",
                    "required for kind = \"trend\" (e.g. 0.05 for 5 points)".into(),
                ));
            }
            Ok(Check::Trend {
                indicator,
                compare,
                levels,
            })
        }
        "peer_outlier" => {
            unused(r, &["indicator", "warning_gap", "critical_gap", "bottom"])?;
            let indicator = indicator(r)?;
            let levels = check_levels(
                Bound::Above,
                [None, r.warning_gap, r.critical_gap],
                ["info_gap", "warning_gap", "critical_gap"],
                true,
            )?;
            if levels.warning.is_none() && levels.critical.is_none() && r.bottom.is_none() {
                return Err((
                    "warning_gap",
                    "required for kind = \"peer_outlier\" (or bottom)".into(),
                ));
            }
            if r.bottom == Some(0) {
                return Err(("bottom", "expected at least 1".into()));
            }
            Ok(Check::PeerOutlier {
                indicator,
                levels,
                bottom: r.bottom,
            })
        }
        "staleness" => {
            unused(r, &["source", "warning_after", "critical_after"])?;
            let source = r
                .source
                .clone()
                .ok_or(("source", "required for kind = \"staleness\"".to_owned()))?;
            if !["procedures", "documents", "reports", "portal", "units"].contains(&source.as_str())
            {
                return Err((
                    "source",
                    format!("`{source}`: expected procedures, documents, reports, portal or units"),
                ));
            }
            let w = r
                .warning_after
                .as_deref()
                .map(duration_secs)
                .transpose()
                .map_err(|m| ("warning_after", m))?;
            let c = r
                .critical_after
                .as_deref()
                .map(duration_secs)
                .transpose()
                .map_err(|m| ("critical_after", m))?;
            if w.is_none() && c.is_none() {
                return Err((
                    "warning_after",
                    "required for kind = \"staleness\" (e.g. \"30m\")".into(),
                ));
            }
            let levels = check_levels(
                Bound::Above,
                [None, w, c],
                ["info_after", "warning_after", "critical_after"],
                false,
            )?;
            Ok(Check::Staleness { source, levels })
        }
        "score766" => {
            unused(
                r,
                &[
                    "group",
                    "source",
                    "info_below",
                    "warning_below",
                    "critical_below",
                ],
            )?;
            let official = match r.source.as_deref() {
                None | Some("ours") => false,
                Some("portal") => true,
                Some(other) => {
                    return Err((
                        "source",
                        format!(
                            "`{other}`: expected ours (computed from the records) or portal (the portal's published score)"
                        ),
                    ));
                }
            };
            let group = group_of(r)?;
            let levels = levels(r, false)?;
            if levels.bound != Bound::Below {
                return Err((
                    "warning_below",
                    "a 766 score is a breach below a level".into(),
                ));
            }
            Ok(Check::Score766 {
                group,
                levels,
                official,
            })
        }
        "portal_gap" => {
            unused(
                r,
                &["group", "info_above", "warning_above", "critical_above"],
            )?;
            let group = group_of(r)?;
            let levels = levels(r, false)?;
            // `unused` admits *_above levels only: the bound is Above.
            Ok(Check::PortalGap { group, levels })
        }
        other => Err((
            "kind",
            format!(
                "unknown rule kind `{other}`: expected threshold, count, trend, peer_outlier, staleness, score766 or portal_gap"
            ),
        )),
    }
}

fn applies_to(a: &RawAppliesTo) -> Result<AppliesTo, Problem> {
    let kinds = a
        .kinds
        .iter()
        .map(|k| k.parse::<UnitKind>().map_err(|m| ("applies_to.kinds", m)))
        .collect::<Result<_, _>>()?;
    let codes = |list: &[String], field| {
        list.iter()
            .map(|c| UnitCode::parse(c).map_err(|e| (field, e.to_string())))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(AppliesTo {
        kinds,
        codes: codes(&a.codes, "applies_to.codes")?,
        exclude: codes(&a.exclude, "applies_to.exclude")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "id = \"r\"\ntitle_vi = \"Quy tắc\"\ntitle_en = \"Rule\"\nsection = 2\n";

    fn problem(body: &str) -> RuleError {
        let text = format!("[[rule]]\n{BASE}{body}");
        RuleSet::parse(&text, "rules.toml").expect_err(body)
    }

    fn ok(body: &str) -> Rule {
        let text = format!("[[rule]]\n{BASE}{body}");
        RuleSet::parse(&text, "rules.toml")
            .unwrap_or_else(|e| panic!("{e}"))
            .rules
            .remove(0)
    }

    #[test]
    fn each_kind_parses() {
        let r = ok(
            "kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 0.95\ncritical_below = 0.9\n",
        );
        assert!(matches!(r.check, Check::Threshold { .. }));
        assert_eq!(r.min_sample, 5);
        let r = ok("kind = \"count\"\nindicator = \"late_without_apology\"\nwarning_above = 0\n");
        assert_eq!(r.min_sample, 0);
        ok(
            "kind = \"trend\"\nindicator = \"on_time\"\ncompare = \"last_year\"\nwarning_drop = 0.05\n",
        );
        ok("kind = \"peer_outlier\"\nindicator = \"on_time\"\nwarning_gap = 0.1\nbottom = 3\n");
        let r = ok(
            "kind = \"staleness\"\nsource = \"procedures\"\nwarning_after = \"30m\"\ncritical_after = \"2h\"\n",
        );
        assert_eq!(r.levels().critical, Some(7200.0));
        assert!(r.is_province_wide());
        ok("kind = \"score766\"\ngroup = \"PROGRESS\"\nwarning_below = 16\n");
        let r = ok(
            "kind = \"score766\"\nwarning_below = 80\ncritical_below = 50\nbreaches_to_open = 2\npasses_to_resolve = 3\nresolve_margin = 1.5\napplies_to = { kinds = [\"xa\"], exclude = [\"H44.101\"] }\n",
        );
        assert_eq!(
            r.hysteresis,
            Hysteresis {
                breaches_to_open: 2,
                passes_to_resolve: 3,
                resolve_margin: 1.5
            }
        );
        assert_eq!(r.applies_to.kinds, vec![UnitKind::Xa]);
        assert_eq!(
            (r.window, r.fallback),
            (Window::MonthToDate, None),
            "the default window"
        );
        let r = ok(
            "kind = \"score766\"\nwarning_below = 80\nwindow = \"month_to_date\"\nfallback = \"previous_month\"\n",
        );
        assert_eq!(
            (r.window, r.fallback),
            (Window::MonthToDate, Some(Window::PreviousMonth))
        );
        let r = ok(
            "kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 0.9\nwindow = \"rolling:30d\"\n",
        );
        assert_eq!(r.window, Window::Rolling { days: 30 });
    }

    #[test]
    fn mistakes_name_the_rule_and_the_field() {
        let cases = [
            (
                "kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 95\n",
                "warning_below",
                "fraction",
            ),
            (
                "kind = \"threshold\"\nindicator = \"speed\"\nwarning_below = 0.9\n",
                "indicator",
                "unknown",
            ),
            (
                "kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 0.9\ncritical_below = 0.95\n",
                "critical_below",
                "milder",
            ),
            (
                "kind = \"threshold\"\nindicator = \"on_time\"\n",
                "warning_below",
                "at least one level",
            ),
            (
                "kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 0.9\nwarning_above = 0.2\n",
                "warning_below",
                "not both",
            ),
            (
                "kind = \"count\"\nindicator = \"late_without_apology\"\nwarning_below = 1\n",
                "warning_below",
                "not used",
            ),
            (
                "kind = \"trend\"\nindicator = \"on_time\"\ncompare = \"yesterday\"\nwarning_drop = 0.1\n",
                "compare",
                "previous_period",
            ),
            (
                "kind = \"staleness\"\nsource = \"weather\"\nwarning_after = \"1h\"\n",
                "source",
                "expected procedures",
            ),
            (
                "kind = \"staleness\"\nsource = \"reports\"\nwarning_after = \"soon\"\n",
                "warning_after",
                "duration",
            ),
            (
                "kind = \"score766\"\ngroup = \"FUN\"\nwarning_below = 80\n",
                "group",
                "PROGRESS",
            ),
            (
                "kind = \"score766\"\nsource = \"rumour\"\nwarning_below = 80\n",
                "source",
                "expected ours",
            ),
            (
                "kind = \"portal_gap\"\ngroup = \"FUN\"\nwarning_above = 2\n",
                "group",
                "PROGRESS",
            ),
            (
                "kind = \"score766\"\nwarning_below = 80\nbreaches_to_open = 0\n",
                "breaches_to_open",
                "at least 1",
            ),
            (
                "kind = \"score766\"\nwarning_below = 80\napplies_to = { kinds = [\"city\"] }\n",
                "applies_to.kinds",
                "unknown",
            ),
            ("kind = \"magic\"\n", "kind", "expected threshold"),
            (
                "kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 0.9\nwindow = \"monthly\"\n",
                "window",
                "rolling:30d",
            ),
            (
                "kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 0.9\nwindow = \"rolling:0d\"\n",
                "window",
                "1 to 400 days",
            ),
            (
                "kind = \"score766\"\nwarning_below = 80\nfallback = \"last_month\"\n",
                "fallback",
                "previous_month",
            ),
            (
                "kind = \"score766\"\nwarning_below = 80\nwindow = \"previous_month\"\nfallback = \"previous_month\"\n",
                "fallback",
                "the same",
            ),
            (
                "kind = \"staleness\"\nsource = \"reports\"\nwarning_after = \"1h\"\nwindow = \"rolling:30d\"\n",
                "window",
                "not used",
            ),
        ];
        for (body, field, words) in cases {
            let e = problem(body);
            assert_eq!(e.file, "rules.toml");
            assert!(e.location.contains("(`r`)"), "{e}");
            assert!(e.location.contains(&format!("`{field}`")), "{body}: {e}");
            assert!(e.message.contains(words), "{body}: {e}");
        }
        let dup = format!(
            "[[rule]]\n{BASE}kind = \"score766\"\nwarning_below = 80\n[[rule]]\n{BASE}kind = \"score766\"\nwarning_below = 80\n"
        );
        assert!(
            RuleSet::parse(&dup, "rules.toml")
                .unwrap_err()
                .message
                .contains("duplicate")
        );
    }
}
