//! Logging: `tracing` to standard error, as text (journald-friendly, no
//! colours unless a terminal) or JSON for log shippers.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. `RUST_LOG` wins over `level` when set.
/// Calling it twice is harmless (the second call does nothing), which keeps
/// tests that build the app repeatedly simple.
pub fn init(level: &str, format: LogFormat) {
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
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
