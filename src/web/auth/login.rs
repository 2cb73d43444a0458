//! `GET /login`, `POST /login` (with the rate limit) and `POST /logout`.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use minijinja::context;

use super::super::{WebError, WebState};
use super::accounts::open_session;
use super::guard::{Peer, signed_in};
use super::password;
use super::session::{Origin, clear_cookie, safe_next, set_cookie};
use crate::domain::Language;

/// Account names longer than this are cut before they are counted and
/// logged (no account has one).
const MAX_ACCOUNT_CHARS: usize = 64;

/// The login form; every field may be missing.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// The logout form.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct LogoutForm {
    csrf_token: String,
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct PageQuery {
    next: Option<String>,
}

/// `GET /login`.
pub(super) async fn page(
    State(web): State<WebState>,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    form_page(&web, StatusCode::OK, None, safe_next(q.next.as_deref()), "")
}

/// The login form, with a message (a key of [`super::TEXTS`]) after a
/// failure.
fn form_page(
    web: &WebState,
    status: StatusCode,
    message: Option<&str>,
    next: &str,
    username: &str,
) -> Result<Response, WebError> {
    let html = web.templates.render_public(
        "login.html",
        Language::Vi,
        context! {
            intro_en => super::english("auth.intro"),
            message => message,
            message_en => message.map(super::english),
            next => next,
            username => username,
        },
    )?;
    Ok((status, html).into_response())
}

/// `POST /login`: `username`, `password`, and `next` (a local path).
pub(super) async fn submit(
    State(web): State<WebState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let form: LoginForm = crate::web::form::parse(&body)?;
    let password = form.password;
    let account: String = form
        .username
        .trim()
        .chars()
        .take(MAX_ACCOUNT_CHARS)
        .collect();
    let next = safe_next(form.next.as_deref()).to_owned();
    let origin = Origin::of(peer, &headers, &web.settings);
    let address = origin.address();
    let now = web.clock.now();
    let window_start = now - Duration::minutes(i64::from(web.settings.login_window_minutes));

    let (by_account, by_address) = web
        .store
        .login_failures_since(&account, &address, window_start)
        .await?;
    let max = i64::from(web.settings.login_max_failures);
    if by_account >= max || by_address >= max {
        tracing::warn!(account = %account, address = %address, "console: login refused, too many failed attempts");
        return form_page(
            &web,
            StatusCode::TOO_MANY_REQUESTS,
            Some("auth.limited"),
            &next,
            &account,
        );
    }
    if !credentials_ok(&web, &account, password).await? {
        web.store
            .record_login_failure(&account, &address, now, window_start)
            .await?;
        log_failure(&account, &address);
        return form_page(
            &web,
            StatusCode::UNAUTHORIZED,
            Some("auth.failed"),
            &next,
            &account,
        );
    }
    signed_in_response(&web, &origin, &headers, &account, &next, now).await
}

/// Whether `account` exists, is enabled and has this password. An unknown
/// account is checked against a decoy hash, so it takes as long.
async fn credentials_ok(web: &WebState, account: &str, password: String) -> Result<bool, WebError> {
    let user = web.store.console_user(account).await?;
    let hash = web.store.console_password_hash(account).await?;
    let enabled = user.is_some_and(|u| !u.disabled) && hash.is_some();
    let hash = hash.unwrap_or_else(|| password::decoy().to_owned());
    let matches = tokio::task::spawn_blocking(move || password::verify(&password, &hash))
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    Ok(enabled && matches)
}

/// The one log line of a failed login: the account tried and where from,
/// never the password.
pub(super) fn log_failure(account: &str, address: &str) {
    tracing::warn!(account, address, "console: failed login");
}

async fn signed_in_response(
    web: &WebState,
    origin: &Origin,
    headers: &HeaderMap,
    account: &str,
    next: &str,
    now: DateTime<Utc>,
) -> Result<Response, WebError> {
    let idle = Duration::minutes(i64::from(web.settings.session_idle_minutes));
    web.store.end_idle_console_sessions(now - idle).await?;
    let opened = open_session(&web.store, account, now).await?;
    tracing::info!(user = account, address = %origin.address(), "console: signed in");
    let cookie = set_cookie(&opened.id, origin.secure(headers, &web.settings));
    Ok((
        StatusCode::SEE_OTHER,
        [(LOCATION, next.to_owned()), (SET_COOKIE, cookie)],
    )
        .into_response())
}

/// `POST /logout` with the session's `csrf_token`: ends the session and
/// clears the cookie.
pub(super) async fn logout(
    State(web): State<WebState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let Some(signed) = signed_in(&web, &headers, peer).await? else {
        tracing::warn!("console: logout without a valid session refused");
        return Err(WebError::Forbidden("no session".into()));
    };
    let form: LogoutForm = crate::web::form::parse(&body)?;
    signed.viewer.check_csrf(&form.csrf_token)?;
    web.store
        .end_console_session(&signed.session_id_hash)
        .await?;
    tracing::info!(user = %signed.viewer.name, "console: signed out");
    let secure = Origin::of(peer, &headers, &web.settings).secure(&headers, &web.settings);
    Ok((
        StatusCode::SEE_OTHER,
        [
            (LOCATION, "/login".to_owned()),
            (SET_COOKIE, clear_cookie(secure)),
        ],
    )
        .into_response())
}
