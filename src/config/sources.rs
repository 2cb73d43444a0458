//! Settings of the upstream sources (how to reach them) and of their feeds'
//! mappings (how to read them).
//!
//! A source is one upstream system: `procedures` (dossiers and petitions),
//! `documents`, `reports`, `portal` (the national portal's official 766
//! scores) and `units` (a unit directory). How to reach a source is in
//! `[sources.NAME]`. How to read each of its feeds, which no two vendors
//! agree on, is in `[mapping.FEED]`. The defaults there are domain.md's
//! field names, which the simulator speaks.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::values::{BaseUrl, HttpUrl, Schedule, Secret};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesSettings {
    /// The procedure-handling system: dossiers and petitions.
    #[serde(default)]
    pub procedures: SourceSettings,
    /// The document-management system.
    #[serde(default)]
    pub documents: SourceSettings,
    /// The online reporting system.
    #[serde(default)]
    pub reports: SourceSettings,
    /// The national portal's official Decision 766 scores (optional: off
    /// unless its section is present).
    #[serde(default = "SourceSettings::disabled")]
    pub portal: SourceSettings,
    /// A unit directory (optional: off unless its section is present; units
    /// can also be listed in `[[units]]`).
    #[serde(default = "SourceSettings::disabled")]
    pub units: SourceSettings,
}

impl Default for SourcesSettings {
    fn default() -> Self {
        Self {
            procedures: SourceSettings::default(),
            documents: SourceSettings::default(),
            reports: SourceSettings::default(),
            portal: SourceSettings::disabled(),
            units: SourceSettings::disabled(),
        }
    }
}

impl SourcesSettings {
    /// Every source with its name, in a fixed order.
    pub fn all(&self) -> [(&'static str, &SourceSettings); 5] {
        [
            ("procedures", &self.procedures),
            ("documents", &self.documents),
            ("reports", &self.reports),
            ("portal", &self.portal),
            ("units", &self.units),
        ]
    }

    pub fn all_mut(&mut self) -> [(&'static str, &mut SourceSettings); 5] {
        [
            ("procedures", &mut self.procedures),
            ("documents", &mut self.documents),
            ("reports", &mut self.reports),
            ("portal", &mut self.portal),
            ("units", &mut self.units),
        ]
    }

    pub fn get(&self, name: &str) -> Option<&SourceSettings> {
        self.all()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s)
    }
}

/// How to reach one upstream system.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceSettings {
    pub enabled: bool,
    pub base_url: BaseUrl,
    /// Incremental polls (cron with seconds, Asia/Ho_Chi_Minh).
    pub schedule: Schedule,
    /// Whether to run a periodic full reconciliation, which catches records
    /// deleted upstream and edits the incremental cursor missed.
    pub full_sync: bool,
    pub full_sync_schedule: Schedule,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Limit for one whole request, body included.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    pub page_size: u32,
    /// Data older than this is stale: rules on it are unknown, never passing.
    /// Default: two poll intervals.
    #[serde(with = "humantime_serde::option")]
    pub stale_after: Option<Duration>,
    /// Retries of one request after a transient failure (connection error,
    /// timeout, HTTP 5xx or 429), with exponential backoff and jitter.
    pub max_retries: u32,
    #[serde(with = "humantime_serde")]
    pub retry_backoff: Duration,
    #[serde(with = "humantime_serde")]
    pub retry_backoff_max: Duration,
    /// A 429's Retry-After up to this long is waited out; a longer one ends
    /// the poll, which the next scheduled poll repeats.
    #[serde(with = "humantime_serde")]
    pub max_retry_after: Duration,
    /// Responses larger than this (bytes) are refused.
    pub max_response_bytes: u64,
    /// Requests in flight to this source at once.
    pub max_concurrent_requests: u32,
    /// Extra CA certificates (PEM) to trust besides the system's, e.g. a
    /// provincial CA. Verification itself is never switched off.
    pub ca_file: Option<PathBuf>,
    pub auth: AuthSettings,
    /// The portal only: which wire format it speaks. `generic` (the
    /// default) is the mapped feed of `[mapping.scores]`;
    /// `dvcqg-evaluation` is the national portal's public evaluation API.
    pub protocol: Protocol,
    /// `dvcqg-evaluation`: the province's `departmentId` on the portal
    /// (the `rootDepartmentId` of every request), a UUID.
    pub root_department_id: Option<String>,
    /// `dvcqg-evaluation`: a public page to fetch first for the cookies the
    /// portal's web application firewall may want
    /// (`https://dichvucong.gov.vn/danh-gia-chat-luong-phuc-vu`); without
    /// it, requests go without cookies.
    pub warmup_url: Option<HttpUrl>,
    /// How long the warm-up page's cookies are used before it is fetched
    /// again.
    #[serde(with = "humantime_serde")]
    pub warmup_every: Duration,
}

