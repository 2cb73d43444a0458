//! The console's accounts and sessions, on both backends: `users` through
//! the real binary, and the login, the session checks, the rate limit and
//! the trusted proxy over real HTTP on loopback.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use par_monitor::config::WebSettings;
use par_monitor::domain::{Language, Role, UnitCode};
use par_monitor::storage::Store;
use par_monitor::time::Clock;
use par_monitor::web::auth::{self, NewAccount, id_hash, password};
use par_monitor::web::{Viewer, WebState};
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use tokio_util::sync::CancellationToken;

use crate::binary::{BIN, shipped_rules_and_holidays};
use crate::helpers::{Backend, Ctx, TestDb, on_both_backends};

const PASSWORD: &str = "mật-khẩu-đúng";
const UNIT: &str = "H44.07";

/// Runs the binary with `stdin` piped in; returns (status, stdout, stderr).
fn users_cli(config: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("users")
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

on_both_backends! {
    async fn users_are_added_listed_disabled_and_given_passwords_from_the_command_line(backend) {
        let Some(db) = TestDb::new(backend).await else { return };
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("par-monitor.toml");
        std::fs::write(
            &config,
            format!(
                "[database]\nurl = \"{}\"\n{}[[units]]\ncode = \"{UNIT}\"\nname = \"Sở Tư pháp\"\n",
                db.url,
                shipped_rules_and_holidays()
            ),
        )
        .unwrap();
        let line = format!("{PASSWORD}\n");
        let (code, out, err) = users_cli(&config, &["add", "lan", "--role", "inspection"], &line);
        assert_eq!(code, 0, "{out}{err}");
        let (code, _, err) = users_cli(
            &config,
            &["add", "tu", "--role", "unit_head", "--unit", UNIT, "--language", "en"],
            &line,
        );
        assert_eq!(code, 0, "{err}");

        // Each refusal says what was wrong, with the usage exit status.
        let refusals: [(&[&str], &str, &str); 5] = [
            (&["add", "lan", "--role", "leadership"], &line, "already exists"),
            (&["add", "x", "--role", "unit_head"], &line, "--unit is required"),
            (&["add", "x", "--role", "leadership", "--unit", UNIT], &line, "only for a unit head"),
            (&["add", "x", "--role", "unit_head", "--unit", "H44.99"], &line, "H44.99"),
            (&["add", "x", "--role", "inspection"], "short\n", "at least 8"),
        ];
        for (args, stdin, says) in refusals {
            let (code, _, err) = users_cli(&config, args, stdin);
            assert_eq!(code, 2, "{args:?}: {err}");
            assert!(err.contains(says), "{args:?}: {err}");
        }

        let (code, json, _) = users_cli(&config, &["list", "--format", "json"], "");
        assert_eq!(code, 0);
        let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            rows,
            serde_json::json!([
                {"name": "lan", "role": "inspection", "unit": null, "language": "vi", "disabled": false},
                {"name": "tu", "role": "unit_head", "unit": UNIT, "language": "en", "disabled": false},
            ])
        );

        let store = store_at(&db.url).await;
        let stored = store.console_password_hash("lan").await.unwrap().unwrap();
        assert!(stored.starts_with("$argon2id$") && !stored.contains(PASSWORD));
        assert!(password::verify(PASSWORD, &stored));

        let session = auth::open_session(&store, "lan", chrono::Utc::now()).await.unwrap();
        let (code, _, err) = users_cli(&config, &["set-password", "lan"], "một-mật-khẩu-mới\n");
        assert_eq!(code, 0, "{err}");
        let stored = store.console_password_hash("lan").await.unwrap().unwrap();
        assert!(password::verify("một-mật-khẩu-mới", &stored) && !password::verify(PASSWORD, &stored));
        assert!(store.console_session(&id_hash(&session.id)).await.unwrap().is_none(), "a new password ends the sessions");

        let session = auth::open_session(&store, "tu", chrono::Utc::now()).await.unwrap();
        let (code, _, err) = users_cli(&config, &["disable", "tu"], "");
        assert_eq!(code, 0, "{err}");
        assert!(store.console_session(&id_hash(&session.id)).await.unwrap().is_none(), "disabling ends the sessions");
        let (_, text, _) = users_cli(&config, &["list"], "");
        let tu = text.lines().find(|l| l.starts_with("tu ")).unwrap();
        assert!(tu.contains(UNIT) && tu.contains("disabled"), "{text}");
        let (code, _, err) = users_cli(&config, &["disable", "ghost"], "");
        assert_eq!((code, err.contains("no account named `ghost`")), (2, true), "{err}");

        store.close().await;
        db.cleanup().await;
    }
}

