//! The records as the upstream systems put them on the wire.
//!
//! Pages are written straight into a byte buffer from borrowed `Serialize`
//! structs: no `serde_json::Value` tree per record, which is several times
//! slower at a page of ten thousand dossiers. Only a record served broken
//! (a bad-record fault) goes through a `Value`, to have a field removed or
//! replaced.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::catalog::{self, Procedure};
use super::faults::{BadRule, Defect, Endpoint};
use super::store::SimScore;
use super::units::SimUnit;
use crate::domain::{
    AxisStatus, Channel, Direction, Document, Dossier, DossierStatus, OnlinePayment, Petition,
    PetitionCategory, Report, ReportStatus, Satisfaction, UnitKind,
};
use crate::time::LOCAL_TZ;

/// A date as `yyyyMMddHHmmss` in Asia/Ho_Chi_Minh, or `null`.
#[derive(Clone, Copy)]
pub(crate) struct WireDate(pub Option<DateTime<Utc>>);

/// A date as `dd/MM/yyyy HH:mm:ss` in Asia/Ho_Chi_Minh, or `null` (the
/// alternative dialect).
#[derive(Clone, Copy)]
pub(crate) struct AltDate(pub Option<DateTime<Utc>>);

fn push2(buf: &mut [u8], at: usize, v: u32) {
    buf[at] = b'0' + (v / 10 % 10) as u8;
    buf[at + 1] = b'0' + (v % 10) as u8;
}

fn push4(buf: &mut [u8], at: usize, v: u32) {
    push2(buf, at, v / 100);
    push2(buf, at + 2, v % 100);
}

fn local_parts(t: DateTime<Utc>) -> [u32; 6] {
    let l = t.with_timezone(&LOCAL_TZ);
    [
        l.year().clamp(0, 9999) as u32,
        l.month(),
        l.day(),
        l.hour(),
        l.minute(),
        l.second(),
    ]
}

/// `yyyyMMddHHmmss`, written by hand: chrono's formatter parses its pattern
/// on every call, and a page of dossiers has a dozen dates per record.
pub(crate) fn format_wire(t: DateTime<Utc>) -> String {
    let [y, mo, d, h, mi, s] = local_parts(t);
    let mut b = [0u8; 14];
    push4(&mut b, 0, y);
    push2(&mut b, 4, mo);
    push2(&mut b, 6, d);
    push2(&mut b, 8, h);
    push2(&mut b, 10, mi);
    push2(&mut b, 12, s);
    String::from_utf8_lossy(&b).into_owned()
}

fn format_alt(t: DateTime<Utc>) -> String {
    let [y, mo, d, h, mi, s] = local_parts(t);
    let mut b = *b"dd/MM/yyyy HH:mm:ss";
    push2(&mut b, 0, d);
    push2(&mut b, 3, mo);
    push4(&mut b, 6, y);
    push2(&mut b, 11, h);
    push2(&mut b, 14, mi);
    push2(&mut b, 17, s);
    String::from_utf8_lossy(&b).into_owned()
}

impl Serialize for WireDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(t) => s.serialize_str(&format_wire(t)),
            None => s.serialize_none(),
        }
    }
}

impl Serialize for AltDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(t) => s.serialize_str(&format_alt(t)),
            None => s.serialize_none(),
        }
    }
}

fn satisfaction_code(s: Option<Satisfaction>) -> Option<u8> {
    s.map(|s| match s {
        Satisfaction::Satisfied => 1,
        Satisfaction::Neutral => 2,
        Satisfaction::Dissatisfied => 3,
    })
}

#[derive(Serialize)]
#[allow(non_snake_case)]
struct WireSupplement {
    ThoiGianYeuCau: WireDate,
    ThoiGianHoanThanh: WireDate,
    NgayHenTraCu: WireDate,
    NgayHenTraMoi: WireDate,
}

