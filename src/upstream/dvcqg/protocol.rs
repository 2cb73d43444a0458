//! The national portal's public evaluation API (dichvucong.gov.vn,
//! "Đánh giá chất lượng phục vụ"): its six endpoints, their envelopes and
//! the periods they are asked for. Shared by the connector and the
//! simulator, which plays the portal.

use chrono::NaiveDate;

use crate::time::Month;

/// How an endpoint's answer is shaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `data.parent` (the province, with `departmentCode`) and
    /// `data.children[]` (units with `departmentCode`, `score`, `maxScore`).
    Tree,
    /// `data.overview` (the province) and `data.evaluation[]` (units by
    /// `departmentId` only, with `totalScore`, `totalMaxScore`, `metrics[]`).
    Breakdown,
}

/// One endpoint of the evaluation API.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EvalEndpoint {
    /// The last path segment: `POST api/v1/reporting/evaluation/{name}`.
    pub name: &'static str,
    /// par-monitor's (and the portal's) group code.
    pub group: &'static str,
    pub max: f64,
    pub shape: Shape,
    /// The body takes `fromDate`/`toDate` instead of `timeType`/`year`/….
    pub date_range: bool,
    /// The portal's indicator codes in the group, with their maxima.
    pub indicators: &'static [(&'static str, f64)],
}

pub const PATH: &str = "api/v1/reporting/evaluation/";

pub const ENDPOINTS: [EvalEndpoint; 6] = [
    EvalEndpoint {
        name: "transparency",
        group: "TRANSPARENCY",
        max: 18.0,
        shape: Shape::Breakdown,
        date_range: false,
        indicators: &[
            ("PUBLISH_ON_TIME", 6.0),
            ("PUBLIC_UPDATE_ON_TIME", 4.0),
            ("PUBLIC_CONTENT_FULL", 2.0),
            ("DOSSIER_SYNC", 6.0),
        ],
    },
    EvalEndpoint {
        name: "dvc-progress-tree",
        group: "PROGRESS",
        max: 20.0,
        shape: Shape::Tree,
        date_range: false,
        indicators: &[("ON_TIME", 20.0)],
    },
    EvalEndpoint {
        name: "provide-online-tree",
        group: "ONLINE_SERVICES",
        max: 12.0,
        shape: Shape::Tree,
        date_range: false,
        indicators: &[("ONLINE_SERVICES", 12.0)],
    },
    EvalEndpoint {
        name: "formality-online-payment-tree",
        group: "ONLINE_PAYMENT",
        max: 10.0,
        shape: Shape::Tree,
        date_range: false,
        indicators: &[
            ("PAYMENT_DOSSIERS", 6.0),
            ("PAYMENT_PROCEDURES", 2.0),
            ("PAYMENT_ON_PORTAL", 2.0),
        ],
    },
    EvalEndpoint {
        name: "handling-satisfaction",
        group: "SATISFACTION",
        max: 18.0,
        shape: Shape::Breakdown,
        date_range: true,
        indicators: &[
            ("PETITION_PROCESSING_ON_TIME", 6.0),
            ("PETITION_HANDLING_SATISFACTION", 6.0),
            ("DOSSIER_RECEIVING_SATISFACTION", 6.0),
        ],
    },
    EvalEndpoint {
        name: "dossier-digitized",
        group: "DIGITIZATION",
        max: 22.0,
        shape: Shape::Breakdown,
        date_range: false,
        indicators: &[
            ("ORIGINAL_RESULT_AVAILABLE", 6.0),
            ("SO_HOA_GIAY_TO_GIAI_QUYET", 4.0),
            ("ELECTRONIC_CERTIFIED_COPY", 2.0),
            ("REUSED_DIGITIZED_DATA", 2.0),
            ("SYNCED_WITH_DVCQG_PERSONAL_STORAGE", 4.0),
            ("CITIZEN_DATA_CONNECTED_DOSSIER", 2.0),
            ("CITIZEN_DATA_CONNECTED_FORMALITY", 2.0),
        ],
    },
];

/// The nationwide endpoint (same path): every province's total and group
/// scores for a year. Body `{"timeType": "year", "year": 2026,
/// "departmentType": "ADMINISTRATIVE_UNIT"}`; answer `{"code": "OK",
/// "data": {"evaluation": [ … ]}}`, one entry per province with
/// `departmentId`, `departmentName`, `departmentCode` (the province code,
/// e.g. `H44`, where given), `totalScore`, `totalMaxScore` and `metrics[]`,
/// one per group with the group's `code`, `score` and `maxScore`.
pub const NATIONAL: &str = "service-results";

/// The body that asks [`NATIONAL`] for a year.
pub fn national_body(year: i32) -> serde_json::Value {
    serde_json::json!({
        "timeType": "year",
        "year": year,
        "departmentType": "ADMINISTRATIVE_UNIT",
    })
}

pub fn endpoint(name: &str) -> Option<&'static EvalEndpoint> {
    ENDPOINTS.iter().find(|e| e.name == name)
}

/// A period the portal evaluates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EvalPeriod {
    Month(Month),
    Quarter { year: i32, quarter: u32 },
    Year(i32),
}

impl EvalPeriod {
    pub fn quarter_of(m: Month) -> EvalPeriod {
        EvalPeriod::Quarter {
            year: m.year(),
            quarter: (m.number() - 1) / 3 + 1,
        }
    }

