//! `[[units]]`: the units watched.

use serde::{Deserialize, Serialize};

use crate::domain::{EmailAddress, Unit, UnitCode, UnitKind};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitSettings {
    pub code: UnitCode,
    pub name: String,
    #[serde(default)]
    pub kind: Option<UnitKind>,
    #[serde(default)]
    pub parent: Option<UnitCode>,
    #[serde(default)]
    pub head_email: Option<EmailAddress>,
}

/// A configured unit is a unit as every layer knows it, and back (the
/// simulator's units become the demo's and the tests' `[[units]]`).
impl From<&UnitSettings> for Unit {
    fn from(u: &UnitSettings) -> Unit {
        Unit {
            code: u.code.clone(),
            name: u.name.clone(),
            kind: u.kind,
            parent: u.parent.clone(),
            head_email: u.head_email.clone(),
        }
    }
}

impl From<Unit> for UnitSettings {
    fn from(u: Unit) -> UnitSettings {
        UnitSettings {
            code: u.code,
            name: u.name,
            kind: u.kind,
            parent: u.parent,
            head_email: u.head_email,
        }
    }
}

/// Problems with `[[units]]`, as `(key, message)`: a code listed twice, a
/// blank name.
pub(super) fn check(units: &[UnitSettings]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, u) in units.iter().enumerate() {
        if !seen.insert(u.code.clone()) {
            out.push((
                format!("units[{i}].code"),
                format!("unit {} is listed twice", u.code),
            ));
        }
        if u.name.trim().is_empty() {
            out.push((
                format!("units[{i}].name"),
                "expected a non-empty name".into(),
            ));
        }
    }
    out
}
