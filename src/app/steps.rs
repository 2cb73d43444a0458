//! The single steps the daemon's loops run, one cycle of each: a poll, an
//! evaluation, the grouping of alerts, the delivery of due e-mails. Tests
//! call them on demand instead of waiting for the clock.

use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::App;
use crate::evaluate::due::{Judged, due};
use crate::evaluate::{EvalReport, Evaluator};
use crate::ingest::{LogProgress, Mode, PollError, PollReport, Progress, poll_source};
use crate::notify::{AlertReport, DeliveryReport, deliver_due};
use crate::upstream::Source;

impl App {
    /// Polls every enabled source once, incrementally.
    pub async fn poll_all(
        &self,
        shutdown: &CancellationToken,
    ) -> Vec<(&'static str, Result<PollReport, PollError>)> {
        let mut out = Vec::new();
        for source in &self.sources {
            out.push((
                source.name,
                self.poll(source, Mode::Incremental, shutdown, &LogProgress::default())
                    .await,
            ));
        }
        out
    }

    /// Polls one source.
    pub async fn poll(
        &self,
        source: &Source,
        mode: Mode,
        shutdown: &CancellationToken,
        progress: &dyn Progress,
    ) -> Result<PollReport, PollError> {
        poll_source(
            &self.store,
            source,
            &self.metrics,
            self.clock.as_ref(),
            shutdown,
            mode,
            progress,
        )
        .await
    }

    /// Whether a source's periodic full reconciliation was missed (or never
    /// ran): the last one is older than the schedule's previous firing.
    pub(super) async fn full_sync_due(&self, source: &Source) -> bool {
        let Some(settings) = self.settings.sources.get(source.name) else {
            return false;
        };
        if !settings.full_sync {
            return false;
        }
        for feed in &source.feeds {
            let state = match self.store.feed_state(&feed.kind().qualified()).await {
                Ok(s) => s,
                Err(_) => return false,
            };
            let due = match state.last_full_sync_at {
                None => true,
                Some(last) => settings
                    .full_sync_schedule
                    .next_after(last)
                    .is_some_and(|next| next <= self.clock.now()),
            };
            if due {
                return true;
            }
        }
        false
    }

    /// Runs one evaluation cycle, then refreshes the metrics from what it
    /// stored.
    pub async fn evaluate(&self) -> anyhow::Result<EvalReport> {
        let started = Instant::now();
        let now = self.clock.now();
        let live = self.live();
        let report = Evaluator::new(&live)
            .run(&self.store, &self.metrics, now)
            .await?;
        self.metrics
            .evaluation_duration_seconds
            .observe(started.elapsed().as_secs_f64());
        self.metrics
            .last_evaluation_timestamp_seconds
            .set(now.timestamp());
        self.readiness.set_evaluation_completed();
        self.refresh_metrics().await?;
        tracing::info!(
            period = %report.period,
            evaluated = report.evaluated,
            opened = report.opened,
            resolved = report.resolved,
            unknown = report.unknown,
            notifications_queued = report.notifications_queued,
            "evaluation complete"
        );
        Ok(report)
    }

    /// The evaluation loop's cycle: [`Self::evaluate`] when something it
    /// judges may have moved since the last one or
    /// `rules.max_evaluation_interval` has passed (see
    /// [`crate::evaluate::due`]), `None` otherwise. A skipped cycle still
    /// counts as a completed evaluation: the last judgement stands.
    pub async fn evaluate_if_due(&self) -> anyhow::Result<Option<EvalReport>> {
        let now = self.clock.now();
        let live = self.live();
        let inputs = Evaluator::new(&live).inputs(&self.store, now).await?;
        let mut judged = self.judged.lock().await;
        let every = live.settings.rules.max_evaluation_interval;
        let Some(reason) = due(judged.as_ref().map(|(j, _)| j), &inputs, now, every) else {
            tracing::debug!("evaluation skipped: nothing it judges has changed");
            self.metrics
                .last_evaluation_timestamp_seconds
                .set(now.timestamp());
            return Ok(None);
        };
        tracing::debug!(reason = reason.as_str(), "evaluating");
        let report = self.evaluate().await?;
        *judged = Some((Judged { inputs, at: now }, live));
        Ok(Some(report))
    }

    /// Runs the grouping worker once: due notifications become grouped
    /// e-mails in the outbox (queued even when sending is disabled),
    /// reminders of open findings, and source-outage notices.
    pub async fn group_alerts(&self) -> anyhow::Result<AlertReport> {
        let report =
            crate::notify::alerts::run(&self.store, &self.live(), self.clock.now()).await?;
        if report != AlertReport::default() {
            tracing::info!(
                emails = report.emails,
                notifications = report.notifications_sent,
                cancelled = report.cancelled,
                held = report.held,
                repeats = report.repeats,
                source_notices = report.source_notices,
                "alerts grouped"
            );
        }
        Ok(report)
    }

    /// Sends every due e-mail (unless sending is disabled) and refreshes the
    /// outbox metrics.
    pub async fn deliver(&self, shutdown: &CancellationToken) -> anyhow::Result<DeliveryReport> {
        let report = if self.settings.email.enabled {
            deliver_due(
                &self.store,
                &self.mailer,
                &self.settings.email,
                &self.metrics,
                self.clock.as_ref(),
                shutdown,
            )
            .await?
        } else {
            DeliveryReport::default()
        };
        self.metrics.set_outbox(&self.store.outbox_stats().await?);
        Ok(report)
    }
}
