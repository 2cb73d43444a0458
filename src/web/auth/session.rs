//! The session cookie, where a request comes from, and where a login may
//! send the browser next. Pure: headers in, decisions out.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};

use crate::config::WebSettings;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "parmon_session";

/// What the store keeps of a session id: its SHA-256, in hex.
pub fn id_hash(id: &str) -> String {
    format!("{:x}", Sha256::digest(id.as_bytes()))
}

/// The `Set-Cookie` value that gives the browser session `id`.
pub fn set_cookie(id: &str, secure: bool) -> String {
    Cookie::build((COOKIE_NAME, id.to_owned()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .secure(secure)
        .build()
        .to_string()
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    let mut c = Cookie::build((COOKIE_NAME, ""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .secure(secure)
        .build();
    c.make_removal();
    c.to_string()
}

/// The session id the browser presents, if any.
pub fn presented_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE_NAME && !c.value().is_empty())
        .map(|c| c.value().to_owned())
}

/// Where a request comes from, as far as the console may believe it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The TCP peer (`None` when the server was not given it).
    pub peer: Option<IpAddr>,
    /// The peer is one of `[web] trusted_proxies`.
    pub trusted: bool,
    /// The client: the peer, or for a trusted proxy the last hop of
    /// `X-Forwarded-For` (the one the proxy added).
    pub client: Option<IpAddr>,
}

impl Origin {
    pub fn of(peer: Option<SocketAddr>, headers: &HeaderMap, settings: &WebSettings) -> Origin {
        let peer = peer.map(|p| p.ip());
        let trusted = peer.is_some_and(|p| settings.trusted_proxies.contains(&p));
        let forwarded = trusted.then(|| last_forwarded_hop(headers)).flatten();
        Origin {
            peer,
            trusted,
            client: forwarded.or(peer),
        }
    }

    /// The client's address as the log and the rate limit name it.
    pub fn address(&self) -> String {
        self.client
            .map(|a| a.to_string())
            .unwrap_or_else(|| "unknown".into())
    }

    /// Whether the browser reached the console over TLS: `public_url` is
    /// https, or a trusted proxy says `X-Forwarded-Proto: https`.
    pub fn secure(&self, headers: &HeaderMap, settings: &WebSettings) -> bool {
        let public = settings
            .public_url
            .as_ref()
            .is_some_and(|u| u.url().scheme() == "https");
        let proxied = self.trusted
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
        public || proxied
    }
}

fn last_forwarded_hop(headers: &HeaderMap) -> Option<IpAddr> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .last()
        .and_then(|hop| hop.trim().parse().ok())
}

/// `next` when it is a path of this site (`/…`, not `//…` nor `/\…`,
/// which browsers read as another host), else `/`.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(|c| c.is_control()) =>
        {
            n
        }
        _ => "/",
    }
}

/// `/login?next=…` for a visitor who asked for `path_and_query`.
pub fn login_redirect(path_and_query: &str) -> String {
    let next: String = url::form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect();
    format!("/login?next={next}")
}
