//! `[indicators]`: the holiday calendar, statutory time limits, the
//! evidence sample and the Decision 766 bands.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndicatorSettings {
    /// Holiday calendar for working-day deadlines.
    pub holidays_file: PathBuf,
    /// Statutory time limit in working days per procedure code (MaTTHC), used
    /// when a dossier has no promised return date (NgayHenTra).
    pub statutory_days: BTreeMap<String, u32>,
    /// Fallback for procedures not in `statutory_days`; without it such a
    /// dossier's deadline is unknown and it never counts as on time.
    pub default_statutory_days: Option<u32>,
    /// How many record ids a finding keeps as evidence.
    pub evidence_sample: usize,
    /// Cut-offs of the Decision 766 bands that domain.md leaves to the
    /// province (excellent >= 90 and good >= 80 are fixed).
    pub bands: crate::score766::Bands,
}

impl Default for IndicatorSettings {
    fn default() -> Self {
        Self {
            holidays_file: PathBuf::from("config/holidays.toml"),
            statutory_days: BTreeMap::new(),
            default_statutory_days: None,
            evidence_sample: 20,
            bands: crate::score766::Bands::default(),
        }
    }
}
