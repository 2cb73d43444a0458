//! Risk per unit and proposals for unannounced inspection, around the pure
//! `risk` module: gathers the facts from storage, records the proposal with
//! who asked, why and its seed, and e-mails it to the inspection team only.
//! A proposal is confidential: nothing addressed to a unit contains it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{EmailAddress, UnitCode};
use crate::live::Context;
use crate::notify::compose::{Composer, PlanMail, PlanUnit};
use crate::risk::{FindingFacts, UnitRisk, propose, score};
use crate::storage::NewEmail;

/// Every unit's risk from its active findings, highest first.
pub async fn risks(ctx: &Context, now: DateTime<Utc>) -> anyhow::Result<Vec<UnitRisk>> {
    let units: Vec<UnitCode> = ctx
        .store
        .units()
        .await?
        .into_iter()
        .map(|u| u.code)
        .collect();
    let section_of: HashMap<&str, u8> = ctx
        .live
        .rules
        .rules
        .iter()
        .map(|r| (r.id.as_str(), r.section.number()))
        .collect();
    let worsening: std::collections::HashSet<i64> = ctx
        .store
        .finding_events_since(now - chrono::Duration::days(30))
        .await?
        .into_iter()
        .filter(|(_, kind)| kind == "reopened" || kind == "severity_changed")
        .map(|(id, _)| id)
        .collect();
    let facts: Vec<FindingFacts> = ctx
        .store
        .findings()
        .await?
        .into_iter()
        .filter(|f| f.state.is_active())
        .map(|f| FindingFacts {
            // A finding of a rule no longer configured still counts, in
            // the "other tasks" section.
            section: section_of.get(f.rule_id.as_str()).copied().unwrap_or(5),
            worsening: worsening.contains(&f.id),
            unit: f.unit_code,
            severity: f.severity,
            opened_at: f.opened_at,
        })
        .collect();
    let mut r = score(&units, &facts, &ctx.live.settings.risk, now);
    r.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.unit.cmp(&b.unit))
    });
    Ok(r)
}

#[derive(Clone, Debug, Serialize)]
pub struct PlanOutcome {
    pub id: i64,
    pub seed: u64,
    pub units: Vec<PlanUnit>,
    /// How many inspection-team addresses the proposal was queued for.
    pub recipients: usize,
}

/// Proposes `count` units, records the proposal and queues its e-mail to
/// the inspection team in the same transaction.
pub async fn plan(
    ctx: &Context,
    count: usize,
    seed: Option<u64>,
    requested_by: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<PlanOutcome> {
    check_request(count, requested_by, reason)?;
    let seed = seed.unwrap_or_else(rand::random);
    let risks = risks(ctx, now).await?;
    let directory = ctx.store.units().await?;
    let names: HashMap<String, String> = directory
        .iter()
        .map(|u| (u.code.to_string(), u.name.clone()))
        .collect();
    let units: Vec<PlanUnit> = propose(&risks, count, &ctx.live.settings.risk, seed)
        .into_iter()
        .map(|p| PlanUnit {
            name: names.get(p.unit.as_str()).cloned().unwrap_or_default(),
            code: p.unit.to_string(),
            risk: p.risk,
            pick: p.pick,
        })
        .collect();
    // The configuration in force, reloads included.
    let live = &ctx.live;
    let recipients: Vec<_> = crate::notify::routing::confidential_recipients(
        &live.settings.email.inspection_team,
        &directory,
    )
    .into_iter()
    .map(|r| r.address)
    .collect();
    let composer = &live.composer;
    let id = ctx
        .store
        .record_inspection_plan(
            requested_by.trim(),
            reason.trim(),
            seed,
            count as i64,
            &serde_json::to_value(&units)?,
            &serde_json::to_value(&ctx.live.settings.risk)?,
            now,
            |id| {
                let mail = PlanMail {
                    plan_id: id,
                    requested_by: requested_by.trim(),
                    reason: reason.trim(),
                    seed,
                    units: &units,
                    at: now,
                };
                proposal_mail(composer, &mail, &recipients)
            },
        )
        .await?;
    tracing::info!(
        plan = id,
        units = units.len(),
        "unannounced-inspection proposal recorded"
    );
    Ok(PlanOutcome {
        id,
        seed,
        recipients: recipients.len(),
        units,
    })
}

/// Refuses a request that does not say how many units, who asks or why.
fn check_request(count: usize, requested_by: &str, reason: &str) -> anyhow::Result<()> {
    anyhow::ensure!(count > 0, "--count must be at least 1");
    anyhow::ensure!(
        !requested_by.trim().is_empty(),
        "--by is required: say who asks"
    );
    anyhow::ensure!(!reason.trim().is_empty(), "--reason is required: say why");
    Ok(())
}

/// The proposal's e-mail to the inspection team; none when the team has no
/// address, or when it cannot be rendered (logged: the proposal is
/// recorded all the same).
fn proposal_mail(
    composer: &Composer,
    mail: &PlanMail<'_>,
    recipients: &[EmailAddress],
) -> Option<NewEmail> {
    if recipients.is_empty() {
        return None;
    }
    match composer.inspection_plan(mail, recipients) {
        Ok(e) => Some(e),
        Err(e) => {
            tracing::error!(plan = mail.plan_id, error = %e, "cannot render the proposal e-mail");
            None
        }
    }
}
