//! Console accounts as the CLI, the demo and the tests make them: the
//! checks of a new account, and sessions opened for a known account.

use chrono::{DateTime, Utc};

use super::password;
use super::session::id_hash;
use crate::domain::{Language, Role, UnitCode};
use crate::storage::{StorageError, Store};

/// Why an account cannot be added or given a password: each says which
/// input was wrong.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("account name: expected 1 to 64 letters, digits or . _ - @ characters, got `{0}`")]
    InvalidName(String),
    #[error("an account named `{0}` already exists")]
    Exists(String),
    #[error("no account named `{0}`")]
    Unknown(String),
    #[error("--unit is required for a unit head (--role unit_head)")]
    UnitRequired,
    #[error("--unit is only for a unit head, not for role {0}")]
    UnitNotAllowed(Role),
    #[error("--unit: `{0}` is not one of the configured [[units]]")]
    UnknownUnit(UnitCode),
    #[error("password: expected at least {min} characters, got {0}", min = password::MIN_LENGTH)]
    ShortPassword(usize),
    #[error(transparent)]
    Hash(#[from] password::HashError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A new account, before its password.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub name: String,
    pub role: Role,
    pub unit: Option<UnitCode>,
    pub language: Language,
}

impl NewAccount {
    /// Refuses a bad name, a unit head without a unit, a unit for another
    /// role, and a unit not among `units` (the configured ones).
    pub fn check(&self, units: &[UnitCode]) -> Result<(), AccountError> {
        let name_ok = !self.name.is_empty()
            && self.name.chars().count() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
        if !name_ok {
            return Err(AccountError::InvalidName(self.name.clone()));
        }
        match (self.role, &self.unit) {
            (Role::UnitHead, None) => Err(AccountError::UnitRequired),
            (Role::UnitHead, Some(u)) if !units.contains(u) => {
                Err(AccountError::UnknownUnit(u.clone()))
            }
            (Role::Inspection | Role::Leadership, Some(_)) => {
                Err(AccountError::UnitNotAllowed(self.role))
            }
            _ => Ok(()),
        }
    }
}

/// Refuses a password shorter than [`password::MIN_LENGTH`] characters.
pub fn check_password(password: &str) -> Result<(), AccountError> {
    let n = password.chars().count();
    if n < password::MIN_LENGTH {
        return Err(AccountError::ShortPassword(n));
    }
    Ok(())
}

/// Checks and stores a new account with `password`'s argon2 hash. What
/// `users add` does, for the demo and the tests too.
pub async fn create_user(
    store: &Store,
    account: &NewAccount,
    password: &str,
    units: &[UnitCode],
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    account.check(units)?;
    check_password(password)?;
    let hash = hash_blocking(password).await?;
    let created = store
        .create_console_user(
            &account.name,
            account.role,
            account.unit.as_ref(),
            account.language,
            Some(&hash),
            now,
        )
        .await?;
    if !created {
        return Err(AccountError::Exists(account.name.clone()));
    }
    Ok(())
}

/// Replaces an account's password (and ends its sessions).
pub async fn set_password(
    store: &Store,
    name: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    check_password(password)?;
    let hash = hash_blocking(password).await?;
    if !store.set_console_password(name, &hash, now).await? {
        return Err(AccountError::Unknown(name.to_owned()));
    }
    Ok(())
}

async fn hash_blocking(password: &str) -> Result<String, AccountError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| password::HashError::from_join(&e))?
        .map_err(AccountError::from)
}

/// A session just opened: the id goes in the cookie (and nowhere else),
/// the token in every form.
#[derive(Clone)]
pub struct OpenedSession {
    pub id: String,
    pub csrf_token: String,
}

impl std::fmt::Debug for OpenedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpenedSession { .. }")
    }
}

/// Opens a session for the account `user` (which must exist). The login
/// and the trusted proxy's sign-on use it; so may a test or the demo.
pub async fn open_session(
    store: &Store,
    user: &str,
    now: DateTime<Utc>,
) -> Result<OpenedSession, StorageError> {
    let opened = OpenedSession {
        id: password::token(),
        csrf_token: password::token(),
    };
    store
        .create_console_session(&id_hash(&opened.id), user, &opened.csrf_token, now)
        .await?;
    Ok(opened)
}
