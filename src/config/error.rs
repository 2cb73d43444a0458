//! What a rejected configuration says: every problem, each with where it
//! came from (the file or the environment variable), the key and what was
//! expected.

use std::fmt;

use super::ENV_PREFIX;
use super::env::ENV_PROVIDER_NAME;

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
    pub(super) fn one(
        origin: impl Into<String>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            problems: vec![ConfigProblem {
                origin: origin.into(),
                key: key.into(),
                message: message.into(),
            }],
        }
    }

    /// figment's errors as problems: the key rendered as written, the
    /// origin a file or a `PARMON__` variable.
    pub(super) fn from_figment(err: figment::Error, file_origin: &str) -> Self {
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

pub(super) fn problem(
    origin: &str,
    key: impl Into<String>,
    message: impl Into<String>,
) -> ConfigProblem {
    ConfigProblem {
        origin: origin.to_owned(),
        key: key.into(),
        message: message.into(),
    }
}

pub(super) fn into_result(problems: Vec<ConfigProblem>) -> Result<(), ConfigError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigError { problems })
    }
}
