use chrono::{TimeZone, Utc};

use super::*;
use crate::coverage::Gap;
use crate::domain::{Ratio, Severity, SourceHealth, SourceId, UnitCode};
use crate::findings::{LastResult, State};
use crate::indicators::IndicatorValue;
use crate::rules::RuleId;
use crate::score766::{Bands, score_unit};

fn unit_overview(values: Vec<IndicatorValue>) -> UnitOverview {
    UnitOverview {
        code: "H44.07".into(),
        name: "Sở Tư pháp".into(),
        values,
        score: score_unit(&Default::default(), &Bands::default()),
        official_total: None,
        comparison: Vec::new(),
    }
}

fn value(indicator: IndicatorId, n: u64, d: u64) -> IndicatorValue {
    IndicatorValue {
        unit_code: UnitCode::parse("H44.07").unwrap(),
        indicator,
        period: "2026-11".into(),
        ratio: Ratio::new(n, d),
        sample: Vec::new(),
    }
}

#[test]
fn indicators_without_data_are_empty_cells_never_zero() {
    let period: Period = "2026-11".parse().unwrap();
    let values = vec![
        value(IndicatorId::OnTime, 90, 100),
        value(IndicatorId::OnlinePayment, 0, 0),
    ];
    let mut coverage = Coverage::default();
    coverage.covered.push(SourceId::Procedures);
    coverage.gaps.insert(
        SourceId::Documents,
        Gap::NeverPolled {
            health: SourceHealth::NeverPolled,
        },
    );
    let table = indicators_table(&period, &[unit_overview(values)], &coverage);
    assert_eq!(table.rows.len(), IndicatorId::ALL.len());
    let row = |i: IndicatorId| {
        let at = IndicatorId::ALL.iter().position(|x| *x == i).unwrap();
        &table.rows[at]
    };
    let on_time = row(IndicatorId::OnTime);
    assert_eq!(
        on_time[5..8],
        [Cell::Integer(90), Cell::Integer(100), Cell::Ratio(0.9)]
    );
    assert_eq!(on_time[8], Cell::Empty);
    let payment = row(IndicatorId::OnlinePayment);
    assert_eq!(
        payment[5..8],
        [Cell::Integer(0), Cell::Integer(0), Cell::Empty]
    );
    let signed = row(IndicatorId::OutgoingSigned);
    assert_eq!(signed[5..8], [Cell::Empty, Cell::Empty, Cell::Empty]);
    let Cell::Text(note) = &signed[8] else {
        panic!("a note: {signed:?}")
    };
    assert!(
        note.starts_with("chưa có dữ liệu: Hệ thống quản lý văn bản"),
        "{note}"
    );
    crate::export::to_xlsx(&table).unwrap();
}

#[test]
fn a_finding_row_has_its_rule_unit_and_evidence() {
    let at = Utc.with_ymd_and_hms(2026, 11, 3, 1, 0, 0).unwrap();
    let f = FindingRecord {
        id: 12,
        rule_id: RuleId::parse("on-time-resolution").unwrap(),
        unit_code: UnitCode::parse("H44.07").unwrap(),
        state: State::Open,
        severity: Severity::Critical,
        last_result: LastResult::Fail,
        last_detail: serde_json::json!({
            "rule_kind": "threshold", "indicator": "on_time", "period": "2026-11",
            "numerator": 80, "denominator": 100, "value": 0.8, "reference": null,
            "bound": "below", "info": null, "warning": 0.95, "critical": 0.9,
            "unit_of_value": "ratio", "result": "fail", "reason": null, "sample": ["HS-1", "HS-2"],
        }),
        opened_at: at,
        updated_at: at,
        resolved_at: None,
        last_evaluated_at: at,
        acknowledged_by: None,
        acknowledged_at: None,
        silenced_until: None,
        silenced_by: None,
        silence_reason: None,
    };
    let units = vec![Unit {
        code: UnitCode::parse("H44.07").unwrap(),
        name: "Sở Tư pháp".into(),
        kind: None,
        parent: None,
        head_email: None,
    }];
    let table = findings_table(&[f], &units, &RuleSet { rules: Vec::new() });
    let row = &table.rows[0];
    assert_eq!(row.len(), table.columns.len());
    assert_eq!(row[0], Cell::Integer(12));
    // A rule no longer configured: no name, no section.
    assert_eq!(row[2..4], [Cell::Empty, Cell::Empty]);
    assert_eq!(row[5], Cell::text("Sở Tư pháp"));
    assert_eq!(row[6], Cell::text("nghiêm trọng"));
    assert_eq!(
        row[10..13],
        [Cell::Ratio(0.8), Cell::Integer(80), Cell::Integer(100)]
    );
    assert_eq!(row[15], Cell::Time(at));
    assert_eq!(row[18], Cell::Empty);
    assert_eq!(row[21], Cell::text("HS-1, HS-2"));
}
