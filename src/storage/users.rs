//! The web console's accounts, their sessions and the failed logins the
//! rate limit counts. A session is kept by the SHA-256 of its id, never the
//! id itself; a password only as its argon2 PHC string.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::codec::{from_ts, parse, ts};
use super::{BeginWrite, Result, StorageError, Store, with_pool};
use crate::domain::{Language, Role, UnitCode};

/// A console account, without its password hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleUser {
    pub name: String,
    pub role: Role,
    /// A unit head's unit; `None` for the other roles.
    pub unit: Option<UnitCode>,
    pub language: Language,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A console session found by its id's hash, with its account.
#[derive(Clone)]
pub struct ConsoleSession {
    pub user: ConsoleUser,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

impl std::fmt::Debug for ConsoleSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSession")
            .field("user", &self.user.name)
            .field("created_at", &self.created_at)
            .field("last_seen_at", &self.last_seen_at)
            .finish_non_exhaustive()
    }
}

const USER_COLUMNS: &str =
    "u.name, u.role, u.unit_code, u.language, u.disabled, u.created_at, u.updated_at";

fn language(value: &str) -> Result<Language> {
    match value {
        "vi" => Ok(Language::Vi),
        "en" => Ok(Language::En),
        other => Err(StorageError::Corrupt(format!(
            "column console_users.language: `{other}` is neither vi nor en"
        ))),
    }
}

/// A `ConsoleUser` from a row of either backend.
macro_rules! user_from_row {
    ($r:expr) => {{
        let r = $r;
        let role: String = r.try_get("role")?;
        let unit: Option<String> = r.try_get("unit_code")?;
        let lang: String = r.try_get("language")?;
        Ok::<_, StorageError>(ConsoleUser {
            name: r.try_get("name")?,
            role: Role::parse(&role)
                .map_err(|e| StorageError::Corrupt(format!("column console_users.role: {e}")))?,
            unit: unit
                .map(|u| parse::<UnitCode>("console_users.unit_code", &u))
                .transpose()?,
            language: language(&lang)?,
            disabled: r.try_get("disabled")?,
            created_at: from_ts(r.try_get("created_at")?),
            updated_at: from_ts(r.try_get("updated_at")?),
        })
    }};
}

impl Store {
    /// Adds an account; `false` (and nothing written) when the name is
    /// taken.
    pub async fn create_console_user(
        &self,
        name: &str,
        role: Role,
        unit: Option<&UnitCode>,
        language: Language,
        password_hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        with_pool!(self, |pool| {
            let done = sqlx::query(
                "INSERT INTO console_users
                     (name, role, unit_code, language, password_hash, disabled, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(role.as_str())
            .bind(unit.map(UnitCode::as_str))
            .bind(language.as_str())
            .bind(password_hash)
            .bind(false)
            .bind(ts(now))
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Every account, by name.
    pub async fn console_users(&self) -> Result<Vec<ConsoleUser>> {
        with_pool!(self, |pool| {
            let sql = format!("SELECT {USER_COLUMNS} FROM console_users u ORDER BY u.name");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await?;
            rows.iter().map(|r| user_from_row!(r)).collect()
        })
    }

    pub async fn console_user(&self, name: &str) -> Result<Option<ConsoleUser>> {
        with_pool!(self, |pool| {
            let sql = format!("SELECT {USER_COLUMNS} FROM console_users u WHERE u.name = $1");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(name)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(|r| user_from_row!(r)).transpose()
        })
    }

    /// The account's argon2 PHC string; `None` for an unknown account or
    /// one without a password.
    pub async fn console_password_hash(&self, name: &str) -> Result<Option<String>> {
        with_pool!(self, |pool| {
            let hash: Option<Option<String>> =
                sqlx::query_scalar("SELECT password_hash FROM console_users WHERE name = $1")
                    .bind(name)
                    .fetch_optional(pool)
                    .await?;
            Ok(hash.flatten())
        })
    }

    /// Replaces the account's password and ends its sessions; `false` for
    /// an unknown account.
    pub async fn set_console_password(
        &self,
        name: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE console_users SET password_hash = $2, updated_at = $3 WHERE name = $1",
            )
            .bind(name)
            .bind(password_hash)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM console_sessions WHERE user_name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Disables the account and ends its sessions; `false` for an unknown
    /// account.
    pub async fn disable_console_user(&self, name: &str, now: DateTime<Utc>) -> Result<bool> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE console_users SET disabled = $2, updated_at = $3 WHERE name = $1",
            )
            .bind(name)
            .bind(true)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM console_sessions WHERE user_name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Stores a new session under the SHA-256 (hex) of its id.
    pub async fn create_console_session(
        &self,
        id_sha256: &str,
        user: &str,
        csrf_token: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO console_sessions (id_sha256, user_name, csrf_token, created_at, last_seen_at)
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(id_sha256)
            .bind(user)
            .bind(csrf_token)
            .bind(ts(now))
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// The session whose id hashes to `id_sha256`, with its account.
    pub async fn console_session(&self, id_sha256: &str) -> Result<Option<ConsoleSession>> {
        with_pool!(self, |pool| {
            let sql = format!(
                "SELECT {USER_COLUMNS}, s.csrf_token, s.created_at AS s_created_at, s.last_seen_at
                 FROM console_sessions s JOIN console_users u ON u.name = s.user_name
                 WHERE s.id_sha256 = $1"
            );
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id_sha256)
                .fetch_optional(pool)
                .await?;
            let Some(r) = row else { return Ok(None) };
            Ok(Some(ConsoleSession {
                user: user_from_row!(&r)?,
                csrf_token: r.try_get("csrf_token")?,
                created_at: from_ts(r.try_get("s_created_at")?),
                last_seen_at: from_ts(r.try_get("last_seen_at")?),
            }))
        })
    }

    pub async fn touch_console_session(&self, id_sha256: &str, now: DateTime<Utc>) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query("UPDATE console_sessions SET last_seen_at = $2 WHERE id_sha256 = $1")
                .bind(id_sha256)
                .bind(ts(now))
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    pub async fn end_console_session(&self, id_sha256: &str) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query("DELETE FROM console_sessions WHERE id_sha256 = $1")
                .bind(id_sha256)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Ends the sessions last seen before `before`; returns how many.
    pub async fn end_idle_console_sessions(&self, before: DateTime<Utc>) -> Result<u64> {
        with_pool!(self, |pool| {
            let done = sqlx::query("DELETE FROM console_sessions WHERE last_seen_at < $1")
                .bind(ts(before))
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        })
    }

    /// Records a failed login, and forgets the failures older than
    /// `forget_before`.
    pub async fn record_login_failure(
        &self,
        account: &str,
        address: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM console_login_failures WHERE at < $1")
                .bind(ts(forget_before))
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO console_login_failures (account, address, at) VALUES ($1, $2, $3)",
            )
            .bind(account)
            .bind(address)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Failed logins since `since`: (for this account, from this address).
    pub async fn login_failures_since(
        &self,
        account: &str,
        address: &str,
        since: DateTime<Utc>,
    ) -> Result<(i64, i64)> {
        with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT
                     (SELECT COUNT(*) FROM console_login_failures WHERE account = $1 AND at >= $3) AS by_account,
                     (SELECT COUNT(*) FROM console_login_failures WHERE address = $2 AND at >= $3) AS by_address",
            )
            .bind(account)
            .bind(address)
            .bind(ts(since))
            .fetch_one(pool)
            .await?;
            Ok((row.try_get("by_account")?, row.try_get("by_address")?))
        })
    }
}
