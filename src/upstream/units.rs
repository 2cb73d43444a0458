//! A unit directory: units with their code, name, kind, parent and head's
//! e-mail. Always read in full, so that a unit that disappears can be
//! retired (never deleted) and a rename kept in the unit's history.
//!
//! Default wire format: `GET {base}api/v1/units?page=P&size=S`.

use super::Reject;
use super::mapping::{CodeTable, Reader, Schema, check_name, opt, req};
use crate::domain::{EmailAddress, Unit, UnitCode, UnitKind};

pub static UNITS: Schema = Schema {
    default_path: "api/v1/units",
    incremental: false,
    fields: &[
        req("code", "MaDinhDanh"),
        req("name", "TenDonVi"),
        opt("kind", "LoaiDonVi"),
        opt("parent", "MaDonViCha"),
        opt("head_email", "EmailNguoiDungDau"),
    ],
    codes: &[CodeTable {
        name: "kind",
        defaults: &[
            ("province", "province"),
            ("so_nganh", "so_nganh"),
            ("service_center", "service_center"),
            ("xa", "xa"),
            ("phong", "phong"),
        ],
        check: check_name::<UnitKind>,
    }],
};

pub fn map_unit(r: &mut Reader<'_>) -> Result<Unit, Reject> {
    let code = r.string("code")?;
    r.identify(&code);
    let code = UnitCode::parse(&code).map_err(|e| r.reject("code", e.to_string()))?;
    let parent = r
        .opt_string("parent")?
        .map(|p| UnitCode::parse(&p).map_err(|e| r.reject("parent", e.to_string())))
        .transpose()?;
    let head_email = r
        .opt_string("head_email")?
        // The address itself stays out of the message: it is personal data.
        .map(|e| {
            EmailAddress::parse(&e)
                .map_err(|_| r.reject("head_email", "expected an e-mail address"))
        })
        .transpose()?;
    Ok(Unit {
        name: r.string("name")?,
        kind: r.code("kind", "kind")?,
        parent,
        head_email,
        code,
    })
}
