//! Units: the directory of units par-monitor watches.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::codec::{from_ts, parse, ts};
use super::{BeginWrite, Result, Store, with_pool};
use crate::domain::{EmailAddress, Unit, UnitCode};

impl Store {
    /// Writes the units from configuration; a configured unit wins over an
    /// inferred one with the same code.
    pub async fn upsert_configured_units(&self, units: &[Unit], now: DateTime<Utc>) -> Result<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            for u in units {
                sqlx::query(
                    "INSERT INTO units (code, name, kind, parent_code, head_email, origin, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, 'config', $6, $6)
                     ON CONFLICT (code) DO UPDATE SET
                        name = excluded.name, kind = excluded.kind, parent_code = excluded.parent_code,
                        head_email = excluded.head_email, origin = 'config', retired_at = NULL,
                        updated_at = excluded.updated_at",
                )
                .bind(u.code.as_str())
                .bind(&u.name)
                .bind(u.kind.map(|k| k.as_str()))
                .bind(u.parent.as_ref().map(|p| p.as_str().to_owned()))
                .bind(u.head_email.as_ref().map(|e| e.as_str().to_owned()))
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// All units that are not retired, by code.
    pub async fn units(&self) -> Result<Vec<Unit>> {
        let rows = with_pool!(self, |pool| {
            sqlx::query(
                "SELECT code, name, kind, parent_code, head_email FROM units
                 WHERE retired_at IS NULL ORDER BY code",
            )
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| {
                Ok::<_, sqlx::Error>((
                    r.try_get::<String, _>("code")?,
                    r.try_get::<String, _>("name")?,
                    r.try_get::<Option<String>, _>("kind")?,
                    r.try_get::<Option<String>, _>("parent_code")?,
                    r.try_get::<Option<String>, _>("head_email")?,
                ))
            })
            .collect::<Result<Vec<_>, _>>()?
        });
        rows.into_iter()
            .map(|(code, name, kind, parent, head)| {
                Ok(Unit {
                    code: parse::<UnitCode>("units.code", &code)?,
                    name,
                    kind: kind.map(|k| parse("units.kind", &k)).transpose()?,
                    parent: parent
                        .map(|p| parse::<UnitCode>("units.parent_code", &p))
                        .transpose()?,
                    // An address that no longer parses is dropped, not fatal:
                    // the unit's alerts then go to the inspection team only.
                    head_email: head.and_then(|h| EmailAddress::parse(&h).ok()),
                })
            })
            .collect()
    }