/// The portal's wire format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    #[default]
    #[serde(rename = "generic")]
    Generic,
    #[serde(rename = "dvcqg-evaluation")]
    DvcqgEvaluation,
}

impl Default for SourceSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: BaseUrl::parse("http://127.0.0.1:8089/").expect("valid default"),
            schedule: Schedule::parse("0 */5 * * * *").expect("valid default"),
            full_sync: true,
            full_sync_schedule: Schedule::parse("0 30 1 * * *").expect("valid default"),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            page_size: 500,
            stale_after: None,
            max_retries: 3,
            retry_backoff: Duration::from_millis(500),
            retry_backoff_max: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            max_response_bytes: 64 * 1024 * 1024,
            max_concurrent_requests: 2,
            ca_file: None,
            auth: AuthSettings::None,
            protocol: Protocol::Generic,
            root_department_id: None,
            warmup_url: None,
            warmup_every: Duration::from_secs(600),
        }
    }
}

impl SourceSettings {
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// The configured staleness limit, or two poll intervals.
    pub fn stale_after(&self, now: chrono::DateTime<chrono::Utc>) -> Duration {
        self.stale_after.unwrap_or_else(|| {
            self.schedule
                .interval_near(now)
                .map(|i| i * 2)
                .unwrap_or(Duration::from_secs(600))
        })
    }
}

/// How requests authenticate.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthSettings {
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Bearer {
        token: Option<Secret>,
        token_file: Option<PathBuf>,
    },
    /// A key in a header, e.g. `X-API-Key: <key>`.
    ApiKey {
        #[serde(default = "default_api_key_header")]
        header: String,
        key: Option<Secret>,
        key_file: Option<PathBuf>,
    },
    /// HTTP basic authentication.
    Basic {
        username: String,
        password: Option<Secret>,
        password_file: Option<PathBuf>,
    },
    /// OAuth2 client credentials; the token is cached until shortly before
    /// it expires and fetched again after a 401.
    Oauth2 {
        token_url: HttpUrl,
        client_id: String,
        client_secret: Option<Secret>,
        client_secret_file: Option<PathBuf>,
        scope: Option<String>,
        /// `basic` (RFC 6749's recommendation) or `post` (credentials in the form).
        #[serde(default)]
        client_auth: ClientAuth,
    },
}

fn default_api_key_header() -> String {
    "X-API-Key".into()
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    #[default]
    Basic,
    Post,
}

impl AuthSettings {
    /// The secret and its `*_file` key, for resolution at load time.
    pub(super) fn secret_slot(
        &mut self,
    ) -> Option<(&mut Option<Secret>, &Option<PathBuf>, &'static str)> {
        match self {
            AuthSettings::None => None,
            AuthSettings::Bearer { token, token_file } => Some((token, token_file, "token_file")),
            AuthSettings::ApiKey { key, key_file, .. } => Some((key, key_file, "key_file")),
            AuthSettings::Basic {
                password,
                password_file,
                ..
            } => Some((password, password_file, "password_file")),
            AuthSettings::Oauth2 {
                client_secret,
                client_secret_file,
                ..
            } => Some((client_secret, client_secret_file, "client_secret_file")),
        }
    }
}

/// How to read each feed. Only what differs from the defaults needs to be
/// written; `fields` and `codes` entries are merged onto the defaults.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MappingSettings {
    pub dossiers: FeedMapping,
    pub petitions: FeedMapping,
    pub documents: FeedMapping,
    pub reports: FeedMapping,
    pub scores: FeedMapping,
    pub units: FeedMapping,
}

impl MappingSettings {
    pub fn all(&self) -> [(&'static str, &FeedMapping); 6] {
        [
            ("dossiers", &self.dossiers),
            ("petitions", &self.petitions),
            ("documents", &self.documents),
            ("reports", &self.reports),
            ("scores", &self.scores),
            ("units", &self.units),
        ]
    }
}

/// One feed's wire format.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedMapping {
    /// Path under the source's base_url (default: the feed's `api/v1/…`).
    pub path: Option<String>,
    /// Where the list of records is in the response, as a dotted path
    /// (`data`, `result.items`; empty: the response is the list).
    pub records: String,
    /// Date format of the feed: a pattern like `yyyyMMddHHmmss` or
    /// `dd/MM/yyyy HH:mm:ss`, or `rfc3339`, `unix`, `unix_ms`.
    pub date_format: String,
    /// Time zone of dates without an offset.
    pub timezone: String,
    /// Query parameter for incremental polls ("changed since"); empty: the
    /// feed has none and every poll fetches everything.
    pub since_param: String,
    /// Format of the since parameter (default: `date_format`).
    pub since_format: Option<String>,
    pub pagination: PaginationSettings,
    /// Constant query parameters added to every request.
    pub query: BTreeMap<String, String>,
    /// Field paths by par-monitor's field name, overriding the defaults
    /// (`par-monitor config check` lists the names; an empty path means the
    /// upstream does not have the field).
    pub fields: BTreeMap<String, String>,
    /// Code tables: table name → upstream value → par-monitor's name,
    /// merged onto the defaults.
    pub codes: BTreeMap<String, BTreeMap<String, String>>,
}

