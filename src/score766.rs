//! The national service index of Decision 766/QĐ-TTg ("Bộ chỉ số 766"), computed from counts.
//!
//! The national public service portal scores every province, department and commune on 100 points
//! in six groups. par-monitor recomputes that score per unit from its own dossier counts, to see a
//! problem before the portal publishes it. This module holds the portal's scoring rules; its child
//! `counts_file` reads and writes the JSON of `par-monitor score766 --counts FILE.json`. Neither does
//! I/O.
//!
//! Every indicator has a ratio R = numerator / denominator and a maximum P, and scores
//! min(P, P × R / t), where t is the ratio that already earns full marks: 0.8 for the two payment
//! procedure indicators and for reuse of digitized data, 0.9 for dossier satisfaction, and 1 for the
//! rest. For most indicators the portal's formula is plain P × R; a numerator above its denominator
//! (results issued this period for dossiers received earlier) would then score more than P, and we
//! clamp it at P as the portal does where it states a cap.
//!
//! An empty denominator follows one of three rules that must not be confused: *no score* (the
//! indicator is left out of its group, shown as n/a), *zero* (nothing was received, so nothing was on
//! time), or *full marks* (no petitions, so none was mishandled).
//!
//! Scores are computed in whole hundredths of a point with integer arithmetic, because the portal
//! rounds each indicator half-up to two decimals and binary floating point cannot: 4 × 107/160 is
//! exactly 2.675 and must become 2.68, while the nearest `f64` to 2.675 lies just below it. Group
//! scores and totals are sums of rounded hundredths and so need no further rounding. Only the public
//! API speaks `f64`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

mod bands;
mod counts_file;
mod definition;
mod scoring;

pub use bands::{Band, Bands, BandsError};
pub use counts_file::{CountsError, UnitInput, parse_counts_file, to_json, to_text};
pub use scoring::{score_indicator, score_unit};

/// The portal's six groups of indicators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Group {
    /// Publication and transparency of procedures (18 points).
    Transparency,
    /// Dossiers resolved on time (20 points).
    Progress,
    /// Online public services (12 points), scored by the portal only.
    OnlineServices,
    /// Online payment of fees (10 points).
    OnlinePayment,
    /// Satisfaction of citizens and petitioners (18 points).
    Satisfaction,
    /// Digitization of dossiers and results (22 points).
    Digitization,
}

impl Group {
    /// Every group, in the portal's order.
    pub const ALL: [Group; 6] = [
        Group::Transparency,
        Group::Progress,
        Group::OnlineServices,
        Group::OnlinePayment,
        Group::Satisfaction,
        Group::Digitization,
    ];

