//! Test harness: a database per test (a temp SQLite file, or a fresh
//! PostgreSQL database when `PARMON_TEST_POSTGRES_URL` is set), a simulator
//! on a loopback port, settings pointing at both, and waiting on conditions
//! instead of sleeping.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use par_monitor::app::App;
use par_monitor::config::Settings;
use par_monitor::simulator::{SimConfig, Simulator};
use par_monitor::time::ManualClock;
use sqlx::Connection;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub const POSTGRES_ENV: &str = "PARMON_TEST_POSTGRES_URL";
/// Set by CI: a missing PostgreSQL URL is then a failure, not a skip.
pub const REQUIRE_POSTGRES_ENV: &str = "PARMON_REQUIRE_POSTGRES";

/// The repository root, where `config/` lives.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The simulated present used by in-process tests: Thursday 20 August 2026,
/// 10:00 in Hanoi.
pub fn sim_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 8, 20, 3, 0, 0).unwrap()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database for one test, removed when the test ends (PostgreSQL
/// databases left by a crashed test are swept by `.ci/test`).
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// `None` when the backend is PostgreSQL and no server is configured
    /// (unless CI requires one, in which case this panics).
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                Some(TestDb {
                    url,
                    _dir: Some(dir),
                    pg_admin: None,
                })
            }
            Backend::Postgres => {
                let Ok(admin) = std::env::var(POSTGRES_ENV) else {
                    if std::env::var(REQUIRE_POSTGRES_ENV).is_ok() {
                        panic!("{REQUIRE_POSTGRES_ENV} is set but {POSTGRES_ENV} is not");
                    }
                    eprintln!("skipping: {POSTGRES_ENV} is not set");
                    return None;
                };
                let name = format!(
                    "parmon_t_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    rand::random::<u32>()
                );
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {POSTGRES_ENV}: {e}"));
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let mut url = url::Url::parse(&admin).unwrap();
                url.set_path(&name);
                Some(TestDb {
                    url: url.to_string(),
                    _dir: None,
                    pg_admin: Some((admin, name)),
                })
            }
        }
    }

    /// Drops a PostgreSQL test database (SQLite files go with their folder).
    pub async fn cleanup(self) {
        if let Some((admin, name)) = &self.pg_admin
            && let Ok(mut conn) = sqlx::PgConnection::connect(admin).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}

/// A simulator served on a loopback port until the token is cancelled.
pub struct SimServer {
    pub sim: Simulator,
    pub url: String,
    pub stop: CancellationToken,
}

impl SimServer {
    pub async fn start(cfg: SimConfig) -> SimServer {
        let sim = Simulator::generate(&cfg);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        tokio::spawn(sim.clone().serve(listener, stop.clone()));
        SimServer { sim, url, stop }
    }
}

/// Settings for a test: the given database and simulator, the repository's
/// rules and holidays, the simulator's units, e-mail to `outbox_dir`.
pub fn settings(db_url: &str, sim: &SimServer, outbox_dir: &Path) -> Settings {
    let root = repo_root();
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(format!("PARMON__{k}"), v);
    };
    set("DATABASE__URL", format!("\"{db_url}\""));
    for source in ["PROCEDURES", "DOCUMENTS", "REPORTS", "PORTAL", "UNITS"] {
        set(
            &format!("SOURCES__{source}__BASE_URL"),
            format!("\"{}\"", sim.url),
        );
        set(&format!("SOURCES__{source}__ENABLED"), "true".into());
    }
    set("HTTP__LISTEN", "\"127.0.0.1:0\"".into());
    // Alerts go out at the next grouping run; tests about the timing set
    // their own.
    set("EMAIL__GROUPING__GROUP_WAIT", "\"0s\"".into());
    set("EMAIL__GROUPING__GROUP_INTERVAL", "\"0s\"".into());
    set("EMAIL__FILE_DIR", format!("\"{}\"", outbox_dir.display()));
    set(
        "EMAIL__FROM",
        "\"par-monitor <par-monitor@vpubnd.example>\"".into(),
    );
    set(
        "RULES__FILE",
        format!(
            "\"{}\"",
            root.join("tests/fixtures/on-time.rules.toml").display()
        ),
    );
    set(
        "INDICATORS__HOLIDAYS_FILE",
        format!("\"{}\"", root.join("config/holidays.toml").display()),
    );
    let mut s = Settings::from_toml_str("", "test settings", &env).unwrap();
    s.units = sim
        .sim
        .units()
        .into_iter()
        .map(|u| par_monitor::config::UnitSettings {
            code: u.code,
            name: u.name,
            kind: u.kind,
            parent: u.parent,
            head_email: u.head_email,
        })
        .collect();
    s
}

