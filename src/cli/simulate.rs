//! The simulated province: `simulate` serves its upstream systems, `demo`
//! runs them and the daemon together.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::anyhow;
use clap::Args;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::{BaseUrl, Schedule, Settings, TransportKind, UnitSettings};
use crate::simulator::{Endpoint, Fault, SimConfig, Simulator};
use crate::time::{SharedClock, rfc3339_local};

use super::daemon::{run_at, shutdown_signal};
use super::error::{CliError, CliResult};
use super::load::clock;

#[derive(Debug, Args)]
pub struct SimulateArgs {
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
}

/// `par-monitor simulate`: serves until SIGTERM or SIGINT.
pub async fn simulate(args: SimulateArgs) -> CliResult {
    crate::telemetry::init("info", crate::config::LogFormat::Text, &Default::default());
    let cfg = SimConfig {
        units: args.units,
        dossiers_per_month: args.dossiers_per_month,
        petitions_per_month: args.petitions_per_month,
        documents_per_month: args.documents_per_month,
        months: args.months,
        ..SimConfig::new(args.seed, args.now.unwrap_or_else(chrono::Utc::now))
    };
    let started = std::time::Instant::now();
    let sim = Simulator::generate(&cfg);
    let generated_in = started.elapsed();
    sim.add_faults(args.faults)
        .map_err(|e| CliError::usage(format!("--fault: {e}")))?;
    let listen = args.listen;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| CliError::failure(anyhow!("cannot listen on {listen}: {e}")))?;
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
        root_department_id = %sim.root_department_id(),
        "simulator serving /api/v1/{{dossiers,petitions,documents,reports,scores766,units}}, /alt/v2/ho-so, POST /api/v1/reporting/evaluation/{{endpoint}} and /_sim/{{truth,requests,faults}}"
    );
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(sim.serve(listener, shutdown.clone()));
    shutdown_signal().await;
    shutdown.cancel();
    match server.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(CliError::failure(anyhow!("simulator failed: {e}"))),
        Err(e) => Err(CliError::failure(anyhow!("simulator panicked: {e}"))),
    }
}

/// Months of history the demo's simulator has, the current one included:
/// enough for 30-day windows and their trends on any day of the month.
const DEMO_MONTHS: u32 = 3;

/// Where the demo writes the configuration it runs with, for the commands
/// people run beside it.
const DEMO_CONFIG: &str = "data/demo.toml";

/// The demo: the simulator on an ephemeral loopback port, the daemon polling
/// it every 15 seconds with the simulator's units (and their heads'
/// addresses), e-mail written to `.eml` files. The configuration it runs
/// with is written to `data/demo.toml`, so that the commands run beside it
/// see its world (`--config data/demo.toml`).
pub async fn demo(
    mut settings: Settings,
    seed: u64,
    now: Option<chrono::DateTime<chrono::Utc>>,
) -> CliResult {
    let clock: SharedClock = match now {
        Some(start) => Arc::new(crate::time::OffsetClock::starting_at(start)),
        None => clock(),
    };
    let sim = Simulator::generate(&SimConfig {
        months: DEMO_MONTHS,
        ..SimConfig::new(seed, clock.now())
    });
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| CliError::failure(anyhow!("cannot start the simulator: {e}")))?;
    let sim_addr = listener.local_addr().map_err(CliError::failure)?;
    point_at_simulator(&mut settings, &sim, sim_addr);
    settings.web.enabled = true;
    write_demo_config(&settings)?;
    let accounts = demo_accounts(&settings, clock.now()).await?;
    tracing::info!(
        simulator = %sim_addr,
        units = settings.units.len(),
        dossiers = sim.dossiers().len(),
        now = %crate::time::rfc3339_local(clock.now()),
        database = %settings.database.url.redacted(),
        outbox = %settings.email.file_dir.display(),
        metrics = %format!("http://{}/metrics", settings.http.listen),
        config = DEMO_CONFIG,
        "demo: simulator and daemon starting; Ctrl-C stops both"
    );
    tracing::info!(
        "demo: in a second terminal, in this folder: par-monitor --config {DEMO_CONFIG} findings list | indicators --unit H44.100 | digest preview --kind monthly --unit H44.100 | sources | check"
    );
    tracing::info!(
        "demo: the console is at {} ; log in as {accounts}, password {DEMO_PASSWORD}",
        settings.web.base_url()
    );
    let sim_shutdown = CancellationToken::new();
    let sim_task = tokio::spawn(sim.serve(listener, sim_shutdown.clone()));
    let ran = run_at(settings, None, clock).await;
    sim_shutdown.cancel();
    let _ = sim_task.await;
    ran
}

