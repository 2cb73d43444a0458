use super::*;
use crate::domain::UnitCode;
use crate::rules::RuleSet;
use chrono::TimeZone;

fn rule() -> Rule {
    RuleSet::parse(
        r#"
[[rule]]
id = "on-time-resolution"
title_vi = "Tỷ lệ hồ sơ giải quyết đúng hạn dưới 95%"
title_en = "On-time resolution below 95%"
section = 2
kind = "threshold"
indicator = "on_time"
warning_below = 0.95
critical_below = 0.90
"#,
        "rules.toml",
    )
    .unwrap()
    .rules
    .remove(0)
}

fn evidence() -> Evidence {
    Evidence {
        rule_kind: "threshold".into(),
        indicator: Some("on_time".into()),
        period: "2026-08".into(),
        numerator: Some(80),
        denominator: Some(100),
        value: Some(0.8),
        reference: None,
        bound: "below".into(),
        info: None,
        warning: Some(0.95),
        critical: Some(0.9),
        unit_of_value: "ratio".into(),
        result: "fail".into(),
        reason: None,
        sample: vec!["H44.100-260803-00001".into()],
        ..Evidence::default()
    }
}

#[test]
fn every_kind_of_evidence_reads_in_words() {
    let base = evidence();
    let with = |kind: &str,
                unit: &str,
                value: f64,
                reference: Option<f64>,
                bound: &str,
                w: f64,
                c: Option<f64>| Evidence {
        rule_kind: kind.into(),
        unit_of_value: unit.into(),
        value: Some(value),
        reference,
        bound: bound.into(),
        warning: Some(w),
        critical: c,
        ..base.clone()
    };
    let cases = [
        (
            base.clone(),
            "80,0%",
            "cảnh báo dưới 95,0%, nghiêm trọng dưới 90,0%",
        ),
        (
            with("count", "count", 3.0, None, "above", 0.0, Some(5.0)),
            "3",
            "cảnh báo trên 0, nghiêm trọng trên 5",
        ),
        (
            with("trend", "ratio", 0.07, Some(0.97), "above", 0.05, None),
            "giảm 7,0 điểm % so với kỳ so sánh (97,0%)",
            "cảnh báo trên 5,0 điểm %",
        ),
        (
            with(
                "peer_outlier",
                "ratio",
                0.125,
                Some(0.975),
                "above",
                0.10,
                None,
            ),
            "thấp hơn trung vị đơn vị cùng loại 12,5 điểm % (trung vị 97,5%)",
            "cảnh báo trên 10,0 điểm %",
        ),
        (
            with(
                "staleness",
                "seconds",
                7500.0,
                None,
                "above",
                3600.0,
                Some(86400.0),
            ),
            "dữ liệu cũ 2 giờ 5 phút",
            "cảnh báo trên 1 giờ, nghiêm trọng trên 1 ngày",
        ),
        (
            with("score766", "points", 72.5, None, "below", 80.0, Some(50.0)),
            "72,50 điểm",
            "cảnh báo dưới 80,00 điểm, nghiêm trọng dưới 50,00 điểm",
        ),
    ];
    for (e, value, threshold) in cases {
        assert_eq!(value_text_vi(&e), value, "{}", e.rule_kind);
        assert_eq!(threshold_text_vi(&e), threshold, "{}", e.rule_kind);
    }
    let en = Evidence {
        rule_kind: "trend".into(),
        value: Some(0.07),
        reference: Some(0.97),
        bound: "above".into(),
        warning: Some(0.05),
        critical: None,
        ..base.clone()
    };
    assert_eq!(
        value_text(&en, Language::En),
        "down 7.0 percentage points against the earlier period (97.0%)"
    );
    assert_eq!(
        threshold_text(&en, Language::En),
        "warning above 5.0 percentage points"
    );
    let unknown = Evidence {
        value: None,
        reason: Some("insufficient sample (2 < 5 records)".into()),
        ..base
    };
    assert_eq!(
        value_text_vi(&unknown),
        "không xác định (insufficient sample (2 < 5 records))"
    );
}

fn unit(name: &str) -> Unit {
    Unit {
        code: UnitCode::parse("H44.100").unwrap(),
        name: name.into(),
        kind: None,
        parent: None,
        head_email: None,
    }
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 8, 20, 3, 0, 0).unwrap()
}

fn compose_for(units: &[Unit], kinds: &[EventKind], language: Language) -> NewEmail {
    let rule = rule();
    let evidence = evidence();
    let alerts: Vec<Alert<'_>> = units
        .iter()
        .zip(kinds)
        .enumerate()
        .map(|(i, (unit, kind))| Alert {
            finding_id: 7 + i as i64,
            kind: *kind,
            unit,
            rule: Some(&rule),
            rule_id: "on-time-resolution",
            severity: Severity::Critical,
            evidence: &evidence,
            at: at(),
        })
        .collect();
    let to = Recipient {
        address: EmailAddress::parse("lanhdao@h44-100.example").unwrap(),
        language,
    };
    Composer::new("vpubnd.example")
        .alert_group(
            &alerts,
            GroupMode::Changes,
            &to,
            "alert-group:test".into(),
            Some("https://par.example/findings/{id}"),
            at(),
        )
        .unwrap()
}

