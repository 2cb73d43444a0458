//! The procedure-handling system (Hệ thống thông tin giải quyết TTHC):
//! one-stop-shop dossiers and petitions (PAKN).
//!
//! Default wire format (domain.md's field names, which the simulator
//! speaks): `GET {base}api/v1/dossiers?page=P&size=S[&updated_since=…]`
//! answering `{"data": [...], "total_pages": T}`, dates `yyyyMMddHHmmss` in
//! Asia/Ho_Chi_Minh. Petitions likewise at `api/v1/petitions`.

use chrono::{DateTime, Utc};

use super::Reject;
use super::mapping::{CodeTable, Reader, Schema, check_name, opt, req};
use crate::domain::{
    Apology, Channel, ComponentCounts, Dossier, DossierStatus, OnlinePayment, Petition,
    PetitionCategory, Satisfaction, SupplementRequest,
};

pub(super) const SATISFACTION: CodeTable = CodeTable {
    name: "satisfaction",
    defaults: &[("1", "satisfied"), ("2", "neutral"), ("3", "dissatisfied")],
    check: check_name::<Satisfaction>,
};

pub static DOSSIERS: Schema = Schema {
    default_path: "api/v1/dossiers",
    incremental: true,
    fields: &[
        req("code", "MaHoSo"),
        req("unit", "DonViXuLy"),
        req("procedure_code", "MaTTHC"),
        opt("procedure_name", "TenTTHC"),
        opt("field_code", "MaLinhVuc"),
        opt("channel", "KenhThucHien"),
        req("status", "TrangThaiHoSo"),
        opt("submitted_at", "NgayNopHoSo"),
        opt("received_at", "NgayTiepNhan"),
        opt("due_at", "NgayHenTra"),
        opt("finished_at", "NgayKetThucXuLy"),
        opt("returned_at", "NgayTra"),
        opt("refused_at", "NgayTuChoi"),
        opt("supplements", "DanhSachHoSoBoSung"),
        opt("supplement_requested_at", "ThoiGianYeuCau"),
        opt("supplement_completed_at", "ThoiGianHoanThanh"),
        opt("supplement_old_due_at", "NgayHenTraCu"),
        opt("supplement_new_due_at", "NgayHenTraMoi"),
        opt("apologies", "PhieuXinLoi"),
        opt("apology_issued_at", "NgayXinLoi"),
        opt("apology_reason", "LyDo"),
        opt("apology_new_due_at", "NgayHenTraMoi"),
        opt("has_fees", "CoNghiaVuTaiChinh"),
        opt("fees", "DanhSachLePhi"),
        opt("online_payment", "DuocThanhToanTrucTuyen"),
        opt("digitized", "HoSoCoThanhPhanSoHoa"),
        opt("components", "TaiLieuNop"),
        opt("component_digitized", "DuocSoHoa"),
        opt("component_reused", "DuocTaiSuDung"),
        opt("results", "DanhSachGiayToKetQua"),
        opt("result_file", "DuongDanTepTinKetQua"),
        opt("vneid_authenticated", "TaiKhoanDuocXacThucVoiVNeID"),
        opt("synced_to_portal", "DaDongBoDVCQG"),
        opt("shared_to_citizen_store", "DaChiaSeKhoDuLieu"),
        opt("used_population_data", "SuDungDuLieuDanCu"),
        opt("satisfaction", "MucDoHaiLong"),
        opt("updated_at", "NgayCapNhat"),
    ],
    codes: &[
        CodeTable {
            name: "status",
            defaults: &[
                ("1", "newly_registered"),
                ("2", "received"),
                ("3", "refused"),
                ("4", "in_progress"),
                ("5", "supplement_requested"),
                ("6", "awaiting_fees"),
                ("7", "withdrawn"),
                ("8", "stopped"),
                ("9", "done"),
                ("10", "returned"),
            ],
            check: check_name::<DossierStatus>,
        },
        CodeTable {
            name: "channel",
            defaults: &[("1", "in_person"), ("2", "online"), ("3", "postal")],
            check: check_name::<Channel>,
        },
        CodeTable {
            name: "online_payment",
            defaults: &[
                ("0", "not_paid_online"),
                ("1", "national_portal"),
                ("2", "provincial_gateway"),
            ],
            check: check_name::<OnlinePayment>,
        },
        SATISFACTION,
    ],
};

