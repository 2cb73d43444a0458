//! A simulated province's upstream systems, served over real HTTP.
//!
//! One process plays all three upstreams of domain.md: the
//! procedure-handling system (dossiers, petitions), document management
//! (documents), the reporting system (report obligations), plus the
//! national portal's Decision 766 scores and the unit directory. Everything
//! is generated deterministically from a seed and a "now" (truncated to
//! whole seconds, the wire's precision): the same two give the same
//! province, byte for byte. The simulator knows its own ground truth
//! ([`Simulator::truth`], `GET /_sim/truth`), so tests can compare what
//! par-monitor ingested and computed with what was served, and it can be
//! told to misbehave ([`Fault`]).
//!
//! # The default dialect
//!
//! Every list endpoint answers `GET <path>?page=P&size=S[&updated_since=yyyyMMddHHmmss]`
//! (`page` 1-based, default 1; `size` clamped to 1..=10000, default 100;
//! `updated_since` keeps records whose NgayCapNhat is at or after it) with
//!
//! ```json
//! {"data": [...], "page": P, "size": S, "total": T, "total_pages": ceil(T/S)}
//! ```
//!
//! Records are sorted by (NgayCapNhat, id). Dates are strings
//! `yyyyMMddHHmmss` in Asia/Ho_Chi_Minh local time; absent dates are
//! `null`; booleans are JSON booleans. A malformed parameter answers 400
//! with `{"error": "..."}`.
//!
//! - `/api/v1/dossiers`: MaHoSo, MaTTHC, TenTTHC, MaLinhVuc, DonViXuLy,
//!   KenhThucHien (1 in person, 2 online, 3 postal), NgayNopHoSo,
//!   NgayTiepNhan, NgayHenTra, NgayKetThucXuLy, NgayTra, NgayTuChoi,
//!   TrangThaiHoSo (1..10, domain.md's table), DanhSachHoSoBoSung
//!   `[{ThoiGianYeuCau, ThoiGianHoanThanh, NgayHenTraCu, NgayHenTraMoi}]`,
//!   DuocThanhToanTrucTuyen (0 not paid online, 1 national portal,
//!   2 provincial gateway), CoNghiaVuTaiChinh, DanhSachLePhi
//!   `[{TenLePhi, SoTien}]` (non-empty iff fees), HoSoCoThanhPhanSoHoa,
//!   TaiLieuNop `[{TenTaiLieu, DuocSoHoa, DuocTaiSuDung}]`,
//!   DanhSachGiayToKetQua `[{TenGiayTo, DuongDanTepTinKetQua}]` (an
//!   e-result iff a link is present), TaiKhoanDuocXacThucVoiVNeID,
//!   PhieuXinLoi `[{NgayXinLoi, LyDo, NgayHenTraMoi}]`, DaDongBoDVCQG,
//!   DaChiaSeKhoDuLieu, SuDungDuLieuDanCu, MucDoHaiLong (1 satisfied,
//!   2 neutral, 3 dissatisfied, or null), NgayCapNhat.
//! - `/api/v1/petitions`: MaPAKN, DonViXuLy, PhanLoai (1 procedures,
//!   2 staff conduct, 3 other), NgayTiepNhan, HanXuLy (15 working days
//!   after receipt), NgayTraLoi, MucDoHaiLong, NgayCapNhat.
//! - `/api/v1/documents`: MaVanBan, DonVi, LoaiVanBan (`di` outgoing, `den`
//!   incoming), NgayDangKy, GuiQuaTrucLienThong, TrangThaiLienThong
//!   (`inbox`, `acceptance`, `rejection`, `processing`, `done`, `fail` or
//!   null), CoChuKySo, ChuKySoHopLe (null when not checked), HanXuLy and
//!   NgayHoanThanh (incoming only), DaLapHoSoCongViec, NgayCapNhat.
//! - `/api/v1/reports`: MaBaoCao, LoaiBaoCao (`BC_CCHC_THANG`,
//!   `BC_KSTTHC_QUY`, `BC_CCHC_NAM`), TenBaoCao, DonVi, KyBaoCao (`2026-08`,
//!   `2026-Q3`, `2026`), HanNop (the 20th, end of day, after the window
//!   closing on the 14th), NgayNop, TrangThai (1 draft, 2 submitted,
//!   3 returned for revision, 4 accepted), NgayCapNhat.
//! - `/api/v1/scores766[?period=YYYY-MM]`: MaDonVi, Ky, TongDiem,
//!   CongKhaiMinhBach, TienDoGiaiQuyet, DichVuTrucTuyen, ThanhToanTrucTuyen,
//!   MucDoHaiLong, SoHoa (rounded to 2 decimals, or null), NgayCapNhat.
//! - `/api/v1/units`: MaDinhDanh, TenDonVi, LoaiDonVi (`province`,
//!   `so_nganh`, `service_center`, `xa`, `phong`), MaDonViCha (null for the
//!   province), EmailNguoiDungDau (`lanhdao@h44-07.example`), NgayCapNhat.
//!
//! # The alternative dialect
//!
//! `GET /alt/v2/ho-so?limit=N[&cursor=C][&since=dd/MM/yyyy HH:mm:ss]` serves
//! the same dossiers as `/api/v1/dossiers`, in the same order, to exercise
//! non-default mappings: `limit` clamped to 1..=10000 (default 100),
//! `since` keeps records changed at or after it, and paging is by an
//! opaque cursor (keyset: records after the last one served, so records
//! inserted meanwhile do not shift later pages). The answer is
//!
//! ```json
//! {"result": {"items": [...], "nextCursor": "<opaque>" | null}}
//! ```
//!
//! with each item
//!
//! ```json
//! {"id": "<MaHoSo>",
//!  "thuTuc": {"ma": "<MaTTHC>", "ten": "<TenTTHC>", "linhVuc": "<MaLinhVuc>"},
//!  "donVi": {"ma": "<DonViXuLy>"},
//!  "kenh": "TRUC_TIEP" | "TRUC_TUYEN" | "BUU_CHINH",
//!  "trangThai": "MOI" | "DA_TIEP_NHAN" | "TU_CHOI" | "DANG_XU_LY" | "YEU_CAU_BO_SUNG"
//!             | "CHO_NOP_PHI" | "RUT_HO_SO" | "DUNG_XU_LY" | "DA_XU_LY" | "DA_TRA_KET_QUA",
//!  "thoiGian": {"nop", "tiepNhan", "henTra", "ketThuc", "tra", "tuChoi", "capNhat"},
//!  "boSung": [{"yeuCau", "hoanThanh", "henTraCu", "henTraMoi"}]}
//! ```
//!
//! where the status names follow codes 1..10 in order, and dates are
//! `dd/MM/yyyy HH:mm:ss` local time or null. The other dossier fields are
//! not carried in this dialect.
//!
//! # Control endpoints
//!
//! - `GET /_sim/truth`: [`Truth`] as JSON.
//! - `GET /_sim/requests`: requests and records served per endpoint.
//! - `GET /_sim/faults`, `POST /_sim/faults` (a [`Fault`] object or a list
//!   of them), `DELETE /_sim/faults` (clears all and releases hanging
//!   requests). All answer `{"active": [{"fault": …, "remaining": n|null}]}`.
//!
//! These endpoints are not counted as requests.

