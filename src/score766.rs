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
use std::iter::Sum;
use std::ops::Add;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

mod counts_file;

pub use counts_file::{CountsError, UnitInput, parse_counts_file, to_json, to_text};

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

    const fn rule(self) -> Rule {
        self.definition().rule
    }

    /// domain.md's table, one row per indicator, so that each indicator is defined in one place.
    // table-like: one row per indicator of domain.md, nothing to extract.
    const fn definition(self) -> Definition {
        use EmptyDenominator::{FullMarks, Zero};
        use Group::{Digitization, OnlinePayment, Progress, Satisfaction, Transparency};
        match self {
            IndicatorCode::PublishOnTime => Definition {
                code: "PUBLISH_ON_TIME",
                name_vi: "Công bố TTHC đúng hạn",
                name_en: "Procedures promulgated on time",
                rule: Rule::new(Transparency, 6),
            },
            IndicatorCode::PublicUpdateOnTime => Definition {
                code: "PUBLIC_UPDATE_ON_TIME",
                name_vi: "Cập nhật, công khai TTHC đúng hạn",
                name_en: "Procedures updated and published on time",
                rule: Rule::new(Transparency, 4),
            },
            IndicatorCode::PublicContentFull => Definition {
                code: "PUBLIC_CONTENT_FULL",
                name_vi: "Công khai đầy đủ nội dung TTHC",
                name_en: "Procedures published with all required parts",
                rule: Rule::new(Transparency, 2),
            },
            IndicatorCode::DossierSync => Definition {
                code: "DOSSIER_SYNC",
                name_vi: "Đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia",
                name_en: "Dossiers synced to the national portal",
                rule: Rule::new(Transparency, 6),
            },
            IndicatorCode::OnTime => Definition {
                code: "ON_TIME",
                name_vi: "Hồ sơ giải quyết đúng hạn",
                name_en: "Dossiers on time",
                rule: Rule::new(Progress, 20).when_empty(Zero),
            },
            IndicatorCode::PaymentDossiers => Definition {
                code: "PAYMENT_DOSSIERS",
                name_vi: "Hồ sơ thanh toán trực tuyến",
                name_en: "Dossiers paid online",
                rule: Rule::new(OnlinePayment, 6).ratio_as_percentage(),
            },
            IndicatorCode::PaymentProcedures => Definition {
                code: "PAYMENT_PROCEDURES",
                name_vi: "TTHC có phát sinh thanh toán trực tuyến",
                name_en: "Procedures with an online payment",
                rule: Rule::new(OnlinePayment, 2)
                    .full_marks_at(EIGHTY_PERCENT)
                    .ratio_as_percentage(),
            },
            IndicatorCode::PaymentOnPortal => Definition {
                code: "PAYMENT_ON_PORTAL",
                name_vi: "TTHC thanh toán trên Cổng Dịch vụ công quốc gia",
                name_en: "Procedures payable on the national portal",
                rule: Rule::new(OnlinePayment, 2)
                    .full_marks_at(EIGHTY_PERCENT)
                    .ratio_as_percentage(),
            },
            IndicatorCode::PetitionProcessingOnTime => Definition {
                code: "PETITION_PROCESSING_ON_TIME",
                name_vi: "Xử lý phản ánh, kiến nghị đúng hạn",
                name_en: "Petitions handled on time",
                rule: Rule::new(Satisfaction, 6).when_empty(FullMarks),
            },
            IndicatorCode::PetitionHandlingSatisfaction => Definition {
                code: "PETITION_HANDLING_SATISFACTION",
                name_vi: "Hài lòng về xử lý phản ánh, kiến nghị",
                name_en: "Petitioners satisfied",
                rule: Rule::new(Satisfaction, 6).when_empty(FullMarks),
            },
            IndicatorCode::DossierReceivingSatisfaction => Definition {
                code: "DOSSIER_RECEIVING_SATISFACTION",
                name_vi: "Hài lòng về tiếp nhận, giải quyết hồ sơ",
                name_en: "Dossier satisfaction",
                rule: Rule::new(Satisfaction, 6)
                    .full_marks_at(NINETY_PERCENT)
                    .when_empty(Zero),
            },
            IndicatorCode::OriginalResultAvailable => Definition {
                code: "ORIGINAL_RESULT_AVAILABLE",
                name_vi: "Hồ sơ có kết quả điện tử",
                name_en: "Dossiers with an electronic result",
                rule: Rule::new(Digitization, 6),
            },
            IndicatorCode::SoHoaGiayToGiaiQuyet => Definition {
                code: "SO_HOA_GIAY_TO_GIAI_QUYET",
                name_vi: "Hồ sơ có thành phần được số hóa",
                name_en: "Dossiers with digitized components",
                rule: Rule::new(Digitization, 4),
            },
            IndicatorCode::ElectronicCertifiedCopy => Definition {
                code: "ELECTRONIC_CERTIFIED_COPY",
                name_vi: "Cung cấp chứng thực bản sao điện tử",
                name_en: "Electronic certified copies offered",
                rule: Rule::new(Digitization, 2),
            },
            IndicatorCode::ReusedDigitizedData => Definition {
                code: "REUSED_DIGITIZED_DATA",
                name_vi: "Tái sử dụng dữ liệu số hóa",
                name_en: "Dossiers reusing digitized data",
                rule: Rule::new(Digitization, 2).full_marks_at(EIGHTY_PERCENT),
            },
            IndicatorCode::SyncedWithDvcqgPersonalStorage => Definition {
                code: "SYNCED_WITH_DVCQG_PERSONAL_STORAGE",
                name_vi: "Chia sẻ dữ liệu số hóa vào kho dữ liệu cá nhân",
                name_en: "Digitized dossiers shared to the citizen's data store",
                rule: Rule::new(Digitization, 4),
            },
            IndicatorCode::CitizenDataConnectedDossier => Definition {
                code: "CITIZEN_DATA_CONNECTED_DOSSIER",
                name_vi: "Hồ sơ sử dụng dữ liệu dân cư",
                name_en: "Dossiers using population data",
                rule: Rule::new(Digitization, 2),
            },
            IndicatorCode::CitizenDataConnectedFormality => Definition {
                code: "CITIZEN_DATA_CONNECTED_FORMALITY",
                name_vi: "TTHC kết nối Cơ sở dữ liệu dân cư",
                name_en: "Procedures connected to the population database",
                rule: Rule::new(Digitization, 2),
            },
        }
    }
}

