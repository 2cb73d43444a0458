//! Everything an in-process test needs: a database, a simulator, a manual
//! clock and settings pointing at them, and the `App` built from those.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use par_monitor::app::App;
use par_monitor::config::{Settings, SmtpTls, TransportKind};
use par_monitor::notify::Mailer;
use par_monitor::simulator::SimConfig;
use par_monitor::time::ManualClock;

use super::{Backend, SimServer, TestDb, repo_root, sim_now};

/// Spelled once, as a macro, so that both constants below are literals.
macro_rules! sender_address {
    () => {
        "par-monitor@vpubnd.example"
    };
}

/// The address test e-mail comes from.
pub const SENDER_ADDRESS: &str = sender_address!();
/// The sender as the settings give it: a name and the address.
pub const SENDER: &str = concat!("par-monitor <", sender_address!(), ">");

/// The raw messages a memory mailer has sent, oldest first.
pub type Sink = Arc<Mutex<Vec<Vec<u8>>>>;

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
    set("EMAIL__FROM", format!("\"{SENDER}\""));
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
        .map(par_monitor::config::UnitSettings::from)
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

    /// The app with e-mail kept in memory: what it sends lands in the sink.
    pub async fn app_with_sink(&self) -> (App, Sink) {
        let (mailer, sink) = Mailer::memory(SENDER);
        (self.app().await.with_mailer(mailer), sink)
    }

    /// Sends e-mail over plain SMTP to a server on a loopback `port`.
    pub fn mail_through_smtp(&mut self, port: u16) {
        let e = &mut self.settings.email;
        e.transport = TransportKind::Smtp;
        e.smtp.host = Some("127.0.0.1".into());
        e.smtp.port = Some(port);
        e.smtp.tls = SmtpTls::None;
    }

    pub async fn finish(self) {
        self.sim.stop.cancel();
        self.db.cleanup().await;
    }
}
