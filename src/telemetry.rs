//! Logging: `tracing` to standard error, as text (journald-friendly, no
//! colours unless a terminal) or JSON for log shippers.
//!
//! Under systemd, standard error goes to the journal, which stamps every
//! line itself: when `JOURNAL_STREAM` (read by `config`) names the very
//! stream standard error is, text lines carry no timestamp of their own.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, ServiceEnv};

/// Installs the global subscriber. `RUST_LOG` wins over `level` when set.
/// Calling it twice is harmless (the second call does nothing), which keeps
/// tests that build the app repeatedly simple.
pub fn init(level: &str, format: LogFormat, service: &ServiceEnv) {
    // The scheduler crate narrates its own start-up at info; that is noise
    // in a daemon's journal.
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(format!("{level},tokio_cron_scheduler=warn")))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Text if stderr_is_journal(service) => {
            builder.with_ansi(false).without_time().try_init()
        }
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Whether standard error is the journal stream systemd announced. systemd
/// documents comparing device and inode, because a child process may have
/// inherited the variable with a different standard error.
fn stderr_is_journal(service: &ServiceEnv) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some((dev, ino)) = service.journal_stream else {
        return false;
    };
    std::fs::metadata("/proc/self/fd/2").is_ok_and(|m| m.dev() == dev && m.ino() == ino)
}
