//! A page made ready to store: one row per key, its column values as
//! [`Bind`]s and its content hash. Pure CPU work, for the blocking pool.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::StoredRecord;
use crate::storage::codec::ts;
use crate::time::Month;

/// A value bound into a statement. One enum lets the generic upsert bind
/// any record's columns on either backend.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Bind {
    Int(Option<i64>),
    Text(Option<String>),
    Real(Option<f64>),
}

impl From<i64> for Bind {
    fn from(v: i64) -> Self {
        Bind::Int(Some(v))
    }
}

impl From<Option<i64>> for Bind {
    fn from(v: Option<i64>) -> Self {
        Bind::Int(v)
    }
}

impl From<bool> for Bind {
    fn from(v: bool) -> Self {
        Bind::Int(Some(i64::from(v)))
    }
}

impl From<String> for Bind {
    fn from(v: String) -> Self {
        Bind::Text(Some(v))
    }
}

impl From<&str> for Bind {
    fn from(v: &str) -> Self {
        Bind::Text(Some(v.to_owned()))
    }
}

impl From<Option<String>> for Bind {
    fn from(v: Option<String>) -> Self {
        Bind::Text(v)
    }
}

impl From<Option<DateTime<Utc>>> for Bind {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Bind::Int(v.map(ts))
    }
}

impl From<DateTime<Utc>> for Bind {
    fn from(v: DateTime<Utc>) -> Self {
        Bind::Int(Some(ts(v)))
    }
}

impl From<Option<f64>> for Bind {
    fn from(v: Option<f64>) -> Self {
        Bind::Real(v)
    }
}

/// Binds one [`Bind`] into a `QueryBuilder`'s row, whichever its type.
macro_rules! push_bind {
    ($b:expr, $v:expr) => {
        match $v {
            $crate::storage::records::Bind::Int(v) => $b.push_bind(v),
            $crate::storage::records::Bind::Text(v) => $b.push_bind(v),
            $crate::storage::records::Bind::Real(v) => $b.push_bind(v),
        }
    };
}
pub(super) use push_bind;

/// Where a record kind is stored: its [`StoredRecord`] constants.
#[derive(Clone, Copy, Debug)]
pub(super) struct Layout {
    pub table: &'static str,
    pub key: &'static str,
    pub columns: &'static [&'static str],
    pub feed: &'static str,
    pub instant_columns: &'static [&'static str],
}

/// Records made ready to store: one row per key (the last copy of a key in
/// the page wins: the upstream listed the record twice and the later one is
/// the newer), each with its column values and content hash. Preparing is
/// pure CPU, apart from the database, so ingestion prepares the next pages
/// on the blocking pool while this one is written.
#[derive(Debug)]
pub struct Prepared {
    pub(super) layout: Layout,
    /// Sorted by key, so a chunk's inserts walk the key index in order.
    pub(super) rows: Vec<PreparedRow>,
    /// Keys the page lists for more than one unit, with those units: which
    /// copy is true is unknown, so none is kept.
    pub(super) conflicts: BTreeMap<String, BTreeSet<String>>,
    /// The upstream's name of the key field (`MaHoSo`), for quarantine.
    pub(super) key_field: Option<String>,
    /// The caller expects every key to be new (a first sync, whose pages so
    /// far were all new): the write may skip reading stored versions.
    pub(super) keys_likely_new: bool,
}

#[derive(Debug)]
pub(super) struct PreparedRow {
    pub key: String,
    pub unit: String,
    /// The [`Layout::columns`] values; SQLite's write takes them.
    pub binds: Vec<Bind>,
    pub hash: String,
    /// The record's (unit, month) pairs whose indicators it feeds.
    pub months: Vec<String>,
}

impl PreparedRow {
    fn of<R: StoredRecord>(r: &R, key: String) -> PreparedRow {
        let binds = r.binds();
        PreparedRow {
            hash: content_hash(&binds),
            unit: r.unit().as_str().to_owned(),
            months: r
                .instants()
                .into_iter()
                .map(|t| Month::containing(t).to_string())
                .collect(),
            binds,
            key,
        }
    }
}

impl Prepared {
    pub(crate) fn new<R: StoredRecord>(records: &[R]) -> Prepared {
        let mut order: Vec<(String, usize)> = records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.key(), i))
            .collect();
        // Stable: among copies of a key the later stays later, and is kept.
        order.sort_by(|a, b| a.0.cmp(&b.0));
        let mut rows: Vec<PreparedRow> = Vec::with_capacity(order.len());
        let mut conflicts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (key, i) in order {
            let row = PreparedRow::of(&records[i], key);
            match rows.last_mut() {
                Some(last) if last.key == row.key => {
                    if last.unit != row.unit {
                        let units = conflicts.entry(row.key.clone()).or_default();
                        units.insert(last.unit.clone());
                        units.insert(row.unit.clone());
                    }
                    *last = row
                }
                _ => rows.push(row),
            }
        }
        rows.retain(|r| !conflicts.contains_key(&r.key));
        Prepared {
            conflicts,
            key_field: None,
            keys_likely_new: false,
            layout: Layout {
                table: R::TABLE,
                key: R::KEY,
                columns: R::COLUMNS,
                feed: R::FEED,
                instant_columns: R::INSTANT_COLUMNS,
            },
            rows,
        }
    }

    /// Names the key field as the upstream does, for quarantine entries.
    pub fn with_key_field(mut self, name: Option<String>) -> Prepared {
        self.key_field = name;
        self
    }

    /// Tells the write whether every key is likely new. A hint only: a
    /// key found stored after all costs the attempt, never the result.
    pub fn keys_likely_new(mut self, likely: bool) -> Prepared {
        self.keys_likely_new = likely;
        self
    }

    /// Distinct records to store.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.conflicts.is_empty()
    }
}

/// SHA-256 over the stored column values, each tagged with its type and
/// (text) length so that no two different rows encode alike. Hashing what
/// is stored, not a serialisation of the record, means the hash changes
/// exactly when the row would.
fn content_hash(binds: &[Bind]) -> String {
    let mut h = Sha256::new();
    for b in binds {
        match b {
            Bind::Int(None) | Bind::Text(None) | Bind::Real(None) => h.update([0u8]),
            Bind::Int(Some(v)) => {
                h.update([1u8]);
                h.update(v.to_le_bytes());
            }
            Bind::Text(Some(v)) => {
                h.update([2u8]);
                h.update((v.len() as u64).to_le_bytes());
                h.update(v.as_bytes());
            }
            Bind::Real(Some(v)) => {
                h.update([3u8]);
                h.update(v.to_bits().to_le_bytes());
            }
        }
    }
    format!("{:x}", h.finalize())
}
