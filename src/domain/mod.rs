//! Domain types shared by every layer.
//!
//! Values with rules get a newtype with a private field and a fallible
//! constructor ("parse, don't validate"): once a `UnitCode` or an
//! `EmailAddress` exists, nothing downstream checks it again.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

mod account;
pub mod quality;
mod records;
mod source;

pub use account::Role;
pub use records::*;
pub use source::{SourceHealth, SourceId, UnknownSource};

/// The actor recorded on the transitions par-monitor makes itself (a rule
/// breached, a breach cleared), as the audit trail names people.
pub const SYSTEM_ACTOR: &str = "par-monitor";

/// A unit's electronic agency code (mã định danh điện tử), e.g. `H44`,
/// `H44.07`, `H44.100`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct UnitCode(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "`{0}` is not an electronic agency code: expected letters and digits in dot-separated parts, e.g. H44.07"
)]
pub struct InvalidUnitCode(pub String);

impl UnitCode {
    pub fn parse(s: &str) -> Result<Self, InvalidUnitCode> {
        let valid = !s.is_empty()
            && s.len() <= 64
            && s.split('.')
                .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()));
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidUnitCode(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A code read back compares with the text it was written from.
impl PartialEq<str> for UnitCode {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for UnitCode {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for UnitCode {
    type Err = InvalidUnitCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for UnitCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The language an e-mail is written in. Vietnamese unless a recipient
/// asks for English.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Vi,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Vi => "vi",
            Language::En => "en",
        }
    }
}

/// Someone who receives e-mail, and the language they read it in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub address: EmailAddress,
    #[serde(default)]
    pub language: Language,
}

/// A syntactically valid e-mail address (checked by lettre's parser, which
/// is what will later have to accept it).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EmailAddress(lettre::Address);

#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an e-mail address")]
pub struct InvalidEmail(pub String);

impl EmailAddress {
    pub fn parse(s: &str) -> Result<Self, InvalidEmail> {
        s.trim()
            .parse::<lettre::Address>()
            .map(Self)
            .map_err(|_| InvalidEmail(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    /// The domain part, which is all that logs may carry of an address.
    pub fn domain(&self) -> &str {
        self.0.domain()
    }

    pub fn as_lettre(&self) -> &lettre::Address {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Debug shows only the domain, so that a stray `{:?}` in a log line does not
/// leak a person's address.
impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress(…@{})", self.domain())
    }
}

impl Serialize for EmailAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// How serious a finding is. Ordered: `Info < Warning < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Severity::Info => "thông tin",
            Severity::Warning => "cảnh báo",
            Severity::Critical => "nghiêm trọng",
        }
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}`: expected info, warning or critical"
            )),
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Kinds of unit under the Office (domain.md "Units").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// The province itself (Văn phòng UBND tỉnh and the provincial aggregate).
    Province,
    /// Department or agency (sở, ngành).
    SoNganh,
    /// Public-administration service center.
    ServiceCenter,
    /// Commune-level People's Committee (xã, phường).
    Xa,
    /// Internal division (phòng).
    Phong,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Province => "province",
            UnitKind::SoNganh => "so_nganh",
            UnitKind::ServiceCenter => "service_center",
            UnitKind::Xa => "xa",
            UnitKind::Phong => "phong",
        }
    }
}

impl FromStr for UnitKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "province" => Ok(UnitKind::Province),
            "so_nganh" => Ok(UnitKind::SoNganh),
            "service_center" => Ok(UnitKind::ServiceCenter),
            "xa" => Ok(UnitKind::Xa),
            "phong" => Ok(UnitKind::Phong),
            other => Err(format!("unknown unit kind `{other}`")),
        }
    }
}

/// A unit as par-monitor knows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub code: UnitCode,
    pub name: String,
    pub kind: Option<UnitKind>,
    pub parent: Option<UnitCode>,
    pub head_email: Option<EmailAddress>,
}

/// A ratio kept as its parts: indicators are never stored as a bare
/// percentage, so that they can be summed across units and periods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ratio {
    pub numerator: u64,
    pub denominator: u64,
}

impl Ratio {
    pub fn new(numerator: u64, denominator: u64) -> Self {
        Self {
            numerator,
            denominator,
        }
    }

    /// The ratio's value in [0, ∞), or `None` for an empty denominator.
    pub fn value(self) -> Option<f64> {
        (self.denominator > 0).then(|| self.numerator as f64 / self.denominator as f64)
    }
}

impl std::ops::Add for Ratio {
    type Output = Ratio;
    fn add(self, rhs: Ratio) -> Ratio {
        Ratio::new(
            self.numerator + rhs.numerator,
            self.denominator + rhs.denominator,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_codes_accept_agency_codes_and_reject_garbage() {
        for ok in ["H44", "H44.07", "H44.100", "000.00.07.H44"] {
            assert!(UnitCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "H44.", ".H44", "H44..07", "H 44", "H44/07", "Sở"] {
            assert!(UnitCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn email_debug_hides_the_local_part() {
        let e = EmailAddress::parse("giam.doc@stp.example").unwrap();
        let dbg = format!("{e:?}");
        assert!(!dbg.contains("giam.doc"), "{dbg}");
        assert!(dbg.contains("stp.example"), "{dbg}");
    }

    #[test]
    fn status_codes_round_trip() {
        for &s in DossierStatus::ALL {
            assert_eq!(DossierStatus::from_code(s.code()), Some(s));
        }
        assert_eq!(DossierStatus::from_code(0), None);
        assert_eq!(DossierStatus::from_code(11), None);
    }

    #[test]
    fn ratios_sum_parts_and_have_no_value_when_empty() {
        let r = Ratio::new(3, 4) + Ratio::new(1, 4);
        assert_eq!(r, Ratio::new(4, 8));
        assert_eq!(r.value(), Some(0.5));
        assert_eq!(Ratio::default().value(), None);
    }
}
