//! Counting one indicator for one unit without allocating per record.
//!
//! A [`Tally`] holds the numerator, the denominator and the evidence sample:
//! the `limit` smallest distinct record ids offered, borrowed from the
//! records. Offered ids collect in a buffer that is sorted, deduplicated and
//! cut back to `limit` whenever it reaches twice that; from then on an id not
//! below the largest one kept is turned away with a single comparison. So a
//! unit with a million late dossiers costs no more memory than one with
//! twenty, each offer costs little, and only the ids kept are copied into
//! strings at the end.
//!
//! Keeping "the smallest ids" (rather than the first records met) makes the
//! sample independent of record order and lets samples merge exactly: the
//! smallest `k` of a union are the smallest `k` of the parts' smallest `k`.

use crate::domain::Ratio;

#[derive(Debug, Default)]
pub(crate) struct Tally<'a> {
    numerator: u64,
    denominator: u64,
    /// Candidate ids, unsorted since the last compaction.
    sample: Vec<&'a str>,
    /// Once `limit` distinct ids are kept, the largest of them: no id at or
    /// above it can enter the sample any more.
    cut_off: Option<&'a str>,
}

impl<'a> Tally<'a> {
    /// One more record in the denominator, and in the numerator if `counts`.
    pub(crate) fn record(&mut self, counts: bool) {
        self.denominator += 1;
        self.numerator += u64::from(counts);
    }

    /// Adds to the numerator alone: a sum of days, or a record counted
    /// against another period's denominator (e-results).
    pub(crate) fn add_to_numerator(&mut self, amount: u64) {
        self.numerator += amount;
    }

    pub(crate) fn add_to_denominator(&mut self, amount: u64) {
        self.denominator += amount;
    }

    /// Offers a record id as evidence; it is kept if it is among the `limit`
    /// smallest distinct ids offered. (Ids are unique upstream, but a
    /// duplicated record must not take two places.)
    pub(crate) fn offer(&mut self, id: &'a str, limit: usize) {
        if limit == 0 || self.cut_off.is_some_and(|cut_off| id >= cut_off) {
            return;
        }
        if self.sample.capacity() == 0 {
            // The buffer never holds more than this: allocate it once.
            self.sample.reserve_exact(2 * limit);
        }
        self.sample.push(id);
        if self.sample.len() >= 2 * limit {
            self.compact(limit);
        }
    }

    /// Sorts, deduplicates and cuts the buffer back to `limit` ids.
    fn compact(&mut self, limit: usize) {
        self.sample.sort_unstable();
        self.sample.dedup();
        self.sample.truncate(limit);
        if self.sample.len() == limit {
            self.cut_off = self.sample.last().copied();
        }
    }

    pub(crate) fn ratio(&self) -> Ratio {
        Ratio::new(self.numerator, self.denominator)
    }

    /// The sample, sorted.
    pub(crate) fn sample(&mut self, limit: usize) -> Vec<String> {
        self.compact(limit);
        self.sample.iter().map(|&id| id.to_owned()).collect()
    }
}

/// Merges samples: the `limit` smallest distinct ids among them, sorted.
pub(crate) fn merge_samples<'a>(
    samples: impl IntoIterator<Item = &'a [String]>,
    limit: usize,
) -> Vec<String> {
    let mut ids: Vec<&str> = samples.into_iter().flatten().map(String::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter().take(limit).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn the_sample_is_the_smallest_distinct_ids_offered(
            ids in prop::collection::vec("[a-f]{0,3}", 0..200),
            limit in 0..10usize,
        ) {
            // Offered in any order, with repeats.
            let mut tally = Tally::default();
            for id in &ids {
                tally.record(false);
                tally.offer(id, limit);
            }
            let mut expected: Vec<&str> = ids.iter().map(String::as_str).collect();
            expected.sort_unstable();
            expected.dedup();
            expected.truncate(limit);
            prop_assert_eq!(tally.sample(limit), expected);
            prop_assert_eq!(tally.ratio(), Ratio::new(0, ids.len() as u64));
        }
    }

    #[test]
    fn a_zero_limit_keeps_no_sample() {
        let mut tally = Tally::default();
        tally.offer("A", 0);
        assert!(tally.sample(0).is_empty());
    }

    #[test]
    fn merged_samples_are_sorted_distinct_and_bounded() {
        let a = ["B".to_string(), "D".to_string()];
        let b = ["A".to_string(), "D".to_string(), "E".to_string()];
        assert_eq!(merge_samples([&a[..], &b[..]], 3), ["A", "B", "D"]);
    }
}
