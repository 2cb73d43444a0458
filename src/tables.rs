//! The tables people take away in Excel or CSV: the findings of a filter and
//! a period's indicators, filled from the store as `findings list` and
//! `indicators` show them (the same rows, in the same order), and laid out
//! by [`crate::export`].
//!
//! Headers are Vietnamese; a figure with no data behind it is an empty
//! cell, never 0.

use crate::coverage::Coverage;
use crate::domain::{Language, Unit};
use crate::export::{Cell, Column, Table};
use crate::findings::Evidence;
use crate::indicators::IndicatorId;
use crate::locale::no_data;
use crate::notify::compose::{period_text, threshold_text_vi, value_text_vi};
use crate::overview::UnitOverview;
use crate::periods::Period;
use crate::rules::RuleSet;
use crate::storage::{FindingRecord, StorageError, Store};
use crate::workflow::{self, Filter};

/// The findings `filter` selects, newest first: what `findings list` prints
/// and what the findings exports hold.
pub async fn findings_newest_first(
    store: &Store,
    filter: &Filter,
) -> Result<Vec<FindingRecord>, StorageError> {
    let mut rows = workflow::list(store, filter).await?;
    rows.reverse();
    Ok(rows)
}

/// The findings table's columns, in order.
const FINDING_COLUMNS: &[(&str, f64)] = &[
    ("Số", 7.0),
    ("Quy tắc", 24.0),
    ("Tên quy tắc", 36.0),
    ("Mục kế hoạch", 9.0),
    ("Đơn vị", 11.0),
    ("Tên đơn vị", 30.0),
    ("Mức độ", 12.0),
    ("Trạng thái", 13.0),
    ("Kết quả lần đánh giá gần nhất", 14.0),
    ("Kỳ đánh giá", 26.0),
    ("Giá trị", 10.0),
    ("Tử số", 9.0),
    ("Mẫu số", 9.0),
    ("Diễn giải", 36.0),
    ("Ngưỡng", 36.0),
    ("Mở lúc", 16.0),
    ("Cập nhật lúc", 16.0),
    ("Người tiếp nhận", 18.0),
    ("Tiếp nhận lúc", 16.0),
    ("Tạm ẩn đến", 16.0),
    ("Khắc phục lúc", 16.0),
    ("Hồ sơ ví dụ", 36.0),
];

fn columns(spec: &[(&str, f64)]) -> Vec<Column> {
    spec.iter().map(|(h, w)| Column::new(*h, *w)).collect()
}

/// One row per finding, in the order given; `units` names the units and
/// `rules` the rules (a rule no longer configured leaves its name empty).
pub fn findings_table(rows: &[FindingRecord], units: &[Unit], rules: &RuleSet) -> Table {
    Table {
        sheet: "Phát hiện".to_owned(),
        columns: columns(FINDING_COLUMNS),
        rows: rows.iter().map(|f| finding_row(f, units, rules)).collect(),
    }
}

fn text_or_empty(s: Option<&str>) -> Cell {
    match s {
        Some(s) if !s.is_empty() => Cell::text(s),
        _ => Cell::Empty,
    }
}

fn count_cell(n: Option<u64>) -> Cell {
    Cell::opt(n.and_then(|n| i64::try_from(n).ok()), Cell::Integer)
}

/// The judged value as a number of its kind: a rate as a percentage, a
/// count as a whole number, points or seconds as a number.
pub fn evidence_value_cell(e: &Evidence) -> Cell {
    let Some(v) = e.value else {
        return Cell::Empty;
    };
    match e.unit_of_value.as_str() {
        "ratio" => Cell::Ratio(v),
        // Counts are whole numbers stored as f64.
        #[allow(clippy::cast_possible_truncation)]
        "count" => Cell::Integer(v.round() as i64),
        _ => Cell::Number(v),
    }
}

