//! What several commands print alike: text or JSON, a finding in one line,
//! the judged value of its evidence, the units' names.

use clap::ValueEnum;

use crate::storage::FindingRecord;
use crate::time::format_local;

/// How a command prints what it found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn print_json<T: serde::Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// The units' names by code, for lines that show both.
pub struct UnitNames(Vec<crate::domain::Unit>);

impl UnitNames {
    pub fn new(units: Vec<crate::domain::Unit>) -> UnitNames {
        UnitNames(units)
    }

    /// The unit's name, or nothing for a code not in the directory.
    pub fn of(&self, code: &str) -> String {
        self.0
            .iter()
            .find(|u| u.code.as_str() == code)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }
}

/// A finding in one line, as `check` and `findings list` show it.
pub fn finding_line(f: &FindingRecord, unit_name: &str) -> String {
    let e = &f.last_detail;
    let period = serde_json::from_value::<crate::findings::Evidence>(e.clone())
        .map(|e| crate::notify::compose::period_text(&e, crate::domain::Language::Vi))
        .unwrap_or_else(|_| e["period"].as_str().unwrap_or("?").to_owned());
    format!(
        "#{:<4} {:<12} {:<12} {:<14} {} {}  {}: {}, kỳ {period}, mở lúc {}",
        f.id,
        f.severity.name_vi(),
        f.state.name_vi(),
        f.last_result.name_vi(),
        f.unit_code,
        unit_name,
        f.rule_id,
        evidence_value(e),
        format_local(f.opened_at),
    )
}

/// The judged value with its parts, e.g. `80,0% (80/100)`.
pub fn evidence_value(v: &serde_json::Value) -> String {
    match serde_json::from_value::<crate::findings::Evidence>(v.clone()) {
        Ok(e) => {
            let parts = match (e.numerator, e.denominator) {
                (Some(n), Some(d)) => format!(" ({n}/{d})"),
                _ => String::new(),
            };
            format!("{}{parts}", crate::notify::compose::value_text_vi(&e))
        }
        // Evidence written by an older version: shown as stored.
        Err(_) => v.to_string(),
    }
}
