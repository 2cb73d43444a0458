//! Reading `rules.toml`: every rule is checked field by field and every
//! problem names the file, the rule and the field.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::{AppliesTo, Check, Hysteresis, PlanSection, Rule, RuleError, RuleId, RuleSet};
use crate::domain::{UnitCode, UnitKind};
use crate::window::Window;

mod kinds;
mod levels;

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
        let fail = |(field, message): Problem| err(at(field), message);
        let id = RuleId::parse(&r.id).map_err(|m| fail(("id", m)))?;
        if !seen.insert(id.clone()) {
            return Err(fail(("id", "duplicate rule id".into())));
        }
        rules.push(rule(id, &r).map_err(fail)?);
    }
    Ok(RuleSet { rules })
}

type Problem = (&'static str, String);

/// The rule `id` names, checked field by field.
fn rule(id: RuleId, r: &RawRule) -> Result<Rule, Problem> {
    let section = PlanSection::new(r.section).map_err(|m| ("section", m))?;
    for (field, title) in [("title_vi", &r.title_vi), ("title_en", &r.title_en)] {
        if title.trim().is_empty() {
            return Err((field, "expected a title".into()));
        }
    }
    let check = kinds::check(r)?;
    let applies_to = applies_to(&r.applies_to)?;
    let hysteresis = hysteresis(r)?;
    let (window, fallback) = windows(r, &check)?;
    Ok(Rule {
        id,
        title_vi: r.title_vi.clone(),
        title_en: r.title_en.clone(),
        section,
        min_sample: r.min_sample.unwrap_or(default_sample(&check)),
        check,
        applies_to,
        hysteresis,
        window,
        fallback,
    })
}

/// Ratios need a handful of records to mean anything; a count of problems
/// means something from the first one.
fn default_sample(check: &Check) -> u64 {
    match check {
        Check::Threshold { .. }
        | Check::Trend { .. }
        | Check::PeerOutlier { .. }
        | Check::Score766 { .. }
        | Check::PortalGap { .. } => 5,
        Check::Count { .. } | Check::Staleness { .. } => 0,
    }
}

fn hysteresis(r: &RawRule) -> Result<Hysteresis, Problem> {
    Ok(Hysteresis {
        breaches_to_open: positive(r.breaches_to_open, 1).map_err(|m| ("breaches_to_open", m))?,
        passes_to_resolve: positive(r.passes_to_resolve, 1)
            .map_err(|m| ("passes_to_resolve", m))?,
        resolve_margin: match r.resolve_margin {
            Some(m) if !(m.is_finite() && m >= 0.0) => {
                return Err((
                    "resolve_margin",
                    format!("{m} is not a margin: expected a number >= 0"),
                ));
            }
            m => m.unwrap_or(0.0),
        },
    })
}

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
mod tests;