#[derive(Serialize)]
#[allow(non_snake_case)]
struct WireFee<'a> {
    TenLePhi: &'a str,
    SoTien: u64,
}

#[derive(Serialize)]
#[allow(non_snake_case)]
struct WireComponent<'a> {
    TenTaiLieu: &'a str,
    DuocSoHoa: bool,
    DuocTaiSuDung: bool,
}

#[derive(Serialize)]
#[allow(non_snake_case)]
struct WireResult<'a> {
    TenGiayTo: &'a str,
    DuongDanTepTinKetQua: Option<String>,
}

#[derive(Serialize)]
#[allow(non_snake_case)]
struct WireApology<'a> {
    NgayXinLoi: WireDate,
    LyDo: Option<&'a str>,
    NgayHenTraMoi: WireDate,
}

/// A dossier in the default format (domain.md's field names).
#[derive(Serialize)]
#[allow(non_snake_case)]
pub(crate) struct WireDossier<'a> {
    MaHoSo: &'a str,
    MaTTHC: &'a str,
    TenTTHC: Option<&'a str>,
    MaLinhVuc: Option<&'a str>,
    DonViXuLy: &'a str,
    KenhThucHien: u8,
    NgayNopHoSo: WireDate,
    NgayTiepNhan: WireDate,
    NgayHenTra: WireDate,
    NgayKetThucXuLy: WireDate,
    NgayTra: WireDate,
    NgayTuChoi: WireDate,
    TrangThaiHoSo: u8,
    DanhSachHoSoBoSung: Vec<WireSupplement>,
    DuocThanhToanTrucTuyen: u8,
    CoNghiaVuTaiChinh: bool,
    DanhSachLePhi: Vec<WireFee<'a>>,
    HoSoCoThanhPhanSoHoa: bool,
    TaiLieuNop: Vec<WireComponent<'a>>,
    DanhSachGiayToKetQua: Vec<WireResult<'a>>,
    TaiKhoanDuocXacThucVoiVNeID: bool,
    PhieuXinLoi: Vec<WireApology<'a>>,
    DaDongBoDVCQG: bool,
    DaChiaSeKhoDuLieu: bool,
    SuDungDuLieuDanCu: bool,
    MucDoHaiLong: Option<u8>,
    NgayCapNhat: WireDate,
}

/// Fee lines for a dossier that has fees; a procedure the catalogue does
/// not know (a test may invent one) gets one generic line.
const GENERIC_FEE: &[(&str, u64)] = &[("Phí, lệ phí giải quyết thủ tục hành chính", 50_000)];
const GENERIC_RESULT: &str = "Kết quả giải quyết thủ tục hành chính";

