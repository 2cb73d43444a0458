//! The counts file of `par-monitor score766 --counts FILE.json` and the reports made from it.
//!
//! Input: `{"units":[{"code":"H44.07","name":"Sở Tư pháp","counts":{"ON_TIME":[95,100]},
//! "ONLINE_SERVICES":8.83}]}`. Output: the same units with every indicator, group, total and band,
//! as JSON ([`to_json`]) or as a table for people ([`to_text`]).

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use super::{Count, Group, IndicatorCode, Score766, UnitCounts};

/// One unit read from a counts file.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitInput {
    /// The unit's electronic agency code, e.g. `H44.07`.
    pub code: String,
    /// The unit's name.
    pub name: String,
    /// Its counts and the portal's `ONLINE_SERVICES` score.
    pub counts: UnitCounts,
}

/// A counts file that cannot be scored. Every error past the JSON syntax names the unit, and every
/// error about a value names the indicator.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CountsError {
    /// Not JSON, or not the expected shape (a missing `code`, an unknown key, ...).
    #[error("counts file is malformed at line {line}, column {column}: {message}")]
    Malformed {
        /// The line of the problem, from 1.
        line: usize,
        /// The column of the problem, from 1.
        column: usize,
        /// What was wrong there.
        message: String,
    },
    /// Two entries for the same unit, where one would silently replace the other.
    #[error("unit {unit}: listed more than once")]
    DuplicateUnit {
        /// The unit's code.
        unit: String,
    },
    /// A key in `counts` that is not an indicator code.
    #[error("unit {unit}: unknown indicator code {code:?}")]
    UnknownCode {
        /// The unit's code.
        unit: String,
        /// The key as written.
        code: String,
    },
    /// `ONLINE_SERVICES` given as a count; it is a score and belongs beside `counts`.
    #[error(
        "unit {unit}: ONLINE_SERVICES is the portal's score, not a count: give it as \"ONLINE_SERVICES\": 8.83 beside \"counts\""
    )]
    OnlineServicesAsCount {
        /// The unit's code.
        unit: String,
    },
    /// A count that is not a `[numerator, denominator]` pair, e.g. a missing denominator.
    #[error("unit {unit}, {code}: expected [numerator, denominator], found {found}")]
    NotAPair {
        /// The unit's code.
        unit: String,
        /// The indicator.
        code: IndicatorCode,
        /// The value as written.
        found: String,
    },
    /// A numerator or denominator that is not a number.
    #[error("unit {unit}, {code}: count {found} is not a number")]
    NotANumber {
        /// The unit's code.
        unit: String,
        /// The indicator.
        code: IndicatorCode,
        /// The value as written.
        found: String,
    },
    /// A negative numerator or denominator.
    #[error("unit {unit}, {code}: count {found} is negative")]
    NegativeCount {
        /// The unit's code.
        unit: String,
        /// The indicator.
        code: IndicatorCode,
        /// The value as written.
        found: String,
    },
    /// A numerator or denominator with a fractional part.
    #[error("unit {unit}, {code}: count {found} is not a whole number")]
    FractionalCount {
        /// The unit's code.
        unit: String,
        /// The indicator.
        code: IndicatorCode,
        /// The value as written.
        found: String,
    },
    /// A count too large to be held exactly.
    #[error("unit {unit}, {code}: count {found} is too large")]
    CountTooLarge {
        /// The unit's code.
        unit: String,
        /// The indicator.
        code: IndicatorCode,
        /// The value as written.
        found: String,
    },
    /// `ONLINE_SERVICES` that is not a number.
    #[error("unit {unit}, ONLINE_SERVICES: expected a number from 0 to 12, found {found}")]
    OnlineServicesNotANumber {
        /// The unit's code.
        unit: String,
        /// The value as written.
        found: String,
    },
    /// `ONLINE_SERVICES` outside the group's 0 to 12 points.
    #[error("unit {unit}, ONLINE_SERVICES: {value} is outside 0 to 12")]
    OnlineServicesOutOfRange {
        /// The unit's code.
        unit: String,
        /// The value given.
        value: f64,
    },
}

