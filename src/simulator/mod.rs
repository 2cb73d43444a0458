//! A simulated procedure-handling system, served over real HTTP.
//!
//! It generates a province's dossiers deterministically from a seed and a
//! "now", for units with Vietnamese names and realistic electronic agency
//! codes, some of them clearly failing the on-time target. It speaks the
//! default wire format (domain.md's field names) and knows its own ground
//! truth, so tests can compare what par-monitor ingested and computed with
//! what was served. Tests reach into it through [`Simulator`] to change
//! records between polls.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::domain::{
    Channel, Dossier, DossierStatus, EmailAddress, SupplementRequest, Unit, UnitCode, UnitKind,
};
use crate::time::{LOCAL_TZ, Month, local_to_utc, utc_to_local};

/// The wire date format the simulator speaks.
const WIRE_DATE: &str = "%Y%m%d%H%M%S";

#[derive(Clone, Debug)]
pub struct SimConfig {
    pub seed: u64,
    /// Number of units (at least 1); the first six are fixed, the rest communes.
    pub units: usize,
    pub dossiers_per_month: u32,
    /// Months of history including the current one.
    pub months: u32,
    /// The simulated present: nothing is received or finished after it.
    pub now: DateTime<Utc>,
}

impl SimConfig {
    pub fn new(seed: u64, now: DateTime<Utc>) -> Self {
        Self {
            seed,
            units: 6,
            dossiers_per_month: 40,
            months: 2,
            now,
        }
    }
}

/// A unit and the on-time rate the simulator gives it.
#[derive(Clone, Debug)]
pub struct SimUnit {
    pub unit: Unit,
    pub on_time_rate: f64,
}

#[derive(Debug)]
struct SimState {
    units: Vec<SimUnit>,
    dossiers: Vec<Dossier>,
}

/// The simulator; clones share state.
#[derive(Clone, Debug)]
pub struct Simulator {
    state: Arc<RwLock<SimState>>,
    requests: Arc<AtomicU64>,
    now: DateTime<Utc>,
}

/// Procedures with their time limit in working days.
const PROCEDURES: &[(&str, &str, u32)] = &[
    ("1.001766", "Cấp phiếu lý lịch tư pháp", 10),
    ("1.004227", "Đăng ký khai sinh", 3),
    ("1.000894", "Chứng thực bản sao từ bản chính", 1),
    ("1.009972", "Cấp giấy phép xây dựng", 15),
    ("1.004082", "Đăng ký kinh doanh hộ cá thể", 3),
    ("2.000889", "Cấp giấy chứng nhận quyền sử dụng đất", 20),
];

const FIXED_UNITS: &[(&str, &str, UnitKind, f64)] = &[
    ("H44", "Văn phòng UBND tỉnh", UnitKind::Province, 0.99),
    ("H44.07", "Sở Tư pháp", UnitKind::SoNganh, 0.99),
    ("H44.12", "Sở Xây dựng", UnitKind::SoNganh, 0.93),
    (
        "H44.15",
        "Sở Nông nghiệp và Môi trường",
        UnitKind::SoNganh,
        0.97,
    ),
    ("H44.100", "UBND phường Hồng Bàng", UnitKind::Xa, 0.80),
    ("H44.101", "UBND xã Tiên Lãng", UnitKind::Xa, 0.98),
];

const COMMUNE_NAMES: &[&str] = &[
    "An Lão",
    "Kiến Thụy",
    "Thủy Nguyên",
    "Vĩnh Bảo",
    "Cát Hải",
    "Đồ Sơn",
    "Dương Kinh",
    "Lê Chân",
    "Ngô Quyền",
    "Hải An",
    "Kiến An",
    "Bạch Đằng",
    "Quang Trung",
    "Trần Phú",
    "Nguyễn Trãi",
    "Lạc Long",
    "Hòa Bình",
    "Đông Hải",
    "Tân Tiến",
    "Hưng Đạo",
];

fn head_email(code: &str) -> EmailAddress {
    let local = code.to_ascii_lowercase().replace('.', "-");
    EmailAddress::parse(&format!("lanhdao@{local}.example")).expect("valid generated address")
}

