//! The procedure-handling system (Hệ thống thông tin giải quyết TTHC):
//! one-stop-shop dossiers.
//!
//! Wire format (domain.md's field names, the built-in default):
//! `GET {base}/api/v1/dossiers?page=N&size=M[&updated_since=yyyyMMddHHmmss]`
//! answers `{"data": [dossier, …], "page": N, "total_pages": T}`, with dates
//! as `yyyyMMddHHmmss` in Asia/Ho_Chi_Minh.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use super::http::{build_client, get_json};
use super::{Batch, Page, PageQuery, Reject, Upstream, UpstreamError};
use crate::config::{BaseUrl, SourceSettings};
use crate::domain::{Channel, Dossier, DossierStatus, SupplementRequest, UnitCode};
use crate::time::{local_to_utc, utc_to_local};

pub const SOURCE: &str = "procedures";
const PATH: &str = "api/v1/dossiers";
/// The wire date format, `yyyyMMddHHmmss`.
pub const WIRE_DATE: &str = "%Y%m%d%H%M%S";

#[derive(Debug)]
pub struct ProceduresSource {
    client: reqwest::Client,
    base: BaseUrl,
    page_size: u32,
}

impl ProceduresSource {
    pub fn new(settings: &SourceSettings) -> Result<Self, String> {
        Ok(Self {
            client: build_client(settings)?,
            base: settings.base_url.clone(),
            page_size: settings.page_size,
        })
    }
}

#[async_trait]
impl Upstream for ProceduresSource {
    fn name(&self) -> &'static str {
        SOURCE
    }

    async fn fetch_page(&self, query: &PageQuery) -> Result<Page, UpstreamError> {
        let mut url = self.base.join(PATH);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("page", &query.page.to_string());
            q.append_pair("size", &self.page_size.to_string());
            if let Some(since) = query.updated_since {
                q.append_pair("updated_since", &format_wire_date(since));
            }
        }
        let body = get_json(&self.client, SOURCE, url.clone()).await?;
        parse_page(&body, query.page).map_err(|detail| UpstreamError::BadPayload {
            source_name: SOURCE,
            path: url.path().to_owned(),
            detail,
        })
    }
}

/// Splits a page into dossiers and rejects. Only an envelope that is not
/// the expected shape fails the page as a whole.
pub fn parse_page(body: &Value, page: u32) -> Result<Page, String> {
    let data = body
        .get("data")
        .and_then(Value::as_array)
        .ok_or("expected an object with a `data` array")?;
    let total_pages = body
        .get("total_pages")
        .and_then(Value::as_u64)
        .ok_or("expected a numeric `total_pages`")?;
    let mut dossiers = Vec::with_capacity(data.len());
    let mut rejects = Vec::new();
    for record in data {
        match map_dossier(record) {
            Ok(d) => dossiers.push(d),
            Err(r) => rejects.push(r),
        }
    }
    Ok(Page {
        batch: Batch::Dossiers(dossiers),
        rejects,
        next_page: (u64::from(page) < total_pages).then_some(page + 1),
    })
}

pub fn format_wire_date(t: DateTime<Utc>) -> String {
    utc_to_local(t).format(WIRE_DATE).to_string()
}

pub fn parse_wire_date(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, WIRE_DATE)
        .ok()
        .map(local_to_utc)
}

/// Reads fields of one record, turning every problem into a [`Reject`]
/// that names the record and the field.
struct Fields<'a> {
    record: &'a Value,
    id: Option<String>,
}

impl<'a> Fields<'a> {
    fn reject(&self, field: &str, problem: impl Into<String>) -> Reject {
        Reject {
            record_id: self.id.clone(),
            field: field.to_owned(),
            problem: problem.into(),
        }
    }

    fn get(&self, field: &str) -> Option<&'a Value> {
        self.record.get(field).filter(|v| !v.is_null())
    }

    fn string(&self, field: &str) -> Result<String, Reject> {
        self.opt_string(field)?
            .ok_or_else(|| self.reject(field, "required field is missing"))
    }

    fn opt_string(&self, field: &str) -> Result<Option<String>, Reject> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(self.reject(field, format!("expected a string, found {other}"))),
        }
    }

    fn code(&self, field: &str) -> Result<Option<u8>, Reject> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|n| u8::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| self.reject(field, format!("expected a small code, found {n}"))),
            Some(Value::String(s)) => {
                s.trim().parse().map(Some).map_err(|_| {
                    self.reject(field, format!("expected a numeric code, found \"{s}\""))
                })
            }
            Some(other) => {
                Err(self.reject(field, format!("expected a numeric code, found {other}")))
            }
        }
    }

    fn date(&self, field: &str) -> Result<Option<DateTime<Utc>>, Reject> {
        match self.opt_string(field)? {
            None => Ok(None),
            Some(s) => parse_wire_date(&s).map(Some).ok_or_else(|| {
                self.reject(
                    field,
                    format!("expected a date as yyyyMMddHHmmss, found \"{s}\""),
                )
            }),
        }
    }
}

