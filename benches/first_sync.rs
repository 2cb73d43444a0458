//! First-sync throughput: dossiers per second from the simulator into
//! SQLite (and PostgreSQL when `PARMON_TEST_POSTGRES_URL` is set), and the
//! syncing process's peak memory.
//!
//! ```sh
//! cargo bench --bench first_sync                       # ~100k and ~1M dossiers
//! cargo bench --bench first_sync -- --units 2000 --dossiers-per-month 42
//! ```
//!
//! The simulator runs as its own process (`par-monitor simulate`), so that
//! the memory measured is the syncing side's alone; each backend is synced
//! by a fresh child process of this benchmark, which reports its peak RSS
//! (VmHWM). Under `cargo test` (no `--bench` argument) it runs a small
//! smoke version so that the benchmark keeps compiling and working.
//!
//! After each backend's sync, in the same run, the database's own bulk
//! loader loads the same rows (the dossiers just stored, exported) into a
//! table of the dossiers' columns with a text primary key and a
//! (unit, received) index, in one transaction: `sqlite3 .import` (WAL,
//! synchronous=NORMAL, as the store opens SQLite) and `psql \copy`. That
//! is the ceiling; the `ceiling` line prints its rows/s and the ratio of
//! par-monitor's dossiers/s to it. Without the `sqlite3` or `psql` client
//! the line says so instead.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use par_monitor::app::App;
use par_monitor::config::Settings;
use par_monitor::ingest::{Mode, Progress};
use par_monitor::time::SystemClock;
use sqlx::Connection;
use tokio_util::sync::CancellationToken;

/// The daemon's allocator (see `src/main.rs`), so the child syncs as the
/// daemon does.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const BIN: &str = env!("CARGO_BIN_EXE_par-monitor");

struct Quiet;