async fn store_at(url: &str) -> Store {
    let settings = par_monitor::config::DatabaseSettings {
        url: par_monitor::config::DatabaseUrl::parse(url).unwrap(),
        ..Default::default()
    };
    let store = Store::connect(&settings).await.unwrap();
    store.migrate().await.unwrap();
    store
}

/// The login and a probe page behind the session check, served on
/// loopback, with two accounts: `lan` (inspection) and `tu` (head of
/// `H44.07`), both with [`PASSWORD`].
struct Console {
    ctx: Ctx,
    store: Store,
    base: String,
    client: reqwest::Client,
    stop: CancellationToken,
}

/// What the probe page answers: who the session says is looking.
async fn probe(Extension(v): Extension<Viewer>) -> String {
    format!("{} {} {}", v.name, v.role, v.csrf_token)
}

impl Console {
    async fn start(backend: Backend, web: WebSettings) -> Option<Console> {
        let ctx = Ctx::new(backend).await?;
        let app = ctx.app().await;
        let store = app.store.clone();
        let now = ctx.clock.now();
        let units = [UnitCode::parse(UNIT).unwrap()];
        for (name, role, unit) in [
            ("lan", Role::Inspection, None),
            ("tu", Role::UnitHead, Some(units[0].clone())),
        ] {
            let account = NewAccount {
                name: name.into(),
                role,
                unit,
                language: Language::Vi,
            };
            auth::create_user(&store, &account, PASSWORD, &units, now)
                .await
                .unwrap();
        }
        let state = WebState::new(
            store.clone(),
            app.live_handle(),
            Arc::new(ctx.clock.clone()),
            web,
        );
        let router = Router::new()
            .route("/probe", get(probe).post(probe))
            .route_layer(from_fn_with_state(state.clone(), auth::require_viewer))
            .merge(auth::routes())
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        let until = stop.clone();
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move { until.cancelled().await })
            .await
            .unwrap();
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Some(Console {
            ctx,
            store,
            base,
            client,
            stop,
        })
    }

    async fn login(
        &self,
        user: &str,
        password: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!("{}/login", self.base))
            .header("content-type", FORM)
            .body(form(&[
                ("username", user),
                ("password", password),
                ("next", "/probe"),
            ]));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    /// Logs in and returns the session cookie (`parmon_session=…`).
    async fn session(&self, user: &str) -> String {
        let r = self.login(user, PASSWORD, &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        cookie_of(&r)
    }

    async fn probe(&self, cookie: Option<&str>, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.client.get(format!("{}/probe", self.base));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    async fn finish(self) {
        self.stop.cancel();
        self.ctx.finish().await;
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

/// A form body, as a browser encodes it.
fn form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

fn set_cookie_of(r: &reqwest::Response) -> String {
    r.headers()
        .get(SET_COOKIE)
        .expect("a Set-Cookie header")
        .to_str()
        .unwrap()
        .to_owned()
}

/// `parmon_session=…` from a response's `Set-Cookie`.
fn cookie_of(r: &reqwest::Response) -> String {
    set_cookie_of(r).split(';').next().unwrap().to_owned()
}

fn location(r: &reqwest::Response) -> &str {
    r.headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

on_both_backends! {
    async fn a_login_gives_a_strict_http_only_cookie_and_logout_needs_the_csrf_token(backend) {
        let Some(c) = Console::start(backend, WebSettings::default()).await else { return };
        let page = c.client.get(format!("{}/login", c.base)).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("Đăng nhập") && html.contains("lang=\"en\""), "{html}");

        let r = c.probe(None, &[]).await;
        assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, "/login?next=%2Fprobe"));
        let r = c.client.post(format!("{}/probe", c.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "a POST without a session");

        // A wrong password and an unknown account get the same answer.
        let wrong = c.login("lan", "sai-mật-khẩu", &[]).await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert!(wrong.headers().get(SET_COOKIE).is_none());
        let wrong = wrong.text().await.unwrap();
        let unknown = c.login("ghost", "sai-mật-khẩu", &[]).await;
        assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
        let unknown = unknown.text().await.unwrap();
        assert!(wrong.contains("Tên đăng nhập hoặc mật khẩu không đúng."), "{wrong}");
        assert_eq!(
            wrong.replace("value=\"lan\"", ""),
            unknown.replace("value=\"ghost\"", ""),
            "the page never says whether the account exists"
        );

        let r = c.login("lan", PASSWORD, &[]).await;
        assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, "/probe"));
        let set = set_cookie_of(&r);
        assert!(set.starts_with("parmon_session="), "{set}");
        for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(set.contains(attr), "{set} lacks {attr}");
        }
        assert!(!set.contains("Secure"), "plain http: {set}");
        let cookie = cookie_of(&r);
        let id = cookie.trim_start_matches("parmon_session=");
        assert!(c.store.console_session(id).await.unwrap().is_none(), "the raw id is never stored");
        assert!(c.store.console_session(&id_hash(id)).await.unwrap().is_some());

        let page = c.probe(Some(&cookie), &[]).await;
        assert_eq!(page.status(), StatusCode::OK);
        let body = page.text().await.unwrap();
        let csrf = body.strip_prefix("lan inspection ").expect("the viewer is lan").to_owned();

        let logout = |fields: Vec<(&'static str, &str)>| {
            c.client
                .post(format!("{}/logout", c.base))
                .header("cookie", &cookie)
                .header("content-type", FORM)
                .body(form(&fields))
                .send()
        };
        let r = logout(vec![]).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "no csrf_token");
        let r = logout(vec![("csrf_token", "forged")]).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "a wrong csrf_token");
        assert_eq!(c.probe(Some(&cookie), &[]).await.status(), StatusCode::OK, "still signed in");
        let r = logout(vec![("csrf_token", &csrf)]).await.unwrap();
        assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, "/login"));
        assert!(set_cookie_of(&r).contains("Max-Age=0"));
        assert_eq!(c.probe(Some(&cookie), &[]).await.status(), StatusCode::SEE_OTHER, "ended");

        // `next` must stay on this site.
        let r = c.client.post(format!("{}/login", c.base))
            .header("content-type", FORM)
            .body(form(&[("username", "lan"), ("password", PASSWORD), ("next", "//evil.example/")]))
            .send().await.unwrap();
        assert_eq!(location(&r), "/");
        c.finish().await;
    }
}