fn make_units(n: usize, rng: &mut StdRng) -> Vec<SimUnit> {
    let parent = UnitCode::parse("H44").expect("valid code");
    (0..n.max(1))
        .map(|i| {
            let (code, name, kind, rate) = match FIXED_UNITS.get(i) {
                Some(&(c, n, k, r)) => (c.to_owned(), n.to_owned(), k, r),
                None => {
                    let k = i - FIXED_UNITS.len();
                    let base = COMMUNE_NAMES[k % COMMUNE_NAMES.len()];
                    let round = k / COMMUNE_NAMES.len();
                    let name = if round == 0 {
                        format!("UBND xã {base}")
                    } else {
                        format!("UBND xã {base} {}", round + 1)
                    };
                    // Most communes do well; about one in eight clearly fails.
                    let rate = if rng.random_bool(0.125) {
                        rng.random_range(0.70..0.88)
                    } else {
                        rng.random_range(0.95..1.0)
                    };
                    (format!("H44.{}", 102 + k), name, UnitKind::Xa, rate)
                }
            };
            let unit_code = UnitCode::parse(&code).expect("valid generated code");
            SimUnit {
                unit: Unit {
                    head_email: Some(head_email(&code)),
                    parent: (unit_code != parent).then(|| parent.clone()),
                    code: unit_code,
                    name,
                    kind: Some(kind),
                },
                on_time_rate: rate,
            }
        })
        .collect()
}

fn is_working_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn add_working_days(start: DateTime<Utc>, n: u32) -> DateTime<Utc> {
    let local = utc_to_local(start);
    let mut day = local.date();
    let mut left = n;
    while left > 0 {
        day = day.succ_opt().expect("in range");
        if is_working_day(day) {
            left -= 1;
        }
    }
    local_to_utc(day.and_time(local.time()))
}

