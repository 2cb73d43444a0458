//! The console: server-rendered pages for the inspection team, leadership
//! and unit heads, over the store and the live configuration.
//!
//! Every page is behind a session ([`auth`]): a request without one is sent
//! to `/login`, and a handler receives the [`Viewer`], whose role and unit
//! decide what it may see ([`access`]). Handlers read from the store per
//! request, render a template of `src/web/templates/` in the viewer's
//! language, and never trust upstream text: templates escape every value.
//! Nothing is fetched from outside: the stylesheet is vendored in
//! `src/web/static/`.

mod access;
pub mod auth;
pub mod charts;
mod error;
mod exports;
mod figures;
mod findings;
mod form;
mod i18n;
mod inspections;
mod overview;
mod query;
mod render;
mod sources;
mod unit;

use std::sync::Arc;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::middleware;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use access::Viewer;
pub use error::WebError;
pub use exports::{findings_export_urls, indicators_export_urls, report_url};
pub use query::FindingsQuery;
pub use render::Templates;

use crate::config::WebSettings;
use crate::live::LiveHandle;
use crate::storage::Store;
use crate::time::SharedClock;

/// What the console's handlers read.
#[derive(Clone, Debug)]
pub struct WebState {
    pub store: Store,
    pub live: LiveHandle,
    pub clock: SharedClock,
    pub settings: Arc<WebSettings>,
    pub templates: Arc<Templates>,
    /// The twelve months of figures the overview and unit pages chart.
    pub trends: Arc<figures::TrendCache>,
}

impl WebState {
    pub fn new(store: Store, live: LiveHandle, clock: SharedClock, settings: WebSettings) -> Self {
        Self {
            store,
            live,
            clock,
            settings: Arc::new(settings),
            templates: Arc::new(Templates::new()),
            trends: Arc::default(),
        }
    }
}

/// Computes what the pages keep between polls (the twelve months of
/// figures), so that the first page after a poll is as quick as the next.
/// The daemon calls it after each evaluation.
pub async fn warm(state: &WebState) -> anyhow::Result<()> {
    let live = state.live.load();
    let now = state.clock.now();
    state.trends.get(&state.store, &live, now).await.map(|_| ())
}

/// The pages, each handler taking the [`Viewer`] from the request's
/// extensions. [`router`] puts them behind the session check; tests may
/// serve them with a viewer layered in to exercise one page alone.
pub fn pages() -> Router<WebState> {
    Router::new()
        .merge(exports::routes())
        .merge(overview::routes())
        .merge(unit::routes())
        .merge(inspections::routes())
        .merge(findings::routes())
        .merge(sources::routes())
}

/// The whole console: the pages behind the session check, the login and
/// logout routes, and the vendored stylesheet.
pub fn router(state: WebState) -> Router {
    let guarded = pages().route_layer(middleware::from_fn_with_state(
        state.clone(),
        auth::require_viewer,
    ));
    Router::new()
        .merge(guarded)
        .merge(auth::routes())
        .route("/static/console.css", get(stylesheet))
        .with_state(state)
}

async fn stylesheet() -> impl axum::response::IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("web/static/console.css"),
    )
}

/// Serves the console on `listener` until `shutdown`. The peer's address is
/// kept for the login rate limit and the trusted-proxy check.
pub async fn serve(
    listener: TcpListener,
    state: WebState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
