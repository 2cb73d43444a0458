//! `[watchdog]`: when a loop counts as stuck.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The systemd watchdog. When the unit sets `WatchdogSec=`, par-monitor
/// pings systemd only while every loop (polls, evaluation, outbox, metrics
/// refresh) has shown progress within `stall_after`; a loop stuck for longer
/// stops the pings, and systemd restarts the daemon one `WatchdogSec` later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchdogSettings {
    /// How long a loop may go without progress before it counts as stuck.
    /// Longer than any single step: one upstream request, one e-mail send.
    #[serde(with = "humantime_serde")]
    pub stall_after: Duration,
}

impl Default for WatchdogSettings {
    fn default() -> Self {
        Self {
            stall_after: Duration::from_secs(180),
        }
    }
}

impl WatchdogSettings {
    /// Problems with `[watchdog]`, as `(key, message)`.
    pub(super) fn check(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.stall_after < Duration::from_secs(1) {
            out.push(("watchdog.stall_after".into(), "expected at least 1s".into()));
        }
        out
    }
}
