//! What a command loads before it works: the settings (and logging), the
//! database, or the daemon's parts.

use std::path::Path;
use std::sync::Arc;

use crate::app::App;
use crate::config::Settings;
use crate::storage::Store;
use crate::time::{SharedClock, SystemClock};

use super::error::CliError;

/// How much a command logs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Logs {
    /// At the configured level: the daemon and the commands that poll.
    Configured,
    /// Warnings only: the tools whose output is a table or a document.
    Quiet,
}

/// Loads the configuration (exit status 2 when it is invalid) and starts
/// logging.
pub fn configured(path: &Path, logs: Logs) -> Result<Settings, CliError> {
    let settings = load_settings(path)?;
    let level = match logs {
        Logs::Configured => settings.log.level.as_str(),
        Logs::Quiet => "warn",
    };
    crate::telemetry::init(level, settings.log.format, &settings.service);
    Ok(settings)
}

/// Loads the configuration without starting logging.
pub fn load_settings(path: &Path) -> Result<Settings, CliError> {
    Ok(crate::app::load_settings(path)?)
}

pub fn clock() -> SharedClock {
    Arc::new(SystemClock)
}

/// The daemon's parts, for the commands that act as the daemon does
/// (`run`, `check`, `poll`): configured units are written to the database.
pub async fn build(settings: Settings) -> Result<App, CliError> {
    build_at(settings, clock()).await
}

pub async fn build_at(settings: Settings, clock: SharedClock) -> Result<App, CliError> {
    Ok(App::build(settings, clock).await?)
}

/// The parts a tool reads with: nothing of the configuration is written,
/// so a tool run beside a daemon changes nothing it does.
pub async fn open(settings: Settings) -> Result<App, CliError> {
    Ok(App::open(settings, clock()).await?)
}

/// Opens the database only (no rules, no upstreams): enough for the
/// findings and silences commands, which must work while an upstream or a
/// rules file is broken.
pub async fn open_store(settings: &Settings) -> Result<Store, CliError> {
    let store = Store::connect(&settings.database).await?;
    store.migrate().await?;
    Ok(store)
}
