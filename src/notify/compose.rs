//! Composing e-mails from templates (minijinja, in `templates/`, compiled
//! into the binary and loaded by [`templates`]). HTML templates
//! auto-escape, so text that came from an upstream (unit names, dossier
//! codes) cannot inject markup. Figures are written the reader's way by
//! [`crate::locale`].

pub mod templates;

use chrono::{DateTime, Datelike, Utc};
use minijinja::{Environment, context};
use sha2::{Digest, Sha256};

use crate::domain::{EmailAddress, Language, Recipient, Severity, Unit};
use crate::findings::{EventKind, Evidence};
use crate::indicators::IndicatorId;
use crate::locale::{decimal, percent};
use crate::rules::Rule;
use crate::storage::NewEmail;
use crate::time::format_local;

/// Subjects longer than this are cut at a character boundary with `…`.
pub const MAX_SUBJECT_CHARS: usize = 140;

/// One finding transition to tell people about, as one item of a grouped
/// alert e-mail.
#[derive(Debug)]
pub struct Alert<'a> {
    pub finding_id: i64,
    pub kind: EventKind,
    pub unit: &'a Unit,
    /// The rule, or `None` when it is no longer configured (then its id
    /// stands for its title).
    pub rule: Option<&'a Rule>,
    pub rule_id: &'a str,
    pub severity: Severity,
    pub evidence: &'a Evidence,
    pub at: DateTime<Utc>,
}

/// Whether a grouped e-mail tells of changes or reminds of what is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupMode {
    Changes,
    Reminder,
}

