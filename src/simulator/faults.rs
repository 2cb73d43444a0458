//! Faults the simulator can inject, for resilience tests.
//!
//! A fault is either *counted* (it affects the next `count` requests to its
//! endpoint, then is spent) or *standing* (latency and bad records stay
//! until cleared). Renaming a unit is not a fault of the transport but a
//! change of data, applied once when the fault is added.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The simulator's list endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `/api/v1/dossiers`
    Dossiers,
    /// `/api/v1/petitions`
    Petitions,
    /// `/api/v1/documents`
    Documents,
    /// `/api/v1/reports`
    Reports,
    /// `/api/v1/scores766`
    Scores766,
    /// `/api/v1/units`
    Units,
    /// `/alt/v2/ho-so`, the same dossiers in the alternative dialect.
    AltDossiers,
    /// `POST /api/v1/reporting/evaluation/{endpoint}`: the national
    /// portal's public evaluation API, all six of its endpoints.
    Evaluation,
    /// `POST /api/v1/reporting/evaluation/service-results`: the same API's
    /// nationwide answer, every province's total and groups for a year.
    National,
}

impl Endpoint {
    pub const ALL: [Endpoint; 9] = [
        Endpoint::Dossiers,
        Endpoint::Petitions,
        Endpoint::Documents,
        Endpoint::Reports,
        Endpoint::Scores766,
        Endpoint::Units,
        Endpoint::AltDossiers,
        Endpoint::Evaluation,
        Endpoint::National,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Dossiers => "/api/v1/dossiers",
            Endpoint::Petitions => "/api/v1/petitions",
            Endpoint::Documents => "/api/v1/documents",
            Endpoint::Reports => "/api/v1/reports",
            Endpoint::Scores766 => "/api/v1/scores766",
            Endpoint::Units => "/api/v1/units",
            Endpoint::AltDossiers => "/alt/v2/ho-so",
            Endpoint::Evaluation => "/api/v1/reporting/evaluation/{endpoint}",
            Endpoint::National => "/api/v1/reporting/evaluation/service-results",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Dossiers => "dossiers",
            Endpoint::Petitions => "petitions",
            Endpoint::Documents => "documents",
            Endpoint::Reports => "reports",
            Endpoint::Scores766 => "scores766",
            Endpoint::Units => "units",
            Endpoint::AltDossiers => "alt_dossiers",
            Endpoint::Evaluation => "evaluation",
            Endpoint::National => "national",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Endpoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Endpoint::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Endpoint::ALL.iter().map(|e| e.as_str()).collect();
                format!(
                    "unknown endpoint `{s}`: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// How a bad record is broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Defect {
    /// A required field is left out (default: NgayTiepNhan for dossiers).
    MissingField,
    /// A date field holds `2026-13-45`, which no date format parses.
    UnparseableDate,
    /// The status (or category) code is 42, which no code table knows.
    UnknownStatus,
    /// The deadline is 1900-01-01, before the record was received
    /// (default: NgayHenTra for dossiers, HanXuLy for petitions and
    /// documents).
    ImpossibleDeadline,
    /// The end is 2000-01-01, before the record began (default:
    /// NgayKetThucXuLy, NgayTraLoi, NgayHoanThanh).
    EndBeforeStart,
    /// A date in 2099, after any poll (default: NgayTiepNhan, NgayDangKy,
    /// NgayNop).
    FutureDate,
    /// The record's code becomes `DUP-0001`: every record so broken is
    /// served under the one code, for whichever units they belong to.
    DuplicateCode,
    /// NUL, BEL and a right-to-left override are put before the text
    /// (default: TenTTHC). The record stays valid: a client should store
    /// it with the text clean.
    ControlChars,
}

impl Defect {
    /// Whether a record served with this defect should not be ingested.
    pub fn spoils(self) -> bool {
        !matches!(self, Defect::ControlChars)
    }

    /// The endpoints whose records the defect can break: the new ones are
    /// for the main dialect's dated lists only.
    fn applies(self, e: Endpoint) -> bool {
        match self {
            Defect::MissingField | Defect::UnparseableDate | Defect::UnknownStatus => {
                !matches!(e, Endpoint::Evaluation | Endpoint::National)
            }
            Defect::ImpossibleDeadline | Defect::EndBeforeStart => {
                matches!(
                    e,
                    Endpoint::Dossiers | Endpoint::Petitions | Endpoint::Documents
                )
            }
            Defect::FutureDate | Defect::DuplicateCode => matches!(
                e,
                Endpoint::Dossiers | Endpoint::Petitions | Endpoint::Documents | Endpoint::Reports
            ),
            Defect::ControlChars => e == Endpoint::Dossiers,
        }
    }
}

/// One fault. In JSON (`POST /_sim/faults`) it is an object tagged by
/// `kind`; on the command line (`--fault`) the same as `kind,key=value,…`
/// (see [`Fault::from_str`]). `endpoint` absent means every list endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Every answer waits `millis` first.
    Latency {
        #[serde(default)]
        endpoint: Option<Endpoint>,
        millis: u64,
    },
    /// The next `count` requests answer HTTP `status` (e.g. 500, 503, 429),
    /// with `Retry-After: retry_after_secs` when given (default 1 for 429
    /// and 503).
    Status {
        #[serde(default)]
        endpoint: Option<Endpoint>,
        status: u16,
        count: u32,
        #[serde(default)]
        retry_after_secs: Option<u64>,
    },
    /// The next `count` requests get no answer until the server shuts down
    /// or the faults are cleared (an hour at most): longer than any client
    /// timeout.
    Hang {
        #[serde(default)]
        endpoint: Option<Endpoint>,
        count: u32,
    },
    /// The next `count` requests get a body cut off halfway: malformed JSON.
    Truncated {
        #[serde(default)]
        endpoint: Option<Endpoint>,
        count: u32,
    },
    /// After each of the next `count` requests, a new record appears at the
    /// front of the serving order (its NgayCapNhat before every other), so
    /// that a client paging by number sees the following pages shifted by
    /// one: a record repeated, and the new one never seen. Not for units or
    /// scores, whose ids cannot be invented.
    ShiftingPages {
        #[serde(default)]
        endpoint: Option<Endpoint>,
        count: u32,
    },
    /// The next `count` pages after the first start with the previous
    /// page's last record again: duplicates across consecutive pages.
    DuplicateAcrossPages {
        #[serde(default)]
        endpoint: Option<Endpoint>,
        count: u32,
    },
    /// About one record in `every`, chosen by a hash of its id (so the same
    /// records stay bad on every page and poll), is served with `defect`.
    /// `field` overrides the field that is broken (a dotted path in the
    /// alternative dialect, e.g. `thoiGian.tiepNhan`).
    BadRecords {
        #[serde(default)]
        endpoint: Option<Endpoint>,
        every: u32,
        defect: Defect,
        #[serde(default)]
        field: Option<String>,
    },
    /// The next `count` requests are answered `200` with a web application
    /// firewall's HTML page instead of JSON, unless an evaluation request
    /// carries the cookie of the public page `/danh-gia-chat-luong-phuc-vu`.
    WafPage {
        #[serde(default)]
        endpoint: Option<Endpoint>,
        count: u32,
    },
    /// The next `count` evaluation answers leave out their unit list
    /// (`data.children`, or `data.evaluation`).
    MissingChildren {
        #[serde(default)]
        endpoint: Option<Endpoint>,
        count: u32,
    },
    /// The directory shows `unit` under `name` from now on, and its
    /// NgayCapNhat moves forward.
    RenameUnit { unit: String, name: String },
}

impl Fault {
    pub(crate) fn endpoint(&self) -> Option<Endpoint> {
        match self {
            Fault::Latency { endpoint, .. }
            | Fault::Status { endpoint, .. }
            | Fault::Hang { endpoint, .. }
            | Fault::Truncated { endpoint, .. }
            | Fault::ShiftingPages { endpoint, .. }
            | Fault::DuplicateAcrossPages { endpoint, .. }
            | Fault::BadRecords { endpoint, .. }
            | Fault::WafPage { endpoint, .. }
            | Fault::MissingChildren { endpoint, .. } => *endpoint,
            Fault::RenameUnit { .. } => None,
        }
    }