impl CountsError {
    fn malformed(error: &serde_json::Error) -> Self {
        let (line, column) = (error.line(), error.column());
        // serde_json appends the position to its message; it is kept in fields of its own instead.
        let text = error.to_string();
        let position = format!(" at line {line} column {column}");
        let message = text.strip_suffix(&position).unwrap_or(&text).to_owned();
        CountsError::Malformed {
            line,
            column,
            message,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CountsFile {
    units: Vec<UnitEntry>,
}

/// A unit as written. Counts stay raw JSON here so that a bad one can be reported with its unit and
/// indicator, which serde's own errors cannot name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitEntry {
    code: String,
    name: String,
    #[serde(default)]
    counts: BTreeMap<String, Value>,
    #[serde(rename = "ONLINE_SERVICES", default)]
    online_services: Option<Value>,
}

/// Reads a counts file:
/// `{"units":[{"code":"H44.07","name":"Sở Tư pháp","counts":{"ON_TIME":[95,100]},"ONLINE_SERVICES":8.83}]}`.
///
/// Each count is `[numerator, denominator]` of whole, non-negative numbers; a numerator above its
/// denominator is accepted (results issued now for dossiers received earlier), and a whole number
/// written as a decimal (`95.0`, as spreadsheet exports write it) is read as that number. `counts`
/// may be left out, and `ONLINE_SERVICES` left out or `null`, for a unit with nothing to report.
///
/// # Errors
///
/// The first problem found, as a [`CountsError`] that names the unit and the indicator; the file is
/// read whole or not at all.
pub fn parse_counts_file(json: &str) -> Result<Vec<UnitInput>, CountsError> {
    let file: CountsFile =
        serde_json::from_str(json).map_err(|error| CountsError::malformed(&error))?;
    let mut seen = HashSet::new();
    let mut units = Vec::with_capacity(file.units.len());
    for entry in file.units {
        if !seen.insert(entry.code.clone()) {
            return Err(CountsError::DuplicateUnit { unit: entry.code });
        }
        units.push(entry.into_unit_input()?);
    }
    Ok(units)
}

impl UnitEntry {
    fn into_unit_input(self) -> Result<UnitInput, CountsError> {
        let unit = self.code;
        let mut counts = BTreeMap::new();
        for (key, value) in &self.counts {
            let code = parse_code(&unit, key)?;
            counts.insert(code, parse_pair(&unit, code, value)?);
        }
        let online_services = self
            .online_services
            .map(|value| parse_online_services(&unit, &value))
            .transpose()?;
        Ok(UnitInput {
            code: unit,
            name: self.name,
            counts: UnitCounts {
                counts,
                online_services,
            },
        })
    }
}

fn parse_code(unit: &str, key: &str) -> Result<IndicatorCode, CountsError> {
    if key == Group::OnlineServices.code() {
        return Err(CountsError::OnlineServicesAsCount {
            unit: unit.to_owned(),
        });
    }
    key.parse().map_err(|_| CountsError::UnknownCode {
        unit: unit.to_owned(),
        code: key.to_owned(),
    })
}

fn parse_pair(unit: &str, code: IndicatorCode, value: &Value) -> Result<Count, CountsError> {
    let Some([numerator, denominator]) = value.as_array().map(Vec::as_slice) else {
        return Err(CountsError::NotAPair {
            unit: unit.to_owned(),
            code,
            found: value.to_string(),
        });
    };
    Ok(Count {
        numerator: parse_count(unit, code, numerator)?,
        denominator: parse_count(unit, code, denominator)?,
    })
}

fn parse_count(unit: &str, code: IndicatorCode, value: &Value) -> Result<u64, CountsError> {
    whole_count(value).map_err(|problem| {
        let (unit, found) = (unit.to_owned(), value.to_string());
        match problem {
            CountProblem::NotANumber => CountsError::NotANumber { unit, code, found },
            CountProblem::Negative => CountsError::NegativeCount { unit, code, found },
            CountProblem::Fractional => CountsError::FractionalCount { unit, code, found },
            CountProblem::TooLarge => CountsError::CountTooLarge { unit, code, found },
        }
    })
}

/// Why a JSON value is not a count, before the unit and indicator are attached.
enum CountProblem {
    NotANumber,
    Negative,
    Fractional,
    TooLarge,
}

fn whole_count(value: &Value) -> Result<u64, CountProblem> {
    // The largest whole number an f64 holds exactly; a decimal-written count above it is not exact.
    const EXACT_F64_LIMIT: f64 = 9_007_199_254_740_992.0;
    let number = value.as_number().ok_or(CountProblem::NotANumber)?;
    if let Some(count) = number.as_u64() {
        return Ok(count);
    }
    if number.is_i64() {
        return Err(CountProblem::Negative);
    }
    // What remains was written with a decimal point or an exponent, or is beyond u64; serde_json
    // holds all of those as an f64.
    let decimal = number.as_f64().ok_or(CountProblem::NotANumber)?;
    if decimal < 0.0 {
        Err(CountProblem::Negative)
    } else if decimal.fract() != 0.0 {
        Err(CountProblem::Fractional)
    } else if decimal > EXACT_F64_LIMIT {
        Err(CountProblem::TooLarge)
    } else {
        Ok(decimal as u64)
    }
}

fn parse_online_services(unit: &str, value: &Value) -> Result<f64, CountsError> {
    let Some(points) = value.as_f64() else {
        return Err(CountsError::OnlineServicesNotANumber {
            unit: unit.to_owned(),
            found: value.to_string(),
        });
    };
    if !(0.0..=Group::OnlineServices.max_points()).contains(&points) {
        return Err(CountsError::OnlineServicesOutOfRange {
            unit: unit.to_owned(),
            value: points,
        });
    }
    Ok(points)
}

/// One unit of the JSON report.
#[derive(Serialize)]
struct UnitReport<'a> {
    code: &'a str,
    name: &'a str,
    #[serde(flatten)]
    score: &'a Score766,
}

/// The JSON report: `{"units":[{"code","name","indicators","groups","total","attainable",
/// "missing","band"}]}`, with every indicator and group present and `null` where there is no
/// score; `total` sums the scored groups (`null` if none), out of `attainable` points, and `band`
/// is `null` unless every group is scored.
pub fn to_json(results: &[(UnitInput, Score766)]) -> Value {
    let units: Vec<UnitReport<'_>> = results
        .iter()
        .map(|(unit, score)| UnitReport {
            code: &unit.code,
            name: &unit.name,
            score,
        })
        .collect();
    serde_json::json!({ "units": units })
}

/// The report as a plain-text table per unit, with Vietnamese names.
pub fn to_text(results: &[(UnitInput, Score766)]) -> String {
    results
        .iter()
        .map(|(unit, score)| unit_table(unit, score))
        .collect::<Vec<_>>()
        .join("\n")
}

fn unit_table(unit: &UnitInput, score: &Score766) -> String {
    let mut rows = vec![(
        "Nhóm, chỉ số".to_owned(),
        "Điểm".to_owned(),
        "Tối đa".to_owned(),
    )];
    for group in Group::ALL {
        rows.push((
            group.name_vi().to_owned(),
            format_score(score.groups.get(&group).copied().flatten()),
            format_points(group.max_points()),
        ));
        for code in group.indicators() {
            rows.push((
                format!("  {}", code.name_vi()),
                format_score(score.indicators.get(&code).copied().flatten()),
                format_points(code.max_points()),
            ));
        }
    }
    // A partial total is out of the points its scored groups could earn.
    rows.push((
        "Tổng điểm".to_owned(),
        format_score(score.total),
        format_points(score.attainable),
    ));
    // Rust pads by characters, and the names are precomposed (NFC), so columns line up.
    let width = rows
        .iter()
        .map(|(label, _, _)| label.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines = vec![format!("{} — {}", unit.code, unit.name)];
    lines.extend(
        rows.iter()
            .map(|(label, score, max)| format!("{label:<width$}  {score:>6}  {max:>6}")),
    );
    lines.push(match score.band {
        Some(band) => format!("Xếp loại: {}", band.name_vi()),
        None if score.total.is_none() => "Xếp loại: không xếp loại (chưa có dữ liệu)".to_owned(),
        None => format!(
            "Xếp loại: không xếp loại (thiếu {} nhóm: {})",
            score.missing.len(),
            score
                .missing
                .iter()
                .map(|g| g.name_vi())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    });
    lines.join("\n") + "\n"
}

fn format_score(score: Option<f64>) -> String {
    score.map_or_else(|| "n/a".to_owned(), format_points)
}

/// Two decimals. Scores are the `f64` nearest their two-decimal value, so this prints that value.
fn format_points(points: f64) -> String {
    format!("{points:.2}")
}

#[cfg(test)]
mod tests;
