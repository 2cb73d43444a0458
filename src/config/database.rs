//! `[database]`: where the store lives and how it is connected to.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::DatabaseUrl;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    pub url: DatabaseUrl,
    /// Overrides the password in `url` (for `LoadCredential=`).
    pub password_file: Option<PathBuf>,
    pub max_connections: u32,
    #[serde(with = "humantime_serde")]
    pub acquire_timeout: Duration,
    /// SQLite only: how long a writer waits for the lock before failing.
    #[serde(with = "humantime_serde")]
    pub busy_timeout: Duration,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: DatabaseUrl::parse("sqlite://data/par-monitor.db").expect("valid default"),
            password_file: None,
            max_connections: 5,
            acquire_timeout: Duration::from_secs(10),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

impl DatabaseSettings {
    /// Problems with `[database]`, as `(key, message)`.
    pub(super) fn check(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.max_connections == 0 {
            out.push((
                "database.max_connections".into(),
                "expected at least 1".into(),
            ));
        }
        out
    }
}
