//! What a reload may change. [`Reloadable`] is the list: a reload takes
//! these settings from the new file and keeps every other one as at
//! start-up, and [`Settings::changes_needing_restart`] reports the sections
//! where the new file differs otherwise. A setting added here is live; one
//! not here needs a restart, with nothing else to keep in step.

use serde::Serialize;

use super::{
    GroupingSettings, IndicatorSettings, MetricsSettings, Route, RulesSettings, Settings,
    UnitSettings,
};
use crate::domain::{Language, Recipient};

/// The settings a reload applies.
#[derive(Clone, Debug)]
pub struct Reloadable {
    pub rules: RulesSettings,
    pub indicators: IndicatorSettings,
    pub metrics: MetricsSettings,
    pub units: Vec<UnitSettings>,
    pub email: ReloadableEmail,
}

/// Who is told of what, and when: the part of `[email]` a reload applies
/// (the transport, sender and SMTP settings need a restart).
#[derive(Clone, Debug)]
pub struct ReloadableEmail {
    pub inspection_team: Vec<Recipient>,
    pub unit_head_language: Language,
    pub routes: Vec<Route>,
    pub grouping: GroupingSettings,
    pub evidence_url: Option<String>,
}

impl Settings {
    /// This configuration's reloadable part.
    pub fn reloadable(&self) -> Reloadable {
        let e = &self.email;
        Reloadable {
            rules: self.rules.clone(),
            indicators: self.indicators.clone(),
            metrics: self.metrics.clone(),
            units: self.units.clone(),
            email: ReloadableEmail {
                inspection_team: e.inspection_team.clone(),
                unit_head_language: e.unit_head_language,
                routes: e.routes.clone(),
                grouping: e.grouping.clone(),
                evidence_url: e.evidence_url.clone(),
            },
        }
    }

    /// This configuration with `r` in place of its reloadable part.
    pub fn with_reloadable(mut self, r: Reloadable) -> Settings {
        // Destructured whole, so that a field added to `Reloadable` cannot
        // be forgotten here.
        let Reloadable {
            rules,
            indicators,
            metrics,
            units,
            email,
        } = r;
        let ReloadableEmail {
            inspection_team,
            unit_head_language,
            routes,
            grouping,
            evidence_url,
        } = email;
        self.rules = rules;
        self.indicators = indicators;
        self.metrics = metrics;
        self.units = units;
        self.email.inspection_team = inspection_team;
        self.email.unit_head_language = unit_head_language;
        self.email.routes = routes;
        self.email.grouping = grouping;
        self.email.evidence_url = evidence_url;
        self
    }

    /// The sections (top-level keys, e.g. `database`) where `new` differs
    /// from `self` in a setting that is not [`Reloadable`]: only a restart
    /// applies them. Secrets compare as redacted, so a changed password is
    /// not reported here; it too needs a restart.
    pub fn changes_needing_restart(&self, new: &Settings) -> Vec<String> {
        let fixed = new.clone().with_reloadable(self.reloadable());
        let (before, after) = (sections(self), sections(&fixed));
        let mut out: Vec<String> = before
            .iter()
            .filter(|(k, v)| after.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .collect();
        out.extend(after.keys().filter(|k| !before.contains_key(*k)).cloned());
        out.sort();
        out
    }
}

/// The settings as a map of their top-level sections.
fn sections<T: Serialize>(s: &T) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(s) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}