fn finding_row(f: &FindingRecord, units: &[Unit], rules: &RuleSet) -> Vec<Cell> {
    let rule = rules.rules.iter().find(|r| r.id == f.rule_id);
    let unit = units.iter().find(|u| u.code == f.unit_code);
    let evidence = serde_json::from_value::<Evidence>(f.last_detail.clone()).ok();
    let mut row = vec![
        Cell::Integer(f.id),
        Cell::text(f.rule_id.to_string()),
        text_or_empty(rule.map(|r| r.title_vi.as_str())),
        Cell::opt(rule, |r| Cell::text(format!("II.{}", r.section.number()))),
        Cell::text(f.unit_code.as_str()),
        text_or_empty(unit.map(|u| u.name.as_str())),
        Cell::text(f.severity.name_vi()),
        Cell::text(f.state.name_vi()),
        Cell::text(f.last_result.name_vi()),
    ];
    match &evidence {
        Some(e) => row.extend([
            Cell::text(period_text(e, Language::Vi)),
            evidence_value_cell(e),
            count_cell(e.numerator),
            count_cell(e.denominator),
            Cell::text(value_text_vi(e)),
            text_or_empty(Some(&threshold_text_vi(e))),
        ]),
        // Evidence written by an older version: shown as stored.
        None => row.extend([
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::text(f.last_detail.to_string()),
            Cell::Empty,
        ]),
    }
    let sample = evidence
        .as_ref()
        .map(|e| e.sample.join(", "))
        .unwrap_or_default();
    row.extend([
        Cell::Time(f.opened_at),
        Cell::Time(f.updated_at),
        text_or_empty(f.acknowledged_by.as_deref()),
        Cell::opt(f.acknowledged_at, Cell::Time),
        Cell::opt(f.silenced_until, Cell::Time),
        Cell::opt(f.resolved_at, Cell::Time),
        text_or_empty(Some(&sample)),
    ]);
    row
}

const INDICATOR_COLUMNS: &[(&str, f64)] = &[
    ("Kỳ", 10.0),
    ("Đơn vị", 11.0),
    ("Tên đơn vị", 30.0),
    ("Mã chỉ số", 24.0),
    ("Chỉ số", 48.0),
    ("Tử số", 10.0),
    ("Mẫu số", 10.0),
    ("Giá trị", 10.0),
    ("Ghi chú", 40.0),
];

/// One row per unit and indicator (every indicator, in the order
/// `indicators` lists them), for the units given (the province first, as
/// [`crate::overview::compute_period`] returns them). An indicator whose
/// source does not cover the period has empty cells and the reason; one
/// with an empty denominator has its counts and no value.
pub fn indicators_table(period: &Period, units: &[UnitOverview], coverage: &Coverage) -> Table {
    let mut rows = Vec::new();
    for u in units {
        for &indicator in IndicatorId::ALL {
            rows.push(indicator_row(period, u, indicator, coverage));
        }
    }
    Table {
        sheet: format!("Chỉ số {}", period.id()),
        columns: columns(INDICATOR_COLUMNS),
        rows,
    }
}

fn indicator_row(
    period: &Period,
    u: &UnitOverview,
    indicator: IndicatorId,
    coverage: &Coverage,
) -> Vec<Cell> {
    let mut row = vec![
        Cell::text(period.id()),
        Cell::text(&u.code),
        text_or_empty(Some(&u.name)),
        Cell::text(indicator.as_str()),
        Cell::text(indicator.name_vi()),
    ];
    let Some(v) = u.values.iter().find(|v| v.indicator == indicator) else {
        let note = match coverage.gaps.get(&indicator.source_id()) {
            Some(gap) => format!(
                "{}: {} ({})",
                no_data(Language::Vi),
                indicator.source_id().name(Language::Vi),
                gap.reason(Language::Vi)
            ),
            None => no_data(Language::Vi).to_owned(),
        };
        row.extend([Cell::Empty, Cell::Empty, Cell::Empty, Cell::text(note)]);
        return row;
    };
    let value = match v.ratio.value() {
        None => Cell::Empty,
        Some(x) if indicator.is_share() => Cell::Ratio(x),
        Some(x) => Cell::Number(x),
    };
    let note = if v.ratio.denominator == 0 {
        Cell::text(format!("{}: mẫu số bằng 0 trong kỳ", no_data(Language::Vi)))
    } else {
        Cell::Empty
    };
    row.extend([
        count_cell(Some(v.ratio.numerator)),
        count_cell(Some(v.ratio.denominator)),
        value,
        note,
    ]);
    row
}

#[cfg(test)]
mod tests;
