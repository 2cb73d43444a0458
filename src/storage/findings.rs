//! Findings, their append-only audit trail, and the transactional outbox
//! write that goes with every notifying transition.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::codec::{from_ts, from_ts_opt, json, parse, ts};
use super::{Result, Store, with_pool};
use crate::domain::Severity;
use crate::findings::{Current, EventKind, LastResult, State};

/// A finding as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingRecord {
    pub id: i64,
    pub rule_id: String,
    pub unit_code: String,
    pub state: State,
    pub severity: Severity,
    pub last_result: LastResult,
    /// The latest evaluation's evidence (value, threshold, sample).
    pub last_detail: serde_json::Value,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub last_evaluated_at: DateTime<Utc>,
}

impl FindingRecord {
    pub fn current(&self) -> Current {
        Current {
            state: self.state,
            severity: self.severity,
            last_result: self.last_result,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingEvent {
    pub id: i64,
    pub finding_id: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub actor: String,
    pub note: Option<String>,
    pub state: State,
    pub severity: Severity,
    pub evidence: serde_json::Value,
}

/// One transition to apply, with what the caller believed the finding was,
/// so that two instances evaluating at once cannot both apply it.
#[derive(Clone, Debug)]
pub struct FindingTransition {
    pub rule_id: String,
    pub unit_code: String,
    /// `None`: the finding must not exist yet.
    pub expected: Option<(i64, Current)>,
    pub kind: EventKind,
    pub state: State,
    pub severity: Severity,
    pub last_result: LastResult,
    pub evidence: serde_json::Value,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub note: Option<String>,
}

/// An e-mail to queue in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEmail {
    /// Makes a repeated enqueue harmless: the same key is never queued twice.
    pub dedup_key: String,
    pub message_id: String,
    pub kind: String,
    pub recipients: Vec<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

const FINDING_COLUMNS: &str = "id, rule_id, unit_code, state, severity, last_result, last_detail,
     opened_at, updated_at, resolved_at, last_evaluated_at";

macro_rules! finding_from_row {
    ($r:expr) => {{
        let r = $r;
        let state: String = r.try_get("state")?;
        let severity: String = r.try_get("severity")?;
        let last: String = r.try_get("last_result")?;
        let detail: String = r.try_get("last_detail")?;
        Ok::<_, super::StorageError>(FindingRecord {
            id: r.try_get("id")?,
            rule_id: r.try_get("rule_id")?,
            unit_code: r.try_get("unit_code")?,
            state: parse("findings.state", &state)?,
            severity: parse("findings.severity", &severity)?,
            last_result: parse("findings.last_result", &last)?,
            last_detail: json("findings.last_detail", &detail)?,
            opened_at: from_ts(r.try_get("opened_at")?),
            updated_at: from_ts(r.try_get("updated_at")?),
            resolved_at: from_ts_opt(r.try_get("resolved_at")?),
            last_evaluated_at: from_ts(r.try_get("last_evaluated_at")?),
        })
    }};
}

impl Store {
    /// Every finding, active or resolved.
    pub async fn findings(&self) -> Result<Vec<FindingRecord>> {
        with_pool!(self, |pool| {
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT {FINDING_COLUMNS} FROM findings ORDER BY id"
            ));
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter().map(|r| finding_from_row!(r)).collect()
        })
    }

    pub async fn finding(&self, id: i64) -> Result<Option<FindingRecord>> {
        with_pool!(self, |pool| {
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT {FINDING_COLUMNS} FROM findings WHERE id = $1"
            ));
            let row = sqlx::query(sql).bind(id).fetch_optional(pool).await?;
            row.as_ref().map(|r| finding_from_row!(r)).transpose()
        })
    }

    /// The audit trail of one finding, oldest first.
    pub async fn finding_events(&self, finding_id: i64) -> Result<Vec<FindingEvent>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT id, finding_id, at, kind, actor, note, state, severity, evidence
                 FROM finding_events WHERE finding_id = $1 ORDER BY id",
            )
            .bind(finding_id)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let state: String = r.try_get("state")?;
                    let severity: String = r.try_get("severity")?;
                    let evidence: String = r.try_get("evidence")?;
                    Ok(FindingEvent {
                        id: r.try_get("id")?,
                        finding_id: r.try_get("finding_id")?,
                        at: from_ts(r.try_get("at")?),
                        kind: r.try_get("kind")?,
                        actor: r.try_get("actor")?,
                        note: r.try_get("note")?,
                        state: parse("finding_events.state", &state)?,
                        severity: parse("finding_events.severity", &severity)?,
                        evidence: json("finding_events.evidence", &evidence)?,
                    })
                })
                .collect()
        })
    }

    /// Applies a transition, writes its audit event and, when `compose`
    /// returns an e-mail for the finding's id, queues it: all in one
    /// transaction. Returns the finding id, or `None` when the finding was
    /// no longer what the caller expected (another instance got there first).
    pub async fn apply_finding_transition<F>(
        &self,
        t: &FindingTransition,
        compose: F,
    ) -> Result<Option<i64>>
    where
        F: FnOnce(i64) -> Option<NewEmail>,
    {
        let detail = t.evidence.to_string();
        let at = ts(t.at);
        let resolved_at = (t.state == State::Resolved).then_some(at);
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let id: Option<i64> = match &t.expected {
                None => {
                    sqlx::query_scalar(
                        "INSERT INTO findings (rule_id, unit_code, state, severity, last_result, last_detail,
                                               opened_at, updated_at, resolved_at, last_evaluated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $7)
                         ON CONFLICT (rule_id, unit_code) DO NOTHING
                         RETURNING id",
                    )
                    .bind(&t.rule_id)
                    .bind(&t.unit_code)
                    .bind(t.state.as_str())
                    .bind(t.severity.as_str())
                    .bind(t.last_result.as_str())
                    .bind(&detail)
                    .bind(at)
                    .bind(resolved_at)
                    .fetch_optional(&mut *tx)
                    .await?
                }
                Some((id, cur)) => {
                    let reopened = t.kind == EventKind::Reopened;
                    let n = sqlx::query(
                        "UPDATE findings SET state = $1, severity = $2, last_result = $3, last_detail = $4,
                                updated_at = $5, last_evaluated_at = $5,
                                resolved_at = $6,
                                opened_at = CASE WHEN $7 THEN $5 ELSE opened_at END
                         WHERE id = $8 AND state = $9 AND severity = $10 AND last_result = $11",
                    )
                    .bind(t.state.as_str())
                    .bind(t.severity.as_str())
                    .bind(t.last_result.as_str())
                    .bind(&detail)
                    .bind(at)
                    .bind(resolved_at)
                    .bind(reopened)
                    .bind(*id)
                    .bind(cur.state.as_str())
                    .bind(cur.severity.as_str())
                    .bind(cur.last_result.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    (n == 1).then_some(*id)
                }
            };
            let Some(id) = id else {
                tx.rollback().await?;
                return Ok(None);
            };
            sqlx::query(
                "INSERT INTO finding_events (finding_id, at, kind, actor, note, state, severity, evidence)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(at)
            .bind(t.kind.as_str())
            .bind(&t.actor)
            .bind(t.note.as_deref())
            .bind(t.state.as_str())
            .bind(t.severity.as_str())
            .bind(&detail)
            .execute(&mut *tx)
            .await?;
            if let Some(email) = compose(id) {
                super::outbox::enqueue_query!(&email, t.at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(Some(id))
        })
    }

    /// Records the latest result of findings whose state does not change.
    pub async fn record_finding_results(
        &self,
        results: &[(i64, LastResult, serde_json::Value)],
        at: DateTime<Utc>,
    ) -> Result<()> {
        if results.is_empty() {
            return Ok(());
        }
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            for (id, result, detail) in results {
                sqlx::query(
                    "UPDATE findings SET last_result = $1, last_detail = $2, last_evaluated_at = $3 WHERE id = $4",
                )
                .bind(result.as_str())
                .bind(detail.to_string())
                .bind(ts(at))
                .bind(*id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Active findings per severity (for metrics).
    pub async fn active_findings_by_severity(&self) -> Result<Vec<(Severity, i64)>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT severity, COUNT(*) AS n FROM findings WHERE state <> 'resolved' GROUP BY severity",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let s: String = r.try_get("severity")?;
                    Ok((parse("findings.severity", &s)?, r.try_get("n")?))
                })
                .collect()
        })
    }
}
