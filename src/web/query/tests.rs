use chrono::TimeZone;

use super::*;
use crate::domain::{Language, Role};

fn viewer(role: Role, unit: Option<&str>) -> Viewer {
    Viewer {
        name: "x".into(),
        role,
        unit: unit.map(|u| UnitCode::parse(u).unwrap()),
        language: Language::Vi,
        csrf_token: "t".into(),
    }
}

fn rules() -> RuleSet {
    RuleSet::parse(
        include_str!("../../../config/rules.toml"),
        "config/rules.toml",
    )
    .unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 1, 0, 0).unwrap()
}

fn q(pairs: &str) -> FindingsQuery {
    let uri: axum::http::Uri = format!("/findings?{pairs}").parse().unwrap();
    axum::extract::Query::<FindingsQuery>::try_from_uri(&uri)
        .unwrap()
        .0
}

#[test]
fn empty_fields_are_no_filter_and_a_unit_head_is_held_to_their_unit() {
    let team = viewer(Role::Inspection, None);
    let f = q("state=&severity=&unit=&section=&rule=&window=")
        .filter(&team, &rules(), now())
        .unwrap();
    assert_eq!(f.unit, None);
    assert!(f.state.is_none() && f.severity.is_none() && f.rules.is_none());
    let head = viewer(Role::UnitHead, Some("STP"));
    let f = q("").filter(&head, &rules(), now()).unwrap();
    assert_eq!(f.unit.as_deref(), Some("STP"));
    assert!(matches!(
        q("unit=SYT").filter(&head, &rules(), now()),
        Err(WebError::Forbidden(_))
    ));
}

#[test]
fn section_rule_and_window_narrow_the_list() {
    let team = viewer(Role::Inspection, None);
    let set = rules();
    let f = q("section=2&state=all&window=30d")
        .filter(&team, &set, now())
        .unwrap();
    let ids = f.rules.unwrap();
    assert!(!ids.is_empty());
    assert!(ids.iter().all(|id| {
        set.rules
            .iter()
            .any(|r| r.id == *id && r.section.number() == 2)
    }));
    assert!(f.include_resolved);
    assert_eq!(f.opened_since, Some(now() - chrono::Duration::days(30)));
    let f = q("rule=on-time-resolution")
        .filter(&team, &set, now())
        .unwrap();
    assert_eq!(
        f.rules.unwrap(),
        vec![RuleId::parse("on-time-resolution").unwrap()]
    );
}

#[test]
fn bad_fields_are_named() {
    let team = viewer(Role::Inspection, None);
    for (query, field) in [
        ("state=closed", "state"),
        ("severity=huge", "severity"),
        ("section=9", "section"),
        ("window=soon", "window"),
    ] {
        match q(query).filter(&team, &rules(), now()) {
            Err(WebError::BadRequest(m)) => assert!(m.starts_with(field), "{query}: {m}"),
            other => panic!("{query}: {other:?}"),
        }
    }
}

#[test]
fn the_query_string_keeps_the_filter_and_replaces_the_page() {
    let query = q("state=open&unit=STP&section=&page=3");
    assert_eq!(query.page(), 3);
    assert_eq!(query.to_query_string(Some(4)), "state=open&unit=STP&page=4");
    assert_eq!(query.to_query_string(None), "state=open&unit=STP");
    assert_eq!(q("page=0").page(), 1);
}
