//! Composing e-mails from templates (minijinja, in `templates/`, compiled
//! into the binary). HTML templates auto-escape, so text that came from an
//! upstream (unit names, dossier codes) cannot inject markup.

use chrono::{DateTime, Utc};
use minijinja::{Environment, context};
use sha2::{Digest, Sha256};

use crate::domain::{EmailAddress, Severity, Unit};
use crate::findings::{EventKind, Evidence};
use crate::indicators::IndicatorId;
use crate::rules::Rule;
use crate::storage::NewEmail;
use crate::time::format_local;

/// Subjects longer than this are cut at a character boundary with `…`.
pub const MAX_SUBJECT_CHARS: usize = 140;

/// One finding transition to tell people about.
#[derive(Debug)]
pub struct Alert<'a> {
    pub finding_id: i64,
    pub kind: EventKind,
    pub unit: &'a Unit,
    pub rule: &'a Rule,
    pub severity: Severity,
    pub evidence: &'a Evidence,
    pub at: DateTime<Utc>,
}

/// A proposal for unannounced inspection, for its e-mail.
#[derive(Debug, serde::Serialize)]
pub struct PlanMail<'a> {
    pub plan_id: i64,
    pub requested_by: &'a str,
    pub reason: &'a str,
    pub seed: u64,
    pub units: &'a [PlanUnit],
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct PlanUnit {
    pub code: String,
    pub name: String,
    pub risk: f64,
    pub pick: crate::risk::Pick,
}

#[derive(Debug)]
pub struct Composer {
    env: Environment<'static>,
    message_id_domain: String,
}

impl Composer {
    pub fn new(message_id_domain: impl Into<String>) -> Composer {
        let mut env = Environment::new();
        for (name, source) in [
            ("alert.vi.txt", include_str!("templates/alert.vi.txt")),
            ("alert.vi.html", include_str!("templates/alert.vi.html")),
            (
                "inspection.vi.txt",
                include_str!("templates/inspection.vi.txt"),
            ),
            (
                "inspection.vi.html",
                include_str!("templates/inspection.vi.html"),
            ),
        ] {
            env.add_template(name, source)
                .expect("templates compiled into the binary are valid");
        }
        Composer {
            env,
            message_id_domain: message_id_domain.into(),
        }
    }

    /// The alert e-mail for a transition, addressed to `recipients`.
    pub fn alert(
        &self,
        a: &Alert<'_>,
        recipients: &[EmailAddress],
    ) -> Result<NewEmail, minijinja::Error> {
        let subject = truncate_chars(&alert_subject(a), MAX_SUBJECT_CHARS);
        let ctx = context! {
            subject => &subject,
            kind => a.kind.as_str(),
            unit => a.unit,
            rule => a.rule,
            section_vi => a.rule.section.name_vi(),
            severity => a.severity.as_str(),
            severity_vi => a.severity.name_vi(),
            period => &a.evidence.period,
            evidence => a.evidence,
            record_noun => record_noun_vi(a.evidence),
            shortfall => shortfall(a.evidence),
            value_text => value_text_vi(a.evidence),
            threshold_text => threshold_text_vi(a.evidence),
            at_local => format_local(a.at),
            finding_id => a.finding_id,
        };
        let body_text = self.env.get_template("alert.vi.txt")?.render(&ctx)?;
        let body_html = self.env.get_template("alert.vi.html")?.render(&ctx)?;
        let dedup_key = format!(
            "alert:{}:{}:{}",
            a.finding_id,
            a.kind.as_str(),
            a.at.timestamp()
        );
        Ok(NewEmail {
            message_id: self.message_id(&dedup_key),
            dedup_key,
            kind: "alert".into(),
            recipients: recipients.iter().map(|r| r.as_str().to_owned()).collect(),
            subject,
            body_text,
            body_html,
        })
    }

