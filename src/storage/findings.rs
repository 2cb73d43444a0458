//! Findings, their append-only audit trail, and the notification rows
//! written in the same transaction as every notifying transition.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::codec::{from_ts, from_ts_opt, json, parse, ts};
use super::{BeginWrite, Result, Store, with_pool};
use crate::domain::{Severity, UnitCode};
use crate::findings::{Current, EventKind, LastResult, State, Streak};
use crate::rules::RuleId;

/// A finding as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingRecord {
    pub id: i64,
    pub rule_id: RuleId,
    pub unit_code: UnitCode,
    pub state: State,
    pub severity: Severity,
    pub last_result: LastResult,
    /// The latest evaluation's evidence (value, threshold, sample).
    pub last_detail: serde_json::Value,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub last_evaluated_at: DateTime<Utc>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub silenced_until: Option<DateTime<Utc>>,
    pub silenced_by: Option<String>,
    pub silence_reason: Option<String>,
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
     opened_at, updated_at, resolved_at, last_evaluated_at, acknowledged_by, acknowledged_at,
     silenced_until, silenced_by, silence_reason";

macro_rules! finding_from_row {
    ($r:expr) => {{
        let r = $r;
        let state: String = r.try_get("state")?;
        let severity: String = r.try_get("severity")?;
        let last: String = r.try_get("last_result")?;
        let detail: String = r.try_get("last_detail")?;
        let rule: String = r.try_get("rule_id")?;
        let unit: String = r.try_get("unit_code")?;
        Ok::<_, super::StorageError>(FindingRecord {
            id: r.try_get("id")?,
            rule_id: parse("findings.rule_id", &rule)?,
            unit_code: parse("findings.unit_code", &unit)?,
            state: parse("findings.state", &state)?,
            severity: parse("findings.severity", &severity)?,
            last_result: parse("findings.last_result", &last)?,
            last_detail: json("findings.last_detail", &detail)?,
            opened_at: from_ts(r.try_get("opened_at")?),
            updated_at: from_ts(r.try_get("updated_at")?),
            resolved_at: from_ts_opt(r.try_get("resolved_at")?),
            last_evaluated_at: from_ts(r.try_get("last_evaluated_at")?),
            acknowledged_by: r.try_get("acknowledged_by")?,
            acknowledged_at: from_ts_opt(r.try_get("acknowledged_at")?),
            silenced_until: from_ts_opt(r.try_get("silenced_until")?),
            silenced_by: r.try_get("silenced_by")?,
            silence_reason: r.try_get("silence_reason")?,
        })
    }};
}

/// The statement that opens a finding for transition `$t`, unless the
/// (rule, unit) pair already has one; it returns the new finding's id.
macro_rules! insert_finding_query {
    ($t:expr, $detail:expr, $at:expr, $resolved_at:expr) => {{
        let t: &FindingTransition = $t;
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
        .bind($detail)
        .bind($at)
        .bind($resolved_at)
    }};
}

/// The statement that applies transition `$t` to finding `$id` if it is
/// still `$cur` (compare-and-set: it changes one row or none).
macro_rules! update_finding_query {
    ($t:expr, $id:expr, $cur:expr, $detail:expr, $at:expr, $resolved_at:expr) => {{
        let t: &FindingTransition = $t;
        let cur: &Current = $cur;
        sqlx::query(
            "UPDATE findings SET state = $1, severity = $2, last_result = $3, last_detail = $4,
                    updated_at = $5, last_evaluated_at = $5,
                    resolved_at = $6,
                    opened_at = CASE WHEN $7 THEN $5 ELSE opened_at END
             WHERE id = $8 AND state = $9 AND severity = $10 AND last_result = $11",
        )
        .bind(t.state.as_str())
        .bind(t.severity.as_str())
        .bind(t.last_result.as_str())
        .bind($detail)
        .bind($at)
        .bind($resolved_at)
        .bind(t.kind == EventKind::Reopened)
        .bind($id)
        .bind(cur.state.as_str())
        .bind(cur.severity.as_str())
        .bind(cur.last_result.as_str())
    }};
}

