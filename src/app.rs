//! Start-up, the daemon's run loops, and live reload.
//!
//! [`App::build`] turns settings into live parts (database, rules, calendar,
//! upstreams, mailer) and fails fast on anything invalid. [`App::start`]
//! (in `start`) runs the daemon until the shutdown token is cancelled, one
//! loop per job (in `loops`); tests call the same functions as `main`, and
//! can run single steps ([`App::poll_all`], [`App::evaluate`],
//! [`App::deliver`], in `steps`; [`App::refresh_metrics`], in `refresh`;
//! [`App::reload`], in `reload`) on demand instead of waiting for the clock.
//!
//! What a reload can change lives in the [`Live`] configuration (rules,
//! calendar, templates and the settings of [`crate::config::Reloadable`]),
//! which is swapped whole; each cycle works on the one it loaded at its
//! start. The rest of the settings is fixed at start-up.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::calendar::HolidayConfig;
use crate::config::Settings;
use crate::domain::Unit;
use crate::health::Readiness;
use crate::jobs::wake;
use crate::live::{Context, Live, LiveHandle};
use crate::metrics::Metrics;
use crate::notify::{Composer, Mailer};
use crate::rules::RuleSet;
use crate::storage::Store;
use crate::time::SharedClock;
use crate::upstream::{Source, build_sources};

mod loops;
mod refresh;
mod reload;
mod start;
mod steps;

pub use reload::ReloadReport;

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
    live: LiveHandle,
    pub mailer: Mailer,
    pub sources: Vec<Source>,
    pub readiness: Arc<Readiness>,
    /// The file a reload reads (set by the CLI).
    config_path: Option<PathBuf>,
    /// The local day the holiday calendar's coverage was last warned of:
    /// once at start-up and once a day.
    calendar_warned_on: std::sync::Mutex<Option<chrono::NaiveDate>>,
    /// What the metrics' province series were last read from.
    shown: tokio::sync::Mutex<Option<refresh::Shown>>,
    /// What the evaluation loop last judged, under the configuration it
    /// judged with (kept, so that its address stays its own).
    judged: tokio::sync::Mutex<Option<(crate::evaluate::due::Judged, Arc<Live>)>>,
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
            live: LiveHandle::new(Live {
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
            shown: tokio::sync::Mutex::new(None),
            judged: tokio::sync::Mutex::new(None),
        })
    }

    /// The rules, calendar, templates and settings in force now. A caller
    /// keeps the one it got for the whole of its work.
    pub fn live(&self) -> Arc<Live> {
        self.live.load()
    }

    /// The live configuration as a handle that follows reloads, for the
    /// servers that read it per request.
    pub fn live_handle(&self) -> LiveHandle {
        self.live.clone()
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

    /// Replaces the mailer (tests use an in-memory one).
    pub fn with_mailer(mut self, mailer: Mailer) -> App {
        self.mailer = mailer;
        self
    }
}

/// Writes the configured units and retires configured units that are no
/// longer listed. Returns how many were retired.
async fn sync_configured_units(
    store: &Store,
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::storage::Result<u64> {
    let units: Vec<Unit> = settings.units.iter().map(Unit::from).collect();
    store.upsert_configured_units(&units, now).await?;
    let codes: Vec<_> = units.into_iter().map(|u| u.code).collect();
    store.retire_unconfigured_units(&codes, now).await
}

/// A running daemon.
#[derive(Debug)]
pub struct Running {
    pub http_addr: SocketAddr,
    /// Where the findings API listens, when enabled.
    pub api_addr: Option<SocketAddr>,
    /// Where the console listens, when enabled.
    pub web_addr: Option<SocketAddr>,
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