fn generate_dossiers(units: &[SimUnit], cfg: &SimConfig, rng: &mut StdRng) -> Vec<Dossier> {
    let mut out = Vec::new();
    let now = cfg.now;
    let mut month = Month::containing(now);
    let mut months = vec![month];
    for _ in 1..cfg.months.max(1) {
        month = month.previous();
        months.push(month);
    }
    for su in units {
        // The province office itself handles no one-stop dossiers.
        if su.unit.kind == Some(UnitKind::Province) {
            continue;
        }
        for m in &months {
            let first = m.first_day();
            let last_day = utc_to_local(now.min(m.end() - Duration::seconds(1))).date();
            let days: Vec<NaiveDate> = first
                .iter_days()
                .take_while(|d| *d <= last_day)
                .filter(|d| is_working_day(*d))
                .collect();
            if days.is_empty() {
                continue;
            }
            let mut batch = Vec::new();
            for seq in 0..cfg.dossiers_per_month {
                let day = days[rng.random_range(0..days.len())];
                let time =
                    NaiveTime::from_hms_opt(rng.random_range(7..16), rng.random_range(0..60), 0)
                        .expect("valid time");
                let received = local_to_utc(day.and_time(time));
                if received > now {
                    continue;
                }
                let (proc_code, proc_name, limit) =
                    PROCEDURES[rng.random_range(0..PROCEDURES.len())];
                let due = add_working_days(received, limit);
                let online = rng.random_bool(0.55);
                let code = format!(
                    "{}-{}-{:05}",
                    su.unit.code,
                    utc_to_local(received).format("%y%m%d"),
                    (m.first_day().month() * 1000) + seq
                );
                batch.push(Dossier {
                    code,
                    unit_code: su.unit.code.clone(),
                    procedure_code: proc_code.into(),
                    procedure_name: Some(proc_name.into()),
                    channel: if online {
                        Channel::Online
                    } else {
                        Channel::InPerson
                    },
                    status: DossierStatus::InProgress,
                    submitted_at: Some(received - Duration::minutes(rng.random_range(5..600))),
                    received_at: Some(received),
                    due_at: Some(due),
                    finished_at: None,
                    returned_at: None,
                    refused_at: None,
                    supplements: Vec::new(),
                    updated_at: Some(received),
                    ..Dossier::new(String::new(), su.unit.code.clone(), "")
                });
            }
            // Lateness is assigned as exact counts among the dossiers already
            // due, so that each unit's realised rate matches its design.
            let late_target = ((batch.len() as f64) * (1.0 - su.on_time_rate)).round() as usize;
            let mut due_idx: Vec<usize> = (0..batch.len())
                .filter(|&i| batch[i].due_at.is_some_and(|d| d < now))
                .collect();
            due_idx.shuffle(rng);
            let late: std::collections::HashSet<usize> =
                due_idx.iter().copied().take(late_target).collect();
            for (i, d) in batch.iter_mut().enumerate() {
                shape(d, late.contains(&i), now, rng);
            }
            out.extend(batch);
        }
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    out
}

/// Gives a dossier its history: finished on time or late, perhaps with a
/// supplement request, never with anything after `now`.
fn shape(d: &mut Dossier, late: bool, now: DateTime<Utc>, rng: &mut StdRng) {
    let received = d.received_at.expect("generated dossiers are received");
    let mut due = d.due_at.expect("generated dossiers have a due date");
    // One dossier in ten waits on the applicant once; the deadline moves by
    // the waiting time, as the one-stop rules require.
    if rng.random_bool(0.1) {
        let span = (due - received).num_minutes().max(60);
        let requested = received + Duration::minutes(rng.random_range(30..span));
        let completed = requested + Duration::hours(rng.random_range(2..72));
        if completed < now {
            let new_due = due + (completed - requested);
            d.supplements.push(SupplementRequest {
                requested_at: requested,
                completed_at: Some(completed),
                old_due_at: Some(due),
                new_due_at: Some(new_due),
            });
            due = new_due;
            d.due_at = Some(due);
        }
    }
    let end = if late {
        due + Duration::hours(rng.random_range(2..96))
    } else {
        let span = (due - received).num_minutes().max(2);
        received + Duration::minutes(rng.random_range(1..span))
    };
    if end <= now {
        d.finished_at = Some(end);
        d.status = if rng.random_bool(0.7) {
            d.returned_at = Some(end + Duration::hours(rng.random_range(1..24)).min(now - end));
            DossierStatus::Returned
        } else {
            DossierStatus::Done
        };
        d.updated_at = d.returned_at.or(Some(end));
    } else if let Some(s) = d.supplements.last() {
        d.updated_at = s.completed_at;
    }
}

fn wire_date(t: Option<DateTime<Utc>>) -> Value {
    match t {
        Some(t) => Value::String(t.with_timezone(&LOCAL_TZ).format(WIRE_DATE).to_string()),
        None => Value::Null,
    }
}

/// A dossier in the default wire format.
pub fn to_wire(d: &Dossier) -> Value {
    json!({
        "MaHoSo": d.code,
        "MaTTHC": d.procedure_code,
        "TenTTHC": d.procedure_name,
        "DonViXuLy": d.unit_code.as_str(),
        "KenhThucHien": d.channel.code(),
        "NgayNopHoSo": wire_date(d.submitted_at),
        "NgayTiepNhan": wire_date(d.received_at),
        "NgayHenTra": wire_date(d.due_at),
        "NgayKetThucXuLy": wire_date(d.finished_at),
        "NgayTra": wire_date(d.returned_at),
        "NgayTuChoi": wire_date(d.refused_at),
        "TrangThaiHoSo": d.status.code(),
        "DanhSachHoSoBoSung": d.supplements.iter().map(|s| json!({
            "ThoiGianYeuCau": wire_date(Some(s.requested_at)),
            "ThoiGianHoanThanh": wire_date(s.completed_at),
            "NgayHenTraCu": wire_date(s.old_due_at),
            "NgayHenTraMoi": wire_date(s.new_due_at),
        })).collect::<Vec<_>>(),
        "NgayCapNhat": wire_date(d.updated_at),
    })
}

#[derive(Deserialize)]
struct ListQuery {
    page: Option<u32>,
    size: Option<u32>,
    updated_since: Option<String>,
}

async fn list_dossiers(State(sim): State<Simulator>, Query(q): Query<ListQuery>) -> Response {
    sim.requests.fetch_add(1, Ordering::Relaxed);
    let page = q.page.unwrap_or(1).max(1);
    let size = q.size.unwrap_or(100).clamp(1, 10_000);
    let since = match q
        .updated_since
        .as_deref()
        .map(|s| chrono::NaiveDateTime::parse_from_str(s, WIRE_DATE).map(local_to_utc))
    {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(_)) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "updated_since must be yyyyMMddHHmmss"})),
            )
                .into_response();
        }
    };
    let state = sim.state.read().unwrap_or_else(|p| p.into_inner());
    let mut selected: Vec<&Dossier> = state
        .dossiers
        .iter()
        .filter(|d| since.is_none_or(|s| d.updated_at.is_some_and(|u| u >= s)))
        .collect();
    selected.sort_by(|a, b| (a.updated_at, &a.code).cmp(&(b.updated_at, &b.code)));
    let total = selected.len();
    let total_pages = total.div_ceil(size as usize);
    let data: Vec<Value> = selected
        .iter()
        .skip((page as usize - 1) * size as usize)
        .take(size as usize)
        .map(|d| to_wire(d))
        .collect();
    Json(json!({
        "data": data,
        "page": page,
        "size": size,
        "total": total,
        "total_pages": total_pages,
    }))
    .into_response()
}