fn component_name(p: Option<&'static Procedure>, i: u32) -> &'static str {
    const GENERIC: [&str; 4] = [
        "Đơn đề nghị",
        "Giấy tờ tùy thân",
        "Giấy tờ chứng minh",
        "Tài liệu khác",
    ];
    match p {
        Some(p) if !p.components.is_empty() => p.components[i as usize % p.components.len()],
        _ => GENERIC[i as usize % GENERIC.len()],
    }
}

impl<'a> WireDossier<'a> {
    pub fn new(d: &'a Dossier) -> Self {
        let p = catalog::procedure(&d.procedure_code);
        let fees: &'static [(&'static str, u64)] = match p {
            _ if !d.has_fees => &[],
            Some(p) if !p.fees.is_empty() => p.fees,
            _ => GENERIC_FEE,
        };
        let c = d.components;
        let finished = matches!(d.status, DossierStatus::Done | DossierStatus::Returned);
        let results = if finished || d.e_result {
            vec![WireResult {
                TenGiayTo: p.map_or(GENERIC_RESULT, |p| p.result),
                DuongDanTepTinKetQua: d
                    .e_result
                    .then(|| format!("https://dvc.h44.example/ketqua/{}.pdf", d.code)),
            }]
        } else {
            Vec::new()
        };
        WireDossier {
            MaHoSo: &d.code,
            MaTTHC: &d.procedure_code,
            TenTTHC: d.procedure_name.as_deref(),
            MaLinhVuc: d.field_code.as_deref(),
            DonViXuLy: d.unit_code.as_str(),
            KenhThucHien: d.channel.code(),
            NgayNopHoSo: WireDate(d.submitted_at),
            NgayTiepNhan: WireDate(d.received_at),
            NgayHenTra: WireDate(d.due_at),
            NgayKetThucXuLy: WireDate(d.finished_at),
            NgayTra: WireDate(d.returned_at),
            NgayTuChoi: WireDate(d.refused_at),
            TrangThaiHoSo: d.status.code(),
            DanhSachHoSoBoSung: d
                .supplements
                .iter()
                .map(|s| WireSupplement {
                    ThoiGianYeuCau: WireDate(Some(s.requested_at)),
                    ThoiGianHoanThanh: WireDate(s.completed_at),
                    NgayHenTraCu: WireDate(s.old_due_at),
                    NgayHenTraMoi: WireDate(s.new_due_at),
                })
                .collect(),
            DuocThanhToanTrucTuyen: match d.online_payment {
                OnlinePayment::NotPaidOnline => 0,
                OnlinePayment::NationalPortal => 1,
                OnlinePayment::ProvincialGateway => 2,
            },
            CoNghiaVuTaiChinh: d.has_fees,
            DanhSachLePhi: fees
                .iter()
                .map(|&(name, amount)| WireFee {
                    TenLePhi: name,
                    SoTien: amount,
                })
                .collect(),
            HoSoCoThanhPhanSoHoa: d.digitized,
            TaiLieuNop: (0..c.total)
                .map(|i| WireComponent {
                    TenTaiLieu: component_name(p, i),
                    DuocSoHoa: i < c.digitized,
                    DuocTaiSuDung: i < c.reused,
                })
                .collect(),
            DanhSachGiayToKetQua: results,
            TaiKhoanDuocXacThucVoiVNeID: d.vneid_authenticated,
            PhieuXinLoi: d
                .apologies
                .iter()
                .map(|a| WireApology {
                    NgayXinLoi: WireDate(a.issued_at),
                    LyDo: a.reason.as_deref(),
                    NgayHenTraMoi: WireDate(a.new_due_at),
                })
                .collect(),
            DaDongBoDVCQG: d.synced_to_portal,
            DaChiaSeKhoDuLieu: d.shared_to_citizen_store,
            SuDungDuLieuDanCu: d.used_population_data,
            MucDoHaiLong: satisfaction_code(d.satisfaction),
            NgayCapNhat: WireDate(d.updated_at),
        }
    }
}

#[derive(Serialize)]
#[allow(non_snake_case)]
pub(crate) struct WirePetition<'a> {
    MaPAKN: &'a str,
    DonViXuLy: &'a str,
    PhanLoai: u8,
    NgayTiepNhan: WireDate,
    HanXuLy: WireDate,
    NgayTraLoi: WireDate,
    MucDoHaiLong: Option<u8>,
    NgayCapNhat: WireDate,
}

impl<'a> WirePetition<'a> {
    pub fn new(p: &'a Petition) -> Self {
        WirePetition {
            MaPAKN: &p.code,
            DonViXuLy: p.unit_code.as_str(),
            PhanLoai: match p.category {
                PetitionCategory::Procedure => 1,
                PetitionCategory::Conduct => 2,
                PetitionCategory::Other => 3,
            },
            NgayTiepNhan: WireDate(p.received_at),
            HanXuLy: WireDate(p.due_at),
            NgayTraLoi: WireDate(p.answered_at),
            MucDoHaiLong: satisfaction_code(p.satisfaction),
            NgayCapNhat: WireDate(p.updated_at),
        }
    }
}

