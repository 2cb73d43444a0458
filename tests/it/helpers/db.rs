//! A database per test: a temp SQLite file, or a fresh PostgreSQL database
//! when `PARMON_TEST_POSTGRES_URL` is set, gone when the test ends, even
//! when it ends in a panic.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

pub const POSTGRES_ENV: &str = "PARMON_TEST_POSTGRES_URL";
/// Set by CI: a missing PostgreSQL URL is then a failure, not a skip.
pub const REQUIRE_POSTGRES_ENV: &str = "PARMON_REQUIRE_POSTGRES";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database for one test, removed when it is dropped: the SQLite file
/// goes with its temp folder, the PostgreSQL database is dropped (also
/// while a failing test unwinds; `.ci/test` still sweeps what a killed
/// run left).
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<PgDatabase>,
}

/// A PostgreSQL test database and the server connection it was made on.
struct PgDatabase {
    admin: String,
    name: String,
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
                    pg: None,
                })
            }
            Backend::Postgres => {
                let admin = postgres_admin_url()?;
                let name = format!(
                    "parmon_t_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    rand::random::<u32>()
                );
                let mut conn = admin_connection(&admin).await;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let mut url = url::Url::parse(&admin).unwrap();
                url.set_path(&name);
                Some(TestDb {
                    url: url.to_string(),
                    _dir: None,
                    pg: Some(PgDatabase { admin, name }),
                })
            }
        }
    }

    /// The PostgreSQL database's name (`None` on SQLite).
    pub fn postgres_name(&self) -> Option<&str> {
        self.pg.as_ref().map(|pg| pg.name.as_str())
    }

    /// Drops a PostgreSQL test database now, without blocking the test's
    /// runtime (SQLite files go with their folder). Dropping the `TestDb`
    /// does the same; this is the polite way at the end of a test.
    pub async fn cleanup(mut self) {
        if let Some(pg) = self.pg.take() {
            pg.drop_database().await;
        }
    }
}

impl Drop for TestDb {
    /// Runs while a panicking test unwinds, usually on a thread of the
    /// test's own runtime, where blocking on that runtime is refused: so
    /// the database is dropped on a thread of its own with a small runtime
    /// of its own. Nothing here may panic (a panic while unwinding aborts
    /// the whole test binary).
    fn drop(&mut self) {
        let Some(pg) = self.pg.take() else { return };
        let dropper = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(pg.drop_database());
        });
        let _ = dropper.join();
    }
}

impl PgDatabase {
    /// `WITH (FORCE)` ends the connections the test's pools still hold.
    /// Errors are ignored: a database that cannot be dropped now is swept
    /// by `.ci/test`.
    async fn drop_database(self) {
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.admin).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(&mut conn)
            .await;
            let _ = conn.close().await;
        }
    }
}

/// The PostgreSQL server tests make their databases on: `None`, with a
/// note, when none is configured; a panic when CI requires one.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var(POSTGRES_ENV) {
        Ok(admin) => Some(admin),
        Err(_) if std::env::var(REQUIRE_POSTGRES_ENV).is_ok() => {
            panic!("{REQUIRE_POSTGRES_ENV} is set but {POSTGRES_ENV} is not")
        }
        Err(_) => {
            eprintln!("skipping: {POSTGRES_ENV} is not set");
            None
        }
    }
}

/// A connection to the server named by `POSTGRES_ENV`, for making and
/// inspecting test databases.
pub async fn admin_connection(admin: &str) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(admin)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {POSTGRES_ENV}: {e}"))
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

/// One integer a query over a test database returns, read straight from
/// the database (to see what par-monitor stored, or did not).
pub async fn raw_scalar(url: &str, sql: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    let r = if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await
    };
    r.unwrap_or_else(|e| panic!("{e}"))
}