mod catalog;
mod dossiers;
mod evaluation;
mod faults;
mod office;
mod scores;
mod server;
mod store;
mod timeline;
mod truth;
mod units;
mod wire;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::Router;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use faults::{ActiveFault, Defect, Endpoint, Fault, FaultError};
pub use truth::{Counted, Truth, UnitTruth};
pub use wire::DUPLICATE_CODE;

use crate::domain::{Document, Dossier, Petition, PortalScore, Report, Unit, UnitCode};
use crate::time::Month;
use store::{Record, SCORE_GROUPS, SimScore, Table};
use timeline::Timeline;
use units::SimUnit;

/// What to simulate. Deterministic: the same config gives the same data.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub seed: u64,
    /// Number of units (at least 1). The first six are fixed (`H44`,
    /// `H44.07`, `H44.12`, `H44.15`, `H44.100`, `H44.101`); more are
    /// departments `H44.NN` and communes `H44.102`, `H44.103`, ….
    pub units: usize,
    /// Dossiers each unit receives in a full month (the current month gets
    /// its share so far). The province office itself receives none.
    pub dossiers_per_month: u32,
    /// Petitions per unit in an average month.
    pub petitions_per_month: u32,
    /// Documents (outgoing and incoming) per unit in a full month.
    pub documents_per_month: u32,
    /// Months of history including the current one (a year is 12).
    pub months: u32,
    /// Day of the month monthly reports are due, after the window that
    /// closes on the 14th (Decree 09/2019; configurable, default 20).
    pub report_due_day: u32,
    /// The simulated present: nothing happens after it.
    pub now: DateTime<Utc>,
}

