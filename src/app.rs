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
use crate::ingest::{PollError, PollReport, poll_source};
use crate::jobs::{Ticker, run_job, wake, wake_channel};
use crate::metrics::Metrics;
use crate::notify::{Composer, DeliveryReport, Mailer, deliver_due};
use crate::rules::RuleSet;
use crate::storage::Store;
use crate::time::SharedClock;
use crate::upstream::Upstream;
use crate::upstream::procedures::ProceduresSource;

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
    pub upstreams: Vec<Arc<dyn Upstream>>,
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
        let mut upstreams: Vec<Arc<dyn Upstream>> = Vec::new();
        if settings.sources.procedures.enabled {
            let source = ProceduresSource::new(&settings.sources.procedures)
                .map_err(|e| BuildError::Invalid(format!("sources.procedures: {e}")))?;
            upstreams.push(Arc::new(source));
        }
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
        for u in &upstreams {
            metrics.register_source(u.name());
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
            upstreams,
        })
    }

    /// Replaces the mailer (tests use an in-memory one).
    pub fn with_mailer(mut self, mailer: Mailer) -> App {
        self.mailer = mailer;
        self
    }

    /// Polls every enabled source once.
    pub async fn poll_all(
        &self,
        shutdown: &CancellationToken,
    ) -> Vec<(&'static str, Result<PollReport, PollError>)> {
        let mut out = Vec::new();
        for u in &self.upstreams {
            let r = poll_source(
                &self.store,
                u.as_ref(),
                &self.metrics,
                self.clock.as_ref(),
                shutdown,
            )
            .await;
            out.push((u.name(), r));
        }
        out
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

        let server = crate::http::serve(listener, app.metrics.clone(), shutdown.clone());
        tasks.spawn(async move {
            server
                .await
                .map_err(|e| anyhow::anyhow!("HTTP server failed: {e}"))
        });

        let (eval_tx, mut eval_rx) = wake_channel();
        let (mail_tx, mut mail_rx) = wake_channel();
        let mut schedules = Vec::new();

        for upstream in app.upstreams.clone() {
            let (tx, mut rx) = wake_channel();
            let name = format!("poll:{}", upstream.name());
            schedules.push((
                name.clone(),
                app.settings.sources.procedures.schedule.clone(),
                tx.clone(),
            ));
            // Poll once at start-up: whatever the clock missed while the
            // daemon was down is caught up from the stored cursor.
            wake(&tx);
            let (app, shutdown, eval_tx) = (app.clone(), shutdown.clone(), eval_tx.clone());
            tasks.spawn(async move {
                loop {
                    tokio::select! {
                        biased;
                        _ = shutdown.cancelled() => break,
                        tick = rx.recv() => if tick.is_none() { break },
                    }
                    let (a, u, s) = (app.clone(), upstream.clone(), shutdown.clone());
                    run_job(&name, &app.metrics, async move {
                        poll_source(&a.store, u.as_ref(), &a.metrics, a.clock.as_ref(), &s)
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
            sources = app.upstreams.len(),
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
            supervisor,
        })
    }
}

/// A running daemon.
#[derive(Debug)]
pub struct Running {
    pub http_addr: SocketAddr,
    supervisor: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Waits until the daemon has stopped (after its shutdown token fired).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.supervisor.await?
    }
}