    /// Applies a unit directory listing. New units are added, changed ones
    /// updated with the old version kept in `unit_history`; when the listing
    /// is `complete`, directory units missing from it are retired (never
    /// deleted: findings and records cite them). Units from configuration
    /// are the operator's word and are left alone. Returns (added, changed,
    /// retired).
    pub async fn apply_unit_directory(
        &self,
        listed: &[Unit],
        complete: bool,
        now: DateTime<Utc>,
    ) -> Result<(u64, u64, u64)> {
        let now_s = ts(now);
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let rows = sqlx::query(
                "SELECT code, name, kind, parent_code, head_email, origin, retired_at FROM units",
            )
            .fetch_all(&mut *tx)
            .await?;
            let mut known = std::collections::HashMap::new();
            for r in &rows {
                let code: String = r.try_get("code")?;
                let row: (
                    String,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    String,
                    Option<i64>,
                ) = (
                    r.try_get("name")?,
                    r.try_get("kind")?,
                    r.try_get("parent_code")?,
                    r.try_get("head_email")?,
                    r.try_get("origin")?,
                    r.try_get("retired_at")?,
                );
                known.insert(code, row);
            }
            let (mut added, mut changed, mut retired) = (0, 0, 0);
            let mut seen = std::collections::HashSet::new();
            for u in listed {
                seen.insert(u.code.as_str().to_owned());
                let new = (
                    u.name.clone(),
                    u.kind.map(|k| k.as_str().to_owned()),
                    u.parent.as_ref().map(|p| p.as_str().to_owned()),
                    u.head_email.as_ref().map(|e| e.as_str().to_owned()),
                );
                let change = match known.get(u.code.as_str()) {
                    Some((_, _, _, _, origin, _)) if origin == "config" => None,
                    None => Some("added"),
                    Some((_, _, _, _, origin, _)) if origin == "inferred" => Some("added"),
                    Some((_, _, _, _, _, Some(_))) => Some("restored"),
                    Some((name, kind, parent, head, _, None)) => {
                        if *name != new.0 {
                            Some("renamed")
                        } else if (kind, parent, head) != (&new.1, &new.2, &new.3) {
                            Some("updated")
                        } else {
                            None
                        }
                    }
                };
                let Some(change) = change else { continue };
                sqlx::query(
                    "INSERT INTO units (code, name, kind, parent_code, head_email, origin, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, 'directory', $6, $6)
                     ON CONFLICT (code) DO UPDATE SET
                        name = excluded.name, kind = excluded.kind, parent_code = excluded.parent_code,
                        head_email = excluded.head_email, origin = 'directory', retired_at = NULL,
                        updated_at = excluded.updated_at",
                )
                .bind(u.code.as_str())
                .bind(&new.0)
                .bind(new.1.as_deref())
                .bind(new.2.as_deref())
                .bind(new.3.as_deref())
                .bind(now_s)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO unit_history (unit_code, at, change, name, kind, parent_code, head_email)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(u.code.as_str())
                .bind(now_s)
                .bind(change)
                .bind(&new.0)
                .bind(new.1.as_deref())
                .bind(new.2.as_deref())
                .bind(new.3.as_deref())
                .execute(&mut *tx)
                .await?;
                if change == "added" {
                    added += 1;
                } else {
                    changed += 1;
                }
            }
            if complete {
                for (code, (name, kind, parent, head, origin, retired_at)) in &known {
                    if origin != "directory" || retired_at.is_some() || seen.contains(code) {
                        continue;
                    }
                    sqlx::query(
                        "UPDATE units SET retired_at = $1, updated_at = $1 WHERE code = $2",
                    )
                    .bind(now_s)
                    .bind(code)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO unit_history (unit_code, at, change, name, kind, parent_code, head_email)
                         VALUES ($1, $2, 'retired', $3, $4, $5, $6)",
                    )
                    .bind(code)
                    .bind(now_s)
                    .bind(name)
                    .bind(kind.as_deref())
                    .bind(parent.as_deref())
                    .bind(head.as_deref())
                    .execute(&mut *tx)
                    .await?;
                    retired += 1;
                }
            }
            tx.commit().await?;
            Ok((added, changed, retired))
        })
    }

    /// A unit's directory history, oldest first: (time, change, name).
    pub async fn unit_history(&self, code: &str) -> Result<Vec<(DateTime<Utc>, String, String)>> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT at, change, name FROM unit_history WHERE unit_code = $1 ORDER BY id",
            )
            .bind(code)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        from_ts(r.try_get("at")?),
                        r.try_get("change")?,
                        r.try_get("name")?,
                    ))
                })
                .collect()
        })
    }

    /// Retires the units that came from configuration and are no longer in
    /// it, recording each in `unit_history` (a unit is never deleted: its
    /// findings and records still cite it). Returns how many were retired.
    pub async fn retire_unconfigured_units(
        &self,
        configured: &[UnitCode],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let keep: std::collections::HashSet<&str> = configured.iter().map(|c| c.as_str()).collect();
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let rows = sqlx::query(
                "SELECT code, name, kind, parent_code, head_email FROM units
                 WHERE origin = 'config' AND retired_at IS NULL",
            )
            .fetch_all(&mut *tx)
            .await?;
            let mut retired = 0;
            for r in &rows {
                let code: String = r.try_get("code")?;
                if keep.contains(code.as_str()) {
                    continue;
                }
                sqlx::query("UPDATE units SET retired_at = $1, updated_at = $1 WHERE code = $2")
                    .bind(ts(now))
                    .bind(&code)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO unit_history (unit_code, at, change, name, kind, parent_code, head_email)
                     VALUES ($1, $2, 'retired', $3, $4, $5, $6)",
                )
                .bind(&code)
                .bind(ts(now))
                .bind(r.try_get::<String, _>("name")?)
                .bind(r.try_get::<Option<String>, _>("kind")?)
                .bind(r.try_get::<Option<String>, _>("parent_code")?)
                .bind(r.try_get::<Option<String>, _>("head_email")?)
                .execute(&mut *tx)
                .await?;
                retired += 1;
            }
            tx.commit().await?;
            Ok(retired)
        })
    }
}
