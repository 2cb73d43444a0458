//! The environment, read through [`EnvSource`] (the process's variables, or
//! a map in tests): the `PARMON__*` overrides and what the service manager
//! says. [`ProcessEnv`] is the only reader of the process's variables.

use std::collections::BTreeMap;

use super::ENV_PREFIX;

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
    pub(super) fn from_env(env: &dyn EnvSource) -> Self {
        let journal_stream = env.get("JOURNAL_STREAM").and_then(|v| {
            let (dev, ino) = v.split_once(':')?;
            Some((dev.parse().ok()?, ino.parse().ok()?))
        });
        Self { journal_stream }
    }
}

/// The `PARMON__*` variables as a figment provider. Values are parsed like
/// TOML values (`false`, `5`, `["a@b.example"]`), anything else is a string.
pub(super) struct EnvOverrides(figment::value::Dict);

pub(super) const ENV_PROVIDER_NAME: &str = "environment variable";

impl EnvOverrides {
    pub(super) fn from_env(env: &dyn EnvSource) -> Self {
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