/// Everything known about one indicator.
struct Definition {
    code: &'static str,
    name_vi: &'static str,
    name_en: &'static str,
    rule: Rule,
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

/// How one indicator is scored.
#[derive(Debug, Clone, Copy)]
struct Rule {
    group: Group,
    /// The maximum P. Every maximum in today's table is a whole number of points.
    points: u64,
    /// The ratio t that earns full marks; the score is min(P, P × R / t).
    full_marks_at: Fraction,
    when_empty: EmptyDenominator,
    /// Whether the portal rounds R to a percentage with two decimals before scoring it.
    ratio_as_percentage: bool,
}

/// A non-negative fraction, for the full-marks thresholds.
#[derive(Debug, Clone, Copy)]
struct Fraction {
    numerator: u64,
    denominator: u64,
}

const HUNDRED_PERCENT: Fraction = Fraction {
    numerator: 1,
    denominator: 1,
};
const EIGHTY_PERCENT: Fraction = Fraction {
    numerator: 4,
    denominator: 5,
};
const NINETY_PERCENT: Fraction = Fraction {
    numerator: 9,
    denominator: 10,
};

/// What an indicator scores when its denominator is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EmptyDenominator {
    /// No score: the indicator is left out of its group.
    NoScore,
    /// Zero points.
    Zero,
    /// Full marks.
    FullMarks,
}

impl Rule {
    /// A P × R indicator (clamped at P) with no score on an empty denominator, the common case.
    const fn new(group: Group, points: u64) -> Self {
        Rule {
            group,
            points,
            full_marks_at: HUNDRED_PERCENT,
            when_empty: EmptyDenominator::NoScore,
            ratio_as_percentage: false,
        }
    }

    const fn full_marks_at(self, threshold: Fraction) -> Self {
        Rule {
            full_marks_at: threshold,
            ..self
        }
    }

    const fn when_empty(self, rule: EmptyDenominator) -> Self {
        Rule {
            when_empty: rule,
            ..self
        }
    }

