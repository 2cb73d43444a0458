//! Detection latency and the idle daemon's cost, measured on the real
//! daemon process (`par-monitor run`) with the default schedules and
//! grouping, the simulator served from this process and a real SMTP server
//! (Python's aiosmtpd, storing into a maildir).
//!
//! ```sh
//! cargo bench --bench latency                 # 3,000 units, 10 idle minutes, 10 changes
//! cargo bench --bench latency -- --units 3000 --idle-minutes 10 --changes 10
//! ```
//!
//! 1. The daemon syncs the province, evaluates and sends its first alerts;
//!    the benchmark waits until nothing is pending in the notifications
//!    or the outbox and a later poll of the procedures has passed.
//! 2. Idle: nothing changes upstream for `--idle-minutes`. The daemon's CPU
//!    time over that span (utime + stime of `/proc/PID/stat`), per hour,
//!    and its resident memory (VmRSS at the end, VmHWM since start).
//! 3. Latency: `--changes` units with no active `late-without-apology`
//!    finding each get one dossier finished a day late without an apology
//!    notice, at random moments spread over one poll interval. For each,
//!    the time from the change to the SMTP server accepting the alert to
//!    that unit's head that names the rule (the maildir file's mtime). The
//!    bound the issue sets: one poll interval + group wait + 5 s.
//!
//! Under `cargo test` (no `--bench` argument) it only says how to run it:
//! with the default schedules a run takes about twenty minutes. A 20-unit
//! province polled every 2 seconds with a 1-second group wait runs the same
//! path with `cargo bench --bench latency -- --smoke`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;
use par_monitor::domain::DossierStatus;
use par_monitor::simulator::{SimConfig, Simulator};
use rand::{Rng, SeedableRng};
use sqlx::Connection;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const BIN: &str = env!("CARGO_BIN_EXE_par-monitor");
const RULE: &str = "late-without-apology";
/// The rule's title as people read it, in the alert.
const RULE_TITLE: &str = "Hồ sơ trễ hạn không có phiếu xin lỗi";

struct Plan {
    units: usize,
    idle: Duration,
    changes: usize,
    /// A 2-second poll and 1-second group wait instead of the defaults
    /// of config/par-monitor.toml (the `cargo test` smoke run).
    fast: bool,
}

