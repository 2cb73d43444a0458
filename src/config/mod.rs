//! Configuration: one TOML file, overridden by `PARMON__SECTION__KEY`
//! environment variables, parsed into typed settings at start-up.
//!
//! This is the only module that reads the environment. Every struct denies
//! unknown keys, so a typo is an error rather than a silently ignored
//! setting, and every error names the file (or variable), the key and what
//! was expected. Secrets are [`Secret`]s: their `Debug` and `Serialize`
//! print `[redacted]`, and each can come from a `*_file` key so systemd's
//! `LoadCredential=` works.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Format, Toml};
use serde::{Deserialize, Serialize};

use crate::domain::{EmailAddress, Language, Recipient, UnitCode, UnitKind};

mod alerts;
mod digests;
mod reload;
mod sources;
mod values;

pub use alerts::{GroupingSettings, Route, RouteTo, default_routes};
pub use digests::{DigestKind, DigestSettings};
pub use reload::{Reloadable, ReloadableEmail};

pub use sources::{
    AuthSettings, ClientAuth, FeedMapping, MappingSettings, PaginationSettings, PaginationStyle,
    Protocol, SourceSettings, SourcesSettings,
};
pub use values::{BaseUrl, DatabaseUrl, Fraction, HttpUrl, Schedule, Secret};

/// The prefix of environment overrides; `__` separates nesting levels.
pub const ENV_PREFIX: &str = "PARMON__";
pub const DEFAULT_CONFIG_PATH: &str = "config/par-monitor.toml";

// ---------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------

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

/// The service manager's side of the environment, read here because this is
/// the only module that reads environment variables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceEnv {
    /// systemd's `JOURNAL_STREAM` (`device:inode` of the journal socket that
    /// standard error is connected to). Telemetry compares it with standard
    /// error and leaves timestamps to journald when they match.
    pub journal_stream: Option<(u64, u64)>,
}

impl ServiceEnv {
    fn from_env(env: &dyn EnvSource) -> Self {
        let journal_stream = env.get("JOURNAL_STREAM").and_then(|v| {
            let (dev, ino) = v.split_once(':')?;
            Some((dev.parse().ok()?, ino.parse().ok()?))
        });
        Self { journal_stream }
    }
}

/// Which series `/metrics` carries per unit. Per-unit series are what make
/// dashboards useful and what costs Prometheus memory: at 3,000 units each
/// per-unit indicator adds 6,000 series (a ratio and a denominator per unit),
/// per-unit findings add 9,000 (one per unit and severity) and the unit
/// directory (`par_monitor_unit_info`) 3,000. The defaults come to about
/// 18,000 series at 3,000 units (config/par-monitor.toml and ARCHITECTURE.md
/// carry the same budget).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Indicators exported per unit (`par_monitor_indicator_ratio{unit,indicator}`
    /// and `par_monitor_indicator_denominator`).
    pub per_unit_indicators: Vec<crate::indicators::IndicatorId>,
    /// Export active findings per unit and severity
    /// (`par_monitor_unit_findings_active{unit,severity}`) and the unit
    /// directory (`par_monitor_unit_info`).
    pub per_unit_findings: bool,
    /// Export each unit's Decision 766 index of the current month
    /// (`par_monitor_unit_score766_points{unit}`); the province's total and
    /// groups are always exported.
    pub per_unit_score766: bool,
    /// How often the database-derived series are refreshed between
    /// evaluation cycles (they are also refreshed after each cycle).
    #[serde(with = "humantime_serde")]
    pub refresh_interval: Duration,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            per_unit_indicators: vec![crate::indicators::IndicatorId::OnTime],
            per_unit_findings: true,
            per_unit_score766: true,
            refresh_interval: Duration::from_secs(15),
        }
    }
}

