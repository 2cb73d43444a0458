//! The daemon's loops, one function each, and the servers beside them.
//!
//! A loop idles (beating its heartbeat) until its wake-up channel is nudged
//! or its interval passes, runs one step through [`run_job`], and wakes the
//! loops that should follow: a poll wakes the evaluation, an evaluation the
//! alerts and the digests, whatever they queue the outbox, a reload the
//! evaluation and the metrics refresh. The cron clock nudges the polls and
//! the digests on their schedules.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc::{Receiver, Sender};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::App;
use crate::config::Schedule;
use crate::health::{Heartbeat, Heartbeats, with_heartbeat};
use crate::ingest::{LogProgress, Mode};
use crate::jobs::{Wake, idle, run_job, wake, wake_channel};
use crate::notify::AlertReport;
use crate::storage::DaemonRun;

/// How often digests that are due but waiting for data are looked at again.
const DIGEST_RECHECK: Duration = Duration::from_secs(60);

/// What the loops are spawned into: the daemon's tasks, their heartbeats
/// (which the watchdog watches), the cron schedules that will wake them,
/// and the shutdown they all stop on.
pub(super) struct Loops {
    app: Arc<App>,
    tasks: JoinSet<anyhow::Result<()>>,
    heartbeats: Heartbeats,
    schedules: Vec<(String, Schedule, Sender<()>)>,
    shutdown: CancellationToken,
    /// The console's state, when it is on: the evaluation loop warms what
    /// its pages keep between polls.
    console: Option<crate::web::WebState>,
}

impl Loops {
    pub(super) fn new(app: Arc<App>, shutdown: &CancellationToken) -> Loops {
        Loops {
            heartbeats: Heartbeats::new(app.settings.watchdog.stall_after),
            app,
            tasks: JoinSet::new(),
            schedules: Vec::new(),
            shutdown: shutdown.clone(),
            console: None,
        }
    }

    /// The cron schedules the loops asked for, for the ticker to fire.
    pub(super) fn take_schedules(&mut self) -> Vec<(String, Schedule, Sender<()>)> {
        std::mem::take(&mut self.schedules)
    }

    /// Every task spawned, for the supervisor to drain at shutdown.
    pub(super) fn into_tasks(self) -> JoinSet<anyhow::Result<()>> {
        self.tasks
    }

    /// `/metrics`, `/healthz` and `/readyz` on `listener`, until shutdown.
    pub(super) fn serve_http(&mut self, listener: TcpListener) {
        let state = crate::http::HttpState {
            metrics: self.app.metrics.clone(),
            readiness: self.app.readiness.clone(),
        };
        let server = crate::http::serve(listener, state, self.shutdown.clone());
        self.tasks.spawn(async move {
            server
                .await
                .map_err(|e| anyhow::anyhow!("HTTP server failed: {e}"))
        });
    }

    /// The findings API, when enabled: returns where it listens.
    pub(super) async fn serve_api(&mut self) -> anyhow::Result<Option<SocketAddr>> {
        let app = &self.app;
        if !app.settings.api.enabled {
            return Ok(None);
        }
        let listener = crate::http::bind(app.settings.api.listen).await?;
        let addr = listener.local_addr()?;
        let router = crate::api::router(
            app.store.clone(),
            app.clock.clone(),
            app.settings.api.tokens.clone(),
        );
        let server = crate::api::serve(listener, router, self.shutdown.clone());
        self.tasks.spawn(async move {
            server
                .await
                .map_err(|e| anyhow::anyhow!("API server failed: {e}"))
        });
        tracing::info!(api = %addr, tokens = app.settings.api.tokens.len(), "findings API listening");
        Ok(Some(addr))
    }

    /// The console, when enabled: returns where it listens.
    pub(super) async fn serve_web(&mut self) -> anyhow::Result<Option<SocketAddr>> {
        let app = &self.app;
        let web = &app.settings.web;
        if !web.enabled {
            return Ok(None);
        }
        let listener = crate::http::bind(web.listen).await?;
        let addr = listener.local_addr()?;
        let state = crate::web::WebState::new(
            app.store.clone(),
            app.live_handle(),
            app.clock.clone(),
            web.clone(),
        );
        self.console = Some(state.clone());
        let server = crate::web::serve(listener, state, self.shutdown.clone());
        self.tasks.spawn(async move {
            server
                .await
                .map_err(|e| anyhow::anyhow!("console server failed: {e}"))
        });
        tracing::info!(console = %addr, "web console listening");
        Ok(Some(addr))
    }

