//! The portal's definition of each indicator, one row per indicator of domain.md: its code, its
//! names, and how it is scored (group, maximum, the ratio that earns full marks, what an empty
//! denominator scores).

use super::{Group, IndicatorCode};

impl IndicatorCode {
    pub(super) const fn rule(self) -> Rule {
        self.definition().rule
    }

    /// domain.md's table, one row per indicator, so that each indicator is defined in one place.
    // table-like: one row per indicator of domain.md, nothing to extract.
    pub(super) const fn definition(self) -> Definition {
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
pub(super) struct Definition {
    pub(super) code: &'static str,
    pub(super) name_vi: &'static str,
    pub(super) name_en: &'static str,
    pub(super) rule: Rule,
}

/// How one indicator is scored.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rule {
    pub(super) group: Group,
    /// The maximum P. Every maximum in today's table is a whole number of points.
    pub(super) points: u64,
    /// The ratio t that earns full marks; the score is min(P, P × R / t).
    pub(super) full_marks_at: Fraction,
    pub(super) when_empty: EmptyDenominator,
    /// Whether the portal rounds R to a percentage with two decimals before scoring it.
    pub(super) ratio_as_percentage: bool,
}

/// A non-negative fraction, for the full-marks thresholds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fraction {
    pub(super) numerator: u64,
    pub(super) denominator: u64,
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
pub(super) enum EmptyDenominator {
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