#[derive(Serialize)]
#[allow(non_snake_case)]
pub(crate) struct WireDocument<'a> {
    MaVanBan: &'a str,
    DonVi: &'a str,
    LoaiVanBan: &'static str,
    NgayDangKy: WireDate,
    GuiQuaTrucLienThong: bool,
    TrangThaiLienThong: Option<&'static str>,
    CoChuKySo: bool,
    ChuKySoHopLe: Option<bool>,
    HanXuLy: WireDate,
    NgayHoanThanh: WireDate,
    DaLapHoSoCongViec: bool,
    NgayCapNhat: WireDate,
}

impl<'a> WireDocument<'a> {
    pub fn new(d: &'a Document) -> Self {
        WireDocument {
            MaVanBan: &d.id,
            DonVi: d.unit_code.as_str(),
            LoaiVanBan: match d.direction {
                Direction::Outgoing => "di",
                Direction::Incoming => "den",
            },
            NgayDangKy: WireDate(d.registered_at),
            GuiQuaTrucLienThong: d.electronic,
            TrangThaiLienThong: d.axis_status.map(AxisStatus::as_str),
            CoChuKySo: d.signed,
            ChuKySoHopLe: d.signature_verified,
            HanXuLy: WireDate(d.due_at),
            NgayHoanThanh: WireDate(d.completed_at),
            DaLapHoSoCongViec: d.filed_electronically,
            NgayCapNhat: WireDate(d.updated_at),
        }
    }
}

#[derive(Serialize)]
#[allow(non_snake_case)]
pub(crate) struct WireReport<'a> {
    MaBaoCao: &'a str,
    LoaiBaoCao: &'a str,
    TenBaoCao: Option<&'a str>,
    DonVi: &'a str,
    KyBaoCao: &'a str,
    HanNop: WireDate,
    NgayNop: WireDate,
    TrangThai: u8,
    NgayCapNhat: WireDate,
}

impl<'a> WireReport<'a> {
    pub fn new(r: &'a Report) -> Self {
        WireReport {
            MaBaoCao: &r.id,
            LoaiBaoCao: &r.report_type,
            TenBaoCao: r.title.as_deref(),
            DonVi: r.unit_code.as_str(),
            KyBaoCao: &r.period,
            HanNop: WireDate(Some(r.due_at)),
            NgayNop: WireDate(r.submitted_at),
            TrangThai: match r.status {
                ReportStatus::Draft => 1,
                ReportStatus::Submitted => 2,
                ReportStatus::Returned => 3,
                ReportStatus::Accepted => 4,
            },
            NgayCapNhat: WireDate(r.updated_at),
        }
    }
}

#[derive(Serialize)]
#[allow(non_snake_case)]
pub(crate) struct WireScore<'a> {
    MaDonVi: &'a str,
    Ky: String,
    TongDiem: Option<f64>,
    CongKhaiMinhBach: Option<f64>,
    TienDoGiaiQuyet: Option<f64>,
    DichVuTrucTuyen: Option<f64>,
    ThanhToanTrucTuyen: Option<f64>,
    MucDoHaiLong: Option<f64>,
    SoHoa: Option<f64>,
    NgayCapNhat: WireDate,
}

impl<'a> WireScore<'a> {
    pub fn new(s: &'a SimScore) -> Self {
        let [
            transparency,
            progress,
            online,
            payment,
            satisfaction,
            digitization,
        ] = s.groups;
        WireScore {
            MaDonVi: s.unit_code.as_str(),
            Ky: s.period.to_string(),
            TongDiem: s.total(),
            CongKhaiMinhBach: transparency,
            TienDoGiaiQuyet: progress,
            DichVuTrucTuyen: online,
            ThanhToanTrucTuyen: payment,
            MucDoHaiLong: satisfaction,
            SoHoa: digitization,
            NgayCapNhat: WireDate(s.updated_at),
        }
    }
}

