//! `users`: the web console's accounts. Passwords are read from standard
//! input (twice, without echo, on a terminal) and stored as argon2 hashes.

use std::io::{BufRead, IsTerminal};

use chrono::Utc;
use clap::{Subcommand, ValueEnum};
use serde::Serialize;

use crate::config::Settings;
use crate::domain::{Language, Role, UnitCode};
use crate::storage::{ConsoleUser, Store};
use crate::web::auth::{AccountError, NewAccount, check_password, create_user, set_password};

use super::error::{CliError, CliResult};
use super::load::open_store;
use super::output::{Format, print_json};

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add an account; the password is read from standard input.
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The unit a unit head heads (a code of the configured [[units]]);
        /// only for --role unit_head.
        #[arg(long)]
        unit: Option<String>,
        #[arg(long, value_enum, default_value_t = LanguageArg::Vi)]
        language: LanguageArg,
    },
    /// Every account with its role, unit, language and whether it is disabled.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Disable an account and end its sessions.
    Disable { name: String },
    /// Replace an account's password (read from standard input) and end its
    /// sessions.
    SetPassword { name: String },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum RoleArg {
    Inspection,
    Leadership,
    UnitHead,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Inspection => Role::Inspection,
            RoleArg::Leadership => Role::Leadership,
            RoleArg::UnitHead => Role::UnitHead,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LanguageArg {
    Vi,
    En,
}

impl From<LanguageArg> for Language {
    fn from(l: LanguageArg) -> Language {
        match l {
            LanguageArg::Vi => Language::Vi,
            LanguageArg::En => Language::En,
        }
    }
}

/// An account refused for its input is the operator's to fix (exit status
/// 2); a database failure is not.
impl From<AccountError> for CliError {
    fn from(e: AccountError) -> CliError {
        match e {
            AccountError::Storage(e) => CliError::failure(e),
            AccountError::Hash(e) => CliError::failure(e),
            refused => CliError::usage(refused),
        }
    }
}

/// `par-monitor users …`.
pub async fn run(settings: Settings, command: UsersCommand) -> CliResult {
    let store = open_store(&settings).await?;
    let now = Utc::now();
    match command {
        UsersCommand::Add {
            name,
            role,
            unit,
            language,
        } => {
            let unit = unit
                .map(|u| UnitCode::parse(&u).map_err(|e| CliError::usage(format!("--unit: {e}"))))
                .transpose()?;
            let account = NewAccount {
                name,
                role: role.into(),
                unit,
                language: language.into(),
            };
            let units: Vec<UnitCode> = settings.units.iter().map(|u| u.code.clone()).collect();
            // Refused before the password is asked for.
            account.check(&units)?;
            if store.console_user(&account.name).await?.is_some() {
                return Err(AccountError::Exists(account.name).into());
            }
            let password = read_password()?;
            create_user(&store, &account, &password, &units, now).await?;
            println!("account {} added ({})", account.name, account.role);
            Ok(())
        }
        UsersCommand::List { format } => list(&store, format).await,
        UsersCommand::Disable { name } => {
            if !store.disable_console_user(&name, now).await? {
                return Err(AccountError::Unknown(name).into());
            }
            println!("account {name} disabled; its sessions are ended");
            Ok(())
        }
        UsersCommand::SetPassword { name } => {
            if store.console_user(&name).await?.is_none() {
                return Err(AccountError::Unknown(name).into());
            }
            let password = read_password()?;
            set_password(&store, &name, &password, now).await?;
            println!("password of {name} replaced; its sessions are ended");
            Ok(())
        }
    }
}

/// The password: on a terminal asked twice without echo (they must
/// match); otherwise the first line of standard input.
fn read_password() -> Result<String, CliError> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Mật khẩu / Password: ")
            .map_err(|e| CliError::failure(anyhow::anyhow!("cannot read the password: {e}")))?;
        check_password(&first)?;
        let again = rpassword::prompt_password("Nhập lại / Again: ")
            .map_err(|e| CliError::failure(anyhow::anyhow!("cannot read the password: {e}")))?;
        if first != again {
            return Err(CliError::usage("password: the two entries differ"));
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::failure(anyhow::anyhow!("cannot read the password: {e}")))?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    check_password(&password)?;
    Ok(password)
}

/// An account as `users list --format json` prints it.
#[derive(Serialize)]
struct UserRow<'a> {
    name: &'a str,
    role: Role,
    unit: Option<&'a str>,
    language: Language,
    disabled: bool,
}

impl<'a> From<&'a ConsoleUser> for UserRow<'a> {
    fn from(u: &'a ConsoleUser) -> Self {
        UserRow {
            name: &u.name,
            role: u.role,
            unit: u.unit.as_ref().map(UnitCode::as_str),
            language: u.language,
            disabled: u.disabled,
        }
    }
}

async fn list(store: &Store, format: Format) -> CliResult {
    let users = store.console_users().await?;
    let rows: Vec<UserRow> = users.iter().map(UserRow::from).collect();
    if format == Format::Json {
        print_json(&rows);
        return Ok(());
    }
    if rows.is_empty() {
        println!("No accounts yet: add one with `par-monitor users add NAME --role …`.");
    }
    for r in &rows {
        println!(
            "{:<24} {:<11} {:<10} {}{}",
            r.name,
            r.role.as_str(),
            r.unit.unwrap_or("-"),
            r.language.as_str(),
            if r.disabled { "  disabled" } else { "" }
        );
    }
    Ok(())
}