    /// The systemd watchdog, when the unit sets `WatchdogSec=`: pinged
    /// only while every loop's heartbeat is younger than the stall limit.
    pub(super) fn watchdog(&mut self) {
        let Some(timeout) = crate::systemd::watchdog_timeout() else {
            return;
        };
        tracing::info!(
            timeout_s = timeout.as_secs_f64(),
            stall_after_s = self.heartbeats.stall_after().as_secs_f64(),
            "systemd watchdog enabled"
        );
        let (hb, s) = (self.heartbeats.clone(), self.shutdown.clone());
        self.tasks.spawn(async move {
            crate::systemd::run_watchdog(hb, timeout, s).await;
            Ok(())
        });
    }

    /// One poll loop per configured source; each wakes `evaluate` after
    /// every attempt.
    pub(super) async fn polls(&mut self, evaluate: &Sender<()>) {
        for index in 0..self.app.sources.len() {
            self.poll(index, evaluate.clone()).await;
        }
    }

    /// The loop of one source: an incremental poll on its schedule and,
    /// with `full_sync`, a full reconciliation on its own.
    async fn poll(&mut self, index: usize, evaluate: Sender<()>) {
        let app = self.app.clone();
        let name = app.sources[index].name;
        let Some(settings) = app.settings.sources.get(name) else {
            return;
        };
        let wakes = PollWakes::new();
        let schedule = settings.schedule.clone();
        let poll = (format!("poll:{name}"), schedule, wakes.poll.clone());
        self.schedules.push(poll);
        if settings.full_sync {
            let schedule = settings.full_sync_schedule.clone();
            let sync = (format!("sync:{name}"), schedule, wakes.sync.clone());
            self.schedules.push(sync);
        }
        // Catch up at start-up: an incremental poll picks up whatever
        // changed while the daemon was down (from the stored cursor); a
        // missed full reconciliation runs instead when one is due.
        if app.full_sync_due(&app.sources[index]).await {
            wake(&wakes.sync);
        } else {
            wake(&wakes.poll);
        }
        let hb = self.heartbeats.register(&format!("poll:{name}"));
        let task = poll_loop(
            app,
            index,
            wakes,
            hb.clone(),
            self.shutdown.clone(),
            evaluate,
        );
        self.tasks.spawn(with_heartbeat(Some(hb), task));
    }

    /// The evaluation cycle, woken by the polls and by a reload; it wakes
    /// the alerts and the digests.
    pub(super) fn evaluate(&mut self, rx: Receiver<()>, alerts: Sender<()>, digests: Sender<()>) {
        let console = self.console.clone();
        self.spawn_loop(
            "evaluate",
            rx,
            |_| None,
            move |app| evaluate_once(app, alerts.clone(), digests.clone(), console.clone()),
        );
    }

    /// The grouping worker, once at start (`own` is its channel's sender),
    /// after each evaluation and every `email.poll_interval`: grouped
    /// alerts fall due as time passes (group wait, interval, repeats), and
    /// a group wait shorter than that interval is rounded up to it. Wakes
    /// the outbox when it queued anything.
    pub(super) fn alerts(&mut self, own: &Sender<()>, rx: Receiver<()>, outbox: Sender<()>) {
        wake(own);
        let every = |app: &App| Some(app.settings.email.poll_interval);
        self.spawn_loop("alerts", rx, every, move |app| {
            alerts_once(app, outbox.clone())
        });
    }

    /// The outbox worker: once at start, when e-mails are queued, and
    /// every `email.poll_interval`.
    pub(super) fn outbox(&mut self, own: &Sender<()>, rx: Receiver<()>) {
        wake(own);
        let every = |app: &App| Some(app.settings.email.poll_interval);
        let shutdown = self.shutdown.clone();
        self.spawn_loop("outbox", rx, every, move |app| {
            outbox_once(app, shutdown.clone())
        });
    }