    /// The confidential proposal e-mail, for the inspection team only.
    pub fn inspection_plan(
        &self,
        plan: &PlanMail<'_>,
        recipients: &[EmailAddress],
    ) -> Result<NewEmail, minijinja::Error> {
        let subject = format!(
            "[par-monitor] MẬT – Đề xuất kiểm tra đột xuất #{} ({} đơn vị)",
            plan.plan_id,
            plan.units.len()
        );
        let ctx = context! {
            subject => &subject,
            plan_id => plan.plan_id,
            requested_by => plan.requested_by,
            reason => plan.reason,
            seed => plan.seed.to_string(),
            units => plan.units,
            at_local => format_local(plan.at),
        };
        let dedup_key = format!("inspection-plan:{}", plan.plan_id);
        Ok(NewEmail {
            message_id: self.message_id(&dedup_key),
            dedup_key,
            kind: "inspection_plan".into(),
            recipients: recipients.iter().map(|r| r.as_str().to_owned()).collect(),
            body_text: self.env.get_template("inspection.vi.txt")?.render(&ctx)?,
            body_html: self.env.get_template("inspection.vi.html")?.render(&ctx)?,
            subject,
        })
    }

    /// A Message-ID derived from the dedup key: a retried send carries the
    /// same id, so mail systems and people can tell it is the same message.
    pub fn message_id(&self, dedup_key: &str) -> String {
        let hash = Sha256::digest(dedup_key.as_bytes());
        let hex: String = hash.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("<{hex}@{}>", self.message_id_domain)
    }
}

fn alert_subject(a: &Alert<'_>) -> String {
    let tag = match a.kind {
        EventKind::Resolved => "Đã khắc phục".to_owned(),
        EventKind::Reopened => format!("Tái diễn ({})", a.severity.name_vi()),
        EventKind::SilenceExpired => format!("Nhắc lại ({})", a.severity.name_vi()),
        _ => match a.severity {
            Severity::Critical => "Nghiêm trọng".to_owned(),
            Severity::Warning => "Cảnh báo".to_owned(),
            Severity::Info => "Thông tin".to_owned(),
        },
    };
    let value = match (a.evidence.value, a.evidence.rule_kind.as_str()) {
        (None, _) => String::new(),
        (Some(v), "threshold") => format!(" (đạt {})", percent_vi(v)),
        (Some(_), _) => format!(" ({})", value_text_vi(a.evidence)),
    };
    // Names from upstreams may carry line breaks; a header must not.
    let unit: String = a.unit.name.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("[par-monitor] {tag}: {unit} – {}{value}", a.rule.title_vi)
}

/// `0.9123` → `91,2%`, the Vietnamese way (decimal comma).
pub fn percent_vi(v: f64) -> String {
    format!("{:.1}%", v * 100.0).replace('.', ",")
}

/// A number with a decimal comma: `72.5` → `72,50`.
fn decimal_vi(v: f64, places: usize) -> String {
    format!("{v:.places$}").replace('.', ",")
}

/// A duration in seconds, in words: `7500` → `2 giờ 5 phút`.
fn duration_vi(secs: f64) -> String {
    if !secs.is_finite() {
        return "chưa từng có dữ liệu".into();
    }
    let mins = (secs / 60.0).round() as i64;
    let (d, h, m) = (mins / 1440, mins / 60 % 24, mins % 60);
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d} ngày"));
    }
    if h > 0 {
        parts.push(format!("{h} giờ"));
    }
    if m > 0 || parts.is_empty() {
        parts.push(format!("{m} phút"));
    }
    parts.join(" ")
}

/// A value or level in the evidence's units, in Vietnamese.
fn amount_vi(e: &Evidence, v: f64) -> String {
    match e.unit_of_value.as_str() {
        "ratio" if e.rule_kind == "threshold" => percent_vi(v),
        // Drops and gaps are differences of rates: percentage points.
        "ratio" => format!("{} điểm %", decimal_vi(v * 100.0, 1)),
        "count" => format!("{v:.0}"),
        "seconds" => duration_vi(v),
        "points" => format!("{} điểm", decimal_vi(v, 2)),
        _ => decimal_vi(v, 2),
    }
}

