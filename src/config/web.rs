//! `[web]`: the console for the inspection team, leadership and unit heads.

use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

use super::HttpUrl;

/// The web console: off unless enabled, on loopback by default.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSettings {
    pub enabled: bool,
    pub listen: SocketAddr,
    /// The address people open, for links in e-mails and digests
    /// (e.g. `https://cchc.example.gov.vn`); `http://{listen}` when unset.
    pub public_url: Option<HttpUrl>,
    /// A session ends after this many minutes without a request.
    pub session_idle_minutes: u32,
    /// Failed logins allowed per account and per address within
    /// `login_window_minutes` before further attempts are refused.
    pub login_max_failures: u32,
    pub login_window_minutes: u32,
    /// Reverse proxies trusted to say who the user is (in `proxy_user_header`)
    /// and that the page was served over TLS (`X-Forwarded-Proto: https`).
    /// Requests from other addresses never get these headers honoured.
    pub trusted_proxies: Vec<IpAddr>,
    /// The header a trusted proxy sets to the authenticated user's name
    /// (e.g. `X-Remote-User`); unset: no single sign-on.
    pub proxy_user_header: Option<String>,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: "127.0.0.1:9715".parse().expect("valid default"),
            public_url: None,
            session_idle_minutes: 30,
            login_max_failures: 5,
            login_window_minutes: 15,
            trusted_proxies: Vec::new(),
            proxy_user_header: None,
        }
    }
}

impl WebSettings {
    /// Where people open the console: `public_url`, or the listen address.
    pub fn base_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.url().as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// Problems with `[web]`, as `(key, message)`.
    pub(super) fn check(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.session_idle_minutes == 0 {
            out.push((
                "web.session_idle_minutes".into(),
                "expected a number of minutes above 0".into(),
            ));
        }
        if self.login_max_failures == 0 {
            out.push((
                "web.login_max_failures".into(),
                "expected at least 1 attempt".into(),
            ));
        }
        if self.login_window_minutes == 0 {
            out.push((
                "web.login_window_minutes".into(),
                "expected a number of minutes above 0".into(),
            ));
        }
        if let Some(h) = &self.proxy_user_header {
            if axum::http::HeaderName::from_bytes(h.as_bytes()).is_err() {
                out.push((
                    "web.proxy_user_header".into(),
                    format!("`{h}` is not a valid HTTP header name"),
                ));
            }
            if self.trusted_proxies.is_empty() {
                out.push((
                    "web.trusted_proxies".into(),
                    "proxy_user_header is set but no proxy is trusted, so it would never be read"
                        .into(),
                ));
            }
        }
        out
    }
}