    /// Between evaluation cycles, the database-derived series (and the
    /// readiness probe's database check) are refreshed once at start and
    /// every `metrics.refresh_interval`, which is read at each wait so that
    /// a reload of it applies. Each refresh also updates systemd's status
    /// line and this run's row in the database.
    pub(super) fn metrics_refresh(
        &mut self,
        own: &Sender<()>,
        rx: Receiver<()>,
        run: DaemonRun,
        http_addr: SocketAddr,
    ) {
        wake(own);
        let every = |app: &App| Some(app.live().settings.metrics.refresh_interval);
        self.spawn_loop("metrics_refresh", rx, every, move |app| {
            metrics_refresh_once(app, run.clone(), http_addr)
        });
    }

    /// Reloads the configuration when asked (SIGHUP); after a reload that
    /// applied, wakes the evaluation and the metrics refresh.
    pub(super) fn reload(&mut self, rx: Receiver<()>, evaluate: Sender<()>, refresh: Sender<()>) {
        self.spawn_loop(
            "reload",
            rx,
            |_| None,
            move |app| reload_once(app, evaluate.clone(), refresh.clone()),
        );
    }

    /// Digests: each kind's schedule wakes the loop, and so does every
    /// evaluation, so that at start-up the catch-up of what was due while
    /// the daemon was down follows the first poll and evaluation. What is
    /// due comes from the database, so extra wake-ups cost one read. Wakes
    /// the outbox when it queued an e-mail.
    pub(super) fn digests(&mut self, own: &Sender<()>, rx: Receiver<()>, outbox: Sender<()>) {
        let digests = &self.app.settings.digests;
        let kinds = digests.enabled_kinds();
        for kind in &kinds {
            let schedule = digests.schedule(*kind).clone();
            self.schedules
                .push((format!("digest:{kind}"), schedule, own.clone()));
        }
        if self.app.sources.is_empty() && !kinds.is_empty() {
            // No poll, so no evaluation, will wake it.
            wake(own);
        }
        // A digest waiting for a source's data is looked at again every
        // minute, so that it goes out once the wait is over even if no poll
        // completes.
        let every = (!kinds.is_empty()).then_some(DIGEST_RECHECK);
        self.spawn_loop(
            "digests",
            rx,
            move |_| every,
            move |app| digests_once(app, outbox.clone()),
        );
    }

    /// Spawns one daemon loop: wait (beating its heartbeat while idle) for
    /// a wake-up on `rx` or for `every` to pass, run `run`, repeat until
    /// shutdown. `run` does its work through [`run_job`] (by way of
    /// [`step`]), which carries the loop's heartbeat into the job.
    fn spawn_loop<E, F, Fut>(&mut self, name: &str, mut rx: Receiver<()>, every: E, run: F)
    where
        E: Fn(&App) -> Option<Duration> + Send + 'static,
        F: Fn(Arc<App>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let hb = self.heartbeats.register(name);
        let (app, shutdown) = (self.app.clone(), self.shutdown.clone());
        self.tasks
            .spawn(with_heartbeat(Some(hb.clone()), async move {
                loop {
                    if idle(&mut rx, &shutdown, &hb, every(&app)).await == Wake::Stop {
                        break;
                    }
                    run(app.clone()).await;
                }
                Ok(())
            }));
    }
}

/// The wake-up channels of one source's loop: incremental polls and full
/// reconciliations. The loop holds the senders as well: a channel whose
/// senders are all gone would end it (the schedule holds clones only while
/// it runs).
struct PollWakes {
    poll: Sender<()>,
    sync: Sender<()>,
    poll_rx: Receiver<()>,
    sync_rx: Receiver<()>,
}

impl PollWakes {
    fn new() -> PollWakes {
        let (poll, poll_rx) = wake_channel();
        let (sync, sync_rx) = wake_channel();
        PollWakes {
            poll,
            sync,
            poll_rx,
            sync_rx,
        }
    }

    /// Idles, beating, until a tick for either kind of poll: the poll to
    /// run, or `None` at shutdown.
    async fn next(&mut self, hb: &Heartbeat, shutdown: &CancellationToken) -> Option<Mode> {
        loop {
            hb.beat();
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => return None,
                tick = self.sync_rx.recv() => return tick.map(|()| Mode::Full),
                tick = self.poll_rx.recv() => return tick.map(|()| Mode::Incremental),
                _ = tokio::time::sleep(hb.idle_interval()) => {}
            }
        }
    }
}

