use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderValue};

use super::session::{Origin, presented_id};
use super::*;
use crate::config::WebSettings;
use crate::domain::{Language, Role, UnitCode};

#[test]
fn a_hash_verifies_its_password_only() {
    let phc = password::hash("mật khẩu đủ dài").unwrap();
    assert!(phc.starts_with("$argon2id$"), "{phc}");
    assert!(!phc.contains("mật khẩu"));
    assert!(password::verify("mật khẩu đủ dài", &phc));
    assert!(!password::verify("mật khẩu đủ dài!", &phc));
    assert!(!password::verify("mật khẩu đủ dài", "not a phc string"));
    // A fresh salt every time.
    assert_ne!(phc, password::hash("mật khẩu đủ dài").unwrap());
}

#[test]
fn tokens_are_32_random_bytes_in_url_safe_base64() {
    let (a, b) = (password::token(), password::token());
    assert_eq!(a.len(), 43);
    assert!(
        a.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    assert_ne!(a, b);
}

#[test]
fn next_is_a_local_path_or_home() {
    assert_eq!(
        safe_next(Some("/findings?state=open")),
        "/findings?state=open"
    );
    assert_eq!(safe_next(Some("/")), "/");
    for bad in [
        "//evil.example/x",
        "/\\evil.example",
        "https://evil.example/",
        "findings",
        "",
        "/a\nb",
    ] {
        assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
    }
    assert_eq!(safe_next(None), "/");
}

#[test]
fn the_cookie_is_http_only_strict_and_secure_only_over_tls() {
    let plain = set_cookie("abc", false);
    assert!(plain.starts_with("parmon_session=abc;"), "{plain}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(plain.contains(attr), "{plain} lacks {attr}");
    }
    assert!(!plain.contains("Secure"), "{plain}");
    assert!(set_cookie("abc", true).contains("Secure"));
    let cleared = clear_cookie(false);
    assert!(cleared.starts_with("parmon_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
}

#[test]
fn the_session_id_is_read_from_the_cookie_header() {
    let mut h = HeaderMap::new();
    h.insert(
        "cookie",
        HeaderValue::from_static("a=1; parmon_session=xyz; b=2"),
    );
    assert_eq!(presented_id(&h).as_deref(), Some("xyz"));
    h.insert("cookie", HeaderValue::from_static("parmon_session="));
    assert_eq!(presented_id(&h), None);
    assert_eq!(presented_id(&HeaderMap::new()), None);
    assert_ne!(id_hash("xyz"), "xyz");
    assert_eq!(id_hash("xyz").len(), 64);
}

fn web(trusted: &[&str], public_url: Option<&str>) -> WebSettings {
    let mut s = WebSettings {
        trusted_proxies: trusted.iter().map(|a| a.parse().unwrap()).collect(),
        ..WebSettings::default()
    };
    if let Some(u) = public_url {
        s.public_url = Some(crate::config::HttpUrl::parse(u).unwrap());
    }
    s
}

#[test]
fn forwarded_headers_count_only_from_a_trusted_proxy() {
    let peer: SocketAddr = "10.0.0.5:4000".parse().unwrap();
    let mut h = HeaderMap::new();
    h.insert(
        "x-forwarded-for",
        HeaderValue::from_static("1.1.1.1, 192.0.2.7"),
    );
    h.insert("x-forwarded-proto", HeaderValue::from_static("https"));

    let trusted = web(&["10.0.0.5"], None);
    let o = Origin::of(Some(peer), &h, &trusted);
    assert!(o.trusted);
    assert_eq!(
        o.address(),
        "192.0.2.7",
        "the hop the proxy added, not the client's claim"
    );
    assert!(o.secure(&h, &trusted));

    let untrusted = web(&["10.0.0.6"], None);
    let o = Origin::of(Some(peer), &h, &untrusted);
    assert!(!o.trusted);
    assert_eq!(o.address(), "10.0.0.5");
    assert!(!o.secure(&h, &untrusted));

    let o = Origin::of(None, &h, &trusted);
    assert_eq!(o.address(), "unknown");
}

#[test]
fn an_https_public_url_makes_the_cookie_secure() {
    let s = web(&[], Some("https://cchc.example.gov.vn"));
    let o = Origin::of(Some("127.0.0.1:1".parse().unwrap()), &HeaderMap::new(), &s);
    assert!(o.secure(&HeaderMap::new(), &s));
}

fn account(role: Role, unit: Option<&str>) -> NewAccount {
    NewAccount {
        name: "lan.nguyen".into(),
        role,
        unit: unit.map(|u| UnitCode::parse(u).unwrap()),
        language: Language::Vi,
    }
}

#[test]
fn a_new_account_names_what_is_wrong() {
    let units = [UnitCode::parse("H44.07").unwrap()];
    assert!(
        account(Role::UnitHead, Some("H44.07"))
            .check(&units)
            .is_ok()
    );
    assert!(account(Role::Inspection, None).check(&units).is_ok());
    let err = |a: NewAccount| a.check(&units).unwrap_err().to_string();
    assert!(err(account(Role::UnitHead, None)).contains("--unit is required"));
    assert!(err(account(Role::Leadership, Some("H44.07"))).contains("only for a unit head"));
    assert!(err(account(Role::UnitHead, Some("H44.99"))).contains("H44.99"));
    let mut bad = account(Role::Inspection, None);
    bad.name = "a b".into();
    assert!(err(bad).contains("account name"));
    assert!(
        check_password("1234567")
            .unwrap_err()
            .to_string()
            .contains("at least 8")
    );
    assert!(check_password("12345678").is_ok());
}

/// A writer the test subscriber logs into.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failed_login_is_logged_with_account_and_address() {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        login::log_failure("lan.nguyen", "192.0.2.7");
    });
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("failed login"), "{text}");
    assert!(
        text.contains("lan.nguyen") && text.contains("192.0.2.7"),
        "{text}"
    );
}