/// The systemd watchdog. When the unit sets `WatchdogSec=`, par-monitor
/// pings systemd only while every loop (polls, evaluation, outbox, metrics
/// refresh) has shown progress within `stall_after`; a loop stuck for longer
/// stops the pings, and systemd restarts the daemon one `WatchdogSec` later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchdogSettings {
    /// How long a loop may go without progress before it counts as stuck.
    /// Longer than any single step: one upstream request, one e-mail send.
    #[serde(with = "humantime_serde")]
    pub stall_after: Duration,
}

impl Default for WatchdogSettings {
    fn default() -> Self {
        Self {
            stall_after: Duration::from_secs(180),
        }
    }
}

/// The findings API (JSON over HTTP): off unless enabled, on loopback by
/// default, every request authenticated by a bearer token whose SHA-256 is
/// listed here (the tokens themselves are never stored).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiSettings {
    pub enabled: bool,
    pub listen: SocketAddr,
    pub tokens: Vec<ApiToken>,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: "127.0.0.1:9714".parse().expect("valid default"),
            tokens: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiToken {
    /// Who holds the token; recorded as the actor of their actions.
    pub name: String,
    /// Hex SHA-256 of the token (`par-monitor api hash-token` prints it).
    pub sha256: String,
}

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

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// Where `/metrics` and `/healthz` listen.
    pub listen: SocketAddr,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9713".parse().expect("valid default"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// A tracing filter, e.g. `info` or `info,par_monitor=debug`; `RUST_LOG` wins when set.
    pub level: String,
    pub format: LogFormat,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndicatorSettings {
    /// Holiday calendar for working-day deadlines.
    pub holidays_file: PathBuf,
    /// Statutory time limit in working days per procedure code (MaTTHC), used
    /// when a dossier has no promised return date (NgayHenTra).
    pub statutory_days: BTreeMap<String, u32>,
    /// Fallback for procedures not in `statutory_days`; without it such a
    /// dossier's deadline is unknown and it never counts as on time.
    pub default_statutory_days: Option<u32>,
    /// How many record ids a finding keeps as evidence.
    pub evidence_sample: usize,
    /// Cut-offs of the Decision 766 bands that domain.md leaves to the
    /// province (excellent >= 90 and good >= 80 are fixed).
    pub bands: crate::score766::Bands,
}