on_both_backends! {
    async fn failed_logins_are_limited_per_account_and_per_address(backend) {
        let web = WebSettings {
            login_max_failures: 3,
            login_window_minutes: 15,
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            ..WebSettings::default()
        };
        let Some(c) = Console::start(backend, web).await else { return };
        let from = |a: &'static str| [("x-forwarded-for", a)];
        for _ in 0..3 {
            let r = c.login("lan", "sai-mật-khẩu", &from("192.0.2.1")).await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
        // The right password no longer helps, for the account from anywhere
        // and for any account from that address.
        let r = c.login("lan", PASSWORD, &from("192.0.2.1")).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(r.headers().get(SET_COOKIE).is_none());
        assert_eq!(c.login("lan", PASSWORD, &from("192.0.2.2")).await.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(c.login("tu", PASSWORD, &from("192.0.2.1")).await.status(), StatusCode::TOO_MANY_REQUESTS);
        // Another account from another address is not held back.
        assert_eq!(c.login("tu", PASSWORD, &from("192.0.2.3")).await.status(), StatusCode::SEE_OTHER);

        c.ctx.clock.advance(chrono::Duration::minutes(16));
        assert_eq!(c.login("lan", PASSWORD, &from("192.0.2.1")).await.status(), StatusCode::SEE_OTHER, "the window has passed");
        c.finish().await;
    }
}

on_both_backends! {
    async fn without_a_proxy_the_same_address_is_limited_for_every_account(backend) {
        let web = WebSettings { login_max_failures: 2, ..WebSettings::default() };
        let Some(c) = Console::start(backend, web).await else { return };
        // A forwarded address from an untrusted peer is not believed.
        for a in ["192.0.2.1", "192.0.2.2"] {
            let r = c.login("lan", "sai-mật-khẩu", &[("x-forwarded-for", a)]).await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
        assert_eq!(c.login("lan", PASSWORD, &[]).await.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(c.login("tu", PASSWORD, &[("x-forwarded-for", "192.0.2.9")]).await.status(), StatusCode::TOO_MANY_REQUESTS);
        c.finish().await;
    }
}

on_both_backends! {
    async fn a_session_ends_when_idle_too_long_or_when_its_account_is_disabled(backend) {
        let web = WebSettings { session_idle_minutes: 30, ..WebSettings::default() };
        let Some(c) = Console::start(backend, web).await else { return };
        let lan = c.session("lan").await;
        let tu = c.session("tu").await;
        // Each request keeps the session alive for another 30 minutes.
        for _ in 0..3 {
            c.ctx.clock.advance(chrono::Duration::minutes(29));
            assert_eq!(c.probe(Some(&lan), &[]).await.status(), StatusCode::OK);
        }
        c.ctx.clock.advance(chrono::Duration::minutes(31));
        let r = c.probe(Some(&lan), &[]).await;
        assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, "/login?next=%2Fprobe"), "idle past expiry");
        assert_eq!(c.probe(Some(&lan), &[]).await.status(), StatusCode::SEE_OTHER);

        let tu = {
            let fresh = c.session("tu").await;
            assert_eq!(c.probe(Some(&tu), &[]).await.status(), StatusCode::SEE_OTHER, "the old one idled out too");
            fresh
        };
        assert_eq!(c.probe(Some(&tu), &[]).await.status(), StatusCode::OK);
        // Disabled behind the console's back: the store alone, no logout.
        par_monitor_disable(&c.store, "tu", c.ctx.clock.now()).await;
        assert_eq!(c.probe(Some(&tu), &[]).await.status(), StatusCode::SEE_OTHER);
        assert_eq!(c.login("tu", PASSWORD, &[]).await.status(), StatusCode::UNAUTHORIZED);
        c.finish().await;
    }
}

async fn par_monitor_disable(store: &Store, name: &str, now: chrono::DateTime<chrono::Utc>) {
    assert!(store.disable_console_user(name, now).await.unwrap());
}

on_both_backends! {
    async fn a_trusted_proxy_signs_users_in_by_header_and_no_one_else_can(backend) {
        let proxied = |trusted: &str| WebSettings {
            trusted_proxies: vec![trusted.parse().unwrap()],
            proxy_user_header: Some("X-Remote-User".into()),
            ..WebSettings::default()
        };
        let Some(c) = Console::start(backend, proxied("127.0.0.1")).await else { return };
        let r = c.probe(None, &[("x-remote-user", "tu"), ("x-forwarded-proto", "https")]).await;
        assert_eq!(r.status(), StatusCode::OK);
        let set = set_cookie_of(&r);
        assert!(set.contains("HttpOnly") && set.contains("Secure"), "the proxy said https: {set}");
        let cookie = cookie_of(&r);
        let body = r.text().await.unwrap();
        assert!(body.starts_with("tu unit_head "), "{body}");
        // The session is reused while the proxy names the same person.
        let again = c.probe(Some(&cookie), &[("x-remote-user", "tu")]).await;
        assert!(again.headers().get(SET_COOKIE).is_none());
        assert_eq!(again.text().await.unwrap(), body);
        // An unknown or disabled account is not signed in.
        assert_eq!(c.probe(None, &[("x-remote-user", "ghost")]).await.status(), StatusCode::SEE_OTHER);
        par_monitor_disable(&c.store, "tu", c.ctx.clock.now()).await;
        assert_eq!(c.probe(None, &[("x-remote-user", "tu")]).await.status(), StatusCode::SEE_OTHER);
        c.finish().await;

        let Some(c) = Console::start(backend, proxied("127.0.0.2")).await else { return };
        let r = c.probe(None, &[("x-remote-user", "lan")]).await;
        assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, "/login?next=%2Fprobe"), "header from an untrusted peer");
        assert!(r.headers().get(SET_COOKIE).is_none());
        c.finish().await;
    }
}

/// What the console logs, for every test of this binary from the first
/// call on (filtered to the console's own lines).
fn console_log() -> &'static Mutex<Vec<u8>> {
    static LOG: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("par_monitor::web=info")
            .with_ansi(false)
            .with_writer(move || LogWriter(log))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        log
    })
}

struct LogWriter(&'static Mutex<Vec<u8>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

on_both_backends! {
    async fn a_failed_login_is_logged_with_the_account_and_address_but_never_the_password(backend) {
        let log = console_log();
        let Some(c) = Console::start(backend, WebSettings::default()).await else { return };
        let secret = format!("Bí-mật-{}", rand::random::<u64>());
        let account = format!("acct{}", rand::random::<u32>());
        assert_eq!(c.login(&account, &secret, &[]).await.status(), StatusCode::UNAUTHORIZED);
        let text = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
        let line = text
            .lines()
            .find(|l| l.contains("failed login") && l.contains(&account))
            .unwrap_or_else(|| panic!("no log line of the failed login in:\n{text}"));
        assert!(line.contains("127.0.0.1"), "{line}");
        assert!(!text.contains(&secret), "the password is in the log:\n{text}");
        c.finish().await;
    }
}
