//! Accounts and sessions. `/login` checks a name and password (argon2) and
//! gives the browser a session cookie (HttpOnly, SameSite=Strict, Secure
//! over TLS); [`require_viewer`] turns the cookie, or a trusted proxy's
//! user header, into the [`super::Viewer`] every page reads. Sessions end
//! after `[web] session_idle_minutes` without a request, at logout, and
//! when the account is disabled. Failed logins are counted per account and
//! per address, and logged without the password; past
//! `login_max_failures` within `login_window_minutes` every attempt is
//! refused until the window has passed.
//!
//! The store keeps a session by the SHA-256 of its id, never the id.

mod accounts;
mod guard;
mod login;
pub mod password;
mod session;

use axum::Router;
use axum::routing::{get, post};

use super::WebState;

pub use accounts::{
    AccountError, NewAccount, OpenedSession, check_password, create_user, open_session,
    set_password,
};
pub use guard::require_viewer;
pub use session::{COOKIE_NAME, clear_cookie, id_hash, safe_next, set_cookie};

/// The login page's words, `(key, Vietnamese, English)` as
/// `super::i18n::Texts` (spelled out: the catalog imports this list, so
/// this file does not import the catalog).
pub(super) const TEXTS: &[(&str, &str, &str)] = &[
    ("auth.title", "Đăng nhập", "Log in"),
    (
        "auth.intro",
        "Đăng nhập bằng tài khoản được cấp để xem số liệu và phát hiện.",
        "Log in with the account you were given to see the figures and findings.",
    ),
    ("auth.username", "Tên đăng nhập", "User name"),
    ("auth.password", "Mật khẩu", "Password"),
    ("auth.submit", "Đăng nhập", "Log in"),
    (
        "auth.failed",
        "Tên đăng nhập hoặc mật khẩu không đúng.",
        "Wrong user name or password.",
    ),
    (
        "auth.limited",
        "Đăng nhập sai quá nhiều lần; hãy thử lại sau ít phút.",
        "Too many failed logins; try again in a few minutes.",
    ),
];

/// The English of one of [`TEXTS`], for the line the login page shows
/// under the Vietnamese.
fn english(key: &str) -> &'static str {
    TEXTS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, _, en)| *en)
        .unwrap_or_default()
}

/// The login and logout routes.
pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/login", get(login::page).post(login::submit))
        .route("/logout", post(login::logout))
}

#[cfg(test)]
mod tests;
