//! Loading: the file, then the `PARMON__*` overrides, then the keys the
//! file requires, the secrets' files, and validation.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Toml};

use super::env::{EnvOverrides, EnvSource, ProcessEnv, ServiceEnv};
use super::error::{ConfigError, ConfigProblem, into_result, problem};
use super::{Secret, Settings};

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