/// What a template sees of one alert: every text already in the reader's
/// language.
#[derive(Debug, serde::Serialize)]
struct AlertItem {
    finding_id: i64,
    kind: &'static str,
    headline: String,
    unit_name: String,
    unit_code: String,
    rule_title: String,
    section: String,
    section_name: &'static str,
    severity: &'static str,
    period: String,
    /// `80/100 hồ sơ`, when the value has parts.
    parts: Option<String>,
    value_text: String,
    threshold_text: String,
    shortfall: u64,
    sample: Vec<String>,
    at_local: String,
    link: Option<String>,
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
        Composer {
            env: templates::alerts(),
            message_id_domain: message_id_domain.into(),
        }
    }

    /// One e-mail to one recipient telling of several findings (changes,
    /// or a reminder of those still open), in the recipient's language.
    /// `evidence_url` links each finding (`{id}` is replaced).
    pub fn alert_group(
        &self,
        alerts: &[Alert<'_>],
        mode: GroupMode,
        to: &Recipient,
        dedup_key: String,
        evidence_url: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<NewEmail, minijinja::Error> {
        let lang = to.language;
        let items: Vec<AlertItem> = alerts
            .iter()
            .map(|a| item(a, lang, mode, evidence_url))
            .collect();
        let subject = truncate_chars(&group_subject(alerts, mode, lang), MAX_SUBJECT_CHARS);
        let ctx = context! {
            subject => &subject,
            reminder => mode == GroupMode::Reminder,
            items => &items,
            count => items.len(),
            at_local => format_local(now),
        };
        let l = lang.as_str();
        let body_text = self
            .env
            .get_template(&format!("alert.{l}.txt"))?
            .render(&ctx)?;
        let body_html = self
            .env
            .get_template(&format!("alert.{l}.html"))?
            .render(&ctx)?;
        Ok(NewEmail {
            message_id: self.message_id(&dedup_key),
            dedup_key,
            kind: "alert".into(),
            recipients: vec![to.address.as_str().to_owned()],
            subject,
            body_text,
            body_html,
        })
    }

    /// The notice to the inspection team that a source is down (alerts that
    /// read it are held meanwhile) or back.
    #[allow(clippy::too_many_arguments)]
    pub fn source_notice(
        &self,
        source: &str,
        back: bool,
        down_since: DateTime<Utc>,
        held: usize,
        language: Language,
        to: &[EmailAddress],
        dedup_key: String,
        now: DateTime<Utc>,
    ) -> Result<NewEmail, minijinja::Error> {
        let subject = match (language, back) {
            (Language::Vi, false) => {
                format!("[par-monitor] Nguồn dữ liệu {source} không truy cập được")
            }
            (Language::Vi, true) => {
                format!("[par-monitor] Nguồn dữ liệu {source} đã hoạt động lại")
            }
            (Language::En, false) => format!("[par-monitor] Source {source} is down"),
            (Language::En, true) => format!("[par-monitor] Source {source} is back"),
        };
        let subject = truncate_chars(&subject, MAX_SUBJECT_CHARS);
        let ctx = context! {
            subject => &subject,
            source => source,
            back => back,
            held => held,
            down_since_local => format_local(down_since),
            at_local => format_local(now),
        };
        let l = language.as_str();
        Ok(NewEmail {
            message_id: self.message_id(&dedup_key),
            dedup_key,
            kind: if back { "source_back" } else { "source_down" }.into(),
            recipients: to.iter().map(|r| r.as_str().to_owned()).collect(),
            body_text: self
                .env
                .get_template(&format!("source.{l}.txt"))?
                .render(&ctx)?,
            body_html: self
                .env
                .get_template(&format!("source.{l}.html"))?
                .render(&ctx)?,
            subject,
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
    /// The domain of the Message-IDs this composer makes (the sender's).
    pub fn message_id_domain(&self) -> &str {
        &self.message_id_domain
    }

    pub fn message_id(&self, dedup_key: &str) -> String {
        let hash = Sha256::digest(dedup_key.as_bytes());
        let hex: String = hash.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("<{hex}@{}>", self.message_id_domain)
    }
}

/// A severity in the reader's language.
pub fn severity_label(s: Severity, lang: Language) -> &'static str {
    match lang {
        Language::Vi => s.name_vi(),
        Language::En => match s {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        },
    }
}

fn section_name(n: u8, lang: Language) -> &'static str {
    match lang {
        Language::Vi => crate::rules::PlanSection::new(n)
            .map(|s| s.name_vi())
            .unwrap_or("Nhiệm vụ khác"),
        Language::En => match n {
            1 => "Leadership and direction",
            2 => "One-stop-shop results (receiving, resolving, returning; petitions)",
            3 => "IT in administration",
            4 => "Civil servants' conduct",
            _ => "Other tasks",
        },
    }
}

/// The short tag of an alert: what happened, at what severity.
fn tag(a: &Alert<'_>, lang: Language, mode: GroupMode) -> String {
    let sev = severity_label(a.severity, lang);
    let mut cap = sev.chars();
    let sev_cap: String = cap
        .next()
        .map(|c| c.to_uppercase().chain(cap).collect())
        .unwrap_or_default();
    if mode == GroupMode::Reminder {
        return match lang {
            Language::Vi => format!("Chưa khắc phục ({sev})"),
            Language::En => format!("Still open ({sev})"),
        };
    }
    match (lang, a.kind) {
        (Language::Vi, EventKind::Resolved | EventKind::ResolvedManually) => "Đã khắc phục".into(),
        (Language::Vi, EventKind::Reopened) => format!("Tái diễn ({sev})"),
        (Language::Vi, EventKind::SilenceExpired) => format!("Nhắc lại ({sev})"),
        (Language::Vi, EventKind::SeverityChanged) => format!("Mức độ tăng lên {sev}"),
        (Language::En, EventKind::Resolved | EventKind::ResolvedManually) => "Resolved".into(),
        (Language::En, EventKind::Reopened) => format!("Recurred ({sev})"),
        (Language::En, EventKind::SilenceExpired) => format!("Silence over, still failing ({sev})"),
        (Language::En, EventKind::SeverityChanged) => format!("Escalated to {sev}"),
        _ => sev_cap,
    }
}

/// Text from upstreams may carry line breaks; a header must not.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn rule_title(a: &Alert<'_>, lang: Language) -> String {
    match (a.rule, lang) {
        (Some(r), Language::Vi) => r.title_vi.clone(),
        (Some(r), Language::En) => r.title_en.clone(),
        (None, _) => a.rule_id.to_owned(),
    }
}

fn group_subject(alerts: &[Alert<'_>], mode: GroupMode, lang: Language) -> String {
    if let [a] = alerts {
        let value = a
            .evidence
            .value
            .map(|v| match lang {
                Language::Vi => format!(" (đạt {})", percent(v, lang)),
                Language::En => format!(" ({})", percent(v, lang)),
            })
            .unwrap_or_default();
        return format!(
            "[par-monitor] {}: {} – {}{value}",
            tag(a, lang, mode),
            one_line(&a.unit.name),
            one_line(&rule_title(a, lang))
        );
    }
    let mut units: Vec<String> = Vec::new();
    for a in alerts {
        let name = one_line(&a.unit.name);
        if !units.contains(&name) {
            units.push(name);
        }
    }
    let n = alerts.len();
    let units = units.join(", ");
    match (lang, mode) {
        (Language::Vi, GroupMode::Changes) => format!("[par-monitor] {n} thông báo: {units}"),
        (Language::Vi, GroupMode::Reminder) => {
            format!("[par-monitor] Nhắc lại: {n} phát hiện chưa khắc phục: {units}")
        }
        (Language::En, GroupMode::Changes) => format!("[par-monitor] {n} alerts: {units}"),
        (Language::En, GroupMode::Reminder) => {
            format!("[par-monitor] Reminder: {n} findings still open: {units}")
        }
    }
}

fn item(a: &Alert<'_>, lang: Language, mode: GroupMode, evidence_url: Option<&str>) -> AlertItem {
    let e = a.evidence;
    let section = a.rule.map_or(5, |r| r.section.number());
    AlertItem {
        finding_id: a.finding_id,
        kind: a.kind.as_str(),
        headline: tag(a, lang, mode),
        unit_name: a.unit.name.clone(),
        unit_code: a.unit.code.to_string(),
        rule_title: rule_title(a, lang),
        section: section.to_string(),
        section_name: section_name(section, lang),
        severity: a.severity.as_str(),
        period: period_text(e, lang),
        parts: parts_text(e, lang),
        value_text: value_text(e, lang),
        threshold_text: threshold_text(e, lang),
        shortfall: shortfall(e),
        sample: e.sample.clone(),
        at_local: format_local(a.at),
        link: evidence_url.map(|u| u.replace("{id}", &a.finding_id.to_string())),
    }
}

/// The value's parts with what they count, `80/100 hồ sơ`, when it has
/// them.
pub fn parts_text(e: &Evidence, lang: Language) -> Option<String> {
    let (n, d) = (e.numerator?, e.denominator?);
    Some(format!(
        "{}/{} {}",
        crate::locale::count(n as i64, lang),
        crate::locale::count(d as i64, lang),
        record_noun(e, lang)
    ))
}

/// A duration in seconds, in words: `7500` → `2 giờ 5 phút`.
pub fn duration(secs: f64, lang: Language) -> String {
    if !secs.is_finite() {
        return match lang {
            Language::Vi => "chưa từng có dữ liệu",
            Language::En => "never had data",
        }
        .into();
    }
    let mins = (secs / 60.0).round() as i64;
    let (d, h, m) = (mins / 1440, mins / 60 % 24, mins % 60);
    let (dn, hn, mn) = match lang {
        Language::Vi => ("ngày", "giờ", "phút"),
        Language::En => ("d", "h", "min"),
    };
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d} {dn}"));
    }
    if h > 0 {
        parts.push(format!("{h} {hn}"));
    }
    if m > 0 || parts.is_empty() {
        parts.push(format!("{m} {mn}"));
    }
    parts.join(" ")
}