    /// The key stored with the scores: `2026-08`, `2026-Q3`, `2026`.
    pub fn key(self) -> String {
        match self {
            EvalPeriod::Month(m) => m.to_string(),
            EvalPeriod::Quarter { year, quarter } => format!("{year}-Q{quarter}"),
            EvalPeriod::Year(y) => y.to_string(),
        }
    }

    /// The months the period is made of.
    pub fn months(self) -> Vec<Month> {
        let (year, first, n) = match self {
            EvalPeriod::Month(m) => return vec![m],
            EvalPeriod::Quarter { year, quarter } => (year, (quarter - 1) * 3 + 1, 3),
            EvalPeriod::Year(year) => (year, 1, 12),
        };
        (first..first + n)
            .filter_map(|m| Month::new(year, m))
            .collect()
    }

    /// The first and last day, for `fromDate`/`toDate`.
    pub fn dates(self) -> (NaiveDate, NaiveDate) {
        let months = self.months();
        let first = months.first().expect("a period has a month").first_day();
        let last = months
            .last()
            .expect("a period has a month")
            .next()
            .first_day()
            .pred_opt()
            .expect("a day before");
        (first, last)
    }

    /// The period whose first and last days these are.
    pub fn from_dates(from: NaiveDate, to: NaiveDate) -> Option<EvalPeriod> {
        use chrono::Datelike;
        let m = Month::new(from.year(), from.month())?;
        [
            EvalPeriod::Month(m),
            EvalPeriod::quarter_of(m),
            EvalPeriod::Year(m.year()),
        ]
        .into_iter()
        .find(|p| p.dates() == (from, to))
    }

    /// The body fields that name the period (besides paging and the root).
    pub fn body_fields(self, e: &EvalEndpoint) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        if e.date_range {
            let (from, to) = self.dates();
            m.insert(
                "fromDate".into(),
                from.format("%Y-%m-%d").to_string().into(),
            );
            m.insert("toDate".into(), to.format("%Y-%m-%d").to_string().into());
            return m;
        }
        match self {
            EvalPeriod::Month(mo) => {
                m.insert("timeType".into(), "month".into());
                m.insert("year".into(), mo.year().into());
                m.insert("month".into(), mo.number().into());
            }
            EvalPeriod::Quarter { year, quarter } => {
                m.insert("timeType".into(), "quarter".into());
                m.insert("year".into(), year.into());
                m.insert("quarter".into(), quarter.into());
            }
            EvalPeriod::Year(year) => {
                m.insert("timeType".into(), "year".into());
                m.insert("year".into(), year.into());
            }
        }
        m
    }

    /// Reads the period from a request body (the simulator's side).
    pub fn from_body(e: &EvalEndpoint, body: &serde_json::Value) -> Result<EvalPeriod, String> {
        let int = |k: &str| {
            body.get(k)
                .and_then(serde_json::Value::as_i64)
                .ok_or_else(|| format!("{}: `{k}` must be a number", e.name))
        };
        if e.date_range {
            if body.get("timeType").is_some() {
                return Err(format!("{}: takes fromDate/toDate, not timeType", e.name));
            }
            let date = |k: &str| {
                body.get(k)
                    .and_then(serde_json::Value::as_str)
                    .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                    .ok_or_else(|| format!("{}: `{k}` must be a yyyy-MM-dd date", e.name))
            };
            let (from, to) = (date("fromDate")?, date("toDate")?);
            return EvalPeriod::from_dates(from, to).ok_or_else(|| {
                format!("{}: {from}..{to} is not a month, quarter or year", e.name)
            });
        }
        let year = i32::try_from(int("year")?).map_err(|_| format!("{}: bad year", e.name))?;
        match body.get("timeType").and_then(serde_json::Value::as_str) {
            Some("month") => Month::new(year, u32::try_from(int("month")?).unwrap_or(0))
                .map(EvalPeriod::Month)
                .ok_or_else(|| format!("{}: month must be 1 to 12", e.name)),
            Some("quarter") => match int("quarter")? {
                q @ 1..=4 => Ok(EvalPeriod::Quarter {
                    year,
                    quarter: q as u32,
                }),
                _ => Err(format!("{}: quarter must be 1 to 4", e.name)),
            },
            Some("year") => Ok(EvalPeriod::Year(year)),
            _ => Err(format!(
                "{}: timeType must be month, quarter or year",
                e.name
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_round_trip_through_their_bodies() {
        let m = Month::new(2026, 8).unwrap();
        for p in [
            EvalPeriod::Month(m),
            EvalPeriod::quarter_of(m),
            EvalPeriod::Year(2026),
        ] {
            for e in &ENDPOINTS {
                let body = serde_json::Value::Object(p.body_fields(e));
                assert_eq!(EvalPeriod::from_body(e, &body).unwrap(), p, "{}", e.name);
            }
        }
        assert_eq!(EvalPeriod::quarter_of(m).key(), "2026-Q3");
        let sat = endpoint("handling-satisfaction").unwrap();
        let body = serde_json::Value::Object(EvalPeriod::Month(m).body_fields(sat));
        assert_eq!(body["fromDate"], "2026-08-01");
        assert_eq!(body["toDate"], "2026-08-31");
    }
}
