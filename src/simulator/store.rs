//! The simulator's records, kept in serving order.
//!
//! Every list endpoint serves its records sorted by (NgayCapNhat, id). Each
//! table keeps that order as a vector of row indices, rebuilt after every
//! change, so that a page is a slice of it and `updated_since` is a binary
//! search: serving stays cheap at a million dossiers.

use chrono::{DateTime, Duration, Utc};

use super::units::SimUnit;
use crate::domain::{Document, Dossier, Petition, Report, UnitCode};
use crate::time::Month;

/// What the tables need of a record.
pub(crate) trait Record: Clone {
    /// The record's id on the wire, unique within its kind.
    fn id(&self) -> &str;
    fn updated_at(&self) -> Option<DateTime<Utc>>;
    fn set_updated_at(&mut self, t: DateTime<Utc>);
    /// Gives a copy a new id; `false` for kinds whose id cannot be invented
    /// (a unit's code, a score's unit and period).
    fn set_id(&mut self, id: String) -> bool;
}

impl Record for Dossier {
    fn id(&self) -> &str {
        &self.code
    }
    fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }
    fn set_updated_at(&mut self, t: DateTime<Utc>) {
        self.updated_at = Some(t);
    }
    fn set_id(&mut self, id: String) -> bool {
        self.code = id;
        true
    }
}

impl Record for Petition {
    fn id(&self) -> &str {
        &self.code
    }
    fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }
    fn set_updated_at(&mut self, t: DateTime<Utc>) {
        self.updated_at = Some(t);
    }
    fn set_id(&mut self, id: String) -> bool {
        self.code = id;
        true
    }
}

impl Record for Document {
    fn id(&self) -> &str {
        &self.id
    }
    fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }
    fn set_updated_at(&mut self, t: DateTime<Utc>) {
        self.updated_at = Some(t);
    }
    fn set_id(&mut self, id: String) -> bool {
        self.id = id;
        true
    }
}

impl Record for Report {
    fn id(&self) -> &str {
        &self.id
    }
    fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }
    fn set_updated_at(&mut self, t: DateTime<Utc>) {
        self.updated_at = Some(t);
    }
    fn set_id(&mut self, id: String) -> bool {
        self.id = id;
        true
    }
}

impl Record for SimUnit {
    fn id(&self) -> &str {
        self.unit.code.as_str()
    }
    fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }
    fn set_updated_at(&mut self, t: DateTime<Utc>) {
        self.updated_at = Some(t);
    }
    fn set_id(&mut self, _id: String) -> bool {
        false
    }
}

/// Group scores of the national portal's Decision 766 index, in the
/// portal's order.
pub(crate) const SCORE_GROUPS: [&str; 6] = [
    "TRANSPARENCY",
    "PROGRESS",
    "ONLINE_SERVICES",
    "ONLINE_PAYMENT",
    "SATISFACTION",
    "DIGITIZATION",
];

/// The portal's official scores for one unit and month.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SimScore {
    /// `MaDonVi/Ky`, the record's identity.
    pub id: String,
    pub unit_code: UnitCode,
    pub period: Month,
    /// In the order of [`SCORE_GROUPS`], rounded to 2 decimals.
    pub groups: [Option<f64>; 6],
    pub updated_at: Option<DateTime<Utc>>,
}

impl SimScore {
    /// The total: the sum of the groups that have a score.
    pub fn total(&self) -> Option<f64> {
        let scored: Vec<f64> = self.groups.iter().flatten().copied().collect();
        (!scored.is_empty()).then(|| round2(scored.iter().sum()))
    }
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Record for SimScore {
    fn id(&self) -> &str {
        &self.id
    }
    fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }
    fn set_updated_at(&mut self, t: DateTime<Utc>) {
        self.updated_at = Some(t);
    }
    fn set_id(&mut self, _id: String) -> bool {
        false
    }
}

/// Records of one kind with their serving order.
#[derive(Debug, Default)]
pub(crate) struct Table<T> {
    rows: Vec<T>,
    /// Row indices sorted by (updated_at, id); records without NgayCapNhat first.
    order: Vec<u32>,
}

impl<T: Record> Table<T> {
    pub fn new(rows: Vec<T>) -> Self {
        let mut t = Table {
            rows,
            order: Vec::new(),
        };
        t.reindex();
        t
    }

    pub fn reindex(&mut self) {
        let rows = &self.rows;
        let n = u32::try_from(rows.len()).expect("a table holds fewer than 2^32 records");
        // Change times are taken out once: most comparisons end there, and
        // only ties look at the ids.
        let mut keys: Vec<(Option<DateTime<Utc>>, u32)> =
            (0..n).map(|i| (rows[i as usize].updated_at(), i)).collect();
        keys.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| rows[a.1 as usize].id().cmp(rows[b.1 as usize].id()))
        });
        self.order = keys.into_iter().map(|(_, i)| i).collect();
    }

    pub fn rows(&self) -> &[T] {
        &self.rows
    }

    /// Changes rows in place, then restores the serving order.
    pub fn update(&mut self, f: impl FnMut(&mut T)) {
        self.rows.iter_mut().for_each(f);
        self.reindex();
    }

    /// Marks the record with this id as changed at `now`, or a second after
    /// its last change if that is later, so that it always moves forward in
    /// the order and an incremental poll sees it. `false` if there is none.
    pub fn touch(&mut self, id: &str, now: DateTime<Utc>) -> bool {
        let Some(row) = self.rows.iter_mut().find(|r| r.id() == id) else {
            return false;
        };
        let t = row
            .updated_at()
            .map_or(now, |u| now.max(u + Duration::seconds(1)));
        row.set_updated_at(t);
        self.reindex();
        true
    }

    /// Changes the record with this id in place; `false` if there is none.
    pub fn modify(&mut self, id: &str, f: impl FnOnce(&mut T)) -> bool {
        let Some(row) = self.rows.iter_mut().find(|r| r.id() == id) else {
            return false;
        };
        f(row);
        self.reindex();
        true
    }

    pub fn contains(&self, id: &str) -> bool {
        self.rows.iter().any(|r| r.id() == id)
    }

    pub fn push(&mut self, row: T) {
        self.rows.push(row);
        self.reindex();
    }

    /// Removes the row with this id; `false` if there was none.
    pub fn remove(&mut self, id: &str) -> bool {
        let before = self.rows.len();
        self.rows.retain(|r| r.id() != id);
        let removed = self.rows.len() != before;
        if removed {
            self.reindex();
        }
        removed
    }

    /// The serving order from the first record changed at or after `since`.
    pub fn since(&self, since: Option<DateTime<Utc>>) -> &[u32] {
        let Some(since) = since else {
            return &self.order;
        };
        let start = self
            .order
            .partition_point(|&i| self.rows[i as usize].updated_at() < Some(since));
        &self.order[start..]
    }

    /// The row behind an index of the serving order.
    pub fn row(&self, i: u32) -> &T {
        &self.rows[i as usize]
    }

    /// The first record in serving order.
    pub fn first(&self) -> Option<&T> {
        self.order.first().map(|&i| &self.rows[i as usize])
    }

    /// The position in `since(None)` of the first record after `key`.
    pub fn after(&self, key: (Option<DateTime<Utc>>, &str)) -> usize {
        self.order.partition_point(|&i| {
            let r = &self.rows[i as usize];
            (r.updated_at(), r.id()) <= key
        })
    }

    pub fn order(&self) -> &[u32] {
        &self.order
    }
}
