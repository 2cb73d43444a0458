//! The upstream sources par-monitor reads, and how their polls are going,
//! with the names people read them by.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Language;

/// One of the upstream systems (domain.md), by its configuration name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceId {
    /// The procedure-handling system: dossiers and petitions.
    Procedures,
    /// Document management: e-documents, signatures, work files.
    Documents,
    /// The online reporting system.
    Reports,
    /// The national portal's published Decision 766 scores.
    Portal,
    /// A unit directory.
    Units,
}

impl SourceId {
    pub const ALL: [SourceId; 5] = [
        SourceId::Procedures,
        SourceId::Documents,
        SourceId::Reports,
        SourceId::Portal,
        SourceId::Units,
    ];

    /// The name in configuration, logs, metrics and storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            SourceId::Procedures => "procedures",
            SourceId::Documents => "documents",
            SourceId::Reports => "reports",
            SourceId::Portal => "portal",
            SourceId::Units => "units",
        }
    }

    /// The system's name as people in the province call it.
    pub const fn name(self, lang: Language) -> &'static str {
        match (self, lang) {
            (SourceId::Procedures, Language::Vi) => "Hệ thống giải quyết TTHC",
            (SourceId::Documents, Language::Vi) => "Hệ thống quản lý văn bản",
            (SourceId::Reports, Language::Vi) => "Hệ thống báo cáo",
            (SourceId::Portal, Language::Vi) => "Cổng DVCQG",
            (SourceId::Units, Language::Vi) => "Danh mục đơn vị",
            (SourceId::Procedures, Language::En) => "Procedure-handling system",
            (SourceId::Documents, Language::En) => "Document-management system",
            (SourceId::Reports, Language::En) => "Reporting system",
            (SourceId::Portal, Language::En) => "National public service portal",
            (SourceId::Units, Language::En) => "Unit directory",
        }
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a source: expected procedures, documents, reports, portal or units")]
pub struct UnknownSource(pub String);

impl FromStr for SourceId {
    type Err = UnknownSource;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SourceId::ALL
            .into_iter()
            .find(|id| id.as_str() == s)
            .ok_or_else(|| UnknownSource(s.to_owned()))
    }
}

/// How a source's polls are going, as its last poll left it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceHealth {
    /// Not polled successfully yet (no state stored).
    #[default]
    NeverPolled,
    /// The last poll succeeded.
    Healthy,
    /// The last poll succeeded, with retries or rejected records.
    Degraded,
    /// The last polls failed.
    Down,
    /// The source refuses our credentials or configuration.
    Misconfigured,
}

impl SourceHealth {
    pub const fn as_str(self) -> &'static str {
        match self {
            SourceHealth::NeverPolled => "never_polled",
            SourceHealth::Healthy => "healthy",
            SourceHealth::Degraded => "degraded",
            SourceHealth::Down => "down",
            SourceHealth::Misconfigured => "misconfigured",
        }
    }

    /// The stored health (`healthy`, `degraded`, `down`, `misconfigured`);
    /// anything else is read as down, which is never mistaken for good.
    pub fn parse_stored(s: &str) -> SourceHealth {
        match s {
            "healthy" => SourceHealth::Healthy,
            "degraded" => SourceHealth::Degraded,
            "misconfigured" => SourceHealth::Misconfigured,
            "never_polled" => SourceHealth::NeverPolled,
            _ => SourceHealth::Down,
        }
    }

    /// Whether polls are failing.
    pub fn is_failing(self) -> bool {
        matches!(self, SourceHealth::Down | SourceHealth::Misconfigured)
    }

    /// In words, for people.
    pub const fn name(self, lang: Language) -> &'static str {
        match (self, lang) {
            (SourceHealth::NeverPolled, Language::Vi) => "chưa lấy dữ liệu",
            (SourceHealth::Healthy, Language::Vi) => "đang hoạt động",
            (SourceHealth::Degraded, Language::Vi) => "hoạt động không ổn định",
            (SourceHealth::Down, Language::Vi) => "mất kết nối",
            (SourceHealth::Misconfigured, Language::Vi) => "sai cấu hình kết nối",
            (SourceHealth::NeverPolled, Language::En) => "never polled",
            (SourceHealth::Healthy, Language::En) => "up",
            (SourceHealth::Degraded, Language::En) => "degraded",
            (SourceHealth::Down, Language::En) => "down",
            (SourceHealth::Misconfigured, Language::En) => "misconfigured",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_read_back_from_their_names_and_have_vietnamese_names() {
        for id in SourceId::ALL {
            assert_eq!(id.as_str().parse::<SourceId>(), Ok(id));
            assert!(!id.name(Language::Vi).is_ascii(), "{id}");
        }
        assert!("dossiers".parse::<SourceId>().is_err());
    }

    #[test]
    fn stored_health_reads_back_and_unknown_values_are_down() {
        for h in [
            SourceHealth::Healthy,
            SourceHealth::Degraded,
            SourceHealth::Down,
            SourceHealth::Misconfigured,
        ] {
            assert_eq!(SourceHealth::parse_stored(h.as_str()), h);
        }
        assert_eq!(SourceHealth::parse_stored("???"), SourceHealth::Down);
        assert_eq!(SourceHealth::Down.name(Language::Vi), "mất kết nối");
        assert_eq!(SourceHealth::Healthy.name(Language::Vi), "đang hoạt động");
        assert_eq!(
            SourceHealth::NeverPolled.name(Language::Vi),
            "chưa lấy dữ liệu"
        );
    }
}