/// One source's loop: each poll it is woken for, then an evaluation.
async fn poll_loop(
    app: Arc<App>,
    index: usize,
    mut wakes: PollWakes,
    hb: Heartbeat,
    shutdown: CancellationToken,
    evaluate: Sender<()>,
) -> anyhow::Result<()> {
    let name = app.sources[index].name;
    while let Some(mode) = wakes.next(&hb, &shutdown).await {
        let job = if mode == Mode::Full {
            format!("sync:{name}")
        } else {
            format!("poll:{name}")
        };
        let s = shutdown.clone();
        step(&app, &job, move |a| async move {
            let source = &a.sources[index];
            a.poll(source, mode, &s, &LogProgress::default())
                .await
                .map_err(anyhow::Error::from)
        })
        .await;
        // Evaluate after every attempt: a failed poll may make data stale,
        // which evaluation must see.
        wake(&evaluate);
    }
    Ok(())
}

/// One evaluation cycle when one is due, then the alerts and the digests.
async fn evaluate_once(
    app: Arc<App>,
    alerts: Sender<()>,
    digests: Sender<()>,
    console: Option<crate::web::WebState>,
) {
    let ran = step(
        &app,
        "evaluate",
        |a| async move { a.evaluate_if_due().await },
    )
    .await;
    if matches!(ran, Some(None)) {
        // Nothing judged has moved: nothing new for the others either.
        return;
    }
    wake(&alerts);
    // Whatever digest is due (a catch-up at start-up) reads the data this
    // cycle has just judged.
    wake(&digests);
    // The console's first page after this poll should not pay for it.
    if let Some(state) = console {
        step(&app, "console_warm", |_| async move {
            crate::web::warm(&state).await
        })
        .await;
    }
}

/// One run of the grouping worker; the outbox when it queued anything.
async fn alerts_once(app: Arc<App>, outbox: Sender<()>) {
    let report = step(&app, "alerts", |a| async move { a.group_alerts().await }).await;
    if report.is_some_and(|r| r != AlertReport::default()) {
        wake(&outbox);
    }
}

/// One run of the outbox worker.
async fn outbox_once(app: Arc<App>, shutdown: CancellationToken) {
    step(
        &app,
        "outbox",
        |a| async move { a.deliver(&shutdown).await },
    )
    .await;
}

/// One metrics refresh, then systemd's status line and this run's row.
async fn metrics_refresh_once(app: Arc<App>, run: DaemonRun, http_addr: SocketAddr) {
    step(&app, "metrics_refresh", |a| async move {
        a.refresh_metrics().await?;
        crate::systemd::status(&a.systemd_status(http_addr));
        a.store.daemon_heartbeat(&run, a.clock.now()).await?;
        anyhow::Ok(())
    })
    .await;
}

/// One reload of the configuration file; after one that applied, the
/// evaluation and the metrics refresh.
async fn reload_once(app: Arc<App>, evaluate: Sender<()>, refresh: Sender<()>) {
    let reloaded = step(
        &app,
        "reload",
        |a| async move { Ok(a.reload_from_file().await) },
    )
    .await;
    if reloaded == Some(true) {
        // Apply the new rules now rather than at the next tick, and the new
        // refresh interval from now.
        wake(&evaluate);
        wake(&refresh);
    }
}

/// One run of the digests that are due; the outbox when it queued an
/// e-mail.
async fn digests_once(app: Arc<App>, outbox: Sender<()>) {
    let queued = step(&app, "digests", |a| async move {
        crate::digest::run::run_due(&a.context(), a.clock.now()).await
    })
    .await;
    if queued.is_some_and(|q| q.iter().any(|d| d.emails > 0)) {
        wake(&outbox);
    }
}

/// Runs one step of a loop as the job `name` through [`run_job`], with its
/// own handle on the app (a job runs in its own task).
async fn step<T, F, Fut>(app: &Arc<App>, name: &str, work: F) -> Option<T>
where
    F: FnOnce(Arc<App>) -> Fut,
    Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    run_job(name, &app.metrics, work(app.clone())).await
}
