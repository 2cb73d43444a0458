//! Proposals for unannounced inspection: confidential, kept with who asked,
//! why, and the seed that reproduces them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::codec::{from_ts, json, ts};
use super::{BeginWrite, NewEmail, Result, Store, with_pool};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InspectionPlan {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub requested_by: String,
    pub reason: String,
    pub seed: u64,
    pub requested_count: i64,
    pub proposal: serde_json::Value,
    pub weights: serde_json::Value,
}

impl Store {
    /// Records a proposal and, in the same transaction, the e-mail that
    /// takes it to the inspection team (if `email` is given).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_inspection_plan<F>(
        &self,
        requested_by: &str,
        reason: &str,
        seed: u64,
        requested_count: i64,
        proposal: &serde_json::Value,
        weights: &serde_json::Value,
        now: DateTime<Utc>,
        email: F,
    ) -> Result<i64>
    where
        F: FnOnce(i64) -> Option<NewEmail>,
    {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            // Seeds are u64; the column is a signed 64-bit integer, so the
            // bits are stored as they are and read back the same way.
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO inspection_plans (created_at, requested_by, reason, seed, requested_count, proposal, weights)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(ts(now))
            .bind(requested_by)
            .bind(reason)
            .bind(seed as i64)
            .bind(requested_count)
            .bind(proposal.to_string())
            .bind(weights.to_string())
            .fetch_one(&mut *tx)
            .await?;
            if let Some(e) = email(id) {
                super::outbox::enqueue_query!(&e, now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(id)
        })
    }

    pub async fn inspection_plans(&self) -> Result<Vec<InspectionPlan>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT id, created_at, requested_by, reason, seed, requested_count, proposal, weights
                 FROM inspection_plans ORDER BY id DESC",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let proposal: String = r.try_get("proposal")?;
                    let weights: String = r.try_get("weights")?;
                    let seed: i64 = r.try_get("seed")?;
                    Ok(InspectionPlan {
                        id: r.try_get("id")?,
                        created_at: from_ts(r.try_get("created_at")?),
                        requested_by: r.try_get("requested_by")?,
                        reason: r.try_get("reason")?,
                        seed: seed as u64,
                        requested_count: r.try_get("requested_count")?,
                        proposal: json("inspection_plans.proposal", &proposal)?,
                        weights: json("inspection_plans.weights", &weights)?,
                    })
                })
                .collect()
        })
    }

    /// (finding id, event kind) of events of the given kinds since `since`.
    pub async fn finding_events_since(&self, since: DateTime<Utc>) -> Result<Vec<(i64, String)>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query("SELECT finding_id, kind FROM finding_events WHERE at >= $1")
                .bind(ts(since))
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| Ok((r.try_get("finding_id")?, r.try_get("kind")?)))
                .collect()
        })
    }
}
