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
use crate::simulator::{Endpoint, Fault, SimConfig, Simulator};
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
    /// Serve a simulated province's upstream systems over HTTP (dossiers,
    /// petitions, documents, reports, 766 scores, the unit directory).
    Simulate {
        #[arg(long, default_value = "127.0.0.1:8089")]
        listen: SocketAddr,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of units in the simulated province (the first six are fixed).
        #[arg(long, default_value_t = 6)]
        units: usize,
        /// Dossiers each unit receives in a month.
        #[arg(long, default_value_t = 40)]
        dossiers_per_month: u32,
        /// Petitions each unit receives in an average month.
        #[arg(long, default_value_t = 3)]
        petitions_per_month: u32,
        /// Documents each unit registers in a month.
        #[arg(long, default_value_t = 20)]
        documents_per_month: u32,
        /// Months of history, the current one included (a year is 12).
        #[arg(long, default_value_t = 12)]
        months: u32,
        /// The simulated present, e.g. 2026-08-20T10:00:00+07:00; default the
        /// system clock. With a fixed seed and present the data is the same
        /// on every run.
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::Utc>>,
        /// Inject a fault, e.g. `status,endpoint=dossiers,status=503,count=2`,
        /// `latency,millis=200` or `bad_records,endpoint=dossiers,every=50,defect=missing_field`
        /// (or the JSON form of `POST /_sim/faults`). Repeatable.
        #[arg(long = "fault", value_name = "SPEC")]
        faults: Vec<Fault>,
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
            petitions_per_month,
            documents_per_month,
            months,
            now,
            faults,
        } => {
            crate::telemetry::init("info", crate::config::LogFormat::Text);
            let cfg = SimConfig {
                units,
                dossiers_per_month,
                petitions_per_month,
                documents_per_month,
                months,
                ..SimConfig::new(seed, now.unwrap_or_else(chrono::Utc::now))
            };
            simulate(listen, cfg, faults).await
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

async fn simulate(listen: SocketAddr, cfg: SimConfig, faults: Vec<Fault>) -> ExitCode {
    let started = std::time::Instant::now();
    let sim = Simulator::generate(&cfg);
    let generated_in = started.elapsed();
    if let Err(e) = sim.add_faults(faults) {
        eprintln!("error: --fault: {e}");
        return ExitCode::from(2);
    }
    let listener = match TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let truth = sim.truth();
    let total = |e: Endpoint| truth.totals.get(&e).map_or(0, |c| c.served());
    tracing::info!(
        url = %format!("http://{}/", listener.local_addr().map(|a| a.to_string()).unwrap_or_default()),
        units = total(Endpoint::Units),
        dossiers = total(Endpoint::Dossiers),
        petitions = total(Endpoint::Petitions),
        documents = total(Endpoint::Documents),
        reports = total(Endpoint::Reports),
        scores = total(Endpoint::Scores766),
        seed = cfg.seed,
        now = %rfc3339_local(sim.now()),
        generated_ms = generated_in.as_millis() as u64,
        faults = sim.active_faults().len(),
        "simulator serving /api/v1/{{dossiers,petitions,documents,reports,scores766,units}}, /alt/v2/ho-so and /_sim/{{truth,requests,faults}}"
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
    let p = &mut settings.sources.procedures;
    p.enabled = true;
    p.base_url = BaseUrl::parse(&format!("http://{sim_addr}/")).expect("loopback URL is valid");
    p.schedule = Schedule::parse("*/15 * * * * *").expect("valid schedule");
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
