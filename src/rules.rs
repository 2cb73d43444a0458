//! Rules: what counts as a breach, read from `config/rules.toml`, and their
//! pure, tri-state evaluation.
//!
//! Evaluation is pass, fail or unknown. Unknown (stale source, too small a
//! sample) is never compliant and never resolves a finding.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Fraction;
use crate::domain::{Ratio, Severity};
use crate::indicators::IndicatorId;

/// A rule's id: lowercase letters, digits and dashes, e.g. `on-time-resolution`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RuleId(String);

impl RuleId {
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "`{s}` is not a rule id: expected lowercase letters, digits and dashes"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The inspection plan's content areas (domain.md "Where findings go").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct PlanSection(u8);

impl PlanSection {
    pub fn new(n: u8) -> Result<Self, String> {
        if (1..=5).contains(&n) {
            Ok(Self(n))
        } else {
            Err(format!("{n} is not a plan section: expected 1 to 5"))
        }
    }

    pub fn number(self) -> u8 {
        self.0
    }

    pub fn name_vi(self) -> &'static str {
        match self.0 {
            1 => "Lãnh đạo, chỉ đạo",
            2 => "Kết quả giải quyết TTHC theo cơ chế một cửa, một cửa liên thông",
            3 => "Ứng dụng công nghệ thông tin",
            4 => "Thái độ, tác phong của công chức",
            _ => "Nhiệm vụ khác",
        }
    }
}

/// A threshold on a ratio indicator: below `warning_below` is a warning,
/// below `critical_below` critical.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Threshold {
    pub indicator: IndicatorId,
    pub warning_below: f64,
    pub critical_below: Option<f64>,
    /// Below this denominator the result is "insufficient data".
    pub min_sample: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    pub id: RuleId,
    pub title_vi: String,
    pub title_en: String,
    pub section: PlanSection,
    pub threshold: Threshold,
}

impl Rule {
    /// The source whose data the rule reads; its freshness gates the result.
    pub fn source(&self) -> &'static str {
        self.threshold.indicator.source()
    }
}

#[derive(Debug, Clone)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

/// A problem in a rules file, naming the rule and the field.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}: {location}: {message}")]
pub struct RuleError {
    pub file: String,
    pub location: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default, rename = "rule")]
    rules: Vec<RawRule>,
}

/// The rule as written; every kind's fields are optional here and checked
/// per kind, so that errors can name the rule.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    title_vi: String,
    title_en: String,
    section: u8,
    kind: String,
    indicator: Option<String>,
    warning_below: Option<f64>,
    critical_below: Option<f64>,
    #[serde(default = "default_min_sample")]
    min_sample: u64,
}

fn default_min_sample() -> u64 {
    1
}

impl RuleSet {
    pub fn load(path: &Path) -> Result<RuleSet, RuleError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| RuleError {
            file: file.clone(),
            location: "file".into(),
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&text, &file)
    }

    pub fn parse(text: &str, file: &str) -> Result<RuleSet, RuleError> {
        let err = |location: String, message: String| RuleError {
            file: file.to_owned(),
            location,
            message,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let location = match e.span() {
                Some(span) => {
                    let line = text[..span.start].matches('\n').count() + 1;
                    format!("line {line}")
                }
                None => "file".into(),
            };
            err(location, e.message().to_owned())
        })?;
        let mut seen = BTreeSet::new();
        let mut rules = Vec::new();
        for (i, r) in raw.rules.into_iter().enumerate() {
            let at = |field: &str| format!("rule #{} (`{}`): field `{field}`", i + 1, r.id);
            let id = RuleId::parse(&r.id).map_err(|m| err(at("id"), m))?;
            if !seen.insert(id.clone()) {
                return Err(err(at("id"), "duplicate rule id".into()));
            }
            let section = PlanSection::new(r.section).map_err(|m| err(at("section"), m))?;
            if r.title_vi.trim().is_empty() {
                return Err(err(at("title_vi"), "expected a title".into()));
            }
            let threshold = match r.kind.as_str() {
                "threshold" => {
                    let indicator: IndicatorId = r
                        .indicator
                        .as_deref()
                        .ok_or_else(|| {
                            err(at("indicator"), "required for kind = \"threshold\"".into())
                        })?
                        .parse()
                        .map_err(|m| err(at("indicator"), m))?;
                    let warning_below = r
                        .warning_below
                        .ok_or_else(|| {
                            err(
                                at("warning_below"),
                                "required for kind = \"threshold\"".into(),
                            )
                        })
                        .and_then(|v| Fraction::new(v).map_err(|m| err(at("warning_below"), m)))?;
                    let critical_below = r
                        .critical_below
                        .map(|v| Fraction::new(v).map_err(|m| err(at("critical_below"), m)))
                        .transpose()?;
                    if let Some(c) = critical_below
                        && c > warning_below
                    {
                        return Err(err(
                            at("critical_below"),
                            format!(
                                "{} is above warning_below ({}): the critical level must be the lower one",
                                c.get(),
                                warning_below.get()
                            ),
                        ));
                    }
                    Threshold {
                        indicator,
                        warning_below: warning_below.get(),
                        critical_below: critical_below.map(Fraction::get),
                        min_sample: r.min_sample,
                    }
                }
                other => {
                    return Err(err(
                        at("kind"),
                        format!("unknown rule kind `{other}`: expected threshold"),
                    ));
                }
            };
            rules.push(Rule {
                id,
                title_vi: r.title_vi,
                title_en: r.title_en,
                section,
                threshold,
            });
        }
        Ok(RuleSet { rules })
    }
}

