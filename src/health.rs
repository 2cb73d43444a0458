//! Is the daemon ready, and is it still making progress?
//!
//! [`Readiness`] answers `/readyz`: the database answers, migrations are
//! applied, the scheduler runs and one evaluation cycle has completed. It is
//! a handful of flags set by the parts that know; the endpoint only reads
//! them (the database is pinged by the metrics refresh job, never per
//! request).
//!
//! [`Heartbeats`] answer the systemd watchdog. Every daemon loop holds a
//! [`Heartbeat`] and beats it while idle and whenever its work makes
//! progress (a page stored, an e-mail sent, a rule evaluated). The pure
//! [`watchdog_verdict`] decides from the beats' ages whether to ping the
//! watchdog: only while every loop is recent. A loop that hangs stops the
//! pings, and systemd restarts the daemon.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// What `/readyz` reports.
#[derive(Debug, Default)]
pub struct Readiness {
    migrations_applied: AtomicBool,
    scheduler_running: AtomicBool,
    evaluation_completed: AtomicBool,
    /// `None` until the first check.
    database: Mutex<Option<bool>>,
}

impl Readiness {
    pub fn set_migrations_applied(&self) {
        self.migrations_applied.store(true, Ordering::Relaxed);
    }

    pub fn set_scheduler_running(&self, running: bool) {
        self.scheduler_running.store(running, Ordering::Relaxed);
    }

    pub fn set_evaluation_completed(&self) {
        self.evaluation_completed.store(true, Ordering::Relaxed);
    }

    pub fn set_database_reachable(&self, reachable: bool) {
        *self.database.lock().unwrap_or_else(|e| e.into_inner()) = Some(reachable);
    }

    /// `Ok` when ready, else the first reason it is not, in the order an
    /// operator would fix them.
    pub fn check(&self) -> Result<(), &'static str> {
        let database = *self.database.lock().unwrap_or_else(|e| e.into_inner());
        match database {
            Some(false) => return Err("database unreachable"),
            None => return Err("database not checked yet"),
            Some(true) => {}
        }
        if !self.migrations_applied.load(Ordering::Relaxed) {
            return Err("migrations not applied");
        }
        if !self.scheduler_running.load(Ordering::Relaxed) {
            return Err("scheduler not running");
        }
        if !self.evaluation_completed.load(Ordering::Relaxed) {
            return Err("no evaluation cycle completed yet");
        }
        Ok(())
    }
}

/// The heartbeats of every daemon loop.
#[derive(Clone, Debug)]
pub struct Heartbeats {
    origin: Instant,
    stall_after: Duration,
    loops: Arc<Mutex<Vec<Heartbeat>>>,
}

/// One loop's heartbeat; cheap to clone.
#[derive(Clone, Debug)]
pub struct Heartbeat {
    name: Arc<str>,
    origin: Instant,
    /// Milliseconds from `origin` to the last beat.
    last: Arc<AtomicU64>,
    idle_interval: Duration,
}

impl Heartbeat {
    /// Records progress (or healthy idleness) now.
    pub fn beat(&self) {
        let ms = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }

    /// How often an idle loop beats: well inside the stall limit.
    pub fn idle_interval(&self) -> Duration {
        self.idle_interval
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn age(&self, now: Instant) -> Duration {
        let last = self.origin + Duration::from_millis(self.last.load(Ordering::Relaxed));
        now.saturating_duration_since(last)
    }
}

impl Heartbeats {
    pub fn new(stall_after: Duration) -> Self {
        Self {
            origin: Instant::now(),
            stall_after,
            loops: Arc::default(),
        }
    }

    pub fn stall_after(&self) -> Duration {
        self.stall_after
    }

    /// Registers a loop; its first beat is now.
    pub fn register(&self, name: &str) -> Heartbeat {
        let hb = Heartbeat {
            name: name.into(),
            origin: self.origin,
            last: Arc::default(),
            idle_interval: (self.stall_after / 4).max(Duration::from_millis(10)),
        };
        hb.beat();
        self.loops
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(hb.clone());
        hb
    }

    /// Each loop's time since its last beat.
    pub fn ages(&self) -> Vec<(String, Duration)> {
        let now = Instant::now();
        self.loops
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|h| (h.name.to_string(), h.age(now)))
            .collect()
    }

    /// The verdict on the loops' current ages.
    pub fn verdict(&self) -> WatchdogVerdict {
        watchdog_verdict(&self.ages(), self.stall_after)
    }
}

