//! `[rules]`: the rules file.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesSettings {
    pub file: PathBuf,
}

impl Default for RulesSettings {
    fn default() -> Self {
        Self {
            file: PathBuf::from("config/rules.toml"),
        }
    }
}