/// The default poll interval and group wait (config/par-monitor.toml).
const DEFAULT_POLL: Duration = Duration::from_secs(300);
const DEFAULT_GROUP_WAIT: Duration = Duration::from_secs(30);

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `cond` holds, for at most `limit`; panics with the
/// daemon's log if the daemon has exited meanwhile.
async fn wait_until<F, Fut>(daemon: &mut Daemon, what: &str, limit: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !cond().await {
        if let Ok(Some(status)) = daemon.child.0.try_wait() {
            panic!(
                "the daemon exited ({status}) while waiting for {what}:\n{}",
                std::fs::read_to_string(&daemon.log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}; the daemon's log:\n{}",
            std::fs::read_to_string(&daemon.log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The daemon process, where it logs and where its metrics are served.
struct Daemon {
    child: Killed,
    log: PathBuf,
    metrics: String,
}

fn smtp_server(port: u16, maildir: &Path) -> Killed {
    Killed(
        Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd; .ci/test does this)"),
    )
}

/// The daemon, configured by environment over config/par-monitor.toml.
fn daemon(dir: &Path, db: &str, sim: &str, sim_root: &str, smtp: u16, fast: bool) -> Daemon {
    let root = env!("CARGO_MANIFEST_DIR");
    let s = |v: &str| format!("\"{v}\"");
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    env.insert("PARMON__DATABASE__URL".into(), s(db));
    for source in ["PROCEDURES", "DOCUMENTS", "REPORTS", "PORTAL", "UNITS"] {
        env.insert(format!("PARMON__SOURCES__{source}__ENABLED"), "true".into());
        env.insert(format!("PARMON__SOURCES__{source}__BASE_URL"), s(sim));
    }
    env.insert(
        "PARMON__SOURCES__PORTAL__PROTOCOL".into(),
        s("dvcqg-evaluation"),
    );
    env.insert(
        "PARMON__SOURCES__PORTAL__ROOT_DEPARTMENT_ID".into(),
        s(sim_root),
    );
    env.insert("PARMON__EMAIL__TRANSPORT".into(), s("smtp"));
    env.insert("PARMON__EMAIL__SMTP__HOST".into(), s("127.0.0.1"));
    env.insert("PARMON__EMAIL__SMTP__PORT".into(), smtp.to_string());
    env.insert("PARMON__EMAIL__SMTP__TLS".into(), s("none"));
    let http = format!("127.0.0.1:{}", free_port());
    env.insert("PARMON__HTTP__LISTEN".into(), s(&http));
    env.insert(
        "PARMON__RULES__FILE".into(),
        s(&format!("{root}/config/rules.toml")),
    );
    env.insert(
        "PARMON__INDICATORS__HOLIDAYS_FILE".into(),
        s(&format!("{root}/config/holidays.toml")),
    );
    if fast {
        env.insert(
            "PARMON__SOURCES__PROCEDURES__SCHEDULE".into(),
            s("*/2 * * * * *"),
        );
        env.insert("PARMON__EMAIL__POLL_INTERVAL".into(), s("1s"));
        env.insert("PARMON__EMAIL__GROUPING__GROUP_WAIT".into(), s("1s"));
    }
    let log = dir.join("daemon.log");
    let child = Killed(
        Command::new(BIN)
            .arg("--config")
            .arg(format!("{root}/config/par-monitor.toml"))
            .arg("run")
            .current_dir(dir)
            .envs(env)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the daemon starts"),
    );
    Daemon {
        child,
        log,
        metrics: format!("http://{http}/metrics"),
    }
}

/// Seconds spent in each background job so far, by job name, from the
/// daemon's `par_monitor_job_duration_seconds_sum` series.
async fn job_seconds(metrics: &str) -> BTreeMap<String, (f64, u64)> {
    let text = match reqwest::get(metrics).await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    let mut out: BTreeMap<String, (f64, u64)> = BTreeMap::new();
    for line in text.lines() {
        let (series, value) = match line.rsplit_once(' ') {
            Some(p) => p,
            None => continue,
        };
        let job = |prefix: &str| {
            series
                .strip_prefix(prefix)
                .and_then(|r| r.strip_prefix("{job_name=\""))
                .and_then(|r| r.strip_suffix("\"}"))
                .map(str::to_owned)
        };
        if let Some(name) = job("par_monitor_job_duration_seconds_sum") {
            out.entry(name).or_default().0 = value.parse().unwrap_or(0.0);
        } else if let Some(name) = job("par_monitor_job_duration_seconds_count") {
            out.entry(name).or_default().1 = value.parse().unwrap_or(0);
        }
    }
    out
}

/// CPU seconds (user + system) the process has used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command's closing parenthesis: utime is the 12th,
    // stime the 13th of those.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / clock_ticks()
}

fn clock_ticks() -> f64 {
    // sysconf(_SC_CLK_TCK) is 100 on every Linux this runs on.
    100.0
}

fn memory_mb(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

async fn scalar(db: &str, sql: &str) -> i64 {
    let Ok(mut c) = sqlx::SqliteConnection::connect(db).await else {
        return -1;
    };
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mut c)
        .await
        .unwrap_or(-1)
}

async fn column(db: &str, sql: &str) -> Vec<String> {
    let mut c = sqlx::SqliteConnection::connect(db).await.unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_all(&mut c)
        .await
        .unwrap()
}

/// Nothing waits to be grouped or sent.
async fn quiet(db: &str) -> bool {
    scalar(
        db,
        "SELECT (SELECT COUNT(*) FROM notifications WHERE status = 'pending') + (SELECT COUNT(*) FROM outbox WHERE status = 'pending')",
    )
    .await
        == 0
}

async fn last_poll(db: &str) -> i64 {
    scalar(
        db,
        "SELECT COALESCE(MAX(last_success_at), 0) FROM feed_state WHERE feed = 'procedures.dossiers'",
    )
    .await
}

/// The head of a unit, as the simulator's directory names them.
fn head_address(unit: &str) -> String {
    format!(
        "lanhdao@{}.example",
        unit.to_ascii_lowercase().replace('.', "-")
    )
}

/// The accepted messages: (acceptance time, recipients, decoded text).
fn accepted(maildir: &Path) -> Vec<(SystemTime, String, String)> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(rd) = std::fs::read_dir(maildir.join(sub)) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(raw) = std::fs::read(e.path()) else {
                continue;
            };
            let Some(msg) = mail_parser::MessageParser::default().parse(&raw) else {
                continue;
            };
            let to = msg
                .to()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.address())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            let text = format!(
                "{} {}",
                msg.subject().unwrap_or(""),
                msg.body_text(0).unwrap_or_default()
            );
            let at = e
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            out.push((at, to, text));
        }
    }
    out
}

