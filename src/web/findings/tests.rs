use chrono::{TimeZone, Utc};
use minijinja::context;

use super::detail::{Entered, event_view, evidence_view, finding_view};
use super::list::{filter_form, row};
use super::*;
use crate::domain::{Role, UnitCode};
use crate::storage::{FindingEvent, FindingRecord};
use crate::web::{FindingsQuery, Templates, Viewer};
use crate::workflow::Detail;

fn rules() -> RuleSet {
    RuleSet::parse(
        include_str!("../../../config/rules.toml"),
        "config/rules.toml",
    )
    .unwrap()
}

fn viewer(role: Role, unit: Option<&str>, language: Language) -> Viewer {
    Viewer {
        name: "tran.thi.b".into(),
        role,
        unit: unit.map(|u| UnitCode::parse(u).unwrap()),
        language,
        csrf_token: "tok-123".into(),
    }
}

fn evidence_json() -> serde_json::Value {
    serde_json::to_value(Evidence {
        rule_kind: "threshold".into(),
        indicator: Some("on_time".into()),
        period: "2026-08".into(),
        numerator: Some(80),
        denominator: Some(100),
        value: Some(0.8),
        bound: "below".into(),
        warning: Some(0.95),
        critical: Some(0.9),
        unit_of_value: "ratio".into(),
        result: "fail".into(),
        sample: vec!["H44.100-260803-00001".into(), "<b>x</b>".into()],
        working_days_uncertain_from: chrono::NaiveDate::from_ymd_opt(2027, 1, 4),
        ..Evidence::default()
    })
    .unwrap()
}

fn record(unit: &str, state: State) -> FindingRecord {
    let at = Utc.with_ymd_and_hms(2026, 8, 20, 3, 0, 0).unwrap();
    FindingRecord {
        id: 7,
        rule_id: RuleId::parse("on-time-resolution").unwrap(),
        unit_code: UnitCode::parse(unit).unwrap(),
        state,
        severity: Severity::Critical,
        last_result: LastResult::Fail,
        last_detail: evidence_json(),
        opened_at: at,
        updated_at: at,
        resolved_at: None,
        last_evaluated_at: at,
        acknowledged_by: None,
        acknowledged_at: None,
        silenced_until: None,
        silenced_by: None,
        silence_reason: None,
    }
}

fn event(kind: &str, actor: &str, note: Option<&str>) -> FindingEvent {
    FindingEvent {
        id: 1,
        finding_id: 7,
        at: Utc.with_ymd_and_hms(2026, 8, 20, 4, 30, 0).unwrap(),
        kind: kind.into(),
        actor: actor.into(),
        note: note.map(str::to_owned),
        state: State::Acknowledged,
        severity: Severity::Critical,
        evidence: evidence_json(),
    }
}

fn units() -> Vec<Unit> {
    ["H44.100", "H44.101"]
        .into_iter()
        .map(|c| Unit {
            code: UnitCode::parse(c).unwrap(),
            name: format!("UBND xã {c} <script>"),
            kind: None,
            parent: None,
            head_email: None,
        })
        .collect()
}

