//! Start-up, the daemon's run loops, and live reload.
//!
//! [`App::build`] turns settings into live parts (database, rules, calendar,
//! upstreams, mailer) and fails fast on anything invalid. [`App::start`]
//! runs the daemon until the shutdown token is cancelled; tests call the
//! same functions as `main`, and can run single steps ([`App::poll_all`],
//! [`App::evaluate`], [`App::deliver`], [`App::refresh_metrics`],
//! [`App::reload`]) on demand instead of waiting for the clock.
//!
//! What a reload can change lives in the [`Live`] configuration (rules,
//! calendar, templates and the settings of [`crate::config::Reloadable`]),
//! which is swapped whole; each cycle works on the one it loaded at its
//! start. The rest of the settings is fixed at start-up.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::calendar::HolidayConfig;
use crate::config::Settings;
use crate::domain::Unit;
use crate::evaluate::{EvalReport, Evaluator};
use crate::health::{Heartbeats, Readiness, with_heartbeat};
use crate::ingest::{LogProgress, Mode, PollError, PollReport, Progress, poll_source};
use crate::jobs::{Ticker, Wake, idle, run_job, wake, wake_channel};
use crate::live::{Context, Live};
use crate::metrics::{DbSnapshot, Metrics};
use crate::notify::{AlertReport, Composer, DeliveryReport, Mailer, deliver_due};
use crate::rules::RuleSet;
use crate::storage::Store;
use crate::time::{Month, SharedClock};
use crate::upstream::{Source, build_sources};

/// How long shutdown waits for in-flight work before giving up on it. With
/// the scheduler's own stop this keeps the whole exit under ten seconds.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

/// How often digests that are due but waiting for data are looked at again.
const DIGEST_RECHECK: Duration = Duration::from_secs(60);

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
    /// The settings as at start-up. The parts a reload changes are in the
    /// live configuration's settings ([`App::live`]).
    pub settings: Settings,
    pub store: Store,
    pub metrics: Metrics,
    pub clock: SharedClock,
    /// When this run began: data polled since then is this run's.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Rules, calendar, templates and the reloadable settings; replaced
    /// whole by a reload.
    live: ArcSwap<Live>,
    pub mailer: Mailer,
    pub sources: Vec<Source>,
    pub readiness: Arc<Readiness>,
    /// The file a reload reads (set by the CLI).
    config_path: Option<PathBuf>,
    /// The local day the holiday calendar's coverage was last warned of:
    /// once at start-up and once a day.
    calendar_warned_on: std::sync::Mutex<Option<chrono::NaiveDate>>,
}

/// What a successful reload changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReloadReport {
    pub rules: usize,
    pub units: usize,
    pub units_retired: u64,
    /// Changed sections that only a restart applies; they were ignored.
    pub needs_restart: Vec<String>,
}

