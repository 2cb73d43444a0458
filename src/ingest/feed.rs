//! One feed's poll: where it starts (its cursor, and whether it is a full
//! sync), its pages fetched, mapped and prepared ahead of the one being
//! stored, each page stored as it arrives, and what is done once all are
//! in (the unit directory applied, deletions reconciled, the cursor moved).

use std::time::Instant;

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{FutureExt, StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};

use super::{FeedReport, Mode, Poll, PollError, storage_error};
use crate::domain::{Document, Dossier, Petition, PortalScore, Report, Unit};
use crate::storage::{NewQuarantine, PollRun, Prepared, Store, UpsertCounts};
use crate::time::Clock;
use crate::upstream::mapping::FeedKind;
use crate::upstream::{Batch, Feed, Fetched, PageQuery, PageToken, Rejected, UpstreamError};

/// Where one feed's poll starts.
struct FeedStart {
    source: &'static str,
    qualified: String,
    /// The newest upstream change stored before this poll.
    cursor: Option<DateTime<Utc>>,
    sync: PollRun,
    sync_started: DateTime<Utc>,
}

impl FeedStart {
    /// Reads the feed's cursor and decides whether the poll is a full sync:
    /// when asked, when the feed cannot be asked for changes only, or when
    /// it has no cursor yet.
    async fn read(poll: &Poll<'_>, feed: &dyn Feed) -> Result<FeedStart, PollError> {
        let kind = feed.kind();
        let qualified = kind.qualified();
        let state = poll
            .store
            .feed_state(&qualified)
            .await
            .map_err(storage_error(kind.source()))?;
        let cursor: Option<DateTime<Utc>> = state
            .cursor
            .as_deref()
            .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
            .map(|t| t.with_timezone(&Utc));
        let full = poll.mode == Mode::Full || !feed.is_incremental() || cursor.is_none();
        // Every record the poll writes or sees is stamped with its sync id: a
        // full poll finds deletions by it, and any poll a code that arrives
        // for a second unit.
        let sync_started = poll.clock.now();
        Ok(FeedStart {
            source: kind.source(),
            qualified,
            cursor,
            sync: PollRun::start(sync_started, full),
            sync_started,
        })
    }

    fn first_query(&self) -> PageQuery {
        PageQuery {
            updated_since: if self.sync.full { None } else { self.cursor },
            token: PageToken::First,
        }
    }
}

/// Polls one feed of a source, page by page (see the module docs).
pub(super) async fn poll_feed(poll: &Poll<'_>, feed: &dyn Feed) -> Result<FeedReport, PollError> {
    let start = FeedStart::read(poll, feed).await?;
    let mut pages = pages_ahead(feed, poll.clock, start.first_query());
    let mut tally = FeedTally::new(&start);
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
            tally.store_page(poll, &start, page).await?;
        }
        Ok::<_, PollError>(())
    };
    // The first error ends both sides: a failed fetch drops the page being
    // stored (its transaction rolls back), a failed store the fetch.
    tokio::select! {
        biased;
        _ = poll.shutdown.cancelled() => {
            return Err(UpstreamError::Cancelled { source_name: start.source }.into());
        }
        done = async { tokio::try_join!(produce, consume) } => { done?; }
    }
    finish_feed(poll, feed, &start, tally).await
}