#[derive(Serialize)]
#[allow(non_snake_case)]
pub(crate) struct WireUnit<'a> {
    MaDinhDanh: &'a str,
    TenDonVi: &'a str,
    LoaiDonVi: Option<&'static str>,
    MaDonViCha: Option<&'a str>,
    EmailNguoiDungDau: Option<&'a str>,
    NgayCapNhat: WireDate,
}

impl<'a> WireUnit<'a> {
    pub fn new(u: &'a SimUnit) -> Self {
        WireUnit {
            MaDinhDanh: u.unit.code.as_str(),
            TenDonVi: &u.unit.name,
            LoaiDonVi: u.unit.kind.map(UnitKind::as_str),
            MaDonViCha: u.unit.parent.as_ref().map(|p| p.as_str()),
            EmailNguoiDungDau: u.unit.head_email.as_ref().map(|e| e.as_str()),
            NgayCapNhat: WireDate(u.updated_at),
        }
    }
}

// ---- The alternative dialect (`/alt/v2/ho-so`) ----

#[derive(Serialize)]
struct AltProcedure<'a> {
    ma: &'a str,
    ten: Option<&'a str>,
    #[serde(rename = "linhVuc")]
    linh_vuc: Option<&'a str>,
}

#[derive(Serialize)]
struct AltUnit<'a> {
    ma: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AltTimes {
    nop: AltDate,
    tiep_nhan: AltDate,
    hen_tra: AltDate,
    ket_thuc: AltDate,
    tra: AltDate,
    tu_choi: AltDate,
    cap_nhat: AltDate,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AltSupplement {
    yeu_cau: AltDate,
    hoan_thanh: AltDate,
    hen_tra_cu: AltDate,
    hen_tra_moi: AltDate,
}

/// A dossier in the alternative dialect.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AltDossier<'a> {
    id: &'a str,
    thu_tuc: AltProcedure<'a>,
    don_vi: AltUnit<'a>,
    kenh: &'static str,
    trang_thai: &'static str,
    thoi_gian: AltTimes,
    bo_sung: Vec<AltSupplement>,
}

/// The alternative dialect's status names, in the order of codes 1..10.
pub(crate) const ALT_STATUSES: [&str; 10] = [
    "MOI",
    "DA_TIEP_NHAN",
    "TU_CHOI",
    "DANG_XU_LY",
    "YEU_CAU_BO_SUNG",
    "CHO_NOP_PHI",
    "RUT_HO_SO",
    "DUNG_XU_LY",
    "DA_XU_LY",
    "DA_TRA_KET_QUA",
];

impl<'a> AltDossier<'a> {
    pub fn new(d: &'a Dossier) -> Self {
        AltDossier {
            id: &d.code,
            thu_tuc: AltProcedure {
                ma: &d.procedure_code,
                ten: d.procedure_name.as_deref(),
                linh_vuc: d.field_code.as_deref(),
            },
            don_vi: AltUnit {
                ma: d.unit_code.as_str(),
            },
            kenh: match d.channel {
                Channel::InPerson => "TRUC_TIEP",
                Channel::Online => "TRUC_TUYEN",
                Channel::Postal => "BUU_CHINH",
            },
            trang_thai: ALT_STATUSES[usize::from(d.status.code()) - 1],
            thoi_gian: AltTimes {
                nop: AltDate(d.submitted_at),
                tiep_nhan: AltDate(d.received_at),
                hen_tra: AltDate(d.due_at),
                ket_thuc: AltDate(d.finished_at),
                tra: AltDate(d.returned_at),
                tu_choi: AltDate(d.refused_at),
                cap_nhat: AltDate(d.updated_at),
            },
            bo_sung: d
                .supplements
                .iter()
                .map(|s| AltSupplement {
                    yeu_cau: AltDate(Some(s.requested_at)),
                    hoan_thanh: AltDate(s.completed_at),
                    hen_tra_cu: AltDate(s.old_due_at),
                    hen_tra_moi: AltDate(s.new_due_at),
                })
                .collect(),
        }
    }
}