impl SimConfig {
    pub fn new(seed: u64, now: DateTime<Utc>) -> Self {
        Self {
            seed,
            units: 6,
            dossiers_per_month: 40,
            petitions_per_month: 3,
            documents_per_month: 20,
            months: 2,
            report_due_day: 20,
            now,
        }
    }
}

/// A kind of record, for [`Simulator::touch`] and [`Simulator::delete`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// By MaHoSo.
    Dossier,
    /// By MaPAKN.
    Petition,
    /// By MaVanBan.
    Document,
    /// By MaBaoCao.
    Report,
    /// By `MaDonVi/Ky`, e.g. `H44.07/2026-08`.
    Score,
    /// By MaDinhDanh. Deleting a unit retires it from the directory; its
    /// records stay.
    Unit,
}

/// Everything served, under one lock.
#[derive(Debug)]
struct State {
    now: DateTime<Utc>,
    units: Table<SimUnit>,
    dossiers: Table<Dossier>,
    petitions: Table<Petition>,
    documents: Table<Document>,
    reports: Table<Report>,
    scores: Table<SimScore>,
    /// Records invented by the shifting-pages fault so far.
    invented: u32,
}

#[derive(Debug, Default)]
struct Counters {
    requests: [AtomicU64; Endpoint::ALL.len()],
    records: [AtomicU64; Endpoint::ALL.len()],
}

impl Counters {
    fn request(&self, e: Endpoint) {
        self.requests[e.index()].fetch_add(1, Ordering::Relaxed);
    }

    fn served(&self, e: Endpoint, n: u64) {
        self.records[e.index()].fetch_add(n, Ordering::Relaxed);
    }
}

struct Inner {
    state: RwLock<State>,
    faults: Mutex<faults::FaultState>,
    counters: Counters,
    /// Bumped when faults are cleared, to release hanging requests.
    release: watch::Sender<u64>,
    timeline: Timeline,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("now", &self.read().now)
            .finish_non_exhaustive()
    }
}

impl Inner {
    // A panic while holding a lock leaves data that is still consistent
    // (every change reindexes before returning), so poisoning is ignored.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    fn faults(&self) -> MutexGuard<'_, faults::FaultState> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The simulator; clones share state.
#[derive(Clone, Debug)]
pub struct Simulator {
    inner: Arc<Inner>,
}

/// SplitMix64, to derive independent seeds for each unit and record kind
/// from the one seed: a unit's records then do not depend on how many
/// units come before it or on the order threads finish in.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn rng_for(seed: u64, unit: usize, stream: u64) -> StdRng {
    StdRng::seed_from_u64(mix(seed ^ mix(((unit as u64) << 8) | stream)))
}

/// One unit's generated records.
type UnitRecords = (Vec<Dossier>, Vec<Petition>, Vec<Document>, Vec<Report>);

fn generate_unit(i: usize, unit: &SimUnit, cfg: &SimConfig, tl: &Timeline) -> UnitRecords {
    let seed = cfg.seed;
    (
        dossiers::unit_dossiers(unit, cfg.dossiers_per_month, tl, &mut rng_for(seed, i, 1)),
        office::unit_petitions(unit, cfg.petitions_per_month, tl, &mut rng_for(seed, i, 2)),
        office::unit_documents(unit, cfg.documents_per_month, tl, &mut rng_for(seed, i, 3)),
        office::unit_reports(unit, cfg.report_due_day, tl, &mut rng_for(seed, i, 4)),
    )
}

