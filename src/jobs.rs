//! Background work: the one wrapper every job runs through, and the clock
//! that ticks them.
//!
//! [`run_job`] opens a span with the job's name, measures it, logs a failure
//! with its whole cause chain, and turns a panic into a logged failure, so
//! that no job can take the daemon down. The [`Ticker`] is only a clock: it
//! nudges a job's channel on its cron schedule; what a job must do (which
//! pages to fetch, which e-mails are due) always comes from the database.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::config::Schedule;
use crate::health::{Heartbeat, current_heartbeat, with_heartbeat};
use crate::metrics::Metrics;
use crate::time::LOCAL_TZ;

/// Runs one job to completion in its own task. Returns its value, or `None`
/// when it failed or panicked (which is logged and counted here). A job run
/// from a daemon loop carries the loop's heartbeat, so its
/// [`crate::health::progress`] calls keep the watchdog fed.
pub async fn run_job<F, T>(name: &str, metrics: &Metrics, job: F) -> Option<T>
where
    F: Future<Output = anyhow::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::info_span!("job", job = name);
    let started = Instant::now();
    let heartbeat = current_heartbeat();
    if let Some(hb) = &heartbeat {
        hb.beat();
    }
    let result =
        tokio::spawn(with_heartbeat(heartbeat.clone(), job).instrument(span.clone())).await;
    if let Some(hb) = &heartbeat {
        hb.beat();
    }
    let elapsed = started.elapsed().as_secs_f64();
    metrics
        .job_duration_seconds
        .with_label_values(&[name])
        .observe(elapsed);
    let _enter = span.enter();
    let (outcome, value) = match result {
        Ok(Ok(v)) => ("success", Some(v)),
        Ok(Err(e)) => {
            tracing::error!(error = format!("{e:#}"), elapsed_s = elapsed, "job failed");
            ("failure", None)
        }
        Err(e) if e.is_panic() => {
            tracing::error!(error = %e, elapsed_s = elapsed, "job panicked");
            ("panic", None)
        }
        Err(e) => {
            tracing::warn!(error = %e, "job cancelled");
            ("cancelled", None)
        }
    };
    metrics
        .job_runs_total
        .with_label_values(&[name, outcome])
        .inc();
    value
}

/// Runs a CPU-heavy step (parsing and mapping a page of thousands of
/// records, preparing it for storage) on tokio's blocking pool, so that it
/// runs beside the async work (HTTP, database round trips) instead of
/// stalling it. A panic in `work` is resumed in the caller, so [`run_job`]
/// reports it as the job's panic.
pub async fn cpu<T, F>(work: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(v) => v,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Only a runtime shutting down cancels a blocking task, and then
            // nothing is left to await this.
            Err(e) => panic!("blocking work cancelled: {e}"),
        },
    }
}

/// A wake-up channel for one job. Capacity one: ticks that arrive while a
/// run is pending or in progress coalesce into a single run, which is all a
/// job that reads its work from the database needs.
pub fn wake_channel() -> (mpsc::Sender<()>, mpsc::Receiver<()>) {
    mpsc::channel(1)
}

/// Nudges a job without waiting; a full channel means a run is already due.
pub fn wake(tx: &mpsc::Sender<()>) {
    let _ = tx.try_send(());
}

/// Why an idle loop woke up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// A tick or a nudge arrived.
    Woken,
    /// `max_wait` passed without one.
    Elapsed,
    /// Shutdown began, or every sender is gone.
    Stop,
}

/// Waits, beating `heartbeat` while idle, until `rx` delivers a wake-up,
/// `max_wait` passes, or shutdown begins. An idle loop is a healthy loop:
/// only a loop stuck in its work stops beating.
pub async fn idle(
    rx: &mut mpsc::Receiver<()>,
    shutdown: &CancellationToken,
    heartbeat: &Heartbeat,
    max_wait: Option<Duration>,
) -> Wake {
    let deadline = max_wait.map(|d| tokio::time::Instant::now() + d);
    loop {
        heartbeat.beat();
        let until = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => return Wake::Stop,
            tick = rx.recv() => return if tick.is_some() { Wake::Woken } else { Wake::Stop },
            _ = until => return Wake::Elapsed,
            _ = tokio::time::sleep(heartbeat.idle_interval()) => {}
        }
    }
}

/// The cron clock.
pub struct Ticker {
    scheduler: JobScheduler,
}

impl Ticker {
    /// Starts ticking each `(name, schedule, channel)` in Asia/Ho_Chi_Minh.
    pub async fn start(jobs: Vec<(String, Schedule, mpsc::Sender<()>)>) -> anyhow::Result<Ticker> {
        let scheduler = JobScheduler::new().await?;
        for (name, schedule, tx) in jobs {
            let job = Job::new_async_tz(schedule.as_str(), LOCAL_TZ, move |_id, _lock| {
                let tx = tx.clone();
                Box::pin(async move { wake(&tx) })
            })
            .map_err(|e| {
                anyhow::anyhow!("cannot schedule {name} with `{}`: {e}", schedule.as_str())
            })?;
            scheduler.add(job).await?;
            tracing::debug!(job = %name, schedule = schedule.as_str(), "scheduled");
        }
        scheduler.start().await?;
        Ok(Ticker { scheduler })
    }

    pub async fn shutdown(mut self) {
        if let Err(e) = self.scheduler.shutdown().await {
            tracing::warn!(error = %e, "scheduler did not shut down cleanly");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failing_or_panicking_job_is_counted_and_contained() {
        let m = Metrics::new();
        let ok = run_job("t", &m, async { Ok(7) }).await;
        let failed: Option<()> = run_job("t", &m, async { Err(anyhow::anyhow!("boom")) }).await;
        let panicked: Option<()> = run_job("t", &m, async { panic!("bug") }).await;
        assert_eq!(ok, Some(7));
        assert_eq!(failed, None);
        assert_eq!(panicked, None);
        for outcome in ["success", "failure", "panic"] {
            assert_eq!(m.job_runs_total.with_label_values(&["t", outcome]).get(), 1);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_loop_keeps_beating_and_a_job_in_a_loop_carries_its_heartbeat() {
        let hbs = crate::health::Heartbeats::new(Duration::from_secs(8));
        let hb = hbs.register("loop");
        let (tx, mut rx) = wake_channel();
        let never = CancellationToken::new();
        // Idle for a minute, far past the limit: the loop beat all along.
        let woke = idle(&mut rx, &never, &hb, Some(Duration::from_secs(60))).await;
        assert_eq!(woke, Wake::Elapsed);
        assert_eq!(hbs.verdict(), crate::health::WatchdogVerdict::Notify);
        wake(&tx);
        assert_eq!(idle(&mut rx, &never, &hb, None).await, Wake::Woken);
        // A job that reports progress keeps its loop's heartbeat fresh.
        let m = Metrics::new();
        with_heartbeat(Some(hb.clone()), async {
            run_job("long", &m, async {
                for _ in 0..10 {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    crate::health::progress();
                }
                Ok(())
            })
            .await
        })
        .await;
        assert_eq!(hbs.verdict(), crate::health::WatchdogVerdict::Notify);
    }

    #[test]
    fn wakes_coalesce() {
        let (tx, mut rx) = wake_channel();
        wake(&tx);
        wake(&tx);
        wake(&tx);
        assert!(rx.try_recv().is_ok());
        assert!(rx.try_recv().is_err());
    }
}
