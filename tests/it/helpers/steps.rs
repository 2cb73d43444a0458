//! The steps of the daemon's loops, run on demand in the order the daemon
//! runs them (poll every source, evaluate, group alerts, deliver), and what
//! they leave behind.

use par_monitor::app::App;
use par_monitor::domain::SourceHealth;
use par_monitor::evaluate::EvalReport;
use par_monitor::ingest::{PollError, PollReport};
use par_monitor::notify::{AlertReport, DeliveryReport};
use tokio_util::sync::CancellationToken;

/// What each step of one cycle reported.
pub struct Cycle {
    pub polls: Vec<(&'static str, Result<PollReport, PollError>)>,
    pub eval: EvalReport,
    pub grouped: AlertReport,
    pub sent: DeliveryReport,
}

/// Polls every source; panics naming the first that fails.
pub async fn poll_all_ok(app: &App) {
    for (source, r) in app.poll_all(&CancellationToken::new()).await {
        r.unwrap_or_else(|e| panic!("{source}: {e}"));
    }
}

/// Polls every source and evaluates the rules (a failed poll is left to
/// the caller to look at; a failed evaluation panics).
pub async fn poll_and_evaluate(app: &App) -> EvalReport {
    app.poll_all(&CancellationToken::new()).await;
    app.evaluate().await.unwrap()
}

/// One whole cycle: poll every source, evaluate, group the due alerts into
/// the outbox and deliver it.
pub async fn cycle(app: &App) -> Cycle {
    let never = CancellationToken::new();
    let polls = app.poll_all(&never).await;
    let eval = app.evaluate().await.unwrap();
    let (grouped, sent) = send_alerts(app).await;
    Cycle {
        polls,
        eval,
        grouped,
        sent,
    }
}

/// Groups the alerts that are due into the outbox and delivers it.
pub async fn send_alerts(app: &App) -> (AlertReport, DeliveryReport) {
    let grouped = app.group_alerts().await.unwrap();
    let sent = app.deliver(&CancellationToken::new()).await.unwrap();
    (grouped, sent)
}

/// A source's health as the polls left it: `healthy`, `degraded` or `down`.
pub async fn source_health(app: &App, source: &str) -> SourceHealth {
    app.store
        .source_state(source)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{source} has been polled"))
        .health
}
