//! Starting the daemon and stopping it: [`App::start`] wires the loops of
//! [`super::loops`] together and hands their tasks to a supervisor, which
//! stops them in order when the shutdown token fires.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::Sender;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::loops::Loops;
use super::{App, Running};
use crate::jobs::{Ticker, wake_channel};
use crate::storage::DaemonRun;

/// How long shutdown waits for in-flight work before giving up on it. With
/// the scheduler's own stop this keeps the whole exit under ten seconds.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

impl App {
    /// Starts the daemon: HTTP endpoints, the cron clock, and the poll,
    /// evaluation, alerts, outbox, metrics refresh, reload and digest
    /// loops, each with a heartbeat that the systemd watchdog (when
    /// enabled) watches. Returns once it is listening and has told systemd
    /// it is ready; the daemon then runs until `shutdown` is cancelled.
    pub async fn start(self, shutdown: CancellationToken) -> anyhow::Result<Running> {
        let listener = crate::http::bind(self.settings.http.listen).await?;
        let http_addr = listener.local_addr()?;
        let run = self.record_run().await?;
        let app = Arc::new(self);
        let mut loops = Loops::new(app.clone(), &shutdown);
        let api_addr = loops.serve_api().await?;
        let web_addr = loops.serve_web().await?;
        loops.serve_http(listener);

        let (eval_tx, eval_rx) = wake_channel();
        let (alerts_tx, alerts_rx) = wake_channel();
        let (mail_tx, mail_rx) = wake_channel();
        let (refresh_tx, refresh_rx) = wake_channel();
        let (reload_tx, reload_rx) = wake_channel();
        let (digest_tx, digest_rx) = wake_channel();
        loops.polls(&eval_tx).await;
        loops.evaluate(eval_rx, alerts_tx.clone(), digest_tx.clone());
        loops.alerts(&alerts_tx, alerts_rx, mail_tx.clone());
        loops.outbox(&mail_tx, mail_rx);
        loops.metrics_refresh(&refresh_tx, refresh_rx, run.clone(), http_addr);
        loops.reload(reload_rx, eval_tx, refresh_tx.clone());
        loops.digests(&digest_tx, digest_rx, mail_tx);

        let ticker = Ticker::start(loops.take_schedules()).await?;
        app.readiness.set_scheduler_running(true);
        loops.watchdog();
        announce(&app, http_addr);
        let tasks = loops.into_tasks();
        let senders = [refresh_tx, digest_tx];
        let supervisor = tokio::spawn(supervise(app, tasks, ticker, run.run_id, shutdown, senders));
        Ok(Running {
            http_addr,
            api_addr,
            web_addr,
            reload_tx,
            supervisor,
        })
    }

    /// Writes this run's row in the database, so that a one-off command can
    /// tell that a daemon owns it.
    async fn record_run(&self) -> anyhow::Result<DaemonRun> {
        let run = DaemonRun {
            run_id: format!("{:016x}", rand::random::<u64>()),
            host: hostname::get()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
            pid: i64::from(std::process::id()),
            started_at: self.started_at,
            heartbeat_at: self.started_at,
        };
        self.store.daemon_heartbeat(&run, self.clock.now()).await?;
        Ok(run)
    }
}

/// Tells systemd that the daemon is ready, and logs what runs.
fn announce(app: &App, http_addr: SocketAddr) {
    crate::systemd::ready(&format!("running; metrics on http://{http_addr}/metrics"));
    tracing::info!(
        http = %http_addr,
        sources = app.sources.len(),
        email_transport = app.mailer.transport_name(),
        email_enabled = app.settings.email.enabled,
        "par-monitor running"
    );
}

/// Waits for shutdown, then stops the daemon: the readiness flag and the
/// cron clock first, this run's row, the tasks (given a grace period), and
/// the database last.
async fn supervise(
    app: Arc<App>,
    tasks: JoinSet<anyhow::Result<()>>,
    ticker: Ticker,
    run_id: String,
    shutdown: CancellationToken,
    // A loop whose channel closes stops: these are held until the end.
    _senders: [Sender<()>; 2],
) -> anyhow::Result<()> {
    shutdown.cancelled().await;
    tracing::info!("shutting down");
    crate::systemd::stopping();
    app.readiness.set_scheduler_running(false);
    ticker.shutdown().await;
    let forget = app.clock.now() - chrono::Duration::days(1);
    if let Err(e) = app.store.daemon_stopped(&run_id, forget).await {
        tracing::warn!(error = %e, "cannot record that this daemon stopped");
    }
    drain(tasks).await;
    app.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Lets the tasks finish, logging how each ended; after
/// [`SHUTDOWN_GRACE`], drops what is still in flight (it is safe to repeat).
async fn drain(mut tasks: JoinSet<anyhow::Result<()>>) {
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while let Some(r) = tasks.join_next().await {
            match r {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = format!("{e:#}"), "task ended with an error")
                }
                Err(e) => tracing::error!(error = %e, "task panicked"),
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!("in-flight work did not finish in time; it will be repeated after restart");
        tasks.abort_all();
    }
}