/// The statement that appends one event to a finding's audit trail
/// (`finding_events`, whose triggers refuse edits).
macro_rules! finding_event_query {
    ($finding_id:expr, $at:expr, $kind:expr, $actor:expr, $note:expr, $state:expr, $severity:expr, $evidence:expr) => {
        sqlx::query(
            "INSERT INTO finding_events (finding_id, at, kind, actor, note, state, severity, evidence)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind($finding_id)
        .bind($at)
        .bind($kind)
        .bind($actor)
        .bind($note)
        .bind($state)
        .bind($severity)
        .bind($evidence)
    };
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

    /// Applies a transition, writes its audit event and the notifications
    /// `notify` returns for the finding's id: all in one transaction. Returns the finding id, or `None` when the finding was
    /// no longer what the caller expected (another instance got there first).
    pub async fn apply_finding_transition<F>(
        &self,
        t: &FindingTransition,
        notify: F,
    ) -> Result<Option<i64>>
    where
        F: FnOnce(i64) -> Vec<super::NewNotification>,
    {
        let detail = t.evidence.to_string();
        let at = ts(t.at);
        let resolved_at = (t.state == State::Resolved).then_some(at);
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let id: Option<i64> = match &t.expected {
                None => {
                    insert_finding_query!(t, &detail, at, resolved_at)
                        .fetch_optional(&mut *tx)
                        .await?
                }
                Some((id, cur)) => {
                    let n = update_finding_query!(t, *id, cur, &detail, at, resolved_at)
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
            finding_event_query!(
                id,
                at,
                t.kind.as_str(),
                &t.actor,
                t.note.as_deref(),
                t.state.as_str(),
                t.severity.as_str(),
                &detail
            )
            .execute(&mut *tx)
            .await?;
            for n in notify(id) {
                super::notifications::insert_notification_query!(id, &n, t.at)
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
            let mut tx = pool.begin_write().await?;
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

    /// Every stored hysteresis streak, keyed by (rule, unit).
    pub async fn rule_streaks(&self) -> Result<HashMap<(String, String), Streak>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query("SELECT rule_id, unit_code, fails, passes FROM rule_streaks")
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| {
                    let fails: i64 = r.try_get("fails")?;
                    let passes: i64 = r.try_get("passes")?;
                    Ok((
                        (r.try_get("rule_id")?, r.try_get("unit_code")?),
                        Streak {
                            fails: u32::try_from(fails).unwrap_or(u32::MAX),
                            passes: u32::try_from(passes).unwrap_or(u32::MAX),
                        },
                    ))
                })
                .collect()
        })
    }

    /// Stores changed streaks in one transaction; a streak back to zero is
    /// deleted, so that only failing pairs and pairs on their way to
    /// resolution are kept.
    pub async fn save_rule_streaks(
        &self,
        changed: &[((String, String), Streak)],
        at: DateTime<Utc>,
    ) -> Result<()> {
        if changed.is_empty() {
            return Ok(());
        }
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            for ((rule, unit), streak) in changed {
                if *streak == Streak::default() {
                    sqlx::query("DELETE FROM rule_streaks WHERE rule_id = $1 AND unit_code = $2")
                        .bind(rule)
                        .bind(unit)
                        .execute(&mut *tx)
                        .await?;
                } else {
                    sqlx::query(
                        "INSERT INTO rule_streaks (rule_id, unit_code, fails, passes, updated_at)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (rule_id, unit_code) DO UPDATE SET
                            fails = excluded.fails, passes = excluded.passes, updated_at = excluded.updated_at",
                    )
                    .bind(rule)
                    .bind(unit)
                    .bind(i64::from(streak.fails))
                    .bind(i64::from(streak.passes))
                    .bind(ts(at))
                    .execute(&mut *tx)
                    .await?;
                }
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

    /// Every finding that is not resolved, as `(rule, unit, severity)` (for
    /// metrics: per unit, per severity, per plan section).
    pub async fn active_finding_keys(&self) -> Result<Vec<(String, String, Severity)>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT rule_id, unit_code, severity FROM findings WHERE state <> 'resolved'",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let s: String = r.try_get("severity")?;
                    Ok((
                        r.try_get("rule_id")?,
                        r.try_get("unit_code")?,
                        parse("findings.severity", &s)?,
                    ))
                })
                .collect()
        })
    }

    /// Applies a person's action (acknowledge, silence, resolve) if the
    /// finding is still in the state the person saw, with its audit event.
    /// Returns false when the finding changed in between.
    pub async fn apply_workflow_change(&self, c: &WorkflowChange) -> Result<bool> {
        let at = ts(c.at);
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let (ack_by, ack_at) = if c.kind == EventKind::Acknowledged {
                (Some(c.actor.clone()), Some(at))
            } else {
                (None, None)
            };
            let silencing = c.kind == EventKind::Silenced;
            let n = sqlx::query(
                "UPDATE findings SET
                    state = $1, updated_at = $2,
                    acknowledged_by = COALESCE($3, acknowledged_by),
                    acknowledged_at = COALESCE($4, acknowledged_at),
                    silenced_until = CASE WHEN $5 THEN $6 ELSE silenced_until END,
                    silenced_by = CASE WHEN $5 THEN $7 ELSE silenced_by END,
                    silence_reason = CASE WHEN $5 THEN $8 ELSE silence_reason END,
                    state_before_silence = CASE WHEN $5 AND state <> 'silenced' THEN state ELSE state_before_silence END,
                    resolved_at = CASE WHEN $1 = 'resolved' THEN $2 ELSE resolved_at END
                 WHERE id = $9 AND state = $10 AND severity = $11",
            )
            .bind(c.state.as_str())
            .bind(at)
            .bind(ack_by)
            .bind(ack_at)
            .bind(silencing)
            .bind(c.silenced_until.map(ts))
            .bind(silencing.then(|| c.actor.clone()))
            .bind(silencing.then(|| c.note.clone()))
            .bind(c.id)
            .bind(c.expected.state.as_str())
            .bind(c.expected.severity.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
            let evidence: String =
                sqlx::query_scalar("SELECT last_detail FROM findings WHERE id = $1")
                    .bind(c.id)
                    .fetch_one(&mut *tx)
                    .await?;
            finding_event_query!(
                c.id,
                at,
                c.kind.as_str(),
                &c.actor,
                Some(c.note.as_str()).filter(|n| !n.is_empty()),
                c.state.as_str(),
                c.expected.severity.as_str(),
                &evidence
            )
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Ends the silences of findings whose time is up: each returns to the
    /// state it had before, with a `silence_expired` event and the
    /// notifications `notify` returns, in the same transaction. Returns the
    /// findings whose silence ended.
    pub async fn expire_finding_silences<F>(
        &self,
        now: DateTime<Utc>,
        notify: F,
    ) -> Result<Vec<FindingRecord>>
    where
        F: Fn(&FindingRecord) -> Vec<super::NewNotification>,
    {
        let due: Vec<FindingRecord> = self
            .findings()
            .await?
            .into_iter()
            .filter(|f| f.state == State::Silenced && f.silenced_until.is_some_and(|u| u <= now))
            .collect();
        let mut ended = Vec::new();
        for f in due {
            let restored = with_pool!(self, |pool| {
                async {
                let mut tx = pool.begin_write().await?;
                let before: Option<Option<String>> =
                    sqlx::query_scalar("SELECT state_before_silence FROM findings WHERE id = $1 AND state = 'silenced'")
                        .bind(f.id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let Some(before) = before else {
                    tx.rollback().await?;
                    return Ok::<_, super::StorageError>(None);
                };
                let state = before.unwrap_or_else(|| "open".into());
                sqlx::query(
                    "UPDATE findings SET state = $1, updated_at = $2, silenced_until = NULL,
                            state_before_silence = NULL WHERE id = $3",
                )
                .bind(&state)
                .bind(ts(now))
                .bind(f.id)
                .execute(&mut *tx)
                .await?;
                finding_event_query!(
                    f.id,
                    ts(now),
                    EventKind::SilenceExpired.as_str(),
                    crate::domain::SYSTEM_ACTOR,
                    None::<&str>,
                    &state,
                    f.severity.as_str(),
                    f.last_detail.to_string()
                )
                .execute(&mut *tx)
                .await?;
                let restored = FindingRecord {
                    state: parse("findings.state", &state)?,
                    silenced_until: None,
                    ..f.clone()
                };
                for n in notify(&restored) {
                    super::notifications::insert_notification_query!(f.id, &n, now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(Some(restored))
            }
            .await?
            });
            ended.extend(restored);
        }
        Ok(ended)
    }

    pub async fn add_silence(&self, s: &NewSilence, now: DateTime<Utc>) -> Result<i64> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_scalar(
                "INSERT INTO silences (rule_id, unit_code, unit_kind, until, created_by, reason, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(s.rule_id.as_deref())
            .bind(s.unit_code.as_deref())
            .bind(s.unit_kind.as_deref())
            .bind(ts(s.until))
            .bind(&s.created_by)
            .bind(&s.reason)
            .bind(ts(now))
            .fetch_one(pool)
            .await?)
        })
    }

    /// Silences, newest first; with `active_at`, only those in force then.
    pub async fn silences(&self, active_at: Option<DateTime<Utc>>) -> Result<Vec<Silence>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT id, rule_id, unit_code, unit_kind, until, created_by, reason, created_at, ended_at
                 FROM silences ORDER BY id DESC",
            )
            .fetch_all(pool)
            .await?;
            let all = rows
                .iter()
                .map(|r| {
                    Ok(Silence {
                        id: r.try_get("id")?,
                        rule_id: r.try_get("rule_id")?,
                        unit_code: r.try_get("unit_code")?,
                        unit_kind: r.try_get("unit_kind")?,
                        until: from_ts(r.try_get("until")?),
                        created_by: r.try_get("created_by")?,
                        reason: r.try_get("reason")?,
                        created_at: from_ts(r.try_get("created_at")?),
                        ended_at: from_ts_opt(r.try_get("ended_at")?),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(all
                .into_iter()
                .filter(|s| active_at.is_none_or(|t| s.is_active(t)))
                .collect())
        })
    }

    /// Ends a silence early. Returns false if it was not in force.
    pub async fn end_silence(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        with_pool!(self, |pool| {
            Ok(sqlx::query("UPDATE silences SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL AND until > $1")
                .bind(ts(now))
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
                == 1)
        })
    }
}

/// A person's action to apply (see [`Store::apply_workflow_change`]).
#[derive(Clone, Debug)]
pub struct WorkflowChange {
    pub id: i64,
    pub expected: Current,
    pub kind: EventKind,
    pub state: State,
    pub actor: String,
    pub note: String,
    pub silenced_until: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSilence {
    pub rule_id: Option<String>,
    pub unit_code: Option<String>,
    pub unit_kind: Option<String>,
    pub until: DateTime<Utc>,
    pub created_by: String,
    pub reason: String,
}

/// A silence by matcher: findings whose rule, unit and unit kind match every
/// given matcher send no notification while it is in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Silence {
    pub id: i64,
    pub rule_id: Option<String>,
    pub unit_code: Option<String>,
    pub unit_kind: Option<String>,
    pub until: DateTime<Utc>,
    pub created_by: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

impl Silence {
    pub fn is_active(&self, at: DateTime<Utc>) -> bool {
        self.ended_at.is_none() && self.until > at && self.created_at <= at
    }

    pub fn matches(&self, rule_id: &str, unit_code: &str, unit_kind: Option<&str>) -> bool {
        self.rule_id.as_deref().is_none_or(|r| r == rule_id)
            && self.unit_code.as_deref().is_none_or(|u| u == unit_code)
            && self
                .unit_kind
                .as_deref()
                .is_none_or(|k| Some(k) == unit_kind)
    }
}
