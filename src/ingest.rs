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

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::{FutureExt, StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::domain::quality::Check;
use crate::domain::{Document, Dossier, Petition, PortalScore, Report, Unit};
use crate::metrics::Metrics;
use crate::storage::{NewQuarantine, PollRun, Prepared, Store, UpsertCounts};
use crate::time::Clock;
use crate::upstream::mapping::FeedKind;
use crate::upstream::{
    Batch, Feed, Fetched, PageQuery, PageToken, Rejected, Source, UpstreamError,
};

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
    /// `healthy`, or `degraded` when records had to be quarantined.
    pub health: String,
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

/// Logs progress at most every ten seconds, so a long first sync is
/// visible in the journal without flooding it.
#[derive(Debug)]
pub struct LogProgress {
    last: std::sync::Mutex<Instant>,
}

impl Default for LogProgress {
    fn default() -> Self {
        Self {
            last: std::sync::Mutex::new(Instant::now()),
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
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() < Duration::from_secs(10) {
            return;
        }
        *last = Instant::now();
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
    let name = source.name;
    let started = Instant::now();
    let started_at = clock.now();
    let mut report = PollReport {
        source: name.to_owned(),
        ..PollReport::default()
    };
    let mut result = Ok(());
    for feed in &source.feeds {
        match poll_feed(
            store,
            feed.as_ref(),
            metrics,
            clock,
            shutdown,
            mode,
            progress,
        )
        .await
        {
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
    let storage_err = |error| PollError::Storage {
        source_name: name,
        error,
    };
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
    match result {
        Ok(()) => {
            let health = if report.rejected() > 0 {
                "degraded"
            } else {
                "healthy"
            };
            report.health = health.to_owned();
            // The data is as current as the moment this poll began: every
            // change before then has been fetched.
            let before = store
                .record_source_outcome(name, health, true, Some(started_at), None, now)
                .await
                .map_err(storage_err)?;
            if before
                .as_deref()
                .is_some_and(|b| b == "down" || b == "misconfigured")
            {
                tracing::info!(source = name, health, "source is back");
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
            let c = report.counts();
            tracing::info!(
                source = name,
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
            let health = match &e {
                PollError::Upstream(u) if u.is_misconfiguration() => "misconfigured",
                _ => "down",
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
            let before = store
                .record_source_outcome(name, health, false, None, Some(&message), now)
                .await
                .map_err(storage_err)?;
            if before.as_deref() != Some(health) {
                // Once per outage; later failures are counted, not logged as new.
                tracing::warn!(source = name, health, error = %message, "source is {health}");
            } else {
                tracing::debug!(source = name, error = %message, "poll failed again");
            }
            Err(e)
        }
    }
}

async fn poll_feed(
    store: &Store,
    feed: &dyn Feed,
    metrics: &Metrics,
    clock: &dyn Clock,
    shutdown: &CancellationToken,
    mode: Mode,
    progress: &dyn Progress,
) -> Result<FeedReport, PollError> {
    let kind = feed.kind();
    let source = kind.source();
    let qualified = kind.qualified();
    let storage_err = |error| PollError::Storage {
        source_name: source,
        error,
    };
    let state = store.feed_state(&qualified).await.map_err(storage_err)?;
    let cursor: Option<DateTime<Utc>> = state
        .cursor
        .as_deref()
        .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
        .map(|t| t.with_timezone(&Utc));
    let full = mode == Mode::Full || !feed.is_incremental() || cursor.is_none();
    // Every record the poll writes or sees is stamped with its sync id: a
    // full poll finds deletions by it, and any poll a code that arrives
    // for a second unit.
    let sync_started = clock.now();
    let sync = PollRun::start(sync_started, full);
    let mut report = FeedReport {
        feed: qualified.clone(),
        full,
        ..FeedReport::default()
    };
    let mut newest = cursor;
    let mut directory: Vec<Unit> = Vec::new();
    let query = PageQuery {
        updated_since: if full { None } else { cursor },
        token: PageToken::First,
    };
    let started = Instant::now();
    let mut records = 0u64;
    let cancelled = || {
        PollError::from(UpstreamError::Cancelled {
            source_name: source,
        })
    };
    // Pages are fetched, mapped and prepared ahead of the one being stored,
    // so the upstream, the mapping and the database work at the same time:
    // the next page is requested as soon as this one has arrived, and two
    // pages are mapped at once on the blocking pool. The channel bounds how
    // far ahead, and so the memory.
    let mut pages = futures_util::stream::try_unfold(Some(query), move |q| async move {
        let Some(q) = q else { return Ok(None) };
        let fetched = feed.fetch(&q).await?;
        let next = fetched.next.clone().map(|token| PageQuery { token, ..q });
        Ok::<_, UpstreamError>(Some((fetched, next)))
    })
    .map_ok(|fetched| {
        let polled_at = clock.now();
        crate::jobs::cpu(move || Ready::of(fetched, polled_at)).map(Ok)
    })
    .try_buffered(PAGES_MAPPED_AT_ONCE)
    .boxed();
    let (ahead, mut ready) = tokio::sync::mpsc::channel::<Ready>(1);
    let produce = async move {
        while let Some(page) = pages.try_next().await? {
            if ahead.send(page).await.is_err() {
                break; // storing failed; its error is the one reported
            }
        }
        Ok::<_, PollError>(())
    };
    let consume = async {
        while let Some(page) = ready.recv().await {
            quarantine(store, &qualified, &page.rejects, clock.now())
                .await
                .map_err(storage_err)?;
            let counts = match page.prepared {
                Some(p) => store
                    .upsert_prepared(p, clock.now(), Some(sync))
                    .await
                    .map_err(storage_err)?,
                None => UpsertCounts::default(),
            };
            // Codes withdrawn for a conflict are quarantined too.
            report.rejected += page.rejects.len() as u64 + counts.conflicts;
            metrics
                .records_rejected_total
                .with_label_values(&[source])
                .inc_by(page.rejects.len() as u64);
            newest = newest.max(page.newest);
            records += page.records;
            directory.extend(page.units);
            if counts.conflicts > 0 {
                tracing::warn!(feed = %qualified, codes = counts.conflicts, "codes served for two units in one sync: quarantined, their records withdrawn from the figures");
            }
            if counts.new_units > 0 {
                tracing::info!(feed = %qualified, units = counts.new_units, "records name units not yet known");
            }
            metrics
                .records_ingested_total
                .with_label_values(&[source])
                .inc_by(counts.inserted + counts.updated);
            report.counts += counts;
            report.pages += 1;
            progress.page(
                &qualified,
                report.pages,
                page.total_pages,
                records,
                started.elapsed(),
            );
            crate::health::progress();
        }
        Ok::<_, PollError>(())
    };
    // The first error ends both sides: a failed fetch drops the page being
    // stored (its transaction rolls back), a failed store the fetch.
    tokio::select! {
        biased;
        _ = shutdown.cancelled() => return Err(cancelled()),
        done = async { tokio::try_join!(produce, consume) } => { done?; }
    }
    let now = clock.now();
    if kind == FeedKind::Units {
        let (added, changed, retired) = store
            .apply_unit_directory(&directory, true, now)
            .await
            .map_err(storage_err)?;
        report.counts.inserted = added;
        report.counts.updated = changed;
        report.deleted = retired;
    } else if let Some(run) = (sync.full && feed.reconciles_deletions()).then_some(sync.id) {
        report.deleted = match kind {
            FeedKind::Dossiers => store.mark_unseen_deleted::<Dossier>(run, now).await,
            FeedKind::Petitions => store.mark_unseen_deleted::<Petition>(run, now).await,
            FeedKind::Documents => store.mark_unseen_deleted::<Document>(run, now).await,
            FeedKind::Reports => store.mark_unseen_deleted::<Report>(run, now).await,
            FeedKind::Scores => store.mark_unseen_deleted::<PortalScore>(run, now).await,
            FeedKind::Units => Ok(0),
        }
        .map_err(storage_err)?;
        if report.deleted > 0 {
            tracing::info!(feed = %qualified, deleted = report.deleted, "records gone upstream marked deleted");
        }
        let gone = store
            .clear_unseen_quarantine(&qualified, sync_started)
            .await
            .map_err(storage_err)?;
        if gone > 0 {
            tracing::info!(feed = %qualified, records = gone, "quarantined records gone upstream left quarantine");
        }
    }
    let cursor = newest.map(|c| c.to_rfc3339());
    store
        .record_feed_success(&qualified, cursor.as_deref(), full, now)
        .await
        .map_err(storage_err)?;
    Ok(report)
}

/// Pages mapped and prepared at once on the blocking pool, while the next
/// is fetched and the one before is stored. Each is a few megabytes at the
/// default page size.
const PAGES_MAPPED_AT_ONCE: usize = 2;

/// A fetched page made ready to store: its records prepared, with what the
/// poll reports of it. The mapped records themselves are not kept.
struct Ready {
    /// `None` for the unit directory, which is not stored as records.
    prepared: Option<Prepared>,
    /// The unit directory's entries, applied whole once all have arrived.
    units: Vec<Unit>,
    rejects: Vec<Rejected>,
    newest: Option<DateTime<Utc>>,
    records: u64,
    total_pages: Option<u64>,
}

impl Ready {
    /// Maps a fetched page and prepares its records: CPU work, for the
    /// blocking pool (see [`crate::jobs::cpu`]).
    fn of(fetched: Fetched, polled_at: DateTime<Utc>) -> Ready {
        let key_field = fetched.key_field();
        let page = fetched.map(polled_at);
        let prepared = match &page.batch {
            Batch::Dossiers(v) => Some(Prepared::new(v)),
            Batch::Petitions(v) => Some(Prepared::new(v)),
            Batch::Documents(v) => Some(Prepared::new(v)),
            Batch::Reports(v) => Some(Prepared::new(v)),
            Batch::Scores(v) => Some(Prepared::new(v)),
            Batch::Units(_) => None,
        }
        .map(|p| p.with_key_field(key_field));
        Ready {
            prepared,
            newest: page.batch.newest_change(),
            records: page.batch.len() as u64,
            units: match page.batch {
                Batch::Units(v) => v,
                _ => Vec::new(),
            },
            rejects: page.rejects,
            total_pages: page.total_pages,
        }
    }
}

async fn quarantine(
    store: &Store,
    feed: &str,
    rejects: &[Rejected],
    now: DateTime<Utc>,
) -> crate::storage::Result<()> {
    if rejects.is_empty() {
        return Ok(());
    }
    // One line per page, with the first example: a vendor bug can reject
    // thousands of records, and the journal should not drown in them.
    let first = &rejects[0].reject;
    tracing::warn!(
        feed,
        records = rejects.len(),
        record = first.record_id.as_deref().unwrap_or("(no id)"),
        field = %first.field,
        problem = %first.problem,
        "records quarantined (first shown; `par-monitor quarantine` lists all)"
    );
    let entries: Vec<NewQuarantine> = rejects
        .iter()
        .map(|r| NewQuarantine {
            record_key: r
                .reject
                .record_id
                .clone()
                .unwrap_or_else(|| format!("sha256:{:x}", Sha256::digest(r.raw.as_bytes()))),
            record_id: r.reject.record_id.clone(),
            check: r.reject.check,
            field: r.reject.field.clone(),
            problem: r.reject.problem.clone(),
            raw: r.raw.clone(),
        })
        .collect();
    store.quarantine(feed, &entries, now).await
}
