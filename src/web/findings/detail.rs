//! `GET /findings/{id}`: one finding, its evidence in words and numbers,
//! the sample records behind it, its audit trail, and the action forms the
//! viewer may use. An action that is refused shows this page again with
//! the reason.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Serialize;

use super::{event_name, evidence, result_name, rule_title, section_of, severity_name, state_name};
use crate::domain::Language;
use crate::notify::compose::{parts_text, period_text, threshold_text, value_text};
use crate::rules::RuleSet;
use crate::storage::FindingEvent;
use crate::web::{Viewer, WebError, WebState};
use crate::workflow::{self, Detail, WorkflowError};

/// The evidence of an evaluation, every part in the reader's words.
#[derive(Debug, Serialize, PartialEq)]
pub(super) struct EvidenceView {
    pub result: Option<String>,
    pub value: Option<String>,
    /// `80/100 hồ sơ`.
    pub parts: Option<String>,
    pub threshold: Option<String>,
    pub period: Option<String>,
    /// The ids of records behind the shortfall.
    pub sample: Vec<String>,
    /// The first local day whose working days are uncertain (`dd/mm/yyyy`).
    pub uncertain_from: Option<String>,
    /// Evidence kept in a shape this version does not read, as stored.
    pub raw: Option<String>,
}

pub(super) fn evidence_view(v: &serde_json::Value, lang: Language) -> EvidenceView {
    let Some(e) = evidence(v) else {
        return EvidenceView {
            result: None,
            value: None,
            parts: None,
            threshold: None,
            period: None,
            sample: Vec::new(),
            uncertain_from: None,
            raw: Some(v.to_string()),
        };
    };
    EvidenceView {
        result: e
            .result
            .parse()
            .ok()
            .map(|r| result_name(r, lang).to_owned()),
        value: Some(value_text(&e, lang)),
        parts: parts_text(&e, lang),
        threshold: Some(threshold_text(&e, lang)).filter(|t| !t.is_empty()),
        period: Some(period_text(&e, lang)).filter(|p| !p.is_empty()),
        uncertain_from: e
            .working_days_uncertain_from
            .map(|d| d.format("%d/%m/%Y").to_string()),
        sample: e.sample,
        raw: None,
    }
}

/// One event of the audit trail.
#[derive(Debug, Serialize, PartialEq)]
pub(super) struct EventView {
    pub at: String,
    pub kind: String,
    pub actor: String,
    pub note: Option<String>,
    pub state: &'static str,
    pub severity: &'static str,
}

pub(super) fn event_view(e: &FindingEvent, lang: Language) -> EventView {
    EventView {
        at: e.at.to_rfc3339(),
        kind: event_name(&e.kind, lang),
        actor: e.actor.clone(),
        note: e.note.clone().filter(|n| !n.trim().is_empty()),
        state: state_name(e.state, lang),
        severity: severity_name(e.severity, lang),
    }
}

/// What the finding page shows. Times are RFC 3339 for `localtime`.
#[derive(Debug, Serialize)]
pub(super) struct FindingView {
    pub id: i64,
    pub rule_id: String,
    pub rule_title: String,
    pub section: Option<String>,
    pub unit_code: String,
    pub unit_name: Option<String>,
    pub severity: &'static str,
    pub severity_class: &'static str,
    pub state: &'static str,
    pub opened_at: String,
    pub last_evaluated_at: String,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<String>,
    pub silenced_until: Option<String>,
    pub silenced_by: Option<String>,
    pub silence_reason: Option<String>,
    pub resolved_at: Option<String>,
    pub evidence: EvidenceView,
    pub events: Vec<EventView>,
}

pub(super) fn finding_view(
    d: &Detail,
    rules: &RuleSet,
    unit_name: Option<String>,
    lang: Language,
) -> FindingView {
    let f = &d.finding;
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339());
    FindingView {
        id: f.id,
        rule_id: f.rule_id.to_string(),
        rule_title: rule_title(rules, &f.rule_id, lang),
        section: section_of(rules, &f.rule_id, lang),
        unit_code: f.unit_code.to_string(),
        unit_name,
        severity: severity_name(f.severity, lang),
        severity_class: f.severity.as_str(),
        state: state_name(f.state, lang),
        opened_at: f.opened_at.to_rfc3339(),
        last_evaluated_at: f.last_evaluated_at.to_rfc3339(),
        acknowledged_by: f.acknowledged_by.clone(),
        acknowledged_at: time(f.acknowledged_at),
        silenced_until: time(f.silenced_until).filter(|_| f.state.is_active()),
        silenced_by: f.silenced_by.clone(),
        silence_reason: f.silence_reason.clone(),
        resolved_at: time(f.resolved_at).filter(|_| !f.state.is_active()),
        evidence: evidence_view(&f.last_detail, lang),
        events: d.events.iter().map(|e| event_view(e, lang)).collect(),
    }
}

/// Why an action was not done, as the page tells it: a catalog key, and the
/// status the page is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Problem {
    pub key: &'static str,
    pub status: StatusCode,
}

/// What the person typed into the action forms, shown again with a problem.
#[derive(Debug, Default, Serialize)]
pub(super) struct Entered {
    pub comment: String,
    pub until: String,
    pub silence_reason: String,
    pub resolve_reason: String,
}

pub(super) fn not_found(e: WorkflowError) -> WebError {
    match e {
        WorkflowError::NotFound(id) => WebError::NotFound(format!("finding {id}")),
        WorkflowError::Storage(e) => e.into(),
        other => WebError::Internal(other.into()),
    }
}

pub(super) async fn page(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    render(&state, &viewer, id, None, &Entered::default()).await
}

/// The finding page, with `problem` above the forms when an action was
/// refused.
pub(super) async fn render(
    state: &WebState,
    viewer: &Viewer,
    id: i64,
    problem: Option<Problem>,
    entered: &Entered,
) -> Result<Response, WebError> {
    let detail = workflow::show(&state.store, id).await.map_err(not_found)?;
    let unit = detail.finding.unit_code.clone();
    viewer.require_unit(&unit)?;
    let live = state.live.load();
    let units = state.store.units().await?;
    let unit_name = units.into_iter().find(|u| u.code == unit).map(|u| u.name);
    let view = finding_view(&detail, &live.rules, unit_name, viewer.language);
    let current = detail.finding.state;
    let active = current.is_active();
    let ctx = context! {
        f => view,
        may_acknowledge => active
            && current != crate::findings::State::Acknowledged
            && viewer.may_acknowledge(&unit),
        may_act => active && viewer.may_act(),
        read_only => !viewer.may_act() && !viewer.may_acknowledge(&unit),
        problem => problem.map(|p| p.key),
        entered => entered,
    };
    let html = state.templates.render("finding.html", viewer, ctx)?;
    let status = problem.map_or(StatusCode::OK, |p| p.status);
    Ok((status, html).into_response())
}
