use super::*;
use crate::domain::Ratio;
use crate::indicators::IndicatorValue;
use crate::score766::{Bands, UnitCounts, score_unit};

#[test]
fn the_period_is_read_as_the_indicators_command_reads_it() {
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-03T06:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let table = [
        (None, Ok("2026-12")),
        (Some("  "), Ok("2026-12")),
        (Some("2026-11"), Ok("2026-11")),
        (Some("2026-q4"), Ok("2026-Q4")),
        (Some("W2026-11"), Ok("W2026-11")),
        (Some("tháng 11"), Err("period:")),
    ];
    for (text, expected) in table {
        match (parse_period(text, now), expected) {
            (Ok(p), Ok(id)) => assert_eq!(p.id(), id),
            (Err(WebError::BadRequest(m)), Err(prefix)) => assert!(m.starts_with(prefix), "{m}"),
            (got, want) => panic!("{text:?}: got {got:?}, expected {want:?}"),
        }
    }
}

#[test]
fn every_indicator_has_a_row_and_missing_ones_have_no_parts() {
    let code = UnitCode::parse("STP").unwrap();
    let value = |indicator, n, d| IndicatorValue {
        unit_code: code.clone(),
        indicator,
        period: "2026-11".into(),
        ratio: Ratio::new(n, d),
        sample: Vec::new(),
    };
    let u = UnitOverview {
        code: "STP".into(),
        name: "Sở Tư pháp".into(),
        values: vec![
            value(IndicatorId::OnTime, 9, 10),
            value(IndicatorId::OnlinePayment, 0, 0),
        ],
        score: score_unit(&UnitCounts::default(), &Bands::default()),
        official_total: None,
        comparison: Vec::new(),
    };
    let rows = indicator_rows(&u, Language::Vi);
    assert_eq!(rows.len(), IndicatorId::COUNT);
    let by = |id: &str| rows.iter().find(|r| r.id == id).unwrap();
    let on_time = by("on_time");
    assert_eq!(
        (on_time.numerator, on_time.denominator, on_time.value),
        (Some(9), Some(10), Some(0.9))
    );
    assert_eq!(on_time.name, "Tỷ lệ hồ sơ giải quyết đúng hạn");
    // 0/0 is counted, but has no value.
    let payment = by("online_payment");
    assert_eq!(
        (payment.numerator, payment.denominator, payment.value),
        (Some(0), Some(0), None)
    );
    // No covering data: no parts at all, never 0/0.
    let signed = by("outgoing_signed");
    assert_eq!(
        (signed.numerator, signed.denominator, signed.value),
        (None, None, None)
    );
    assert!(!by("processing_days").share);
}