    /// The portal's code, e.g. `"ONLINE_PAYMENT"`.
    pub const fn code(self) -> &'static str {
        match self {
            Group::Transparency => "TRANSPARENCY",
            Group::Progress => "PROGRESS",
            Group::OnlineServices => "ONLINE_SERVICES",
            Group::OnlinePayment => "ONLINE_PAYMENT",
            Group::Satisfaction => "SATISFACTION",
            Group::Digitization => "DIGITIZATION",
        }
    }

    /// The group's maximum; the six add up to 100.
    pub const fn max_points(self) -> f64 {
        match self {
            Group::Transparency => 18.0,
            Group::Progress => 20.0,
            Group::OnlineServices => 12.0,
            Group::OnlinePayment => 10.0,
            Group::Satisfaction => 18.0,
            Group::Digitization => 22.0,
        }
    }

    /// The group's Vietnamese name.
    pub const fn name_vi(self) -> &'static str {
        match self {
            Group::Transparency => "Công khai, minh bạch",
            Group::Progress => "Tiến độ giải quyết",
            Group::OnlineServices => "Dịch vụ công trực tuyến",
            Group::OnlinePayment => "Thanh toán trực tuyến",
            Group::Satisfaction => "Mức độ hài lòng",
            Group::Digitization => "Số hóa hồ sơ",
        }
    }

    /// The group's English name.
    pub const fn name_en(self) -> &'static str {
        match self {
            Group::Transparency => "Transparency",
            Group::Progress => "Progress",
            Group::OnlineServices => "Online services",
            Group::OnlinePayment => "Online payment",
            Group::Satisfaction => "Satisfaction",
            Group::Digitization => "Digitization",
        }
    }

    /// The indicators scored in this group; none for [`Group::OnlineServices`].
    pub fn indicators(self) -> impl Iterator<Item = IndicatorCode> {
        IndicatorCode::ALL
            .into_iter()
            .filter(move |code| code.group() == self)
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An indicator the portal computes from counts, named by the portal's own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IndicatorCode {
    /// Procedures promulgated on time.
    PublishOnTime,
    /// Procedures updated and published on time.
    PublicUpdateOnTime,
    /// Procedures published with all required parts.
    PublicContentFull,
    /// Dossiers synced to the national portal.
    DossierSync,
    /// Dossiers resolved on time.
    OnTime,
    /// Dossiers paid online among dossiers with fees.
    PaymentDossiers,
    /// Procedures with an online payment among procedures with fees.
    PaymentProcedures,
    /// Procedures with fees offered for payment on the national portal.
    PaymentOnPortal,
    /// Petitions handled on time.
    PetitionProcessingOnTime,
    /// Petitions handled to the petitioner's satisfaction.
    PetitionHandlingSatisfaction,
    /// Dossiers neither late nor complained about.
    DossierReceivingSatisfaction,
    /// Dossiers with an electronic result.
    OriginalResultAvailable,
    /// Dossiers with digitized components.
    SoHoaGiayToGiaiQuyet,
    /// Communes offering electronic certified copies.
    ElectronicCertifiedCopy,
    /// Dossiers reusing digitized data.
    ReusedDigitizedData,
    /// Digitized dossiers shared to the citizen's data store on the national portal.
    SyncedWithDvcqgPersonalStorage,
    /// Dossiers using data from the national population database.
    CitizenDataConnectedDossier,
    /// Procedures connected to the national population database.
    CitizenDataConnectedFormality,
}

/// The text is not one of the portal's indicator codes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown Decision 766 indicator code {0:?}")]
pub struct UnknownIndicatorCode(pub String);

impl IndicatorCode {
    /// Every indicator, in the portal's order.
    pub const ALL: [IndicatorCode; 18] = [
        IndicatorCode::PublishOnTime,
        IndicatorCode::PublicUpdateOnTime,
        IndicatorCode::PublicContentFull,
        IndicatorCode::DossierSync,
        IndicatorCode::OnTime,
        IndicatorCode::PaymentDossiers,
        IndicatorCode::PaymentProcedures,
        IndicatorCode::PaymentOnPortal,
        IndicatorCode::PetitionProcessingOnTime,
        IndicatorCode::PetitionHandlingSatisfaction,
        IndicatorCode::DossierReceivingSatisfaction,
        IndicatorCode::OriginalResultAvailable,
        IndicatorCode::SoHoaGiayToGiaiQuyet,
        IndicatorCode::ElectronicCertifiedCopy,
        IndicatorCode::ReusedDigitizedData,
        IndicatorCode::SyncedWithDvcqgPersonalStorage,
        IndicatorCode::CitizenDataConnectedDossier,
        IndicatorCode::CitizenDataConnectedFormality,
    ];

    /// The portal's code, e.g. `"ON_TIME"`.
    pub const fn code(self) -> &'static str {
        self.definition().code
    }

    /// The group this indicator counts towards.
    pub const fn group(self) -> Group {
        self.definition().rule.group
    }

    /// The indicator's maximum score P.
    pub const fn max_points(self) -> f64 {
        self.definition().rule.points as f64
    }

    /// The indicator's Vietnamese name.
    pub const fn name_vi(self) -> &'static str {
        self.definition().name_vi
    }

    /// The indicator's English name.
    pub const fn name_en(self) -> &'static str {
        self.definition().name_en
    }
}

impl fmt::Display for IndicatorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for IndicatorCode {
    type Err = UnknownIndicatorCode;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        IndicatorCode::ALL
            .into_iter()
            .find(|code| code.code() == text)
            .ok_or_else(|| UnknownIndicatorCode(text.to_owned()))
    }
}