impl Default for IndicatorSettings {
    fn default() -> Self {
        Self {
            holidays_file: PathBuf::from("config/holidays.toml"),
            statutory_days: BTreeMap::new(),
            default_statutory_days: None,
            evidence_sample: 20,
            bands: crate::score766::Bands::default(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesSettings {
    pub file: PathBuf,
}

impl Default for RulesSettings {
    fn default() -> Self {
        Self {
            file: PathBuf::from("config/rules.toml"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// Write each e-mail as an `.eml` file (demo, staging).
    File,
    Smtp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP: only for a relay on the same host.
    None,
    Starttls,
    /// Implicit TLS (SMTPS, usually port 465).
    Tls,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailSettings {
    /// When false, e-mails are queued in the outbox but none is sent.
    pub enabled: bool,
    pub transport: TransportKind,
    /// The From header, e.g. `par-monitor <par-monitor@vpubnd.example>`.
    pub from: String,
    /// Where the file transport writes `.eml` files.
    pub file_dir: PathBuf,
    /// The inspection team: what `to = "inspection_team"` routes to, and
    /// the only recipients of unannounced-inspection proposals and of
    /// source-outage notices. Plain addresses (read in Vietnamese) or
    /// `{ address, language }` tables.
    #[serde(deserialize_with = "alerts::recipients")]
    pub inspection_team: Vec<Recipient>,
    /// The language of e-mails to unit heads (`to = "unit_head"`).
    pub unit_head_language: Language,
    /// Who is told of which finding; see config/par-monitor.toml.
    pub routes: Vec<Route>,
    /// Timing of grouped alert e-mails.
    pub grouping: GroupingSettings,
    /// A link to a finding's evidence, `{id}` replaced by the finding's id.
    pub evidence_url: Option<String>,
    /// How often the outbox worker looks for due e-mails (it also wakes when one is queued).
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// Attempts before an e-mail is dead-lettered.
    pub max_attempts: u32,
    /// Limit for one whole send (connect, SMTP dialogue, data).
    #[serde(with = "humantime_serde")]
    pub send_timeout: Duration,
    pub smtp: SmtpSettings,
}

impl EmailSettings {
    /// The inspection team's addresses.
    pub fn inspection_team_addresses(&self) -> Vec<EmailAddress> {
        self.inspection_team
            .iter()
            .map(|r| r.address.clone())
            .collect()
    }
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            transport: TransportKind::File,
            from: "par-monitor <par-monitor@localhost>".into(),
            file_dir: PathBuf::from("data/outbox"),
            inspection_team: Vec::new(),
            unit_head_language: Language::Vi,
            routes: default_routes(),
            grouping: GroupingSettings::default(),
            evidence_url: None,
            poll_interval: Duration::from_secs(10),
            max_attempts: 10,
            send_timeout: Duration::from_secs(60),
            smtp: SmtpSettings::default(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub password_file: Option<PathBuf>,
    pub pool_size: u32,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: None,
            port: None,
            tls: SmtpTls::Starttls,
            username: None,
            password: None,
            password_file: None,
            pool_size: 2,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitSettings {
    pub code: UnitCode,
    pub name: String,
    #[serde(default)]
    pub kind: Option<UnitKind>,
    #[serde(default)]
    pub parent: Option<UnitCode>,
    #[serde(default)]
    pub head_email: Option<EmailAddress>,
}

// ---------------------------------------------------------------------------
// Loading and errors
// ---------------------------------------------------------------------------

/// One problem with the configuration: where it is and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The file or environment variable the value came from.
    pub origin: String,
    /// The dotted key, e.g. `email.smtp.host`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.origin, self.message)
        } else {
            write!(f, "{}: key `{}`: {}", self.origin, self.key, self.message)
        }
    }
}

/// Every problem found, so the operator can fix them in one go.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<ConfigProblem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

impl ConfigError {
    fn one(origin: impl Into<String>, key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            problems: vec![ConfigProblem {
                origin: origin.into(),
                key: key.into(),
                message: message.into(),
            }],
        }
    }
}

/// An environment: the process's variables, or a map in tests.
pub trait EnvSource {
    fn vars(&self) -> Vec<(String, String)>;
    fn get(&self, key: &str) -> Option<String>;
}

#[derive(Debug, Clone, Copy)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn vars(&self) -> Vec<(String, String)> {
        std::env::vars().collect()
    }
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }
}

impl EnvSource for BTreeMap<String, String> {
    fn vars(&self) -> Vec<(String, String)> {
        self.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
    fn get(&self, key: &str) -> Option<String> {
        BTreeMap::get(self, key).cloned()
    }
}

impl Settings {
    /// Reads `path` and the `PARMON__*` variables of the process.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        Self::load_with_env(path, &ProcessEnv)
    }

    pub fn load_with_env(path: &Path, env: &dyn EnvSource) -> Result<Settings, ConfigError> {
        let origin = path.display().to_string();
        if !path.is_file() {
            return Err(ConfigError::one(
                origin,
                "",
                "configuration file not found (pass --config PATH)",
            ));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::one(&origin, "", format!("cannot read: {e}")))?;
        Self::from_toml_str(&text, &origin, env)
    }

    /// Parses configuration text; `origin` names it in errors.
    pub fn from_toml_str(
        text: &str,
        origin: &str,
        env: &dyn EnvSource,
    ) -> Result<Settings, ConfigError> {
        let figment = Figment::new()
            .merge(Toml::string(text))
            .merge(EnvOverrides::from_env(env));
        let mut settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::from_figment(e, origin))?;
        settings.check_required(text, origin, env)?;
        settings.resolve_secrets(origin, env)?;
        settings.validate(origin)?;
        settings.service = ServiceEnv::from_env(env);
        Ok(settings)
    }

    /// Every key of `require` that neither the file nor the environment
    /// sets, each named.
    fn check_required(
        &self,
        text: &str,
        origin: &str,
        env: &dyn EnvSource,
    ) -> Result<(), ConfigError> {
        let table: toml::Table = toml::from_str(text).unwrap_or_default();
        let in_file = |key: &str| {
            let mut parts = key.split('.');
            let first = parts.next().and_then(|k| table.get(k));
            parts
                .try_fold(first, |v, k| Some(v?.get(k)))
                .flatten()
                .is_some()
        };
        let in_env = |key: &str| {
            env.get(&format!(
                "PARMON__{}",
                key.replace('.', "__").to_uppercase()
            ))
            .is_some()
        };
        let disabled: Vec<&str> = self
            .sources
            .all()
            .into_iter()
            .filter(|(_, s)| !s.enabled)
            .map(|(name, _)| name)
            .collect();
        let problems: Vec<ConfigProblem> = self
            .require
            .iter()
            .filter(|key| {
                !disabled
                    .iter()
                    .any(|name| key.starts_with(&format!("sources.{name}.")))
            })
            .filter(|key| !in_file(key) && !in_env(key))
            .map(|key| {
                let or = if key.starts_with("sources.") {
                    ", or disable the source (enabled = false)"
                } else {
                    ""
                };
                problem(
                    origin,
                    key.as_str(),
                    format!(
                        "not set, and this configuration requires it (`require`): set it for \
                         this installation (`par-monitor init` writes a configuration){or}"
                    ),
                )
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems })
        }
    }

    fn resolve_secrets(&mut self, origin: &str, env: &dyn EnvSource) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if let Some(file) = &self.database.password_file {
            match read_secret_file(file, env) {
                Ok(pw) => match self.database.url.with_password(&pw) {
                    Ok(url) => self.database.url = url,
                    Err(e) => problems.push(problem(origin, "database.password_file", e)),
                },
                Err(e) => problems.push(problem(origin, "database.password_file", e)),
            }
        }
        let smtp = &mut self.email.smtp;
        if let Err(e) = take_secret_file(&mut smtp.password, &smtp.password_file, env) {
            problems.push(problem(origin, "email.smtp.password_file", e));
        }
        for (name, source) in self.sources.all_mut() {
            if let Some((secret, file, key)) = source.auth.secret_slot()
                && let Err(e) = take_secret_file(secret, file, env)
            {
                problems.push(problem(origin, format!("sources.{name}.auth.{key}"), e));
            }
        }
        into_result(problems)
    }

