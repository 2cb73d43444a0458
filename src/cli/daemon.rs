//! The daemon and its one-off forms: `run`, `check` (one cycle) and
//! `migrate`.

use std::path::PathBuf;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::config::Settings;
use crate::storage::{DaemonRun, FindingRecord, Store};
use crate::time::{SharedClock, format_local, rfc3339_local};

use super::error::{CliError, CliResult};
use super::load::{build, build_at, clock, open, open_store};
use super::output::{Format, UnitNames, finding_line};

/// Resolves when SIGTERM or SIGINT arrives.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM; only Ctrl-C will stop the daemon");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
    }
}

/// Runs the daemon until SIGTERM or SIGINT. With a configuration file,
/// SIGHUP reloads it (systemd's `ExecReload=`).
pub async fn run(settings: Settings, config: Option<PathBuf>) -> CliResult {
    run_at(settings, config, clock()).await
}

pub async fn run_at(settings: Settings, config: Option<PathBuf>, clock: SharedClock) -> CliResult {
    use tokio::signal::unix::{SignalKind, signal};
    // Listen for SIGHUP before anything else: its default action would
    // end the process.
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGHUP; reload needs a restart");
            None
        }
    };
    crate::systemd::status("starting: opening the database and applying migrations");
    let mut app = build_at(settings, clock).await?;
    if let Some(path) = config {
        app = app.with_config_path(path);
    }
    let shutdown = CancellationToken::new();
    let running = app.start(shutdown.clone()).await?;
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        let hangup = async {
            match hup.as_mut() {
                Some(h) => h.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = &mut stop => break,
            Some(()) = hangup => {
                tracing::info!("SIGHUP received: reloading the configuration");
                running.reload();
            }
        }
    }
    shutdown.cancel();
    Ok(running.wait().await?)
}

/// `par-monitor migrate`.
pub async fn migrate(settings: &Settings) -> CliResult {
    let store = Store::connect(&settings.database).await?;
    let applied = store.migrate().await?;
    store.close().await;
    println!(
        "database {} ({}): {applied} migration(s) applied, schema up to date",
        settings.database.url.redacted(),
        store.backend().as_str()
    );
    Ok(())
}

/// How recently a daemon must have reported for `check` to leave the
/// database to it: a few metrics refreshes.
fn daemon_alive_within(settings: &Settings) -> chrono::Duration {
    let refresh = chrono::Duration::from_std(settings.metrics.refresh_interval)
        .unwrap_or(chrono::Duration::seconds(15));
    (refresh * 3).max(chrono::Duration::seconds(60))
}

/// `par-monitor check`: one cycle (or, beside a running daemon, what it
/// found), then the active findings.
pub async fn check(settings: Settings, format: Format) -> CliResult {
    // A daemon that owns the database polls and evaluates; a second cycle
    // from here would record source health of its own and queue e-mails.
    let owner = daemon_owning(&settings).await?;
    let app = match &owner {
        Some(_) => open(settings).await?,
        None => build(settings).await?,
    };
    let mut failed = false;
    if let Some(d) = &owner {
        eprintln!(
            "Đang có par-monitor chạy trên cơ sở dữ liệu này (pid {}, máy {}, từ {}): \
             hiển thị các phát hiện nó đã đánh giá, không lấy dữ liệu và không đánh giá lại.",
            d.pid,
            d.host,
            format_local(d.started_at)
        );
    } else {
        failed = poll_and_evaluate(&app).await?;
    }
    let findings: Vec<FindingRecord> = app
        .store
        .findings()
        .await?
        .into_iter()
        .filter(|f| f.state.is_active())
        .collect();
    let names = UnitNames::new(app.store.units().await?);
    print_active(&findings, &names, format);
    if failed {
        Err(CliError::reported())
    } else {
        Ok(())
    }
}

/// The daemon that reported within a minute or so, if one did.
async fn daemon_owning(settings: &Settings) -> Result<Option<DaemonRun>, CliError> {
    let store = open_store(settings).await?;
    let since = chrono::Utc::now() - daemon_alive_within(settings);
    let alive = store.daemons_alive_since(since).await;
    store.close().await;
    Ok(alive?.into_iter().next())
}

/// Polls every source once (a failing one is a warning) and evaluates;
/// whether a poll failed.
async fn poll_and_evaluate(app: &App) -> Result<bool, CliError> {
    let mut failed = false;
    let never = CancellationToken::new();
    for (source, result) in app.poll_all(&never).await {
        if let Err(e) = result {
            eprintln!("warning: {source}: {e}");
            failed = true;
        }
    }
    app.evaluate().await.context("evaluation failed")?;
    Ok(failed)
}

fn print_active(findings: &[FindingRecord], names: &UnitNames, format: Format) {
    match format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = findings
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "id": f.id,
                        "rule_id": f.rule_id,
                        "unit_code": f.unit_code,
                        "unit_name": names.of(f.unit_code.as_str()),
                        "state": f.state,
                        "severity": f.severity,
                        "last_result": f.last_result,
                        "opened_at": rfc3339_local(f.opened_at),
                        "last_evaluated_at": rfc3339_local(f.last_evaluated_at),
                        "evidence": f.last_detail,
                    })
                })
                .collect();
            super::output::print_json(&serde_json::json!({ "findings": rows }));
        }
        Format::Text => {
            if findings.is_empty() {
                println!("Không có phát hiện nào đang mở.");
            }
            for f in findings {
                println!("{}", finding_line(f, &names.of(f.unit_code.as_str())));
            }
        }
    }
}
