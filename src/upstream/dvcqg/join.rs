//! Joining the six endpoints' answers for one period into one score per
//! unit: units are matched across endpoints by `departmentId`, and to a
//! unit code by the `departmentCode` the tree endpoints give.

use std::collections::{BTreeMap, HashMap};

use super::protocol::{ENDPOINTS, EvalEndpoint, EvalPeriod, Shape};
use super::read::label;
use super::{Answer, Figure, Problem, Rejected, reject};
use crate::domain::{PortalDetails, PortalScore, UnitCode};

/// Per unit code: its groups and details, `None` once the unit is withheld.
type Joined = BTreeMap<String, Option<(BTreeMap<String, Option<f64>>, PortalDetails)>>;

/// What the tree endpoints say of the province, and each unit's code.
#[derive(Default)]
struct Tree {
    /// departmentId → (code, name).
    codes: HashMap<String, (String, Option<String>)>,
    province_code: Option<String>,
    province_id: Option<String>,
    /// The province's official total (`parent.totalScore`).
    province_total: Option<f64>,
}

impl Tree {
    fn of(answers: &[(&'static EvalEndpoint, Answer)]) -> Tree {
        let mut tree = Tree::default();
        for (e, a) in answers {
            if e.shape == Shape::Tree {
                if tree.province_code.is_none() {
                    tree.province_code = a.province.code.clone();
                    tree.province_id = a.province.id.clone();
                }
                tree.province_total = tree.province_total.or(a.province_total);
                for u in &a.units {
                    if let (Some(id), Some(code)) = (&u.id, &u.code) {
                        tree.codes
                            .entry(id.clone())
                            .or_insert((code.clone(), u.name.clone()));
                    }
                }
            }
        }
        tree
    }
}

/// Joins the six endpoints' answers for one period into one score per
/// unit: by `departmentId` across endpoints, to a unit code by the tree
/// endpoints' `departmentCode`.
pub(super) fn join(
    period: EvalPeriod,
    answers: &[(&'static EvalEndpoint, Answer)],
    rejects: &mut Vec<Rejected>,
) -> Vec<PortalScore> {
    let tree = Tree::of(answers);
    let Some(province) = tree.province_code.clone() else {
        rejects.push(reject(
            answers[0].0.name,
            period,
            Problem {
                unit: Some("(province)".into()),
                field: "data.parent.departmentCode".into(),
                problem: "no tree endpoint gives the province's code".into(),
                raw: String::new(),
            },
        ));
        return Vec::new();
    };
    let mut units: Joined = BTreeMap::new();
    for (e, a) in answers {
        let p = Figure {
            id: tree.province_id.clone(),
            code: None,
            name: a.province.name.clone(),
            score: a.province.score,
            indicators: a.province.indicators.clone(),
            warnings: a.province.warnings.clone(),
        };
        add(&mut units, &province, e, &p);
        for u in &a.units {
            if let Some(code) = unit_code(e, period, u, &tree, &mut units, rejects) {
                add(&mut units, &code, e, u);
            }
        }
    }
    scores(period, units, &province, tree.province_total)
}

/// The unit code a figure is for: its own, or the one a tree endpoint
/// gives its `departmentId`. A figure without one is rejected; one whose
/// code is not an agency code is rejected and its unit withheld.
fn unit_code(
    e: &EvalEndpoint,
    period: EvalPeriod,
    u: &Figure,
    tree: &Tree,
    units: &mut Joined,
    rejects: &mut Vec<Rejected>,
) -> Option<String> {
    let code = match (&u.code, u.id.as_ref().and_then(|id| tree.codes.get(id))) {
        (Some(c), _) => c.clone(),
        (None, Some((c, _))) => c.clone(),
        (None, None) => {
            rejects.push(reject(
                e.name,
                period,
                Problem {
                    unit: Some(label(None, u.id.as_deref(), u.name.as_deref())),
                    field: "departmentCode".into(),
                    problem: "no code: no tree endpoint gives this departmentId a departmentCode"
                        .into(),
                    raw: String::new(),
                },
            ));
            return None;
        }
    };
    if UnitCode::parse(&code).is_err() {
        rejects.push(reject(
            e.name,
            period,
            Problem {
                unit: Some(code.clone()),
                field: "departmentCode".into(),
                problem: format!("`{code}` is not an electronic agency code"),
                raw: String::new(),
            },
        ));
        units.insert(code, None);
        return None;
    }
    Some(code)
}

/// Adds one endpoint's figure to its unit's groups and details, unless the
/// unit is withheld.
fn add(units: &mut Joined, code: &str, e: &EvalEndpoint, f: &Figure) {
    let entry = units.entry(code.to_owned()).or_insert_with(|| {
        Some((
            ENDPOINTS
                .iter()
                .map(|x| (x.group.to_owned(), None))
                .collect(),
            PortalDetails::default(),
        ))
    });
    if let Some((groups, details)) = entry {
        groups.insert(e.group.to_owned(), f.score);
        details.unit_name = details.unit_name.take().or_else(|| f.name.clone());
        details.department_id = details.department_id.take().or_else(|| f.id.clone());
        details
            .indicators
            .extend(f.indicators.iter().map(|(k, v)| (k.clone(), *v)));
        details.warnings.extend(f.warnings.iter().cloned());
    }
}

/// Each unit's score: its groups summed (the province's official total
/// where the portal gives one); withheld units have none.
fn scores(
    period: EvalPeriod,
    units: Joined,
    province: &str,
    province_total: Option<f64>,
) -> Vec<PortalScore> {
    units
        .into_iter()
        .filter_map(|(code, v)| {
            let (groups, details) = v?;
            let unit_code = UnitCode::parse(&code).ok()?;
            let scored: Vec<f64> = groups.values().flatten().copied().collect();
            let sum =
                (!scored.is_empty()).then(|| (scored.iter().sum::<f64>() * 100.0).round() / 100.0);
            let total = if code == province {
                province_total.or(sum)
            } else {
                sum
            };
            Some(PortalScore {
                unit_code,
                period: period.key(),
                total,
                groups,
                updated_at: None,
                details,
            })
        })
        .collect()
}