#[test]
fn the_evidence_reads_in_words_and_numbers_as_in_the_alert_mail() {
    let v = evidence_view(&evidence_json(), Language::Vi);
    assert_eq!(v.result.as_deref(), Some("không đạt"));
    assert_eq!(v.value.as_deref(), Some("80,0%"));
    assert_eq!(v.parts.as_deref(), Some("80/100 hồ sơ"));
    assert_eq!(
        v.threshold.as_deref(),
        Some("cảnh báo dưới 95,0%, nghiêm trọng dưới 90,0%")
    );
    assert_eq!(v.period.as_deref(), Some("2026-08"));
    assert_eq!(v.uncertain_from.as_deref(), Some("04/01/2027"));
    assert_eq!(v.sample.len(), 2);
    let en = evidence_view(&evidence_json(), Language::En);
    assert_eq!(en.parts.as_deref(), Some("80/100 dossiers"));
    assert_eq!(en.result.as_deref(), Some("fail"));

    let old = evidence_view(&serde_json::json!({"value": 3}), Language::Vi);
    assert_eq!(old.raw.as_deref(), Some(r#"{"value":3}"#));
    assert!(old.value.is_none() && old.sample.is_empty());
}

#[test]
fn a_row_names_the_rule_section_unit_and_state_in_the_readers_language() {
    let set = rules();
    let us = units();
    let names = unit_names(&us);
    let r = row(
        &record("H44.100", State::Acknowledged),
        &set,
        &names,
        Language::Vi,
    );
    assert_eq!(r.rule_title, "Tỷ lệ hồ sơ giải quyết đúng hạn dưới 95%");
    assert_eq!(
        r.section.as_deref(),
        Some("2. Kết quả giải quyết TTHC theo cơ chế một cửa, một cửa liên thông")
    );
    assert_eq!(r.state, "đã tiếp nhận");
    assert_eq!((r.severity, r.severity_class), ("nghiêm trọng", "critical"));
    assert_eq!(r.value.as_deref(), Some("80,0%"));
    assert!(
        r.unit_name
            .as_deref()
            .unwrap()
            .starts_with("UBND xã H44.100")
    );
    let en = row(&record("H44.999", State::Open), &set, &names, Language::En);
    assert_eq!((en.state, en.severity), ("open", "critical"));
    assert_eq!(
        en.unit_name, None,
        "a unit not in the directory has no name"
    );
    assert_eq!(
        en.section.as_deref(),
        Some("2. One-stop results and petitions")
    );
}

#[test]
fn the_filter_form_selects_the_query_and_holds_a_unit_head_to_their_unit() {
    let set = rules();
    let q = FindingsQuery {
        state: Some("resolved".into()),
        section: Some("3".into()),
        window: Some("30d".into()),
        ..FindingsQuery::default()
    };
    let team = viewer(Role::Inspection, None, Language::Vi);
    let form = filter_form(&q, &team, &set, &units());
    let selected = |c: &[list::Choice]| {
        c.iter()
            .filter(|c| c.selected)
            .map(|c| c.value.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(selected(&form.state), ["resolved"]);
    assert_eq!(selected(&form.section), ["3"]);
    assert_eq!(selected(&form.window), ["30d"]);
    assert!(selected(&form.unit).is_empty() && !form.unit_fixed && !form.state_all);
    assert_eq!(form.unit.len(), 2);
    assert_eq!(form.rule.len(), set.rules.len());
    assert_eq!(form.section.len(), 5);

    let head = viewer(Role::UnitHead, Some("H44.101"), Language::Vi);
    let form = filter_form(&FindingsQuery::default(), &head, &set, &units());
    assert!(form.unit_fixed);
    assert_eq!(selected(&form.unit), ["H44.101"], "their own unit only");
}

#[test]
fn audit_events_read_in_words_and_unknown_kinds_as_stored() {
    let e = event_view(
        &event("acknowledged", "Trần Thị B", Some("đang xác minh")),
        Language::Vi,
    );
    assert_eq!(e.kind, "tiếp nhận");
    assert_eq!(e.state, "đã tiếp nhận");
    assert_eq!(e.note.as_deref(), Some("đang xác minh"));
    assert_eq!(e.at, "2026-08-20T04:30:00+00:00");
    let en = event_view(
        &event("silence_expired", "par-monitor", Some("  ")),
        Language::En,
    );
    assert_eq!(en.kind, "silence ended");
    assert_eq!(en.note, None, "a blank note is no note");
    assert_eq!(event_name("merged_later", Language::Vi), "merged_later");
}

fn render_finding(v: &Viewer, may_ack: bool, may_act: bool, problem: Option<&str>) -> String {
    let d = Detail {
        finding: record("H44.100", State::Open),
        events: vec![
            event("opened", "par-monitor", None),
            event("acknowledged", "Trần Thị B", Some("<i>đang</i> xác minh")),
        ],
    };
    let view = finding_view(
        &d,
        &rules(),
        Some("UBND <script>x</script>".into()),
        v.language,
    );
    let entered = Entered {
        until: "<soon>".into(),
        ..Entered::default()
    };
    let ctx = context! {
        f => view, may_acknowledge => may_ack, may_act => may_act,
        read_only => !may_ack && !may_act, problem => problem, entered => entered,
    };
    Templates::new().render("finding.html", v, ctx).unwrap().0
}

#[test]
fn the_finding_page_shows_the_forms_it_is_given_with_the_token_and_escapes_upstream_text() {
    for lang in [Language::Vi, Language::En] {
        let v = viewer(Role::Inspection, None, lang);
        let html = render_finding(&v, true, true, None);
        for action in ["ack", "silence", "resolve"] {
            assert!(
                html.contains(&format!("action=\"/findings/7/{action}\"")),
                "{action}"
            );
        }
        assert_eq!(
            html.matches("name=\"csrf_token\" value=\"tok-123\"")
                .count(),
            4,
            "three forms and logout"
        );
        assert!(!html.contains("<script>x"), "upstream names are escaped");
        assert!(!html.contains("<i>đang"), "notes are escaped");
        assert!(!html.contains("<b>x</b>"), "sample ids are escaped");
        assert!(html.contains("Trần Thị B"));
    }
    let lead = viewer(Role::Leadership, None, Language::Vi);
    let html = render_finding(&lead, false, false, None);
    assert!(!html.contains("/findings/7/ack") && !html.contains("/findings/7/resolve"));
    assert!(html.contains("Bạn chỉ được xem phát hiện này."));
    let html = render_finding(
        &viewer(Role::Inspection, None, Language::Vi),
        true,
        true,
        Some("findings.error.until"),
    );
    assert!(
        html.contains("Không hiểu thời điểm hết tạm ẩn đã nhập"),
        "{html}"
    );
    assert!(html.contains("&lt;soon&gt;") && !html.contains("<soon>"));
}

#[test]
fn the_list_page_renders_rows_paging_and_the_empty_case_in_both_languages() {
    let set = rules();
    let us = units();
    let names = unit_names(&us);
    for lang in [Language::Vi, Language::En] {
        let v = viewer(Role::Inspection, None, lang);
        let q = FindingsQuery {
            state: Some("all".into()),
            ..FindingsQuery::default()
        };
        let rows = vec![row(&record("H44.100", State::Open), &set, &names, lang)];
        let ctx = context! {
            form => filter_form(&q, &v, &set, &us), rows => rows, total => 51, page => 2, pages => 2,
            prev => Some(q.to_query_string(Some(1))), next => None::<String>,
            export_query => q.to_query_string(None),
        };
        let html = Templates::new().render("findings.html", &v, ctx).unwrap().0;
        assert!(html.contains("href=\"/findings/7\""));
        assert!(html.contains("href=\"/exports/findings.xlsx?state=all\""));
        assert!(html.contains("href=\"/exports/findings.csv?state=all\""));
        assert!(
            html.contains("href=\"/findings?state=all&amp;page=1\""),
            "{html}"
        );
        assert!(!html.contains("rel=\"next\""));
        assert!(html.contains("class=\"sev-critical\""));
        assert!(!html.contains("xã H44.100 <script>"));
        let ctx = context! {
            form => filter_form(&q, &v, &set, &us), rows => Vec::<list::Row>::new(), total => 0, page => 1,
            pages => 1, prev => None::<String>, next => None::<String>, export_query => "",
        };
        let html = Templates::new().render("findings.html", &v, ctx).unwrap().0;
        let empty = if lang == Language::Vi {
            "Không có phát hiện nào phù hợp"
        } else {
            "No findings match"
        };
        assert!(html.contains(empty));
    }
}

#[test]
fn every_refusal_has_words_in_both_languages_and_is_a_bad_request() {
    use crate::findings::ActionError::*;
    let catalog = crate::web::i18n::Catalog::new();
    for e in [
        AlreadyResolved,
        AlreadyAcknowledged,
        SilenceInThePast,
        NoteRequired,
        ActorRequired,
    ] {
        let p = super::actions::problem(&e);
        assert_eq!(p.status, axum::http::StatusCode::BAD_REQUEST, "{e}");
        for lang in [Language::Vi, Language::En] {
            assert!(catalog.get(p.key, lang).is_some(), "{}", p.key);
        }
    }
    for key in ["findings.error.conflict", "findings.error.until"] {
        assert!(catalog.get(key, Language::Vi).is_some(), "{key}");
    }
}

#[test]
fn a_form_without_its_token_reads_as_an_empty_token() {
    let form: super::actions::AckForm =
        crate::web::form::parse(b"comment=%C4%91ang+x%C3%A9t").unwrap();
    assert_eq!(
        (form.csrf_token.as_str(), form.comment.as_str()),
        ("", "đang xét")
    );
    let form: super::actions::SilenceForm =
        crate::web::form::parse(b"csrf_token=t&until=3d&reason=a&extra=1").unwrap();
    assert_eq!((form.csrf_token.as_str(), form.until.as_str()), ("t", "3d"));
}