    /// Checks that need more than one key at a time.
    fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if self.database.max_connections == 0 {
            problems.push(problem(
                origin,
                "database.max_connections",
                "expected at least 1",
            ));
        }
        for (name, src) in self.sources.all() {
            if src.page_size == 0 || src.page_size > 10_000 {
                problems.push(problem(
                    origin,
                    format!("sources.{name}.page_size"),
                    "expected a page size from 1 to 10000",
                ));
            }
            if name != "portal"
                && (src.protocol != sources::Protocol::Generic
                    || src.root_department_id.is_some()
                    || src.warmup_url.is_some())
            {
                problems.push(problem(
                    origin,
                    format!("sources.{name}.protocol"),
                    "protocol, root_department_id and warmup_url are for sources.portal only",
                ));
            }
            if name == "portal" && src.protocol == sources::Protocol::DvcqgEvaluation {
                match src.root_department_id.as_deref().map(str::trim) {
                    None | Some("") => problems.push(problem(
                        origin,
                        "sources.portal.root_department_id",
                        "required when protocol = \"dvcqg-evaluation\": the province's departmentId on the portal (see README)",
                    )),
                    Some(id) if !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') => {
                        problems.push(problem(
                            origin,
                            "sources.portal.root_department_id",
                            format!("expected a UUID like 0190…-…, found `{id}`"),
                        ))
                    }
                    Some(_) => {}
                }
            }
            if src.max_concurrent_requests == 0 {
                problems.push(problem(
                    origin,
                    format!("sources.{name}.max_concurrent_requests"),
                    "expected at least 1",
                ));
            }
            if src.enabled
                && let Some((secret, _, key)) = src.auth.clone().secret_slot()
                && secret.is_none()
            {
                let key = key.trim_end_matches("_file");
                problems.push(problem(
                    origin,
                    format!("sources.{name}.auth.{key}"),
                    format!("required for this auth kind (or {key}_file)"),
                ));
            }
        }
        if self.email.transport == TransportKind::Smtp && self.email.smtp.host.is_none() {
            problems.push(problem(
                origin,
                "email.smtp.host",
                "required when email.transport = \"smtp\"",
            ));
        }
        if self.email.smtp.password.is_some() && self.email.smtp.username.is_none() {
            problems.push(problem(
                origin,
                "email.smtp.username",
                "required when a password is set",
            ));
        }
        if let Err(e) = self.email.from.parse::<lettre::message::Mailbox>() {
            problems.push(problem(
                origin,
                "email.from",
                format!("expected a mailbox like `par-monitor <noreply@example.org>`: {e}"),
            ));
        }
        if self.metrics.refresh_interval < Duration::from_secs(1) {
            problems.push(problem(
                origin,
                "metrics.refresh_interval",
                "expected at least 1s",
            ));
        }
        if self.watchdog.stall_after < Duration::from_secs(1) {
            problems.push(problem(
                origin,
                "watchdog.stall_after",
                "expected at least 1s",
            ));
        }
        if !(1..=50).contains(&self.digests.bottom_units) {
            problems.push(problem(
                origin,
                "digests.bottom_units",
                "expected a number of units from 1 to 50",
            ));
        }
        for (key, message) in alerts::check(
            &self.email.routes,
            &self.email.grouping,
            self.email.evidence_url.as_deref(),
        ) {
            problems.push(problem(origin, key, message));
        }
        if self.email.max_attempts == 0 {
            problems.push(problem(origin, "email.max_attempts", "expected at least 1"));
        }
        if let Err(e) = self.risk.check() {
            let (key, message) = e.split_once(": ").unwrap_or(("risk", e.as_str()));
            problems.push(problem(origin, key, message));
        }
        for (i, t) in self.api.tokens.iter().enumerate() {
            if t.sha256.len() != 64 || !t.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
                problems.push(problem(
                    origin,
                    format!("api.tokens[{i}].sha256"),
                    "expected 64 hex digits (par-monitor api hash-token prints them)",
                ));
            }
            if t.name.trim().is_empty() {
                problems.push(problem(
                    origin,
                    format!("api.tokens[{i}].name"),
                    "expected a name",
                ));
            }
        }
        if self.api.enabled && self.api.tokens.is_empty() {
            problems.push(problem(
                origin,
                "api.tokens",
                "the API is enabled but no token is configured, so every request would be refused",
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, u) in self.units.iter().enumerate() {
            if !seen.insert(u.code.clone()) {
                problems.push(problem(
                    origin,
                    format!("units[{i}].code"),
                    format!("unit {} is listed twice", u.code),
                ));
            }
            if u.name.trim().is_empty() {
                problems.push(problem(
                    origin,
                    format!("units[{i}].name"),
                    "expected a non-empty name",
                ));
            }
        }
        into_result(problems)
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

/// The `PARMON__*` variables as a figment provider. Values are parsed like
/// TOML values (`false`, `5`, `["a@b.example"]`), anything else is a string.
struct EnvOverrides(figment::value::Dict);

const ENV_PROVIDER_NAME: &str = "environment variable";

impl EnvOverrides {
    fn from_env(env: &dyn EnvSource) -> Self {
        let mut root = figment::value::Dict::new();
        for (name, value) in env.vars() {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
            if path.iter().any(|p| p.is_empty()) {
                continue;
            }
            let parsed: figment::value::Value =
                value.parse().unwrap_or_else(|_| value.clone().into());
            insert_path(&mut root, &path, parsed);
        }
        Self(root)
    }
}

impl figment::Provider for EnvOverrides {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named(ENV_PROVIDER_NAME)
    }

    fn data(
        &self,
    ) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        Ok(figment::Profile::Default.collect(self.0.clone()))
    }
}