// ---- Bad records ----

/// The field each defect breaks by default, per endpoint, and the value an
/// unknown status gets.
fn default_field(e: Endpoint, defect: Defect) -> &'static str {
    match (e, defect) {
        (Endpoint::Dossiers, Defect::UnknownStatus) => "TrangThaiHoSo",
        (Endpoint::Dossiers, _) => "NgayTiepNhan",
        (Endpoint::Petitions, Defect::UnknownStatus) => "PhanLoai",
        (Endpoint::Petitions, _) => "NgayTiepNhan",
        (Endpoint::Documents, Defect::UnknownStatus) => "TrangThaiLienThong",
        (Endpoint::Documents, _) => "NgayDangKy",
        (Endpoint::Reports, Defect::UnknownStatus) => "TrangThai",
        (Endpoint::Reports, _) => "HanNop",
        (Endpoint::Scores766, Defect::MissingField) => "Ky",
        (Endpoint::Scores766, Defect::UnparseableDate) => "NgayCapNhat",
        (Endpoint::Scores766, _) => "Ky",
        (Endpoint::Units, Defect::MissingField) => "TenDonVi",
        (Endpoint::Units, Defect::UnparseableDate) => "NgayCapNhat",
        (Endpoint::Units, _) => "LoaiDonVi",
        (Endpoint::AltDossiers, Defect::UnknownStatus) => "trangThai",
        (Endpoint::AltDossiers, _) => "thoiGian.tiepNhan",
        // Validation keeps bad records away from the evaluation API.
        (Endpoint::Evaluation | Endpoint::National, _) => "departmentCode",
    }
}

/// The field the data-quality defects break by default, per endpoint
/// (validation keeps each defect to the endpoints named here).
fn quality_field(e: Endpoint, defect: Defect) -> Option<&'static str> {
    Some(match (e, defect) {
        (Endpoint::Dossiers, Defect::ImpossibleDeadline) => "NgayHenTra",
        (Endpoint::Petitions | Endpoint::Documents, Defect::ImpossibleDeadline) => "HanXuLy",
        (Endpoint::Dossiers, Defect::EndBeforeStart) => "NgayKetThucXuLy",
        (Endpoint::Petitions, Defect::EndBeforeStart) => "NgayTraLoi",
        (Endpoint::Documents, Defect::EndBeforeStart) => "NgayHoanThanh",
        (Endpoint::Dossiers | Endpoint::Petitions, Defect::FutureDate) => "NgayTiepNhan",
        (Endpoint::Documents, Defect::FutureDate) => "NgayDangKy",
        (Endpoint::Reports, Defect::FutureDate) => "NgayNop",
        (Endpoint::Dossiers, Defect::DuplicateCode) => "MaHoSo",
        (Endpoint::Petitions, Defect::DuplicateCode) => "MaPAKN",
        (Endpoint::Documents, Defect::DuplicateCode) => "MaVanBan",
        (Endpoint::Reports, Defect::DuplicateCode) => "MaBaoCao",
        (Endpoint::Dossiers, Defect::ControlChars) => "TenTTHC",
        _ => return None,
    })
}

/// The code every record broken by [`Defect::DuplicateCode`] is served under.
pub const DUPLICATE_CODE: &str = "DUP-0001";

/// A date no wire format parses: month 13, day 45.
pub(crate) const UNPARSEABLE_DATE: &str = "2026-13-45";

