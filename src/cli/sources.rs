//! The upstream sources: `sources` (their state), `poll` (now, with
//! progress) and `quarantine` (the records kept aside).

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::ingest::{FeedReport, Mode, PollReport, Progress, Throttle};
use crate::storage::QuarantineEntry;
use crate::time::format_local;

use super::daemon::shutdown_signal;
use super::error::{CliError, CliResult, print_error};
use super::load::{build, open};
use super::output::{Format, print_json};

/// `par-monitor sources`.
pub async fn sources(settings: Settings, format: Format) -> CliResult {
    let app = open(settings).await?;
    let rows = crate::status::sources(&app.context(), app.clock.now()).await?;
    match format {
        Format::Json => print_json(&rows),
        Format::Text => print!("{}", crate::status::sources_text(&rows)),
    }
    Ok(())
}

/// Progress on standard error, at most twice a second, and the last page.
struct PrintProgress {
    throttle: Throttle,
}

impl Progress for PrintProgress {
    fn page(
        &self,
        feed: &str,
        pages: u32,
        total_pages: Option<u64>,
        records: u64,
        elapsed: Duration,
    ) {
        if !self.throttle.ready(total_pages == Some(u64::from(pages))) {
            return;
        }
        let of = total_pages.map(|t| format!(" of {t}")).unwrap_or_default();
        let rate = records as f64 / elapsed.as_secs_f64().max(0.001);
        eprintln!("{feed}: page {pages}{of}, {records} records, {rate:.0} records/s");
    }
}

/// `par-monitor poll [SOURCE] [--full]`: every selected source in turn; one
/// that fails is told and the others are still polled.
pub async fn poll(settings: Settings, only: Option<&str>, full: bool) -> CliResult {
    if let Some(name) = only
        && settings.sources.get(name).is_none()
    {
        return Err(CliError::usage(format!(
            "unknown source `{name}`: expected procedures, documents, reports, portal or units"
        )));
    }
    let app = build(settings).await?;
    let selected: Vec<_> = app
        .sources
        .iter()
        .filter(|s| only.is_none_or(|n| n == s.name))
        .collect();
    if selected.is_empty() {
        return Err(CliError::usage(format!(
            "{} is not enabled",
            only.unwrap_or("no source")
        )));
    }
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stop.cancel();
    });
    let mode = if full { Mode::Full } else { Mode::Incremental };
    let progress = PrintProgress {
        throttle: Throttle::new(Duration::from_millis(500)),
    };
    let mut failed = false;
    for source in selected {
        let started = Instant::now();
        match app.poll(source, mode, &shutdown, &progress).await {
            Ok(report) => print_poll(&report, started.elapsed()),
            Err(e) => {
                print_error(&e.into());
                failed = true;
            }
        }
    }
    if failed {
        Err(CliError::reported())
    } else {
        Ok(())
    }
}

/// One line per feed, then the source's health.
fn print_poll(report: &PollReport, elapsed: Duration) {
    for f in &report.feeds {
        println!("{}", feed_line(f, elapsed));
    }
    println!("{}: {}", report.source, report.health.as_str());
}

fn feed_line(f: &FeedReport, elapsed: Duration) -> String {
    let fetched = f.counts.inserted + f.counts.updated + f.counts.unchanged;
    let rate = fetched as f64 / elapsed.as_secs_f64().max(0.001);
    format!(
        "{}: {} pages, {} new, {} changed, {} unchanged, {} quarantined, {} deleted ({}; {rate:.0} records/s)",
        f.feed,
        f.pages,
        f.counts.inserted,
        f.counts.updated,
        f.counts.unchanged,
        f.rejected,
        f.deleted,
        if f.full { "full" } else { "incremental" },
    )
}

/// `par-monitor quarantine [--feed FEED]`.
pub async fn quarantine(settings: Settings, feed: Option<&str>, format: Format) -> CliResult {
    let app = open(settings).await?;
    let rows = app.store.quarantined(feed).await?;
    match format {
        Format::Json => print_json(&rows),
        Format::Text => {
            if rows.is_empty() {
                println!("No quarantined records.");
            }
            for q in &rows {
                println!("{}", quarantine_line(q));
            }
        }
    }
    Ok(())
}

fn quarantine_line(q: &QuarantineEntry) -> String {
    format!(
        "{}  {}  {}{}: {} (seen {}×, last {})",
        q.feed,
        q.record_id.as_deref().unwrap_or("(no id)"),
        q.check
            .as_ref()
            .map(|c| format!("[{c}] "))
            .unwrap_or_default(),
        q.field,
        q.problem,
        q.times_seen,
        format_local(q.last_seen_at)
    )
}