/// What the records behind an indicator are called.
fn record_noun_vi(e: &Evidence) -> &'static str {
    match e
        .indicator
        .as_deref()
        .and_then(|i| i.parse::<IndicatorId>().ok())
    {
        Some(i) if i.source() == "documents" => "văn bản",
        Some(i) if i.source() == "reports" => "báo cáo",
        _ => "hồ sơ",
    }
}

/// How many records count against the unit (the sample lists the first).
fn shortfall(e: &Evidence) -> u64 {
    let (Some(n), Some(d)) = (e.numerator, e.denominator) else {
        return 0;
    };
    match e
        .indicator
        .as_deref()
        .and_then(|i| i.parse::<IndicatorId>().ok())
    {
        Some(i) if !i.higher_is_better() => n,
        _ => d.saturating_sub(n),
    }
}

/// The judged value, in words.
pub fn value_text_vi(e: &Evidence) -> String {
    let Some(v) = e.value else {
        return match &e.reason {
            Some(r) => format!("không xác định ({r})"),
            None => "không xác định".into(),
        };
    };
    match (e.rule_kind.as_str(), e.reference) {
        ("trend", Some(r)) => format!(
            "giảm {} so với kỳ so sánh ({})",
            amount_vi(e, v),
            percent_vi(r)
        ),
        ("peer_outlier", Some(r)) => format!(
            "thấp hơn trung vị đơn vị cùng loại {} (trung vị {})",
            amount_vi(e, v),
            percent_vi(r)
        ),
        ("staleness", _) => format!("dữ liệu cũ {}", amount_vi(e, v)),
        _ => amount_vi(e, v),
    }
}

/// The levels, in words: `cảnh báo dưới 95,0%, nghiêm trọng dưới 90,0%`.
pub fn threshold_text_vi(e: &Evidence) -> String {
    let side = if e.bound == "below" {
        "dưới"
    } else {
        "trên"
    };
    [
        ("thông tin", e.info),
        ("cảnh báo", e.warning),
        ("nghiêm trọng", e.critical),
    ]
    .into_iter()
    .filter_map(|(name, level)| level.map(|l| format!("{name} {side} {}", amount_vi(e, l))))
    .collect::<Vec<_>>()
    .join(", ")
}

pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
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

    fn compose(unit_name: &str) -> NewEmail {
        let unit = Unit {
            code: UnitCode::parse("H44.100").unwrap(),
            name: unit_name.into(),
            kind: None,
            parent: None,
            head_email: None,
        };
        let rule = rule();
        let evidence = evidence();
        let alert = Alert {
            finding_id: 7,
            kind: EventKind::Opened,
            unit: &unit,
            rule: &rule,
            severity: Severity::Critical,
            evidence: &evidence,
            at: Utc.with_ymd_and_hms(2026, 8, 20, 3, 0, 0).unwrap(),
        };
        let to = [EmailAddress::parse("lanhdao@h44-100.example").unwrap()];
        Composer::new("vpubnd.example").alert(&alert, &to).unwrap()
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
        assert!(e.message_id.ends_with("@vpubnd.example>"));
        assert_eq!(e.recipients, vec!["lanhdao@h44-100.example".to_string()]);
    }

    #[test]
    fn hostile_unit_names_are_escaped_and_subjects_bounded() {
        let hostile = format!(
            "<script>alert(\"x\")</script>\r\nBcc: a@b {}",
            "Ủy ban ".repeat(40)
        );
        let e = compose(&hostile);
        assert!(!e.body_html.contains("<script>"), "{}", e.body_html);
        assert!(e.body_html.contains("&lt;script&gt;"));
        assert!(e.subject.chars().count() <= MAX_SUBJECT_CHARS);
        assert!(e.subject.ends_with('…'));
        assert!(!e.subject.contains('\n') && !e.subject.contains('\r'));
    }

    #[test]
    fn message_ids_are_stable_for_a_dedup_key() {
        let c = Composer::new("x.example");
        assert_eq!(c.message_id("k"), c.message_id("k"));
        assert_ne!(c.message_id("k"), c.message_id("l"));
    }
}
