//! The live part of the configuration, and what the shells work with.
//!
//! [`Live`] is what a reload replaces whole: the rules, the holiday
//! calendar, the e-mail templates and the settings in force (the start-up
//! settings with the reloadable part, [`crate::config::Reloadable`], of the
//! latest reload). A cycle, a digest run or a command keeps the `Live` it
//! loaded at its start for the whole of its work.
//!
//! [`Context`] is what the shells (evaluation, alerts, digests,
//! inspections, source status) take instead of the whole daemon: the
//! store, the live configuration and when this run began.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::calendar::WorkCalendar;
use crate::config::Settings;
use crate::notify::Composer;
use crate::rules::RuleSet;
use crate::storage::Store;

/// The rules, calendar, templates and settings in force.
#[derive(Debug)]
pub struct Live {
    pub rules: RuleSet,
    pub calendar: WorkCalendar,
    pub composer: Composer,
    pub settings: Settings,
}

/// What a shell needs: the store, the live configuration, and when this run
/// began (data polled since then is this run's).
#[derive(Clone, Debug)]
pub struct Context {
    pub store: Store,
    pub live: Arc<Live>,
    pub started_at: DateTime<Utc>,
}

/// The live configuration as it stands now, shared by the daemon (which
/// replaces it on reload) and the servers that read it per request.
#[derive(Clone, Debug)]
pub struct LiveHandle(Arc<arc_swap::ArcSwap<Live>>);

impl LiveHandle {
    pub fn new(live: Live) -> Self {
        Self(Arc::new(arc_swap::ArcSwap::from_pointee(live)))
    }

    /// The configuration in force now; a caller keeps it for its whole work.
    pub fn load(&self) -> Arc<Live> {
        self.0.load_full()
    }

    /// Puts a reloaded configuration in force.
    pub fn replace(&self, live: Live) {
        self.0.store(Arc::new(live));
    }
}
