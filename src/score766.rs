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
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    use IndicatorCode::*;

    fn check_indicator(cases: &[(IndicatorCode, u64, u64, Option<f64>)]) {
        for &(code, numerator, denominator, expected) in cases {
            assert_eq!(
                score_indicator(code, Some(Count::new(numerator, denominator))),
                expected,
                "{code} {numerator}/{denominator}"
            );
        }
    }

    fn counts(entries: &[(IndicatorCode, u64, u64)]) -> UnitCounts {
        UnitCounts {
            counts: entries
                .iter()
                .map(|&(code, numerator, denominator)| (code, Count::new(numerator, denominator)))
                .collect(),
            online_services: None,
        }
    }

    /// Full marks in every group computed from counts: 88 points, all but `ONLINE_SERVICES`.
    fn full_marks_counts() -> UnitCounts {
        counts(&IndicatorCode::ALL.map(|code| (code, 10, 10)))
    }

    fn check_band(bands: &Bands, cases: &[(f64, Band)]) {
        for &(total, expected) in cases {
            assert_eq!(bands.band_for(total), expected, "total {total}");
        }
    }

    // --- codes ----------------------------------------------------------------------------------

    #[test]
    fn codes_read_and_write_as_the_portals_codes() {
        for code in IndicatorCode::ALL {
            assert_eq!(code.to_string().parse::<IndicatorCode>(), Ok(code));
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.code()));
        }
        for group in Group::ALL {
            assert_eq!(serde_json::to_value(group).unwrap(), json!(group.code()));
        }
        assert_eq!(SoHoaGiayToGiaiQuyet.code(), "SO_HOA_GIAY_TO_GIAI_QUYET");
        assert_eq!(
            "ON_TIMES".parse::<IndicatorCode>(),
            Err(UnknownIndicatorCode("ON_TIMES".to_owned()))
        );
    }

    #[test]
    fn indicator_maxima_add_up_to_their_groups_and_to_100() {
        for group in Group::ALL {
            let indicator_total: f64 = group.indicators().map(IndicatorCode::max_points).sum();
            let expected = match group {
                // The portal scores online services itself; no indicator of ours feeds it.
                Group::OnlineServices => 0.0,
                _ => group.max_points(),
            };
            assert_eq!(indicator_total, expected, "{group}");
        }
        let total: f64 = Group::ALL.into_iter().map(Group::max_points).sum();
        assert_eq!(total, 100.0);
    }

    #[test]
    fn every_code_has_names_in_both_languages() {
        for code in IndicatorCode::ALL {
            assert!(
                !code.name_vi().is_empty() && !code.name_en().is_empty(),
                "{code}"
            );
        }
    }

    // --- empty denominators -----------------------------------------------------------------------

    #[test]
    fn on_time_scores_zero_when_nothing_was_received() {
        check_indicator(&[
            (OnTime, 0, 0, Some(0.0)),
            // The numerator cannot rescue an empty denominator.
            (OnTime, 3, 0, Some(0.0)),
        ]);
    }

    #[test]
    fn dossier_satisfaction_scores_zero_when_there_are_no_dossiers() {
        check_indicator(&[(DossierReceivingSatisfaction, 0, 0, Some(0.0))]);
    }

    #[test]
    fn petition_indicators_score_full_marks_when_there_are_no_petitions() {
        check_indicator(&[
            (PetitionProcessingOnTime, 0, 0, Some(6.0)),
            (PetitionHandlingSatisfaction, 0, 0, Some(6.0)),
        ]);
    }

    #[test]
    fn every_other_indicator_has_no_score_on_an_empty_denominator() {
        let special = [
            OnTime,
            DossierReceivingSatisfaction,
            PetitionProcessingOnTime,
            PetitionHandlingSatisfaction,
        ];
        for code in IndicatorCode::ALL
            .into_iter()
            .filter(|code| !special.contains(code))
        {
            check_indicator(&[(code, 0, 0, None)]);
        }
    }

    #[test]
    fn an_absent_count_has_no_score_whatever_its_empty_denominator_rule() {
        for code in IndicatorCode::ALL {
            assert_eq!(score_indicator(code, None), None, "{code}");
        }
    }

    // --- formulas ---------------------------------------------------------------------------------

    #[test]
    fn proportional_indicators_score_p_times_r() {
        check_indicator(&[
            // 20 × 95/100 = 19
            (OnTime, 95, 100, Some(19.0)),
            // 6 × 1/3 = 2
            (PublishOnTime, 1, 3, Some(2.0)),
            // 2 × 2/3 = 1.333… -> 1.33
            (PublicContentFull, 2, 3, Some(1.33)),
            // 6 × 5/6 = 5
            (DossierSync, 5, 6, Some(5.0)),
            // 4 × 3/4 = 3
            (SyncedWithDvcqgPersonalStorage, 3, 4, Some(3.0)),
            // 2 × 0/7 = 0
            (CitizenDataConnectedFormality, 0, 7, Some(0.0)),
        ]);
    }

    #[test]
    fn indicators_capped_at_80_percent_reach_full_marks_at_80_percent() {
        check_indicator(&[
            // 2 × 0.60 / 0.8 = 1.5, below the cap
            (PaymentProcedures, 3, 5, Some(1.5)),
            // 2 × 0.80 / 0.8 = 2, exactly at the cap
            (PaymentProcedures, 4, 5, Some(2.0)),
            // 2 × 0.90 / 0.8 = 2.25, above the cap: min(2, 2.25) = 2
            (PaymentProcedures, 9, 10, Some(2.0)),
            // 2 × 0.50 / 0.8 = 1.25
            (PaymentOnPortal, 1, 2, Some(1.25)),
            // 2 × 0.70 / 0.8 = 1.75
            (ReusedDigitizedData, 7, 10, Some(1.75)),
            // 2 × 1/3 / 0.8 = 0.8333… -> 0.83 (from the exact ratio: not a payment indicator)
            (ReusedDigitizedData, 1, 3, Some(0.83)),
            // 2 × 0.95 / 0.8 = 2.375: min(2, 2.375) = 2
            (ReusedDigitizedData, 19, 20, Some(2.0)),
        ]);
    }

    #[test]
    fn dossier_satisfaction_reaches_full_marks_at_90_percent() {
        check_indicator(&[
            // 6 × 0.81 / 0.9 = 5.4, below the cap
            (DossierReceivingSatisfaction, 81, 100, Some(5.4)),
            // 6 × 2/3 / 0.9 = 4.444… -> 4.44
            (DossierReceivingSatisfaction, 2, 3, Some(4.44)),
            // 6 × 0.9 / 0.9 = 6, exactly at the cap
            (DossierReceivingSatisfaction, 9, 10, Some(6.0)),
            // 6 × 0.95 / 0.9 = 6.333…: min(6, 6.33) = 6
            (DossierReceivingSatisfaction, 95, 100, Some(6.0)),
        ]);
    }

    #[test]
    fn digitization_results_above_their_denominator_are_capped_at_full_marks() {
        check_indicator(&[
            // 6 × 45/50 = 5.4
            (OriginalResultAvailable, 45, 50, Some(5.4)),
            // 6 × 120/100 = 7.2: min(6, 7.2) = 6
            (OriginalResultAvailable, 120, 100, Some(6.0)),
            // 4 × 11/10 = 4.4: min(4, 4.4) = 4
            (SoHoaGiayToGiaiQuyet, 11, 10, Some(4.0)),
        ]);
    }

    #[test]
    fn uncapped_indicators_with_a_ratio_above_one_are_clamped_at_full_marks() {
        check_indicator(&[
            // 20 × 101/100 = 20.2 -> 20
            (OnTime, 101, 100, Some(20.0)),
            // 2 × 5/4 = 2.5 -> 2
            (ElectronicCertifiedCopy, 5, 4, Some(2.0)),
            // 110.00 % -> 6 × 1.10 = 6.6 -> 6
            (PaymentDossiers, 11, 10, Some(6.0)),
        ]);
    }

    #[test]
    fn payment_indicators_score_the_ratio_rounded_to_a_percentage() {
        check_indicator(&[
            // 84.2123 % -> 84.21 %: 6 × 0.8421 = 5.0526 -> 5.05
            (PaymentDossiers, 842_123, 1_000_000, Some(5.05)),
            // 62.745098… % -> 62.75 %: 6 × 0.6275 = 3.765 -> 3.77 (exact ratio: 3.7647… -> 3.76)
            (PaymentDossiers, 32, 51, Some(3.77)),
            // 2.083333… % -> 2.08 %: 6 × 0.0208 = 0.1248 -> 0.12 (exact ratio: 0.125 -> 0.13)
            (PaymentDossiers, 1, 48, Some(0.12)),
            // 76.595744… % -> 76.60 %: 2 × 0.766 / 0.8 = 1.915 -> 1.92 (exact ratio: 1.9148… -> 1.91)
            (PaymentProcedures, 36, 47, Some(1.92)),
            // 12.195121… % -> 12.20 %: 2 × 0.122 / 0.8 = 0.305 -> 0.31 (exact ratio: 0.3048… -> 0.30)
            (PaymentOnPortal, 5, 41, Some(0.31)),
        ]);
    }

    #[test]
    fn other_indicators_score_the_exact_ratio() {
        check_indicator(&[
            // The same 32/51 as above, unrounded: 6 × 0.627450… = 3.7647… -> 3.76
            (DossierSync, 32, 51, Some(3.76)),
            // 1/48 unrounded: 6 × 0.0208333… = 0.125 -> 0.13
            (PublishOnTime, 1, 48, Some(0.13)),
        ]);
    }

    #[test]
    fn scores_are_rounded_half_up_to_two_decimals_exactly() {
        check_indicator(&[
            // 4 × 107/160 = 2.675 exactly; the nearest f64 is 2.67499999…, yet it must round to 2.68
            (PublicUpdateOnTime, 107, 160, Some(2.68)),
            // 20 × 2469/4000 = 12.345 exactly -> 12.35
            (OnTime, 2469, 4000, Some(12.35)),
            // 2 × 1/16 = 0.125 -> 0.13
            (CitizenDataConnectedDossier, 1, 16, Some(0.13)),
            // 4 × 1/800 = 0.005 -> 0.01
            (SyncedWithDvcqgPersonalStorage, 1, 800, Some(0.01)),
            // 2 × 1/800 = 0.0025 -> 0.00, below the half
            (CitizenDataConnectedFormality, 1, 800, Some(0.0)),
            // 20 × 1/3 = 6.666… -> 6.67
            (OnTime, 1, 3, Some(6.67)),
            // 20 × 2/3 = 13.333… -> 13.33
            (OnTime, 2, 3, Some(13.33)),
        ]);
    }

    #[test]
    fn huge_counts_do_not_overflow() {
        check_indicator(&[
            (OnTime, u64::MAX, u64::MAX, Some(20.0)),
            (PaymentDossiers, u64::MAX, 1, Some(6.0)),
            (DossierReceivingSatisfaction, 1, u64::MAX, Some(0.0)),
        ]);
    }

    // --- groups, total, bands -------------------------------------------------------------------

    #[test]
    fn a_group_score_is_the_sum_of_its_rounded_indicator_scores() {
        let score = score_unit(
            &counts(&[
                (PublishOnTime, 2, 9),      // 6 × 2/9 = 1.333… -> 1.33
                (PublicUpdateOnTime, 1, 3), // 4 × 1/3 = 1.333… -> 1.33
                (PublicContentFull, 2, 3),  // 2 × 2/3 = 1.333… -> 1.33
                (DossierSync, 2, 9),        // 6 × 2/9 = 1.333… -> 1.33
            ]),
            &Bands::default(),
        );
        // 4 × 1.33 = 5.32, where the unrounded sum 5.333… would give 5.33.
        assert_eq!(score.groups[&Group::Transparency], Some(5.32));
        assert_eq!(score.total, Some(5.32));
    }

    #[test]
    fn a_group_without_any_scored_indicator_has_no_score_while_zero_is_a_score() {
        let score = score_unit(
            &counts(&[
                // Transparency: every denominator empty, and none of them has an empty rule.
                (PublishOnTime, 0, 0),
                (DossierSync, 0, 0),
                // Progress: nothing received scores 0.
                (OnTime, 0, 0),
            ]),
            &Bands::default(),
        );
        assert_eq!(score.groups[&Group::Transparency], None);
        assert_eq!(score.groups[&Group::Progress], Some(0.0));
        assert_eq!(score.groups[&Group::Digitization], None);
        // Progress scored 0: a total of 0 out of its 20 points, five groups
        // missing, and no band.
        assert_eq!(score.total, Some(0.0));
        assert_eq!(score.attainable, 20.0);
        assert_eq!(score.missing.len(), 5);
        assert_eq!(score.band, None);
    }

    #[test]
    fn a_group_with_some_indicators_unscored_sums_the_scored_ones() {
        let score = score_unit(
            &counts(&[
                (PetitionProcessingOnTime, 0, 0),     // no petitions: 6
                (PetitionHandlingSatisfaction, 0, 0), // no petitions: 6
                (DossierReceivingSatisfaction, 0, 0), // no dossiers: 0
                (OriginalResultAvailable, 3, 4),      // 6 × 0.75 = 4.5
                (ElectronicCertifiedCopy, 0, 0),      // no communes: n/a
            ]),
            &Bands::default(),
        );
        assert_eq!(score.groups[&Group::Satisfaction], Some(12.0));
        assert_eq!(score.groups[&Group::Digitization], Some(4.5));
        assert_eq!(score.indicators[&ElectronicCertifiedCopy], None);
        assert_eq!(score.indicators[&ReusedDigitizedData], None);
        assert_eq!(score.total, Some(16.5));
    }

    #[test]
    fn every_indicator_and_group_is_reported_even_without_a_score() {
        let score = score_unit(&UnitCounts::default(), &Bands::default());
        assert_eq!(score.indicators.len(), 18);
        assert!(score.indicators.values().all(Option::is_none));
        assert_eq!(score.groups.len(), 6);
        assert!(score.groups.values().all(Option::is_none));
        assert_eq!(score.total, None, "nothing scored is no total, not 0");
        assert_eq!(score.band, None);
        assert_eq!(score.missing, Group::ALL);
    }

    #[test]
    fn online_services_is_the_portals_score_when_given_and_absent_otherwise() {
        let mut unit = full_marks_counts();
        let without = score_unit(&unit, &Bands::default());
        assert_eq!(without.groups[&Group::OnlineServices], None);
        assert_eq!(without.total, Some(88.0));
        assert_eq!(without.band, None, "online services missing: no band");

        unit.online_services = Some(8.83);
        let with = score_unit(&unit, &Bands::default());
        assert_eq!(with.groups[&Group::OnlineServices], Some(8.83));
        assert_eq!(with.total, Some(96.83));
        assert_eq!(with.band, Some(Band::Excellent));
    }

    #[test]
    fn online_services_is_rounded_clamped_and_dropped_when_not_finite() {
        for (given, expected) in [
            (Some(8.835), Some(8.84)), // half-up despite 8.835 being stored as 8.83499…
            (Some(8.834), Some(8.83)),
            (Some(12.5), Some(12.0)),
            (Some(-1.0), Some(0.0)),
            (Some(f64::NAN), None),
            (Some(f64::INFINITY), None),
            (None, None),
        ] {
            let unit = UnitCounts {
                counts: BTreeMap::new(),
                online_services: given,
            };
            let score = score_unit(&unit, &Bands::default());
            assert_eq!(score.groups[&Group::OnlineServices], expected, "{given:?}");
        }
    }

    /// One case of the n/a rules: which groups are scored (and at what), and
    /// what the total, the points attainable, the missing groups, the band and
    /// the words people read must be.
    fn check_partial(
        groups: &[(Group, f64)],
        total: Option<f64>,
        attainable: f64,
        missing: usize,
        band: Option<Band>,
        summary_vi: &str,
    ) {
        // Counts that score each group exactly as asked: a group's first
        // indicator at `points` out of its maximum, the rest left out; online
        // services as the portal's own score.
        let mut unit = UnitCounts::default();
        for &(group, points) in groups {
            if group == Group::OnlineServices {
                unit.online_services = Some(points);
                continue;
            }
            let mut left = (points * 100.0).round() as u64;
            for code in group.indicators() {
                let max = (code.max_points() * 100.0) as u64;
                let take = left.min(max);
                left -= take;
                // take/max of the indicator's maximum, in hundredths.
                let count = match code.rule().full_marks_at {
                    t if t.numerator == t.denominator => Count::new(take, max),
                    t => Count::new(take * t.numerator, max * t.denominator),
                };
                unit.counts.insert(code, count);
            }
        }
        let score = score_unit(&unit, &Bands::default());
        let names: Vec<_> = groups.iter().map(|g| g.0).collect();
        assert_eq!(score.total, total, "{names:?}");
        assert_eq!(score.attainable, attainable, "{names:?}");
        assert_eq!(score.missing.len(), missing, "{names:?}");
        assert_eq!(score.band, band, "{names:?}");
        assert_eq!(score.summary(crate::domain::Language::Vi), summary_vi);
    }

    #[test]
    fn a_total_is_shown_only_from_the_groups_that_exist_and_banded_only_when_all_do() {
        use Group::*;
        let all = [
            (Transparency, 18.0),
            (Progress, 20.0),
            (OnlineServices, 12.0),
            (OnlinePayment, 10.0),
            (Satisfaction, 18.0),
            (Digitization, 22.0),
        ];
        check_partial(&[], None, 0.0, 6, None, "chưa có dữ liệu");
        check_partial(
            &[(OnlineServices, 12.0)],
            Some(12.0),
            12.0,
            5,
            None,
            "12,00 / 12,00 điểm của các nhóm có dữ liệu; thiếu 5 nhóm (Công khai, minh bạch; \
             Tiến độ giải quyết; Thanh toán trực tuyến; Mức độ hài lòng; Số hóa hồ sơ)",
        );
        check_partial(
            &all[..2],
            Some(38.0),
            38.0,
            4,
            None,
            "38,00 / 38,00 điểm của các nhóm có dữ liệu; thiếu 4 nhóm (Dịch vụ công trực tuyến; \
             Thanh toán trực tuyến; Mức độ hài lòng; Số hóa hồ sơ)",
        );
        check_partial(
            &all,
            Some(100.0),
            100.0,
            0,
            Some(Band::Excellent),
            "100,00 điểm, xếp loại xuất sắc",
        );
        let mut weak = all;
        weak[1].1 = 0.0; // nothing on time
        weak[5].1 = 0.0;
        check_partial(
            &weak,
            Some(58.0),
            100.0,
            0,
            Some(Band::Average),
            "58,00 điểm, xếp loại trung bình",
        );
    }

    #[test]
    fn bounds_span_what_the_missing_groups_could_add() {
        let score = score_unit(&full_marks_counts(), &Bands::default());
        assert_eq!(score.bounds(), Some((88.0, 100.0)));
        let none = score_unit(&UnitCounts::default(), &Bands::default());
        assert_eq!(none.bounds(), None);
    }

    #[test]
    fn the_total_decides_the_band_at_every_boundary() {
        check_band(
            &Bands::default(),
            &[
                (100.0, Band::Excellent),
                (90.0, Band::Excellent),
                (89.99, Band::Good),
                (80.0, Band::Good),
                (79.99, Band::Fair),
                (70.0, Band::Fair),
                (69.99, Band::Average),
                (50.0, Band::Average),
                (49.99, Band::Weak),
                (0.0, Band::Weak),
            ],
        );
    }

    #[test]
    fn configured_cut_offs_move_the_fair_and_average_bands() {
        let bands = Bands::new(75.0, 55.0).expect("valid cut-offs");
        check_band(
            &bands,
            &[
                (80.0, Band::Good),
                (75.0, Band::Fair),
                (74.99, Band::Average),
                (55.0, Band::Average),
                (54.99, Band::Weak),
            ],
        );
    }

    #[test]
    fn a_scored_unit_is_banded_by_its_total() {
        // 88 points from counts plus ONLINE_SERVICES: 2 -> 90 (excellent), 1.99 -> 89.99 (good).
        for (online_services, total, band) in
            [(2.0, 90.0, Band::Excellent), (1.99, 89.99, Band::Good)]
        {
            let unit = UnitCounts {
                online_services: Some(online_services),
                ..full_marks_counts()
            };
            let score = score_unit(&unit, &Bands::default());
            assert_eq!((score.total, score.band), (Some(total), Some(band)));
        }
    }

    #[test]
    fn inconsistent_cut_offs_are_rejected() {
        for (fair_from, average_from, expected) in [
            (
                50.0,
                50.0,
                BandsError::AverageNotBelowFair {
                    fair_from: 50.0,
                    average_from: 50.0,
                },
            ),
            (
                60.0,
                65.0,
                BandsError::AverageNotBelowFair {
                    fair_from: 60.0,
                    average_from: 65.0,
                },
            ),
            (80.0, 50.0, BandsError::FairNotBelowGood { fair_from: 80.0 }),
            (
                70.0,
                -1.0,
                BandsError::NegativeAverage { average_from: -1.0 },
            ),
            (
                f64::INFINITY,
                50.0,
                BandsError::NotFinite {
                    fair_from: f64::INFINITY,
                    average_from: 50.0,
                },
            ),
        ] {
            assert_eq!(
                Bands::new(fair_from, average_from),
                Err(expected),
                "{fair_from}/{average_from}"
            );
        }
        assert!(matches!(
            Bands::new(70.0, f64::NAN),
            Err(BandsError::NotFinite { .. })
        ));
    }

    #[test]
    fn an_average_cut_off_above_50_is_allowed() {
        let bands = Bands::new(79.99, 60.0).expect("valid cut-offs");
        assert_eq!(bands.band_for(59.99), Band::Weak);
    }

    #[test]
    fn bands_deserialize_with_defaults_and_are_checked() {
        let defaults: Bands = serde_json::from_str("{}").unwrap();
        assert_eq!(defaults, Bands::default());
        let fair_only: Bands = serde_json::from_str(r#"{"fair_from": 72.5}"#).unwrap();
        assert_eq!(
            (fair_only.fair_from(), fair_only.average_from()),
            (72.5, 50.0)
        );
        let error = serde_json::from_str::<Bands>(r#"{"fair_from": 85}"#).unwrap_err();
        assert!(error.to_string().contains("must be below 80"), "{error}");
        assert!(serde_json::from_str::<Bands>(r#"{"fair": 75}"#).is_err());
    }

    #[test]
    fn bands_have_vietnamese_names_and_snake_case_codes() {
        for (band, name_vi, code) in [
            (Band::Excellent, "xuất sắc", "excellent"),
            (Band::Good, "tốt", "good"),
            (Band::Fair, "khá", "fair"),
            (Band::Average, "trung bình", "average"),
            (Band::Weak, "yếu", "weak"),
        ] {
            assert_eq!(band.name_vi(), name_vi);
            assert_eq!(band.name_en(), code);
            assert_eq!(serde_json::to_value(band).unwrap(), json!(code));
        }
    }

    // --- laws -------------------------------------------------------------------------------------

    fn any_code() -> impl Strategy<Value = IndicatorCode> {
        proptest::sample::select(IndicatorCode::ALL.to_vec())
    }

    fn any_unit_counts() -> impl Strategy<Value = UnitCounts> {
        let count = (0u64..1_000, 0u64..1_000).prop_map(|(n, d)| Count::new(n, d));
        (
            proptest::collection::btree_map(any_code(), count, 0..18),
            proptest::option::of(0.0..=12.0f64),
        )
            .prop_map(|(counts, online_services)| UnitCounts {
                counts,
                online_services,
            })
    }

    fn is_whole_hundredths(points: f64) -> bool {
        let hundredths = points * 100.0;
        (hundredths - hundredths.round()).abs() < 1e-6
    }

    proptest! {
        #[test]
        fn an_indicator_scores_between_zero_and_its_maximum_in_hundredths(
            code in any_code(), numerator in any::<u64>(), denominator in any::<u64>(),
        ) {
            if let Some(score) = score_indicator(code, Some(Count::new(numerator, denominator))) {
                prop_assert!((0.0..=code.max_points()).contains(&score));
                prop_assert!(is_whole_hundredths(score));
            }
        }

        #[test]
        fn a_larger_numerator_never_scores_less(
            code in any_code(), numerator in 0u64..10_000, extra in 0u64..10_000,
            denominator in 1u64..10_000,
        ) {
            let lower = score_indicator(code, Some(Count::new(numerator, denominator)));
            let higher = score_indicator(code, Some(Count::new(numerator + extra, denominator)));
            prop_assert!(higher >= lower);
        }

        #[test]
        fn groups_sum_their_indicators_and_the_total_sums_the_groups(unit in any_unit_counts()) {
            let score = score_unit(&unit, &Bands::default());
            let hundredths = |points: f64| (points * 100.0).round() as i64;
            for group in Group::ALL.into_iter().filter(|g| *g != Group::OnlineServices) {
                let scored: Vec<f64> =
                    group.indicators().filter_map(|code| score.indicators[&code]).collect();
                let expected = (!scored.is_empty())
                    .then(|| scored.iter().map(|points| hundredths(*points)).sum::<i64>());
                prop_assert_eq!(score.groups[&group].map(hundredths), expected);
            }
            let scored: Vec<i64> = score.groups.values().flatten().map(|points| hundredths(*points)).collect();
            let total = (!scored.is_empty()).then(|| scored.iter().sum::<i64>());
            prop_assert_eq!(score.total.map(hundredths), total);
            prop_assert!(score.total.is_none_or(is_whole_hundredths));
            let complete = score.groups.values().all(Option::is_some);
            prop_assert_eq!(score.band.is_some(), complete);
            if complete {
                prop_assert_eq!(score.band, score.total.map(|t| Bands::default().band_for(t)));
            }
            let attainable: f64 = Group::ALL
                .into_iter()
                .filter(|g| score.groups[g].is_some())
                .map(Group::max_points)
                .sum();
            prop_assert_eq!(score.attainable, attainable);
        }
    }
}
