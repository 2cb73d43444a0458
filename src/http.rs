//! The daemon's own HTTP endpoints: `/metrics` (Prometheus text format),
//! `/healthz` (the process is alive and serving) and `/readyz` (ready to be
//! relied on: 200, or 503 with a short plain-text reason).
//!
//! Every endpoint answers from memory: `/metrics` renders the registry, and
//! `/readyz` reads flags that the daemon's parts set. Database work happens
//! in the metrics refresh job, never per request, so scrapes stay cheap.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::health::Readiness;
use crate::metrics::Metrics;

/// What the endpoints read.
#[derive(Clone, Debug)]
pub struct HttpState {
    pub metrics: Metrics,
    pub readiness: Arc<Readiness>,
}

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz_handler))
        .with_state(state)
}

async fn metrics_handler(State(state): State<HttpState>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
}

async fn readyz_handler(State(state): State<HttpState>) -> impl IntoResponse {
    match state.readiness.check() {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}\n"),
        ),
    }
}

/// Binds the listener now, so a taken port fails start-up with a clear
/// error instead of failing later in a background task.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (http.listen): {e}"))
}

pub async fn serve(
    listener: TcpListener,
    state: HttpState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
