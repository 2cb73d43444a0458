//! Ingestion: one poll of one source, page by page, into storage.
//!
//! Each page is stored in its own transaction as it arrives, so memory stays
//! bounded by one page. The cursor (the newest upstream change seen) only
//! advances once every page is in: a poll cut short by a crash or shutdown
//! is simply repeated, and repeating it is harmless because storing an
//! unchanged record writes nothing.

use std::time::Instant;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::storage::{Store, UpsertCounts};
use crate::time::Clock;
use crate::upstream::{Batch, PageQuery, Upstream, UpstreamError};

/// What one poll did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PollReport {
    pub pages: u32,
    pub counts: UpsertCounts,
    pub rejected: u64,
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

/// Polls `upstream` once (all pages changed since the stored cursor) and
/// records the outcome in the source's state and in metrics.
pub async fn poll_source(
    store: &Store,
    upstream: &dyn Upstream,
    metrics: &Metrics,
    clock: &dyn Clock,
    shutdown: &CancellationToken,
) -> Result<PollReport, PollError> {
    let source = upstream.name();
    let started = Instant::now();
    let started_at = clock.now();
    let result = poll_pages(store, upstream, metrics, clock, shutdown).await;
    metrics
        .poll_duration_seconds
        .with_label_values(&[source])
        .observe(started.elapsed().as_secs_f64());
    let now = clock.now();
    let storage_err = |error| PollError::Storage {
        source_name: source,
        error,
    };
    match result {
        Ok((report, cursor)) => {
            let cursor = cursor.map(|c| c.to_rfc3339());
            // The data is as current as the moment this poll began: every
            // change before then has been fetched.
            let recovered = store
                .record_poll_success(source, cursor.as_deref(), Some(started_at), now)
                .await
                .map_err(storage_err)?;
            if recovered {
                tracing::info!(source, "source is back up");
            }
            metrics
                .polls_total
                .with_label_values(&[source, "success"])
                .inc();
            metrics.source_up.with_label_values(&[source]).set(1);
            metrics
                .last_successful_poll_timestamp_seconds
                .with_label_values(&[source])
                .set(now.timestamp());
            tracing::info!(
                source,
                pages = report.pages,
                inserted = report.counts.inserted,
                updated = report.counts.updated,
                unchanged = report.counts.unchanged,
                rejected = report.rejected,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "poll complete"
            );
            Ok(report)
        }
        Err(PollError::Upstream(UpstreamError::Cancelled { .. })) => {
            tracing::info!(source, "poll interrupted by shutdown; it will be repeated");
            Err(UpstreamError::Cancelled {
                source_name: source,
            }
            .into())
        }
        Err(e) => {
            let kind = match &e {
                PollError::Upstream(u) => u.kind(),
                PollError::Storage { .. } => "storage",
            };
            metrics
                .polls_total
                .with_label_values(&[source, "failure"])
                .inc();
            metrics
                .poll_errors_total
                .with_label_values(&[source, kind])
                .inc();
            metrics.source_up.with_label_values(&[source]).set(0);
            let went_down = store
                .record_poll_failure(source, &e.to_string(), now)
                .await
                .map_err(storage_err)?;
            if went_down {
                // Once per outage; later failures only count.
                tracing::warn!(source, error = %e, "source is down");
            }
            Err(e)
        }
    }
}

async fn poll_pages(
    store: &Store,
    upstream: &dyn Upstream,
    metrics: &Metrics,
    clock: &dyn Clock,
    shutdown: &CancellationToken,
) -> Result<(PollReport, Option<DateTime<Utc>>), PollError> {
    let source = upstream.name();
    let state = store
        .source_state(source)
        .await
        .map_err(|error| PollError::Storage {
            source_name: source,
            error,
        })?;
    let cursor: Option<DateTime<Utc>> = state
        .and_then(|s| s.cursor)
        .and_then(|c| DateTime::parse_from_rfc3339(&c).ok())
        .map(|t| t.with_timezone(&Utc));
    let mut newest = cursor;
    let mut report = PollReport::default();
    let mut query = PageQuery {
        updated_since: cursor,
        page: 1,
    };
    loop {
        let page = tokio::select! {
            biased;
            _ = shutdown.cancelled() => {
                return Err(UpstreamError::Cancelled { source_name: source }.into());
            }
            page = upstream.fetch_page(&query) => page?,
        };
        for r in &page.rejects {
            tracing::warn!(
                source,
                record = r.record_id.as_deref().unwrap_or("(unknown id)"),
                field = %r.field,
                problem = %r.problem,
                "record rejected"
            );
        }
        report.rejected += page.rejects.len() as u64;
        metrics
            .records_rejected_total
            .with_label_values(&[source])
            .inc_by(page.rejects.len() as u64);
        newest = newest.max(page.batch.newest_change());
        let counts = match &page.batch {
            Batch::Dossiers(d) => store.upsert_dossiers(d, clock.now()).await,
        }
        .map_err(|error| PollError::Storage {
            source_name: source,
            error,
        })?;
        if counts.new_units > 0 {
            tracing::info!(
                source,
                units = counts.new_units,
                "records name units not in the configuration"
            );
        }
        metrics
            .records_ingested_total
            .with_label_values(&[source])
            .inc_by(counts.inserted + counts.updated);
        report.counts += counts;
        report.pages += 1;
        match page.next_page {
            Some(next) => query.page = next,
            None => return Ok((report, newest)),
        }
    }
}
