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
mod tests {
    use super::*;
    use crate::score766::{Bands, score_unit};
    use serde_json::json;

    use IndicatorCode::*;

    fn counts(entries: &[(IndicatorCode, u64, u64)]) -> UnitCounts {
        UnitCounts {
            counts: entries
                .iter()
                .map(|&(code, numerator, denominator)| (code, Count::new(numerator, denominator)))
                .collect(),
            online_services: None,
        }
    }

    fn unit_error(json_counts: &str) -> CountsError {
        let file = format!(
            r#"{{"units":[{{"code":"H44.07","name":"Sở Tư pháp","counts":{json_counts}}}]}}"#
        );
        parse_counts_file(&file).expect_err("the counts are invalid")
    }

    fn online_services_error(value: &str) -> CountsError {
        let file = format!(
            r#"{{"units":[{{"code":"H44.07","name":"Sở Tư pháp","ONLINE_SERVICES":{value}}}]}}"#
        );
        parse_counts_file(&file).expect_err("the value is invalid")
    }

    #[test]
    fn a_counts_file_is_read_into_units() {
        let file = r#"{"units":[{"code":"H44.07","name":"Sở Tư pháp",
            "counts":{"ON_TIME":[95,100],"PAYMENT_DOSSIERS":[8,10]},"ONLINE_SERVICES":8.83}]}"#;
        let expected = UnitInput {
            code: "H44.07".to_owned(),
            name: "Sở Tư pháp".to_owned(),
            counts: UnitCounts {
                counts: BTreeMap::from([
                    (OnTime, Count::new(95, 100)),
                    (PaymentDossiers, Count::new(8, 10)),
                ]),
                online_services: Some(8.83),
            },
        };
        assert_eq!(parse_counts_file(file), Ok(vec![expected]));
    }

    #[test]
    fn lenient_but_exact_values_are_accepted() {
        let file = r#"{"units":[
            {"code":"H44.07","name":"Sở Tư pháp","counts":{"ORIGINAL_RESULT_AVAILABLE":[120,100],
             "ON_TIME":[95.0,1e2]},"ONLINE_SERVICES":null},
            {"code":"H44.100","name":"UBND xã Hòa Tiến"}]}"#;
        let units = parse_counts_file(file).expect("valid file");
        assert_eq!(
            units[0].counts.counts,
            BTreeMap::from([
                (OriginalResultAvailable, Count::new(120, 100)),
                (OnTime, Count::new(95, 100)),
            ])
        );
        assert_eq!(units[0].counts.online_services, None);
        assert_eq!(units[1].counts, UnitCounts::default());
    }

    #[test]
    fn bad_counts_are_reported_with_the_unit_and_the_indicator() {
        let cases = [
            (r#"{"ON_TIM":[1,2]}"#, "unknown indicator code \"ON_TIM\""),
            (r#"{"ON_TIME":[-1,10]}"#, "ON_TIME: count -1 is negative"),
            (r#"{"ON_TIME":[1,-2.5]}"#, "ON_TIME: count -2.5 is negative"),
            (
                r#"{"ON_TIME":[9.5,10]}"#,
                "ON_TIME: count 9.5 is not a whole number",
            ),
            (
                r#"{"ON_TIME":[95]}"#,
                "ON_TIME: expected [numerator, denominator], found [95]",
            ),
            (
                r#"{"ON_TIME":[1,2,3]}"#,
                "ON_TIME: expected [numerator, denominator], found [1,2,3]",
            ),
            (
                r#"{"ON_TIME":95}"#,
                "ON_TIME: expected [numerator, denominator], found 95",
            ),
            (
                r#"{"DOSSIER_SYNC":["95",100]}"#,
                "DOSSIER_SYNC: count \"95\" is not a number",
            ),
            (
                r#"{"DOSSIER_SYNC":[1e30,1e30]}"#,
                "DOSSIER_SYNC: count 1e+30 is too large",
            ),
            (
                r#"{"ONLINE_SERVICES":[8,12]}"#,
                "ONLINE_SERVICES is the portal's score, not a count",
            ),
        ];
        for (counts, expected) in cases {
            let message = unit_error(counts).to_string();
            assert!(message.starts_with("unit H44.07"), "{message}");
            assert!(message.contains(expected), "{message} lacks {expected}");
        }
    }

    #[test]
    fn bad_counts_carry_the_typed_indicator_code() {
        assert_eq!(
            unit_error(r#"{"PAYMENT_DOSSIERS":[3]}"#),
            CountsError::NotAPair {
                unit: "H44.07".to_owned(),
                code: PaymentDossiers,
                found: "[3]".to_owned(),
            }
        );
    }

    #[test]
    fn a_bad_online_services_score_is_reported_with_the_unit() {
        for (value, expected) in [
            (
                "12.5",
                "unit H44.07, ONLINE_SERVICES: 12.5 is outside 0 to 12",
            ),
            (
                "-0.5",
                "unit H44.07, ONLINE_SERVICES: -0.5 is outside 0 to 12",
            ),
            (
                "\"8.83\"",
                "unit H44.07, ONLINE_SERVICES: expected a number from 0 to 12, found \"8.83\"",
            ),
        ] {
            assert_eq!(online_services_error(value).to_string(), expected);
        }
        assert!(
            parse_counts_file(
                r#"{"units":[{"code":"H44.07","name":"Sở Tư pháp","ONLINE_SERVICES":12}]}"#
            )
            .is_ok()
        );
    }

    #[test]
    fn malformed_json_is_reported_with_its_line_and_column() {
        let file = "{\"units\": [\n  {\"code\": \"H44.07\", \"name\": \"Sở Tư pháp\",}\n]}";
        let error = parse_counts_file(file).expect_err("trailing comma");
        let CountsError::Malformed { line, column, .. } = &error else {
            panic!("expected a malformed-file error, got {error:?}");
        };
        assert_eq!((*line, *column), (2, 47));
        assert!(
            error
                .to_string()
                .starts_with("counts file is malformed at line 2, column 47: ")
        );
        assert!(
            !error.to_string().contains(" at line 2 column 47"),
            "{error}"
        );
    }

    #[test]
    fn a_file_of_the_wrong_shape_is_malformed() {
        for file in [
            r#"{"unit":[]}"#,
            r#"{"units":[{"name":"Sở Tư pháp"}]}"#,
            r#"{"units":[{"code":"H44.07","name":"Sở Tư pháp","online_services":8}]}"#,
        ] {
            assert!(
                matches!(parse_counts_file(file), Err(CountsError::Malformed { .. })),
                "{file}"
            );
        }
    }

    #[test]
    fn a_unit_listed_twice_is_rejected() {
        let file = r#"{"units":[{"code":"H44.07","name":"A"},{"code":"H44.07","name":"B"}]}"#;
        assert_eq!(
            parse_counts_file(file),
            Err(CountsError::DuplicateUnit {
                unit: "H44.07".to_owned()
            })
        );
    }

    #[test]
    fn a_counts_file_round_trips_to_the_json_report() {
        let file = r#"{"units":[
            {"code":"H44.07","name":"Sở Tư pháp",
             "counts":{"ON_TIME":[95,100],"PAYMENT_DOSSIERS":[8,10],"PAYMENT_PROCEDURES":[36,47],
                       "PETITION_PROCESSING_ON_TIME":[0,0],"DOSSIER_RECEIVING_SATISFACTION":[81,100],
                       "ORIGINAL_RESULT_AVAILABLE":[120,100],"PUBLISH_ON_TIME":[0,0]},
             "ONLINE_SERVICES":8.83},
            {"code":"H44.100","name":"UBND xã Hòa Tiến","counts":{"ON_TIME":[0,0]}}]}"#;
        let units = parse_counts_file(file).expect("valid file");
        let results: Vec<(UnitInput, Score766)> = units
            .into_iter()
            .map(|unit| {
                let score = score_unit(&unit.counts, &Bands::default());
                (unit, score)
            })
            .collect();
        let report = to_json(&results);

        // H44.07: ON_TIME 20 × 0.95 = 19; PAYMENT_DOSSIERS 80.00 % -> 6 × 0.8 = 4.8;
        // PAYMENT_PROCEDURES 76.60 % -> 2 × 0.766 / 0.8 = 1.915 -> 1.92; ONLINE_PAYMENT 6.72;
        // PETITION_PROCESSING_ON_TIME no petitions -> 6; DOSSIER_RECEIVING_SATISFACTION
        // 6 × 0.81 / 0.9 = 5.4; SATISFACTION 11.4; ORIGINAL_RESULT_AVAILABLE min(6, 7.2) = 6;
        // PUBLISH_ON_TIME 0/0 -> none, so TRANSPARENCY none.
        // Total 19 + 8.83 + 6.72 + 11.4 + 6 = 51.95 of the 82 points the five
        // scored groups could earn: no band, transparency missing.
        let mut h44_07 = IndicatorCode::ALL
            .map(|code| (code.code().to_owned(), Value::Null))
            .into_iter()
            .collect::<serde_json::Map<_, _>>();
        for (code, score) in [
            ("ON_TIME", 19.0),
            ("PAYMENT_DOSSIERS", 4.8),
            ("PAYMENT_PROCEDURES", 1.92),
            ("PETITION_PROCESSING_ON_TIME", 6.0),
            ("DOSSIER_RECEIVING_SATISFACTION", 5.4),
            ("ORIGINAL_RESULT_AVAILABLE", 6.0),
        ] {
            h44_07.insert(code.to_owned(), json!(score));
        }
        let mut h44_100 = IndicatorCode::ALL
            .map(|code| (code.code().to_owned(), Value::Null))
            .into_iter()
            .collect::<serde_json::Map<_, _>>();
        h44_100.insert("ON_TIME".to_owned(), json!(0.0));

        let expected = json!({"units": [
            {
                "code": "H44.07",
                "name": "Sở Tư pháp",
                "indicators": h44_07,
                "groups": {
                    "TRANSPARENCY": null, "PROGRESS": 19.0, "ONLINE_SERVICES": 8.83,
                    "ONLINE_PAYMENT": 6.72, "SATISFACTION": 11.4, "DIGITIZATION": 6.0
                },
                "total": 51.95,
                "attainable": 82.0,
                "missing": ["TRANSPARENCY"],
                "band": null
            },
            {
                "code": "H44.100",
                "name": "UBND xã Hòa Tiến",
                "indicators": h44_100,
                "groups": {
                    "TRANSPARENCY": null, "PROGRESS": 0.0, "ONLINE_SERVICES": null,
                    "ONLINE_PAYMENT": null, "SATISFACTION": null, "DIGITIZATION": null
                },
                "total": 0.0,
                "attainable": 20.0,
                "missing": ["TRANSPARENCY", "ONLINE_SERVICES", "ONLINE_PAYMENT", "SATISFACTION", "DIGITIZATION"],
                "band": null
            }
        ]});
        assert_eq!(report, expected);

        // The report reads back into the same scores.
        let read_back: Vec<Score766> = report["units"]
            .as_array()
            .expect("a list of units")
            .iter()
            .map(|unit| serde_json::from_value(unit.clone()).expect("a Score766"))
            .collect();
        let scores: Vec<Score766> = results.into_iter().map(|(_, score)| score).collect();
        assert_eq!(read_back, scores);
    }

    #[test]
    fn the_text_report_is_a_table_with_vietnamese_names() {
        let unit = UnitInput {
            code: "H44.07".to_owned(),
            name: "Sở Tư pháp".to_owned(),
            counts: UnitCounts {
                online_services: Some(8.83),
                ..counts(&[(OnTime, 95, 100), (PublishOnTime, 0, 0)])
            },
        };
        let score = score_unit(&unit.counts, &Bands::default());
        let text = to_text(&[(unit, score)]);
        let lines: Vec<&str> = text.lines().collect();

        assert_eq!(lines[0], "H44.07 — Sở Tư pháp");
        assert_eq!(
            lines.last(),
            Some(
                &"Xếp loại: không xếp loại (thiếu 4 nhóm: Công khai, minh bạch; Thanh toán trực tuyến; Mức độ hài lòng; Số hóa hồ sơ)"
            )
        );
        // One header, 6 groups, 18 indicators, the total.
        assert_eq!(lines.len(), 1 + 1 + 6 + 18 + 1 + 1);
        let row = |label: &str| {
            lines
                .iter()
                .find(|line| line.trim_start().starts_with(label))
                .unwrap_or_else(|| panic!("no row {label}"))
                .split_whitespace()
                .rev()
                .take(2)
                .collect::<Vec<_>>()
        };
        assert_eq!(row("Hồ sơ giải quyết đúng hạn"), ["20.00", "19.00"]);
        assert_eq!(row("Công bố TTHC đúng hạn"), ["6.00", "n/a"]);
        assert_eq!(row("Dịch vụ công trực tuyến"), ["12.00", "8.83"]);
        assert_eq!(row("Tổng điểm"), ["32.00", "27.83"]);
        // Every table row has the same width in characters, diacritics and all.
        let widths: HashSet<usize> = lines[1..lines.len() - 1]
            .iter()
            .map(|line| line.chars().count())
            .collect();
        assert_eq!(widths.len(), 1, "{text}");
    }

    #[test]
    fn the_text_report_separates_units_with_a_blank_line() {
        let unit = |code: &str| UnitInput {
            code: code.to_owned(),
            name: "Đơn vị".to_owned(),
            counts: UnitCounts::default(),
        };
        let score = score_unit(&UnitCounts::default(), &Bands::default());
        let text = to_text(&[(unit("H44.07"), score.clone()), (unit("H44.08"), score)]);
        assert!(
            text.contains("Xếp loại: không xếp loại (chưa có dữ liệu)\n\nH44.08 — Đơn vị\n"),
            "{text}"
        );
        assert_eq!(to_text(&[]), "");
    }
}