pub static PETITIONS: Schema = Schema {
    default_path: "api/v1/petitions",
    incremental: true,
    fields: &[
        req("code", "MaPAKN"),
        req("unit", "DonViXuLy"),
        opt("category", "PhanLoai"),
        opt("received_at", "NgayTiepNhan"),
        opt("due_at", "HanXuLy"),
        opt("answered_at", "NgayTraLoi"),
        opt("satisfaction", "MucDoHaiLong"),
        opt("updated_at", "NgayCapNhat"),
    ],
    codes: &[
        CodeTable {
            name: "category",
            defaults: &[("1", "procedure"), ("2", "conduct"), ("3", "other")],
            check: check_name::<PetitionCategory>,
        },
        SATISFACTION,
    ],
};

pub fn map_dossier(r: &mut Reader<'_>) -> Result<Dossier, Reject> {
    let code = r.string("code")?;
    r.identify(&code);
    let unit_code = r.unit_code()?;
    let procedure_code = r.string("procedure_code")?;
    let status = r.required_code("status", "status")?;
    let supplements = r.list_of("supplements", supplement)?;
    let apologies = r.list_of("apologies", apology)?;
    let components = component_counts(r)?;
    let e_result = has_e_result(r)?;
    // Fees are declared by a flag, or implied by a non-empty fee list.
    let has_fees = r.flag("has_fees")? || !r.list("fees")?.is_empty();
    let received_at = received_at(r, status)?;
    Ok(Dossier {
        procedure_name: r.opt_string("procedure_name")?,
        field_code: r.opt_string("field_code")?,
        // A missing channel means in person, as the national portal's sync does.
        channel: r.code("channel", "channel")?.unwrap_or(Channel::InPerson),
        status,
        submitted_at: r.date("submitted_at")?,
        received_at,
        due_at: r.date("due_at")?,
        finished_at: r.date("finished_at")?,
        returned_at: r.date("returned_at")?,
        refused_at: r.date("refused_at")?,
        supplements,
        apologies,
        has_fees,
        online_payment: r
            .code("online_payment", "online_payment")?
            .unwrap_or(OnlinePayment::NotPaidOnline),
        digitized: r.flag("digitized")?,
        components,
        e_result,
        vneid_authenticated: r.flag("vneid_authenticated")?,
        synced_to_portal: r.flag("synced_to_portal")?,
        shared_to_citizen_store: r.flag("shared_to_citizen_store")?,
        used_population_data: r.flag("used_population_data")?,
        satisfaction: r.code("satisfaction", "satisfaction")?,
        updated_at: r.date("updated_at")?,
        ..Dossier::new(code, unit_code, procedure_code)
    })
}

/// One request for more documents (an element of `supplements`).
fn supplement(s: &Reader<'_>) -> Result<SupplementRequest, Reject> {
    Ok(SupplementRequest {
        requested_at: s.required_date("supplement_requested_at")?,
        completed_at: s.date("supplement_completed_at")?,
        old_due_at: s.date("supplement_old_due_at")?,
        new_due_at: s.date("supplement_new_due_at")?,
    })
}

/// One apology for a late result (an element of `apologies`).
fn apology(a: &Reader<'_>) -> Result<Apology, Reject> {
    Ok(Apology {
        issued_at: a.date("apology_issued_at")?,
        reason: a.opt_string("apology_reason")?,
        new_due_at: a.date("apology_new_due_at")?,
    })
}

/// How many of the submitted components there are, were digitized and
/// were reused.
fn component_counts(r: &Reader<'_>) -> Result<ComponentCounts, Reject> {
    let mut components = ComponentCounts::default();
    for c in r.list("components")? {
        components.total += 1;
        components.digitized += u32::from(c.flag("component_digitized")?);
        components.reused += u32::from(c.flag("component_reused")?);
    }
    Ok(components)
}

/// Whether a result was given as an electronic file.
fn has_e_result(r: &Reader<'_>) -> Result<bool, Reject> {
    let mut e_result = false;
    for res in r.list("results")? {
        e_result |= res.opt_string("result_file")?.is_some();
    }
    Ok(e_result)
}