/// Why a result is unknown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Unknown {
    /// The source's data is older than its staleness limit (or never arrived).
    StaleSource {
        source: String,
        last_success: Option<DateTime<Utc>>,
    },
    /// Too few records for the result to mean anything.
    InsufficientSample { denominator: u64, min_sample: u64 },
}

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unknown::StaleSource {
                source,
                last_success: Some(t),
            } => write!(
                f,
                "source {source} is stale (last success {})",
                crate::time::format_local(*t)
            ),
            Unknown::StaleSource {
                source,
                last_success: None,
            } => write!(f, "source {source} has never been polled successfully"),
            Unknown::InsufficientSample {
                denominator,
                min_sample,
            } => write!(
                f,
                "insufficient sample ({denominator} < {min_sample} records)"
            ),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail { severity: Severity },
    Unknown(Unknown),
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail { .. } => "fail",
            Outcome::Unknown(_) => "unknown",
        }
    }
}

/// How fresh the rule's source is.
#[derive(Clone, Debug, PartialEq)]
pub struct Freshness {
    pub source: String,
    pub last_success: Option<DateTime<Utc>>,
    pub stale_after: chrono::Duration,
}

impl Freshness {
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        self.last_success
            .is_some_and(|t| now - t <= self.stale_after)
    }
}

/// Evaluates a threshold rule on one unit's ratio.
pub fn evaluate(
    rule: &Threshold,
    ratio: Ratio,
    freshness: &Freshness,
    now: DateTime<Utc>,
) -> Outcome {
    if !freshness.is_fresh(now) {
        return Outcome::Unknown(Unknown::StaleSource {
            source: freshness.source.clone(),
            last_success: freshness.last_success,
        });
    }
    let min = rule.min_sample.max(1);
    let Some(value) = ratio.value().filter(|_| ratio.denominator >= min) else {
        return Outcome::Unknown(Unknown::InsufficientSample {
            denominator: ratio.denominator,
            min_sample: min,
        });
    };
    match rule.critical_below {
        Some(c) if value < c => Outcome::Fail {
            severity: Severity::Critical,
        },
        _ if value < rule.warning_below => Outcome::Fail {
            severity: Severity::Warning,
        },
        _ => Outcome::Pass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 8, 20, 3, 0, 0).unwrap()
    }

    fn fresh() -> Freshness {
        Freshness {
            source: "procedures".into(),
            last_success: Some(now() - Duration::minutes(5)),
            stale_after: Duration::minutes(10),
        }
    }

    fn rule(min_sample: u64) -> Threshold {
        Threshold {
            indicator: IndicatorId::OnTime,
            warning_below: 0.95,
            critical_below: Some(0.90),
            min_sample,
        }
    }

    fn check(ratio: (u64, u64), freshness: Freshness, expected: Outcome) {
        let got = evaluate(&rule(5), Ratio::new(ratio.0, ratio.1), &freshness, now());
        assert_eq!(got, expected, "ratio {ratio:?}");
    }

    #[test]
    fn thresholds_split_pass_warning_and_critical() {
        let fail = |severity| Outcome::Fail { severity };
        check((95, 100), fresh(), Outcome::Pass);
        check((100, 100), fresh(), Outcome::Pass);
        check((94, 100), fresh(), fail(Severity::Warning));
        check((90, 100), fresh(), fail(Severity::Warning));
        check((89, 100), fresh(), fail(Severity::Critical));
        check((0, 10), fresh(), fail(Severity::Critical));
    }

    #[test]
    fn small_samples_are_unknown_not_passing() {
        check(
            (4, 4),
            fresh(),
            Outcome::Unknown(Unknown::InsufficientSample {
                denominator: 4,
                min_sample: 5,
            }),
        );
        check(
            (0, 0),
            fresh(),
            Outcome::Unknown(Unknown::InsufficientSample {
                denominator: 0,
                min_sample: 5,
            }),
        );
    }

    #[test]
    fn stale_or_missing_data_is_unknown_whatever_the_value() {
        let mut stale = fresh();
        stale.last_success = Some(now() - Duration::minutes(11));
        check(
            (100, 100),
            stale.clone(),
            Outcome::Unknown(Unknown::StaleSource {
                source: "procedures".into(),
                last_success: stale.last_success,
            }),
        );
        let mut never = fresh();
        never.last_success = None;
        check(
            (0, 100),
            never,
            Outcome::Unknown(Unknown::StaleSource {
                source: "procedures".into(),
                last_success: None,
            }),
        );
    }

    #[test]
    fn the_shipped_rules_file_parses() {
        let set = RuleSet::parse(include_str!("../config/rules.toml"), "config/rules.toml")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            set.rules
                .iter()
                .any(|r| r.id.as_str() == "on-time-resolution")
        );
    }

    #[test]
    fn rule_errors_name_the_rule_and_the_field() {
        let text = r#"
[[rule]]
id = "on-time"
title_vi = "Đúng hạn"
title_en = "On time"
section = 2
kind = "threshold"
indicator = "on_time"
warning_below = 95
"#;
        let e = RuleSet::parse(text, "rules.toml").unwrap_err();
        assert_eq!(e.file, "rules.toml");
        assert!(e.location.contains("`on-time`"), "{e}");
        assert!(e.location.contains("warning_below"), "{e}");
        assert!(e.message.contains("from 0 to 1"), "{e}");

        let text = text.replace(
            "warning_below = 95",
            "warning_below = 0.9\ncritical_below = 0.95",
        );
        let e = RuleSet::parse(&text, "rules.toml").unwrap_err();
        assert!(e.location.contains("`on-time`"), "{e}");
        assert!(e.location.contains("critical_below"), "{e}");

        let text = text.replace("indicator = \"on_time\"", "indicator = \"speed\"");
        let e = RuleSet::parse(&text, "rules.toml").unwrap_err();
        assert!(e.location.contains("indicator"), "{e}");
    }
}
