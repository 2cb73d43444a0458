//! What an installed system meets over the years: the holiday calendar
//! running out, the packaged configuration, the unit and the package.

use std::process::Command;
use std::time::Duration;

use crate::binary::{Proc, config_check, run_to_end, store_for};
use crate::helpers::{repo_root, wait_until};

fn scratch_config() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir(&config).unwrap();
    for f in ["par-monitor.toml", "rules.toml", "holidays.toml"] {
        std::fs::copy(repo_root().join("config").join(f), config.join(f)).unwrap();
    }
    dir
}

// --- the calendar -----------------------------------------------------------

const CALENDAR_ALERT_DESCRIPTION: &str = "After its last day working days are counted Monday to Friday without holidays, so deadlines across the next Tết are wrong. Add the coming year's holidays and make-up days to /etc/par-monitor/holidays.toml and run systemctl reload par-monitor.";

/// The demo's clock on 15 November 2027, with the shipped calendar ending
/// on 2027-12-31: the daemon warns, its gauge says when the calendar ends,
/// the alert rule fires on that gauge (promtool), and the evidence of what
/// it judged marks the working days from 2028 as uncertain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_november_2027_the_ending_calendar_is_warned_of_measured_and_alerted() {
    let dir = scratch_config();
    let p = Proc::spawn(
        &["demo", "--now", "2027-11-15T08:00:00+07:00"],
        dir.path(),
        &[("PARMON__HTTP__LISTEN", "127.0.0.1:0")],
    );
    let addr = p.http_addr().await;
    let warning = p
        .wait_for_log(
            "the holiday calendar (indicators.holidays_file) lists holidays only up to 2027-12-31",
        )
        .await;
    assert!(warning.contains("WARN"), "{warning}");
    assert!(warning.contains("config/holidays.toml"), "{warning}");

    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let gauge: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("par_monitor_calendar_covered_until_timestamp_seconds "))
        .expect("the gauge is exported")
        .parse()
        .unwrap();
    // The end of 31/12/2027 in Vietnam: 2028-01-01T00:00+07:00.
    assert_eq!(gauge, 1_830_272_400);
    let now = 1_826_334_000; // 2027-11-15T08:00:00+07:00
    let ahead = gauge - now;
    assert!(ahead < 60 * 86_400 && ahead > 0, "{ahead}");

    // The alert rule on that gauge: promtool's time() starts at 0, so the
    // series holds the seconds the calendar still reaches ahead.
    let rules = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo_root().join("deploy/prometheus/alerts.yml"),
        rules.path().join("alerts.yml"),
    )
    .unwrap();
    std::fs::write(
        rules.path().join("calendar_test.yml"),
        format!(
            "rule_files: [alerts.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n      - series: 'par_monitor_calendar_covered_until_timestamp_seconds{{job=\"par-monitor\", instance=\"{addr}\"}}'\n        values: \"{ahead}x90\"\n    alert_rule_test:\n      - eval_time: 30m\n        alertname: ParMonitorHolidayCalendarEnding\n        exp_alerts: []\n      - eval_time: 61m\n        alertname: ParMonitorHolidayCalendarEnding\n        exp_alerts:\n          - exp_labels: {{severity: warning, job: par-monitor, instance: \"{addr}\"}}\n            exp_annotations:\n              summary: \"The holiday calendar of par-monitor on {addr} ends within 60 days\"\n              description: \"{CALENDAR_ALERT_DESCRIPTION}\"\n"
        ),
    )
    .unwrap();
    let out = Command::new("promtool")
        .args(["test", "rules", "calendar_test.yml"])
        .current_dir(rules.path())
        .output()
        .expect("promtool runs (.ci/test installs it)");
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "promtool test rules:\n{said}");

    // What the daemon judged carries the uncertainty in its evidence.
    let db = format!(
        "sqlite://{}",
        dir.path().join("data/par-monitor.db").display()
    );
    let store = store_for(&db).await;
    wait_until("findings judged", Duration::from_secs(60), || {
        let store = store.clone();
        async move { !store.findings().await.unwrap().is_empty() }
    })
    .await;
    let findings = store.findings().await.unwrap();
    for f in &findings {
        assert_eq!(
            f.last_detail["working_days_uncertain_from"], "2028-01-01",
            "{}/{}: {}",
            f.rule_id, f.unit_code, f.last_detail
        );
    }
    store.close().await;
    drop(p);
}