fn insert_path(dict: &mut figment::value::Dict, path: &[String], value: figment::value::Value) {
    match path {
        [] => {}
        [last] => {
            dict.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = dict
                .entry(first.clone())
                .or_insert_with(|| figment::value::Dict::new().into());
            if entry.as_dict().is_none() {
                *entry = figment::value::Dict::new().into();
            }
            if let figment::value::Value::Dict(_, inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}

fn problem(origin: &str, key: impl Into<String>, message: impl Into<String>) -> ConfigProblem {
    ConfigProblem {
        origin: origin.to_owned(),
        key: key.into(),
        message: message.into(),
    }
}

fn into_result(problems: Vec<ConfigProblem>) -> Result<(), ConfigError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigError { problems })
    }
}

/// Reads a secret from a file. A relative path is looked up in systemd's
/// `$CREDENTIALS_DIRECTORY` when that is set, so `LoadCredential=smtp:…` and
/// `password_file = "smtp"` go together.
fn read_secret_file(path: &Path, env: &dyn EnvSource) -> Result<Secret, String> {
    let full = match env.get("CREDENTIALS_DIRECTORY") {
        Some(dir) if path.is_relative() => Path::new(&dir).join(path),
        _ => path.to_path_buf(),
    };
    let text = std::fs::read_to_string(&full)
        .map_err(|e| format!("cannot read secret file {}: {e}", full.display()))?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        return Err(format!("secret file {} is empty", full.display()));
    }
    Ok(Secret::new(secret))
}

