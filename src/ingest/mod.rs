//! Ingestion: one poll of one source, feed by feed and page by page, into
//! storage.
//!
//! Each page is stored in its own transaction as it arrives, so memory stays
//! bounded by the few pages in flight: the one being stored and those
//! fetched ahead of it (the unit directory, which is small, is the
//! exception: it is applied whole so that missing units can be retired). A
//! feed's cursor (the newest upstream change seen) advances only once all
//! its pages are in: a poll cut short by a crash, an error or shutdown is
//! simply repeated, and repeating is harmless because storing an unchanged
//! record writes nothing. A full reconciliation fetches everything and then
//! marks what the upstream no longer has as deleted.

mod feed;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::domain::SourceHealth;
use crate::domain::quality::Check;
use crate::metrics::Metrics;
use crate::storage::{StorageError, Store, UpsertCounts};
use crate::time::Clock;
use crate::upstream::{Source, UpstreamError};
use feed::poll_feed;

/// Incremental polls fetch what changed since the cursor; a full poll
/// fetches everything and reconciles deletions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Incremental,
    Full,
}

/// What one poll did to one feed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedReport {
    pub feed: String,
    pub full: bool,
    pub pages: u32,
    pub counts: UpsertCounts,
    pub rejected: u64,
    /// Records marked deleted because a full poll no longer saw them.
    pub deleted: u64,
}

/// What one poll of a source did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PollReport {
    pub source: String,
    pub feeds: Vec<FeedReport>,
    /// `Healthy`, or `Degraded` when records had to be quarantined.
    pub health: SourceHealth,
}

impl PollReport {
    pub fn counts(&self) -> UpsertCounts {
        let mut c = UpsertCounts::default();
        for f in &self.feeds {
            c += f.counts;
        }
        c
    }

    pub fn rejected(&self) -> u64 {
        self.feeds.iter().map(|f| f.rejected).sum()
    }

    pub fn feed(&self, name: &str) -> Option<&FeedReport> {
        self.feeds.iter().find(|f| f.feed == name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error("storing {source_name} records failed: {error}")]
    Storage {
        source_name: &'static str,
        #[source]
        error: crate::storage::StorageError,
    },
}

impl PollError {
    pub fn kind(&self) -> &'static str {
        match self {
            PollError::Upstream(u) => u.kind(),
            PollError::Storage { .. } => "storage",
        }
    }
}

/// Told about each page, for progress on long first syncs.
pub trait Progress: Send + Sync {
    fn page(
        &self,
        feed: &str,
        pages: u32,
        total_pages: Option<u64>,
        records: u64,
        elapsed: Duration,
    );
}

/// Lets a progress report through at most once per interval (or when
/// forced, for the last page), so progress informs without flooding.
#[derive(Debug)]
pub struct Throttle {
    every: Duration,
    last: std::sync::Mutex<Instant>,
}

impl Throttle {
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            last: std::sync::Mutex::new(Instant::now()),
        }
    }

    /// Whether to report now; if so, the interval starts again.
    pub fn ready(&self, force: bool) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if !force && last.elapsed() < self.every {
            return false;
        }
        *last = Instant::now();
        true
    }
}

/// Logs progress at most every ten seconds, so a long first sync is
/// visible in the journal without flooding it.
#[derive(Debug)]
pub struct LogProgress {
    throttle: Throttle,
}

impl Default for LogProgress {
    fn default() -> Self {
        Self {
            throttle: Throttle::new(Duration::from_secs(10)),
        }
    }
}

impl Progress for LogProgress {
    fn page(
        &self,
        feed: &str,
        pages: u32,
        total_pages: Option<u64>,
        records: u64,
        elapsed: Duration,
    ) {
        if !self.throttle.ready(false) {
            return;
        }
        tracing::info!(
            feed,
            pages,
            total_pages,
            records,
            records_per_second = (records as f64 / elapsed.as_secs_f64().max(0.001)) as u64,
            "sync in progress"
        );
        crate::systemd::status(&crate::systemd::sync_status(
            feed,
            pages,
            total_pages,
            records,
        ));
    }
}

/// What every step of one poll works with.
struct Poll<'a> {
    store: &'a Store,
    metrics: &'a Metrics,
    clock: &'a dyn Clock,
    shutdown: &'a CancellationToken,
    mode: Mode,
    progress: &'a dyn Progress,
}

/// Wraps a storage error as the failure of a poll of `source_name`.
fn storage_error(source_name: &'static str) -> impl Fn(StorageError) -> PollError + Copy {
    move |error| PollError::Storage { source_name, error }
}