    const fn ratio_as_percentage(self) -> Self {
        Rule {
            ratio_as_percentage: true,
            ..self
        }
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

/// The rating bands of the total score.
///
/// Excellent (≥ 90) and good (≥ 80) are fixed by the portal; the cut-offs of fair and average are
/// configurable. Weak is everything below `average_from`: the portal's "< 50" holds with the default,
/// and a province that raises `average_from` above 50 rates more units weak.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(try_from = "BandCutOffs", into = "BandCutOffs")]
pub struct Bands {
    fair_from: f64,
    average_from: f64,
}

/// The configuration form of [`Bands`], checked by [`Bands::new`].
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct BandCutOffs {
    #[serde(default = "default_fair_from")]
    fair_from: f64,
    #[serde(default = "default_average_from")]
    average_from: f64,
}

const fn default_fair_from() -> f64 {
    70.0
}

const fn default_average_from() -> f64 {
    50.0
}

impl From<Bands> for BandCutOffs {
    fn from(b: Bands) -> Self {
        BandCutOffs {
            fair_from: b.fair_from,
            average_from: b.average_from,
        }
    }
}

impl TryFrom<BandCutOffs> for Bands {
    type Error = BandsError;

    fn try_from(cut_offs: BandCutOffs) -> Result<Self, Self::Error> {
        Bands::new(cut_offs.fair_from, cut_offs.average_from)
    }
}

/// Band cut-offs that do not describe five ordered bands.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum BandsError {
    /// A cut-off is NaN or infinite.
    #[error(
        "band cut-offs must be finite, got fair_from = {fair_from}, average_from = {average_from}"
    )]
    NotFinite {
        /// The configured fair cut-off.
        fair_from: f64,
        /// The configured average cut-off.
        average_from: f64,
    },
    /// The average cut-off is below 0, where no total can be.
    #[error("average_from ({average_from}) must not be negative")]
    NegativeAverage {
        /// The configured average cut-off.
        average_from: f64,
    },
    /// The average band would be empty or inverted.
    #[error("average_from ({average_from}) must be below fair_from ({fair_from})")]
    AverageNotBelowFair {
        /// The configured fair cut-off.
        fair_from: f64,
        /// The configured average cut-off.
        average_from: f64,
    },
    /// The fair band would be empty or overlap the fixed good band.
    #[error("fair_from ({fair_from}) must be below 80, where the good band starts")]
    FairNotBelowGood {
        /// The configured fair cut-off.
        fair_from: f64,
    },
}

impl Bands {
    /// The total from which a unit is excellent, fixed by the portal.
    pub const EXCELLENT_FROM: f64 = 90.0;
    /// The total from which a unit is good, fixed by the portal.
    pub const GOOD_FROM: f64 = 80.0;

    /// Bands with the given cut-offs.
    ///
    /// # Errors
    ///
    /// Unless 0 ≤ `average_from` < `fair_from` < 80, with both finite. `average_from` may exceed 50.
    pub fn new(fair_from: f64, average_from: f64) -> Result<Self, BandsError> {
        if !fair_from.is_finite() || !average_from.is_finite() {
            return Err(BandsError::NotFinite {
                fair_from,
                average_from,
            });
        }
        if average_from < 0.0 {
            return Err(BandsError::NegativeAverage { average_from });
        }
        if average_from >= fair_from {
            return Err(BandsError::AverageNotBelowFair {
                fair_from,
                average_from,
            });
        }
        if fair_from >= Self::GOOD_FROM {
            return Err(BandsError::FairNotBelowGood { fair_from });
        }
        Ok(Bands {
            fair_from,
            average_from,
        })
    }

    /// The total from which a unit is fair.
    pub fn fair_from(&self) -> f64 {
        self.fair_from
    }

    /// The total from which a unit is average; below it a unit is weak.
    pub fn average_from(&self) -> f64 {
        self.average_from
    }

    /// The band of a total score. Each cut-off belongs to the band above it: 90 is excellent.
    pub fn band_for(&self, total: f64) -> Band {
        if total >= Self::EXCELLENT_FROM {
            Band::Excellent
        } else if total >= Self::GOOD_FROM {
            Band::Good
        } else if total >= self.fair_from {
            Band::Fair
        } else if total >= self.average_from {
            Band::Average
        } else {
            Band::Weak
        }
    }
}

impl Default for Bands {
    /// The defaults of domain.md: fair from 70, average from 50.
    fn default() -> Self {
        Bands {
            fair_from: default_fair_from(),
            average_from: default_average_from(),
        }
    }
}

/// A unit's rating.
// No `Ord`: the declaration order runs from best to worst, and `band >= Band::Good` would read as
// the opposite of what it meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Xuất sắc: 90 and above.
    Excellent,
    /// Tốt: 80 to below 90.
    Good,
    /// Khá: from the fair cut-off to below 80.
    Fair,
    /// Trung bình: from the average cut-off to below the fair one.
    Average,
    /// Yếu: below the average cut-off.
    Weak,
}

impl Band {
    /// The band's Vietnamese name, as used in assessments.
    pub const fn name_vi(self) -> &'static str {
        match self {
            Band::Excellent => "xuất sắc",
            Band::Good => "tốt",
            Band::Fair => "khá",
            Band::Average => "trung bình",
            Band::Weak => "yếu",
        }
    }

    /// The band's English name.
    pub const fn name_en(self) -> &'static str {
        match self {
            Band::Excellent => "excellent",
            Band::Good => "good",
            Band::Fair => "fair",
            Band::Average => "average",
            Band::Weak => "weak",
        }
    }
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

/// A score in whole hundredths of a point, the portal's precision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Hundredths(u64);

impl Hundredths {
    fn points(self) -> f64 {
        // Division is correctly rounded, so this is the `f64` nearest to the two-decimal value.
        self.0 as f64 / 100.0
    }
}

impl Add for Hundredths {
    type Output = Hundredths;