impl Default for FeedMapping {
    fn default() -> Self {
        Self {
            path: None,
            records: "data".into(),
            date_format: "yyyyMMddHHmmss".into(),
            timezone: "Asia/Ho_Chi_Minh".into(),
            since_param: "updated_since".into(),
            since_format: None,
            pagination: PaginationSettings::default(),
            query: BTreeMap::new(),
            fields: BTreeMap::new(),
            codes: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaginationStyle {
    /// `page` and `size` parameters; stops at `total_pages` or a short page.
    Page,
    /// `offset` and `limit` parameters; stops at a short page.
    Offset,
    /// An opaque cursor from each response, sent back as a parameter.
    Cursor,
    /// A full URL of the next page in each response.
    NextLink,
}

/// Pagination; parameters not used by the chosen style are ignored.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaginationSettings {
    pub style: PaginationStyle,
    pub page_param: String,
    pub size_param: String,
    pub first_page: u32,
    /// Path of the total page count in the response (empty: none).
    pub total_pages: String,
    pub offset_param: String,
    pub limit_param: String,
    pub cursor_param: String,
    /// Path of the next cursor in the response (null or absent: last page).
    pub next_cursor: String,
    /// Path of the next page's URL in the response (null or absent: last page).
    pub next_link: String,
}

impl Default for PaginationSettings {
    fn default() -> Self {
        Self {
            style: PaginationStyle::Page,
            page_param: "page".into(),
            size_param: "size".into(),
            first_page: 1,
            total_pages: "total_pages".into(),
            offset_param: "offset".into(),
            limit_param: "limit".into(),
            cursor_param: "cursor".into(),
            next_cursor: "next_cursor".into(),
            next_link: "next".into(),
        }
    }
}

impl SourcesSettings {
    /// Problems with `[sources.*]`, as `(key, message)`.
    pub(super) fn check(&self) -> Vec<(String, String)> {
        self.all()
            .into_iter()
            .flat_map(|(name, src)| src.check(name))
            .collect()
    }
}

impl SourceSettings {
    /// Problems with `[sources.NAME]`: the page size, what only the portal
    /// may set, the concurrency, and a secret its auth kind needs.
    fn check(&self, name: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.page_size == 0 || self.page_size > 10_000 {
            out.push((
                format!("sources.{name}.page_size"),
                "expected a page size from 1 to 10000".into(),
            ));
        }
        if name != "portal"
            && (self.protocol != Protocol::Generic
                || self.root_department_id.is_some()
                || self.warmup_url.is_some())
        {
            out.push((
                format!("sources.{name}.protocol"),
                "protocol, root_department_id and warmup_url are for sources.portal only".into(),
            ));
        }
        if name == "portal" && self.protocol == Protocol::DvcqgEvaluation {
            out.extend(self.check_root_department_id());
        }
        if self.max_concurrent_requests == 0 {
            out.push((
                format!("sources.{name}.max_concurrent_requests"),
                "expected at least 1".into(),
            ));
        }
        if self.enabled
            && let Some((secret, _, key)) = self.auth.clone().secret_slot()
            && secret.is_none()
        {
            let key = key.trim_end_matches("_file");
            out.push((
                format!("sources.{name}.auth.{key}"),
                format!("required for this auth kind (or {key}_file)"),
            ));
        }
        out
    }

    /// The portal's evaluation API needs the province's departmentId.
    fn check_root_department_id(&self) -> Option<(String, String)> {
        let key = "sources.portal.root_department_id".to_owned();
        match self.root_department_id.as_deref().map(str::trim) {
            None | Some("") => Some((
                key,
                "required when protocol = \"dvcqg-evaluation\": the province's departmentId on the portal (see README)".into(),
            )),
            Some(id) if !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') => {
                Some((key, format!("expected a UUID like 0190…-…, found `{id}`")))
            }
            Some(_) => None,
        }
    }
}
