//! Reading the evaluation API's entries field by field: a field that is
//! `null` or absent is no value; one of the wrong type, or a figure that
//! cannot be true, is a problem named by its field.

use serde_json::Value;

use super::{EXCERPT, ROUNDING, clip};

pub(super) fn excerpt(v: &Value) -> String {
    let mut s = v.to_string();
    clip(&mut s, EXCERPT);
    s
}

/// How a message names an entry's unit: by its code, else its id and name.
pub(super) fn unit_label(item: &Value) -> String {
    let s = |k: &str| item.get(k).and_then(Value::as_str);
    label(s("departmentCode"), s("departmentId"), s("departmentName"))
}

/// How a message names a unit: by its code, else its id and name.
pub(super) fn label(code: Option<&str>, id: Option<&str>, name: Option<&str>) -> String {
    match (code, id, name) {
        (Some(c), _, _) => c.to_owned(),
        (None, Some(id), Some(n)) => format!("{id} ({n})"),
        (None, Some(id), None) => id.to_owned(),
        (None, None, Some(n)) => n.to_owned(),
        _ => "(unnamed unit)".into(),
    }
}

/// A number that may be `null` or absent (no score); anything else is a
/// problem named by its field.
pub(super) fn number(v: &Value, field: &str) -> Result<Option<f64>, (String, String)> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_f64()
            .map(Some)
            .ok_or_else(|| (field.to_owned(), format!("expected a number, found {x}"))),
    }
}

pub(super) fn text(v: &Value, field: &str) -> Result<Option<String>, (String, String)> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(
            crate::domain::quality::clean_text(s).trim().to_owned(),
        )),
        Some(x) => Err((field.to_owned(), format!("expected text, found {x}"))),
    }
}

/// An entry's `totalScore` out of `totalMaxScore` (100 when absent).
pub(super) fn official_total(v: &Value) -> Result<Option<f64>, (String, String)> {
    let total = number(v, "totalScore")?;
    let total_max = number(v, "totalMaxScore")?.unwrap_or(100.0);
    match total {
        Some(t) if t < 0.0 || t > total_max + ROUNDING => Err((
            "totalScore".into(),
            format!("total {t} outside 0 to {total_max}"),
        )),
        _ => Ok(total),
    }
}

/// An entry's `metrics[]` (none when absent).
pub(super) fn metrics(v: &Value) -> Result<&[Value], (String, String)> {
    match v.get("metrics") {
        None => Ok(&[]),
        Some(m) => m
            .as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| ("metrics".into(), "expected a list".into())),
    }
}

/// The code and score of `metrics[i]`; problems name `metrics[i].field`.
pub(super) fn metric(i: usize, m: &Value) -> Result<(String, Option<f64>), (String, String)> {
    let at = |(field, p): (String, String)| (format!("metrics[{i}].{field}"), p);
    let code = text(m, "code")
        .map_err(at)?
        .ok_or_else(|| (format!("metrics[{i}].code"), "missing".into()))?;
    Ok((code, number(m, "score").map_err(at)?))
}
