//! Configuration: one TOML file, overridden by `PARMON__SECTION__KEY`
//! environment variables, parsed into typed settings at start-up.
//!
//! This is the only module that reads the environment. Every struct denies
//! unknown keys, so a typo is an error rather than a silently ignored
//! setting, and every error names the file (or variable), the key and what
//! was expected. Secrets are [`Secret`]s: their `Debug` and `Serialize`
//! print `[redacted]`, and each can come from a `*_file` key so systemd's
//! `LoadCredential=` works.
//!
//! Loading is in `load` (with `env`, the environment, and `error`, what a
//! rejected configuration says); each section has its file, with its
//! types, their defaults and its own checks, and [`Settings::validate`]
//! runs them all.

use std::time::Duration;

use serde::{Deserialize, Serialize};

mod alerts;
mod api;
mod database;
mod digests;
mod email;
mod env;
mod error;
mod http;
mod indicators;
mod load;
mod log;
mod metrics;
mod reload;
mod rules;
mod sources;
mod units;
mod values;
mod watchdog;
mod web;

pub use alerts::{GroupingSettings, Route, RouteTo, default_routes};
pub use api::{ApiSettings, ApiToken};
pub use database::DatabaseSettings;
pub use digests::{DigestKind, DigestSettings};
pub use email::{EmailSettings, SmtpSettings, SmtpTls, TransportKind};
pub use env::{EnvSource, ProcessEnv, ServiceEnv};
pub use error::{ConfigError, ConfigProblem};
pub use http::HttpSettings;
pub use indicators::IndicatorSettings;
pub use log::{LogFormat, LogSettings};
pub use metrics::MetricsSettings;
pub use reload::{Reloadable, ReloadableEmail};
pub use rules::RulesSettings;
pub use units::UnitSettings;
pub use watchdog::WatchdogSettings;
pub use web::WebSettings;

pub use sources::{
    AuthSettings, ClientAuth, FeedMapping, MappingSettings, PaginationSettings, PaginationStyle,
    Protocol, SourceSettings, SourcesSettings,
};
pub use values::{BaseUrl, DatabaseUrl, Fraction, HttpUrl, Schedule, Secret};

/// The prefix of environment overrides; `__` separates nesting levels.
pub const ENV_PREFIX: &str = "PARMON__";
pub const DEFAULT_CONFIG_PATH: &str = "config/par-monitor.toml";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Keys that must be set in the file (or by a `PARMON__` variable)
    /// before par-monitor runs. The packaged file lists the upstream
    /// `base_url`s and `email.transport`, so that a fresh install neither
    /// polls the simulator's default address nor marks e-mails "sent" into
    /// a folder nobody reads. A disabled source's keys are not required.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require: Vec<String>,
    #[serde(default)]
    pub database: DatabaseSettings,
    #[serde(default)]
    pub http: HttpSettings,
    #[serde(default)]
    pub log: LogSettings,
    #[serde(default)]
    pub sources: SourcesSettings,
    #[serde(default)]
    pub mapping: MappingSettings,
    #[serde(default)]
    pub indicators: IndicatorSettings,
    #[serde(default)]
    pub rules: RulesSettings,
    #[serde(default)]
    pub email: EmailSettings,
    #[serde(default)]
    pub api: ApiSettings,
    #[serde(default)]
    pub web: WebSettings,
    #[serde(default)]
    pub digests: DigestSettings,
    #[serde(default)]
    pub risk: crate::risk::RiskWeights,
    #[serde(default)]
    pub metrics: MetricsSettings,
    #[serde(default)]
    pub watchdog: WatchdogSettings,
    #[serde(default)]
    pub units: Vec<UnitSettings>,
    /// What the service manager told the process through its environment.
    /// Not a setting: read from the environment at load, never from a file.
    #[serde(skip)]
    pub service: ServiceEnv,
}

impl Settings {
    /// Checks that need more than one key at a time: each section's own,
    /// every problem named.
    fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let problems = [
            self.database.check(),
            self.sources.check(),
            self.rules.check(),
            self.email.check(),
            self.metrics.check(),
            self.watchdog.check(),
            self.digests.check(),
            check_risk(&self.risk),
            self.api.check(),
            self.web.check(),
            units::check(&self.units),
        ];
        let problems = problems
            .into_iter()
            .flatten()
            .map(|(key, message)| error::problem(origin, key, message))
            .collect();
        error::into_result(problems)
    }

    /// The console's address for links in e-mails, when the console is on.
    pub fn console_url(&self) -> Option<String> {
        self.web.enabled.then(|| self.web.base_url())
    }

    /// Where an alert links each finding (`{id}` is replaced):
    /// `email.evidence_url`, or the console's finding page when it is on.
    pub fn evidence_url(&self) -> Option<String> {
        self.email
            .evidence_url
            .clone()
            .or_else(|| self.console_url().map(|u| format!("{u}/findings/{{id}}")))
    }

    /// Settings that are valid but probably not what the operator wants,
    /// logged at start-up.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let stall = self.watchdog.stall_after;
        let mut limits: Vec<(String, Duration)> = self
            .sources
            .all()
            .into_iter()
            .filter(|(_, s)| s.enabled)
            .map(|(name, s)| (format!("sources.{name}.request_timeout"), s.request_timeout))
            .collect();
        limits.push(("email.send_timeout".into(), self.email.send_timeout));
        for (key, limit) in limits {
            if limit >= stall {
                out.push(format!(
                    "{key} ({}) is not shorter than watchdog.stall_after ({}): one slow step \
                     will count as a stuck loop and, under systemd's watchdog, restart the daemon",
                    humantime::format_duration(limit),
                    humantime::format_duration(stall)
                ));
            }
        }
        out
    }

    /// The effective configuration as TOML, secrets redacted.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self)
            .unwrap_or_else(|e| format!("# cannot render configuration: {e}\n"))
    }
}

/// Problems with `[risk]`, as `(key, message)`: the weights check
/// themselves (in `risk`) and name their key in the message.
fn check_risk(risk: &crate::risk::RiskWeights) -> Vec<(String, String)> {
    match risk.check() {
        Ok(()) => Vec::new(),
        Err(e) => {
            let (key, message) = e.split_once(": ").unwrap_or(("risk", e.as_str()));
            vec![(key.to_owned(), message.to_owned())]
        }
    }
}

#[cfg(test)]
mod tests;
