//! The national portal's public evaluation API, played from the simulated
//! 766 scores: `POST /api/v1/reporting/evaluation/{endpoint}` answering
//! `201` with `{"code":"OK","data":{…}}` in the two envelopes of
//! [`crate::upstream::dvcqg::protocol`].
//!
//! A month's figures are the simulated month's scores; a quarter's and a
//! year's are the mean of their months' scores (the real portal recomputes
//! them from the period's dossiers, which the simulator does not repeat).

use serde_json::{Value, json};

use super::State;
use super::faults::stable_hash;
use super::store::round2;
use super::units::SimUnit;
use crate::domain::UnitKind;
use crate::upstream::dvcqg::protocol::{ENDPOINTS, EvalEndpoint, EvalPeriod, Shape};

/// The portal's id for a unit: a UUID derived from its code, so that it is
/// the same in every run.
pub(crate) fn department_id(code: &str) -> String {
    let a = stable_hash(code);
    let b = stable_hash(&format!("{code}#portal"));
    format!(
        "0190{:04x}-{:04x}-7{:03x}-8{:03x}-{:012x}",
        (a >> 48) & 0xffff,
        (a >> 32) & 0xffff,
        (a >> 20) & 0xfff,
        (b >> 52) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

/// Each unit's six group scores for the period (in the order of
/// [`ENDPOINTS`]), `None` where the portal has no score.
pub(crate) fn official(state: &State, period: EvalPeriod) -> Vec<(&SimUnit, [Option<f64>; 6])> {
    let months = period.months();
    state
        .units
        .rows()
        .iter()
        .map(|u| {
            let rows: Vec<&[Option<f64>; 6]> = state
                .scores
                .rows()
                .iter()
                .filter(|s| s.unit_code == u.unit.code && months.contains(&s.period))
                .map(|s| &s.groups)
                .collect();
            let mut groups = [None; 6];
            for (g, slot) in groups.iter_mut().enumerate() {
                let scored: Vec<f64> = rows.iter().filter_map(|r| r[g]).collect();
                if !scored.is_empty() {
                    *slot = Some(round2(scored.iter().sum::<f64>() / scored.len() as f64));
                }
            }
            (u, groups)
        })
        .collect()
}

fn total(groups: &[Option<f64>; 6]) -> Option<f64> {
    let scored: Vec<f64> = groups.iter().flatten().copied().collect();
    (!scored.is_empty()).then(|| round2(scored.iter().sum()))
}

fn ratio(score: Option<f64>, max: f64) -> Option<f64> {
    score.map(|s| round2(s / max * 100.0))
}

/// What a request asked for.
pub(crate) struct Ask {
    pub endpoint: &'static EvalEndpoint,
    pub period: EvalPeriod,
    pub page: usize,
    pub size: usize,
}

impl Ask {
    /// Reads a request body; `Err` is the message of a 400 answer.
    pub(crate) fn parse(name: &str, body: &[u8], root: &str) -> Result<Ask, String> {
        let endpoint = ENDPOINTS
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| format!("no evaluation endpoint `{name}`"))?;
        let body: Value =
            serde_json::from_slice(body).map_err(|e| format!("the body must be JSON: {e}"))?;
        match body.get("rootDepartmentId").and_then(Value::as_str) {
            Some(r) if r == root => {}
            Some(r) => return Err(format!("rootDepartmentId `{r}` is not a province here")),
            None => return Err("rootDepartmentId is required".into()),
        }
        let period = EvalPeriod::from_body(endpoint, &body)?;
        let num = |k: &str, default: u64| body.get(k).and_then(Value::as_u64).unwrap_or(default);
        Ok(Ask {
            endpoint,
            period,
            page: num("currentPage", 1).max(1) as usize,
            size: num("pageSize", 10).clamp(1, 1000) as usize,
        })
    }
}

/// The province's departmentId (the `rootDepartmentId` to ask with).
pub(crate) fn root_id(state: &State) -> String {
    state
        .units
        .rows()
        .iter()
        .find(|u| u.unit.kind == Some(UnitKind::Province))
        .map(|u| department_id(u.unit.code.as_str()))
        .unwrap_or_default()
}

/// The answer's JSON and the number of units it carries. `drop_children`
/// leaves `data.children` (or `data.evaluation`) out, as a broken portal
/// answer would.
pub(crate) fn render(state: &State, ask: &Ask, drop_children: bool) -> (Value, u64) {
    let g = ENDPOINTS
        .iter()
        .position(|e| e.name == ask.endpoint.name)
        .expect("the ask's endpoint is one of ENDPOINTS");
    let e = ask.endpoint;
    let all = official(state, ask.period);
    let (province, units): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|(u, _)| u.unit.kind == Some(UnitKind::Province));
    let total_units = units.len();
    let start = (ask.page - 1).saturating_mul(ask.size).min(total_units);
    let end = start.saturating_add(ask.size).min(total_units);
    let page = &units[start..end];
    let commune = |u: &SimUnit| u.unit.kind == Some(UnitKind::Xa);
    let province_row = province.first();
    let mut data = serde_json::Map::new();
    match e.shape {
        Shape::Tree => {
            if let Some((p, groups)) = province_row {
                data.insert(
                    "parent".into(),
                    json!({
                        "departmentId": department_id(p.unit.code.as_str()),
                        "departmentName": p.unit.name,
                        "departmentCode": p.unit.code.as_str(),
                        "level": "PROVINCE",
                        "score": groups[g],
                        "maxScore": e.max,
                        "ratio": ratio(groups[g], e.max),
                        "totalScore": total(groups),
                        "totalMaxScore": 100,
                    }),
                );
            }
            let children: Vec<Value> = page
                .iter()
                .map(|(u, groups)| {
                    json!({
                        "departmentId": department_id(u.unit.code.as_str()),
                        "departmentName": u.unit.name,
                        "departmentCode": u.unit.code.as_str(),
                        "level": if commune(u) { "COMMUNE" } else { "PROVINCE" },
                        "ratio": ratio(groups[g], e.max),
                        "score": groups[g],
                        "maxScore": e.max,
                        "scoreDelta": null,
                    })
                })
                .collect();
            if !drop_children {
                data.insert("children".into(), Value::Array(children));
            }
        }
        Shape::Breakdown => {
            if let Some((_, groups)) = province_row {
                data.insert(
                    "overview".into(),
                    json!({
                        "totalScore": groups[g],
                        "totalMaxScore": e.max,
                        "ratio": ratio(groups[g], e.max),
                    }),
                );
            }
            let evaluation: Vec<Value> = page
                .iter()
                .enumerate()
                .map(|(i, (u, groups))| {
                    json!({
                        "stt": start + i + 1,
                        "departmentId": department_id(u.unit.code.as_str()),
                        "departmentName": u.unit.name,
                        "departmentType": if commune(u) { "COMMUNE_PEOPLE_COMMITTEE" } else { "PROVINCIAL_DEPARTMENT" },
                        "departmentLevel": if commune(u) { "COMMUNE" } else { "PROVINCE" },
                        "totalScore": groups[g],
                        "totalMaxScore": e.max,
                        "ratio": ratio(groups[g], e.max),
                        "scoreDelta": null,
                        "metrics": metrics(e, groups[g]),
                    })
                })
                .collect();
            if !drop_children {
                data.insert("evaluation".into(), Value::Array(evaluation));
            }
        }
    }
    data.insert("currentPage".into(), ask.page.into());
    data.insert("pageSize".into(), ask.size.into());
    data.insert("totalElements".into(), total_units.into());
    let served = if drop_children {
        0
    } else {
        (end - start) as u64
    };
    (json!({"code": "OK", "data": data}), served)
}

