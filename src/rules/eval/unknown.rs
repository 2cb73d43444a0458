//! Why a result is unknown, and that reason in the reader's language.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Language, SourceId};
use crate::score766::Group;

/// Why a result is unknown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Unknown {
    /// The source's data is older than its staleness limit (or never arrived).
    StaleSource {
        source: String,
        last_success: Option<DateTime<Utc>>,
    },
    /// The source's last polls failed and its data is stale.
    SourceDown {
        source: String,
        failures: u32,
        last_success: Option<DateTime<Utc>>,
    },
    /// Too few records for the result to mean anything.
    InsufficientSample { denominator: u64, min_sample: u64 },
    /// A trend with no earlier value to compare with.
    NoComparison,
    /// Too few peers with enough data for a median.
    TooFewPeers { peers: usize, needed: usize },
    /// The 766 score or group has no score (no data behind it).
    NotScored,
    /// The 766 total lacks groups whose score could put it on either side
    /// of the level.
    IncompleteScore { missing: Vec<Group> },
}

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(Language::En))
    }
}

impl Unknown {
    /// Why the result is unknown, in the reader's language.
    pub fn describe(&self, lang: Language) -> String {
        let vi = lang == Language::Vi;
        match self {
            Unknown::StaleSource {
                source,
                last_success,
            } => stale_source(&source_name(source, lang), *last_success, vi),
            Unknown::SourceDown {
                source,
                failures,
                last_success,
            } => source_down(&source_name(source, lang), *failures, *last_success, vi),
            Unknown::InsufficientSample {
                denominator,
                min_sample,
            } => {
                if vi {
                    format!("chưa đủ số liệu ({denominator} < {min_sample} bản ghi)")
                } else {
                    format!("insufficient sample ({denominator} < {min_sample} records)")
                }
            }
            Unknown::NoComparison => if vi {
                "không có số liệu kỳ trước để so sánh"
            } else {
                "no earlier value to compare with"
            }
            .to_owned(),
            Unknown::TooFewPeers { peers, needed } => {
                if vi {
                    format!("quá ít đơn vị cùng loại có số liệu ({peers} < {needed})")
                } else {
                    format!("too few peers with data ({peers} < {needed})")
                }
            }
            Unknown::NotScored => if vi {
                "chưa có điểm (không có dữ liệu)"
            } else {
                "no score (no data behind it)"
            }
            .to_owned(),
            Unknown::IncompleteScore { missing } => incomplete_score(missing, vi),
        }
    }
}

/// A source's name for people, or its key when it is not one we know.
fn source_name(source: &str, lang: Language) -> String {
    source
        .parse::<SourceId>()
        .map_or_else(|_| source.to_owned(), |s| s.name(lang).to_owned())
}

fn stale_source(name: &str, last_success: Option<DateTime<Utc>>, vi: bool) -> String {
    match (vi, last_success.map(crate::time::format_local)) {
        (true, Some(t)) => format!("dữ liệu {name} đã cũ (lấy được lần gần nhất {t})"),
        (false, Some(t)) => format!("{name} data is stale (last success {t})"),
        (true, None) => format!("{name} chưa lấy được dữ liệu lần nào"),
        (false, None) => format!("{name} has never been polled successfully"),
    }
}

fn source_down(name: &str, failures: u32, last_success: Option<DateTime<Utc>>, vi: bool) -> String {
    match (vi, last_success.map(crate::time::format_local)) {
        (true, Some(t)) => format!(
            "{name} mất kết nối ({failures} lần lấy dữ liệu liên tiếp thất bại; lần thành công gần nhất {t})"
        ),
        (true, None) => format!(
            "{name} mất kết nối ({failures} lần lấy dữ liệu liên tiếp thất bại; chưa lần nào thành công)"
        ),
        (false, Some(t)) => {
            format!("{name} is down ({failures} failed poll(s) in a row; last success {t})")
        }
        (false, None) => format!(
            "{name} is down ({failures} failed poll(s) in a row; never polled successfully)"
        ),
    }
}

fn incomplete_score(missing: &[Group], vi: bool) -> String {
    let names: Vec<&str> = missing
        .iter()
        .map(|g| if vi { g.name_vi() } else { g.name_en() })
        .collect();
    if vi {
        format!(
            "tổng điểm 766 thiếu {} nhóm ({}) nên chưa thể kết luận",
            missing.len(),
            names.join(", ")
        )
    } else {
        format!(
            "the 766 total lacks {} group(s) ({}) that could put it on either side of the level",
            missing.len(),
            names.join(", ")
        )
    }
}