/// A numerator and denominator counted for one indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    /// What met the indicator, e.g. dossiers finished on time. It may exceed the denominator.
    pub numerator: u64,
    /// What the indicator is measured against, e.g. dossiers received.
    pub denominator: u64,
}

impl Count {
    /// A count of `numerator` out of `denominator`.
    pub const fn new(numerator: u64, denominator: u64) -> Self {
        Count {
            numerator,
            denominator,
        }
    }
}

/// Everything needed to score one unit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitCounts {
    /// Counts per indicator. An indicator missing here has no score, whatever its empty-denominator
    /// rule: `ON_TIME` absent is n/a, while `ON_TIME` present as 0/0 scores 0.
    pub counts: BTreeMap<IndicatorCode, Count>,
    /// The portal's own `ONLINE_SERVICES` score, taken as given (0 to 12), because the portal does
    /// not publish its formula. Rounded half-up to two decimals like every score; a value outside
    /// 0..=12 is clamped into it and a non-finite one counts as absent (the counts-file parser
    /// rejects both).
    pub online_services: Option<f64>,
}

/// A unit's Decision 766 score.
///
/// A group without a score (no data behind it) is left out of the total,
/// never counted as 0: the total is then a partial sum, out of the points
/// the scored groups could earn ([`Score766::attainable`]), with the missing
/// groups named, and it has no rating band. Only a total over all six
/// groups is a Decision 766 total and gets a band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score766 {
    /// Every indicator's score, `None` where it has none.
    pub indicators: BTreeMap<IndicatorCode, Option<f64>>,
    /// Every group's score, `None` where none of its indicators has a score.
    pub groups: BTreeMap<Group, Option<f64>>,
    /// The sum of the groups that have a score; `None` when none has.
    pub total: Option<f64>,
    /// The most the groups that have a score could earn (100 when all do).
    pub attainable: f64,
    /// The groups without a score, in the portal's order.
    pub missing: Vec<Group>,
    /// The rating of the total, only when every group has a score.
    pub band: Option<Band>,
}

impl Score766 {
    /// Whether every group has a score, so that the total is the index.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }

    /// The total, only when it is over all six groups.
    pub fn complete_total(&self) -> Option<f64> {
        self.total.filter(|_| self.is_complete())
    }

    /// The range the full index must lie in, whatever the missing groups
    /// would score: from the partial total (every missing group at 0) to
    /// the partial total plus their maximum (every one at full marks).
    /// `None` when no group has a score.
    pub fn bounds(&self) -> Option<(f64, f64)> {
        let total = self.total?;
        let missing: f64 = self.missing.iter().map(|g| g.max_points()).sum();
        Some((total, ((total + missing) * 100.0).round() / 100.0))
    }

    /// The total in words, as people read it: `88,00 điểm, xếp loại tốt`;
    /// with groups missing `12,00 / 12,00 điểm của các nhóm có dữ liệu; thiếu
    /// 5 nhóm (…)` and no band; with nothing scored `chưa có dữ liệu`.
    pub fn summary(&self, lang: crate::domain::Language) -> String {
        use crate::domain::Language;
        use crate::locale::{no_data, points};
        let Some(total) = self.total else {
            return no_data(lang).to_owned();
        };
        let (t, a) = (points(total, lang), points(self.attainable, lang));
        match (self.band, lang) {
            (Some(band), Language::Vi) if self.is_complete() => {
                format!("{t} điểm, xếp loại {}", band.name_vi())
            }
            (Some(band), Language::En) if self.is_complete() => {
                format!("{t} points, {}", band.name_en())
            }
            (_, Language::Vi) => format!(
                "{t} / {a} điểm của các nhóm có dữ liệu; thiếu {} nhóm ({})",
                self.missing.len(),
                self.missing
                    .iter()
                    .map(|g| g.name_vi())
                    .collect::<Vec<_>>()
                    // "Công khai, minh bạch" holds a comma of its own.
                    .join("; ")
            ),
            (_, Language::En) => format!(
                "{t} / {a} points of the groups with data; {} group(s) missing ({})",
                self.missing.len(),
                self.missing
                    .iter()
                    .map(|g| g.name_en())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }
    }
}

#[cfg(test)]
mod tests;