/// The group's score split over its indicators in proportion to their
/// maxima, rounded, the last taking the remainder so that they sum to it.
fn metrics(e: &EvalEndpoint, score: Option<f64>) -> Vec<Value> {
    let mut left = score;
    let n = e.indicators.len();
    e.indicators
        .iter()
        .enumerate()
        .map(|(i, (code, max))| {
            let s = match (score, left) {
                (Some(total), Some(l)) => {
                    let s = if i + 1 == n {
                        round2(l)
                    } else {
                        round2(total * max / e.max)
                    };
                    left = Some(l - s);
                    Some(s)
                }
                _ => None,
            };
            json!({
                "code": code,
                "name": code,
                "numerator": null,
                "denominator": null,
                "ratio": s.map(|s| round2(s / max * 100.0)),
                "score": s,
                "maxScore": max,
            })
        })
        .collect()
}

/// The page a web application firewall answers with, status 200.
pub(crate) const WAF_PAGE: &str = "<!DOCTYPE html><html><head><title>Request Rejected</title></head>\
<body><h1>The requested URL was rejected.</h1><p>Please consult with your administrator. \
Your support ID is: 1234567890123456789</p></body></html>";

/// The other provinces of the nationwide answer (ours is the simulated
/// one): the 34 provincial-level units, less one for ours.
const OTHER_PROVINCES: [&str; 33] = [
    "Thành phố Hà Nội",
    "Thành phố Huế",
    "Tỉnh Lai Châu",
    "Tỉnh Điện Biên",
    "Tỉnh Sơn La",
    "Tỉnh Lạng Sơn",
    "Tỉnh Quảng Ninh",
    "Tỉnh Thanh Hóa",
    "Tỉnh Nghệ An",
    "Tỉnh Hà Tĩnh",
    "Tỉnh Cao Bằng",
    "Tỉnh Tuyên Quang",
    "Tỉnh Lào Cai",
    "Tỉnh Thái Nguyên",
    "Tỉnh Phú Thọ",
    "Tỉnh Bắc Ninh",
    "Tỉnh Hưng Yên",
    "Thành phố Hải Phòng",
    "Tỉnh Ninh Bình",
    "Tỉnh Quảng Trị",
    "Thành phố Đà Nẵng",
    "Tỉnh Quảng Ngãi",
    "Tỉnh Gia Lai",
    "Tỉnh Khánh Hòa",
    "Tỉnh Lâm Đồng",
    "Tỉnh Đắk Lắk",
    "Thành phố Hồ Chí Minh",
    "Tỉnh Đồng Nai",
    "Tỉnh Tây Ninh",
    "Thành phố Cần Thơ",
    "Tỉnh Vĩnh Long",
    "Tỉnh Đồng Tháp",
    "Tỉnh Cà Mau",
];

