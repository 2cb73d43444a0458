//! `POST /findings/{id}/ack|silence|resolve`. Each checks, in this order,
//! the form's CSRF token (403), that the viewer may take the action on
//! this finding (403, logged), then applies it through
//! [`workflow::apply`] with the viewer's name as the actor: done, the
//! browser is sent back to the finding (303); refused, the finding page
//! says why (400, or 409 when it changed meanwhile).

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::detail::{self, Entered, Problem};
use crate::domain::UnitCode;
use crate::findings::{Action, ActionError};
use crate::web::{Viewer, WebError, WebState};
use crate::workflow::{self, WorkflowError};

// No `Debug`: the forms carry the session's CSRF token.

/// Every field defaults to empty, so a form without its token is refused
/// as such (403) rather than as malformed.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct AckForm {
    pub csrf_token: String,
    pub comment: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct SilenceForm {
    pub csrf_token: String,
    pub until: String,
    pub reason: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct ResolveForm {
    pub csrf_token: String,
    pub reason: String,
}

/// Why a refused action was refused, in the page's words.
pub(super) fn problem(e: &ActionError) -> Problem {
    let key = match e {
        ActionError::AlreadyResolved => "findings.error.already_resolved",
        ActionError::AlreadyAcknowledged => "findings.error.already_acknowledged",
        ActionError::SilenceInThePast => "findings.error.silence_in_the_past",
        ActionError::NoteRequired => "findings.error.note_required",
        ActionError::ActorRequired => "findings.error.actor_required",
    };
    Problem {
        key,
        status: StatusCode::BAD_REQUEST,
    }
}

/// The unit of finding `id`, for the permission check.
async fn unit_of(state: &WebState, id: i64) -> Result<UnitCode, WebError> {
    match state.store.finding(id).await? {
        Some(f) => Ok(f.unit_code),
        None => Err(WebError::NotFound(format!("finding {id}"))),
    }
}

/// Applies `action` as the viewer, and answers as the module says.
async fn act(
    state: &WebState,
    viewer: &Viewer,
    id: i64,
    action: Action,
    note: &str,
    entered: Entered,
) -> Result<Response, WebError> {
    let now = state.clock.now();
    let refused = match workflow::apply(&state.store, id, action, &viewer.name, note, now).await {
        Ok(_) => return Ok(Redirect::to(&format!("/findings/{id}")).into_response()),
        Err(WorkflowError::Refused { error, .. }) => problem(&error),
        Err(WorkflowError::Conflict(_)) => Problem {
            key: "findings.error.conflict",
            status: StatusCode::CONFLICT,
        },
        Err(e) => return Err(detail::not_found(e)),
    };
    detail::render(state, viewer, id, Some(refused), &entered).await
}

pub(super) async fn acknowledge(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, WebError> {
    let form: AckForm = crate::web::form::parse(&body)?;
    viewer.check_csrf(&form.csrf_token)?;
    let unit = unit_of(&state, id).await?;
    if !viewer.may_acknowledge(&unit) {
        return Err(viewer.refuse(&format!("acknowledge finding {id}")));
    }
    let entered = Entered {
        comment: form.comment.clone(),
        ..Entered::default()
    };
    act(
        &state,
        &viewer,
        id,
        Action::Acknowledge,
        &form.comment,
        entered,
    )
    .await
}

pub(super) async fn silence(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, WebError> {
    let form: SilenceForm = crate::web::form::parse(&body)?;
    viewer.check_csrf(&form.csrf_token)?;
    if !viewer.may_act() {
        return Err(viewer.refuse(&format!("silence finding {id}")));
    }
    let entered = Entered {
        until: form.until.clone(),
        silence_reason: form.reason.clone(),
        ..Entered::default()
    };
    let Ok(until) = workflow::parse_until(&form.until, state.clock.now()) else {
        let bad = Problem {
            key: "findings.error.until",
            status: StatusCode::BAD_REQUEST,
        };
        return detail::render(&state, &viewer, id, Some(bad), &entered).await;
    };
    let action = Action::Silence { until };
    act(&state, &viewer, id, action, &form.reason, entered).await
}

pub(super) async fn resolve(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, WebError> {
    let form: ResolveForm = crate::web::form::parse(&body)?;
    viewer.check_csrf(&form.csrf_token)?;
    if !viewer.may_act() {
        return Err(viewer.refuse(&format!("resolve finding {id}")));
    }
    let entered = Entered {
        resolve_reason: form.reason.clone(),
        ..Entered::default()
    };
    act(&state, &viewer, id, Action::Resolve, &form.reason, entered).await
}