/// Breaks `record` as `rule` says.
fn break_record(e: Endpoint, rule: &BadRule, record: &mut Value) {
    let path = rule
        .field
        .as_deref()
        .or_else(|| quality_field(e, rule.defect))
        .unwrap_or_else(|| default_field(e, rule.defect));
    let (parents, last) = match path.rsplit_once('.') {
        Some((p, l)) => (p.split('.').collect::<Vec<_>>(), l),
        None => (Vec::new(), path),
    };
    let mut target = record;
    for p in parents {
        match target.get_mut(p) {
            Some(t) => target = t,
            None => return,
        }
    }
    let Some(obj) = target.as_object_mut() else {
        return;
    };
    match rule.defect {
        Defect::MissingField => {
            obj.remove(last);
        }
        Defect::UnparseableDate => {
            obj.insert(last.to_owned(), Value::from(UNPARSEABLE_DATE));
        }
        Defect::UnknownStatus => {
            // Numeric codes get 42; string-coded fields get "42".
            let value = match obj.get(last) {
                Some(Value::String(_)) => Value::from("42"),
                _ => Value::from(42),
            };
            obj.insert(last.to_owned(), value);
        }
        Defect::ImpossibleDeadline => {
            obj.insert(last.to_owned(), Value::from("19000101000000"));
        }
        Defect::EndBeforeStart => {
            obj.insert(last.to_owned(), Value::from("20000101000000"));
        }
        Defect::FutureDate => {
            obj.insert(last.to_owned(), Value::from("20991231000000"));
        }
        Defect::DuplicateCode => {
            obj.insert(last.to_owned(), Value::from(DUPLICATE_CODE));
        }
        Defect::ControlChars => {
            let text = obj
                .get(last)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            obj.insert(
                last.to_owned(),
                Value::from(format!("\u{0}\u{7}\u{202E}{text}")),
            );
        }
    }
}

/// Appends one record to a page, broken if a rule says so.
pub(crate) fn write_record<W: Serialize>(
    out: &mut Vec<u8>,
    e: Endpoint,
    wire: &W,
    bad: Option<&BadRule>,
) -> serde_json::Result<()> {
    match bad {
        None => serde_json::to_writer(&mut *out, wire),
        Some(rule) => {
            let mut v = serde_json::to_value(wire)?;
            break_record(e, rule, &mut v);
            serde_json::to_writer(&mut *out, &v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_are_local_time_in_both_formats() {
        // 03:05:09 UTC is 10:05:09 in Hanoi.
        let t = Utc.with_ymd_and_hms(2026, 8, 20, 3, 5, 9).unwrap();
        assert_eq!(format_wire(t), "20260820100509");
        assert_eq!(format_alt(t), "20/08/2026 10:05:09");
        assert_eq!(
            format_wire(t),
            t.with_timezone(&LOCAL_TZ)
                .format("%Y%m%d%H%M%S")
                .to_string()
        );
        assert_eq!(serde_json::to_string(&WireDate(None)).unwrap(), "null");
    }

    #[test]
    fn a_bad_record_loses_or_garbles_exactly_one_field() {
        let mut v = serde_json::json!({"MaHoSo": "A", "NgayTiepNhan": "20260820100509", "TrangThaiHoSo": 4});
        let rule = |defect| BadRule {
            every: 1,
            defect,
            field: None,
        };
        break_record(Endpoint::Dossiers, &rule(Defect::MissingField), &mut v);
        assert!(v.get("NgayTiepNhan").is_none());
        break_record(Endpoint::Dossiers, &rule(Defect::UnknownStatus), &mut v);
        assert_eq!(v["TrangThaiHoSo"], 42);
        let mut alt =
            serde_json::json!({"id": "A", "trangThai": "MOI", "thoiGian": {"tiepNhan": "x"}});
        break_record(
            Endpoint::AltDossiers,
            &rule(Defect::UnparseableDate),
            &mut alt,
        );
        assert_eq!(alt["thoiGian"]["tiepNhan"], UNPARSEABLE_DATE);
        break_record(
            Endpoint::AltDossiers,
            &rule(Defect::UnknownStatus),
            &mut alt,
        );
        assert_eq!(alt["trangThai"], "42");
    }
}
