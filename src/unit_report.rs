//! A unit's inspection report for a period, filled from the store: for each
//! content of the plan (II.1 to II.5), the unit's indicators that the
//! section's rules read (numerator, denominator and result the reader's
//! way, "chưa có dữ liệu" where there is none), the unit's findings of those
//! rules that were active in the period with their evidence in words, and
//! how current the data of the sources they read is. [`crate::report`]
//! lays it out as a `.docx`.
//!
//! The report speaks of one unit only and never of an unannounced
//! inspection: a unit head may download their own.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::coverage::Coverage;
use crate::domain::{Language, SourceId, Unit, UnitCode, UnitKind};
use crate::findings::Evidence;
use crate::indicators::{IndicatorId, IndicatorValue};
use crate::live::Live;
use crate::locale::{count, decimal, no_data, percent};
use crate::notify::compose::{period_text, threshold_text_vi, value_text_vi};
use crate::periods::Period;
use crate::report::{IndicatorLine, InspectionReport, Section};
use crate::rules::{Check, PlanSection, Rule};
use crate::score766::Score766;
use crate::storage::{FindingRecord, SourceState, Store};
use crate::time::{LOCAL_TZ, format_local};
use crate::workflow::{self, Filter};

/// Why a report could not be built.
#[derive(Debug, thiserror::Error)]
pub enum UnitReportError {
    #[error("no unit {0} in the unit directory")]
    UnknownUnit(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<crate::storage::StorageError> for UnitReportError {
    fn from(e: crate::storage::StorageError) -> Self {
        UnitReportError::Other(e.into())
    }
}

/// The issuer of every report: the Office of the People's Committee.
const ISSUER: &str = "Văn phòng";

/// Builds `unit`'s report for `period` as at `now`.
pub async fn build(
    store: &Store,
    live: &Live,
    unit: &UnitCode,
    period: Period,
    now: DateTime<Utc>,
) -> Result<InspectionReport, UnitReportError> {
    let units = store.units().await?;
    let Some(this) = units.iter().find(|u| &u.code == unit) else {
        return Err(UnitReportError::UnknownUnit(unit.to_string()));
    };
    let coverage = crate::overview::coverage(store, live, &period, now, None).await?;
    let overview = crate::overview::compute_covered(store, live, period, now, &coverage).await?;
    let (values, score) = overview
        .into_iter()
        .find(|o| o.code == unit.as_str())
        .map_or((Vec::new(), None), |o| (o.values, Some(o.score)));
    let filter = Filter {
        unit: Some(unit.to_string()),
        include_resolved: true,
        ..Filter::default()
    };
    let mut findings = workflow::list(store, &filter).await?;
    findings.retain(|f| active_during(f, &period));
    findings.sort_by_key(|f| f.id);
    let states = store.source_states().await?;
    let facts = Facts {
        values: &values,
        score: score.as_ref(),
        findings: &findings,
        coverage: &coverage,
        states: &states,
    };
    let sections = (1..=5)
        .filter_map(|n| PlanSection::new(n).ok())
        .map(|s| section(s, &live.rules.rules, &facts))
        .collect();
    Ok(InspectionReport {
        superior: superior(&units),
        issuer: ISSUER.to_owned(),
        unit: this.name.clone(),
        period: period_words(&period),
        as_of: moment_words(now),
        sections,
    })
}

/// What a section is filled from.
struct Facts<'a> {
    values: &'a [IndicatorValue],
    /// The unit's Decision 766 index, for a section with a rule on it.
    score: Option<&'a Score766>,
    findings: &'a [FindingRecord],
    coverage: &'a Coverage,
    states: &'a [SourceState],
}

/// Open at some moment of the period: opened before its end and not
/// resolved before its start.
fn active_during(f: &FindingRecord, period: &Period) -> bool {
    f.opened_at < period.end() && f.resolved_at.is_none_or(|t| t >= period.start())
}

fn section(s: PlanSection, rules: &[Rule], facts: &Facts<'_>) -> Section {
    let rules: Vec<&Rule> = rules.iter().filter(|r| r.section == s).collect();
    let indicators: BTreeSet<IndicatorId> = rules.iter().filter_map(|r| r.indicator()).collect();
    let sources: BTreeSet<SourceId> = rules
        .iter()
        .filter_map(|r| r.source().parse().ok())
        .collect();
    let findings = facts
        .findings
        .iter()
        .filter_map(|f| {
            let rule = rules.iter().find(|r| r.id == f.rule_id)?;
            Some(finding_words(f, rule))
        })
        .collect();
    let mut freshness: Vec<String> = sources
        .iter()
        .filter(|s| **s != SourceId::Units)
        .map(|s| freshness_words(*s, facts))
        .collect();
    if freshness.is_empty() {
        freshness.push(
            "Nội dung này chưa có chỉ tiêu đọc từ hệ thống thông tin; đoàn kiểm tra đánh giá \
             qua hồ sơ, tài liệu."
                .to_owned(),
        );
    }
    let mut lines: Vec<IndicatorLine> = indicators
        .into_iter()
        .map(|i| indicator_line(i, facts.values))
        .collect();
    if rules
        .iter()
        .any(|r| matches!(r.check, Check::Score766 { .. }))
    {
        lines.push(IndicatorLine {
            name: "Tổng điểm Bộ chỉ số 766".to_owned(),
            numerator: String::new(),
            denominator: String::new(),
            result: facts.score.map_or_else(
                || no_data(Language::Vi).to_owned(),
                |s| s.summary(Language::Vi),
            ),
        });
    }
    Section {
        number: s.number(),
        title: s.name_vi().to_owned(),
        indicators: lines,
        findings,
        freshness,
    }
}

fn indicator_line(indicator: IndicatorId, values: &[IndicatorValue]) -> IndicatorLine {
    let name = indicator.name_vi().to_owned();
    let Some(v) = values.iter().find(|v| v.indicator == indicator) else {
        return IndicatorLine {
            name,
            numerator: String::new(),
            denominator: String::new(),
            result: no_data(Language::Vi).to_owned(),
        };
    };
    let counted = |n: u64| count(i64::try_from(n).unwrap_or(i64::MAX), Language::Vi);
    let result = match v.ratio.value() {
        None => no_data(Language::Vi).to_owned(),
        Some(x) if indicator.is_share() => percent(x, Language::Vi),
        Some(x) => decimal(x, 1, Language::Vi),
    };
    IndicatorLine {
        name,
        numerator: counted(v.ratio.numerator),
        denominator: counted(v.ratio.denominator),
        result,
    }
}

/// A finding in one paragraph: the rule, its severity and state, when it
/// opened (and was resolved), and the evidence in words.
fn finding_words(f: &FindingRecord, rule: &Rule) -> String {
    let mut out = format!(
        "{} (quy tắc {}): mức {}, {}, phát hiện lúc {}",
        rule.title_vi,
        rule.id,
        f.severity.name_vi(),
        f.state.name_vi(),
        format_local(f.opened_at)
    );
    if let Some(t) = f.resolved_at {
        out.push_str(&format!(", khắc phục lúc {}", format_local(t)));
    }
    if let (Some(by), Some(at)) = (&f.acknowledged_by, f.acknowledged_at) {
        out.push_str(&format!(", {by} tiếp nhận lúc {}", format_local(at)));
    }
    match serde_json::from_value::<Evidence>(f.last_detail.clone()) {
        Ok(e) => {
            out.push_str(&format!(
                ". Số liệu {}: {}",
                period_text(&e, Language::Vi),
                value_text_vi(&e)
            ));
            if let (Some(n), Some(d)) = (e.numerator, e.denominator) {
                let c = |x: u64| count(i64::try_from(x).unwrap_or(i64::MAX), Language::Vi);
                out.push_str(&format!(" ({}/{})", c(n), c(d)));
            }
            let threshold = threshold_text_vi(&e);
            if !threshold.is_empty() {
                out.push_str(&format!("; ngưỡng {threshold}"));
            }
            if !e.sample.is_empty() {
                let first: Vec<&str> = e.sample.iter().take(5).map(String::as_str).collect();
                out.push_str(&format!("; hồ sơ ví dụ: {}", first.join(", ")));
            }
        }
        Err(_) => out.push_str(&format!(". Bằng chứng: {}", f.last_detail)),
    }
    out.push('.');
    out
}

fn freshness_words(source: SourceId, facts: &Facts<'_>) -> String {
    let name = source.name(Language::Vi);
    if let Some(gap) = facts.coverage.gaps.get(&source) {
        return format!(
            "{name}: chưa có dữ liệu cho kỳ này ({})",
            gap.reason(Language::Vi)
        );
    }
    if !facts.coverage.covers(source) {
        return format!("{name}: chưa kết nối (nguồn chưa được bật)");
    }
    let state = facts.states.iter().find(|s| s.source == source.as_str());
    match state.and_then(|s| s.data_as_of) {
        Some(t) => format!("{name}: số liệu cập nhật đến {}", format_local(t)),
        None => format!("{name}: {}", no_data(Language::Vi)),
    }
}

/// The body the Office answers to, from the province unit's name ("Văn
/// phòng UBND tỉnh Hòa Bình" gives "UBND tỉnh Hòa Bình"); where the name
/// does not say which province, a gap for the team to fill.
fn superior(units: &[Unit]) -> String {
    let name = units
        .iter()
        .find(|u| u.kind == Some(UnitKind::Province))
        .map_or("", |u| u.name.as_str());
    match name.find("UBND") {
        Some(i) if name[i..].split_whitespace().count() > 2 => name[i..].trim().to_owned(),
        _ => "UBND tỉnh …".to_owned(),
    }
}

/// The period in words: `tháng 08/2026`, `quý 3/2026`, `năm 2026`, or its
/// first and last days.
pub fn period_words(period: &Period) -> String {
    let local = |t: DateTime<Utc>| t.with_timezone(&LOCAL_TZ);
    let first = local(period.start());
    let last = local(period.end() - chrono::Duration::seconds(1));
    match period {
        Period::Month(_) => format!("tháng {}", first.format("%m/%Y")),
        Period::Quarter(q) => format!("quý {}/{}", q.number(), q.year()),
        Period::Year(_) => format!("năm {}", first.format("%Y")),
        Period::YearToDate(_) => format!(
            "năm {} (đến hết tháng {})",
            first.format("%Y"),
            last.format("%m/%Y")
        ),
        Period::Rolling(_) | Period::Reporting(_) => format!(
            "kỳ từ ngày {} đến ngày {}",
            first.format("%d/%m/%Y"),
            last.format("%d/%m/%Y")
        ),
    }
}

/// `08:00 ngày 01/12/2026`, in Asia/Ho_Chi_Minh.
fn moment_words(t: DateTime<Utc>) -> String {
    t.with_timezone(&LOCAL_TZ)
        .format("%H:%M ngày %d/%m/%Y")
        .to_string()
}

#[cfg(test)]
mod tests;
