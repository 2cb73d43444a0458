//! Start-up and the daemon's run loop.
//!
//! [`App::build`] turns settings into live parts (database, rules, calendar,
//! upstreams, mailer) and fails fast on anything invalid. [`App::start`]
//! runs the daemon until the shutdown token is cancelled; tests call the
//! same functions as `main`, and can run single steps ([`App::poll_all`],
//! [`App::evaluate`], [`App::deliver`]) on demand instead of waiting for
//! the clock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::calendar::HolidayConfig;
use crate::config::Settings;
use crate::domain::Unit;
use crate::evaluate::{EvalReport, Evaluator};
use crate::ingest::{LogProgress, Mode, PollError, PollReport, Progress, poll_source};
use crate::jobs::{Ticker, run_job, wake, wake_channel};
use crate::metrics::Metrics;
use crate::notify::{Composer, DeliveryReport, Mailer, deliver_due};
use crate::rules::RuleSet;
use crate::storage::Store;
use crate::time::SharedClock;
use crate::upstream::{Source, build_sources};

/// How long shutdown waits for in-flight work before giving up on it. With
/// the scheduler's own stop this keeps the whole exit under ten seconds.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

/// Why the daemon could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Configuration that parsed but cannot be used (rules, holiday file,
    /// mail settings): the operator must fix a file. Exit status 2.
    #[error("{0}")]
    Invalid(String),
    /// Anything else (the database is unreachable, a port is taken).
    #[error(transparent)]
    Runtime(#[from] anyhow::Error),
}

/// The daemon's parts.
#[derive(Debug)]
pub struct App {
    pub settings: Settings,
    pub store: Store,
    pub metrics: Metrics,
    pub clock: SharedClock,
    pub evaluator: Evaluator,
    pub mailer: Mailer,
    pub sources: Vec<Source>,
}

/// Loads the rules and the holiday calendar named by the settings.
pub fn load_rules_and_calendar(
    settings: &Settings,
) -> Result<(RuleSet, crate::calendar::WorkCalendar), BuildError> {
    let rules =
        RuleSet::load(&settings.rules.file).map_err(|e| BuildError::Invalid(e.to_string()))?;
    let path = &settings.indicators.holidays_file;
    let text = std::fs::read_to_string(path).map_err(|e| {
        BuildError::Invalid(format!(
            "{}: cannot read the holiday calendar (indicators.holidays_file): {e}",
            path.display()
        ))
    })?;
    let holidays: HolidayConfig = toml::from_str(&text)
        .map_err(|e| BuildError::Invalid(format!("{}: {}", path.display(), e.message())))?;
    let calendar = holidays
        .into_calendar()
        .map_err(|e| BuildError::Invalid(format!("{}: {e}", path.display())))?;
    Ok((rules, calendar))
}

impl App {
    pub async fn build(settings: Settings, clock: SharedClock) -> Result<App, BuildError> {
        let (rules, calendar) = load_rules_and_calendar(&settings)?;
        let mailer = Mailer::from_settings(&settings.email)
            .map_err(|e| BuildError::Invalid(format!("email settings: {e}")))?;
        let sources = build_sources(&settings).map_err(BuildError::Invalid)?;
        let store = Store::connect(&settings.database)
            .await
            .map_err(anyhow::Error::from)?;
        let applied = store.migrate().await.map_err(anyhow::Error::from)?;
        tracing::info!(
            backend = store.backend().as_str(),
            database = %settings.database.url.redacted(),
            migrations_applied = applied,
            "database ready"
        );
        let units: Vec<Unit> = settings
            .units
            .iter()
            .map(|u| Unit {
                code: u.code.clone(),
                name: u.name.clone(),
                kind: u.kind,
                parent: u.parent.clone(),
                head_email: u.head_email.clone(),
            })
            .collect();
        store
            .upsert_configured_units(&units, clock.now())
            .await
            .map_err(anyhow::Error::from)?;
        let metrics = Metrics::new();
        for s in &sources {
            metrics.register_source(s.name);
        }
        let composer = Composer::new(mailer.from_domain());
        Ok(App {
            evaluator: Evaluator {
                rules,
                calendar,
                composer,
                settings: settings.clone(),
            },
            settings,
            store,
            metrics,
            clock,
            mailer,
            sources,
        })
    }

    /// The rules, calendar and composer in force.
    pub fn evaluator(&self) -> &Evaluator {
        &self.evaluator
    }

