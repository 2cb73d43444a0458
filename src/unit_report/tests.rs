use super::*;
use crate::domain::Ratio;

fn unit(name: &str) -> Unit {
    Unit {
        code: UnitCode::parse("H44").unwrap(),
        name: name.into(),
        kind: Some(UnitKind::Province),
        parent: None,
        head_email: None,
    }
}

#[test]
fn the_superior_body_comes_from_the_province_units_name() {
    assert_eq!(
        superior(&[unit("Văn phòng UBND tỉnh Hòa Bình")]),
        "UBND tỉnh Hòa Bình"
    );
    // The name does not say which province: left for the team to fill in.
    assert_eq!(superior(&[unit("Văn phòng UBND tỉnh")]), "UBND tỉnh …");
    assert_eq!(superior(&[]), "UBND tỉnh …");
}

#[test]
fn periods_read_in_words() {
    let words = |p: &str| period_words(&p.parse().unwrap());
    assert_eq!(words("2026-08"), "tháng 08/2026");
    assert_eq!(words("2026-Q3"), "quý 3/2026");
    assert_eq!(words("2026"), "năm 2026");
    assert_eq!(words("2026-YTD-08"), "năm 2026 (đến hết tháng 08/2026)");
    assert_eq!(
        words("W2026-08"),
        "kỳ từ ngày 15/07/2026 đến ngày 14/08/2026"
    );
}

#[test]
fn an_indicator_without_data_says_so_and_shows_no_figure() {
    let line = indicator_line(IndicatorId::OnTime, &[]);
    assert_eq!(
        (line.numerator.as_str(), line.denominator.as_str()),
        ("", "")
    );
    assert_eq!(line.result, "chưa có dữ liệu");
    let v = IndicatorValue {
        unit_code: UnitCode::parse("H44").unwrap(),
        indicator: IndicatorId::OnTime,
        period: "2026-08".into(),
        ratio: Ratio::new(1180, 1234),
        sample: Vec::new(),
    };
    let line = indicator_line(IndicatorId::OnTime, std::slice::from_ref(&v));
    assert_eq!(
        (
            line.numerator.as_str(),
            line.denominator.as_str(),
            line.result.as_str()
        ),
        ("1.180", "1.234", "95,6%")
    );
    let empty = IndicatorValue {
        ratio: Ratio::new(0, 0),
        ..v
    };
    let line = indicator_line(IndicatorId::OnTime, &[empty]);
    assert_eq!(
        (line.denominator.as_str(), line.result.as_str()),
        ("0", "chưa có dữ liệu")
    );
}