/// Makes one of `unit`'s dossiers finished a day late without an apology,
/// changed now. `false` if the unit has no dossier received and finished in
/// the last three weeks: the rule's rolling 30 days count a late dossier by
/// when it was received, so one received earlier would change nothing.
fn late_dossier(sim: &Simulator, unit: &str) -> bool {
    let now = Utc::now();
    sim.set_now(now);
    let recent = |t: Option<chrono::DateTime<Utc>>| {
        t.is_some_and(|t| t < now && now - t < chrono::Duration::days(21))
    };
    let Some(mut d) = sim.dossiers().into_iter().find(|d| {
        d.unit_code.as_str() == unit
            && d.status == DossierStatus::Done
            && recent(d.received_at)
            && recent(d.finished_at)
    }) else {
        return false;
    };
    let finished = d.finished_at.unwrap();
    d.due_at = Some(finished - chrono::Duration::days(1));
    d.apologies.clear();
    // Time waiting on the applicant would not count against the unit.
    d.supplements.clear();
    d.updated_at = Some(now);
    sim.upsert_dossier(d);
    true
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench");
    let smoke = args.iter().any(|a| a == "--smoke");
    if !full {
        println!("latency: run with `cargo bench --bench latency` (about 20 minutes)");
        return;
    }
    let plan = if !smoke {
        Plan {
            units: arg(&args, "--units").map_or(3000, |v| v.parse().unwrap()),
            idle: Duration::from_secs(
                60 * arg(&args, "--idle-minutes").map_or(10, |v| v.parse::<u64>().unwrap()),
            ),
            changes: arg(&args, "--changes").map_or(10, |v| v.parse().unwrap()),
            fast: false,
        }
    } else {
        Plan {
            units: 20,
            idle: Duration::from_secs(3),
            changes: 2,
            fast: true,
        }
    };
    let (poll, group_wait) = if plan.fast {
        (Duration::from_secs(2), Duration::from_secs(1))
    } else {
        (DEFAULT_POLL, DEFAULT_GROUP_WAIT)
    };

    let sim = Simulator::generate(&SimConfig {
        units: plan.units,
        months: 3,
        ..SimConfig::new(1, Utc::now())
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}/", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    tokio::spawn(sim.clone().serve(listener, stop.clone()));

    let dir = tempfile::tempdir().unwrap();
    let maildir: PathBuf = dir.path().join("mail");
    let smtp_port = free_port();
    let _smtp = smtp_server(smtp_port, &maildir);
    let db = format!("sqlite://{}", dir.path().join("parmon.db").display());
    let mut d = daemon(
        dir.path(),
        &db,
        &sim_url,
        &sim.root_department_id(),
        smtp_port,
        plan.fast,
    );
    let pid = d.child.0.id();
    println!(
        "latency and idle cost: {} units, {} dossiers (release: {})",
        plan.units,
        sim.dossiers().len(),
        !cfg!(debug_assertions)
    );

    // 1. First sync, evaluation and the first alerts; then a later poll.
    let started = Instant::now();
    wait_until(
        &mut d,
        "the first sync",
        Duration::from_secs(900),
        || async { last_poll(&db).await > 0 },
    )
    .await;
    let first = last_poll(&db).await;
    wait_until(
        &mut d,
        "a second poll with nothing pending",
        poll * 3 + Duration::from_secs(600),
        || async { last_poll(&db).await > first && quiet(&db).await },
    )
    .await;
    println!(
        "settled   {:>6.1} s after start (first sync, evaluation, {} first alerts)  RSS {:>6.1} MB  peak RSS {:>6.1} MB",
        started.elapsed().as_secs_f64(),
        accepted(&maildir).len(),
        memory_mb(pid, "VmRSS:"),
        memory_mb(pid, "VmHWM:")
    );
    for (job, (secs, runs)) in job_seconds(&d.metrics).await {
        println!("settle job {job:<23} {runs:>4} runs  {secs:>7.2} s in all");
    }

    // 2. Idle.
    let jobs0 = job_seconds(&d.metrics).await;
    let cpu0 = cpu_seconds(pid);
    let t0 = Instant::now();
    tokio::time::sleep(plan.idle).await;
    let cpu = cpu_seconds(pid) - cpu0;
    let span = t0.elapsed().as_secs_f64();
    for (job, (secs, runs)) in job_seconds(&d.metrics).await {
        let (secs0, runs0) = jobs0.get(&job).copied().unwrap_or_default();
        if runs > runs0 {
            println!(
                "idle job  {job:<24} {:>4} runs  {:>7.2} s in all",
                runs - runs0,
                secs - secs0
            );
        }
    }
    println!(
        "idle      {:>5} units  {:>6.1} CPU-s over {:.0} s  {:>6.1} CPU-s/h  RSS {:>6.1} MB  peak RSS {:>6.1} MB",
        plan.units,
        cpu,
        span,
        cpu / span * 3600.0,
        memory_mb(pid, "VmRSS:"),
        memory_mb(pid, "VmHWM:")
    );

    // 3. Latency.
    let candidates = column(
        &db,
        &format!(
            "SELECT code FROM units WHERE COALESCE(kind, '') <> 'province' AND code NOT IN \
             (SELECT unit_code FROM findings WHERE rule_id = '{RULE}' AND state <> 'resolved') ORDER BY code"
        ),
    )
    .await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut changed: Vec<(String, SystemTime)> = Vec::new();
    let spread = poll.as_secs_f64();
    let mut offsets: Vec<f64> = (0..plan.changes)
        .map(|_| rng.random_range(0.0..spread))
        .collect();
    offsets.sort_by(|a, b| a.total_cmp(b));
    let t0 = Instant::now();
    let mut units = candidates.iter();
    for off in offsets {
        let wait = Duration::from_secs_f64(off).saturating_sub(t0.elapsed());
        tokio::time::sleep(wait).await;
        for unit in units.by_ref() {
            if late_dossier(&sim, unit) {
                changed.push((unit.clone(), SystemTime::now()));
                break;
            }
        }
    }
    assert!(
        !changed.is_empty(),
        "no unit without an active {RULE} finding had a dossier to change"
    );
    let alert_of = |unit: &str, after: SystemTime| {
        let to = head_address(unit);
        accepted(&maildir)
            .into_iter()
            .filter(|(at, rcpt, text)| {
                *at >= after && rcpt.contains(&to) && text.contains(RULE_TITLE)
            })
            .map(|(at, _, _)| at)
            .min()
    };
    let bound = poll + group_wait + Duration::from_secs(5);
    wait_until(
        &mut d,
        "an alert for every change",
        bound * 2 + Duration::from_secs(60),
        || async { changed.iter().all(|(u, at)| alert_of(u, *at).is_some()) },
    )
    .await;
    let mut latencies: Vec<f64> = changed
        .iter()
        .map(|(u, at)| {
            alert_of(u, *at)
                .unwrap()
                .duration_since(*at)
                .unwrap_or_default()
                .as_secs_f64()
        })
        .collect();
    let max = latencies.iter().copied().fold(0.0, f64::max);
    println!(
        "latency   {:>5} changes  median {:>6.1} s  max {:>6.1} s  bound {:.0} s (poll {:.0} s + group wait {:.0} s + 5 s)",
        latencies.len(),
        median(&mut latencies),
        max,
        bound.as_secs_f64(),
        poll.as_secs_f64(),
        group_wait.as_secs_f64()
    );
    stop.cancel();
}
