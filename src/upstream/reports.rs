//! The online reporting system (Hệ thống thông tin báo cáo): report
//! obligations, their due dates and submissions.
//!
//! Default wire format: `GET {base}api/v1/reports?page=P&size=S[&updated_since=…]`,
//! envelope and dates as for dossiers (see `procedures`).

use super::Reject;
use super::mapping::{CodeTable, Reader, Schema, check_name, opt, req};
use crate::domain::{Report, ReportStatus};

pub static REPORTS: Schema = Schema {
    default_path: "api/v1/reports",
    incremental: true,
    fields: &[
        req("id", "MaBaoCao"),
        req("unit", "DonVi"),
        req("report_type", "LoaiBaoCao"),
        opt("title", "TenBaoCao"),
        req("period", "KyBaoCao"),
        req("due_at", "HanNop"),
        opt("submitted_at", "NgayNop"),
        req("status", "TrangThai"),
        opt("updated_at", "NgayCapNhat"),
    ],
    codes: &[CodeTable {
        name: "status",
        defaults: &[
            ("1", "draft"),
            ("2", "submitted"),
            ("3", "returned"),
            ("4", "accepted"),
        ],
        check: check_name::<ReportStatus>,
    }],
};

pub fn map_report(r: &mut Reader<'_>) -> Result<Report, Reject> {
    let id = r.string("id")?;
    r.identify(&id);
    Ok(Report {
        unit_code: r.unit_code()?,
        report_type: r.string("report_type")?,
        title: r.opt_string("title")?,
        period: r.string("period")?,
        due_at: r.required_date("due_at")?,
        submitted_at: r.date("submitted_at")?,
        status: r.required_code("status", "status")?,
        updated_at: r.date("updated_at")?,
        id,
    })
}
