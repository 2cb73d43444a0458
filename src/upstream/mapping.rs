//! The mapping engine: turns a feed's configured wire format (field paths,
//! code tables, date formats, pagination) into a [`FeedSpec`], and reads
//! records through it.
//!
//! Each connector module declares its feeds' fields and code tables with
//! their defaults (domain.md's names); configuration overrides them.
//! Reading a record never panics and never fails the page: a problem
//! becomes a [`Reject`](super::Reject) naming the record, the field and
//! what was expected.
//!
//! The engine is a leaf: it knows no connector. The connectors declare
//! their schemas, `upstream::schema` hands the one a feed needs to
//! [`FeedSpec::resolve`], and the configuration check
//! (`upstream::check_mappings`) resolves every feed on that same path, the
//! one that builds the sources.
//!
//! - `schema`: what a connector declares (fields, code tables);
//! - `spec`: the [`FeedSpec`] resolved from a schema and the configuration;
//! - `path` and `dates`: field paths into JSON and date formats;
//! - `reader`: reading one record through a spec.

mod dates;
mod path;
mod reader;
mod schema;
mod spec;

pub use dates::DateCodec;
pub use path::JsonPath;
pub use reader::{Reader, excerpt};
pub use schema::{CodeTable, Field, Schema, check_name, opt, req};
pub use spec::{FeedSpec, Pagination};

/// The feeds par-monitor reads, each belonging to one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FeedKind {
    Dossiers,
    Petitions,
    Documents,
    Reports,
    Scores,
    Units,
}

impl FeedKind {
    pub const ALL: [FeedKind; 6] = [
        FeedKind::Dossiers,
        FeedKind::Petitions,
        FeedKind::Documents,
        FeedKind::Reports,
        FeedKind::Scores,
        FeedKind::Units,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FeedKind::Dossiers => "dossiers",
            FeedKind::Petitions => "petitions",
            FeedKind::Documents => "documents",
            FeedKind::Reports => "reports",
            FeedKind::Scores => "scores",
            FeedKind::Units => "units",
        }
    }

    pub fn from_name(name: &str) -> Option<FeedKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The source (upstream system) the feed comes from.
    pub fn source(self) -> &'static str {
        match self {
            FeedKind::Dossiers | FeedKind::Petitions => "procedures",
            FeedKind::Documents => "documents",
            FeedKind::Reports => "reports",
            FeedKind::Scores => "portal",
            FeedKind::Units => "units",
        }
    }

    /// `source.feed`, as used in storage, logs and metrics.
    pub fn qualified(self) -> String {
        format!("{}.{}", self.source(), self.name())
    }
}

/// The same JSON as read from the wire, for tests that build records with
/// `serde_json::json!` and edit them in place.
#[cfg(test)]
pub(crate) fn wire(v: &serde_json::Value) -> sonic_rs::Value {
    sonic_rs::to_value(v).expect("any serde_json value converts")
}