fn compose(unit_name: &str) -> NewEmail {
    compose_for(&[unit(unit_name)], &[EventKind::Opened], Language::Vi)
}

#[test]
fn the_alert_html_is_a_fixed_width_table_that_mail_clients_keep() {
    let e = compose_for(
        &[unit("UBND phường Hồng Bàng"), unit("Sở Tư pháp")],
        &[EventKind::Opened, EventKind::Resolved],
        Language::Vi,
    );
    assert!(e.body_html.contains(r#"<meta name="viewport""#));
    assert!(e.body_html.contains(r#"width="680""#));
    assert!(
        !e.body_html.contains("background:"),
        "backgrounds as bgcolor"
    );
    assert!(!e.body_html.contains("<!--"), "no comments shipped");
    insta::assert_snapshot!("alert_group_vi_html", e.body_html);
}

#[test]
fn an_alert_reads_in_vietnamese_with_its_evidence() {
    let e = compose("UBND phường Hồng Bàng");
    assert_eq!(
        e.subject,
        "[par-monitor] Nghiêm trọng: UBND phường Hồng Bàng – Tỷ lệ hồ sơ giải quyết đúng hạn dưới 95% (đạt 80,0%)"
    );
    assert!(
        e.body_text.contains("Kết quả: 80,0% (80/100 hồ sơ)"),
        "{}",
        e.body_text
    );
    assert!(e.body_text.contains("H44.100-260803-00001"));
    assert!(e.body_text.contains("20/08/2026 10:00"), "{}", e.body_text);
    assert!(e.body_html.contains("<strong>80,0%</strong>"));
    assert!(
        e.body_html
            .contains(r#"<a href="https:&#x2f;&#x2f;par.example&#x2f;findings&#x2f;7">#7</a>"#),
        "{}",
        e.body_html
    );
    assert!(e.message_id.ends_with("@vpubnd.example>"));
    assert_eq!(e.recipients, vec!["lanhdao@h44-100.example".to_string()]);
}

#[test]
fn a_group_lists_every_finding_and_reads_in_english_when_asked() {
    let units = [unit("UBND phường Hồng Bàng"), unit("UBND phường Hồng Bàng")];
    let e = compose_for(
        &units,
        &[EventKind::Opened, EventKind::Resolved],
        Language::En,
    );
    assert_eq!(e.subject, "[par-monitor] 2 alerts: UBND phường Hồng Bàng");
    assert!(
        e.body_text
            .contains("== CRITICAL: UBND phường Hồng Bàng (H44.100)"),
        "{}",
        e.body_text
    );
    assert!(
        e.body_text.contains("== RESOLVED: UBND phường Hồng Bàng"),
        "{}",
        e.body_text
    );
    assert!(e.body_text.contains("Rule: On-time resolution below 95%"));
    assert!(e.body_text.contains("Result: 80.0% (80/100 dossiers)"));
    assert!(e.body_text.contains("https://par.example/findings/8"));
    assert!(
        e.body_html
            .contains("Threshold</th><td>warning below 95.0%, critical below 90.0%")
    );
    let vi = compose_for(
        &units,
        &[EventKind::Opened, EventKind::Resolved],
        Language::Vi,
    );
    assert_eq!(
        vi.subject,
        "[par-monitor] 2 thông báo: UBND phường Hồng Bàng"
    );
}

#[test]
fn hostile_unit_names_are_escaped_and_subjects_bounded() {
    // A snapshot: the exact subject and HTML heading of an alert about a
    // unit whose name (from an upstream) is markup plus 300 characters.
    let hostile = format!(
        "<script>alert(1)</script>\"'\r\nBcc: a@b {}",
        "Ủy".repeat(150)
    );
    let e = compose(&hostile);
    let expected_subject = format!(
        "[par-monitor] Nghiêm trọng: <script>alert(1)</script>\"' Bcc: a@b {}…",
        "Ủy".repeat(37)
    );
    assert_eq!(e.subject, expected_subject);
    assert_eq!(e.subject.chars().count(), MAX_SUBJECT_CHARS);
    let expected_heading = format!(
        "Nghiêm trọng: &lt;script&gt;alert(1)&lt;&#x2f;script&gt;&quot;&#x27;\r\nBcc: a@b {} (H44.100)",
        "Ủy".repeat(150)
    );
    assert!(e.body_html.contains(&expected_heading), "{}", e.body_html);
    assert!(!e.body_html.contains("<script>"));
    assert!(!e.subject.contains('\n') && !e.subject.contains('\r'));
}

#[test]
fn message_ids_are_stable_for_a_dedup_key() {
    let c = Composer::new("x.example");
    assert_eq!(c.message_id("k"), c.message_id("k"));
    assert_ne!(c.message_id("k"), c.message_id("l"));
}
