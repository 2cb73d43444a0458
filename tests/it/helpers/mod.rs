//! Test harness: a database per test (a temp SQLite file, or a fresh
//! PostgreSQL database when `PARMON_TEST_POSTGRES_URL` is set), a simulator
//! on a loopback port, settings pointing at both, the daemon's steps run on
//! demand, and waiting on conditions instead of sleeping.

mod browser;
mod ctx;
mod db;
mod sim;
mod steps;
mod tools;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

pub use browser::Browser;
pub use ctx::{Ctx, SENDER, SENDER_ADDRESS};
pub use db::{Backend, TestDb, admin_connection, postgres_admin_url, raw_execute, raw_scalar};
pub use sim::{Finish, SimServer};
pub use steps::{Cycle, cycle, poll_all_ok, poll_and_evaluate, send_alerts, source_health};
pub use tools::{SmtpServer, promtool_check_metrics};

/// The repository root, where `config/` lives.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The simulated present used by in-process tests: Thursday 20 August 2026,
/// 10:00 in Hanoi.
pub fn sim_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 8, 20, 3, 0, 0).unwrap()
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

/// Waits until something accepts connections on a loopback `port` (a
/// server process just spawned), for at most 20 seconds.
pub async fn wait_for_listener(what: &str, port: u16) {
    wait_until(
        &format!("{what} to accept connections"),
        Duration::from_secs(20),
        || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        },
    )
    .await;
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

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