/// Reads and checks a configuration file as the daemon uses it: its
/// settings, and each feed's mapping on the path that builds the sources.
pub fn load_settings(path: &std::path::Path) -> Result<Settings, crate::config::ConfigError> {
    let settings = Settings::load(path)?;
    let problems = crate::upstream::check_mappings(&settings, &path.display().to_string());
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(crate::config::ConfigError { problems })
    }
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
    /// The daemon's parts: also writes the configured units into the
    /// database (and retires those no longer configured), as the daemon
    /// and `check` do.
    pub async fn build(settings: Settings, clock: SharedClock) -> Result<App, BuildError> {
        Self::assemble(settings, clock, true).await
    }

    /// The parts a one-off command reads with: the same, but the units are
    /// the database's as the daemon left them, so that a tool run beside a
    /// daemon (with another configuration file, or none of its units)
    /// changes nothing it does.
    pub async fn open(settings: Settings, clock: SharedClock) -> Result<App, BuildError> {
        Self::assemble(settings, clock, false).await
    }

    async fn assemble(
        settings: Settings,
        clock: SharedClock,
        sync_units: bool,
    ) -> Result<App, BuildError> {
        let (rules, calendar) = load_rules_and_calendar(&settings)?;
        let mailer = Mailer::from_settings(&settings.email)
            .map_err(|e| BuildError::Invalid(format!("email settings: {e}")))?;
        let sources = build_sources(&settings, clock.clone()).map_err(BuildError::Invalid)?;
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
        let readiness = Arc::new(Readiness::default());
        readiness.set_migrations_applied();
        readiness.set_database_reachable(true);
        if sync_units {
            let retired = sync_configured_units(&store, &settings, clock.now())
                .await
                .map_err(anyhow::Error::from)?;
            if retired > 0 {
                tracing::info!(units = retired, "units no longer configured are retired");
            }
        }
        for w in settings.warnings() {
            tracing::warn!("{w}");
        }
        let metrics = Metrics::new();
        for s in &sources {
            metrics.register_source(s.name);
        }
        metrics
            .config_last_reload_success_timestamp_seconds
            .set(clock.now().timestamp());
        let composer = Composer::new(mailer.from_domain());
        Ok(App {
            live: ArcSwap::from_pointee(Live {
                rules,
                calendar,
                composer,
                settings: settings.clone(),
            }),
            settings,
            store,
            metrics,
            started_at: clock.now(),
            clock,
            mailer,
            sources,
            readiness,
            config_path: None,
            calendar_warned_on: std::sync::Mutex::new(None),
        })
    }

    /// The `STATUS=` line systemd shows while running: the sources whose
    /// polls have been tried and fail are named as degraded.
    fn systemd_status(&self, http: std::net::SocketAddr) -> String {
        let m = &self.metrics;
        let down: Vec<&str> = self
            .sources
            .iter()
            .map(|s| s.name)
            .filter(|name| {
                let tried = ["success", "failure"]
                    .iter()
                    .map(|o| m.polls_total.with_label_values(&[name, o]).get())
                    .sum::<u64>()
                    > 0;
                tried && m.source_up.with_label_values(&[name]).get() == 0
            })
            .collect();
        let active: i64 = crate::domain::Severity::ALL
            .iter()
            .map(|s| m.findings_active.with_label_values(&[s.as_str()]).get())
            .sum();
        crate::systemd::running_status(&http.to_string(), &down, active)
    }

    /// Sets the calendar's coverage gauge and, once a local day, warns
    /// when the holiday calendar does not reach 60 days ahead.
    fn check_calendar(&self, live: &Live, now: chrono::DateTime<chrono::Utc>) {
        let covered = live.calendar.covered_until();
        self.metrics
            .calendar_covered_until_timestamp_seconds
            .set(covered.map_or(0, |d| {
                crate::time::local_to_utc(
                    d.succ_opt().unwrap_or(d).and_time(chrono::NaiveTime::MIN),
                )
                .timestamp()
            }));
        let today = crate::time::utc_to_local(now).date();
        let mut warned = self
            .calendar_warned_on
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if *warned == Some(today) {
            return;
        }
        *warned = Some(today);
        let file = &live.settings.indicators.holidays_file;
        if let Some(w) = live.calendar.coverage_warning(today, file) {
            tracing::warn!(covered_until = ?covered, "{w}");
        }
    }

    /// The rules, calendar, templates and settings in force now. A caller
    /// keeps the one it got for the whole of its work.
    pub fn live(&self) -> Arc<Live> {
        self.live.load_full()
    }

    /// What the shells (digests, inspections, status) work with.
    pub fn context(&self) -> Context {
        Context {
            store: self.store.clone(),
            live: self.live(),
            started_at: self.started_at,
        }
    }

    /// Names the configuration file that SIGHUP reloads.
    pub fn with_config_path(mut self, path: PathBuf) -> App {
        self.config_path = Some(path);
        self
    }

    /// Applies new settings without a restart: the rules, the holidays and
    /// what [`crate::config::Reloadable`] lists take effect from the next
    /// cycle. Sections that need a restart are reported and otherwise
    /// ignored. Invalid settings, rules or holidays are rejected and the
    /// configuration in force stays.
    pub async fn reload(&self, new: Settings) -> Result<ReloadReport, BuildError> {
        let (rules, calendar) = load_rules_and_calendar(&new)?;
        let needs_restart = self.settings.changes_needing_restart(&new);
        // The start-up settings, so that what needs a restart really is
        // ignored, with what a reload may change.
        let live = self.settings.clone().with_reloadable(new.reloadable());
        let units_retired = sync_configured_units(&self.store, &live, self.clock.now())
            .await
            .map_err(anyhow::Error::from)?;
        let report = ReloadReport {
            rules: rules.rules.len(),
            units: live.units.len(),
            units_retired,
            needs_restart,
        };
        self.live.store(Arc::new(Live {
            rules,
            calendar,
            composer: Composer::new(self.mailer.from_domain()),
            settings: live,
        }));
        Ok(report)
    }

    /// Re-reads the configuration file and reloads it, logging and counting
    /// the outcome. A rejected configuration leaves the one in force.
    pub async fn reload_from_file(&self) -> bool {
        let result = match &self.config_path {
            None => Err(BuildError::Invalid(
                "no configuration file to reload (started without --config)".into(),
            )),
            Some(path) => match load_settings(path) {
                Ok(settings) => self.reload(settings).await,
                Err(e) => Err(BuildError::Invalid(e.to_string().trim_end().to_owned())),
            },
        };
        match result {
            Ok(r) => {
                self.metrics
                    .config_reload_total
                    .with_label_values(&["success"])
                    .inc();
                self.metrics
                    .config_last_reload_success_timestamp_seconds
                    .set(self.clock.now().timestamp());
                for section in &r.needs_restart {
                    tracing::warn!(
                        section = %section,
                        "configuration changed in a section that needs a restart; ignored until then"
                    );
                }
                tracing::info!(
                    rules = r.rules,
                    units = r.units,
                    units_retired = r.units_retired,
                    "configuration reloaded"
                );
                true
            }
            Err(e) => {
                self.metrics
                    .config_reload_total
                    .with_label_values(&["failure"])
                    .inc();
                tracing::error!(
                    error = %e,
                    "configuration reload rejected; the previous configuration stays in force"
                );
                false
            }
        }
    }

    /// Reads the province's state from the database into the metrics. Also
    /// the readiness probe's database check.
    pub async fn refresh_metrics(&self) -> anyhow::Result<()> {
        let ping = self.store.ping().await;
        self.readiness.set_database_reachable(ping.is_ok());
        ping?;
        let live = self.live();
        let now = self.clock.now();
        self.check_calendar(&live, now);
        let month = Month::containing(now);
        let period = month.to_string();
        // A figure only from sources whose data covers the month: the
        // series of the others are absent, never 0.
        let coverage = crate::overview::coverage(
            &self.store,
            &live,
            &month.into(),
            now,
            Some(self.started_at),
        )
        .await?;
        let covered = |indicator: &str| {
            indicator
                .parse::<crate::indicators::IndicatorId>()
                .is_ok_and(|i| coverage.covers(i.source_id()))
        };
        let snapshot = DbSnapshot {
            units: self
                .store
                .units()
                .await?
                .into_iter()
                .map(|u| {
                    (
                        u.code.as_str().to_owned(),
                        u.name,
                        u.kind.map(|k| k.as_str().to_owned()),
                    )
                })
                .collect(),
            indicators: self
                .store
                .current_indicator_values(&period)
                .await?
                .into_iter()
                .filter(|(_, indicator, ..)| covered(indicator))
                .collect(),
            active_findings: self.store.active_finding_keys().await?,
            rule_sections: live
                .rules
                .rules
                .iter()
                .map(|r| (r.id.as_str().to_owned(), r.section.number()))
                .collect(),
            outbox: self.store.outbox_stats().await?,
            sources: self.store.source_states().await?,
            digests: self.store.last_digests_sent().await?,
            online_services: self
                .store
                .portal_scores(&period)
                .await?
                .into_iter()
                .filter(|_| coverage.covers(crate::domain::SourceId::Portal))
                .filter_map(|p| {
                    let online = p.groups.get("ONLINE_SERVICES").copied().flatten()?;
                    Some((p.unit_code.as_str().to_owned(), online))
                })
                .collect(),
            national: self.national_standing(now, &coverage).await?,
        };
        self.metrics.apply(&snapshot, &live.settings.metrics);
        Ok(())
    }

    /// The province's national standing for the year of `now`, where the
    /// portal's data covers the month.
    async fn national_standing(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        coverage: &crate::coverage::Coverage,
    ) -> anyhow::Result<Option<crate::domain::NationalStanding>> {
        if !coverage.covers(crate::domain::SourceId::Portal) {
            return Ok(None);
        }
        let year = Month::containing(now).year().to_string();
        let province = self
            .store
            .units()
            .await?
            .into_iter()
            .find(|u| u.kind == Some(crate::domain::UnitKind::Province));
        let Some(province) = province else {
            return Ok(None);
        };
        Ok(self
            .store
            .portal_scores(&year)
            .await?
            .into_iter()
            .find(|s| s.unit_code == province.code)
            .and_then(|s| s.details.national))
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

    /// Starts the daemon: HTTP endpoints, the cron clock, and the poll,
    /// evaluation, outbox, metrics refresh and reload loops, each with a
    /// heartbeat that the systemd watchdog (when enabled) watches. Returns
    /// once it is listening and has told systemd it is ready; the daemon
    /// then runs until `shutdown` is cancelled.
    pub async fn start(self, shutdown: CancellationToken) -> anyhow::Result<Running> {
        let listener = crate::http::bind(self.settings.http.listen).await?;
        let http_addr = listener.local_addr()?;
        let app = Arc::new(self);
        // This run's row in the database, so that a one-off command can tell
        // that a daemon owns it.
        let run = crate::storage::DaemonRun {
            run_id: format!("{:016x}", rand::random::<u64>()),
            host: hostname::get()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
            pid: i64::from(std::process::id()),
            started_at: app.started_at,
            heartbeat_at: app.started_at,
        };
        app.store.daemon_heartbeat(&run, app.clock.now()).await?;
        let heartbeats = Heartbeats::new(app.settings.watchdog.stall_after);
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
        let state = crate::http::HttpState {
            metrics: app.metrics.clone(),
            readiness: app.readiness.clone(),
        };
        let server = crate::http::serve(listener, state, shutdown.clone());
        tasks.spawn(async move {
            server
                .await
                .map_err(|e| anyhow::anyhow!("HTTP server failed: {e}"))
        });

        let (eval_tx, eval_rx) = wake_channel();
        let (digest_tx, digest_rx) = wake_channel();
        let (alerts_tx, alerts_rx) = wake_channel();
        let (mail_tx, mail_rx) = wake_channel();
        let (reload_tx, reload_rx) = wake_channel();
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
            let hb = heartbeats.register(&format!("poll:{name}"));
            let (app, shutdown, eval_tx) = (app.clone(), shutdown.clone(), eval_tx.clone());
            tasks.spawn(with_heartbeat(Some(hb.clone()), async move {
                // Held by the loop: a channel whose senders are all gone
                // would end it (the schedule holds clones only while it runs).
                let _senders = (tx, full_tx);
                loop {
                    // Idle, beating, until a tick for either kind of poll.
                    let mode = loop {
                        hb.beat();
                        tokio::select! {
                            biased;
                            _ = shutdown.cancelled() => break None,
                            tick = full_rx.recv() => break tick.map(|()| Mode::Full),
                            tick = rx.recv() => break tick.map(|()| Mode::Incremental),
                            _ = tokio::time::sleep(hb.idle_interval()) => {}
                        }
                    };
                    let Some(mode) = mode else { break };
                    let job = if mode == Mode::Full {
                        format!("sync:{name}")
                    } else {
                        format!("poll:{name}")
                    };
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
            }));
        }

        spawn_loop(
            &mut tasks,
            &heartbeats,
            "evaluate",
            eval_rx,
            &shutdown,
            || None,
            {
                let (app, alerts_tx, digest_tx) =
                    (app.clone(), alerts_tx.clone(), digest_tx.clone());
                move || {
                    let (a, alerts_tx, digest_tx) =
                        (app.clone(), alerts_tx.clone(), digest_tx.clone());
                    async move {
                        let m = a.metrics.clone();
                        run_job("evaluate", &m, async move { a.evaluate().await }).await;
                        wake(&alerts_tx);
                        // Whatever digest is due (a catch-up at start-up)
                        // reads the data this cycle has just judged.
                        wake(&digest_tx);
                    }
                }
            },
        );

        // Grouped alerts fall due as time passes (group wait, interval,
        // repeats), so the worker also runs every email.poll_interval; a
        // group wait shorter than that is rounded up to it.
        wake(&alerts_tx);
        spawn_loop(
            &mut tasks,
            &heartbeats,
            "alerts",
            alerts_rx,
            &shutdown,
            {
                let every = app.settings.email.poll_interval;
                move || Some(every)
            },
            {
                let (app, mail_tx) = (app.clone(), mail_tx.clone());
                move || {
                    let (a, mail_tx) = (app.clone(), mail_tx.clone());
                    async move {
                        let m = a.metrics.clone();
                        let r = run_job("alerts", &m, async move { a.group_alerts().await }).await;
                        if r.is_some_and(|r| r != AlertReport::default()) {
                            wake(&mail_tx);
                        }
                    }
                }
            },
        );

        // The outbox is also checked every poll_interval, and once at start.
        wake(&mail_tx);
        spawn_loop(
            &mut tasks,
            &heartbeats,
            "outbox",
            mail_rx,
            &shutdown,
            {
                let every = app.settings.email.poll_interval;
                move || Some(every)
            },
            {
                let (app, shutdown) = (app.clone(), shutdown.clone());
                move || {
                    let (a, s) = (app.clone(), shutdown.clone());
                    async move {
                        let m = a.metrics.clone();
                        run_job("outbox", &m, async move { a.deliver(&s).await }).await;
                    }
                }
            },
        );

        // Between evaluation cycles the database-derived series (and the
        // readiness probe's database check) are refreshed on an interval.
        let (refresh_tx, refresh_rx) = wake_channel();
        wake(&refresh_tx);
        spawn_loop(
            &mut tasks,
            &heartbeats,
            "metrics_refresh",
            refresh_rx,
            &shutdown,
            // Read at each wait, so that a reload of it applies.
            {
                let app = app.clone();
                move || Some(app.live().settings.metrics.refresh_interval)
            },
            {
                let (app, run) = (app.clone(), run.clone());
                move || {
                    let (a, run) = (app.clone(), run.clone());
                    async move {
                        let m = a.metrics.clone();
                        run_job("metrics_refresh", &m, async move {
                            a.refresh_metrics().await?;
                            crate::systemd::status(&a.systemd_status(http_addr));
                            a.store.daemon_heartbeat(&run, a.clock.now()).await?;
                            anyhow::Ok(())
                        })
                        .await;
                    }
                }
            },
        );

        spawn_loop(
            &mut tasks,
            &heartbeats,
            "reload",
            reload_rx,
            &shutdown,
            || None,
            {
                let (app, eval_tx, refresh_tx) = (app.clone(), eval_tx.clone(), refresh_tx.clone());
                move || {
                    let (a, eval_tx, refresh_tx) =
                        (app.clone(), eval_tx.clone(), refresh_tx.clone());
                    async move {
                        let m = a.metrics.clone();
                        let reloaded =
                            run_job("reload", &m, async move { Ok(a.reload_from_file().await) })
                                .await;
                        if reloaded == Some(true) {
                            // Apply the new rules now rather than at the next
                            // tick, and the new refresh interval from now.
                            wake(&eval_tx);
                            wake(&refresh_tx);
                        }
                    }
                }
            },
        );

        // Digests: each kind's schedule wakes one job, and so does every
        // evaluation, so that at start-up the catch-up of what was due while
        // the daemon was down follows the first poll and evaluation. What is
        // due comes from the database, so extra wake-ups cost one read.
        let digest_kinds = app.settings.digests.enabled_kinds();
        for kind in &digest_kinds {
            schedules.push((
                format!("digest:{kind}"),
                app.settings.digests.schedule(*kind).clone(),
                digest_tx.clone(),
            ));
        }
        if app.sources.is_empty() && !digest_kinds.is_empty() {
            // No poll, so no evaluation, will wake it.
            wake(&digest_tx);
        }
        // A digest waiting for a source's data is looked at again every
        // minute, so that it goes out once the wait is over even if no poll
        // completes.
        spawn_loop(
            &mut tasks,
            &heartbeats,
            "digests",
            digest_rx,
            &shutdown,
            {
                let every = (!digest_kinds.is_empty()).then_some(DIGEST_RECHECK);
                move || every
            },
            {
                let (app, mail_tx) = (app.clone(), mail_tx.clone());
                move || {
                    let (a, mail_tx) = (app.clone(), mail_tx.clone());
                    async move {
                        let m = a.metrics.clone();
                        let queued = run_job("digests", &m, async move {
                            crate::digest::run::run_due(&a.context(), a.clock.now()).await
                        })
                        .await;
                        if queued.is_some_and(|q| q.iter().any(|d| d.emails > 0)) {
                            wake(&mail_tx);
                        }
                    }
                }
            },
        );

        let ticker = Ticker::start(schedules).await?;
        app.readiness.set_scheduler_running(true);
        if let Some(timeout) = crate::systemd::watchdog_timeout() {
            tracing::info!(
                timeout_s = timeout.as_secs_f64(),
                stall_after_s = heartbeats.stall_after().as_secs_f64(),
                "systemd watchdog enabled"
            );
            let (hb, s) = (heartbeats.clone(), shutdown.clone());
            tasks.spawn(async move {
                crate::systemd::run_watchdog(hb, timeout, s).await;
                Ok(())
            });
        }
        crate::systemd::ready(&format!("running; metrics on http://{http_addr}/metrics"));
        tracing::info!(
            http = %http_addr,
            sources = app.sources.len(),
            email_transport = app.mailer.transport_name(),
            email_enabled = app.settings.email.enabled,
            "par-monitor running"
        );

        let run_id = run.run_id.clone();
        let supervisor = tokio::spawn(async move {
            // A loop whose channel closes stops; this one has no other sender.
            let _refresh_tx = refresh_tx;
            let _digest_tx = digest_tx;
            shutdown.cancelled().await;
            tracing::info!("shutting down");
            crate::systemd::stopping();
            app.readiness.set_scheduler_running(false);
            ticker.shutdown().await;
            let forget = app.clock.now() - chrono::Duration::days(1);
            if let Err(e) = app.store.daemon_stopped(&run_id, forget).await {
                tracing::warn!(error = %e, "cannot record that this daemon stopped");
            }
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
            reload_tx,
            supervisor,
        })
    }
}

