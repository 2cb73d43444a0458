//! `/inspections` (the inspection team only): each unit's risk, the
//! proposals for unannounced inspection made so far, and a form that draws
//! a new one exactly as `par-monitor inspections plan` does (recorded with
//! the viewer as who asked, and e-mailed to the team only). A proposal's
//! page is confidential, marked as its e-mail is, and never cached.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::{Deserialize, Serialize};

use super::figures::Words;
use super::{Viewer, WebError, WebState};
use crate::live::Context;
use crate::notify::compose::PlanUnit;
use crate::risk::Pick;
use crate::time::rfc3339_local;

pub(super) const TEXTS: Words = &[
    (
        "inspections.title",
        "Kiểm tra đột xuất",
        "Unannounced inspections",
    ),
    (
        "inspections.confidential",
        "MẬT — CHỈ DÀNH CHO ĐOÀN KIỂM TRA",
        "CONFIDENTIAL — FOR THE INSPECTION TEAM ONLY",
    ),
    (
        "inspections.do_not_forward",
        "Không chuyển tiếp nội dung này cho các đơn vị được đề xuất.",
        "Do not pass this on to the units proposed.",
    ),
    (
        "inspections.risks",
        "Mức rủi ro của các đơn vị",
        "Each unit's risk",
    ),
    ("inspections.risk", "Điểm rủi ro", "Risk score"),
    (
        "inspections.findings",
        "Phát hiện đang mở",
        "Active findings",
    ),
    ("inspections.critical", "Nghiêm trọng", "Critical"),
    ("inspections.sections", "Nội dung kế hoạch", "Plan sections"),
    (
        "inspections.draw",
        "Đề xuất danh sách kiểm tra đột xuất",
        "Draw a proposal",
    ),
    ("inspections.count", "Số đơn vị", "Units"),
    (
        "inspections.seed",
        "Hạt giống (để trống: ngẫu nhiên)",
        "Seed (empty: random)",
    ),
    ("inspections.reason", "Lý do", "Reason"),
    (
        "inspections.default_reason",
        "Đề xuất từ giao diện quản trị",
        "Drawn in the console",
    ),
    ("inspections.submit", "Đề xuất", "Draw"),
    (
        "inspections.proposals",
        "Các đề xuất đã lập",
        "Proposals made",
    ),
    (
        "inspections.proposal",
        "Đề xuất kiểm tra đột xuất",
        "Unannounced-inspection proposal",
    ),
    (
        "inspections.none",
        "Chưa có đề xuất nào.",
        "No proposal yet.",
    ),
    ("inspections.at", "Thời điểm", "When"),
    ("inspections.by", "Người đề nghị", "Requested by"),
    ("inspections.units", "Số đơn vị", "Units"),
    ("inspections.pick", "Cách chọn", "Why"),
    (
        "inspections.pick.highest_risk",
        "rủi ro cao nhất",
        "highest risk",
    ),
    (
        "inspections.pick.drawn",
        "ngẫu nhiên có trọng số",
        "weighted random draw",
    ),
    (
        "inspections.method",
        "Danh sách gồm các đơn vị có rủi ro cao nhất và một phần chọn ngẫu nhiên có trọng số, để mọi đơn vị đều có khả năng được chọn. Có thể tái lập từ hạt giống:",
        "The highest risks, plus a weighted random share so that every unit may be picked. Reproducible from the seed:",
    ),
    (
        "inspections.back",
        "Về trang kiểm tra đột xuất",
        "Back to unannounced inspections",
    ),
];

/// The reason recorded when the form leaves it empty: the console says
/// where the proposal came from rather than refusing it.
const DEFAULT_REASON: &str = "Đề xuất từ giao diện quản trị";

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        .route("/inspections", get(page))
        .route("/inspections/draw", post(draw))
        .route("/inspections/{id}", get(proposal))
}

/// Confidential pages are not kept by browsers or proxies.
fn confidential(html: Html<String>) -> Response {
    ([(CACHE_CONTROL, "no-store")], html).into_response()
}

#[derive(Clone, Debug, Serialize)]
pub(super) struct RiskRow {
    pub code: String,
    pub name: String,
    pub score: f64,
    pub findings: u32,
    pub critical: u32,
    pub sections: String,
}

#[derive(Clone, Debug, Serialize)]
pub(super) struct PlanRow {
    pub id: i64,
    pub created_at: String,
    pub requested_by: String,
    pub reason: String,
    pub seed: String,
    pub units: usize,
}

fn context(state: &WebState) -> Context {
    Context {
        store: state.store.clone(),
        live: state.live.load(),
        started_at: state.clock.now(),
    }
}