/// `config check` warns (and still passes) when the calendar ends within
/// 60 days of today, and says nothing when it reaches further.
#[test]
fn config_check_warns_of_a_calendar_that_ends_soon() {
    let dir = scratch_config();
    let (code, _, err) = run_to_end(&["config", "check"], dir.path());
    assert_eq!(code, 0, "{err}");
    let today = chrono::Utc::now().date_naive();
    let holidays = dir.path().join("config/holidays.toml");
    let text = std::fs::read_to_string(&holidays).unwrap();
    // Shipped through 2027; only from November 2027 does it warn.
    assert_eq!(
        err.contains("holiday calendar"),
        today + chrono::Days::new(60) > chrono::NaiveDate::from_ymd_opt(2027, 12, 31).unwrap(),
        "{err}"
    );
    let soon = today + chrono::Days::new(10);
    std::fs::write(&holidays, format!("covered_until = \"{soon}\"\n{text}")).unwrap();
    let (code, _, err) = run_to_end(&["config", "check"], dir.path());
    assert_eq!(code, 0, "a warning, not an error: {err}");
    assert!(
        err.contains(&format!(
            "warning: config/holidays.toml: the holiday calendar (indicators.holidays_file) lists holidays only up to {soon}"
        )),
        "{err}"
    );
}

// --- the systemd unit -------------------------------------------------------

/// The exposure `systemd-analyze security --offline=true` gives the
/// shipped unit (ExecStart pointed at the binary cargo built).
fn unit_exposure() -> (f64, String) {
    let dir = tempfile::tempdir().unwrap();
    let unit = std::fs::read_to_string(repo_root().join("deploy/par-monitor.service"))
        .unwrap()
        .replace("/usr/bin/par-monitor", crate::binary::BIN);
    let path = dir.path().join("par-monitor.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&path)
        .output()
        .expect("systemd-analyze runs (.ci/test installs it)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let figure = text
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for par-monitor.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no exposure figure in:\n{text}"));
    (figure, text)
}

#[test]
fn the_unit_is_hardened_to_an_exposure_of_at_most_one() {
    let (exposure, text) = unit_exposure();
    eprintln!("systemd-analyze security --offline=true: exposure {exposure}");
    assert!(exposure <= 1.0, "exposure {exposure}:\n{text}");
    for sandboxed in ["ProcSubset=", "IPAddressDeny="] {
        let line = text.lines().find(|l| l.contains(sandboxed));
        assert!(
            line.is_some_and(|l| l.contains('✓') || l.contains("allow list with")),
            "{sandboxed}: {line:?}"
        );
    }
}

/// What `systemctl reload` runs first: `config check --quiet` passes
/// silently on a good file and fails with status 2 naming the key on a bad
/// one, so the reload fails and the SIGHUP is never sent.
#[test]
fn the_reload_check_is_silent_on_a_good_file_and_fails_on_a_bad_one() {
    let dir = scratch_config();
    let (code, out, err) = run_to_end(&["config", "check", "--quiet"], dir.path());
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let file = dir.path().join("config/par-monitor.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replacen("[watchdog]\n", "[watchdog]\nstall_after_typo = \"5m\"\n", 1),
    )
    .unwrap();
    let (code, out, err) = run_to_end(&["config", "check", "--quiet"], dir.path());
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("watchdog.stall_after_typo"), "{err}");
}

// --- first run ----------------------------------------------------------------

