//! Rules: what counts as a breach, declared in `config/rules.toml`, and
//! their pure, tri-state evaluation (see [`eval`]).
//!
//! A rule has an id, a title in Vietnamese and English, the inspection
//! plan's section it serves, the units it applies to, a minimum sample below
//! which its result is "insufficient data", hysteresis settings, and one
//! check: a threshold on an indicator, a count, a trend against an earlier
//! period, a peer outlier, a source's staleness, or the Decision 766 total
//! or a group. Severity follows the levels a value crosses (info, warning,
//! critical).

pub mod eval;
mod parse;

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::domain::{Severity, Unit, UnitCode, UnitKind};
use crate::indicators::IndicatorId;
use crate::score766::Group;
use crate::window::Window;

pub use eval::{Evaluation, Facts, Freshness, Observed, Outcome, Unknown, evaluate};

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

/// An id read back compares with the text it was written from.
impl PartialEq<str> for RuleId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl std::str::FromStr for RuleId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        RuleId::parse(s)
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

    pub fn name_en(self) -> &'static str {
        match self.0 {
            1 => "Leadership and direction",
            2 => "One-stop results and petitions",
            3 => "IT in administration",
            4 => "Civil servants' conduct",
            _ => "Other tasks",
        }
    }
}

/// Which side of a level is a breach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// Below the level is a breach (on-time rate, 766 total).
    Below,
    /// Above the level is a breach (late dossiers without an apology, age).
    Above,
}

/// The levels at which a value becomes a breach of each severity.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Levels {
    pub bound: Bound,
    pub info: Option<f64>,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
}

impl Levels {
    fn beyond(&self, v: f64, level: f64) -> bool {
        match self.bound {
            Bound::Below => v < level,
            Bound::Above => v > level,
        }
    }

    /// The most severe level the value crosses.
    pub fn breach(&self, v: f64) -> Option<Severity> {
        [
            (self.critical, Severity::Critical),
            (self.warning, Severity::Warning),
            (self.info, Severity::Info),
        ]
        .into_iter()
        .find_map(|(level, s)| level.filter(|l| self.beyond(v, *l)).map(|_| s))
    }

    /// The mildest level: where a breach begins.
    pub fn mildest(&self) -> f64 {
        let levels = [self.info, self.warning, self.critical]
            .into_iter()
            .flatten();
        match self.bound {
            Bound::Below => levels.fold(f64::NEG_INFINITY, f64::max),
            Bound::Above => levels.fold(f64::INFINITY, f64::min),
        }
    }

    /// Whether the value passes by at least `margin`: only such a pass
    /// counts towards resolving a finding, so a value hovering at the level
    /// does not flap.
    pub fn clear(&self, v: f64, margin: f64) -> bool {
        let m = self.mildest();
        match self.bound {
            Bound::Below => v >= m + margin,
            Bound::Above => v <= m - margin,
        }
    }
}

/// Which earlier period a trend compares with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compare {
    PreviousPeriod,
    LastYear,
}

/// What a rule checks.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Check {
    /// The indicator's ratio against levels.
    Threshold {
        indicator: IndicatorId,
        levels: Levels,
    },
    /// The indicator's numerator (a count of records) against levels.
    Count {
        indicator: IndicatorId,
        levels: Levels,
    },
    /// The fall of the indicator's ratio since an earlier period, in
    /// fractions of 1 (0.05 = 5 percentage points), against levels.
    Trend {
        indicator: IndicatorId,
        compare: Compare,
        levels: Levels,
    },
    /// How far the unit is below its peers' median (peers: the units of the
    /// same kind the rule applies to), against levels; and optionally a
    /// warning for the bottom `bottom` of the peer group.
    PeerOutlier {
        indicator: IndicatorId,
        levels: Levels,
        bottom: Option<usize>,
    },
    /// A source's data age in seconds, against levels. Province-wide: one
    /// finding for the province, not one per unit.
    Staleness { source: String, levels: Levels },
    /// The Decision 766 total (`group: None`) or a group's score, in points:
    /// ours, computed from the records, or (`official`, `source =
    /// "portal"`) the national portal's published score for the period.
    Score766 {
        group: Option<Group>,
        levels: Levels,
        official: bool,
    },
    /// How far our 766 score (the total, `group: None`, or a group's) is
    /// from the portal's published one, in points: a large gap says the
    /// one-stop system does not sync everything to the portal, or one of
    /// the two counts differently.
    PortalGap {
        group: Option<Group>,
        levels: Levels,
    },
}

/// Which units a rule applies to: all of the given kinds (all kinds if
/// none) or the given codes, less the exclusions.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AppliesTo {
    pub kinds: Vec<UnitKind>,
    pub codes: Vec<UnitCode>,
    pub exclude: Vec<UnitCode>,
}

impl AppliesTo {
    pub fn matches(&self, unit: &Unit) -> bool {
        if self.exclude.contains(&unit.code) {
            return false;
        }
        let by_kind = self.kinds.is_empty() && self.codes.is_empty()
            || unit.kind.is_some_and(|k| self.kinds.contains(&k));
        by_kind || self.codes.contains(&unit.code)
    }
}

/// How many evaluations in a row it takes to open and to resolve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Hysteresis {
    pub breaches_to_open: u32,
    pub passes_to_resolve: u32,
    /// A pass counts towards resolution only this far beyond the mildest
    /// level (in the check's units).
    pub resolve_margin: f64,
}