/// The pages of a feed's poll, fetched, mapped and prepared ahead of the
/// one being stored, so the upstream, the mapping and the database work at
/// the same time: the next page is requested as soon as this one has
/// arrived, and two pages are mapped at once on the blocking pool. The
/// channel the caller puts them through bounds how far ahead, and so the
/// memory.
fn pages_ahead<'a>(
    feed: &'a dyn Feed,
    clock: &'a dyn Clock,
    query: PageQuery,
) -> BoxStream<'a, Result<Ready, UpstreamError>> {
    futures_util::stream::try_unfold(Some(query), move |q| async move {
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
    .boxed()
}

/// What the pages of one feed's poll have come to so far.
struct FeedTally {
    report: FeedReport,
    /// The newest upstream change seen, the cursor once all pages are in.
    newest: Option<DateTime<Utc>>,
    records: u64,
    /// Whether the next page's keys are likely all new: in a first sync,
    /// while every page so far was.
    new_keys: bool,
    /// The unit directory's entries, applied whole at the end.
    directory: Vec<Unit>,
    started: Instant,
}

impl FeedTally {
    fn new(start: &FeedStart) -> FeedTally {
        FeedTally {
            report: FeedReport {
                feed: start.qualified.clone(),
                full: start.sync.full,
                ..FeedReport::default()
            },
            newest: start.cursor,
            records: 0,
            new_keys: start.cursor.is_none(),
            directory: Vec::new(),
            started: Instant::now(),
        }
    }

    /// Stores one ready page: its rejects quarantined, its records upserted
    /// in the sync, and what it did counted, logged and told to progress.
    async fn store_page(
        &mut self,
        poll: &Poll<'_>,
        start: &FeedStart,
        page: Ready,
    ) -> Result<(), PollError> {
        let (qualified, metrics) = (&start.qualified, poll.metrics);
        let source = start.source;
        let storage_err = storage_error(source);
        quarantine(poll.store, qualified, &page.rejects, poll.clock.now())
            .await
            .map_err(storage_err)?;
        let counts = match page.prepared {
            Some(p) => poll
                .store
                .upsert_prepared(
                    p.keys_likely_new(self.new_keys),
                    poll.clock.now(),
                    Some(start.sync),
                )
                .await
                .map_err(storage_err)?,
            None => UpsertCounts::default(),
        };
        if counts.inserted > 0 || counts.updated > 0 || counts.unchanged > 0 {
            self.new_keys = counts.updated == 0 && counts.unchanged == 0;
        }
        // Codes withdrawn for a conflict are quarantined too.
        self.report.rejected += page.rejects.len() as u64 + counts.conflicts;
        metrics
            .records_rejected_total
            .with_label_values(&[source])
            .inc_by(page.rejects.len() as u64);
        self.newest = self.newest.max(page.newest);
        self.records += page.records;
        self.directory.extend(page.units);
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
        self.report.counts += counts;
        self.report.pages += 1;
        poll.progress.page(
            qualified,
            self.report.pages,
            page.total_pages,
            self.records,
            self.started.elapsed(),
        );
        crate::health::progress();
        Ok(())
    }
}

/// Once every page is in: the unit directory is applied whole, or a full
/// sync's deletions are reconciled; then the feed's cursor advances.
async fn finish_feed(
    poll: &Poll<'_>,
    feed: &dyn Feed,
    start: &FeedStart,
    tally: FeedTally,
) -> Result<FeedReport, PollError> {
    let kind = feed.kind();
    let storage_err = storage_error(start.source);
    let mut report = tally.report;
    let now = poll.clock.now();
    if kind == FeedKind::Units {
        let (added, changed, retired) = poll
            .store
            .apply_unit_directory(&tally.directory, true, now)
            .await
            .map_err(storage_err)?;
        report.counts.inserted = added;
        report.counts.updated = changed;
        report.deleted = retired;
    } else if let Some(run) =
        (start.sync.full && feed.reconciles_deletions()).then_some(start.sync.id)
    {
        report.deleted = reconcile_deletions(poll, kind, start, run, now).await?;
    }
    let cursor = tally.newest.map(|c| c.to_rfc3339());
    poll.store
        .record_feed_success(&start.qualified, cursor.as_deref(), start.sync.full, now)
        .await
        .map_err(storage_err)?;
    Ok(report)
}

/// After a full sync `run`: marks the records it did not see as deleted,
/// and lets quarantined records it did not see leave quarantine. Returns
/// how many records were marked deleted.
async fn reconcile_deletions(
    poll: &Poll<'_>,
    kind: FeedKind,
    start: &FeedStart,
    run: i64,
    now: DateTime<Utc>,
) -> Result<u64, PollError> {
    let (store, qualified) = (poll.store, &start.qualified);
    let storage_err = storage_error(start.source);
    let deleted = match kind {
        FeedKind::Dossiers => store.mark_unseen_deleted::<Dossier>(run, now).await,
        FeedKind::Petitions => store.mark_unseen_deleted::<Petition>(run, now).await,
        FeedKind::Documents => store.mark_unseen_deleted::<Document>(run, now).await,
        FeedKind::Reports => store.mark_unseen_deleted::<Report>(run, now).await,
        FeedKind::Scores => store.mark_unseen_deleted::<PortalScore>(run, now).await,
        FeedKind::Units => Ok(0),
    }
    .map_err(storage_err)?;
    if deleted > 0 {
        tracing::info!(feed = %qualified, deleted, "records gone upstream marked deleted");
    }
    let gone = store
        .clear_unseen_quarantine(qualified, start.sync_started)
        .await
        .map_err(storage_err)?;
    if gone > 0 {
        tracing::info!(feed = %qualified, records = gone, "quarantined records gone upstream left quarantine");
    }
    Ok(deleted)
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
