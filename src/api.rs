//! The findings API: a small JSON API over HTTP for the inspection team's
//! tools, off by default and bound to loopback.
//!
//! Every request, read or write, needs `Authorization: Bearer <token>`
//! where the token's SHA-256 is listed in `[api] tokens`; anything else is
//! answered 401 before any work is done. The token's name is recorded as
//! the actor of each action, so the audit trail says who did what.

use std::sync::Arc;

use axum::extract::{Path, Query, Request, State as AxumState};
use axum::http::{StatusCode, header::AUTHORIZATION};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::ApiToken;
use crate::findings::{Action, State};
use crate::storage::Store;
use crate::time::SharedClock;
use crate::workflow::{self, Filter, WorkflowError};

#[derive(Clone)]
struct Api {
    store: Store,
    clock: SharedClock,
    tokens: Arc<Vec<ApiToken>>,
}

/// The authenticated caller, from their token.
#[derive(Clone, Debug)]
struct Caller(String);

/// The hex SHA-256 of a token, as written in `[api] tokens`.
pub fn hash_token(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.trim().as_bytes()))
}

/// Compares in time independent of where the strings differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

async fn authenticate(AxumState(api): AxumState<Api>, mut req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(hash_token);
    let caller = presented.and_then(|h| {
        api.tokens
            .iter()
            .find(|t| constant_time_eq(t.sha256.to_ascii_lowercase().as_bytes(), h.as_bytes()))
            .map(|t| t.name.clone())
    });
    match caller {
        Some(name) => {
            req.extensions_mut().insert(Caller(name));
            next.run(req).await
        }
        None => error(StatusCode::UNAUTHORIZED, "a valid bearer token is required"),
    }
}

pub fn router(store: Store, clock: SharedClock, tokens: Vec<ApiToken>) -> Router {
    let api = Api {
        store,
        clock,
        tokens: Arc::new(tokens),
    };
    Router::new()
        .route("/api/v1/findings", get(list))
        .route("/api/v1/findings/{id}", get(show))
        .route("/api/v1/findings/{id}/ack", post(ack))
        .route("/api/v1/findings/{id}/silence", post(silence))
        .route("/api/v1/findings/{id}/resolve", post(resolve))
        .route_layer(middleware::from_fn_with_state(api.clone(), authenticate))
        .with_state(api)
}

#[derive(Deserialize)]
struct ListQuery {
    unit: Option<String>,
    state: Option<String>,
    severity: Option<String>,
    #[serde(default)]
    all: bool,
}

async fn list(AxumState(api): AxumState<Api>, Query(q): Query<ListQuery>) -> Response {
    let state = match q.state.as_deref().map(str::parse::<State>).transpose() {
        Ok(s) => s,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let severity = match q.severity.as_deref().map(str::parse).transpose() {
        Ok(s) => s,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let filter = Filter {
        unit: q.unit,
        state,
        severity,
        include_resolved: q.all,
        ..Filter::default()
    };
    match workflow::list(&api.store, &filter).await {
        Ok(rows) => Json(json!({ "findings": rows })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "api: cannot list findings");
            error(StatusCode::INTERNAL_SERVER_ERROR, "storage error")
        }
    }
}

fn workflow_error(e: WorkflowError) -> Response {
    match e {
        WorkflowError::NotFound(_) => error(StatusCode::NOT_FOUND, e.to_string()),
        WorkflowError::Refused { .. } => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        WorkflowError::Conflict(_) => error(StatusCode::CONFLICT, e.to_string()),
        WorkflowError::Storage(s) => {
            tracing::error!(error = %s, "api: storage error");
            error(StatusCode::INTERNAL_SERVER_ERROR, "storage error")
        }
    }
}

async fn show(AxumState(api): AxumState<Api>, Path(id): Path<i64>) -> Response {
    match workflow::show(&api.store, id).await {
        Ok(d) => Json(d).into_response(),
        Err(e) => workflow_error(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActBody {
    /// The person acting, when the token is shared by a team.
    by: Option<String>,
    #[serde(default)]
    note: String,
    until: Option<String>,
}

async fn act(api: Api, caller: Caller, id: i64, action: Action, body: ActBody) -> Response {
    let actor = match body.by.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        Some(by) => format!("{by} (api: {})", caller.0),
        None => format!("api: {}", caller.0),
    };
    match workflow::apply(&api.store, id, action, &actor, &body.note, api.clock.now()).await {
        Ok(f) => Json(f).into_response(),
        Err(e) => workflow_error(e),
    }
}

async fn ack(
    AxumState(api): AxumState<Api>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Json(body): Json<ActBody>,
) -> Response {
    act(api, caller, id, Action::Acknowledge, body).await
}

async fn silence(
    AxumState(api): AxumState<Api>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Json(body): Json<ActBody>,
) -> Response {
    let Some(until) = body.until.as_deref() else {
        return error(StatusCode::BAD_REQUEST, "`until` is required");
    };
    match workflow::parse_until(until, api.clock.now()) {
        Ok(until) => act(api, caller, id, Action::Silence { until }, body).await,
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

async fn resolve(
    AxumState(api): AxumState<Api>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Json(body): Json<ActBody>,
) -> Response {
    act(api, caller, id, Action::Resolve, body).await
}

pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hashes_compare_exactly() {
        let h = hash_token("s3cret");
        assert_eq!(h.len(), 64);
        assert!(constant_time_eq(
            h.as_bytes(),
            hash_token("s3cret\n").as_bytes()
        ));
        assert!(!constant_time_eq(
            h.as_bytes(),
            hash_token("s3cres").as_bytes()
        ));
        assert!(!constant_time_eq(h.as_bytes(), b"short"));
    }
}
