//! A gauge family replaced whole at each refresh.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use prometheus::core::{Atomic, GenericGaugeVec};

/// A gauge family whose whole set of series is replaced at once: series
/// missing from the new set are removed, so a retired unit's label sets do
/// not linger. Values are set before stale series are removed, so a scrape
/// in between sees old and new series, never a hole.
pub(super) struct Replaced<P: Atomic> {
    pub(super) vec: GenericGaugeVec<P>,
    current: Arc<Mutex<HashSet<Vec<String>>>>,
}

// Written out because the derives would ask the atomic to be Clone/Debug.
impl<P: Atomic> Clone for Replaced<P> {
    fn clone(&self) -> Self {
        Self {
            vec: self.vec.clone(),
            current: self.current.clone(),
        }
    }
}

impl<P: Atomic> std::fmt::Debug for Replaced<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replaced").finish_non_exhaustive()
    }
}

impl<P: Atomic> Replaced<P> {
    pub(super) fn new(vec: GenericGaugeVec<P>) -> Self {
        Self {
            vec,
            current: Arc::default(),
        }
    }

    pub(super) fn replace(&self, series: impl IntoIterator<Item = (Vec<String>, P::T)>) {
        let mut next = HashSet::new();
        for (labels, value) in series {
            let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
            self.vec.with_label_values(&refs).set(value);
            next.insert(labels);
        }
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        for gone in current.difference(&next) {
            let refs: Vec<&str> = gone.iter().map(String::as_str).collect();
            let _ = self.vec.remove_label_values(&refs);
        }
        *current = next;
    }
}