/// The packaged configuration is refused, naming every key still to set;
/// `par-monitor init` writes one that passes.
#[test]
fn the_packaged_configuration_is_refused_until_init_configures_it() {
    let dir = tempfile::tempdir().unwrap();
    let packaged = repo_root().join("deploy/debian/par-monitor.toml");
    let (code, out, err) = config_check(&packaged, dir.path());
    assert_eq!(code, 2, "{out}{err}");
    for key in [
        "sources.procedures.base_url",
        "sources.documents.base_url",
        "sources.reports.base_url",
        "email.transport",
    ] {
        assert!(err.contains(key), "names {key}:\n{err}");
    }

    // Written where the rules and holidays are, as under /etc/par-monitor.
    for f in ["rules.toml", "holidays.toml"] {
        std::fs::copy(repo_root().join("config").join(f), dir.path().join(f)).unwrap();
    }
    let target = dir.path().join("par-monitor.toml");
    std::fs::copy(&packaged, &target).unwrap();
    let db = format!("sqlite://{}", dir.path().join("state.db").display());
    let init = |extra: &[&str]| {
        let mut args = vec![
            "init",
            "--base-url",
            "https://dvc.example.gov.vn/",
            "--smtp-host",
            "mail.example.gov.vn",
            "--from",
            "par-monitor <par-monitor@vpubnd.example.gov.vn>",
            "--inspection-team",
            "kiemtra@vpubnd.example.gov.vn",
            "--database",
            &db,
            "--out",
            target.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run_to_end(&args, dir.path())
    };
    let (code, out, err) = init(&[]);
    assert_eq!(code, 0, "{out}{err}");
    // The configured file passes, found through PARMON_CONFIG.
    let checked = Command::new(crate::binary::BIN)
        .args(["config", "check", "--quiet"])
        .env("PARMON_CONFIG", &target)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let (code, out, _) = run_to_end(
        &["config", "check", "--config", target.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(code, 0);
    assert!(out.contains("https://dvc.example.gov.vn/"), "{out}");
    assert!(out.contains("transport = \"smtp\""), "{out}");
    // A configured file is not replaced without --force.
    let (code, _, err) = init(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(init(&["--force"]).0, 0);
}

/// Outside a checkout, without --config or PARMON_CONFIG, the CLI reads
/// the installed system's file.
#[test]
fn outside_a_checkout_the_cli_reads_the_installed_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run_to_end(&["config", "check"], dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("/etc/par-monitor/par-monitor.toml"), "{err}");
}

// --- the package ------------------------------------------------------------

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The package as `deploy/debian/build-deb` makes it (from the test build's
/// binary), read back with dpkg-deb and unpacked into a scratch root: its
/// files, conffiles, unit, man page and completions, and maintainer
/// scripts that keep the data on remove and delete it on purge.
#[test]
fn the_package_ships_its_files_conffiles_unit_man_page_and_completions() {
    let out = tempfile::tempdir().unwrap();
    let build = || {
        let mut cmd = Command::new(repo_root().join("deploy/debian/build-deb"));
        cmd.env("PROFILE", "dev")
            .env("NO_BUILD", "1")
            .env("DEB_FLAGS", "--fast --quiet")
            .env("OUT", out.path())
            .env_remove("DEBFULLNAME")
            .env_remove("DEBEMAIL");
        cmd
    };
    // No package without a maintainer people can write to.
    for (name, email) in [(None, None), (Some("Ops"), Some("ops@localhost"))] {
        let mut cmd = build();
        if let (Some(n), Some(e)) = (name, email) {
            cmd.env("DEBFULLNAME", n).env("DEBEMAIL", e);
        }
        let refused = cmd.output().unwrap();
        assert_eq!(refused.status.code(), Some(2), "{email:?}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("DEBEMAIL"), "{stderr}");
    }
    run(build()
        .env("DEBFULLNAME", "Nguyễn Văn An")
        .env("DEBEMAIL", "an.nv@stttt.tinh.gov.vn"));
    let deb = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .expect("a .deb");
    let listing = run(Command::new("dpkg-deb").arg("-c").arg(&deb));
    for path in [
        "./usr/bin/par-monitor",
        "./usr/lib/systemd/system/par-monitor.service",
        "./etc/par-monitor/par-monitor.toml",
        "./etc/par-monitor/rules.toml",
        "./etc/par-monitor/holidays.toml",
        "./usr/share/man/man1/par-monitor.1.gz",
        "./usr/share/bash-completion/completions/par-monitor",
        "./usr/share/zsh/vendor-completions/_par-monitor",
        "./usr/share/fish/vendor_completions.d/par-monitor.fish",
        "./usr/share/doc/par-monitor/changelog.Debian.gz",
        "./usr/share/par-monitor/prometheus/alerts.yml",
        "./usr/share/par-monitor/grafana/par-monitor.json",
    ] {
        assert!(
            listing.lines().any(|l| l.ends_with(path)),
            "{path} in\n{listing}"
        );
    }
    let info = run(Command::new("dpkg-deb").arg("-I").arg(&deb));
    assert!(info.contains("Package: par-monitor"), "{info}");
    assert!(
        info.contains("Maintainer: Nguyễn Văn An <an.nv@stttt.tinh.gov.vn>"),
        "{info}"
    );
    assert!(
        info.contains("Depends:") && info.contains("systemd"),
        "{info}"
    );

    let control = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb")
        .arg("-e")
        .arg(&deb)
        .arg(control.path()));
    let read = |name: &str| std::fs::read_to_string(control.path().join(name)).unwrap();
    assert_eq!(
        read("conffiles").lines().collect::<Vec<_>>(),
        [
            "/etc/par-monitor/par-monitor.toml",
            "/etc/par-monitor/rules.toml",
            "/etc/par-monitor/holidays.toml"
        ]
    );
    let postrm = read("postrm");
    let purge = postrm.rfind("\"purge\"").expect("a purge branch");
    assert!(
        postrm[purge..].contains("rm -rf /var/lib/private/par-monitor"),
        "{postrm}"
    );
    assert!(
        !postrm.contains("\"remove\" ]; then\n    rm"),
        "remove keeps the data: {postrm}"
    );
    // Not started before it is configured (see `par-monitor init`).
    let postinst = read("postinst");
    assert!(!postinst.contains("deb-systemd-invoke start"), "{postinst}");

    let root = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(root.path()));
    let unit = std::fs::read_to_string(
        root.path()
            .join("usr/lib/systemd/system/par-monitor.service"),
    )
    .unwrap();
    assert_eq!(
        unit,
        std::fs::read_to_string(repo_root().join("deploy/par-monitor.service")).unwrap()
    );
    let man = run(Command::new("gzip")
        .arg("-dc")
        .arg(root.path().join("usr/share/man/man1/par-monitor.1.gz")));
    assert!(man.contains(".TH par-monitor 1"), "{man}");
    for sub in ["findings", "indicators", "init"] {
        assert!(man.contains(sub), "the man page names `{sub}`");
    }
    let bash = std::fs::read_to_string(
        root.path()
            .join("usr/share/bash-completion/completions/par-monitor"),
    )
    .unwrap();
    assert!(
        bash.contains("complete -F _par__monitor") && bash.contains("quarantine"),
        "{bash}"
    );
    let changelog = run(Command::new("gzip").arg("-dc").arg(
        root.path()
            .join("usr/share/doc/par-monitor/changelog.Debian.gz"),
    ));
    assert!(
        changelog.contains(" -- Nguyễn Văn An <an.nv@stttt.tinh.gov.vn>  "),
        "{changelog}"
    );
    let version = run(Command::new(root.path().join("usr/bin/par-monitor")).arg("--version"));
    assert!(version.starts_with("par-monitor 0."), "{version}");
}
