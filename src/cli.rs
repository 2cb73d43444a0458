//! The command line. Each subcommand loads what it needs and calls into the
//! library; output for people is in Vietnamese where it shows data, and
//! errors go to standard error.
//!
//! Exit status: 0 success; 1 a runtime failure (database, upstream); 2
//! invalid configuration or usage.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::{App, BuildError, load_rules_and_calendar};
use crate::config::{
    BaseUrl, DEFAULT_CONFIG_PATH, Schedule, Settings, TransportKind, UnitSettings,
};
use crate::notify::compose::percent_vi;
use crate::simulator::{SimConfig, Simulator};
use crate::storage::{FindingRecord, Store};
use crate::time::{SharedClock, SystemClock, format_local, rfc3339_local};

#[derive(Debug, Parser)]
#[command(
    name = "par-monitor",
    version,
    about = "Continuous monitoring of administrative reform (CCHC) and procedure control (TTHC)"
)]
pub struct Cli {
    /// Configuration file.
    #[arg(long, global = true, default_value = DEFAULT_CONFIG_PATH, value_name = "PATH")]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon until SIGTERM or SIGINT.
    Run,
    /// Poll every source once, evaluate, print the active findings and exit.
    Check {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Serve a simulated procedure-handling system over HTTP.
    Simulate {
        #[arg(long, default_value = "127.0.0.1:8089")]
        listen: SocketAddr,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of units in the simulated province.
        #[arg(long, default_value_t = 6)]
        units: usize,
        #[arg(long, default_value_t = 40)]
        dossiers_per_month: u32,
        /// Months of history, the current one included.
        #[arg(long, default_value_t = 2)]
        months: u32,
    },
    /// List each source with its health, freshness, records and quarantine.
    Sources {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Poll now (every enabled source, or one), showing progress.
    Poll {
        /// procedures, documents, reports, portal or units.
        source: Option<String>,
        /// Fetch everything and reconcile deletions instead of only changes.
        #[arg(long)]
        full: bool,
    },
    /// List records kept aside because they could not be mapped.
    Quarantine {
        /// Only this feed, e.g. procedures.dossiers.
        #[arg(long)]
        feed: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Run the simulator and the daemon together on embedded defaults.
    Demo {
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration (and the rules and holiday files it names)
    /// and print the effective settings, secrets redacted.
    Check,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Simulate {
            listen,
            seed,
            units,
            dossiers_per_month,
            months,
        } => {
            crate::telemetry::init("info", crate::config::LogFormat::Text);
            let cfg = SimConfig {
                units,
                dossiers_per_month,
                months,
                ..SimConfig::new(seed, chrono::Utc::now())
            };
            simulate(listen, cfg).await
        }
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            let Some(settings) = load_settings(&cli.config) else {
                return ExitCode::from(2);
            };
            if let Err(e) = load_rules_and_calendar(&settings) {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
            print!("{}", settings.to_redacted_toml());
            ExitCode::SUCCESS
        }
        Command::Migrate => {
            let Some(settings) = load_settings(&cli.config) else {
                return ExitCode::from(2);
            };
            crate::telemetry::init(&settings.log.level, settings.log.format);
            migrate(&settings).await
        }
        Command::Run => {
            let Some(settings) = load_settings(&cli.config) else {
                return ExitCode::from(2);
            };
            crate::telemetry::init(&settings.log.level, settings.log.format);
            run_daemon(settings, None).await
        }
        Command::Check { format } => {
            let Some(settings) = load_settings(&cli.config) else {
                return ExitCode::from(2);
            };
            crate::telemetry::init(&settings.log.level, settings.log.format);
            check(settings, format).await
        }
        Command::Sources { format } => {
            let Some(settings) = load_settings(&cli.config) else {
                return ExitCode::from(2);
            };
            crate::telemetry::init("warn", settings.log.format);
            sources(settings, format).await
        }
        Command::Poll { source, full } => {
            let Some(settings) = load_settings(&cli.config) else {
                return ExitCode::from(2);
            };
            crate::telemetry::init(&settings.log.level, settings.log.format);
            poll(settings, source.as_deref(), full).await
        }
        Command::Quarantine { feed, format } => {
            let Some(settings) = load_settings(&cli.config) else {
                return ExitCode::from(2);
            };
            crate::telemetry::init("warn", settings.log.format);
            quarantine(settings, feed.as_deref(), format).await
        }
        Command::Demo { seed } => {
            let Some(settings) = load_settings(&cli.config) else {
                return ExitCode::from(2);
            };
            crate::telemetry::init(&settings.log.level, settings.log.format);
            demo(settings, seed).await
        }
    }
}

fn load_settings(path: &std::path::Path) -> Option<Settings> {
    match Settings::load(path) {
        Ok(s) => Some(s),
        Err(e) => {
            eprint!("error: {e}");
            None
        }
    }
}

fn clock() -> SharedClock {
    Arc::new(SystemClock)
}

async fn build(settings: Settings) -> Result<App, ExitCode> {
    App::build(settings, clock()).await.map_err(|e| match e {
        BuildError::Invalid(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        BuildError::Runtime(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    })
}

async fn migrate(settings: &Settings) -> ExitCode {
    let result = async {
        let store = Store::connect(&settings.database).await?;
        let applied = store.migrate().await?;
        store.close().await;
        Ok::<_, crate::storage::StorageError>((store.backend(), applied))
    }
    .await;
    match result {
        Ok((backend, applied)) => {
            println!(
                "database {} ({}): {applied} migration(s) applied, schema up to date",
                settings.database.url.redacted(),
                backend.as_str()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves when SIGTERM or SIGINT arrives.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM; only Ctrl-C will stop the daemon");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
    }
}

async fn run_daemon(settings: Settings, extra: Option<CancellationToken>) -> ExitCode {
    let app = match build(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    let shutdown = extra.unwrap_or_default();
    let running = match app.start(shutdown.clone()).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    shutdown_signal().await;
    shutdown.cancel();
    match running.wait().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn check(settings: Settings, format: Format) -> ExitCode {
    let app = match build(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    let never = CancellationToken::new();
    let mut failed = false;
    for (source, result) in app.poll_all(&never).await {
        if let Err(e) = result {
            eprintln!("warning: {source}: {e}");
            failed = true;
        }
    }
    if let Err(e) = app.evaluate().await {
        eprintln!("error: evaluation failed: {e:#}");
        return ExitCode::FAILURE;
    }
    let output = async {
        let findings: Vec<FindingRecord> = app
            .store
            .findings()
            .await?
            .into_iter()
            .filter(|f| f.state.is_active())
            .collect();
        let units = app.store.units().await?;
        Ok::<_, crate::storage::StorageError>((findings, units))
    }
    .await;
    let (findings, units) = match output {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let name_of = |code: &str| {
        units
            .iter()
            .find(|u| u.code.as_str() == code)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    match format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = findings
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "id": f.id,
                        "rule_id": f.rule_id,
                        "unit_code": f.unit_code,
                        "unit_name": name_of(&f.unit_code),
                        "state": f.state,
                        "severity": f.severity,
                        "last_result": f.last_result,
                        "opened_at": rfc3339_local(f.opened_at),
                        "last_evaluated_at": rfc3339_local(f.last_evaluated_at),
                        "evidence": f.last_detail,
                    })
                })
                .collect();
            let doc = serde_json::json!({ "findings": rows });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Text => {
            if findings.is_empty() {
                println!("Không có phát hiện nào đang mở (no active findings).");
            }
            for f in &findings {
                let e = &f.last_detail;
                let value = e["value"]
                    .as_f64()
                    .map(percent_vi)
                    .unwrap_or_else(|| "n/a".into());
                println!(
                    "#{:<4} {:<8} {:<12} {:<9} {} {}  {}: {} ({}/{}), kỳ {}, mở lúc {}",
                    f.id,
                    f.severity.as_str(),
                    f.state.as_str(),
                    f.last_result.as_str(),
                    f.unit_code,
                    name_of(&f.unit_code),
                    f.rule_id,
                    value,
                    e["numerator"],
                    e["denominator"],
                    e["period"].as_str().unwrap_or("?"),
                    format_local(f.opened_at),
                );
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn simulate(listen: SocketAddr, cfg: SimConfig) -> ExitCode {
    let sim = Simulator::generate(&cfg);
    let listener = match TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        url = %format!("http://{}/api/v1/dossiers", listener.local_addr().map(|a| a.to_string()).unwrap_or_default()),
        units = sim.units().len(),
        dossiers = sim.dossiers().len(),
        seed = cfg.seed,
        "simulator serving"
    );
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(sim.serve(listener, shutdown.clone()));
    shutdown_signal().await;
    shutdown.cancel();
    match server.await {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: simulator failed: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: simulator panicked: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The demo: the simulator on an ephemeral loopback port, the daemon polling
/// it every 15 seconds with the simulator's units (and their heads'
/// addresses), e-mail written to `.eml` files.
async fn demo(mut settings: Settings, seed: u64) -> ExitCode {
    let sim = Simulator::generate(&SimConfig::new(seed, chrono::Utc::now()));
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot start the simulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sim_addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // One simulator serves every source, the optional ones included.
    let base = BaseUrl::parse(&format!("http://{sim_addr}/")).expect("loopback URL is valid");
    for (_, source) in settings.sources.all_mut() {
        source.enabled = true;
        source.base_url = base.clone();
    }
    settings.sources.procedures.schedule =
        Schedule::parse("*/15 * * * * *").expect("valid schedule");
    settings.email.transport = TransportKind::File;
    settings.units = sim
        .units()
        .into_iter()
        .map(|u| UnitSettings {
            code: u.code,
            name: u.name,
            kind: u.kind,
            parent: u.parent,
            head_email: u.head_email,
        })
        .collect();
    tracing::info!(
        simulator = %sim_addr,
        units = settings.units.len(),
        dossiers = sim.dossiers().len(),
        database = %settings.database.url.redacted(),
        outbox = %settings.email.file_dir.display(),
        metrics = %format!("http://{}/metrics", settings.http.listen),
        "demo: simulator and daemon starting; Ctrl-C stops both"
    );
    let sim_shutdown = CancellationToken::new();
    let sim_task = tokio::spawn(sim.serve(listener, sim_shutdown.clone()));
    let code = run_daemon(settings, None).await;
    sim_shutdown.cancel();
    let _ = sim_task.await;
    code
}

async fn sources(settings: Settings, format: Format) -> ExitCode {
    let app = match build(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    match crate::status::sources(&app).await {
        Ok(rows) => {
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&rows).unwrap_or_default()
                ),
                Format::Text => print!("{}", crate::status::sources_text(&rows)),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Progress on standard error, at most twice a second.
struct PrintProgress {
    last: std::sync::Mutex<std::time::Instant>,
}

impl crate::ingest::Progress for PrintProgress {
    fn page(
        &self,
        feed: &str,
        pages: u32,
        total_pages: Option<u64>,
        records: u64,
        elapsed: std::time::Duration,
    ) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() < std::time::Duration::from_millis(500)
            && total_pages != Some(u64::from(pages))
        {
            return;
        }
        *last = std::time::Instant::now();
        let of = total_pages.map(|t| format!(" of {t}")).unwrap_or_default();
        let rate = records as f64 / elapsed.as_secs_f64().max(0.001);
        eprintln!("{feed}: page {pages}{of}, {records} records, {rate:.0} records/s");
    }
}

async fn poll(settings: Settings, only: Option<&str>, full: bool) -> ExitCode {
    if let Some(name) = only
        && settings.sources.get(name).is_none()
    {
        eprintln!(
            "error: unknown source `{name}`: expected procedures, documents, reports, portal or units"
        );
        return ExitCode::from(2);
    }
    let app = match build(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    let selected: Vec<_> = app
        .sources
        .iter()
        .filter(|s| only.is_none_or(|n| n == s.name))
        .collect();
    if selected.is_empty() {
        eprintln!("error: {} is not enabled", only.unwrap_or("no source"));
        return ExitCode::from(2);
    }
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stop.cancel();
    });
    let mode = if full {
        crate::ingest::Mode::Full
    } else {
        crate::ingest::Mode::Incremental
    };
    let progress = PrintProgress {
        last: std::sync::Mutex::new(std::time::Instant::now()),
    };
    let mut failed = false;
    for source in selected {
        let started = std::time::Instant::now();
        match app.poll(source, mode, &shutdown, &progress).await {
            Ok(report) => {
                for f in &report.feeds {
                    let fetched = f.counts.inserted + f.counts.updated + f.counts.unchanged;
                    let rate = fetched as f64 / started.elapsed().as_secs_f64().max(0.001);
                    println!(
                        "{}: {} pages, {} new, {} changed, {} unchanged, {} quarantined, {} deleted ({}; {rate:.0} records/s)",
                        f.feed,
                        f.pages,
                        f.counts.inserted,
                        f.counts.updated,
                        f.counts.unchanged,
                        f.rejected,
                        f.deleted,
                        if f.full { "full" } else { "incremental" },
                    );
                }
                println!("{}: {}", report.source, report.health);
            }
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn quarantine(settings: Settings, feed: Option<&str>, format: Format) -> ExitCode {
    let app = match build(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    match app.store.quarantined(feed).await {
        Ok(rows) => {
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&rows).unwrap_or_default()
                ),
                Format::Text => {
                    if rows.is_empty() {
                        println!("No quarantined records.");
                    }
                    for q in rows {
                        println!(
                            "{}  {}  {}: {} (seen {}×, last {})",
                            q.feed,
                            q.record_id.as_deref().unwrap_or("(no id)"),
                            q.field,
                            q.problem,
                            q.times_seen,
                            format_local(q.last_seen_at)
                        );
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
