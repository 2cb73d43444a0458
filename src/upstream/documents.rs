//! The document-management system (QLVB&ĐH, e-office): outgoing and
//! incoming documents, their interconnection-axis status, signatures,
//! deadlines and electronic work files.
//!
//! Default wire format: `GET {base}api/v1/documents?page=P&size=S[&updated_since=…]`,
//! envelope and dates as for dossiers (see `procedures`).

use super::Reject;
use super::mapping::{CodeTable, Reader, Schema, check_name, opt, req};
use crate::domain::{AxisStatus, Direction, Document};

pub static DOCUMENTS: Schema = Schema {
    default_path: "api/v1/documents",
    incremental: true,
    fields: &[
        req("id", "MaVanBan"),
        req("unit", "DonVi"),
        req("direction", "LoaiVanBan"),
        opt("registered_at", "NgayDangKy"),
        opt("electronic", "GuiQuaTrucLienThong"),
        opt("axis_status", "TrangThaiLienThong"),
        opt("signed", "CoChuKySo"),
        opt("signature_verified", "ChuKySoHopLe"),
        opt("due_at", "HanXuLy"),
        opt("completed_at", "NgayHoanThanh"),
        opt("filed_electronically", "DaLapHoSoCongViec"),
        opt("updated_at", "NgayCapNhat"),
    ],
    codes: &[
        CodeTable {
            name: "direction",
            defaults: &[("di", "outgoing"), ("den", "incoming")],
            check: check_name::<Direction>,
        },
        CodeTable {
            name: "axis_status",
            defaults: &[
                ("inbox", "inbox"),
                ("acceptance", "acceptance"),
                ("rejection", "rejection"),
                ("processing", "processing"),
                ("done", "done"),
                ("fail", "fail"),
            ],
            check: check_name::<AxisStatus>,
        },
    ],
};

pub fn map_document(r: &mut Reader<'_>) -> Result<Document, Reject> {
    let id = r.string("id")?;
    r.identify(&id);
    Ok(Document {
        unit_code: r.unit_code()?,
        direction: r.required_code("direction", "direction")?,
        registered_at: r.date("registered_at")?,
        electronic: r.flag("electronic")?,
        axis_status: r.code("axis_status", "axis_status")?,
        signed: r.flag("signed")?,
        signature_verified: r.opt_flag("signature_verified")?,
        due_at: r.date("due_at")?,
        completed_at: r.date("completed_at")?,
        filed_electronically: r.flag("filed_electronically")?,
        updated_at: r.date("updated_at")?,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FeedMapping;
    use crate::upstream::mapping::{FeedKind, wire};
    use serde_json::json;

    #[test]
    fn documents_map_direction_axis_and_signature() {
        let spec =
            crate::upstream::resolve_feed(FeedKind::Documents, &FeedMapping::default()).unwrap();
        let v = json!({
            "MaVanBan": "VB-1", "DonVi": "H44.07", "LoaiVanBan": "di",
            "NgayDangKy": "20260803090000", "GuiQuaTrucLienThong": true,
            "TrangThaiLienThong": "done", "CoChuKySo": true, "ChuKySoHopLe": null,
            "DaLapHoSoCongViec": false, "NgayCapNhat": "20260803090000"
        });
        let d = map_document(&mut spec.reader(&wire(&v))).unwrap();
        assert_eq!(d.direction, Direction::Outgoing);
        assert_eq!(d.axis_status, Some(AxisStatus::Done));
        assert!(d.signed && d.electronic && !d.filed_electronically);
        assert_eq!(d.signature_verified, None);
        let bad = json!({"MaVanBan": "VB-2", "DonVi": "H44.07", "LoaiVanBan": "sideways"});
        let e = map_document(&mut spec.reader(&wire(&bad))).unwrap_err();
        assert_eq!(
            (e.record_id.as_deref(), e.field.as_str()),
            (Some("VB-2"), "LoaiVanBan")
        );
    }
}