async fn page(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, WebError> {
    viewer.require_inspections()?;
    let (risks, plans) = build(&state).await?;
    let html = state.templates.render(
        "inspections.html",
        &viewer,
        minijinja::context! { risks => risks, plans => plans },
    )?;
    Ok(confidential(html))
}

/// The risk ranking (highest first) and the proposals (newest first).
pub(super) async fn build(state: &WebState) -> anyhow::Result<(Vec<RiskRow>, Vec<PlanRow>)> {
    let ctx = context(state);
    let names: std::collections::HashMap<String, String> = ctx
        .store
        .units()
        .await?
        .into_iter()
        .map(|u| (u.code.to_string(), u.name))
        .collect();
    let risks = crate::inspections::risks(&ctx, ctx.started_at)
        .await?
        .into_iter()
        .map(|r| RiskRow {
            name: names.get(r.unit.as_str()).cloned().unwrap_or_default(),
            code: r.unit.to_string(),
            score: r.score,
            findings: r.findings,
            critical: r.critical,
            sections: r
                .sections
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let plans = ctx
        .store
        .inspection_plans()
        .await?
        .into_iter()
        .map(|p| PlanRow {
            id: p.id,
            created_at: rfc3339_local(p.created_at),
            requested_by: p.requested_by,
            reason: p.reason,
            seed: p.seed.to_string(),
            units: p.proposal.as_array().map_or(0, Vec::len),
        })
        .collect();
    Ok((risks, plans))
}

/// The draw form. Every field defaults to empty, so that a form without a
/// token reaches the CSRF check (and its 403) rather than a parse error.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DrawForm {
    pub count: String,
    pub seed: String,
    pub reason: String,
    pub csrf_token: String,
}

impl DrawForm {
    /// The number of units, the seed (none: a fresh one) and the reason,
    /// or what is wrong, naming the field.
    pub fn request(&self) -> Result<(usize, Option<u64>, String), WebError> {
        let count = match self.count.trim() {
            "" => 5,
            c => c.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                WebError::BadRequest(format!("count: `{c}` is not a number of units (1 or more)"))
            })?,
        };
        let seed = match self.seed.trim() {
            "" => None,
            s => Some(s.parse::<u64>().map_err(|_| {
                WebError::BadRequest(format!(
                    "seed: `{s}` is not a seed: expected a whole number from 0 to {}",
                    u64::MAX
                ))
            })?),
        };
        let reason = match self.reason.trim() {
            "" => DEFAULT_REASON.to_owned(),
            r => r.to_owned(),
        };
        Ok((count, seed, reason))
    }
}

/// `POST /inspections/draw`: the token first, then the team check, then
/// the draw, as the CLI draws, with the viewer as who asked.
async fn draw(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    body: Bytes,
) -> Result<Response, WebError> {
    let form: DrawForm = super::form::parse(&body)?;
    viewer.check_csrf(&form.csrf_token)?;
    viewer.require_inspections()?;
    let (count, seed, reason) = form.request()?;
    let ctx = context(&state);
    let outcome =
        crate::inspections::plan(&ctx, count, seed, &viewer.name, &reason, ctx.started_at).await?;
    Ok(Redirect::to(&format!("/inspections/{}", outcome.id)).into_response())
}

#[derive(Clone, Debug, Serialize)]
pub(super) struct ProposalUnit {
    pub code: String,
    pub name: String,
    pub risk: f64,
    pub pick_key: &'static str,
}

async fn proposal(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    viewer.require_inspections()?;
    let id: i64 = id
        .parse()
        .map_err(|_| WebError::NotFound(format!("proposal {id}")))?;
    let plan = state
        .store
        .inspection_plans()
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| WebError::NotFound(format!("proposal {id}")))?;
    let units: Vec<PlanUnit> = serde_json::from_value(plan.proposal.clone())
        .map_err(|e| WebError::Internal(anyhow::anyhow!("proposal {id}: {e}")))?;
    let units: Vec<ProposalUnit> = units
        .into_iter()
        .map(|u| ProposalUnit {
            pick_key: match u.pick {
                Pick::HighestRisk => "inspections.pick.highest_risk",
                Pick::Drawn => "inspections.pick.drawn",
            },
            code: u.code,
            name: u.name,
            risk: u.risk,
        })
        .collect();
    let html = state.templates.render(
        "proposal.html",
        &viewer,
        minijinja::context! {
            id => plan.id,
            created_at => rfc3339_local(plan.created_at),
            requested_by => plan.requested_by,
            reason => plan.reason,
            seed => plan.seed.to_string(),
            units => units,
        },
    )?;
    Ok(confidential(html))
}

#[cfg(test)]
mod tests;
