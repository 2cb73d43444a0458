//! Who may use the console, and with what reach.

use serde::{Deserialize, Serialize};

/// A console user's role. The reach of each is decided in
/// `crate::web::access`; the names are what `users add --role` takes and
/// what the database stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The inspection team (Phòng Hành chính – Tổ chức): everything,
    /// including unannounced-inspection proposals, and the actions.
    Inspection,
    /// Leadership: every unit's figures, rankings and findings, read-only.
    Leadership,
    /// A unit head: their own unit only.
    UnitHead,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Inspection, Role::Leadership, Role::UnitHead];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Inspection => "inspection",
            Role::Leadership => "leadership",
            Role::UnitHead => "unit_head",
        }
    }

    pub fn parse(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role `{s}`: expected inspection, leadership or unit_head")
            })
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Role::Inspection => "Đoàn kiểm tra",
            Role::Leadership => "Lãnh đạo",
            Role::UnitHead => "Thủ trưởng đơn vị",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Role::Inspection => "Inspection team",
            Role::Leadership => "Leadership",
            Role::UnitHead => "Unit head",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
