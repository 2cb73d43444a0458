//! The national public-service portal: the official Decision 766 scores per
//! unit and period, stored as reported so that par-monitor's own
//! recomputation can be compared with them.
//!
//! Default wire format: `GET {base}api/v1/scores766?page=P&size=S[&updated_since=…]`
//! with one record per unit and period (`Ky`, e.g. `2026-08`).

use std::collections::BTreeMap;

use super::Reject;
use super::mapping::{Reader, Schema, opt, req};
use crate::domain::{PortalScore, UnitCode};

/// The portal's group fields, by par-monitor's group code.
const GROUPS: [(&str, &str); 6] = [
    ("transparency", "TRANSPARENCY"),
    ("progress", "PROGRESS"),
    ("online_services", "ONLINE_SERVICES"),
    ("online_payment", "ONLINE_PAYMENT"),
    ("satisfaction", "SATISFACTION"),
    ("digitization", "DIGITIZATION"),
];

pub static SCORES: Schema = Schema {
    default_path: "api/v1/scores766",
    incremental: true,
    fields: &[
        req("unit", "MaDonVi"),
        req("period", "Ky"),
        opt("total", "TongDiem"),
        opt("transparency", "CongKhaiMinhBach"),
        opt("progress", "TienDoGiaiQuyet"),
        opt("online_services", "DichVuTrucTuyen"),
        opt("online_payment", "ThanhToanTrucTuyen"),
        opt("satisfaction", "MucDoHaiLong"),
        opt("digitization", "SoHoa"),
        opt("updated_at", "NgayCapNhat"),
    ],
    codes: &[],
};

pub fn map_score(r: &mut Reader<'_>) -> Result<PortalScore, Reject> {
    let unit = r.string("unit")?;
    let period = r.string("period")?;
    r.identify(&format!("{unit}/{period}"));
    let unit_code = UnitCode::parse(&unit).map_err(|e| r.reject("unit", e.to_string()))?;
    let mut groups = BTreeMap::new();
    for (field, code) in GROUPS {
        groups.insert(code.to_owned(), r.number(field)?);
    }
    Ok(PortalScore {
        unit_code,
        period,
        total: r.number("total")?,
        groups,
        updated_at: r.date("updated_at")?,
        details: Default::default(),
    })
}