    /// How many requests a counted fault lasts; `None` for standing ones.
    fn count(&self) -> Option<u32> {
        match self {
            Fault::Status { count, .. }
            | Fault::Hang { count, .. }
            | Fault::Truncated { count, .. }
            | Fault::ShiftingPages { count, .. }
            | Fault::DuplicateAcrossPages { count, .. }
            | Fault::WafPage { count, .. }
            | Fault::MissingChildren { count, .. } => Some(*count),
            Fault::Latency { .. } | Fault::BadRecords { .. } | Fault::RenameUnit { .. } => None,
        }
    }

    fn applies_to(&self, e: Endpoint) -> bool {
        self.endpoint().is_none_or(|x| x == e)
    }

    /// Checks what the types cannot.
    pub(crate) fn validate(&self) -> Result<(), FaultError> {
        let bad = |m: String| Err(FaultError(m));
        match self {
            Fault::Status { status, .. } if !(400..=599).contains(status) => {
                bad(format!("status {status} is not an HTTP error (400–599)"))
            }
            Fault::BadRecords { every: 0, .. } => bad("every must be at least 1".into()),
            Fault::BadRecords {
                endpoint, defect, ..
            } if endpoint.is_none_or(|e| !defect.applies(e)) => bad(format!(
                "defect {} needs an endpoint among {}",
                serde_json::to_value(defect)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                Endpoint::ALL
                    .into_iter()
                    .filter(|e| defect.applies(*e))
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Fault::ShiftingPages {
                endpoint:
                    Some(
                        e @ (Endpoint::Units
                        | Endpoint::Scores766
                        | Endpoint::Evaluation
                        | Endpoint::National),
                    ),
                ..
            } => bad(format!(
                "shifting_pages cannot invent records for {e}: use dossiers, petitions, documents or reports"
            )),
            _ => Ok(()),
        }
    }
}

/// A fault that cannot be applied, with the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FaultError(pub String);

/// Numeric keys of the command-line form.
const NUMERIC_KEYS: &[&str] = &["millis", "status", "count", "retry_after_secs", "every"];

impl FromStr for Fault {
    type Err = FaultError;

    /// Parses `kind,key=value,…`, e.g. `status,endpoint=dossiers,status=503,count=2`,
    /// `latency,millis=200`, `bad_records,endpoint=dossiers,every=50,defect=missing_field`,
    /// or the JSON object form (which allows commas in values, e.g. a unit's name).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let value = if s.starts_with('{') {
            serde_json::from_str(s).map_err(|e| FaultError(format!("fault `{s}`: {e}")))?
        } else {
            let mut parts = s.split(',');
            let kind = parts.next().unwrap_or_default().trim();
            let mut obj = serde_json::Map::new();
            obj.insert("kind".into(), kind.into());
            for part in parts {
                let (k, v) = part.split_once('=').ok_or_else(|| {
                    FaultError(format!("fault `{s}`: expected key=value, found `{part}`"))
                })?;
                let (k, v) = (k.trim(), v.trim());
                let v = if NUMERIC_KEYS.contains(&k) {
                    serde_json::Value::from(v.parse::<u64>().map_err(|_| {
                        FaultError(format!("fault `{s}`: {k} must be a whole number"))
                    })?)
                } else {
                    serde_json::Value::from(v)
                };
                obj.insert(k.into(), v);
            }
            serde_json::Value::Object(obj)
        };
        let fault: Fault =
            serde_json::from_value(value).map_err(|e| FaultError(format!("fault `{s}`: {e}")))?;
        fault.validate()?;
        Ok(fault)
    }
}

/// A fault in force, with what is left of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActiveFault {
    pub fault: Fault,
    /// Requests left for a counted fault; `None` while a standing one lasts.
    pub remaining: Option<u32>,
}