/// The nationwide `service-results` answer for the year the body asks
/// for: our province with its simulated yearly scores, and the others with
/// scores drawn from their names (the same in every run). `drop_list`
/// leaves `data.evaluation` out.
pub(crate) fn render_national(
    state: &State,
    body: &[u8],
    drop_list: bool,
) -> Result<(Value, u64), String> {
    let body: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body must be JSON: {e}"))?;
    if body.get("timeType").and_then(Value::as_str) != Some("year") {
        return Err("service-results: timeType must be year".into());
    }
    let year = body
        .get("year")
        .and_then(Value::as_i64)
        .ok_or("service-results: `year` must be a number")?;
    let period = EvalPeriod::Year(i32::try_from(year).map_err(|_| "service-results: bad year")?);
    let mut rows: Vec<(String, String, String, [Option<f64>; 6])> = official(state, period)
        .into_iter()
        .filter(|(u, _)| u.unit.kind == Some(UnitKind::Province))
        .map(|(u, groups)| {
            let code = u.unit.code.as_str().to_owned();
            (department_id(&code), code, u.unit.name.clone(), groups)
        })
        .collect();
    for (i, name) in OTHER_PROVINCES.iter().enumerate() {
        let code = format!("H{:02}", i + 1);
        let mut groups = [None; 6];
        for (g, e) in ENDPOINTS.iter().enumerate() {
            let h = stable_hash(&format!("{code}#{year}#{}", e.group));
            let share = 0.55 + 0.4 * (h % 10_000) as f64 / 10_000.0;
            groups[g] = Some(round2(e.max * share));
        }
        rows.push((department_id(&code), code, (*name).to_owned(), groups));
    }
    rows.sort_by(|a, b| {
        total(&b.3)
            .partial_cmp(&total(&a.3))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let evaluation: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, (id, code, name, groups))| {
            let metrics: Vec<Value> = ENDPOINTS
                .iter()
                .zip(groups)
                .map(|(e, s)| json!({"code": e.group, "score": s, "maxScore": e.max}))
                .collect();
            json!({
                "stt": i + 1,
                "departmentId": id,
                "departmentName": name,
                "departmentCode": code,
                "departmentType": "ADMINISTRATIVE_UNIT",
                "totalScore": total(groups),
                "totalMaxScore": 100,
                "ratio": total(groups),
                "scoreDelta": null,
                "metrics": metrics,
            })
        })
        .collect();
    let served = if drop_list {
        0
    } else {
        evaluation.len() as u64
    };
    let mut data = serde_json::Map::new();
    if !drop_list {
        data.insert("evaluation".into(), Value::Array(evaluation));
    }
    Ok((json!({"code": "OK", "data": data}), served))
}