/// Maps one wire record to a dossier.
pub fn map_dossier(record: &Value) -> Result<Dossier, Reject> {
    let mut f = Fields { record, id: None };
    if !record.is_object() {
        return Err(f.reject("(record)", "expected a JSON object"));
    }
    let code = f.string("MaHoSo")?;
    f.id = Some(code.clone());
    let unit = f.string("DonViXuLy")?;
    let unit_code = UnitCode::parse(&unit).map_err(|e| f.reject("DonViXuLy", e.to_string()))?;
    let status_code = f
        .code("TrangThaiHoSo")?
        .ok_or_else(|| f.reject("TrangThaiHoSo", "required field is missing"))?;
    let status = DossierStatus::from_code(status_code).ok_or_else(|| {
        f.reject(
            "TrangThaiHoSo",
            format!("unknown status code {status_code}: expected 1 to 10"),
        )
    })?;
    // A missing channel means in person, as the national portal's sync does.
    let channel = match f.code("KenhThucHien")? {
        None => Channel::InPerson,
        Some(c) => Channel::from_code(c).ok_or_else(|| {
            f.reject(
                "KenhThucHien",
                format!("unknown channel code {c}: expected 1, 2 or 3"),
            )
        })?,
    };
    let unit_code_copy = unit_code.clone();
    Ok(Dossier {
        procedure_code: f.string("MaTTHC")?,
        procedure_name: f.opt_string("TenTTHC")?,
        unit_code,
        channel,
        status,
        submitted_at: f.date("NgayNopHoSo")?,
        received_at: f.date("NgayTiepNhan")?,
        due_at: f.date("NgayHenTra")?,
        finished_at: f.date("NgayKetThucXuLy")?,
        returned_at: f.date("NgayTra")?,
        refused_at: f.date("NgayTuChoi")?,
        supplements: map_supplements(&f)?,
        updated_at: f.date("NgayCapNhat")?,
        code: code.clone(),
        ..Dossier::new(code, unit_code_copy, "")
    })
}

fn map_supplements(f: &Fields<'_>) -> Result<Vec<SupplementRequest>, Reject> {
    const FIELD: &str = "DanhSachHoSoBoSung";
    let Some(list) = f.get(FIELD) else {
        return Ok(Vec::new());
    };
    let items = list
        .as_array()
        .ok_or_else(|| f.reject(FIELD, "expected a list of supplement requests"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let sub = Fields {
                record: item,
                id: f.id.clone(),
            };
            let field = |name: &str| format!("{FIELD}[{i}].{name}");
            let date = |name: &str| {
                sub.date(name).map_err(|mut r| {
                    r.field = field(name);
                    r
                })
            };
            Ok(SupplementRequest {
                requested_at: date("ThoiGianYeuCau")?.ok_or_else(|| {
                    f.reject(&field("ThoiGianYeuCau"), "required field is missing")
                })?,
                completed_at: date("ThoiGianHoanThanh")?,
                old_due_at: date("NgayHenTraCu")?,
                new_due_at: date("NgayHenTraMoi")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record() -> Value {
        json!({
            "MaHoSo": "H44.07-260803-00001",
            "MaTTHC": "1.001",
            "TenTTHC": "Cấp phiếu lý lịch tư pháp",
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
            "NgayCapNhat": "20260805090000"
        })
    }

    #[test]
    fn a_default_record_maps_with_local_dates_as_utc() {
        let d = map_dossier(&record()).unwrap();
        assert_eq!(d.code, "H44.07-260803-00001");
        assert_eq!(d.channel, Channel::Online);
        assert_eq!(d.status, DossierStatus::InProgress);
        // 09:00 in Hanoi is 02:00 UTC.
        assert_eq!(
            d.received_at.unwrap().to_rfc3339(),
            "2026-08-03T02:00:00+00:00"
        );
        assert_eq!(d.supplements.len(), 1);
        assert_eq!(
            d.procedure_name.as_deref(),
            Some("Cấp phiếu lý lịch tư pháp")
        );
    }

    #[test]
    fn a_bad_field_names_the_record_and_the_field() {
        let mut r = record();
        r["NgayTiepNhan"] = json!("03/08/2026");
        let e = map_dossier(&r).unwrap_err();
        assert_eq!(e.record_id.as_deref(), Some("H44.07-260803-00001"));
        assert_eq!(e.field, "NgayTiepNhan");
        assert!(e.problem.contains("yyyyMMddHHmmss"), "{}", e.problem);

        let mut r = record();
        r["TrangThaiHoSo"] = json!(42);
        assert_eq!(map_dossier(&r).unwrap_err().field, "TrangThaiHoSo");

        let mut r = record();
        r.as_object_mut().unwrap().remove("MaHoSo");
        let e = map_dossier(&r).unwrap_err();
        assert_eq!((e.record_id, e.field.as_str()), (None, "MaHoSo"));

        let mut r = record();
        r["DanhSachHoSoBoSung"][0]["ThoiGianYeuCau"] = json!("x");
        assert_eq!(
            map_dossier(&r).unwrap_err().field,
            "DanhSachHoSoBoSung[0].ThoiGianYeuCau"
        );
    }

    #[test]
    fn a_page_keeps_good_records_beside_bad_ones() {
        let mut bad = record();
        bad["MaHoSo"] = json!("H44.07-BAD");
        bad["DonViXuLy"] = json!("not a code");
        let body = json!({"data": [record(), bad], "page": 1, "total_pages": 2});
        let page = parse_page(&body, 1).unwrap();
        assert_eq!(page.batch.len(), 1);
        assert_eq!(page.rejects.len(), 1);
        assert_eq!(page.rejects[0].field, "DonViXuLy");
        assert_eq!(page.next_page, Some(2));
        assert_eq!(parse_page(&body, 2).unwrap().next_page, None);
        assert!(parse_page(&json!({"rows": []}), 1).is_err());
    }

    #[test]
    fn wire_dates_round_trip() {
        let t = parse_wire_date("20261126140500").unwrap();
        assert_eq!(format_wire_date(t), "20261126140500");
        assert!(parse_wire_date("2026-11-26").is_none());
    }
}
