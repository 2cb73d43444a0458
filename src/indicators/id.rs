//! The names of the indicators, and what kind of figure each one is.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Declares the indicators once: the variant, its snake_case id (used in
/// rules, storage and metrics), its names, the source its records come from,
/// and which way is better.
macro_rules! indicators {
    ($(
        $(#[$meta:meta])*
        $variant:ident => $id:literal, $source:literal, $polarity:ident,
            vi: $vi:literal, en: $en:literal;
    )+) => {
        /// The indicators par-monitor computes.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum IndicatorId {
            $($(#[$meta])* $variant,)+
        }

        impl IndicatorId {
            /// Every indicator, in the order `compute` emits them.
            pub const ALL: &'static [IndicatorId] = &[$(IndicatorId::$variant),+];

            /// How many indicators there are.
            pub const COUNT: usize = IndicatorId::ALL.len();

            /// The snake_case id, e.g. `on_time`.
            pub const fn as_str(self) -> &'static str {
                match self { $(IndicatorId::$variant => $id),+ }
            }

            pub const fn name_vi(self) -> &'static str {
                match self { $(IndicatorId::$variant => $vi),+ }
            }

            pub const fn name_en(self) -> &'static str {
                match self { $(IndicatorId::$variant => $en),+ }
            }

            /// The upstream source the records come from (a key of
            /// `[sources]` in the configuration): its freshness gates any
            /// rule on this indicator.
            pub const fn source(self) -> &'static str {
                match self { $(IndicatorId::$variant => $source),+ }
            }

            /// The source whose records the indicator counts, as a type.
            pub fn source_id(self) -> crate::domain::SourceId {
                self.source().parse().expect("every indicator names a source")
            }

            /// Whether a higher value is the better one. For the others (late
            /// dossiers without an apology, missing reports…) the target is
            /// low, usually 0, and the sample lists the numerator's records.
            pub const fn higher_is_better(self) -> bool {
                match self { $(IndicatorId::$variant => Polarity::$polarity.higher_is_better()),+ }
            }
        }
    };
}

/// Which way an indicator should move.
enum Polarity {
    HigherIsBetter,
    LowerIsBetter,
}

impl Polarity {
    const fn higher_is_better(self) -> bool {
        matches!(self, Polarity::HigherIsBetter)
    }
}