/// A value or level in the evidence's units.
fn amount(e: &Evidence, v: f64, lang: Language) -> String {
    let (points_pct, points) = match lang {
        Language::Vi => ("điểm %", "điểm"),
        Language::En => ("percentage points", "points"),
    };
    match e.unit_of_value.as_str() {
        "ratio" if e.rule_kind == "threshold" => percent(v, lang),
        // Drops and gaps are differences of rates: percentage points.
        "ratio" => format!("{} {points_pct}", decimal(v * 100.0, 1, lang)),
        "count" => format!("{v:.0}"),
        "seconds" => duration(v, lang),
        "points" => format!("{} {points}", decimal(v, 2, lang)),
        _ => decimal(v, 2, lang),
    }
}

/// What the records behind an indicator are called.
fn record_noun(e: &Evidence, lang: Language) -> &'static str {
    let source = e
        .indicator
        .as_deref()
        .and_then(|i| i.parse::<IndicatorId>().ok())
        .map(|i| i.source());
    match (source, lang) {
        (Some("documents"), Language::Vi) => "văn bản",
        (Some("reports"), Language::Vi) => "báo cáo",
        (_, Language::Vi) => "hồ sơ",
        (Some("documents"), Language::En) => "documents",
        (Some("reports"), Language::En) => "reports",
        (_, Language::En) => "dossiers",
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
pub fn value_text(e: &Evidence, lang: Language) -> String {
    let Some(v) = e.value else {
        let unknown = match lang {
            Language::Vi => "không xác định",
            Language::En => "unknown",
        };
        // Evidence kept by earlier versions has the reason in English only.
        let reason = e
            .unknown
            .as_ref()
            .map(|u| u.describe(lang))
            .or_else(|| e.reason.clone());
        return match reason {
            Some(r) => format!("{unknown} ({r})"),
            None => unknown.into(),
        };
    };
    let a = amount(e, v, lang);
    if !e.missing_groups.is_empty() {
        return partial_total_text(e, &a, lang);
    }
    match (e.rule_kind.as_str(), e.reference, lang) {
        ("trend", Some(r), Language::Vi) => {
            format!("giảm {a} so với kỳ so sánh ({})", percent(r, lang))
        }
        ("trend", Some(r), Language::En) => {
            format!("down {a} against the earlier period ({})", percent(r, lang))
        }
        ("peer_outlier", Some(r), Language::Vi) => format!(
            "thấp hơn trung vị đơn vị cùng loại {a} (trung vị {})",
            percent(r, lang)
        ),
        ("peer_outlier", Some(r), Language::En) => format!(
            "{a} below the median of units of the same kind ({})",
            percent(r, lang)
        ),
        ("staleness", _, Language::Vi) => format!("dữ liệu cũ {a}"),
        ("staleness", _, Language::En) => format!("data {a} old"),
        _ => a,
    }
}

/// A 766 total judged without some groups: at most this much (a breach
/// whatever they score), or at least this much (a pass already).
fn partial_total_text(e: &Evidence, amount: &str, lang: Language) -> String {
    let names: Vec<&str> = e
        .missing_groups
        .iter()
        .filter_map(|code| {
            crate::score766::Group::ALL
                .into_iter()
                .find(|g| g.code() == code)
        })
        .map(|g| match lang {
            Language::Vi => g.name_vi(),
            Language::En => g.name_en(),
        })
        .collect();
    let failed = e.result == "fail";
    match (lang, failed) {
        (Language::Vi, true) => format!(
            "tối đa {amount} kể cả khi các nhóm chưa có dữ liệu ({}) đạt điểm tối đa",
            names.join(", ")
        ),
        (Language::Vi, false) => format!(
            "ít nhất {amount}, chưa tính các nhóm chưa có dữ liệu ({})",
            names.join(", ")
        ),
        (Language::En, true) => format!(
            "at most {amount} even with full marks in the groups without data ({})",
            names.join(", ")
        ),
        (Language::En, false) => format!(
            "at least {amount}, not counting the groups without data ({})",
            names.join(", ")
        ),
    }
}

/// What the evidence was judged over, in words: `30 ngày gần nhất (từ
/// 03/11/2026 đến 02/12/2026)`, `tháng 12/2026 (đến 02/12/2026)`, or the
/// period's id for evidence without a window.
pub fn period_text(e: &Evidence, lang: Language) -> String {
    let (Some(window), Some(start), Some(end)) = (&e.window, e.window_start, e.window_end) else {
        return e.period.clone();
    };
    let day = |t: DateTime<Utc>| {
        t.with_timezone(&crate::time::LOCAL_TZ)
            .format("%d/%m/%Y")
            .to_string()
    };
    // The span is half-open: its last day is the one before its end.
    let (first, last) = (day(start), day(end - chrono::Duration::seconds(1)));
    let local = start.with_timezone(&crate::time::LOCAL_TZ);
    let month = local.format("%m/%Y").to_string();
    let year = local.format("%Y").to_string();
    let quarter = (local.month() - 1) / 3 + 1;
    let vi = lang == Language::Vi;
    match window.as_str() {
        "month_to_date" if vi => format!("tháng {month} (đến {last})"),
        "month_to_date" => format!("{month}, to {last}"),
        "previous_month" if vi => format!("tháng {month}"),
        "previous_month" => month,
        "quarter_to_date" if vi => format!("quý {quarter}/{year} (đến {last})"),
        "quarter_to_date" => format!("Q{quarter} {year}, to {last}"),
        "year_to_date" if vi => format!("năm {year} (đến {last})"),
        "year_to_date" => format!("{year}, to {last}"),
        w => {
            let days = w
                .strip_prefix("rolling:")
                .and_then(|d| d.strip_suffix('d'))
                .unwrap_or(w);
            if vi {
                format!("{days} ngày gần nhất (từ {first} đến {last})")
            } else {
                format!("the last {days} days ({first} to {last})")
            }
        }
    }
}

/// The levels, in words: `cảnh báo dưới 95,0%, nghiêm trọng dưới 90,0%`.
pub fn threshold_text(e: &Evidence, lang: Language) -> String {
    let below = e.bound == "below";
    let (side, names) = match lang {
        Language::Vi => (
            if below { "dưới" } else { "trên" },
            ["thông tin", "cảnh báo", "nghiêm trọng"],
        ),
        Language::En => (
            if below { "below" } else { "above" },
            ["info", "warning", "critical"],
        ),
    };
    names
        .into_iter()
        .zip([e.info, e.warning, e.critical])
        .filter_map(|(name, level)| level.map(|l| format!("{name} {side} {}", amount(e, l, lang))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`value_text`] in Vietnamese.
pub fn value_text_vi(e: &Evidence) -> String {
    value_text(e, Language::Vi)
}

/// [`threshold_text`] in Vietnamese.
pub fn threshold_text_vi(e: &Evidence) -> String {
    threshold_text(e, Language::Vi)
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
mod tests;
