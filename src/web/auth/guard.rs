//! Who is asking: the session cookie, or a trusted proxy's user header,
//! turned into the [`Viewer`] a page reads.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};

use super::super::{Viewer, WebError, WebState};
use super::accounts::open_session;
use super::session::{Origin, clear_cookie, id_hash, login_redirect, presented_id, set_cookie};
use crate::storage::{ConsoleSession, ConsoleUser};

/// A session's `last_seen_at` is written at most this often.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// The TCP peer, when the server was started with it
/// (`into_make_service_with_connect_info`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Peer(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

/// The signed-in person, and the cookie to set when the session was opened
/// for this request (a trusted proxy's sign-on).
pub(super) struct Signed {
    pub viewer: Viewer,
    pub session_id_hash: String,
    pub set_cookie: Option<String>,
}

/// Puts the signed-in [`Viewer`] in the request's extensions; without a
/// valid session a GET is sent to `/login?next=…` and anything else is
/// refused with 403.
pub async fn require_viewer(State(web): State<WebState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let signed = match signed_in(&web, req.headers(), peer).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let Some(signed) = signed else {
        let stale_cookie = presented_id(req.headers()).is_some();
        let origin = Origin::of(peer, req.headers(), &web.settings);
        let secure = origin.secure(req.headers(), &web.settings);
        let mut refusal = refuse(&req);
        if stale_cookie && let Ok(v) = HeaderValue::from_str(&clear_cookie(secure)) {
            refusal.headers_mut().append(SET_COOKIE, v);
        }
        return refusal;
    };
    req.extensions_mut().insert(signed.viewer);
    let mut response = next.run(req).await;
    if let Some(c) = signed
        .set_cookie
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        response.headers_mut().append(SET_COOKIE, c);
    }
    response
}

/// A request without a valid session: a page is sent to the login, any
/// other method refused.
fn refuse(req: &Request) -> Response {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return (StatusCode::SEE_OTHER, [(LOCATION, login_redirect(path))]).into_response();
    }
    tracing::warn!(method = %req.method(), path = req.uri().path(), "console: request without a valid session refused");
    WebError::Forbidden("no session".into()).into_response()
}

/// The person behind the request, if any: a trusted proxy's user header
/// first (when configured and the peer is trusted), else the cookie.
pub(super) async fn signed_in(
    web: &WebState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<Option<Signed>, WebError> {
    let now = web.clock.now();
    let origin = Origin::of(peer, headers, &web.settings);
    let session = match presented_id(headers) {
        Some(id) => live_session(web, &id_hash(&id), now).await?,
        None => None,
    };
    if origin.trusted
        && let Some(header) = &web.settings.proxy_user_header
        && let Some(name) = headers.get(header.as_str()).and_then(|v| v.to_str().ok())
    {
        return proxy_sign_on(web, &origin, headers, name.trim(), session, now).await;
    }
    Ok(session.map(|(hash, s)| Signed {
        viewer: viewer_of(&s.user, s.csrf_token),
        session_id_hash: hash,
        set_cookie: None,
    }))
}

/// The session stored under `hash` if it may still be used (account
/// enabled, not idle too long); touched at most once a minute.
async fn live_session(
    web: &WebState,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(String, ConsoleSession)>, WebError> {
    let Some(s) = web.store.console_session(hash).await? else {
        return Ok(None);
    };
    let idle = Duration::minutes(i64::from(web.settings.session_idle_minutes));
    if s.user.disabled || now - s.last_seen_at > idle {
        tracing::info!(user = %s.user.name, disabled = s.user.disabled, "console: session ended (idle or account disabled)");
        web.store.end_console_session(hash).await?;
        return Ok(None);
    }
    if now - s.last_seen_at >= TOUCH_EVERY {
        web.store.touch_console_session(hash, now).await?;
    }
    Ok(Some((hash.to_owned(), s)))
}

/// Signs in the account a trusted proxy names: its session when the cookie
/// already holds one for that account, else a new one (so that forms get a
/// CSRF token). An unknown or disabled account is refused.
async fn proxy_sign_on(
    web: &WebState,
    origin: &Origin,
    headers: &HeaderMap,
    name: &str,
    session: Option<(String, ConsoleSession)>,
    now: DateTime<Utc>,
) -> Result<Option<Signed>, WebError> {
    if let Some((hash, s)) = session.filter(|(_, s)| s.user.name == name) {
        return Ok(Some(Signed {
            viewer: viewer_of(&s.user, s.csrf_token),
            session_id_hash: hash,
            set_cookie: None,
        }));
    }
    let user = match web.store.console_user(name).await? {
        Some(u) if !u.disabled => u,
        _ => {
            tracing::warn!(account = name, address = %origin.address(), "console: proxy sign-on refused, no such enabled account");
            return Ok(None);
        }
    };
    let opened = open_session(&web.store, &user.name, now).await?;
    tracing::info!(user = %user.name, address = %origin.address(), "console: signed in by the trusted proxy");
    Ok(Some(Signed {
        viewer: viewer_of(&user, opened.csrf_token),
        session_id_hash: id_hash(&opened.id),
        set_cookie: Some(set_cookie(
            &opened.id,
            origin.secure(headers, &web.settings),
        )),
    }))
}

fn viewer_of(user: &ConsoleUser, csrf_token: String) -> Viewer {
    Viewer {
        name: user.name.clone(),
        role: user.role,
        unit: user.unit.clone(),
        language: user.language,
        csrf_token,
    }
}