/// Generates every unit's records, on as many threads as there are cores.
/// Each unit has its own random stream, so the result does not depend on
/// the number of threads.
fn generate_all(units: &[SimUnit], cfg: &SimConfig, tl: &Timeline) -> Vec<UnitRecords> {
    let threads = std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(units.len().div_ceil(16))
        .max(1);
    let chunk = units.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = units
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                s.spawn(move || {
                    part.iter()
                        .enumerate()
                        .map(|(k, u)| generate_unit(c * chunk + k, u, cfg, tl))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

impl Simulator {
    pub fn generate(cfg: &SimConfig) -> Simulator {
        let now = cfg.now.trunc_subsecs(0);
        let cfg = SimConfig { now, ..cfg.clone() };
        let tl = Timeline::new(now, cfg.months);
        let listed_at = tl.at(tl.months[0].first_day(), 8 * 3600).min(now);
        let units = units::make_units(cfg.units, listed_at, &mut rng_for(cfg.seed, 0, 0));
        let per_unit = generate_all(&units, &cfg, &tl);
        let mut dossiers = Vec::new();
        let mut petitions = Vec::new();
        let mut documents = Vec::new();
        let mut reports = Vec::new();
        for (d, p, doc, r) in per_unit {
            dossiers.extend(d);
            petitions.extend(p);
            documents.extend(doc);
            reports.extend(r);
        }
        let scores = scores::make_scores(
            &units,
            &dossiers,
            &petitions,
            &tl,
            &mut rng_for(cfg.seed, 0, 5),
        );
        let state = State {
            now,
            units: Table::new(units),
            dossiers: Table::new(dossiers),
            petitions: Table::new(petitions),
            documents: Table::new(documents),
            reports: Table::new(reports),
            scores: Table::new(scores),
            invented: 0,
        };
        Simulator {
            inner: Arc::new(Inner {
                state: RwLock::new(state),
                faults: Mutex::new(faults::FaultState::default()),
                counters: Counters::default(),
                release: watch::Sender::new(0),
                timeline: tl,
            }),
        }
    }

    /// The HTTP API. Hanging requests end when faults are cleared (or after
    /// an hour); use [`Simulator::serve`] to also end them on shutdown.
    pub fn router(&self) -> Router {
        server::router(self, CancellationToken::new())
    }

    /// Serves until `shutdown` is cancelled. Slow and hanging requests end
    /// at shutdown too, so that it is never held up.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> std::io::Result<()> {
        let app = server::router(&self, shutdown.clone());
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
    }

    /// The simulated present.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.read().now
    }

    /// Moves the simulated present; later changes ([`Simulator::touch`],
    /// renames) are stamped with it.
    pub fn set_now(&self, now: DateTime<Utc>) {
        self.inner.write().now = now.trunc_subsecs(0);
    }

    // ---- Reading what is served ----

    /// The unit directory, in generation order (the fixed six first).
    pub fn units(&self) -> Vec<Unit> {
        let s = self.inner.read();
        s.units.rows().iter().map(|u| u.unit.clone()).collect()
    }

    /// All dossiers, sorted by code.
    pub fn dossiers(&self) -> Vec<Dossier> {
        sorted(self.inner.read().dossiers.rows())
    }

    pub fn petitions(&self) -> Vec<Petition> {
        sorted(self.inner.read().petitions.rows())
    }

    pub fn documents(&self) -> Vec<Document> {
        sorted(self.inner.read().documents.rows())
    }

    pub fn reports(&self) -> Vec<Report> {
        sorted(self.inner.read().reports.rows())
    }

    /// The portal's scores, as par-monitor's domain records (groups keyed
    /// `TRANSPARENCY`, `PROGRESS`, `ONLINE_SERVICES`, `ONLINE_PAYMENT`,
    /// `SATISFACTION`, `DIGITIZATION`).
    pub fn scores(&self) -> Vec<PortalScore> {
        let s = self.inner.read();
        let mut out: Vec<PortalScore> = s
            .scores
            .rows()
            .iter()
            .map(|x| PortalScore {
                unit_code: x.unit_code.clone(),
                period: x.period.to_string(),
                total: x.total(),
                groups: SCORE_GROUPS
                    .iter()
                    .zip(x.groups)
                    .map(|(k, v)| ((*k).to_owned(), v))
                    .collect(),
                updated_at: x.updated_at,
                details: Default::default(),
            })
            .collect();
        out.sort_by(|a, b| (&a.unit_code, &a.period).cmp(&(&b.unit_code, &b.period)));
        out
    }

    /// The portal's `departmentId` of a unit (a UUID derived from its code).
    pub fn department_id(&self, code: &str) -> String {
        evaluation::department_id(code)
    }

    /// The province's `departmentId`: the `root_department_id` to poll the
    /// evaluation API with.
    pub fn root_department_id(&self) -> String {
        evaluation::root_id(&self.inner.read())
    }

    /// What the evaluation API serves for a period, as par-monitor's
    /// records: one per unit, the province's included, keyed by the
    /// period's key (`2026-08`, `2026-Q3`, `2026`).
    pub fn official_scores(
        &self,
        period: crate::upstream::dvcqg::protocol::EvalPeriod,
    ) -> Vec<PortalScore> {
        let s = self.inner.read();
        let mut out: Vec<PortalScore> = evaluation::official(&s, period)
            .into_iter()
            .map(|(u, groups)| {
                let scored: Vec<f64> = groups.iter().flatten().copied().collect();
                PortalScore {
                    unit_code: u.unit.code.clone(),
                    period: period.key(),
                    total: (!scored.is_empty()).then(|| store::round2(scored.iter().sum())),
                    groups: SCORE_GROUPS
                        .iter()
                        .zip(groups)
                        .map(|(k, v)| ((*k).to_owned(), v))
                        .collect(),
                    updated_at: None,
                    details: Default::default(),
                }
            })
            .collect();
        out.sort_by(|a, b| a.unit_code.cmp(&b.unit_code));
        out
    }

    /// The portal revises a unit's group score for a month (its nightly
    /// recomputation). `false` if there is no such score.
    pub fn revise_score(
        &self,
        code: &UnitCode,
        month: Month,
        group: &str,
        value: Option<f64>,
    ) -> bool {
        let Some(g) = SCORE_GROUPS.iter().position(|x| *x == group) else {
            return false;
        };
        let mut s = self.inner.write();
        let now = s.now;
        let id = format!("{code}/{month}");
        s.scores.modify(&id, |r| r.groups[g] = value) && s.scores.touch(&id, now)
    }

    // ---- Changing records, as the upstream would between polls ----

    /// Changes dossiers in place. Set `updated_at` on what you change if an
    /// incremental poll should see it.
    pub fn update_dossiers(&self, f: impl FnMut(&mut Dossier)) {
        self.inner.write().dossiers.update(f);
    }

    pub fn update_petitions(&self, f: impl FnMut(&mut Petition)) {
        self.inner.write().petitions.update(f);
    }

    pub fn update_documents(&self, f: impl FnMut(&mut Document)) {
        self.inner.write().documents.update(f);
    }

    pub fn update_reports(&self, f: impl FnMut(&mut Report)) {
        self.inner.write().reports.update(f);
    }

    /// Adds a dossier, or replaces the one with the same code.
    pub fn upsert_dossier(&self, d: Dossier) {
        let mut s = self.inner.write();
        s.dossiers.remove(&d.code);
        s.dossiers.push(d);
    }

    /// Marks a record as changed now (or a second after its last change,
    /// if that is later), so that the next incremental poll fetches it.
    /// `false` if there is no such record.
    pub fn touch(&self, kind: RecordKind, id: &str) -> bool {
        let mut s = self.inner.write();
        let now = s.now;
        match kind {
            RecordKind::Dossier => s.dossiers.touch(id, now),
            RecordKind::Petition => s.petitions.touch(id, now),
            RecordKind::Document => s.documents.touch(id, now),
            RecordKind::Report => s.reports.touch(id, now),
            RecordKind::Score => s.scores.touch(id, now),
            RecordKind::Unit => s.units.touch(id, now),
        }
    }

    /// Deletes a record upstream: it is no longer served nor counted.
    /// `false` if there is no such record.
    pub fn delete(&self, kind: RecordKind, id: &str) -> bool {
        let mut s = self.inner.write();
        match kind {
            RecordKind::Dossier => s.dossiers.remove(id),
            RecordKind::Petition => s.petitions.remove(id),
            RecordKind::Document => s.documents.remove(id),
            RecordKind::Report => s.reports.remove(id),
            RecordKind::Score => s.scores.remove(id),
            RecordKind::Unit => s.units.remove(id),
        }
    }

    /// Renames a unit in the directory, moving its NgayCapNhat forward.
    /// `false` if there is no such unit.
    pub fn rename_unit(&self, code: &UnitCode, name: &str) -> bool {
        let mut s = self.inner.write();
        let now = s.now;
        s.units
            .modify(code.as_str(), |u| u.unit.name = name.to_owned())
            && s.units.touch(code.as_str(), now)
    }

    /// Invents a record at the front of the serving order (the
    /// shifting-pages fault). `false` for kinds that cannot have one.
    fn insert_front(&self, e: Endpoint) -> bool {
        let mut s = self.inner.write();
        s.invented += 1;
        let n = s.invented;
        match e {
            Endpoint::Dossiers | Endpoint::AltDossiers => invent(&mut s.dossiers, n),
            Endpoint::Petitions => invent(&mut s.petitions, n),
            Endpoint::Documents => invent(&mut s.documents, n),
            Endpoint::Reports => invent(&mut s.reports, n),
            Endpoint::Scores766 | Endpoint::Units | Endpoint::Evaluation | Endpoint::National => {
                false
            }
        }
    }

    // ---- Faults ----

    /// Adds a fault (see [`Fault`]); a rename is applied at once.
    pub fn add_fault(&self, fault: Fault) -> Result<(), FaultError> {
        self.add_faults(vec![fault])
    }

    /// Adds several faults: all of them, or none if one is invalid.
    pub fn add_faults(&self, faults: Vec<Fault>) -> Result<(), FaultError> {
        for f in &faults {
            f.validate()?;
            if let Fault::RenameUnit { unit, .. } = f
                && !self.inner.read().units.contains(unit)
            {
                return Err(FaultError(format!("no unit `{unit}` to rename")));
            }
        }
        for f in faults {
            match f {
                Fault::RenameUnit { unit, name } => {
                    let code = UnitCode::parse(&unit).map_err(|e| FaultError(e.to_string()))?;
                    self.rename_unit(&code, &name);
                }
                other => self.inner.faults().add(other),
            }
        }
        Ok(())
    }

    /// Removes every fault and releases hanging requests. (Renames stay:
    /// they changed data, not the transport.)
    pub fn clear_faults(&self) {
        self.inner.faults().clear();
        self.inner.release.send_modify(|n| *n += 1);
    }

    pub fn active_faults(&self) -> Vec<ActiveFault> {
        self.inner.faults().active()
    }

    // ---- Counters ----

    /// Requests to all list endpoints so far.
    pub fn request_count(&self) -> u64 {
        Endpoint::ALL.into_iter().map(|e| self.requests(e)).sum()
    }

    /// Requests to one endpoint so far, faulty answers included.
    pub fn requests(&self, e: Endpoint) -> u64 {
        self.inner.counters.requests[e.index()].load(Ordering::Relaxed)
    }

    /// Records served on one endpoint so far (duplicates included).
    pub fn records_served(&self, e: Endpoint) -> u64 {
        self.inner.counters.records[e.index()].load(Ordering::Relaxed)
    }

    // ---- Ground truth ----

    fn bad_rules(&self) -> truth::Rules {
        let f = self.inner.faults();
        Endpoint::ALL
            .into_iter()
            .map(|e| (e, f.bad_rules(e)))
            .collect()
    }

    /// Everything served, counted per unit and kind, with records served
    /// broken counted apart.
    pub fn truth(&self) -> Truth {
        let rules = self.bad_rules();
        truth::count(&self.inner.read(), &rules, &self.inner.timeline)
    }

    /// Per unit, (dossiers on time, dossiers received) in `period`, judged
    /// at `as_of` by Decision 766's rules. Dossiers served broken on
    /// `/api/v1/dossiers` are left out, as a client cannot ingest them.
    pub fn on_time_truth(
        &self,
        period: Month,
        as_of: DateTime<Utc>,
    ) -> BTreeMap<UnitCode, (u64, u64)> {
        self.on_time_and_late(period, as_of).0
    }

    /// The codes of the dossiers that [`Simulator::on_time_truth`] counts
    /// as late.
    pub fn late_dossiers(&self, period: Month, as_of: DateTime<Utc>) -> BTreeSet<String> {
        self.on_time_and_late(period, as_of).1
    }

    fn on_time_and_late(
        &self,
        period: Month,
        as_of: DateTime<Utc>,
    ) -> (BTreeMap<UnitCode, (u64, u64)>, BTreeSet<String>) {
        let rules = self.bad_rules();
        let s = self.inner.read();
        let good = s
            .dossiers
            .rows()
            .iter()
            .filter(|d| !truth::bad(&rules, Endpoint::Dossiers, &d.code));
        let mut late = BTreeSet::new();
        let counts = truth::on_time(good, period, as_of, &self.inner.timeline, Some(&mut late));
        (counts, late)
    }
}

fn sorted<T: Record>(rows: &[T]) -> Vec<T> {
    let mut out = rows.to_vec();
    out.sort_by(|a, b| a.id().cmp(b.id()));
    out
}

/// A copy of the first record in serving order, with a new id and a
/// NgayCapNhat a second before it, so that it becomes the new first.
fn invent<T: Record>(table: &mut Table<T>, n: u32) -> bool {
    let Some(first) = table.first() else {
        return false;
    };
    let mut r = first.clone();
    let before = first.updated_at().map(|t| t - Duration::seconds(1));
    if !r.set_id(format!("{}-S{n}", first.id())) {
        return false;
    }
    if let Some(t) = before {
        r.set_updated_at(t);
    }
    table.push(r);
    true
}

/// A JSON rendering of a dossier in the default dialect.
pub fn to_wire(d: &Dossier) -> serde_json::Value {
    serde_json::to_value(wire::WireDossier::new(d)).expect("a dossier serialises")
}