impl Progress for Quiet {
    fn page(&self, _: &str, _: u32, _: Option<u64>, _: u64, _: Duration) {}
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The child: syncs the procedures source once into `db` and prints one
/// JSON line with what it measured.
async fn sync_once(db: &str, sim: &str) {
    let mut env = BTreeMap::new();
    env.insert("PARMON__DATABASE__URL".to_owned(), format!("\"{db}\""));
    env.insert(
        "PARMON__SOURCES__PROCEDURES__BASE_URL".to_owned(),
        format!("\"{sim}\""),
    );
    env.insert(
        "PARMON__SOURCES__PROCEDURES__PAGE_SIZE".to_owned(),
        "2000".to_owned(),
    );
    for off in ["DOCUMENTS", "REPORTS", "PORTAL", "UNITS"] {
        env.insert(
            format!("PARMON__SOURCES__{off}__ENABLED"),
            "false".to_owned(),
        );
    }
    let root = env!("CARGO_MANIFEST_DIR");
    env.insert(
        "PARMON__RULES__FILE".to_owned(),
        format!("\"{root}/config/rules.toml\""),
    );
    env.insert(
        "PARMON__INDICATORS__HOLIDAYS_FILE".to_owned(),
        format!("\"{root}/config/holidays.toml\""),
    );
    let settings = Settings::from_toml_str("", "bench", &env).expect("bench settings");
    let app = App::build(settings, Arc::new(SystemClock))
        .await
        .expect("app builds");
    let source = app
        .sources
        .iter()
        .find(|s| s.name == "procedures")
        .expect("procedures source");
    let started = Instant::now();
    let report = app
        .poll(source, Mode::Full, &CancellationToken::new(), &Quiet)
        .await
        .expect("sync succeeds");
    let elapsed = started.elapsed().as_secs_f64();
    let dossiers = report
        .feed("procedures.dossiers")
        .map_or(0, |f| f.counts.inserted);
    let all = report.counts().inserted;
    println!(
        "{}",
        serde_json::json!({
            "dossiers": dossiers,
            "records": all,
            "seconds": elapsed,
            "dossiers_per_second": dossiers as f64 / elapsed,
            "peak_rss_mb": peak_rss_mb(),
        })
    );
}

struct Simulator {
    child: std::process::Child,
    url: String,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_simulator(units: u32, per_month: u32, months: u32) -> Simulator {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(BIN)
        .args([
            "simulate",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--seed",
            "1",
        ])
        .args([
            "--units",
            &units.to_string(),
            "--dossiers-per-month",
            &per_month.to_string(),
        ])
        .args(["--months", &months.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("simulator starts");
    // The simulator logs once it serves, after generating its data.
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    for line in lines.by_ref() {
        if line.map(|l| l.contains("serving")).unwrap_or(false) {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Simulator {
        child,
        url: format!("http://127.0.0.1:{port}/"),
    }
}

fn run_child(db: &str, sim: &str) -> serde_json::Value {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--sync-child", db, sim])
        .stderr(Stdio::inherit())
        .output()
        .expect("child runs");
    assert!(out.status.success(), "sync child failed");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or("{}")).expect("child reports JSON")
}

async fn postgres_db(admin: &str, name: &str) -> String {
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .expect("PostgreSQL reachable");
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create database");
    let mut url = url::Url::parse(admin).unwrap();
    url.set_path(name);
    url.to_string()
}

/// Runs a client command, `None` if it is not installed or fails (its
/// error shown).
fn client(cmd: &mut Command) -> Option<std::process::Output> {
    match cmd.output() {
        Ok(out) if out.status.success() => Some(out),
        Ok(out) => {
            eprintln!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
            None
        }
        Err(_) => None,
    }
}

/// The ceiling table's DDL: the dossiers' columns (each "name type"), a
/// text primary key and the (unit, received) index.
fn ceiling_ddl(columns: &[String]) -> String {
    let cols: Vec<String> = columns
        .iter()
        .map(|c| {
            if c.split(' ').next() == Some("code") {
                "code TEXT PRIMARY KEY".to_owned()
            } else {
                c.clone()
            }
        })
        .collect();
    format!(
        "CREATE TABLE ceiling ({}); CREATE INDEX ceiling_unit_received ON ceiling (unit_code, received_at);",
        cols.join(", ")
    )
}

/// `sqlite3 .import` of the dossiers stored in `db`, in rows/s.
fn sqlite_ceiling(db: &Path, dir: &Path) -> Option<f64> {
    let csv = dir.join("dossiers.csv");
    let columns = client(
        Command::new("sqlite3")
            .arg(db)
            .arg("SELECT name || ' ' || type FROM pragma_table_info('dossiers') ORDER BY cid"),
    )?;
    let columns: Vec<String> = String::from_utf8_lossy(&columns.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    let export = std::fs::File::create(&csv).ok()?;
    client(
        Command::new("sqlite3")
            .args(["-csv"])
            .arg(db)
            .arg("SELECT * FROM dossiers")
            .stdout(export),
    )?;
    let target = dir.join("ceiling.db");
    client(Command::new("sqlite3").arg(&target).arg(format!(
        "PRAGMA journal_mode=WAL; {}",
        ceiling_ddl(&columns)
    )))?;
    let started = Instant::now();
    client(
        Command::new("sqlite3")
            .arg(&target)
            .arg("PRAGMA synchronous=NORMAL")
            .arg(format!(".import --csv {} ceiling", csv.display())),
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let rows = client(
        Command::new("sqlite3")
            .arg(&target)
            .arg("SELECT COUNT(*) FROM ceiling"),
    )?;
    let rows: f64 = String::from_utf8_lossy(&rows.stdout).trim().parse().ok()?;
    Some(rows / seconds)
}

/// `psql \copy` of the dossiers stored in the database at `url`, into a
/// ceiling table of the same database, in rows/s.
fn postgres_ceiling(url: &str, dir: &Path) -> Option<f64> {
    let file = dir.join("dossiers.copy");
    let psql = |sql: &str| {
        client(
            Command::new("psql")
                .args([
                    "-X",
                    "-q",
                    "-t",
                    "-A",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-1",
                    "-d",
                    url,
                    "-c",
                ])
                .arg(sql),
        )
    };
    let columns = psql(
        "SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_name = 'dossiers' ORDER BY ordinal_position",
    )?;
    let columns: Vec<String> = String::from_utf8_lossy(&columns.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    psql(&format!("\\copy dossiers TO '{}'", file.display()))?;
    psql(&format!(
        "DROP TABLE IF EXISTS ceiling; {}",
        ceiling_ddl(&columns)
    ))?;
    let started = Instant::now();
    psql(&format!("\\copy ceiling FROM '{}'", file.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let rows = psql("SELECT COUNT(*) FROM ceiling")?;
    let rows: f64 = String::from_utf8_lossy(&rows.stdout).trim().parse().ok()?;
    Some(rows / seconds)
}

fn print_ceiling(backend: &str, loader: &str, ours: f64, ceiling: Option<f64>) {
    match ceiling {
        Some(c) => println!(
            "ceiling   {backend:<8} {loader:<16} {c:>8.0} rows/s  ratio {:.2}",
            ours / c
        ),
        None => {
            println!("ceiling   {backend:<8} {loader:<16} not measured (client missing or failed)")
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--sync-child") {
        sync_once(&args[i + 1], &args[i + 2]).await;
        return;
    }
    let full = args.iter().any(|a| a == "--bench");
    let sizes: Vec<(u32, u32)> = match (arg(&args, "--units"), arg(&args, "--dossiers-per-month")) {
        (Some(u), Some(d)) => vec![(u.parse().unwrap(), d.parse().unwrap())],
        _ if full => vec![(200, 42), (2000, 42)],
        _ => vec![(10, 10)],
    };
    let months = 12;
    println!(
        "first sync, simulator → par-monitor (release: {})",
        !cfg!(debug_assertions)
    );
    for (units, per_month) in sizes {
        let sim = start_simulator(units, per_month, months);
        let dir = tempfile::tempdir().unwrap();
        let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
        let r = run_child(&sqlite, &sim.url);
        println!(
            "sqlite    {:>5} units  {:>8} dossiers  {:>6.1} s  {:>8.0} dossiers/s  peak RSS {:>6.1} MB",
            units,
            r["dossiers"],
            r["seconds"].as_f64().unwrap_or(0.0),
            r["dossiers_per_second"].as_f64().unwrap_or(0.0),
            r["peak_rss_mb"].as_f64().unwrap_or(0.0)
        );
        print_ceiling(
            "sqlite",
            "sqlite3 .import",
            r["dossiers_per_second"].as_f64().unwrap_or(0.0),
            sqlite_ceiling(&dir.path().join("bench.db"), dir.path()),
        );
        if let Ok(admin) = std::env::var("PARMON_TEST_POSTGRES_URL") {
            let db = postgres_db(&admin, "parmon_bench_first_sync").await;
            let r = run_child(&db, &sim.url);
            println!(
                "postgres  {:>5} units  {:>8} dossiers  {:>6.1} s  {:>8.0} dossiers/s  peak RSS {:>6.1} MB",
                units,
                r["dossiers"],
                r["seconds"].as_f64().unwrap_or(0.0),
                r["dossiers_per_second"].as_f64().unwrap_or(0.0),
                r["peak_rss_mb"].as_f64().unwrap_or(0.0)
            );
            print_ceiling(
                "postgres",
                "psql \\copy",
                r["dossiers_per_second"].as_f64().unwrap_or(0.0),
                postgres_ceiling(&db, dir.path()),
            );
        }
    }
}