/// The demo accounts' password: the demo's own, printed for people to log
/// in with, never used outside the demo's database.
const DEMO_PASSWORD: &str = "demo-cchc-2026";

/// The console's demo accounts, one per role (the unit head heads the first
/// unit after the province), created unless they exist. Returns how to name
/// them to people.
async fn demo_accounts(
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, CliError> {
    use crate::domain::{Language, Role};
    use crate::web::auth::{AccountError, NewAccount, create_user};
    let store = super::load::open_store(settings).await?;
    let units: Vec<_> = settings.units.iter().map(|u| u.code.clone()).collect();
    let head_of = units.get(1).or(units.first()).cloned();
    let accounts = [
        ("doankiemtra", Role::Inspection, None),
        ("lanhdao", Role::Leadership, None),
        ("truongdonvi", Role::UnitHead, head_of.clone()),
    ];
    for (name, role, unit) in accounts {
        let account = NewAccount {
            name: name.into(),
            role,
            unit,
            language: Language::Vi,
        };
        match create_user(&store, &account, DEMO_PASSWORD, &units, now).await {
            Ok(()) | Err(AccountError::Exists(_)) => {}
            Err(e) => return Err(CliError::failure(anyhow!("demo account {name}: {e}"))),
        }
    }
    store.close().await;
    let head = head_of.map_or(String::new(), |u| format!(" (head of {u})"));
    Ok(format!(
        "doankiemtra (inspection team), lanhdao (leadership) or truongdonvi{head}"
    ))
}

/// Every source, the optional ones included, polls the simulator (the
/// portal as the real one speaks: its public evaluation API), procedures
/// every 15 seconds; the units are the simulator's; e-mail goes to files.
fn point_at_simulator(settings: &mut Settings, sim: &Simulator, sim_addr: SocketAddr) {
    let base = BaseUrl::parse(&format!("http://{sim_addr}/")).expect("loopback URL is valid");
    for (_, source) in settings.sources.all_mut() {
        source.enabled = true;
        source.base_url = base.clone();
    }
    settings.sources.portal.protocol = crate::config::Protocol::DvcqgEvaluation;
    settings.sources.portal.root_department_id = Some(sim.root_department_id());
    settings.sources.procedures.schedule =
        Schedule::parse("*/15 * * * * *").expect("valid schedule");
    settings.email.transport = TransportKind::File;
    settings.units = sim.units().into_iter().map(UnitSettings::from).collect();
}

/// Writes the configuration the demo runs with (secrets redacted) to
/// `DEMO_CONFIG`.
fn write_demo_config(settings: &Settings) -> CliResult {
    let config = PathBuf::from(DEMO_CONFIG);
    config
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            std::fs::write(
                &config,
                format!(
                    "# The configuration `par-monitor demo` runs with (secrets are not written).\n\
                     # Use it for the commands run beside the demo, from this folder:\n\
                     #   par-monitor --config {DEMO_CONFIG} findings list\n\n{}",
                    settings.to_redacted_toml()
                ),
            )
        })
        .map_err(|e| CliError::failure(anyhow!("cannot write {DEMO_CONFIG}: {e}")))
}