/// Writes the configured units and retires configured units that are no
/// longer listed. Returns how many were retired.
async fn sync_configured_units(
    store: &Store,
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::storage::Result<u64> {
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
    store.upsert_configured_units(&units, now).await?;
    let codes: Vec<_> = units.into_iter().map(|u| u.code).collect();
    store.retire_unconfigured_units(&codes, now).await
}

/// Spawns one daemon loop: wait (beating its heartbeat while idle) for a
/// wake-up on `rx` or for `every` to pass, run `step`, repeat until
/// shutdown. `step` runs its work through [`run_job`], which carries the
/// loop's heartbeat into the job.
fn spawn_loop<E, F, Fut>(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    heartbeats: &Heartbeats,
    name: &str,
    mut rx: mpsc::Receiver<()>,
    shutdown: &CancellationToken,
    every: E,
    step: F,
) where
    E: Fn() -> Option<Duration> + Send + 'static,
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let hb = heartbeats.register(name);
    let shutdown = shutdown.clone();
    tasks.spawn(with_heartbeat(Some(hb.clone()), async move {
        loop {
            if idle(&mut rx, &shutdown, &hb, every()).await == Wake::Stop {
                break;
            }
            step().await;
        }
        Ok(())
    }));
}

/// A running daemon.
#[derive(Debug)]
pub struct Running {
    pub http_addr: SocketAddr,
    /// Where the findings API listens, when enabled.
    pub api_addr: Option<SocketAddr>,
    reload_tx: mpsc::Sender<()>,
    supervisor: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Asks the daemon to reload its configuration (what SIGHUP does).
    /// Requests made while a reload is pending coalesce.
    pub fn reload(&self) {
        wake(&self.reload_tx);
    }

    /// Waits until the daemon has stopped (after its shutdown token fired).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.supervisor.await?
    }
}
