//! `[rules]`: the rules file, and how often unchanged inputs are judged
//! again.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesSettings {
    pub file: PathBuf,
    /// A poll wakes the evaluation, which judges again only when something
    /// it judges may have moved (records stored, a source's freshness, the
    /// units or portal scores, a reload, a silence ending, a new day), and
    /// otherwise at least this often, for what moves with the clock alone.
    #[serde(with = "humantime_serde")]
    pub max_evaluation_interval: Duration,
}

impl Default for RulesSettings {
    fn default() -> Self {
        Self {
            file: PathBuf::from("config/rules.toml"),
            max_evaluation_interval: Duration::from_secs(30 * 60),
        }
    }
}

impl RulesSettings {
    /// Problems with `[rules]`, as `(key, message)`.
    pub(super) fn check(&self) -> Vec<(String, String)> {
        if self.max_evaluation_interval < Duration::from_secs(60) {
            vec![(
                "rules.max_evaluation_interval".into(),
                "must be at least \"1m\"".into(),
            )]
        } else {
            Vec::new()
        }
    }
}
