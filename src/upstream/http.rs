//! HTTP machinery shared by every connector: one client per source, built
//! once with timeouts; bounded bodies; errors that carry the source, the
//! path, the status and a bounded excerpt of the body.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, USER_AGENT};
use url::Url;

use super::UpstreamError;
use crate::config::{Secret, SourceSettings};

/// Bodies larger than this are refused rather than buffered.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// How much of an error body ends up in a log line.
const EXCERPT_CHARS: usize = 300;

/// Builds the client for one source. Every client has connect and request
/// timeouts; this is the only place a client is built (see clippy.toml).
#[allow(clippy::disallowed_methods)]
pub fn build_client(settings: &SourceSettings) -> Result<reqwest::Client, String> {
    let mut headers = HeaderMap::new();
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("par-monitor/", env!("CARGO_PKG_VERSION"))),
    );
    if let Some(token) = &settings.bearer_token {
        headers.insert(AUTHORIZATION, bearer(token)?);
    }
    reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.request_timeout)
        .default_headers(headers)
        .build()
        .map_err(|e| format!("cannot build HTTP client: {e}"))
}

fn bearer(token: &Secret) -> Result<HeaderValue, String> {
    let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
        .map_err(|_| "bearer token contains characters not allowed in a header".to_string())?;
    // Keeps the token out of reqwest's Debug output.
    v.set_sensitive(true);
    Ok(v)
}

/// GETs `url` and parses the body as JSON.
pub async fn get_json(
    client: &reqwest::Client,
    source: &'static str,
    url: Url,
) -> Result<serde_json::Value, UpstreamError> {
    let path = url.path().to_owned();
    let unavailable = |detail: String| UpstreamError::Unavailable {
        source_name: source,
        path: path.clone(),
        detail,
    };
    let mut resp = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| unavailable(describe(&e)))?;
    let status = resp.status();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| unavailable(describe(&e)))? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(UpstreamError::BadPayload {
                source_name: source,
                path,
                detail: format!("response larger than {MAX_BODY_BYTES} bytes"),
            });
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        return Err(UpstreamError::Status {
            source_name: source,
            path,
            status: status.as_u16(),
            excerpt: excerpt(&body),
        });
    }
    serde_json::from_slice(&body).map_err(|e| UpstreamError::BadPayload {
        source_name: source,
        path,
        detail: format!("invalid JSON: {e}; body starts: {}", excerpt(&body)),
    })
}

/// reqwest's errors name the URL (which may carry a token in its query);
/// we say what happened and leave the URL to the error's `path`.
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "broken response body"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {cause}")
    }
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().count() > EXCERPT_CHARS {
        out.push('…');
    }
    out.replace(['\n', '\r'], " ")
}

/// Default request timeout for code paths that have no source settings.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