fn take_secret_file(
    target: &mut Option<Secret>,
    file: &Option<PathBuf>,
    env: &dyn EnvSource,
) -> Result<(), String> {
    if let Some(file) = file {
        if target.is_some() {
            return Err("set either the secret or its *_file, not both".into());
        }
        *target = Some(read_secret_file(file, env)?);
    }
    Ok(())
}

impl ConfigError {
    fn from_figment(err: figment::Error, file_origin: &str) -> Self {
        let problems = err
            .into_iter()
            .map(|e| {
                let mut path = e.path.clone();
                let message = match &e.kind {
                    figment::error::Kind::UnknownField(field, expected) => {
                        if path.last() != Some(field) {
                            path.push(field.clone());
                        }
                        format!(
                            "unknown key; expected one of: {}",
                            expected
                                .iter()
                                .map(|s| format!("`{s}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                    figment::error::Kind::MissingField(field) => {
                        if path.last().map(String::as_str) != Some(field.as_ref()) {
                            path.push(field.to_string());
                        }
                        "required key is missing".to_owned()
                    }
                    other => other.to_string(),
                };
                let key = render_key(&path);
                let origin = match &e.metadata {
                    Some(md) if md.name == ENV_PROVIDER_NAME => {
                        format!("environment variable {}", env_name(&path))
                    }
                    _ => file_origin.to_owned(),
                };
                ConfigProblem {
                    origin,
                    key,
                    message,
                }
            })
            .collect();
        Self { problems }
    }
}

/// Renders figment's path as `units[0].code` rather than `units.0.code`.
fn render_key(path: &[String]) -> String {
    let mut out = String::new();
    for part in path {
        if part.chars().all(|c| c.is_ascii_digit()) && !out.is_empty() {
            out.push('[');
            out.push_str(part);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(part);
        }
    }
    out
}

fn env_name(path: &[String]) -> String {
    format!(
        "{ENV_PREFIX}{}",
        path.iter()
            .map(|p| p.to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join("__")
    )
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "unknown log format `{other}`: expected text or json"
            )),
        }
    }
}

#[cfg(test)]
mod tests;