/// Polls every feed of `source` once and records the outcome: cursors,
/// health, quarantine and metrics.
pub async fn poll_source(
    store: &Store,
    source: &Source,
    metrics: &Metrics,
    clock: &dyn Clock,
    shutdown: &CancellationToken,
    mode: Mode,
    progress: &dyn Progress,
) -> Result<PollReport, PollError> {
    let poll = Poll {
        store,
        metrics,
        clock,
        shutdown,
        mode,
        progress,
    };
    let name = source.name;
    let started = Instant::now();
    let started_at = clock.now();
    let mut report = PollReport {
        source: name.to_owned(),
        ..PollReport::default()
    };
    let mut result = Ok(());
    for feed in &source.feeds {
        match poll_feed(&poll, feed.as_ref()).await {
            Ok(r) => report.feeds.push(r),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    metrics
        .poll_duration_seconds
        .with_label_values(&[name])
        .observe(started.elapsed().as_secs_f64());
    let now = clock.now();
    set_quarantine_gauges(store, metrics, name).await;
    match result {
        Ok(()) => {
            report.health = record_success(&poll, name, &report, started_at, now).await?;
            log_poll_complete(&report, mode, started);
            Ok(report)
        }
        Err(PollError::Upstream(UpstreamError::Cancelled { .. })) => {
            tracing::info!(
                source = name,
                "poll interrupted by shutdown; it will be repeated"
            );
            Err(UpstreamError::Cancelled { source_name: name }.into())
        }
        Err(e) => {
            record_failure(&poll, name, &e, now).await?;
            Err(e)
        }
    }
}

/// Sets the gauges of quarantined records (every feed's) and of implausible
/// ones (this source's, per check). A failed read leaves them as they were.
async fn set_quarantine_gauges(store: &Store, metrics: &Metrics, name: &str) {
    if let Ok(counts) = store.quarantine_counts().await {
        for (feed, n) in counts {
            metrics
                .records_quarantined
                .with_label_values(&[feed.split('.').next().unwrap_or(&feed), &feed])
                .set(n);
        }
    }
    if let Ok(counts) = store.implausible_counts().await {
        let mut by_check = std::collections::BTreeMap::new();
        for (feed, check, n) in counts {
            if feed.split('.').next() == Some(name) {
                *by_check.entry(check).or_insert(0) += n;
            }
        }
        for check in Check::ALL {
            metrics
                .records_implausible
                .with_label_values(&[name, check.as_str()])
                .set(by_check.get(&check).copied().unwrap_or(0));
        }
    }
}

/// Records a poll that completed: the source's health (`degraded` when
/// records had to be quarantined), its freshness and the metrics. Returns
/// the health.
async fn record_success(
    poll: &Poll<'_>,
    name: &'static str,
    report: &PollReport,
    started_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<SourceHealth, PollError> {
    let metrics = poll.metrics;
    let health = if report.rejected() > 0 {
        SourceHealth::Degraded
    } else {
        SourceHealth::Healthy
    };
    // The data is as current as the moment this poll began: every
    // change before then has been fetched.
    let before = poll
        .store
        .record_source_outcome(name, health, true, Some(started_at), None, now)
        .await
        .map_err(storage_error(name))?;
    if before.is_some_and(SourceHealth::is_failing) {
        tracing::info!(source = name, health = health.as_str(), "source is back");
    }
    metrics
        .polls_total
        .with_label_values(&[name, "success"])
        .inc();
    metrics.source_up.with_label_values(&[name]).set(1);
    metrics.set_source_health(name, health);
    metrics
        .last_successful_poll_timestamp_seconds
        .with_label_values(&[name])
        .set(now.timestamp());
    metrics
        .data_as_of_timestamp_seconds
        .with_label_values(&[name])
        .set(started_at.timestamp());
    Ok(health)
}

fn log_poll_complete(report: &PollReport, mode: Mode, started: Instant) {
    let c = report.counts();
    tracing::info!(
        source = report.source.as_str(),
        mode = if mode == Mode::Full {
            "full"
        } else {
            "incremental"
        },
        inserted = c.inserted,
        updated = c.updated,
        unchanged = c.unchanged,
        rejected = report.rejected(),
        deleted = report.feeds.iter().map(|f| f.deleted).sum::<u64>(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "poll complete"
    );
}

/// Records a poll that failed: the source is `misconfigured` or `down`,
/// logged once per outage, counted every time.
async fn record_failure(
    poll: &Poll<'_>,
    name: &'static str,
    e: &PollError,
    now: DateTime<Utc>,
) -> Result<(), PollError> {
    let metrics = poll.metrics;
    let health = match e {
        PollError::Upstream(u) if u.is_misconfiguration() => SourceHealth::Misconfigured,
        _ => SourceHealth::Down,
    };
    metrics
        .polls_total
        .with_label_values(&[name, "failure"])
        .inc();
    metrics
        .poll_errors_total
        .with_label_values(&[name, e.kind()])
        .inc();
    metrics.source_up.with_label_values(&[name]).set(0);
    metrics.set_source_health(name, health);
    let message = e.to_string();
    let before = poll
        .store
        .record_source_outcome(name, health, false, None, Some(&message), now)
        .await
        .map_err(storage_error(name))?;
    if before != Some(health) {
        // Once per outage; later failures are counted, not logged as new.
        let health = health.as_str();
        tracing::warn!(source = name, health, error = %message, "source is {health}");
    } else {
        tracing::debug!(source = name, error = %message, "poll failed again");
    }
    Ok(())
}
