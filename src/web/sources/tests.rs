use std::collections::BTreeMap;

use chrono::TimeZone;
use minijinja::context;

use super::*;
use crate::domain::quality::Check;
use crate::domain::{SourceHealth, UnitCode};
use crate::web::Templates;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 8, 20, 3, 0, 0).unwrap()
}

fn status() -> SourceStatus {
    SourceStatus {
        source: "procedures".into(),
        name: "Hệ thống giải quyết TTHC",
        enabled: true,
        health: SourceHealth::Degraded,
        health_text: "hoạt động không ổn định",
        stale: false,
        last_success_at: Some("2026-08-20T08:00:00+07:00".into()),
        data_as_of: None,
        consecutive_failures: 3,
        last_error: Some("HTTP 500: <script>alert(1)</script>".into()),
        feeds: vec![FeedStatus {
            feed: "procedures.dossiers".into(),
            records: 1200,
            quarantined: 4,
            implausible: BTreeMap::from([(Check::EndBeforeStart, 3)]),
            last_success_at: None,
            last_full_sync_at: None,
        }],
    }
}

fn viewer(role: Role, language: Language) -> Viewer {
    Viewer {
        name: "a".into(),
        role,
        unit: (role == Role::UnitHead).then(|| UnitCode::parse("H44.100").unwrap()),
        language,
        csrf_token: "t".into(),
    }
}

#[test]
fn a_source_reads_its_health_age_and_feeds_and_a_unit_head_gets_freshness_only() {
    let v = source_view(&status(), now(), Language::Vi, true);
    assert_eq!(v.health, "hoạt động không ổn định");
    assert_eq!(v.age.as_deref(), Some("2 giờ"));
    assert_eq!(
        v.feeds[0].implausible,
        ["3 ngày kết thúc trước ngày bắt đầu"]
    );
    assert!(v.last_error.is_some());
    let en = source_view(&status(), now(), Language::En, true);
    assert_eq!(en.health, "degraded");
    assert_ne!(en.name, v.name, "the system's name in English");
    let limited = source_view(&status(), now(), Language::Vi, false);
    assert!(limited.last_error.is_none() && limited.feeds.is_empty());
    assert_eq!(limited.last_success_at, v.last_success_at);
}

#[test]
fn upstream_errors_and_reasons_are_escaped_and_a_missing_time_says_so() {
    let mut s = status();
    s.last_success_at = None;
    let q = QuarantineEntry {
        feed: "procedures.dossiers".into(),
        record_id: None,
        check: None,
        field: "NgayHenTra".into(),
        problem: "<img src=x onerror=alert(2)>".into(),
        raw: "{}".into(),
        first_seen_at: now(),
        last_seen_at: now(),
        times_seen: 2,
    };
    for lang in [Language::Vi, Language::En] {
        let v = viewer(Role::Inspection, lang);
        let ctx = context! {
            sources => vec![source_view(&s, now(), lang, true)], full => true,
            quarantine => vec![quarantine_view(&q, lang)],
        };
        let html = Templates::new().render("sources.html", &v, ctx).unwrap().0;
        assert!(!html.contains("<script>alert") && html.contains("&lt;script&gt;alert(1)"));
        assert!(!html.contains("<img src=x"));
        assert!(html.contains(crate::locale::no_data(lang)));
    }
    let head = viewer(Role::UnitHead, Language::Vi);
    let ctx = context! {
        sources => vec![source_view(&s, now(), Language::Vi, false)], full => false,
        quarantine => Vec::<QuarantineView>::new(),
    };
    let html = Templates::new()
        .render("sources.html", &head, ctx)
        .unwrap()
        .0;
    assert!(!html.contains("HTTP 500") && !html.contains("procedures.dossiers"));
    assert!(html.contains("chỉ hiện tình trạng và độ mới"));
}
