//! The systemd notification protocol (`Type=notify`, `WatchdogSec=`), through
//! the `sd-notify` crate.
//!
//! The crate reads systemd's own variables (`NOTIFY_SOCKET`, `WATCHDOG_USEC`,
//! `WATCHDOG_PID`) itself; this is the only module that calls it. Outside
//! systemd (no `NOTIFY_SOCKET`) every call is a no-op.

use std::time::Duration;

use sd_notify::NotifyState;
use tokio_util::sync::CancellationToken;

use crate::health::{Heartbeats, WatchdogVerdict};

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}

/// Start-up is complete: migrations applied, HTTP bound, scheduler running.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

pub fn status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

/// What to say when a connection failed because the unit's sandbox refused
/// it: under `IPAddressDeny=`/`IPAddressAllow=` the kernel answers a connect
/// to an address outside the allow list with EPERM ("Operation not
/// permitted"), which alone reads like a bug.
pub const SANDBOX_REFUSAL: &str = "the address is outside the systemd unit's IPAddressAllow= \
     (allow it with `systemctl edit par-monitor`, see README, Hardening)";

/// Whether an error, or one of its causes, is a connect the sandbox refused.
pub fn refused_by_sandbox(e: &(dyn std::error::Error + 'static)) -> bool {
    const EPERM: i32 = 1;
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>()
            && (io.raw_os_error() == Some(EPERM)
                || io.kind() == std::io::ErrorKind::PermissionDenied)
        {
            return true;
        }
        cause = c.source();
    }
    false
}

/// `STATUS=` during a long sync, e.g. `syncing procedures.dossiers: page
/// 120 of 900, 12000 records`.
pub fn sync_status(feed: &str, pages: u32, total_pages: Option<u64>, records: u64) -> String {
    match total_pages {
        Some(t) => format!("syncing {feed}: page {pages} of {t}, {records} records"),
        None => format!("syncing {feed}: page {pages}, {records} records"),
    }
}

/// `STATUS=` while running: healthy, or degraded naming the sources down.
pub fn running_status(http: &str, down: &[&str], active_findings: i64) -> String {
    if down.is_empty() {
        format!("running; {active_findings} active findings; metrics on http://{http}/metrics")
    } else {
        format!(
            "degraded: source(s) down: {}; {active_findings} active findings; metrics on http://{http}/metrics",
            down.join(", ")
        )
    }
}

pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

/// The watchdog timeout systemd asked for (`WatchdogSec=`), if any.
pub fn watchdog_timeout() -> Option<Duration> {
    sd_notify::watchdog_enabled().filter(|d| !d.is_zero())
}

/// Pings the watchdog every half timeout (as sd_watchdog_enabled(3)
/// advises), but only while every loop's heartbeat is recent. A stall is
/// logged once, when it begins, naming the loops; so is the recovery.
pub async fn run_watchdog(heartbeats: Heartbeats, timeout: Duration, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(timeout / 2);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut withholding = false;
    loop {
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match heartbeats.verdict() {
            WatchdogVerdict::Notify => {
                if withholding {
                    tracing::info!("all loops progress again; watchdog pings resume");
                    withholding = false;
                }
                send(&[NotifyState::Watchdog]);
            }
            WatchdogVerdict::Withhold { stalled } => {
                if !withholding {
                    tracing::error!(
                        loops = ?stalled,
                        stall_after_s = heartbeats.stall_after().as_secs_f64(),
                        "loops made no progress; withholding watchdog pings so that systemd restarts the daemon"
                    );
                    withholding = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// An error with a cause, as reqwest's and lettre's are.
    #[derive(Debug, thiserror::Error)]
    #[error("connection failed")]
    struct Wrapped(#[source] std::io::Error);

    #[test]
    fn a_connect_the_sandbox_refused_is_told_from_one_the_server_refused() {
        let sandbox = Wrapped(std::io::Error::from_raw_os_error(1));
        assert!(super::refused_by_sandbox(&sandbox));
        let server = Wrapped(std::io::Error::from_raw_os_error(111));
        assert!(!super::refused_by_sandbox(&server));
        let no_io = std::fmt::Error;
        assert!(!super::refused_by_sandbox(&no_io));
    }
}