    /// Replaces the mailer (tests use an in-memory one).
    pub fn with_mailer(mut self, mailer: Mailer) -> App {
        self.mailer = mailer;
        self
    }

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
    async fn full_sync_due(&self, source: &Source) -> bool {
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

    /// Runs one evaluation cycle.
    pub async fn evaluate(&self) -> anyhow::Result<EvalReport> {
        let report = self
            .evaluator
            .run(&self.store, &self.metrics, self.clock.now())
            .await?;
        tracing::info!(
            period = %report.period,
            evaluated = report.evaluated,
            opened = report.opened,
            resolved = report.resolved,
            unknown = report.unknown,
            emails_queued = report.emails_queued,
            "evaluation complete"
        );
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
        let stats = self.store.outbox_stats().await?;
        self.metrics.outbox_pending.set(stats.pending);
        self.metrics
            .outbox_oldest_pending_timestamp_seconds
            .set(stats.oldest_pending_at.map_or(0, |t| t.timestamp()));
        Ok(report)
    }

    /// Starts the daemon: HTTP endpoints, the cron clock, and the poll,
    /// evaluation and outbox loops. Returns once it is listening; the
    /// daemon then runs until `shutdown` is cancelled.
    pub async fn start(self, shutdown: CancellationToken) -> anyhow::Result<Running> {
        let listener = crate::http::bind(self.settings.http.listen).await?;
        let http_addr = listener.local_addr()?;
        let app = Arc::new(self);
        let mut tasks = JoinSet::new();

        let api_addr = if app.settings.api.enabled {
            let api_listener = crate::http::bind(app.settings.api.listen).await?;
            let addr = api_listener.local_addr()?;
            let router = crate::api::router(
                app.store.clone(),
                app.clock.clone(),
                app.settings.api.tokens.clone(),
            );
            let api_server = crate::api::serve(api_listener, router, shutdown.clone());
            tasks.spawn(async move {
                api_server
                    .await
                    .map_err(|e| anyhow::anyhow!("API server failed: {e}"))
            });
            tracing::info!(api = %addr, tokens = app.settings.api.tokens.len(), "findings API listening");
            Some(addr)
        } else {
            None
        };
        let server = crate::http::serve(listener, app.metrics.clone(), shutdown.clone());
        tasks.spawn(async move {
            server
                .await
                .map_err(|e| anyhow::anyhow!("HTTP server failed: {e}"))
        });

        let (eval_tx, mut eval_rx) = wake_channel();
        let (mail_tx, mut mail_rx) = wake_channel();
        let mut schedules = Vec::new();

        for index in 0..app.sources.len() {
            let name = app.sources[index].name;
            let Some(source_settings) = app.settings.sources.get(name) else {
                continue;
            };
            let (tx, mut rx) = wake_channel();
            let (full_tx, mut full_rx) = wake_channel();
            schedules.push((
                format!("poll:{name}"),
                source_settings.schedule.clone(),
                tx.clone(),
            ));
            if source_settings.full_sync {
                schedules.push((
                    format!("sync:{name}"),
                    source_settings.full_sync_schedule.clone(),
                    full_tx.clone(),
                ));
            }
            // Catch up at start-up: an incremental poll picks up whatever
            // changed while the daemon was down (from the stored cursor); a
            // missed full reconciliation runs instead when one is due.
            if app.full_sync_due(&app.sources[index]).await {
                wake(&full_tx);
            } else {
                wake(&tx);
            }
            let (app, shutdown, eval_tx) = (app.clone(), shutdown.clone(), eval_tx.clone());
            tasks.spawn(async move {
                loop {
                    let mode = tokio::select! {
                        biased;
                        _ = shutdown.cancelled() => break,
                        tick = full_rx.recv() => match tick { Some(()) => Mode::Full, None => break },
                        tick = rx.recv() => match tick { Some(()) => Mode::Incremental, None => break },
                    };
                    let job = if mode == Mode::Full { format!("sync:{name}") } else { format!("poll:{name}") };
                    let (a, s) = (app.clone(), shutdown.clone());
                    run_job(&job, &app.metrics, async move {
                        let source = &a.sources[index];
                        a.poll(source, mode, &s, &LogProgress::default())
                            .await
                            .map_err(anyhow::Error::from)
                    })
                    .await;
                    // Evaluate after every attempt: a failed poll may make
                    // data stale, which evaluation must see.
                    wake(&eval_tx);
                }
                Ok(())
            });
        }

        {
            let (app, shutdown, mail_tx) = (app.clone(), shutdown.clone(), mail_tx.clone());
            tasks.spawn(async move {
                loop {
                    tokio::select! {
                        biased;
                        _ = shutdown.cancelled() => break,
                        tick = eval_rx.recv() => if tick.is_none() { break },
                    }
                    let a = app.clone();
                    run_job("evaluate", &app.metrics, async move { a.evaluate().await }).await;
                    wake(&mail_tx);
                }
                Ok(())
            });
        }

        {
            let (app, shutdown) = (app.clone(), shutdown.clone());
            tasks.spawn(async move {
                let interval = app.settings.email.poll_interval;
                loop {
                    let (a, s) = (app.clone(), shutdown.clone());
                    run_job("outbox", &app.metrics, async move { a.deliver(&s).await }).await;
                    tokio::select! {
                        biased;
                        _ = shutdown.cancelled() => break,
                        _ = mail_rx.recv() => {}
                        _ = tokio::time::sleep(interval) => {}
                    }
                }
                Ok(())
            });
        }

        let ticker = Ticker::start(schedules).await?;
        tracing::info!(
            http = %http_addr,
            sources = app.sources.len(),
            email_transport = app.mailer.transport_name(),
            email_enabled = app.settings.email.enabled,
            "par-monitor running"
        );

        let supervisor = tokio::spawn(async move {
            shutdown.cancelled().await;
            tracing::info!("shutting down");
            ticker.shutdown().await;
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
                tracing::warn!(
                    "in-flight work did not finish in time; it will be repeated after restart"
                );
                tasks.abort_all();
            }
            app.store.close().await;
            tracing::info!("stopped");
            Ok(())
        });
        Ok(Running {
            http_addr,
            api_addr,
            supervisor,
        })
    }
}

/// A running daemon.
#[derive(Debug)]
pub struct Running {
    pub http_addr: SocketAddr,
    /// Where the findings API listens, when enabled.
    pub api_addr: Option<SocketAddr>,
    supervisor: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Waits until the daemon has stopped (after its shutdown token fired).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.supervisor.await?
    }
}
