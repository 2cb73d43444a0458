//! The real binary as an operator runs it: exit codes, signals, crashes,
//! the demo, and what `/metrics` serves.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use par_monitor::config::Settings;
use par_monitor::simulator::SimConfig;
use par_monitor::storage::Store;

use crate::helpers::{
    Backend, SENDER, SimServer, TestDb, eml_files, on_both_backends, repo_root, wait_until,
};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_par-monitor");

/// A child process whose standard error is collected line by line.
pub(crate) struct Proc {
    pub(crate) child: Child,
    pub(crate) lines: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    pub(crate) fn spawn(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Proc {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(cwd)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("binary starts");
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Proc { child, lines }
    }

    pub(crate) fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// The first log line containing `needle`; panics after a minute with
    /// what the process did say, so that a failure shows where it stopped.
    pub(crate) async fn wait_for_log(&self, needle: &str) -> String {
        let limit = Duration::from_secs(60);
        let started = Instant::now();
        while !self
            .lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(needle))
        {
            assert!(
                started.elapsed() < limit,
                "timed out after {limit:?} waiting for a log line containing {needle:?}; log so far:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.lines
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains(needle))
            .cloned()
            .unwrap()
    }

    /// The address of `/metrics`, from the start-up log line.
    pub(crate) async fn http_addr(&self) -> String {
        let line = self.wait_for_log("par-monitor running").await;
        let start = line.find("http=").expect("log names the address") + 5;
        line[start..].split_whitespace().next().unwrap().to_owned()
    }

    pub(crate) fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }

    /// Waits for exit; panics after `limit`.
    pub(crate) async fn exit_within(&mut self, limit: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!("did not exit within {limit:?}; log:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary to completion and returns (status, stdout, stderr).
pub(crate) fn run_to_end(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .output()
        .expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `par-monitor config check` on the file at `path`, in `cwd`.
pub(crate) fn config_check(path: &Path, cwd: &Path) -> (i32, String, String) {
    run_to_end(
        &["config", "check", "--config", path.to_str().unwrap()],
        cwd,
    )
}

/// Writes `content` as `file_name` in a folder of its own and runs
/// `par-monitor config check` on it.
pub(crate) fn config_check_text(file_name: &str, content: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file_name);
    std::fs::write(&path, content).unwrap();
    config_check(&path, dir.path())
}

/// The `[rules]` and `[indicators]` sections of a configuration that names
/// the repository's rules and holidays.
pub(crate) fn shipped_rules_and_holidays() -> String {
    let root = repo_root();
    format!(
        "[rules]\nfile = \"{}\"\n[indicators]\nholidays_file = \"{}\"\n",
        root.join("config/rules.toml").display(),
        root.join("config/holidays.toml").display()
    )
}

/// Writes a configuration file for the binary: the test database, the
/// simulator with its units, e-mail files in `outbox`, an ephemeral port.
pub(crate) fn write_config(
    dir: &Path,
    db_url: &str,
    sim: &SimServer,
    outbox: &Path,
    extra: &str,
) -> PathBuf {
    let root = repo_root();
    let mut text = format!(
        "[database]\nurl = \"{db_url}\"\n\
         [http]\nlisten = \"127.0.0.1:0\"\n\
         [sources.procedures]\nbase_url = \"{sim}\"\n\
         [sources.documents]\nbase_url = \"{sim}\"\n\
         [sources.reports]\nbase_url = \"{sim}\"\n\
         [sources.portal]\nbase_url = \"{sim}\"\n\
         [sources.units]\nbase_url = \"{sim}\"\n\
         [rules]\nfile = \"{}\"\n\
         [indicators]\nholidays_file = \"{}\"\n\
         [email]\nfile_dir = \"{}\"\nfrom = \"{SENDER}\"\npoll_interval = \"1s\"\n{extra}\n\
         [email.grouping]\ngroup_wait = \"0s\"\n",
        root.join("tests/fixtures/on-time.rolling.rules.toml")
            .display(),
        root.join("config/holidays.toml").display(),
        outbox.display(),
        sim = sim.url,
    );
    for u in sim.sim.units() {
        text.push_str(&format!(
            "[[units]]\ncode = \"{}\"\nname = \"{}\"\nhead_email = \"{}\"\n",
            u.code,
            u.name,
            u.head_email.unwrap()
        ));
        if let Some(kind) = u.kind {
            text.push_str(&format!("kind = \"{}\"\n", kind.as_str()));
        }
    }
    let path = dir.join("par-monitor.toml");
    std::fs::write(&path, text).unwrap();
    path
}

pub(crate) async fn store_for(db_url: &str) -> Store {
    let mut s = Settings::from_toml_str("", "test", &std::collections::BTreeMap::new()).unwrap();
    s.database.url = par_monitor::config::DatabaseUrl::parse(db_url).unwrap();
    Store::connect(&s.database).await.unwrap()
}

// --- configuration errors -------------------------------------------------

fn config_error(content: &str) -> String {
    let (code, _, stderr) = config_check_text("bad.toml", content);
    assert_eq!(code, 2, "stderr: {stderr}");
    assert!(stderr.contains("bad.toml"), "names the file: {stderr}");
    stderr
}

#[test]
fn a_wrong_type_exits_2_naming_the_key() {
    let e = config_error("[sources.procedures]\npage_size = \"large\"\n");
    assert!(e.contains("sources.procedures.page_size"), "{e}");
    assert!(e.contains("u32"), "says what was expected: {e}");
}

#[test]
fn an_unknown_key_exits_2_naming_the_key() {
    let e = config_error("[email]\ntransprot = \"smtp\"\n");
    assert!(e.contains("email.transprot"), "{e}");
    assert!(e.contains("unknown key"), "{e}");
}

#[test]
fn a_missing_required_value_exits_2_naming_the_key() {
    let e = config_error("[email]\ntransport = \"smtp\"\n");
    assert!(e.contains("email.smtp.host"), "{e}");
    let e = config_error("[[units]]\nname = \"Sở Tư pháp\"\n");
    assert!(e.contains("units[0].code"), "{e}");
}

#[test]
fn a_missing_rules_file_exits_2_naming_it() {
    let (code, _, stderr) =
        config_check_text("ok.toml", "[rules]\nfile = \"/nonexistent/rules.toml\"\n");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("/nonexistent/rules.toml"), "{stderr}");
}

#[test]
fn config_check_prints_the_effective_configuration_without_secrets() {
    let (code, stdout, stderr) = config_check_text(
        "ok.toml",
        &format!(
            "[database]\nurl = \"postgres://app:s3cret-pw@db.example/parmon\"\n{}",
            shipped_rules_and_holidays()
        ),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("postgres://app:***@db.example/parmon"),
        "{stdout}"
    );
    assert!(!stdout.contains("s3cret-pw") && !stderr.contains("s3cret-pw"));
}

// --- the daemon -----------------------------------------------------------

on_both_backends! {
    async fn check_prints_the_findings_as_json(backend) {
        let Some(db) = TestDb::new(backend).await else { return };
        let sim = SimServer::start(SimConfig::new(3, chrono::Utc::now())).await;
        let dir = tempfile::tempdir().unwrap();
        let cfg = write_config(dir.path(), &db.url, &sim, &dir.path().join("outbox"), "");
        let (code, stdout, stderr) = tokio::task::spawn_blocking(move || {
            run_to_end(&["check", "--format", "json", "--config", cfg.to_str().unwrap()], dir.path())
        })
        .await
        .unwrap();
        assert_eq!(code, 0, "{stderr}");
        let doc: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is JSON");
        let findings = doc["findings"].as_array().unwrap();
        assert!(!findings.is_empty(), "{stdout}");
        let commune = findings.iter().find(|f| f["unit_code"] == "H44.100").expect("the failing commune");
        assert_eq!(commune["unit_name"], "UBND phường Hồng Bàng");
        assert_eq!(commune["severity"], "critical");
        assert_eq!(commune["state"], "open");
        assert!(commune["evidence"]["denominator"].as_u64().unwrap() > 0);
        sim.stop.cancel();
        db.cleanup().await;
    }
}

on_both_backends! {
    async fn a_kill_between_finding_and_send_still_sends_each_email_exactly_once(backend) {
        let Some(db) = TestDb::new(backend).await else { return };
        let sim = SimServer::start(SimConfig::new(5, chrono::Utc::now())).await;
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("outbox");
        // Alerts only: the unit heads' monthly digest would be queued after
        // an evaluation, racing the lives below (tests/it/digests.rs covers
        // digests across restarts).
        let cfg = write_config(dir.path(), &db.url, &sim, &outbox, "[digests]\nenabled = false\n");
        let cfg = cfg.to_str().unwrap();
        let store = store_for(&db.url).await;

        // First life: findings open and their e-mails are queued, but sending
        // is off, so the daemon dies between the change and the send.
        let mut first = Proc::spawn(&["run", "--config", cfg], dir.path(), &[("PARMON__EMAIL__ENABLED", "false")]);
        let s = store.clone();
        wait_until("an e-mail to be queued", Duration::from_secs(60), || {
            let s = s.clone();
            async move { s.outbox_stats().await.map(|o| o.pending > 0).unwrap_or(false) }
        })
        .await;
        first.child.kill().unwrap();
        first.exit_within(Duration::from_secs(10)).await;
        let queued = store.outbox().await.unwrap();
        assert!(!queued.is_empty(), "the first life queued e-mails");
        assert!(queued.iter().all(|e| e.status == "pending"));
        assert!(eml_files(&outbox).is_empty(), "nothing was sent");

        // Second life: everything queued goes out.
        let mut second = Proc::spawn(&["run", "--config", cfg], dir.path(), &[]);
        let s = store.clone();
        wait_until("the outbox to drain", Duration::from_secs(60), || {
            let s = s.clone();
            async move {
                let stats = s.outbox_stats().await.unwrap();
                stats.pending == 0 && stats.sent > 0
            }
        })
        .await;
        second.signal("TERM");
        assert!(second.exit_within(Duration::from_secs(10)).await.success());

        // Third life: nothing more is sent.
        let mut third = Proc::spawn(&["run", "--config", cfg], dir.path(), &[]);
        third.wait_for_log("evaluation complete").await;
        third.signal("TERM");
        assert!(third.exit_within(Duration::from_secs(10)).await.success());

        let rows = store.outbox().await.unwrap();
        assert!(rows.iter().all(|e| e.status == "sent"), "{rows:?}");
        let files = eml_files(&outbox);
        assert_eq!(files.len(), rows.len(), "one file per queued e-mail");
        let mut ids: Vec<String> = files
            .iter()
            .map(|f| {
                let raw = std::fs::read(f).unwrap();
                let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
                m.message_id().unwrap().to_owned()
            })
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), rows.len(), "no message twice");
        store.close().await;
        sim.stop.cancel();
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_daemon_with_status_0_within_10_seconds() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let sim = SimServer::start(SimConfig::new(1, chrono::Utc::now())).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &db.url, &sim, &dir.path().join("outbox"), "");
    let mut p = Proc::spawn(&["run", "--config", cfg.to_str().unwrap()], dir.path(), &[]);
    p.wait_for_log("evaluation complete").await;
    let started = Instant::now();
    p.signal("TERM");
    let status = p.exit_within(Duration::from_secs(10)).await;
    assert!(status.success(), "{status:?}\n{}", p.log());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(p.log().contains("stopped"));
    sim.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_valid_prometheus_text_with_the_promised_series() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let sim = SimServer::start(SimConfig::new(1, chrono::Utc::now())).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &db.url, &sim, &dir.path().join("outbox"), "");
    let p = Proc::spawn(&["run", "--config", cfg.to_str().unwrap()], dir.path(), &[]);
    let addr = p.http_addr().await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    // Sources are polled concurrently and evaluation follows each of them:
    // wait until the procedures data has been polled and judged.
    wait_until(
        "a critical finding in /metrics",
        Duration::from_secs(60),
        || {
            let (client, url) = (client.clone(), format!("http://{addr}/metrics"));
            async move {
                let Ok(resp) = client.get(url).send().await else {
                    return false;
                };
                let text = resp.text().await.unwrap_or_default();
                text.contains(
                    "par_monitor_polls_total{outcome=\"success\",source=\"procedures\"} 1",
                ) && text.lines().any(|l| {
                    l.starts_with("par_monitor_findings_active{severity=\"critical\"}")
                        && !l.ends_with(" 0")
                })
            }
        },
    )
    .await;
    assert_eq!(
        client
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let text = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        "par_monitor_polls_total{outcome=\"success\",source=\"procedures\"} 1",
        "par_monitor_poll_duration_seconds_count{source=\"procedures\"} 1",
        "par_monitor_last_successful_poll_timestamp_seconds{source=\"procedures\"}",
        "par_monitor_findings_active{severity=\"critical\"}",
        "par_monitor_build_info{version=",
    ] {
        assert!(text.contains(series), "missing {series} in:\n{text}");
    }
    let critical: f64 = text
        .lines()
        .find(|l| l.starts_with("par_monitor_findings_active{severity=\"critical\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(critical >= 1.0, "the failing commune is counted");
    crate::helpers::promtool_check_metrics(&text);
    sim.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_on_the_first_of_a_month_alerts_and_the_commands_beside_it_see_its_world() {
    // The README's first command, in a scratch copy of the repository's
    // configuration, with its clock on the 1st at 08:00: the day a calendar
    // month alone would be blind.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir(&config).unwrap();
    for f in ["par-monitor.toml", "rules.toml", "holidays.toml"] {
        std::fs::copy(repo_root().join("config").join(f), config.join(f)).unwrap();
    }
    let mut p = Proc::spawn(
        &["demo", "--now", "2027-03-01T08:00:00+07:00"],
        dir.path(),
        &[("PARMON__HTTP__LISTEN", "127.0.0.1:0")],
    );
    let addr = p.http_addr().await;
    let outbox = dir.path().join("data/outbox");
    let db = format!(
        "sqlite://{}",
        dir.path().join("data/par-monitor.db").display()
    );
    let store = store_for(&db).await;
    // An alert (not only the unit heads' monthly digest, due on the 1st).
    let alerts = |outbox: &Path| {
        eml_files(outbox)
            .into_iter()
            .filter(|f| {
                let raw = std::fs::read(f).unwrap_or_default();
                mail_parser::MessageParser::default()
                    .parse(&raw)
                    .and_then(|m| m.subject().map(|s| !s.contains("Bản tin")))
                    .unwrap_or(false)
            })
            .count()
    };
    wait_until(
        "a finding and an alert .eml",
        Duration::from_secs(120),
        || {
            let (n, store) = (alerts(&outbox), store.clone());
            async move { n > 0 && !store.findings().await.unwrap().is_empty() }
        },
    )
    .await;
    let metrics = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("par_monitor_polls_total"), "{metrics}");

    // Let the first evaluations settle (every source polled, digests out),
    // then what the commands beside it must not change.
    let s = store.clone();
    wait_until("every source polled", Duration::from_secs(60), || {
        let s = s.clone();
        async move { s.source_states().await.unwrap().len() == 5 }
    })
    .await;
    p.wait_for_log("digest queued").await;
    let states_before = store.source_states().await.unwrap();
    let sources = ["procedures", "documents", "reports", "portal", "units"];
    let mut events_before = Vec::new();
    for source in sources {
        events_before.push(store.source_events(source).await.unwrap().len());
    }
    let outbox_before = store.outbox().await.unwrap().len();
    let findings_before = store.findings().await.unwrap().len();

    let cli = |args: &[&str]| {
        let mut all = vec!["--config", "data/demo.toml"];
        all.extend_from_slice(args);
        let (code, out, err) = run_to_end(&all, dir.path());
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    };
    let listed: serde_json::Value =
        serde_json::from_str(&cli(&["findings", "list", "--format", "json"])).unwrap();
    let rows = listed.as_array().expect("a list of findings");
    assert!(!rows.is_empty());
    assert!(rows.iter().any(|f| f["unit_code"] == "H44.100"), "{listed}");
    let shown = cli(&["indicators", "--unit", "H44.100"]);
    assert!(shown.contains("H44.100 UBND phường Hồng Bàng"), "{shown}");
    assert!(shown.contains("Tỷ lệ hồ sơ giải quyết đúng hạn"), "{shown}");
    let preview = cli(&["digest", "preview", "--kind", "monthly"]);
    // (The tools read the system clock, not the demo's: last month by it.)
    assert!(preview.contains("Bản tin tháng "), "{preview}");
    assert!(preview.contains("Hệ thống giải quyết TTHC"), "{preview}");
    let (code, checked, note) = run_to_end(&["--config", "data/demo.toml", "check"], dir.path());
    assert_eq!(code, 0, "{note}");
    assert!(note.contains("Đang có par-monitor chạy"), "{note}");
    assert!(checked.contains("H44.100"), "{checked}");
    // Without --config the tools read the same database (and its units).
    let (code, plain, err) = run_to_end(&["indicators", "--unit", "H44.100"], dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(plain.contains("UBND phường Hồng Bàng"), "{plain}");

    // Nothing the daemon does changed: no outage, no e-mail, no finding.
    let after = store.source_states().await.unwrap();
    for (b, a) in states_before.iter().zip(&after) {
        assert_eq!((&b.source, &b.health), (&a.source, &a.health));
        assert_eq!(a.consecutive_failures, 0, "{a:?}");
    }
    for (source, before) in sources.into_iter().zip(events_before) {
        let events = store.source_events(source).await.unwrap();
        assert_eq!(events.len(), before, "{source}: {events:?}");
    }
    assert_eq!(store.outbox().await.unwrap().len(), outbox_before);
    assert_eq!(store.findings().await.unwrap().len(), findings_before);
    store.close().await;
    p.signal("TERM");
    let status = p.exit_within(Duration::from_secs(10)).await;
    assert!(status.success(), "{status:?}\n{}", p.log());
}