async fn list_units(State(sim): State<Simulator>) -> Json<Value> {
    sim.requests.fetch_add(1, Ordering::Relaxed);
    let state = sim.state.read().unwrap_or_else(|p| p.into_inner());
    let data: Vec<Value> = state
        .units
        .iter()
        .map(|u| {
            json!({
                "MaDinhDanh": u.unit.code.as_str(),
                "TenDonVi": u.unit.name,
                "LoaiDonVi": u.unit.kind.map(|k| k.as_str()),
                "MaDonViCha": u.unit.parent.as_ref().map(|p| p.as_str()),
                "EmailNguoiDungDau": u.unit.head_email.as_ref().map(|e| e.as_str()),
            })
        })
        .collect();
    Json(json!({ "data": data }))
}

impl Simulator {
    pub fn generate(cfg: &SimConfig) -> Simulator {
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let units = make_units(cfg.units, &mut rng);
        let dossiers = generate_dossiers(&units, cfg, &mut rng);
        Simulator {
            state: Arc::new(RwLock::new(SimState { units, dossiers })),
            requests: Arc::new(AtomicU64::new(0)),
            now: cfg.now,
        }
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/api/v1/dossiers", get(list_dossiers))
            .route("/api/v1/units", get(list_units))
            .with_state(self.clone())
    }

    /// Serves until `shutdown` is cancelled.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
    }

    pub fn units(&self) -> Vec<Unit> {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        s.units.iter().map(|u| u.unit.clone()).collect()
    }

    pub fn dossiers(&self) -> Vec<Dossier> {
        self.state
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .dossiers
            .clone()
    }

    /// Changes records in place, as the upstream would between polls.
    pub fn update_dossiers(&self, mut f: impl FnMut(&mut Dossier)) {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        s.dossiers.iter_mut().for_each(&mut f);
    }

    /// HTTP requests served so far.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The simulated present.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Ground truth: per unit, (dossiers on time, dossiers received) in
    /// `period`, judged at `as_of`. The simulator's data has at most one
    /// supplement request, always completed, with the deadline moved by the
    /// waiting time, so "on time" reduces to comparing against NgayHenTra.
    pub fn on_time_truth(
        &self,
        period: Month,
        as_of: DateTime<Utc>,
    ) -> BTreeMap<UnitCode, (u64, u64)> {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        let mut out = BTreeMap::new();
        for d in &s.dossiers {
            let Some(received) = d.received_at.filter(|r| period.contains(*r)) else {
                continue;
            };
            let _ = received;
            let due = d.due_at.expect("generated dossiers have a due date");
            let on_time = match d.finished_at {
                Some(end) => end <= due,
                None => as_of.min(period.end()) <= due,
            };
            let e = out.entry(d.unit_code.clone()).or_insert((0, 0));
            e.0 += u64::from(on_time);
            e.1 += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 8, 20, 3, 0, 0).unwrap()
    }

    #[test]
    fn generation_is_deterministic_and_never_in_the_future() {
        let a = Simulator::generate(&SimConfig::new(7, now()));
        let b = Simulator::generate(&SimConfig::new(7, now()));
        assert_eq!(a.dossiers(), b.dossiers());
        assert!(!a.dossiers().is_empty());
        for d in a.dossiers() {
            for t in [d.received_at, d.finished_at, d.returned_at, d.updated_at]
                .into_iter()
                .flatten()
            {
                assert!(t <= now(), "{} has a time after now", d.code);
            }
        }
    }

    #[test]
    fn the_failing_commune_fails_and_the_good_department_passes() {
        let sim = Simulator::generate(&SimConfig::new(7, now()));
        let truth = sim.on_time_truth(Month::containing(now()), now());
        let rate = |code: &str| {
            let (n, d) = truth[&UnitCode::parse(code).unwrap()];
            n as f64 / d as f64
        };
        assert!(rate("H44.100") < 0.9, "{}", rate("H44.100"));
        assert!(rate("H44.07") >= 0.95, "{}", rate("H44.07"));
    }

    #[test]
    fn wire_records_use_the_default_field_names() {
        let sim = Simulator::generate(&SimConfig::new(7, now()));
        let d = &sim.dossiers()[0];
        let w = to_wire(d);
        assert_eq!(w["MaHoSo"], d.code);
        assert_eq!(w["DonViXuLy"], d.unit_code.as_str());
        assert_eq!(w["NgayTiepNhan"].as_str().unwrap().len(), 14);
    }
}
