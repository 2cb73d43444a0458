//! Units: the directory of units par-monitor watches.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::codec::{parse, ts};
use super::{Result, Store, with_pool};
use crate::domain::{EmailAddress, Unit, UnitCode};

impl Store {
    /// Writes the units from configuration; a configured unit wins over an
    /// inferred one with the same code.
    pub async fn upsert_configured_units(&self, units: &[Unit], now: DateTime<Utc>) -> Result<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
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
}
