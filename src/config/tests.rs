use std::collections::BTreeMap;
use std::time::Duration;

use super::*;

fn load(text: &str) -> Result<Settings, ConfigError> {
    Settings::from_toml_str(text, "test.toml", &BTreeMap::new())
}

fn load_env(text: &str, vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let env: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::from_toml_str(text, "test.toml", &env)
}

fn only_problem(r: Result<Settings, ConfigError>) -> ConfigProblem {
    let e = r.expect_err("configuration should be rejected");
    assert_eq!(e.problems.len(), 1, "{e}");
    e.problems[0].clone()
}

#[test]
fn an_empty_file_gives_the_documented_defaults() {
    let s = load("").unwrap();
    assert_eq!(s.database.url.expose(), "sqlite://data/par-monitor.db");
    assert_eq!(s.http.listen.to_string(), "127.0.0.1:9713");
    assert_eq!(s.email.transport, TransportKind::File);
    assert!(s.sources.procedures.enabled);
}

#[test]
fn a_wrong_type_names_the_key_and_the_expected_type() {
    let p = only_problem(load("[database]\nmax_connections = \"many\"\n"));
    assert_eq!(p.key, "database.max_connections");
    assert_eq!(p.origin, "test.toml");
    assert!(p.message.contains("u32"), "{}", p.message);
}

#[test]
fn the_portal_protocol_defaults_to_generic_and_the_evaluation_api_needs_its_root() {
    let s = load("[sources.portal]\nenabled = true\n").unwrap();
    assert_eq!(s.sources.portal.protocol, Protocol::Generic);
    let p = only_problem(load(
        "[sources.portal]\nenabled = true\nprotocol = \"dvcqg-evaluation\"\n",
    ));
    assert_eq!(p.key, "sources.portal.root_department_id");
    let s = load(
            "[sources.portal]\nprotocol = \"dvcqg-evaluation\"\nroot_department_id = \"0190a1b2-0000-7000-8000-000000000001\"\nwarmup_url = \"https://dichvucong.gov.vn/danh-gia-chat-luong-phuc-vu\"\n",
        )
        .unwrap();
    assert_eq!(s.sources.portal.warmup_every, Duration::from_secs(600));
    let p = only_problem(load(
        "[sources.documents]\nprotocol = \"dvcqg-evaluation\"\n",
    ));
    assert_eq!(p.key, "sources.documents.protocol");
}

#[test]
fn an_unknown_key_is_rejected_by_name() {
    let p = only_problem(load("[database]\nurll = \"sqlite://x.db\"\n"));
    assert_eq!(p.key, "database.urll");
    assert!(p.message.contains("`url`"), "{}", p.message);
}

#[test]
fn a_missing_required_key_is_named() {
    let p = only_problem(load("[[units]]\nname = \"Sở Tư pháp\"\n"));
    assert_eq!(p.key, "units[0].code");
    assert!(p.message.contains("missing"), "{}", p.message);
}

#[test]
fn smtp_transport_requires_a_host() {
    let p = only_problem(load("[email]\ntransport = \"smtp\"\n"));
    assert_eq!(p.key, "email.smtp.host");
}

#[test]
fn environment_overrides_the_file_and_is_named_in_errors() {
    let s = load_env(
        "[email]\nenabled = true\n",
        &[("PARMON__EMAIL__ENABLED", "false")],
    )
    .unwrap();
    assert!(!s.email.enabled);

    let p = only_problem(load_env(
        "",
        &[("PARMON__DATABASE__MAX_CONNECTIONS", "lots")],
    ));
    assert_eq!(p.key, "database.max_connections");
    assert_eq!(
        p.origin,
        "environment variable PARMON__DATABASE__MAX_CONNECTIONS"
    );
}

#[test]
fn invalid_values_with_rules_are_rejected_at_load() {
    let p = only_problem(load("[sources.procedures]\nschedule = \"every minute\"\n"));
    assert_eq!(p.key, "sources.procedures.schedule");
    let p = only_problem(load("[[units]]\ncode = \"H44 07\"\nname = \"x\"\n"));
    assert_eq!(p.key, "units[0].code");
    let p = only_problem(load("[email]\ninspection_team = [\"not-an-address\"]\n"));
    assert!(p.key.starts_with("email.inspection_team"), "{}", p.key);
}

#[test]
fn secrets_never_print() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("smtp");
    std::fs::write(&pw, "hunter2\n").unwrap();
    let text = format!(
        "[database]\nurl = \"postgres://app:s3cret@db.internal/parmon\"\n\
             [email]\ntransport = \"smtp\"\n[email.smtp]\nhost = \"mail\"\nusername = \"u\"\npassword_file = \"{}\"\n",
        pw.display()
    );
    let s = load(&text).unwrap();
    assert_eq!(s.email.smtp.password.as_ref().unwrap().expose(), "hunter2");
    let shown = format!("{s:?}\n{}", s.to_redacted_toml());
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(
        shown.contains("postgres://app:***@db.internal/parmon"),
        "{shown}"
    );
}

#[test]
fn relative_secret_files_are_read_from_the_credentials_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("db"), "pw\n").unwrap();
    let s = load_env(
        "[database]\nurl = \"postgres://app@db/parmon\"\npassword_file = \"db\"\n",
        &[("CREDENTIALS_DIRECTORY", dir.path().to_str().unwrap())],
    )
    .unwrap();
    assert_eq!(s.database.url.expose(), "postgres://app:pw@db/parmon");
}

#[test]
fn the_shipped_configuration_file_is_valid() {
    let text = include_str!("../../config/par-monitor.toml");
    let s = Settings::from_toml_str(text, "config/par-monitor.toml", &BTreeMap::new())
        .unwrap_or_else(|e| panic!("{e}"));
    let defaults = load("").unwrap();
    // The shipped file documents the defaults; it must not drift from them.
    assert_eq!(s.to_redacted_toml(), defaults.to_redacted_toml());
}

#[test]
fn findings_link_to_the_console_when_it_is_on_unless_a_url_is_given() {
    let off = load("").unwrap();
    assert_eq!(off.evidence_url(), None);
    assert_eq!(off.console_url(), None);
    let on = load("[web]\nenabled = true\n").unwrap();
    assert_eq!(on.console_url().as_deref(), Some("http://127.0.0.1:9715"));
    assert_eq!(
        on.evidence_url().as_deref(),
        Some("http://127.0.0.1:9715/findings/{id}")
    );
    let public =
        load("[web]\nenabled = true\npublic_url = \"https://cchc.example.gov.vn/\"\n").unwrap();
    assert_eq!(
        public.evidence_url().as_deref(),
        Some("https://cchc.example.gov.vn/findings/{id}")
    );
    let own =
        load("[web]\nenabled = true\n[email]\nevidence_url = \"https://par.example/f/{id}\"\n")
            .unwrap();
    assert_eq!(
        own.evidence_url().as_deref(),
        Some("https://par.example/f/{id}")
    );
}

#[test]
fn web_settings_are_checked_by_name() {
    let p = only_problem(load("[web]\nsession_idle_minutes = 0\n"));
    assert_eq!(p.key, "web.session_idle_minutes");
    let p = only_problem(load("[web]\nproxy_user_header = \"X-Remote-User\"\n"));
    assert_eq!(p.key, "web.trusted_proxies");
}
