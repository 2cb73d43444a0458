//! `[api]`: the findings API and the hashes of its bearer tokens.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

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

impl ApiSettings {
    /// Problems with `[api]`, as `(key, message)`.
    pub(super) fn check(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, t) in self.tokens.iter().enumerate() {
            if t.sha256.len() != 64 || !t.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
                out.push((
                    format!("api.tokens[{i}].sha256"),
                    "expected 64 hex digits (par-monitor api hash-token prints them)".into(),
                ));
            }
            if t.name.trim().is_empty() {
                out.push((format!("api.tokens[{i}].name"), "expected a name".into()));
            }
        }
        if self.enabled && self.tokens.is_empty() {
            out.push((
                "api.tokens".into(),
                "the API is enabled but no token is configured, so every request would be refused"
                    .into(),
            ));
        }
        out
    }
}