impl Default for Hysteresis {
    fn default() -> Self {
        Self {
            breaches_to_open: 1,
            passes_to_resolve: 1,
            resolve_margin: 0.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    pub id: RuleId,
    pub title_vi: String,
    pub title_en: String,
    pub section: PlanSection,
    pub check: Check,
    pub applies_to: AppliesTo,
    /// Below this denominator the result is "insufficient data" (unknown).
    pub min_sample: u64,
    pub hysteresis: Hysteresis,
    /// What the rule is judged over.
    pub window: Window,
    /// Judged instead, for a unit whose window has fewer than `min_sample`
    /// records.
    pub fallback: Option<Window>,
}

impl Rule {
    /// The source whose data the rule reads; its freshness gates the result.
    pub fn source(&self) -> &str {
        match &self.check {
            Check::Threshold { indicator, .. }
            | Check::Count { indicator, .. }
            | Check::Trend { indicator, .. }
            | Check::PeerOutlier { indicator, .. } => indicator.source(),
            Check::Staleness { source, .. } => source,
            Check::Score766 { official: true, .. } | Check::PortalGap { .. } => "portal",
            Check::Score766 { .. } => "procedures",
        }
    }

    pub fn indicator(&self) -> Option<IndicatorId> {
        match &self.check {
            Check::Threshold { indicator, .. }
            | Check::Count { indicator, .. }
            | Check::Trend { indicator, .. }
            | Check::PeerOutlier { indicator, .. } => Some(*indicator),
            Check::Staleness { .. } | Check::Score766 { .. } | Check::PortalGap { .. } => None,
        }
    }

    /// Whether the rule has one finding for the whole province rather than
    /// one per unit.
    pub fn is_province_wide(&self) -> bool {
        matches!(self.check, Check::Staleness { .. })
    }

    pub fn kind(&self) -> &'static str {
        match self.check {
            Check::Threshold { .. } => "threshold",
            Check::Count { .. } => "count",
            Check::Trend { .. } => "trend",
            Check::PeerOutlier { .. } => "peer_outlier",
            Check::Staleness { .. } => "staleness",
            Check::Score766 { .. } => "score766",
            Check::PortalGap { .. } => "portal_gap",
        }
    }

    pub fn levels(&self) -> &Levels {
        match &self.check {
            Check::Threshold { levels, .. }
            | Check::Count { levels, .. }
            | Check::Trend { levels, .. }
            | Check::PeerOutlier { levels, .. }
            | Check::Staleness { levels, .. }
            | Check::Score766 { levels, .. }
            | Check::PortalGap { levels, .. } => levels,
        }
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
        parse::parse(text, file)
    }
}

/// Parses a duration like `30m` or `2h` (for staleness levels).
fn duration_secs(text: &str) -> Result<f64, String> {
    humantime::parse_duration(text)
        .map(|d: Duration| d.as_secs_f64())
        .map_err(|e| format!("`{text}` is not a duration like 30m or 2h: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(bound: Bound, w: Option<f64>, c: Option<f64>) -> Levels {
        Levels {
            bound,
            info: None,
            warning: w,
            critical: c,
        }
    }

    #[test]
    fn levels_pick_the_most_severe_crossed_and_clear_only_beyond_the_margin() {
        let below = levels(Bound::Below, Some(0.95), Some(0.90));
        assert_eq!(below.breach(0.96), None);
        assert_eq!(below.breach(0.95), None, "at the level is not below it");
        assert_eq!(below.breach(0.94), Some(Severity::Warning));
        assert_eq!(below.breach(0.89), Some(Severity::Critical));
        assert!(below.clear(0.96, 0.01));
        assert!(!below.clear(0.955, 0.01), "inside the margin");
        let above = levels(Bound::Above, Some(0.0), Some(5.0));
        assert_eq!(above.breach(0.0), None);
        assert_eq!(above.breach(1.0), Some(Severity::Warning));
        assert_eq!(above.breach(6.0), Some(Severity::Critical));
        assert!(above.clear(0.0, 0.0));
    }

    #[test]
    fn applies_to_matches_kinds_codes_and_exclusions() {
        let unit = |code: &str, kind| Unit {
            code: UnitCode::parse(code).unwrap(),
            name: String::new(),
            kind,
            parent: None,
            head_email: None,
        };
        let all = AppliesTo::default();
        assert!(all.matches(&unit("H44.07", Some(UnitKind::SoNganh))));
        let communes = AppliesTo {
            kinds: vec![UnitKind::Xa],
            codes: vec![UnitCode::parse("H44.07").unwrap()],
            exclude: vec![UnitCode::parse("H44.101").unwrap()],
        };
        assert!(communes.matches(&unit("H44.100", Some(UnitKind::Xa))));
        assert!(
            communes.matches(&unit("H44.07", Some(UnitKind::SoNganh))),
            "listed by code"
        );
        assert!(!communes.matches(&unit("H44.12", Some(UnitKind::SoNganh))));
        assert!(
            !communes.matches(&unit("H44.101", Some(UnitKind::Xa))),
            "excluded"
        );
    }

    #[test]
    fn the_shipped_rules_file_parses() {
        let set = RuleSet::parse(include_str!("../../config/rules.toml"), "config/rules.toml")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            set.rules
                .iter()
                .any(|r| r.id.as_str() == "on-time-resolution")
        );
        for kind in [
            "threshold",
            "count",
            "trend",
            "peer_outlier",
            "staleness",
            "score766",
        ] {
            assert!(
                set.rules.iter().any(|r| r.kind() == kind),
                "a default {kind} rule"
            );
        }
    }
}