/// Whether the watchdog may be told that all is well.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchdogVerdict {
    Notify,
    /// These loops have made no progress for longer than the limit.
    Withhold {
        stalled: Vec<String>,
    },
}

/// Pure: ping only while every loop beat within `stall_after`. A beat
/// exactly `stall_after` ago still counts as recent.
pub fn watchdog_verdict(ages: &[(String, Duration)], stall_after: Duration) -> WatchdogVerdict {
    let stalled: Vec<String> = ages
        .iter()
        .filter(|(_, age)| *age > stall_after)
        .map(|(name, _)| name.clone())
        .collect();
    if stalled.is_empty() {
        WatchdogVerdict::Notify
    } else {
        WatchdogVerdict::Withhold { stalled }
    }
}

tokio::task_local! {
    static CURRENT: Heartbeat;
}

/// Runs `f` with `hb` as the current task's heartbeat, so [`progress`]
/// inside it beats `hb`.
pub async fn with_heartbeat<F: Future>(hb: Option<Heartbeat>, f: F) -> F::Output {
    match hb {
        Some(hb) => CURRENT.scope(hb, f).await,
        None => f.await,
    }
}

/// The current task's heartbeat, if it runs under one.
pub fn current_heartbeat() -> Option<Heartbeat> {
    CURRENT.try_with(Heartbeat::clone).ok()
}

/// Records progress of the current job: called by long-running work between
/// its steps (pages, e-mails, rules). Outside a daemon loop it does nothing.
pub fn progress() {
    let _ = CURRENT.try_with(Heartbeat::beat);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ages: &[(&str, u64)], stall_after_s: u64, expected: &[&str]) {
        let ages: Vec<(String, Duration)> = ages
            .iter()
            .map(|(n, s)| (n.to_string(), Duration::from_secs(*s)))
            .collect();
        let verdict = watchdog_verdict(&ages, Duration::from_secs(stall_after_s));
        let want = if expected.is_empty() {
            WatchdogVerdict::Notify
        } else {
            WatchdogVerdict::Withhold {
                stalled: expected.iter().map(|s| s.to_string()).collect(),
            }
        };
        assert_eq!(verdict, want, "ages {ages:?}, limit {stall_after_s}s");
    }

    #[test]
    fn the_watchdog_is_fed_only_while_every_loop_is_recent() {
        check(&[], 60, &[]);
        check(&[("evaluate", 0), ("outbox", 10)], 60, &[]);
        check(&[("evaluate", 60)], 60, &[]);
        check(&[("evaluate", 61)], 60, &["evaluate"]);
        check(
            &[("poll:procedures", 600), ("evaluate", 1), ("outbox", 90)],
            60,
            &["poll:procedures", "outbox"],
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_loop_that_stops_beating_is_named_once_it_exceeds_the_limit() {
        let hbs = Heartbeats::new(Duration::from_secs(60));
        let busy = hbs.register("evaluate");
        let _stuck = hbs.register("poll:procedures");
        tokio::time::advance(Duration::from_secs(45)).await;
        busy.beat();
        assert_eq!(hbs.verdict(), WatchdogVerdict::Notify);
        tokio::time::advance(Duration::from_secs(30)).await;
        busy.beat();
        assert_eq!(
            hbs.verdict(),
            WatchdogVerdict::Withhold {
                stalled: vec!["poll:procedures".into()]
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn progress_beats_the_heartbeat_of_the_task_it_runs_in() {
        let hbs = Heartbeats::new(Duration::from_secs(60));
        let hb = hbs.register("job");
        tokio::time::advance(Duration::from_secs(90)).await;
        progress(); // outside any loop: no effect, no panic
        assert_ne!(hbs.verdict(), WatchdogVerdict::Notify);
        with_heartbeat(Some(hb), async { progress() }).await;
        assert_eq!(hbs.verdict(), WatchdogVerdict::Notify);
    }

    #[test]
    fn readiness_names_the_first_thing_missing() {
        let r = Readiness::default();
        assert_eq!(r.check(), Err("database not checked yet"));
        r.set_database_reachable(true);
        assert_eq!(r.check(), Err("migrations not applied"));
        r.set_migrations_applied();
        assert_eq!(r.check(), Err("scheduler not running"));
        r.set_scheduler_running(true);
        assert_eq!(r.check(), Err("no evaluation cycle completed yet"));
        r.set_evaluation_completed();
        assert_eq!(r.check(), Ok(()));
        r.set_database_reachable(false);
        assert_eq!(r.check(), Err("database unreachable"));
    }
}