/// When the dossier was received. A dossier past reception without a
/// receipt time would silently drop out of every indicator: that is a
/// broken record, not a new one.
fn received_at(r: &Reader<'_>, status: DossierStatus) -> Result<Option<DateTime<Utc>>, Reject> {
    let received_at = r.date("received_at")?;
    if received_at.is_none() && implies_receipt(status) {
        return Err(r.reject(
            "received_at",
            format!("required for a dossier in status {}", status.as_str()),
        ));
    }
    Ok(received_at)
}

/// Statuses only reachable after the one-stop shop received the dossier.
/// Newly registered, refused (possibly at the desk) and withdrawn dossiers
/// may legitimately never have been received.
fn implies_receipt(status: DossierStatus) -> bool {
    !matches!(
        status,
        DossierStatus::NewlyRegistered | DossierStatus::Refused | DossierStatus::Withdrawn
    )
}

pub fn map_petition(r: &mut Reader<'_>) -> Result<Petition, Reject> {
    let code = r.string("code")?;
    r.identify(&code);
    Ok(Petition {
        unit_code: r.unit_code()?,
        category: r
            .code("category", "category")?
            .unwrap_or(PetitionCategory::Other),
        received_at: r.date("received_at")?,
        due_at: r.date("due_at")?,
        answered_at: r.date("answered_at")?,
        satisfaction: r.code("satisfaction", "satisfaction")?,
        updated_at: r.date("updated_at")?,
        code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FeedMapping;
    use crate::upstream::mapping::{FeedKind, wire};
    use serde_json::{Value, json};

    fn record() -> Value {
        json!({
            "MaHoSo": "H44.07-260803-00001",
            "MaTTHC": "1.001766",
            "TenTTHC": "Cấp phiếu lý lịch tư pháp",
            "MaLinhVuc": "LLTP",
            "DonViXuLy": "H44.07",
            "KenhThucHien": 2,
            "NgayNopHoSo": "20260803080000",
            "NgayTiepNhan": "20260803090000",
            "NgayHenTra": "20260810170000",
            "NgayKetThucXuLy": null,
            "TrangThaiHoSo": 4,
            "DanhSachHoSoBoSung": [
                {"ThoiGianYeuCau": "20260804090000", "ThoiGianHoanThanh": "20260805090000"}
            ],
            "DuocThanhToanTrucTuyen": 1,
            "DanhSachLePhi": [{"TenLePhi": "Lệ phí", "SoTien": 200000}],
            "TaiLieuNop": [
                {"TenTaiLieu": "Tờ khai", "DuocSoHoa": true, "DuocTaiSuDung": false},
                {"TenTaiLieu": "CCCD", "DuocSoHoa": true, "DuocTaiSuDung": true}
            ],
            "DanhSachGiayToKetQua": [{"TenGiayTo": "Phiếu", "DuongDanTepTinKetQua": "https://x/1.pdf"}],
            "PhieuXinLoi": [],
            "MucDoHaiLong": 1,
            "NgayCapNhat": "20260805090000"
        })
    }

    fn map(mapping: &FeedMapping, v: &Value) -> Result<Dossier, Reject> {
        let spec = crate::upstream::resolve_feed(FeedKind::Dossiers, mapping).unwrap();
        map_dossier(&mut spec.reader(&wire(v)))
    }

    #[test]
    fn a_default_record_maps_every_field() {
        let d = map(&FeedMapping::default(), &record()).unwrap();
        assert_eq!(d.code, "H44.07-260803-00001");
        assert_eq!(d.channel, Channel::Online);
        assert_eq!(d.status, DossierStatus::InProgress);
        // 09:00 in Hanoi is 02:00 UTC.
        assert_eq!(
            d.received_at.unwrap().to_rfc3339(),
            "2026-08-03T02:00:00+00:00"
        );
        assert_eq!(d.supplements.len(), 1);
        assert!(d.has_fees, "implied by the fee list");
        assert_eq!(d.online_payment, OnlinePayment::NationalPortal);
        assert_eq!(
            d.components,
            ComponentCounts {
                total: 2,
                digitized: 2,
                reused: 1
            }
        );
        assert!(d.e_result);
        assert_eq!(d.satisfaction, Some(Satisfaction::Satisfied));
        assert_eq!(
            d.procedure_name.as_deref(),
            Some("Cấp phiếu lý lịch tư pháp")
        );
    }

    #[test]
    fn a_bad_field_names_the_record_and_the_field() {
        type Spoil = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(Spoil, &str)> = vec![
            (
                Box::new(|r| r["NgayTiepNhan"] = json!("03/08/2026")),
                "NgayTiepNhan",
            ),
            (
                Box::new(|r| r["TrangThaiHoSo"] = json!(42)),
                "TrangThaiHoSo",
            ),
            (
                Box::new(|r| r["DonViXuLy"] = json!("not a code")),
                "DonViXuLy",
            ),
            (
                Box::new(|r| r["DanhSachHoSoBoSung"][0]["ThoiGianYeuCau"] = json!("x")),
                "DanhSachHoSoBoSung[0].ThoiGianYeuCau",
            ),
            (
                Box::new(|r| r["TaiLieuNop"][1]["DuocSoHoa"] = json!("maybe")),
                "TaiLieuNop[1].DuocSoHoa",
            ),
        ];
        for (spoil, field) in cases {
            let mut r = record();
            spoil(&mut r);
            let e = map(&FeedMapping::default(), &r).unwrap_err();
            assert_eq!(e.record_id.as_deref(), Some("H44.07-260803-00001"));
            assert_eq!(e.field, field);
        }
        // In progress but never received: broken, not merely unreceived.
        let mut r = record();
        r.as_object_mut().unwrap().remove("NgayTiepNhan");
        let e = map(&FeedMapping::default(), &r).unwrap_err();
        assert_eq!(e.field, "NgayTiepNhan");
        r["TrangThaiHoSo"] = json!(1);
        assert!(
            map(&FeedMapping::default(), &r).is_ok(),
            "a newly registered dossier has no receipt yet"
        );

        let mut r = record();
        r.as_object_mut().unwrap().remove("MaHoSo");
        let e = map(&FeedMapping::default(), &r).unwrap_err();
        assert_eq!((e.record_id, e.field.as_str()), (None, "MaHoSo"));
        let mut r = record();
        r["TrangThaiHoSo"] = json!(42);
        let e = map(&FeedMapping::default(), &r).unwrap_err();
        assert!(e.problem.contains("unknown code \"42\""), "{}", e.problem);
    }

    #[test]
    fn a_vendor_mapping_reads_nested_fields_other_codes_and_dates() {
        let toml = r#"
            date_format = "dd/MM/yyyy HH:mm:ss"
            [fields]
            code = "id"
            unit = "donVi.ma"
            procedure_code = "thuTuc.ma"
            status = "trangThai"
            received_at = "thoiGian.tiepNhan"
            supplements = "boSung"
            supplement_requested_at = "yeuCau"
            [codes.status]
            DANG_XU_LY = "in_progress"
        "#;
        let mapping: FeedMapping = toml::from_str(toml).unwrap();
        let v = json!({
            "id": "X-1",
            "donVi": {"ma": "H44.07"},
            "thuTuc": {"ma": "1.001766"},
            "trangThai": "DANG_XU_LY",
            "thoiGian": {"tiepNhan": "03/08/2026 09:00:00"},
            "boSung": [{"yeuCau": "04/08/2026 09:00:00"}]
        });
        let d = map(&mapping, &v).unwrap();
        assert_eq!(d.unit_code.as_str(), "H44.07");
        assert_eq!(d.status, DossierStatus::InProgress);
        assert_eq!(
            d.received_at.unwrap().to_rfc3339(),
            "2026-08-03T02:00:00+00:00"
        );
        assert_eq!(d.supplements.len(), 1);
        let mut bad = v.clone();
        bad["thoiGian"]["tiepNhan"] = json!("2026-08-03");
        assert_eq!(map(&mapping, &bad).unwrap_err().field, "thoiGian.tiepNhan");
    }

    #[test]
    fn mapping_mistakes_are_named_by_key() {
        let mapping: FeedMapping = toml::from_str(
            "date_format = \"yyyy-QQ\"\n[fields]\nnonsense = \"x\"\ncode = \"\"\n[codes.status]\nA = \"finished\"\n[codes.colour]\nA = \"red\"\n",
        )
        .unwrap();
        let problems = crate::upstream::resolve_feed(FeedKind::Dossiers, &mapping).unwrap_err();
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        for key in [
            "date_format",
            "fields.nonsense",
            "fields.code",
            "codes.status.A",
            "codes.colour",
        ] {
            assert!(keys.contains(&key), "{key} not in {problems:?}");
        }
    }
}
