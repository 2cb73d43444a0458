//! Operations: what Prometheus, Grafana and systemd see of the daemon. Real
//! components throughout: promtool, a Prometheus server, systemd-analyze,
//! the real binary under a fake systemd notification socket.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use par_monitor::simulator::SimConfig;
use par_monitor::storage::NewEmail;
use par_monitor::time::Month;

use crate::binary::{BIN, Proc, shipped_rules_and_holidays, store_for, write_config};
use crate::helpers::{
    Backend, SimServer, TestDb, free_port, poll_and_evaluate, repo_root, wait_until,
};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

async fn get_text(url: &str) -> (u16, String) {
    let r = client().get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Runs a command to completion; returns (success, stdout + stderr).
fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (.ci/test installs it)"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The value of the first sample line starting with `prefix`.
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

// --- Prometheus rules and config -------------------------------------------

#[test]
fn the_alerting_rules_pass_promtool_check_and_their_unit_tests() {
    let dir = repo_root().join("deploy/prometheus");
    let (ok, out) = run(Command::new("promtool")
        .args(["check", "rules", "alerts.yml"])
        .current_dir(&dir));
    assert!(ok, "promtool check rules:\n{out}");
    let (ok, out) = run(Command::new("promtool")
        .args(["test", "rules", "alerts_test.yml"])
        .current_dir(&dir));
    assert!(ok && out.contains("SUCCESS"), "promtool test rules:\n{out}");
    let (ok, out) = run(Command::new("promtool")
        .args(["check", "config", "scrape.yml"])
        .current_dir(&dir));
    assert!(ok, "promtool check config:\n{out}");
}

// --- systemd ----------------------------------------------------------------

/// `systemd-analyze verify` on a copy of `unit` whose ExecStart runs the
/// binary cargo built (verify fails when ExecStart's binary is missing, and
/// /usr/bin/par-monitor is not installed here). Warnings count as failures:
/// systemd-analyze exits 0 on an unknown key, but prints it.
fn systemd_verify(unit_text: &str, name: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let text = unit_text.replace("/usr/bin/par-monitor", BIN);
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let (ok, out) = run(Command::new("systemd-analyze").arg("verify").arg(&path));
    if ok && out.trim().is_empty() {
        Ok(())
    } else {
        Err(out)
    }
}

fn deploy_units() -> Vec<PathBuf> {
    let mut units: Vec<PathBuf> = std::fs::read_dir(repo_root().join("deploy"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "service"))
        .collect();
    units.sort();
    units
}

#[test]
fn every_systemd_unit_in_deploy_passes_systemd_analyze_verify() {
    let units = deploy_units();
    assert!(!units.is_empty());
    for unit in units {
        let text = std::fs::read_to_string(&unit).unwrap();
        let name = unit.file_name().unwrap().to_str().unwrap();
        if let Err(out) = systemd_verify(&text, name) {
            panic!("{}:\n{out}", unit.display());
        }
        for key in [
            "Type=notify",
            "WatchdogSec=",
            "ExecReload=/usr/bin/par-monitor config check --quiet",
            "ExecReload=/bin/kill -HUP $MAINPID",
            "Restart=on-failure",
            "RestartPreventExitStatus=2",
        ] {
            assert!(text.contains(key), "{name} lacks {key}");
        }
    }
}

#[test]
fn a_broken_unit_fails_the_same_verification() {
    let good = std::fs::read_to_string(repo_root().join("deploy/par-monitor.service")).unwrap();
    let misspelt = good.replace("Restart=on-failure", "Restrat=on-failure");
    let err = systemd_verify(&misspelt, "par-monitor.service").unwrap_err();
    assert!(err.contains("Restrat"), "{err}");
    let missing_binary = good.replace("/usr/bin/par-monitor", "/nonexistent/par-monitor");
    assert!(systemd_verify(&missing_binary, "par-monitor.service").is_err());
}

// --- the daemon as Prometheus sees it --------------------------------------

/// A Prometheus server on loopback scraping `target` every second.
struct PromServer {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl PromServer {
    async fn start(target: &str) -> PromServer {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: par-monitor\n    static_configs:\n      - targets: [\"{target}\"]\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the prometheus server is installed (Debian's prometheus; .ci/test does this)");
        let url = format!("http://127.0.0.1:{port}");
        let ready = format!("{url}/-/ready");
        wait_until("Prometheus to be ready", Duration::from_secs(60), || {
            let ready = ready.clone();
            async move {
                match client().get(&ready).send().await {
                    Ok(r) => r.status().is_success(),
                    Err(_) => false,
                }
            }
        })
        .await;
        PromServer {
            child,
            url,
            _dir: dir,
        }
    }

    /// The value of an instant query's first sample, if any.
    async fn query_one(&self, promql: &str) -> Option<f64> {
        let r = client()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", promql)])
            .send()
            .await
            .ok()?;
        let doc: serde_json::Value = r.json().await.ok()?;
        doc["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
    }
}

impl Drop for PromServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A daemon on a fresh SQLite database and simulator, started as an
/// operator would, with the metrics refreshed every second.
struct Daemon {
    proc: Proc,
    addr: String,
    db: TestDb,
    sim: SimServer,
    dir: tempfile::TempDir,
}

async fn daemon(extra_env: &[(&str, &str)], before_start: impl AsyncFnOnce(&str)) -> Daemon {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let sim = SimServer::start(SimConfig::new(1, chrono::Utc::now())).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &db.url,
        &sim,
        &dir.path().join("outbox"),
        "[metrics]\nrefresh_interval = \"1s\"\n",
    );
    before_start(&db.url).await;
    let proc = Proc::spawn(
        &["run", "--config", cfg.to_str().unwrap()],
        dir.path(),
        extra_env,
    );
    let addr = proc.http_addr().await;
    Daemon {
        proc,
        addr,
        db,
        sim,
        dir,
    }
}

impl Daemon {
    async fn stop(mut self) {
        self.proc.signal("TERM");
        assert!(
            self.proc
                .exit_within(Duration::from_secs(10))
                .await
                .success()
        );
        self.sim.stop.cancel();
        drop(self.dir);
    }
}

/// `[metrics] refresh_interval` is live: reloaded from an hour to a
/// second, the refresh loop (which also writes the daemon's heartbeat row)
/// runs every second from then on, not once an hour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaded_metrics_refresh_interval_applies_at_once() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let sim = SimServer::start(SimConfig::new(1, chrono::Utc::now())).await;
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    let every = |interval: &str| format!("[metrics]\nrefresh_interval = \"{interval}\"\n");
    let cfg = write_config(dir.path(), &db.url, &sim, &outbox, &every("1h"));
    let mut proc = Proc::spawn(&["run", "--config", cfg.to_str().unwrap()], dir.path(), &[]);
    proc.wait_for_log("evaluation complete").await;
    let store = store_for(&db.url).await;
    let epoch = chrono::DateTime::UNIX_EPOCH;
    let beats = std::sync::Mutex::new(BTreeSet::new());

    write_config(dir.path(), &db.url, &sim, &outbox, &every("1s"));
    proc.signal("HUP");
    proc.wait_for_log("configuration reloaded").await;
    let reloaded = chrono::Utc::now() - chrono::Duration::seconds(1);
    // The refresh the reload asks for, then two more a second apart.
    wait_until(
        "three heartbeats after the reload",
        Duration::from_secs(20),
        || async {
            let runs = store.daemons_alive_since(epoch).await.unwrap();
            let mut seen = beats.lock().unwrap();
            seen.extend(
                runs.iter()
                    .map(|r| r.heartbeat_at)
                    .filter(|t| *t >= reloaded),
            );
            seen.len() >= 3
        },
    )
    .await;
    store.close().await;
    proc.signal("TERM");
    assert!(proc.exit_within(Duration::from_secs(10)).await.success());
    sim.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_on_time_ratio_that_par_monitor_stored() {
    let d = daemon(&[], async |_| {}).await;
    d.proc.wait_for_log("evaluation complete").await;
    let prom = PromServer::start(&d.addr).await;

    // Each evaluation recomputes the indicator (and the unit's unfinished
    // dossiers age), so compare what Prometheus scraped with what the
    // database holds until they agree: the scrape path adds nothing and
    // loses nothing.
    let q = r#"par_monitor_indicator_ratio{unit="H44.100",indicator="on_time"}"#;
    let store = store_for(&d.db.url).await;
    let period = Month::containing(chrono::Utc::now()).to_string();
    let stored = async || {
        store
            .indicator_values(&period)
            .await
            .unwrap()
            .into_iter()
            .find(|(unit, indicator, ..)| unit == "H44.100" && indicator == "on_time")
            .map(|(_, _, n, d, _)| (n, d))
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let (numerator, denominator) = loop {
        let (seen, db) = (prom.query_one(q).await, stored().await);
        match (seen, db) {
            (Some(v), Some((n, d))) if d > 0 && (v - n as f64 / d as f64).abs() < 1e-9 => {
                break (n, d);
            }
            _ if tokio::time::Instant::now() > deadline => {
                panic!("Prometheus has {seen:?}, the database {db:?}")
            }
            // Polling a condition, as helpers::wait_until does.
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    assert!(numerator <= denominator);
    let d_seen = prom
        .query_one(r#"par_monitor_indicator_denominator{unit="H44.100",indicator="on_time"}"#)
        .await;
    assert_eq!(d_seen, Some(denominator as f64));
    assert_eq!(prom.query_one(r#"up{job="par-monitor"}"#).await, Some(1.0));
    store.close().await;
    d.stop().await;
}

/// Every `par_monitor_*` and `process_*` name in a text.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for prefix in ["par_monitor_", "process_"] {
        let mut rest = text;
        while let Some(i) = rest.find(prefix) {
            let tail = &rest[i..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            // `par_monitor_process_…` is not a process_* name.
            let inside_word = rest[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            if !inside_word {
                out.insert(tail[..end].to_owned());
            }
            rest = &tail[end..];
        }
    }
    out
}

/// Families in an exposition, with their type.
fn exported(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?.to_owned(), it.next()?.to_owned()))
        })
        .collect()
}

fn is_exported(name: &str, families: &[(String, String)]) -> bool {
    families.iter().any(|(family, kind)| {
        name == family
            || (kind == "histogram"
                && ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|s| name.strip_suffix(s) == Some(family)))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_the_dashboard_and_the_alerts_use_is_exported() {
    // A weekly digest already sent, so that its series exists as it will
    // once digests are built.
    let d = daemon(&[], async |url| {
        let store = store_for(url).await;
        store.migrate().await.unwrap();
        store
            .enqueue_email(
                &NewEmail {
                    dedup_key: "digest-weekly-test".into(),
                    message_id: "<digest-weekly-test@vpubnd.example>".into(),
                    kind: format!("{}weekly", par_monitor::storage::DIGEST_KIND_PREFIX),
                    recipients: vec!["lanhdao@vpubnd.example".into()],
                    subject: "Báo cáo tuần".into(),
                    body_text: "Báo cáo tuần".into(),
                    body_html: "<p>Báo cáo tuần</p>".into(),
                },
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        store.close().await;
    })
    .await;
    d.proc.wait_for_log("evaluation complete").await;
    let url = format!("http://{}/metrics", d.addr);
    // Some series exist only once something happened: the digest sent, a
    // finding opened, an indicator with a denominator.
    wait_until(
        "the digest's, findings' and indicators' series",
        Duration::from_secs(60),
        || {
            let url = url.clone();
            async move {
                let text = get_text(&url).await.1;
                [
                    r#"par_monitor_last_digest_sent_timestamp_seconds{kind="weekly"}"#,
                    "par_monitor_finding_transitions_total{",
                    "par_monitor_indicator_ratio{",
                ]
                .iter()
                .all(|s| text.contains(s))
            }
        },
    )
    .await;
    let text = get_text(&url).await.1;
    let families = exported(&text);

    let dashboard =
        std::fs::read_to_string(repo_root().join("deploy/grafana/par-monitor.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    assert!(doc["panels"].as_array().unwrap().len() > 10);
    let alerts = std::fs::read_to_string(repo_root().join("deploy/prometheus/alerts.yml")).unwrap();
    for (file, text) in [("par-monitor.json", &dashboard), ("alerts.yml", &alerts)] {
        let names = metric_names(text);
        assert!(names.len() > 5, "{file}: {names:?}");
        // A 766 total is exported only when all six groups are scored for
        // the month so far, which on the first days of a month (this test
        // runs at the real date) they may not be; such a name must still
        // be one the daemon defines.
        let defined = std::fs::read_to_string(repo_root().join("src/metrics.rs")).unwrap();
        let absent_until_complete = [
            "par_monitor_score766_points",
            "par_monitor_unit_score766_points",
        ];
        let missing: Vec<&String> = names
            .iter()
            .filter(|n| !is_exported(n, &families))
            .filter(|n| {
                !(absent_until_complete.contains(&n.as_str())
                    && defined.contains(&format!("\"{}\"", n.trim_start_matches("par_monitor_"))))
            })
            .collect();
        assert!(
            missing.is_empty(),
            "{file} uses metrics the daemon does not export: {missing:?}"
        );
    }
    d.stop().await;
}

#[test]
fn the_name_check_catches_a_made_up_metric() {
    let families = exported(
        "# TYPE par_monitor_poll_duration_seconds histogram\n# TYPE par_monitor_outbox_pending gauge\n",
    );
    assert!(is_exported(
        "par_monitor_poll_duration_seconds_bucket",
        &families
    ));
    assert!(is_exported("par_monitor_outbox_pending", &families));
    assert!(!is_exported("par_monitor_outbox_pending_bucket", &families));
    let names =
        metric_names(r#"rate(par_monitor_risk_score{unit="x"}[5m]) / par_monitor_outbox_pending"#);
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["par_monitor_outbox_pending", "par_monitor_risk_score"]
    );
    assert!(!is_exported("par_monitor_risk_score", &families));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_turns_ready_after_the_first_evaluation_and_healthz_answers() {
    let d = daemon(&[], async |_| {}).await;
    d.proc.wait_for_log("evaluation complete").await;
    let url = format!("http://{}/readyz", d.addr);
    wait_until("/readyz to answer 200", Duration::from_secs(30), || {
        let url = url.clone();
        async move { get_text(&url).await.0 == 200 }
    })
    .await;
    assert_eq!(get_text(&format!("http://{}/healthz", d.addr)).await.0, 200);
    d.stop().await;
}

#[tokio::test]
async fn readyz_answers_503_with_the_reason_until_ready() {
    use par_monitor::health::Readiness;
    use std::sync::Arc;
    let readiness = Arc::new(Readiness::default());
    let state = par_monitor::http::HttpState {
        metrics: par_monitor::metrics::Metrics::new(),
        readiness: readiness.clone(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(par_monitor::http::serve(listener, state, stop.clone()));
    let url = format!("http://{addr}/readyz");
    readiness.set_database_reachable(true);
    readiness.set_migrations_applied();
    readiness.set_scheduler_running(true);
    assert_eq!(
        get_text(&url).await,
        (503, "not ready: no evaluation cycle completed yet\n".into())
    );
    readiness.set_evaluation_completed();
    assert_eq!(get_text(&url).await, (200, "ready\n".into()));
    readiness.set_database_reachable(false);
    assert_eq!(
        get_text(&url).await,
        (503, "not ready: database unreachable\n".into())
    );
    stop.cancel();
}

// --- reload -----------------------------------------------------------------

fn findings_of(doc: &[par_monitor::storage::FindingRecord], unit: &str) -> Vec<String> {
    doc.iter()
        .filter(|f| f.unit_code == unit)
        .map(|f| f.state.as_str().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_applies_a_changed_rule_without_restart_and_keeps_it_when_the_new_file_is_invalid() {
    let scratch = tempfile::tempdir().unwrap();
    let rules = scratch.path().join("rules.toml");
    let original =
        std::fs::read_to_string(repo_root().join("tests/fixtures/on-time.rolling.rules.toml"))
            .unwrap();
    std::fs::write(&rules, &original).unwrap();
    let rules_env = format!("\"{}\"", rules.display());
    let d = daemon(
        &[
            ("PARMON__RULES__FILE", &rules_env),
            // Poll (and so evaluate) every two seconds.
            ("PARMON__SOURCES__PROCEDURES__SCHEDULE", "\"*/2 * * * * *\""),
        ],
        async |_| {},
    )
    .await;
    let store = store_for(&d.db.url).await;
    let s = store.clone();
    wait_until(
        "the commune's finding to open",
        Duration::from_secs(60),
        || {
            let s = s.clone();
            async move { findings_of(&s.findings().await.unwrap(), "H44.100") == ["open"] }
        },
    )
    .await;
    let pid = d.proc.child.id();

    // Lower the threshold so the commune passes; reload.
    std::fs::write(
        &rules,
        original
            .replace("warning_below = 0.95", "warning_below = 0.01")
            .replace("critical_below = 0.90", "critical_below = 0.005"),
    )
    .unwrap();
    d.proc.signal("HUP");
    d.proc.wait_for_log("configuration reloaded").await;
    let s = store.clone();
    wait_until(
        "the commune's finding to resolve",
        Duration::from_secs(30),
        || {
            let s = s.clone();
            async move { findings_of(&s.findings().await.unwrap(), "H44.100") == ["resolved"] }
        },
    )
    .await;

    // An invalid rules file is rejected, naming the file and the field.
    std::fs::write(
        &rules,
        original.replace("warning_below = 0.95", "warning_below = 1.5"),
    )
    .unwrap();
    d.proc.signal("HUP");
    let line = d.proc.wait_for_log("configuration reload rejected").await;
    assert!(
        line.contains(&rules.display().to_string()),
        "names the file: {line}"
    );
    assert!(line.contains("warning_below"), "names the key: {line}");
    let metrics = get_text(&format!("http://{}/metrics", d.addr)).await.1;
    assert_eq!(
        sample(
            &metrics,
            r#"par_monitor_config_reload_total{outcome="failure"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &metrics,
            r#"par_monitor_config_reload_total{outcome="success"}"#
        ),
        Some(1.0)
    );

    // The lowered rule stays in force through later cycles (each judges
    // again or finds that nothing it judges has changed).
    let url = format!("http://{}/metrics", d.addr);
    let cycles = || async {
        let text = get_text(&url).await.1;
        sample(
            &text,
            r#"par_monitor_job_runs_total{job_name="evaluate",outcome="success"}"#,
        )
        .unwrap_or(0.0)
    };
    let before = cycles().await;
    wait_until(
        "two more evaluation cycles",
        Duration::from_secs(30),
        || async { cycles().await >= before + 2.0 },
    )
    .await;
    assert_eq!(
        findings_of(&store.findings().await.unwrap(), "H44.100"),
        ["resolved"]
    );
    assert_eq!(d.proc.child.id(), pid);
    assert!(!d.proc.log().contains("stopped"), "never restarted");
    store.close().await;
    d.stop().await;
}

// --- systemd notifications and the watchdog ---------------------------------

/// A fake `NOTIFY_SOCKET`: a datagram socket in a temp dir.
struct NotifySocket {
    socket: tokio::net::UnixDatagram,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl NotifySocket {
    fn bind() -> NotifySocket {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let socket = tokio::net::UnixDatagram::bind(&path).unwrap();
        NotifySocket {
            socket,
            path,
            _dir: dir,
        }
    }

    /// The next message, or `None` if none arrives within `limit`.
    async fn next(&self, limit: Duration) -> Option<String> {
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(limit, self.socket.recv(&mut buf))
            .await
            .ok()?
            .unwrap();
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Waits for a message containing `needle`, skipping others.
    async fn expect(&self, needle: &str, limit: Duration) -> String {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(m) if m.contains(needle) => return m,
                Some(_) => {}
                None => panic!("no {needle:?} within {limit:?}"),
            }
        }
    }
}

fn notify_env(sock: &Path) -> Vec<(String, String)> {
    vec![
        ("NOTIFY_SOCKET".into(), sock.display().to_string()),
        // 400 ms: pings every 200 ms.
        ("WATCHDOG_USEC".into(), "400000".into()),
        ("PARMON__WATCHDOG__STALL_AFTER".into(), "\"2s\"".into()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_daemon_tells_systemd_it_is_ready_and_keeps_feeding_the_watchdog() {
    let sock = NotifySocket::bind();
    let env = notify_env(&sock.path);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let d = daemon(&env, async |_| {}).await;
    let starting = sock.next(Duration::from_secs(60)).await.unwrap();
    let starting = starting.trim_end();
    assert_eq!(
        starting,
        "STATUS=starting: opening the database and applying migrations"
    );
    let ready = sock.expect("READY=1", Duration::from_secs(60)).await;
    assert!(ready.contains("STATUS="), "{ready}");
    let running = sock
        .expect("STATUS=running; ", Duration::from_secs(60))
        .await;
    assert!(running.contains("active findings"), "{running}");
    // Well past stall_after, the pings go on: an idle daemon is healthy.
    let started = tokio::time::Instant::now();
    let mut pings = 0;
    while started.elapsed() < Duration::from_secs(5) {
        if sock.next(Duration::from_secs(2)).await.is_none() {
            panic!("pings stopped after {pings}; log:\n{}", d.proc.log());
        }
        pings += 1;
    }
    assert!(pings >= 10, "{pings} pings in 5 s");
    d.stop().await;
    // Stopping is announced too.
    sock.expect("STOPPING=1", Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_that_cannot_be_polled_shows_as_degraded_in_systemctl_status() {
    // A port nothing listens on: the poll fails at once.
    let closed = format!("\"http://127.0.0.1:{}/\"", free_port());
    let sock = NotifySocket::bind();
    let mut env = notify_env(&sock.path);
    env.push(("PARMON__SOURCES__PROCEDURES__BASE_URL".into(), closed));
    env.push((
        "PARMON__SOURCES__PROCEDURES__MAX_RETRIES".into(),
        "0".into(),
    ));
    env.push(("PARMON__METRICS__REFRESH_INTERVAL".into(), "\"1s\"".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let d = daemon(&env, async |_| {}).await;
    let degraded = sock
        .expect(
            "STATUS=degraded: source(s) down: procedures",
            Duration::from_secs(60),
        )
        .await;
    assert!(!degraded.contains("documents"), "{degraded}");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_loop_stops_the_watchdog_pings() {
    // An upstream that accepts connections and never answers: the poll
    // loop hangs in its request (its timeout set far beyond stall_after).
    let hang = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hang_url = format!("\"http://{}/\"", hang.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = hang.accept().await {
            held.push(conn);
        }
    });
    let sock = NotifySocket::bind();
    let mut env = notify_env(&sock.path);
    env.push(("PARMON__SOURCES__PROCEDURES__BASE_URL".into(), hang_url));
    env.push((
        "PARMON__SOURCES__PROCEDURES__REQUEST_TIMEOUT".into(),
        "\"10m\"".into(),
    ));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let d = daemon(&env, async |_| {}).await;

    sock.expect("READY=1", Duration::from_secs(60)).await;
    sock.expect("WATCHDOG=1", Duration::from_secs(5)).await;
    let line = d.proc.wait_for_log("withholding watchdog pings").await;
    assert!(
        line.contains("poll:procedures"),
        "names the stuck loop: {line}"
    );
    // Drain what was sent before the verdict, then: silence, for five
    // ping periods.
    while sock.next(Duration::from_millis(50)).await.is_some() {}
    if let Some(m) = sock.next(Duration::from_secs(1)).await {
        assert!(!m.contains("WATCHDOG=1"), "still pinging: {m}");
    }
    d.stop().await;
}

// --- logs ---------------------------------------------------------------------

#[test]
fn under_journald_log_lines_carry_no_timestamp_of_their_own() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("par-monitor.toml");
    std::fs::write(
        &cfg,
        format!(
            "[database]\nurl = \"sqlite://{}\"\n[sources.procedures]\nenabled = false\n{}",
            dir.path().join("db.sqlite").display(),
            shipped_rules_and_holidays()
        ),
    )
    .unwrap();
    let log_of = |journal: bool| {
        let path = dir.path().join(format!("stderr-{journal}"));
        let file = std::fs::File::create(&path).unwrap();
        let meta = file.metadata().unwrap();
        let mut cmd = Command::new(BIN);
        cmd.args(["check", "--config", cfg.to_str().unwrap()])
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .env_remove("JOURNAL_STREAM")
            .stdout(Stdio::null())
            .stderr(file);
        if journal {
            cmd.env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()));
        }
        // The exit status is not the point (a source may be unreachable).
        cmd.status().unwrap();
        std::fs::read_to_string(path).unwrap()
    };
    let plain = log_of(false);
    let journal = log_of(true);
    let line = |log: &str| {
        log.lines()
            .find(|l| l.contains("database ready"))
            .unwrap()
            .to_owned()
    };
    let (p, j) = (line(&plain), line(&journal));
    // A timestamp looks like 2026-11-26T06:44:03.123Z.
    let stamped = |l: &str| l.len() > 20 && l.as_bytes()[4] == b'-' && l.as_bytes()[10] == b'T';
    assert!(stamped(&p), "{p}");
    assert!(!stamped(&j) && j.trim_start().starts_with("INFO"), "{j}");
}

// --- per-unit series from the database ----------------------------------------

crate::helpers::on_both_backends! {
    async fn a_retired_unit_loses_its_series_and_only_configured_indicators_are_per_unit(backend) {
        let Some(ctx) = crate::helpers::Ctx::new(backend).await else { return };
        let app = ctx.app().await;
        poll_and_evaluate(&app).await;
        let text = app.metrics.render();
        for family in [
            "par_monitor_indicator_ratio{indicator=\"on_time\",unit=\"H44.100\"}",
            "par_monitor_indicator_denominator{indicator=\"on_time\",unit=\"H44.100\"}",
            "par_monitor_unit_findings_active{severity=\"critical\",unit=\"H44.100\"}",
            "par_monitor_unit_info{kind=",
            "par_monitor_section_findings_active{section=\"2\",severity=\"critical\"}",
        ] {
            assert!(text.contains(family), "missing {family} in:\n{text}");
        }
        let units_before = text.lines().filter(|l| l.starts_with("par_monitor_unit_info{")).count();
        assert_eq!(units_before, ctx.sim.sim.units().len());

        // The commune leaves the configuration; per-unit findings are
        // switched off. A reload applies both.
        let mut new = ctx.settings.clone();
        new.units.retain(|u| u.code.as_str() != "H44.100");
        new.metrics.per_unit_findings = false;
        new.http.listen = "127.0.0.1:1".parse().unwrap();
        let report = app.reload(new).await.unwrap();
        assert_eq!(report.units_retired, 1);
        assert_eq!(report.needs_restart, ["http"]);
        app.refresh_metrics().await.unwrap();
        let text = app.metrics.render();
        assert!(!text.contains("unit=\"H44.100\""), "the retired unit's series are gone:\n{text}");
        assert!(!text.contains("par_monitor_unit_findings_active{"), "{text}");
        assert!(text.contains("par_monitor_indicator_ratio{indicator=\"on_time\",unit=\"H44.07\"}"), "{text}");
        assert_eq!(
            text.lines().filter(|l| l.starts_with("par_monitor_unit_info{")).count(),
            units_before - 1
        );
        // The province totals still count every active finding.
        assert!(text.contains("par_monitor_findings_active{severity=\"critical\"}"));
        crate::helpers::promtool_check_metrics(&text);
        ctx.finish().await;
    }
}

crate::helpers::on_both_backends! {
    async fn the_refresh_reads_the_province_again_only_when_its_stored_state_moved(backend) {
        let Some(ctx) = crate::helpers::Ctx::new(backend).await else { return };
        let app = ctx.app().await;
        poll_and_evaluate(&app).await;
        let month = Month::containing(par_monitor::time::Clock::now(&ctx.clock)).to_string();
        let version = app.store.stored_state_version(&month).await.unwrap();
        assert!(app.store.period_computed_at(&month).await.unwrap().is_some());
        // The same moment and nothing new upstream: no value is rewritten,
        // so the version stays.
        app.evaluate().await.unwrap();
        assert_eq!(app.store.stored_state_version(&month).await.unwrap(), version);

        app.refresh_metrics().await.unwrap();
        let series = "par_monitor_indicator_denominator{indicator=\"on_time\",unit=\"H44.100\"}";
        let shown = sample(&app.metrics.render(), series).expect("the unit's on-time denominator");
        // A value changed behind the version's back is not read again...
        crate::helpers::raw_execute(
            &ctx.db.url,
            &format!(
                "UPDATE indicator_values SET denominator = denominator + 1000 \
                 WHERE unit_code = 'H44.100' AND indicator = 'on_time' AND period = '{month}'"
            ),
        )
        .await
        .unwrap();
        app.refresh_metrics().await.unwrap();
        assert_eq!(sample(&app.metrics.render(), series), Some(shown));
        // ...until the period says one of its values changed, as the
        // evaluation's write does.
        crate::helpers::raw_execute(
            &ctx.db.url,
            &format!("UPDATE indicator_periods SET changed_at = changed_at + 1 WHERE period = '{month}'"),
        )
        .await
        .unwrap();
        app.refresh_metrics().await.unwrap();
        assert_eq!(sample(&app.metrics.render(), series), Some(shown + 1000.0));
        ctx.finish().await;
    }
}

// --- packaging ------------------------------------------------------------------

#[test]
fn the_packaged_configuration_is_valid_and_the_package_installs_what_it_names() {
    let path = repo_root().join("deploy/debian/par-monitor.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    // Valid once what it requires is set (here by the environment; it
    // refuses itself without, see install::the_packaged_configuration_…).
    let env: std::collections::BTreeMap<String, String> = [
        (
            "PARMON__SOURCES__PROCEDURES__BASE_URL",
            "\"https://dvc.example/\"",
        ),
        (
            "PARMON__SOURCES__DOCUMENTS__BASE_URL",
            "\"https://dvc.example/\"",
        ),
        (
            "PARMON__SOURCES__REPORTS__BASE_URL",
            "\"https://dvc.example/\"",
        ),
        ("PARMON__EMAIL__TRANSPORT", "\"file\""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let s =
        par_monitor::config::Settings::from_toml_str(&text, "deploy/debian/par-monitor.toml", &env)
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.rules.file, Path::new("/etc/par-monitor/rules.toml"));
    assert_eq!(
        s.indicators.holidays_file,
        Path::new("/etc/par-monitor/holidays.toml")
    );
    assert_eq!(
        s.database.url.expose(),
        "sqlite:///var/lib/par-monitor/par-monitor.db"
    );
    let cargo = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    for installed in [
        "\"etc/par-monitor/par-monitor.toml\"",
        "\"etc/par-monitor/rules.toml\"",
        "\"etc/par-monitor/holidays.toml\"",
        "\"/etc/par-monitor/par-monitor.toml\"",
        "\"/etc/par-monitor/rules.toml\"",
        "\"/etc/par-monitor/holidays.toml\"",
    ] {
        assert!(
            cargo.contains(installed),
            "[package.metadata.deb] lacks {installed}"
        );
    }
    // The unit reads the file the package installs.
    let unit = std::fs::read_to_string(repo_root().join("deploy/par-monitor.service")).unwrap();
    assert!(unit.contains("--config /etc/par-monitor/par-monitor.toml"));
}
