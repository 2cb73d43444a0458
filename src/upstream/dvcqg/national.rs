//! The national picture: the portal's nationwide `service-results` (every
//! province's total and groups for a year) read into where our province
//! stands ([`NationalStanding`]).
//!
//! The ranking is only as good as the whole list: one entry that cannot be
//! read makes the answer unusable (a rank computed without a province
//! could be better than the truth), and the stored standing stays as it was.

use std::collections::BTreeMap;

use serde_json::Value;

use super::protocol::ENDPOINTS;
use super::read::{excerpt, metric, metrics, official_total, text, unit_label};
use super::{Problem, ROUNDING, answered_ok};
use crate::domain::{NationalStanding, Rank};

/// One province's line of the nationwide answer.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Province {
    pub id: Option<String>,
    pub code: Option<String>,
    pub name: Option<String>,
    pub total: Option<f64>,
    /// By group code; a group the entry does not give is absent.
    pub groups: BTreeMap<String, Option<f64>>,
}

fn problem(unit: Option<String>, field: String, problem: String, raw: &Value) -> Problem {
    Problem {
        unit,
        field,
        problem,
        raw: excerpt(raw),
    }
}

/// Reads the answer's envelope and every province in it.
pub(super) fn read(v: &Value) -> Result<Vec<Province>, Problem> {
    answered_ok(v)?;
    let Some(list) = v["data"].get("evaluation").and_then(Value::as_array) else {
        return Err(problem(
            None,
            "data.evaluation".into(),
            "missing: expected the list of provinces".into(),
            &v["data"],
        ));
    };
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            province(item).map_err(|(field, p)| {
                problem(
                    Some(unit_label(item)),
                    format!("data.evaluation[{i}].{field}"),
                    p,
                    item,
                )
            })
        })
        .collect()
}

fn province(v: &Value) -> Result<Province, (String, String)> {
    let mut p = Province {
        id: text(v, "departmentId")?,
        code: text(v, "departmentCode")?,
        name: text(v, "departmentName")?,
        total: official_total(v)?,
        groups: BTreeMap::new(),
    };
    for (i, m) in metrics(v)?.iter().enumerate() {
        let (code, score) = metric(i, m)?;
        let Some(group) = ENDPOINTS.iter().find(|e| e.group == code) else {
            // A group we do not score (the portal may add one): not ranked.
            continue;
        };
        if let Some(s) = score
            && (s < 0.0 || s > group.max + ROUNDING)
        {
            return Err((
                format!("metrics[{i}].score"),
                format!("score {s} outside 0 to the group's {}", group.max),
            ));
        }
        p.groups.insert(code, score);
    }
    Ok(p)
}

/// Where the province (`root`, its departmentId, or `code`) stands among
/// `all`.
pub(super) fn standing(
    all: &[Province],
    root: &str,
    code: &str,
) -> Result<NationalStanding, Problem> {
    let ours = all
        .iter()
        .find(|p| p.id.as_deref() == Some(root) || p.code.as_deref() == Some(code))
        .ok_or_else(|| Problem {
            unit: Some(code.to_owned()),
            field: "data.evaluation".into(),
            problem: format!(
                "the province (departmentId {root}, code {code}) is not among the {} provinces",
                all.len()
            ),
            raw: String::new(),
        })?;
    let groups = ENDPOINTS
        .iter()
        .filter_map(|e| {
            let of = |p: &Province| p.groups.get(e.group).copied().flatten();
            let rank = Rank::among(of(ours), all.iter().map(of))?;
            Some((e.group.to_owned(), rank))
        })
        .collect();
    Ok(NationalStanding {
        total: Rank::among(ours.total, all.iter().map(|p| p.total)),
        groups,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn answer(entries: Vec<Value>) -> Value {
        json!({"code": "OK", "data": {"evaluation": entries}})
    }

    fn entry(id: &str, code: &str, total: Option<f64>, transparency: Option<f64>) -> Value {
        json!({
            "departmentId": id, "departmentCode": code, "departmentName": format!("Tỉnh {code}"),
            "totalScore": total, "totalMaxScore": 100,
            "metrics": [{"code": "TRANSPARENCY", "score": transparency, "maxScore": 18}],
        })
    }

    #[test]
    fn ranks_by_total_and_group_with_ties_sharing_a_rank() {
        let v = answer(vec![
            entry("a", "H01", Some(90.0), Some(17.0)),
            entry("b", "H02", Some(80.0), Some(12.0)),
            entry("c", "H03", Some(80.0), None),
            entry("d", "H04", None, Some(15.0)),
            entry("ours", "H44", Some(80.0), Some(15.0)),
        ]);
        let s = standing(&read(&v).unwrap(), "ours", "H44").unwrap();
        // Three share 80 behind one 90; the province without a total is not ranked.
        assert_eq!(s.total, Some(Rank { rank: 2, of: 4 }));
        // 17 above; 15 shared with d; 12 below; c unscored.
        assert_eq!(s.groups["TRANSPARENCY"], Rank { rank: 2, of: 4 });
        assert!(!s.groups.contains_key("PROGRESS"), "no group, no rank");
    }

    #[test]
    fn our_province_is_found_by_code_when_the_id_differs_and_has_no_rank_without_a_score() {
        let v = answer(vec![
            entry("a", "H01", Some(70.0), Some(10.0)),
            entry("other-id", "H44", None, None),
        ]);
        let s = standing(&read(&v).unwrap(), "ours", "H44").unwrap();
        assert_eq!(s.total, None);
        assert!(s.groups.is_empty());
    }

    #[test]
    fn unusable_answers_name_the_field() {
        let cases = [
            (
                json!({"code": "ERROR", "data": {}}),
                "code",
                "expected \"OK\"",
            ),
            (
                json!({"code": "OK", "data": {}}),
                "data.evaluation",
                "missing",
            ),
            (
                answer(vec![entry("a", "H01", Some(120.0), None)]),
                "data.evaluation[0].totalScore",
                "outside 0 to 100",
            ),
            (
                answer(vec![entry("a", "H01", Some(70.0), Some(19.0))]),
                "data.evaluation[0].metrics[0].score",
                "outside 0 to the group's 18",
            ),
            (
                answer(vec![json!({"departmentId": "a", "totalScore": "high"})]),
                "data.evaluation[0].totalScore",
                "expected a number",
            ),
        ];
        for (v, field, says) in cases {
            let p = read(&v).expect_err(field);
            assert_eq!(p.field, field);
            assert!(p.problem.contains(says), "{field}: {}", p.problem);
        }
        let v = answer(vec![entry("a", "H01", Some(70.0), None)]);
        let p = standing(&read(&v).unwrap(), "ours", "H44").expect_err("not listed");
        assert!(
            p.problem.contains("not among the 1 provinces"),
            "{}",
            p.problem
        );
    }
}
