//! Units: the directory of units par-monitor watches.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::codec::{from_ts, parse, ts};
use super::{BeginWrite, Result, Store, with_pool};
use crate::domain::{EmailAddress, Unit, UnitCode};

/// A unit's directory fields as stored: name, kind, parent, head's address.
type UnitFields = (String, Option<String>, Option<String>, Option<String>);

fn fields_of(u: &Unit) -> UnitFields {
    (
        u.name.clone(),
        u.kind.map(|k| k.as_str().to_owned()),
        u.parent.as_ref().map(|p| p.as_str().to_owned()),
        u.head_email.as_ref().map(|e| e.as_str().to_owned()),
    )
}

/// A unit as stored, as a directory listing compares it.
struct KnownUnit {
    fields: UnitFields,
    /// `config`, `directory` or `inferred`.
    origin: String,
    retired: bool,
}

/// What a directory listing does to one unit it lists, if anything.
/// Configured units are the operator's word and are left alone; an
/// inferred unit is added as though it were new.
fn directory_change(known: Option<&KnownUnit>, listed: &UnitFields) -> Option<&'static str> {
    match known {
        Some(k) if k.origin == "config" => None,
        None => Some("added"),
        Some(k) if k.origin == "inferred" => Some("added"),
        Some(k) if k.retired => Some("restored"),
        Some(KnownUnit {
            fields: (name, kind, parent, head),
            ..
        }) => {
            if *name != listed.0 {
                Some("renamed")
            } else if (kind, parent, head) != (&listed.1, &listed.2, &listed.3) {
                Some("updated")
            } else {
                None
            }
        }
    }
}

/// The statement that writes a unit from `$origin` (`config` or
/// `directory`), bringing it back if it was retired.
macro_rules! upsert_unit_query {
    ($code:expr, $fields:expr, $origin:expr, $now_s:expr) => {{
        let (name, kind, parent, head): &UnitFields = $fields;
        sqlx::query(
            "INSERT INTO units (code, name, kind, parent_code, head_email, origin, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
             ON CONFLICT (code) DO UPDATE SET
                name = excluded.name, kind = excluded.kind, parent_code = excluded.parent_code,
                head_email = excluded.head_email, origin = excluded.origin, retired_at = NULL,
                updated_at = excluded.updated_at",
        )
        .bind($code)
        .bind(name.as_str())
        .bind(kind.as_deref())
        .bind(parent.as_deref())
        .bind(head.as_deref())
        .bind($origin)
        .bind($now_s)
    }};
}

/// The statement that records a unit's `$change` in `unit_history`, with
/// its fields after the change.
macro_rules! unit_history_query {
    ($code:expr, $change:expr, $fields:expr, $now_s:expr) => {{
        let (name, kind, parent, head): &UnitFields = $fields;
        sqlx::query(
            "INSERT INTO unit_history (unit_code, at, change, name, kind, parent_code, head_email)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($code)
        .bind($now_s)
        .bind($change)
        .bind(name.as_str())
        .bind(kind.as_deref())
        .bind(parent.as_deref())
        .bind(head.as_deref())
    }};
}

/// Inside a transaction: retires unit `$code` (never deleted: findings and
/// records cite it) and records it in `unit_history`.
macro_rules! retire_unit {
    ($tx:expr, $code:expr, $fields:expr, $now_s:expr) => {{
        let code: &str = $code;
        sqlx::query("UPDATE units SET retired_at = $1, updated_at = $1 WHERE code = $2")
            .bind($now_s)
            .bind(code)
            .execute(&mut *$tx)
            .await?;
        unit_history_query!(code, "retired", $fields, $now_s)
            .execute(&mut *$tx)
            .await?;
    }};
}

/// Inside a transaction: every unit as stored, by code.
macro_rules! known_units {
    ($tx:expr) => {{
        let rows = sqlx::query(
            "SELECT code, name, kind, parent_code, head_email, origin, retired_at FROM units",
        )
        .fetch_all(&mut *$tx)
        .await?;
        let mut known = std::collections::HashMap::new();
        for r in &rows {
            let code: String = r.try_get("code")?;
            let unit = KnownUnit {
                fields: (
                    r.try_get("name")?,
                    r.try_get("kind")?,
                    r.try_get("parent_code")?,
                    r.try_get("head_email")?,
                ),
                origin: r.try_get("origin")?,
                retired: r.try_get::<Option<i64>, _>("retired_at")?.is_some(),
            };
            known.insert(code, unit);
        }
        known
    }};
}

impl Store {
    /// Writes the units from configuration; a configured unit wins over an
    /// inferred one with the same code.
    pub async fn upsert_configured_units(&self, units: &[Unit], now: DateTime<Utc>) -> Result<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            for u in units {
                upsert_unit_query!(u.code.as_str(), &fields_of(u), "config", ts(now))
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
            let known = known_units!(&mut *tx);
            let (mut added, mut changed, mut retired) = (0, 0, 0);
            let mut seen = std::collections::HashSet::new();
            for u in listed {
                seen.insert(u.code.as_str().to_owned());
                let fields = fields_of(u);
                let Some(change) = directory_change(known.get(u.code.as_str()), &fields) else {
                    continue;
                };
                upsert_unit_query!(u.code.as_str(), &fields, "directory", now_s)
                    .execute(&mut *tx)
                    .await?;
                unit_history_query!(u.code.as_str(), change, &fields, now_s)
                    .execute(&mut *tx)
                    .await?;
                if change == "added" {
                    added += 1;
                } else {
                    changed += 1;
                }
            }
            if complete {
                for (code, unit) in &known {
                    if unit.origin != "directory" || unit.retired || seen.contains(code) {
                        continue;
                    }
                    retire_unit!(&mut *tx, code, &unit.fields, now_s);
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
                let fields: UnitFields = (
                    r.try_get("name")?,
                    r.try_get("kind")?,
                    r.try_get("parent_code")?,
                    r.try_get("head_email")?,
                );
                retire_unit!(&mut *tx, &code, &fields, ts(now));
                retired += 1;
            }
            tx.commit().await?;
            Ok(retired)
        })
    }
}
