//! HTTP machinery shared by every source: one client per source, built once
//! with connect and request timeouts, TLS verification (plus an optional CA
//! bundle), authentication, a cap on requests in flight, bounded response
//! bodies, and retries with exponential backoff and jitter for transient
//! failures only. Errors carry the source, the URL path, the status and a
//! bounded excerpt of the body, never a credential.

use std::time::Duration;

use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER, USER_AGENT};
use serde_json::Value;
use tokio::sync::{Mutex, Semaphore};
use url::Url;

use super::UpstreamError;
use crate::config::{AuthSettings, ClientAuth, Secret, SourceSettings};

/// How much of an error body ends up in a message.
const EXCERPT_CHARS: usize = 300;
/// Tokens are renewed this long before they expire.
const TOKEN_MARGIN: Duration = Duration::from_secs(30);

/// A POST's JSON body and the cookies to send with it; `None` for a GET.
type Post<'a> = Option<(&'a serde_json::Value, Option<&'a HeaderValue>)>;

/// The client of one source.
pub struct SourceClient {
    source: &'static str,
    client: reqwest::Client,
    auth: Auth,
    retry: Retry,
    max_body: usize,
    in_flight: Semaphore,
}

impl std::fmt::Debug for SourceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceClient")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug)]
struct Retry {
    max_retries: u32,
    base: Duration,
    max: Duration,
    max_retry_after: Duration,
}

impl Retry {
    /// Full jitter: a random delay up to the exponential bound, so that
    /// clients that failed together do not retry together.
    fn delay(&self, attempt: u32) -> Duration {
        let bound = self
            .base
            .saturating_mul(2u32.saturating_pow(attempt))
            .min(self.max);
        bound.mul_f64(rand::rng().random_range(0.5..=1.0))
    }
}

enum Auth {
    None,
    /// A fixed header (bearer token, API key, basic).
    Header(HeaderName, HeaderValue),
    OAuth2(OAuth2),
}

/// OAuth2 client credentials, and the access token they got while it lasts.
struct OAuth2 {
    token_url: Url,
    client_id: String,
    client_secret: Secret,
    scope: Option<String>,
    client_auth: ClientAuth,
    cached: Mutex<Option<(HeaderValue, std::time::Instant)>>,
}

fn sensitive(value: &str) -> Result<HeaderValue, String> {
    let mut v = HeaderValue::from_str(value)
        .map_err(|_| "credential contains characters not allowed in a header".to_string())?;
    // Keeps the value out of reqwest's Debug output.
    v.set_sensitive(true);
    Ok(v)
}