/// A bad-record rule in force for one endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BadRule {
    pub every: u32,
    pub defect: Defect,
    pub field: Option<String>,
}

/// What one request will suffer.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub latency: Duration,
    pub hang: bool,
    /// (status, Retry-After seconds)
    pub status: Option<(u16, Option<u64>)>,
    pub truncate: bool,
    /// Answer with a firewall's HTML page.
    pub waf: bool,
    /// Leave the unit list out of an evaluation answer.
    pub drop_children: bool,
    pub shift: bool,
    pub duplicate: bool,
    pub bad: Vec<BadRule>,
}

#[derive(Debug, Default)]
pub(crate) struct FaultState {
    active: Vec<ActiveFault>,
}

impl FaultState {
    pub fn add(&mut self, fault: Fault) {
        let remaining = fault.count();
        if remaining != Some(0) {
            self.active.push(ActiveFault { fault, remaining });
        }
    }

    pub fn clear(&mut self) {
        self.active.clear();
    }

    pub fn active(&self) -> Vec<ActiveFault> {
        self.active.clone()
    }

    /// The standing bad-record rules for `e`.
    pub fn bad_rules(&self, e: Endpoint) -> Vec<BadRule> {
        self.active
            .iter()
            .filter(|a| a.fault.applies_to(e))
            .filter_map(|a| match &a.fault {
                Fault::BadRecords {
                    every,
                    defect,
                    field,
                    ..
                } => Some(BadRule {
                    every: *every,
                    defect: *defect,
                    field: field.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// Decides what a request to `e` suffers and spends the counted faults
    /// that decide its answer. Of the faults that replace the answer, the
    /// first in the order hang, status, truncation, firewall page, missing
    /// children applies, and only it is
    /// spent. Shifting and duplicating are spent by [`FaultState::spend`]
    /// once they have actually been applied.
    pub fn plan(&mut self, e: Endpoint) -> Plan {
        let mut plan = Plan {
            bad: self.bad_rules(e),
            ..Plan::default()
        };
        for a in self.active.iter().filter(|a| a.fault.applies_to(e)) {
            match &a.fault {
                Fault::Latency { millis, .. } => {
                    plan.latency = plan.latency.max(Duration::from_millis(*millis));
                }
                Fault::ShiftingPages { .. } => plan.shift = true,
                Fault::DuplicateAcrossPages { .. } => plan.duplicate = true,
                _ => {}
            }
        }
        let replaces = |f: &Fault, rank: u8| match f {
            Fault::Hang { .. } => rank == 0,
            Fault::Status { .. } => rank == 1,
            Fault::Truncated { .. } => rank == 2,
            Fault::WafPage { .. } => rank == 3,
            Fault::MissingChildren { .. } => rank == 4,
            _ => false,
        };
        for rank in 0..5 {
            if let Some(a) = self
                .active
                .iter_mut()
                .find(|a| a.fault.applies_to(e) && replaces(&a.fault, rank))
            {
                match &a.fault {
                    Fault::Hang { .. } => plan.hang = true,
                    Fault::Status {
                        status,
                        retry_after_secs,
                        ..
                    } => {
                        let default = matches!(status, 429 | 503).then_some(1);
                        plan.status = Some((*status, retry_after_secs.or(default)));
                    }
                    Fault::WafPage { .. } => plan.waf = true,
                    Fault::MissingChildren { .. } => plan.drop_children = true,
                    _ => plan.truncate = true,
                }
                if let Some(n) = a.remaining.as_mut() {
                    *n = n.saturating_sub(1);
                }
                break;
            }
        }
        self.active.retain(|a| a.remaining != Some(0));
        plan
    }

    /// Spends one request of the first shifting (or duplicating) fault for `e`.
    pub fn spend(&mut self, e: Endpoint, shifting: bool) {
        if let Some(a) = self.active.iter_mut().find(|a| {
            a.fault.applies_to(e)
                && match a.fault {
                    Fault::ShiftingPages { .. } => shifting,
                    Fault::DuplicateAcrossPages { .. } => !shifting,
                    _ => false,
                }
        }) && let Some(n) = a.remaining.as_mut()
        {
            *n = n.saturating_sub(1);
        }
        self.active.retain(|a| a.remaining != Some(0));
    }
}

/// FNV-1a: a stable hash (unlike std's, which is seeded per process), so
/// the same records are bad in every run.
pub(crate) fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Whether the record with this id is served broken under `rules`.
pub(crate) fn is_bad<'r>(rules: &'r [BadRule], id: &str) -> Option<&'r BadRule> {
    if rules.is_empty() {
        return None;
    }
    let h = stable_hash(id);
    rules.iter().find(|r| h.is_multiple_of(u64::from(r.every)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_form_and_json_give_the_same_fault() {
        let a: Fault = "status,endpoint=dossiers,status=503,count=2,retry_after_secs=5"
            .parse()
            .unwrap();
        let b: Fault = r#"{"kind":"status","endpoint":"dossiers","status":503,"count":2,"retry_after_secs":5}"#
            .parse()
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(
            "latency,millis=200".parse::<Fault>().unwrap(),
            Fault::Latency {
                endpoint: None,
                millis: 200
            }
        );
        let rename: Fault =
            r#"{"kind":"rename_unit","unit":"H44.10","name":"Sở Văn hóa, Thể thao và Du lịch"}"#
                .parse()
                .unwrap();
        assert!(matches!(rename, Fault::RenameUnit { .. }));
    }

    #[test]
    fn malformed_faults_are_refused_with_a_reason() {
        for (spec, needle) in [
            ("status,status=200,count=1", "not an HTTP error"),
            ("hang,count=x", "whole number"),
            ("hang,endpoint=nowhere,count=1", "unknown variant"),
            ("explode", "unknown variant"),
            ("hang,count=1,colour=red", "unknown field"),
            ("bad_records,every=0,defect=missing_field", "at least 1"),
            ("shifting_pages,endpoint=units,count=1", "cannot invent"),
        ] {
            let e = spec.parse::<Fault>().unwrap_err();
            assert!(e.0.contains(needle), "{spec}: {e}");
        }
    }

    #[test]
    fn counted_faults_are_spent_one_request_at_a_time_in_precedence_order() {
        let mut s = FaultState::default();
        s.add(Fault::Truncated {
            endpoint: None,
            count: 1,
        });
        s.add(Fault::Status {
            endpoint: Some(Endpoint::Dossiers),
            status: 429,
            count: 2,
            retry_after_secs: None,
        });
        let p = s.plan(Endpoint::Units);
        assert!(p.truncate && p.status.is_none());
        let p = s.plan(Endpoint::Dossiers);
        assert_eq!(p.status, Some((429, Some(1))));
        assert!(!p.truncate);
        assert!(s.plan(Endpoint::Dossiers).status.is_some());
        let p = s.plan(Endpoint::Dossiers);
        assert!(p.status.is_none() && !p.truncate);
        assert!(s.active().is_empty());
    }
}
