//! What a connector declares for each of its feeds: the fields with their
//! default wire paths, and the code tables with their default codes.

use std::str::FromStr;

/// A feed's fields and code tables with their defaults.
#[derive(Debug)]
pub struct Schema {
    pub default_path: &'static str,
    /// Whether the feed supports "changed since" polling by default.
    pub incremental: bool,
    pub fields: &'static [Field],
    pub codes: &'static [CodeTable],
}

/// One field: par-monitor's name, the default wire path, whether a record
/// without it is rejected.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub default: &'static str,
    pub required: bool,
}

/// A field a record cannot do without.
pub const fn req(name: &'static str, default: &'static str) -> Field {
    Field {
        name,
        default,
        required: true,
    }
}

/// A field that may be absent.
pub const fn opt(name: &'static str, default: &'static str) -> Field {
    Field {
        name,
        default,
        required: false,
    }
}

/// A table from upstream codes to par-monitor's names.
#[derive(Debug)]
pub struct CodeTable {
    pub name: &'static str,
    pub defaults: &'static [(&'static str, &'static str)],
    /// Checks that a configured target name exists.
    pub check: fn(&str) -> Result<(), String>,
}

/// Checks a code-table target name against an enum's names.
pub fn check_name<T: FromStr<Err = String>>(name: &str) -> Result<(), String> {
    T::from_str(name).map(|_| ())
}