fn basic(user: &str, password: &str) -> Result<HeaderValue, String> {
    use base64::Engine;
    let raw = format!("{user}:{password}");
    sensitive(&format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

impl SourceClient {
    /// Builds the client of `source`. This is the only place a reqwest
    /// client is built (see clippy.toml): every one carries timeouts.
    #[allow(clippy::disallowed_methods)]
    pub fn new(source: &'static str, s: &SourceSettings) -> Result<SourceClient, String> {
        let mut headers = HeaderMap::new();
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("par-monitor/", env!("CARGO_PKG_VERSION"))),
        );
        let mut builder = reqwest::Client::builder()
            .connect_timeout(s.connect_timeout)
            .timeout(s.request_timeout)
            .default_headers(headers);
        if let Some(path) = &s.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read ca_file {}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("ca_file {} is not a PEM bundle: {e}", path.display()))?;
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build HTTP client: {e}"))?;
        let missing = |what: &str| format!("auth: {what} is missing");
        let auth = match &s.auth {
            AuthSettings::None => Auth::None,
            AuthSettings::Bearer { token, .. } => {
                let t = token.as_ref().ok_or_else(|| missing("token"))?;
                Auth::Header(AUTHORIZATION, sensitive(&format!("Bearer {}", t.expose()))?)
            }
            AuthSettings::ApiKey { header, key, .. } => {
                let k = key.as_ref().ok_or_else(|| missing("key"))?;
                let name = HeaderName::try_from(header.as_str())
                    .map_err(|_| format!("auth.header `{header}` is not a header name"))?;
                Auth::Header(name, sensitive(k.expose())?)
            }
            AuthSettings::Basic {
                username, password, ..
            } => {
                let p = password.as_ref().ok_or_else(|| missing("password"))?;
                Auth::Header(AUTHORIZATION, basic(username, p.expose())?)
            }
            AuthSettings::Oauth2 {
                token_url,
                client_id,
                client_secret,
                scope,
                client_auth,
                ..
            } => Auth::OAuth2(OAuth2 {
                token_url: token_url.url().clone(),
                client_id: client_id.clone(),
                client_secret: client_secret
                    .clone()
                    .ok_or_else(|| missing("client_secret"))?,
                scope: scope.clone(),
                client_auth: *client_auth,
                cached: Mutex::new(None),
            }),
        };
        Ok(SourceClient {
            source,
            client,
            auth,
            retry: Retry {
                max_retries: s.max_retries,
                base: s.retry_backoff,
                max: s.retry_backoff_max,
                max_retry_after: s.max_retry_after,
            },
            max_body: usize::try_from(s.max_response_bytes).unwrap_or(usize::MAX),
            in_flight: Semaphore::new(s.max_concurrent_requests.max(1) as usize),
        })
    }

    pub fn source(&self) -> &'static str {
        self.source
    }

    /// GETs `url` and parses the body as JSON, retrying transient failures.
    pub async fn get_json(&self, url: &Url) -> Result<sonic_rs::Value, UpstreamError> {
        self.send_json(url, None).await
    }

    /// `POST`s a JSON body (with the retries of [`SourceClient::get_json`])
    /// and reads a JSON answer; an HTML answer (a web application
    /// firewall's page, often with status 200) is refused as such.
    pub async fn post_json(
        &self,
        url: &Url,
        body: &serde_json::Value,
        cookie: Option<&HeaderValue>,
    ) -> Result<sonic_rs::Value, UpstreamError> {
        self.send_json(url, Some((body, cookie))).await
    }

    /// Fetches a public page for the cookies it sets, as one `Cookie`
    /// header (`None` if it sets none).
    pub async fn cookies_from(&self, url: &Url) -> Result<Option<HeaderValue>, UpstreamError> {
        let resp = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| self.unavailable(url, describe(&e)))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(UpstreamError::Status {
                source_name: self.source,
                path: url.path().to_owned(),
                status: status.as_u16(),
                excerpt: "the warm-up page (sources.portal.warmup_url) did not answer".into(),
            });
        }
        let pairs: Vec<String> = resp
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .map(|p| p.trim().to_owned())
            .filter(|p| p.contains('='))
            .collect();
        if pairs.is_empty() {
            return Ok(None);
        }
        sensitive(&pairs.join("; "))
            .map(Some)
            .map_err(|e| self.unavailable(url, e))
    }

    async fn send_json(&self, url: &Url, post: Post<'_>) -> Result<sonic_rs::Value, UpstreamError> {
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| self.unavailable(url, "client closed".into()))?;
        let mut attempt = 0;
        let mut refreshed_token = false;
        loop {
            let outcome = self.try_once(url, post).await;
            let wait = match &outcome {
                Ok(_) => return outcome,
                // An OAuth2 token the server no longer accepts is fetched
                // again once, then the 401 stands.
                Err(UpstreamError::Unauthorized { .. })
                    if matches!(self.auth, Auth::OAuth2(_)) && !refreshed_token =>
                {
                    refreshed_token = true;
                    self.forget_token().await;
                    Duration::ZERO
                }
                Err(UpstreamError::RateLimited { retry_after, .. }) => match retry_after {
                    Some(d) if *d > self.retry.max_retry_after => return outcome,
                    Some(d) => *d,
                    None => self.retry.delay(attempt),
                },
                Err(e) if e.is_transient() => self.retry.delay(attempt),
                Err(_) => return outcome,
            };
            if attempt >= self.retry.max_retries {
                return outcome;
            }
            attempt += 1;
            tracing::debug!(
                source = self.source,
                path = url.path(),
                attempt,
                wait_ms = wait.as_millis() as u64,
                "retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// One request and the judgement of its answer.
    async fn try_once(&self, url: &Url, post: Post<'_>) -> Result<sonic_rs::Value, UpstreamError> {
        let req = self.authorize(self.request(url, post)).await?;
        let resp = req
            .send()
            .await
            .map_err(|e| self.unavailable(url, describe(&e)))?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let html = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("html"));
        let body = self.read_body(url, resp).await?;
        if post.is_some()
            && status.is_success()
            && (html || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<'))
        {
            return Err(self.bad_payload(
                url,
                format!(
                    "HTML instead of JSON (HTTP {}; a web application firewall's page? see sources.portal.warmup_url): {}",
                    status.as_u16(),
                    excerpt(&body)
                ),
            ));
        }
        if status.is_success() {
            return self.parse(url, body).await;
        }
        Err(self.refusal(url, status, retry_after, &body))
    }

    /// A GET, or a POST of a JSON body with the cookies given.
    fn request(&self, url: &Url, post: Post<'_>) -> reqwest::RequestBuilder {
        match post {
            None => self.client.get(url.clone()),
            Some((body, cookie)) => {
                let mut r = self.client.post(url.clone()).json(body);
                if let Some(c) = cookie {
                    r = r.header(reqwest::header::COOKIE, c.clone());
                }
                r
            }
        }
    }

    /// The request with the source's credentials.
    async fn authorize(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, UpstreamError> {
        Ok(match &self.auth {
            Auth::None => req,
            Auth::Header(name, value) => req.header(name, value.clone()),
            Auth::OAuth2(o) => req.header(AUTHORIZATION, self.token(o).await?),
        })
    }

    /// Parses a successful answer's body.
    async fn parse(&self, url: &Url, body: Vec<u8>) -> Result<sonic_rs::Value, UpstreamError> {
        // A page of thousands of records takes milliseconds to parse:
        // off the async workers, beside the database writes. sonic-rs
        // builds the tree several times faster than serde_json's `Value`
        // (measured on simulator pages of 2,000 dossiers).
        crate::jobs::cpu(move || {
            sonic_rs::from_slice(&body).map_err(|e| format!("{e}; body starts: {}", excerpt(&body)))
        })
        .await
        .map_err(|detail| UpstreamError::Malformed {
            source_name: self.source,
            path: url.path().to_owned(),
            detail,
        })
    }

    /// What an answer other than a success means.
    fn refusal(
        &self,
        url: &Url,
        status: StatusCode,
        retry_after: Option<Duration>,
        body: &[u8],
    ) -> UpstreamError {
        let path = url.path().to_owned();
        match status {
            StatusCode::TOO_MANY_REQUESTS => UpstreamError::RateLimited {
                source_name: self.source,
                path,
                retry_after,
            },
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => UpstreamError::Unauthorized {
                source_name: self.source,
                path,
                status: status.as_u16(),
            },
            _ => UpstreamError::Status {
                source_name: self.source,
                path,
                status: status.as_u16(),
                excerpt: excerpt(body),
            },
        }
    }

    async fn read_body(
        &self,
        url: &Url,
        mut resp: reqwest::Response,
    ) -> Result<Vec<u8>, UpstreamError> {
        if resp
            .content_length()
            .is_some_and(|n| n > self.max_body as u64)
        {
            return Err(self.too_large(url));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| self.unavailable(url, describe(&e)))?
        {
            if body.len() + chunk.len() > self.max_body {
                return Err(self.too_large(url));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn too_large(&self, url: &Url) -> UpstreamError {
        self.bad_payload(
            url,
            format!(
                "response larger than {} bytes (max_response_bytes)",
                self.max_body
            ),
        )
    }

    fn bad_payload(&self, url: &Url, detail: String) -> UpstreamError {
        UpstreamError::BadPayload {
            source_name: self.source,
            path: url.path().to_owned(),
            detail,
        }
    }

    fn unavailable(&self, url: &Url, detail: String) -> UpstreamError {
        UpstreamError::Unavailable {
            source_name: self.source,
            path: url.path().to_owned(),
            detail,
        }
    }

    async fn forget_token(&self) {
        if let Auth::OAuth2(o) = &self.auth {
            *o.cached.lock().await = None;
        }
    }

    /// The OAuth2 access token, fetched with the client credentials when
    /// there is none or it is about to expire.
    async fn token(&self, o: &OAuth2) -> Result<HeaderValue, UpstreamError> {
        let mut guard = o.cached.lock().await;
        if let Some((value, until)) = guard.as_ref()
            && std::time::Instant::now() < *until
        {
            return Ok(value.clone());
        }
        let (status, bytes) = self.request_token(o).await?;
        if !status.is_success() {
            return Err(self.token_refusal(&o.token_url, status, &bytes));
        }
        let (token, lifetime) = self.read_token(&o.token_url, &bytes)?;
        let value =
            sensitive(&format!("Bearer {token}")).map_err(|e| self.unavailable(&o.token_url, e))?;
        let until = std::time::Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN);
        *guard = Some((value.clone(), until));
        Ok(value)
    }

    /// Asks the token endpoint for a token (the client-credentials grant),
    /// the client authenticating as configured.
    async fn request_token(&self, o: &OAuth2) -> Result<(StatusCode, Vec<u8>), UpstreamError> {
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        if let Some(s) = &o.scope {
            form.push(("scope", s));
        }
        let mut req = self.client.post(o.token_url.clone());
        match o.client_auth {
            ClientAuth::Basic => {
                let value = basic(&o.client_id, o.client_secret.expose())
                    .map_err(|e| self.unavailable(&o.token_url, e))?;
                req = req.header(AUTHORIZATION, value);
            }
            ClientAuth::Post => {
                form.push(("client_id", &o.client_id));
                form.push(("client_secret", o.client_secret.expose()));
            }
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let resp = req
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .map_err(|e| {
                self.unavailable(&o.token_url, format!("token request: {}", describe(&e)))
            })?;
        let status = resp.status();
        Ok((status, self.read_body(&o.token_url, resp).await?))
    }

    /// What a token endpoint's refusal means: 400 and 401 are refused
    /// credentials.
    fn token_refusal(&self, token_url: &Url, status: StatusCode, body: &[u8]) -> UpstreamError {
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST {
            UpstreamError::Unauthorized {
                source_name: self.source,
                path: token_url.path().to_owned(),
                status: status.as_u16(),
            }
        } else {
            UpstreamError::Status {
                source_name: self.source,
                path: token_url.path().to_owned(),
                status: status.as_u16(),
                excerpt: excerpt(body),
            }
        }
    }

    /// The access token and its lifetime (300 seconds unless it says).
    fn read_token(
        &self,
        token_url: &Url,
        body: &[u8],
    ) -> Result<(String, Duration), UpstreamError> {
        let doc: Value = serde_json::from_slice(body)
            .map_err(|e| self.bad_payload(token_url, format!("token response is not JSON: {e}")))?;
        let token = doc["access_token"].as_str().ok_or_else(|| {
            self.bad_payload(token_url, "token response has no access_token".into())
        })?;
        let lifetime = Duration::from_secs(doc["expires_in"].as_u64().unwrap_or(300));
        Ok((token.to_owned(), lifetime))
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v.trim()).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

/// reqwest's errors name the URL (which may carry a key in its query); we
/// say what happened and leave the path to the error's `path`.
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
    if crate::systemd::refused_by_sandbox(e) {
        cause = format!("{cause}: {}", crate::systemd::SANDBOX_REFUSAL);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("soon"), None);
        let later = (chrono::Utc::now() + chrono::Duration::seconds(90)).to_rfc2822();
        let d = parse_retry_after(&later).unwrap();
        assert!((85..=90).contains(&d.as_secs()), "{d:?}");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let r = Retry {
            max_retries: 5,
            base: Duration::from_millis(500),
            max: Duration::from_secs(4),
            max_retry_after: Duration::from_secs(60),
        };
        assert!(r.delay(0) <= Duration::from_millis(500));
        assert!(r.delay(0) >= Duration::from_millis(250));
        assert!(r.delay(2) >= Duration::from_secs(1));
        assert!(r.delay(10) <= Duration::from_secs(4));
    }

    #[test]
    fn credentials_never_show_in_debug_output() {
        let s = SourceSettings {
            auth: AuthSettings::Bearer {
                token: Some(Secret::new("t0ken-value")),
                token_file: None,
            },
            ..SourceSettings::default()
        };
        let c = SourceClient::new("procedures", &s).unwrap();
        assert!(!format!("{c:?}").contains("t0ken-value"));
    }
}