indicators! {
    /// Dossiers on time (finished on time + unfinished within deadline) / dossiers received.
    OnTime => "on_time", "procedures", HigherIsBetter,
        vi: "Tỷ lệ hồ sơ giải quyết đúng hạn",
        en: "On-time resolution";
    /// Unfinished dossiers past their deadline / unfinished dossiers.
    OverdueOpen => "overdue_open", "procedures", LowerIsBetter,
        vi: "Tỷ lệ hồ sơ đang giải quyết quá hạn",
        en: "Open dossiers overdue";
    /// Working days from receipt to end of processing, summed / dossiers
    /// that ended: an average that still aggregates by summing.
    ProcessingDays => "processing_days", "procedures", LowerIsBetter,
        vi: "Số ngày làm việc giải quyết bình quân",
        en: "Average working days to resolve";
    /// Late dossiers without an apology notice / late dossiers.
    LateWithoutApology => "late_without_apology", "procedures", LowerIsBetter,
        vi: "Hồ sơ trễ hạn không có phiếu xin lỗi",
        en: "Late dossiers without an apology notice";
    /// Dossiers rescheduled more than once / dossiers received.
    RescheduledMoreThanOnce => "rescheduled_more_than_once", "procedures", LowerIsBetter,
        vi: "Hồ sơ hẹn lại ngày trả kết quả quá một lần",
        en: "Dossiers rescheduled more than once";
    /// Dossiers submitted online / dossiers received.
    OnlineSubmission => "online_submission", "procedures", HigherIsBetter,
        vi: "Tỷ lệ hồ sơ nộp trực tuyến",
        en: "Online submission";
    /// Dossiers paid online / dossiers received with fees.
    OnlinePayment => "online_payment", "procedures", HigherIsBetter,
        vi: "Tỷ lệ hồ sơ thanh toán trực tuyến",
        en: "Online payment";
    /// Dossiers ended with an electronic result / dossiers received; may exceed 1.
    EResult => "e_result", "procedures", HigherIsBetter,
        vi: "Tỷ lệ hồ sơ có kết quả điện tử",
        en: "Electronic results";
    /// Dossiers with digitized components / dossiers received.
    DigitizedComponents => "digitized_components", "procedures", HigherIsBetter,
        vi: "Tỷ lệ hồ sơ có thành phần được số hóa",
        en: "Dossiers with digitized components";
    /// Dossiers reusing digitized data / dossiers received.
    ReusedData => "reused_data", "procedures", HigherIsBetter,
        vi: "Tỷ lệ hồ sơ tái sử dụng dữ liệu số hóa",
        en: "Reuse of digitized data";
    /// Dossiers using population-database data / dossiers received.
    PopulationData => "population_data", "procedures", HigherIsBetter,
        vi: "Tỷ lệ hồ sơ sử dụng dữ liệu dân cư",
        en: "Use of population data";
    /// Dossiers synced to the national portal / dossiers received.
    SyncedToPortal => "synced_to_portal", "procedures", HigherIsBetter,
        vi: "Tỷ lệ hồ sơ đồng bộ lên Cổng Dịch vụ công quốc gia",
        en: "Dossiers synced to the national portal";
    /// E-results shared to the citizen's data store / dossiers ended with an e-result.
    SharedToCitizenStore => "shared_to_citizen_store", "procedures", HigherIsBetter,
        vi: "Tỷ lệ kết quả điện tử chia sẻ vào kho dữ liệu cá nhân",
        en: "E-results shared to the citizen's data store";
    /// Dossiers neither late nor rated dissatisfied / dossiers received.
    DossierSatisfaction => "dossier_satisfaction", "procedures", HigherIsBetter,
        vi: "Tỷ lệ hài lòng về tiếp nhận, giải quyết hồ sơ",
        en: "Dossier satisfaction";
    /// Online dossiers authenticated with VNeID / online dossiers.
    Vneid => "vneid", "procedures", HigherIsBetter,
        vi: "Tỷ lệ hồ sơ trực tuyến xác thực bằng VNeID",
        en: "Online dossiers authenticated with VNeID";
    /// Petitions answered by their deadline / petitions due or answered.
    PetitionsOnTime => "petitions_on_time", "procedures", HigherIsBetter,
        vi: "Tỷ lệ phản ánh, kiến nghị xử lý đúng hạn",
        en: "Petitions answered on time";
    /// Petitions rated satisfied / answered petitions with a rating.
    PetitionsSatisfied => "petitions_satisfied", "procedures", HigherIsBetter,
        vi: "Tỷ lệ hài lòng về xử lý phản ánh, kiến nghị",
        en: "Petitioners satisfied";
    /// Outgoing documents sent over the interconnection axis / outgoing documents.
    OutgoingElectronic => "outgoing_electronic", "documents", HigherIsBetter,
        vi: "Tỷ lệ văn bản đi gửi qua trục liên thông",
        en: "Outgoing documents sent electronically";
    /// Electronically sent outgoing documents that are signed / those sent.
    OutgoingSigned => "outgoing_signed", "documents", HigherIsBetter,
        vi: "Tỷ lệ văn bản điện tử gửi đi được ký số",
        en: "Electronic outgoing documents digitally signed";
    /// Signed outgoing documents whose signature verified / signed ones.
    SignatureVerified => "signature_verified", "documents", HigherIsBetter,
        vi: "Tỷ lệ chữ ký số được xác thực hợp lệ",
        en: "Digital signatures verified";
    /// Documents filed into an electronic work file / documents.
    WorkFilesElectronic => "work_files_electronic", "documents", HigherIsBetter,
        vi: "Tỷ lệ hồ sơ công việc điện tử",
        en: "Electronic work files";
    /// Incoming documents overdue / incoming documents with a deadline.
    IncomingOverdue => "incoming_overdue", "documents", LowerIsBetter,
        vi: "Tỷ lệ văn bản đến quá hạn xử lý",
        en: "Incoming documents overdue";
    /// Reports submitted by their due date / reports due.
    ReportsOnTime => "reports_on_time", "reports", HigherIsBetter,
        vi: "Tỷ lệ báo cáo gửi đúng hạn",
        en: "Reports submitted on time";
    /// Reports not submitted / reports due.
    ReportsMissing => "reports_missing", "reports", LowerIsBetter,
        vi: "Tỷ lệ báo cáo chưa gửi",
        en: "Reports missing";
}

impl IndicatorId {
    /// Whether the value is a share of records (a ratio of two counts of
    /// records). `processing_days` is not: it is a number of days per dossier.
    pub const fn is_share(self) -> bool {
        !matches!(self, IndicatorId::ProcessingDays)
    }

    /// The position of the indicator in [`IndicatorId::ALL`].
    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for IndicatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IndicatorId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IndicatorId::ALL
            .iter()
            .copied()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<_> = IndicatorId::ALL.iter().map(|i| i.as_str()).collect();
                format!(
                    "unknown indicator `{s}`: expected one of {}",
                    known.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_serde() {
        for &id in IndicatorId::ALL {
            assert_eq!(id.as_str().parse::<IndicatorId>(), Ok(id));
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, format!("\"{}\"", id.as_str()));
        }
        assert!("on-time".parse::<IndicatorId>().is_err());
    }

    #[test]
    fn every_indicator_sits_at_its_index_and_is_named_in_both_languages() {
        for (position, &id) in IndicatorId::ALL.iter().enumerate() {
            assert_eq!(id.index(), position, "{id}");
            assert!(!id.name_vi().is_empty() && !id.name_en().is_empty(), "{id}");
            assert!(
                ["procedures", "documents", "reports"].contains(&id.source()),
                "{id}"
            );
        }
        assert_eq!(IndicatorId::COUNT, 24);
    }
}