/// Everything an in-process test needs.
pub struct Ctx {
    pub db: TestDb,
    pub sim: SimServer,
    pub clock: ManualClock,
    /// Keeps the folder the file transport writes to alive for the test.
    pub _outbox: tempfile::TempDir,
    pub settings: Settings,
}

impl Ctx {
    pub async fn new(backend: Backend) -> Option<Ctx> {
        Self::with_simulator(backend, SimConfig::new(7, sim_now())).await
    }

    /// A context whose simulator is generated from `cfg`.
    pub async fn with_simulator(backend: Backend, cfg: SimConfig) -> Option<Ctx> {
        let db = TestDb::new(backend).await?;
        let sim = SimServer::start(cfg).await;
        let outbox = tempfile::tempdir().unwrap();
        let settings = settings(&db.url, &sim, outbox.path());
        Some(Ctx {
            db,
            sim,
            clock: ManualClock::new(sim_now()),
            _outbox: outbox,
            settings,
        })
    }

    pub async fn app(&self) -> App {
        App::build(self.settings.clone(), Arc::new(self.clock.clone()))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn finish(self) {
        self.sim.stop.cancel();
        self.db.cleanup().await;
    }
}

/// Runs one statement straight against a test database, bypassing
/// par-monitor (to prove what the schema itself refuses).
pub async fn raw_execute(url: &str, sql: &str) -> Result<(), String> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    let r = if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query(sql).execute(&mut c).await.map(|_| ())
    } else {
        let mut c = sqlx::PgConnection::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query(sql).execute(&mut c).await.map(|_| ())
    };
    r.map_err(|e| e.to_string())
}

/// Waits until `cond` holds, checking every 25 ms, for at most `limit`.
pub async fn wait_until<F, Fut>(what: &str, limit: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if cond().await {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// `.eml` files in a folder.
pub fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    v.sort();
    v
}

/// Generates one test per backend from one async body taking a `Backend`.
macro_rules! on_both_backends {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($backend: $crate::helpers::Backend) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                body($crate::helpers::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                body($crate::helpers::Backend::Postgres).await
            }
        }
    };
}
pub(crate) use on_both_backends;

/// Runs `promtool check metrics` on an exposition; panics on any problem.
/// `.ci/test` installs promtool (Debian's `prometheus` package).
pub fn promtool_check_metrics(text: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool is installed (apt-get install prometheus; .ci/test does this)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && report.trim().is_empty(),
        "promtool check metrics reported:\n{report}"
    );
}

/// A real SMTP server (Python's aiosmtpd) on a loopback port, storing what
/// it receives in a maildir. `.ci/test` installs aiosmtpd.
pub struct SmtpServer {
    pub port: u16,
    pub maildir: tempfile::TempDir,
    child: std::process::Child,
}

impl SmtpServer {
    pub async fn start_on(port: u16, maildir: tempfile::TempDir) -> SmtpServer {
        let child = std::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect(
                "python3 with aiosmtpd is installed (pip install aiosmtpd; .ci/test does this)",
            );
        wait_until(
            "the SMTP server to accept connections",
            Duration::from_secs(20),
            || async move {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
            },
        )
        .await;
        SmtpServer {
            port,
            maildir,
            child,
        }
    }

    pub async fn start() -> SmtpServer {
        Self::start_on(free_port(), tempfile::tempdir().unwrap()).await
    }

    /// The raw messages received so far.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(rd) = std::fs::read_dir(self.maildir.path().join("mail").join(sub)) {
                for e in rd.flatten() {
                    out.push(std::fs::read(e.path()).unwrap());
                }
            }
        }
        out
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