    fn add(self, other: Hundredths) -> Hundredths {
        Hundredths(self.0 + other.0)
    }
}

impl Sum for Hundredths {
    fn sum<I: Iterator<Item = Hundredths>>(scores: I) -> Hundredths {
        scores.fold(Hundredths::default(), Add::add)
    }
}

/// `numerator / denominator` rounded half-up to a whole number, exactly.
fn round_half_up(numerator: u128, denominator: u128) -> u128 {
    (2 * numerator + denominator) / (2 * denominator)
}

/// One indicator's score; `None` for an absent count or an empty denominator without a score.
pub fn score_indicator(code: IndicatorCode, count: Option<Count>) -> Option<f64> {
    indicator_hundredths(code, count?).map(Hundredths::points)
}

fn indicator_hundredths(code: IndicatorCode, count: Count) -> Option<Hundredths> {
    let rule = code.rule();
    let full_marks = Hundredths(rule.points * 100);
    if count.denominator == 0 {
        return match rule.when_empty {
            EmptyDenominator::NoScore => None,
            EmptyDenominator::Zero => Some(Hundredths(0)),
            EmptyDenominator::FullMarks => Some(full_marks),
        };
    }
    let (numerator, denominator) = if rule.ratio_as_percentage {
        // A percentage with two decimals is a whole number of ten-thousandths.
        let ten_thousandths = round_half_up(
            u128::from(count.numerator) * 10_000,
            u128::from(count.denominator),
        );
        (ten_thousandths, 10_000)
    } else {
        (u128::from(count.numerator), u128::from(count.denominator))
    };
    // P × R / t in hundredths of a point is 100 × P × numerator × t.den / (denominator × t.num).
    // u128 holds it for any u64 counts: at most 2,000 × 10^4 × 2^64 × 10.
    let threshold = rule.full_marks_at;
    let score = round_half_up(
        u128::from(full_marks.0) * numerator * u128::from(threshold.denominator),
        denominator * u128::from(threshold.numerator),
    );
    let capped = score.min(u128::from(full_marks.0));
    Some(Hundredths(
        u64::try_from(capped).expect("a score capped at full marks fits in u64"),
    ))
}

/// The portal's `ONLINE_SERVICES` score in hundredths, clamped to 0..=12.
fn online_services_hundredths(given: Option<f64>) -> Option<Hundredths> {
    let value = given.filter(|value| value.is_finite())?;
    let points = value.clamp(0.0, Group::OnlineServices.max_points());
    // The tolerance absorbs the binary representation error of a two- or three-decimal value, so
    // that 8.835 (stored just below it) still rounds half-up to 8.84. On 0..=1,200 hundredths it is
    // far below the precision of any value the portal publishes.
    let hundredths = (points * 100.0 + 0.5 + 1e-9).floor();
    Some(Hundredths(hundredths as u64))
}

/// The sum of the scores present, or `None` if there are none.
fn sum_present(scores: impl Iterator<Item = Option<Hundredths>>) -> Option<Hundredths> {
    scores.fold(None, |sum, score| match score {
        Some(score) => Some(sum.unwrap_or_default() + score),
        None => sum,
    })
}

/// A unit's full score: every indicator, every group, the total and its band.
pub fn score_unit(counts: &UnitCounts, bands: &Bands) -> Score766 {
    let indicators: BTreeMap<IndicatorCode, Option<Hundredths>> = IndicatorCode::ALL
        .into_iter()
        .map(|code| {
            let count = counts.counts.get(&code);
            (
                code,
                count.and_then(|count| indicator_hundredths(code, *count)),
            )
        })
        .collect();
    let groups: BTreeMap<Group, Option<Hundredths>> = Group::ALL
        .into_iter()
        .map(|group| {
            let score = match group {
                Group::OnlineServices => online_services_hundredths(counts.online_services),
                _ => sum_present(group.indicators().map(|code| indicators[&code])),
            };
            (group, score)
        })
        .collect();
    let total = sum_present(groups.values().copied()).map(Hundredths::points);
    let missing: Vec<Group> = Group::ALL
        .into_iter()
        .filter(|g| groups[g].is_none())
        .collect();
    let attainable = Group::ALL
        .into_iter()
        .filter(|g| groups[g].is_some())
        .map(Group::max_points)
        .sum();
    let band = total
        .filter(|_| missing.is_empty())
        .map(|t| bands.band_for(t));
    Score766 {
        indicators: to_points(indicators),
        groups: to_points(groups),
        total,
        attainable,
        missing,
        band,
    }
}

fn to_points<K: Ord>(scores: BTreeMap<K, Option<Hundredths>>) -> BTreeMap<K, Option<f64>> {
    scores
        .into_iter()
        .map(|(key, score)| (key, score.map(Hundredths::points)))
        .collect()
}

#[cfg(test)]
mod tests;
