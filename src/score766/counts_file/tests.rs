use super::*;
use crate::score766::tests::counts;
use crate::score766::{Bands, score_unit};
use serde_json::json;

use IndicatorCode::*;

fn unit_error(json_counts: &str) -> CountsError {
    let file =
        format!(r#"{{"units":[{{"code":"H44.07","name":"Sở Tư pháp","counts":{json_counts}}}]}}"#);
    parse_counts_file(&file).expect_err("the counts are invalid")
}

fn online_services_error(value: &str) -> CountsError {
    let file = format!(
        r#"{{"units":[{{"code":"H44.07","name":"Sở Tư pháp","ONLINE_SERVICES":{value}}}]}}"#
    );
    parse_counts_file(&file).expect_err("the value is invalid")
}

#[test]
fn a_counts_file_is_read_into_units() {
    let file = r#"{"units":[{"code":"H44.07","name":"Sở Tư pháp",
            "counts":{"ON_TIME":[95,100],"PAYMENT_DOSSIERS":[8,10]},"ONLINE_SERVICES":8.83}]}"#;
    let expected = UnitInput {
        code: "H44.07".to_owned(),
        name: "Sở Tư pháp".to_owned(),
        counts: UnitCounts {
            counts: BTreeMap::from([
                (OnTime, Count::new(95, 100)),
                (PaymentDossiers, Count::new(8, 10)),
            ]),
            online_services: Some(8.83),
        },
    };
    assert_eq!(parse_counts_file(file), Ok(vec![expected]));
}

#[test]
fn lenient_but_exact_values_are_accepted() {
    let file = r#"{"units":[
            {"code":"H44.07","name":"Sở Tư pháp","counts":{"ORIGINAL_RESULT_AVAILABLE":[120,100],
             "ON_TIME":[95.0,1e2]},"ONLINE_SERVICES":null},
            {"code":"H44.100","name":"UBND xã Hòa Tiến"}]}"#;
    let units = parse_counts_file(file).expect("valid file");
    assert_eq!(
        units[0].counts.counts,
        BTreeMap::from([
            (OriginalResultAvailable, Count::new(120, 100)),
            (OnTime, Count::new(95, 100)),
        ])
    );
    assert_eq!(units[0].counts.online_services, None);
    assert_eq!(units[1].counts, UnitCounts::default());
}

#[test]
fn bad_counts_are_reported_with_the_unit_and_the_indicator() {
    let cases = [
        (r#"{"ON_TIM":[1,2]}"#, "unknown indicator code \"ON_TIM\""),
        (r#"{"ON_TIME":[-1,10]}"#, "ON_TIME: count -1 is negative"),
        (r#"{"ON_TIME":[1,-2.5]}"#, "ON_TIME: count -2.5 is negative"),
        (
            r#"{"ON_TIME":[9.5,10]}"#,
            "ON_TIME: count 9.5 is not a whole number",
        ),
        (
            r#"{"ON_TIME":[95]}"#,
            "ON_TIME: expected [numerator, denominator], found [95]",
        ),
        (
            r#"{"ON_TIME":[1,2,3]}"#,
            "ON_TIME: expected [numerator, denominator], found [1,2,3]",
        ),
        (
            r#"{"ON_TIME":95}"#,
            "ON_TIME: expected [numerator, denominator], found 95",
        ),
        (
            r#"{"DOSSIER_SYNC":["95",100]}"#,
            "DOSSIER_SYNC: count \"95\" is not a number",
        ),
        (
            r#"{"DOSSIER_SYNC":[1e30,1e30]}"#,
            "DOSSIER_SYNC: count 1e+30 is too large",
        ),
        (
            r#"{"ONLINE_SERVICES":[8,12]}"#,
            "ONLINE_SERVICES is the portal's score, not a count",
        ),
    ];
    for (counts, expected) in cases {
        let message = unit_error(counts).to_string();
        assert!(message.starts_with("unit H44.07"), "{message}");
        assert!(message.contains(expected), "{message} lacks {expected}");
    }
}

#[test]
fn bad_counts_carry_the_typed_indicator_code() {
    assert_eq!(
        unit_error(r#"{"PAYMENT_DOSSIERS":[3]}"#),
        CountsError::NotAPair {
            unit: "H44.07".to_owned(),
            code: PaymentDossiers,
            found: "[3]".to_owned(),
        }
    );
}

#[test]
fn a_bad_online_services_score_is_reported_with_the_unit() {
    for (value, expected) in [
        (
            "12.5",
            "unit H44.07, ONLINE_SERVICES: 12.5 is outside 0 to 12",
        ),
        (
            "-0.5",
            "unit H44.07, ONLINE_SERVICES: -0.5 is outside 0 to 12",
        ),
        (
            "\"8.83\"",
            "unit H44.07, ONLINE_SERVICES: expected a number from 0 to 12, found \"8.83\"",
        ),
    ] {
        assert_eq!(online_services_error(value).to_string(), expected);
    }
    assert!(
        parse_counts_file(
            r#"{"units":[{"code":"H44.07","name":"Sở Tư pháp","ONLINE_SERVICES":12}]}"#
        )
        .is_ok()
    );
}

#[test]
fn malformed_json_is_reported_with_its_line_and_column() {
    let file = "{\"units\": [\n  {\"code\": \"H44.07\", \"name\": \"Sở Tư pháp\",}\n]}";
    let error = parse_counts_file(file).expect_err("trailing comma");
    let CountsError::Malformed { line, column, .. } = &error else {
        panic!("expected a malformed-file error, got {error:?}");
    };
    assert_eq!((*line, *column), (2, 47));
    assert!(
        error
            .to_string()
            .starts_with("counts file is malformed at line 2, column 47: ")
    );
    assert!(
        !error.to_string().contains(" at line 2 column 47"),
        "{error}"
    );
}

#[test]
fn a_file_of_the_wrong_shape_is_malformed() {
    for file in [
        r#"{"unit":[]}"#,
        r#"{"units":[{"name":"Sở Tư pháp"}]}"#,
        r#"{"units":[{"code":"H44.07","name":"Sở Tư pháp","online_services":8}]}"#,
    ] {
        assert!(
            matches!(parse_counts_file(file), Err(CountsError::Malformed { .. })),
            "{file}"
        );
    }
}

#[test]
fn a_unit_listed_twice_is_rejected() {
    let file = r#"{"units":[{"code":"H44.07","name":"A"},{"code":"H44.07","name":"B"}]}"#;
    assert_eq!(
        parse_counts_file(file),
        Err(CountsError::DuplicateUnit {
            unit: "H44.07".to_owned()
        })
    );
}

#[test]
fn a_counts_file_round_trips_to_the_json_report() {
    let file = r#"{"units":[
            {"code":"H44.07","name":"Sở Tư pháp",
             "counts":{"ON_TIME":[95,100],"PAYMENT_DOSSIERS":[8,10],"PAYMENT_PROCEDURES":[36,47],
                       "PETITION_PROCESSING_ON_TIME":[0,0],"DOSSIER_RECEIVING_SATISFACTION":[81,100],
                       "ORIGINAL_RESULT_AVAILABLE":[120,100],"PUBLISH_ON_TIME":[0,0]},
             "ONLINE_SERVICES":8.83},
            {"code":"H44.100","name":"UBND xã Hòa Tiến","counts":{"ON_TIME":[0,0]}}]}"#;
    let units = parse_counts_file(file).expect("valid file");
    let results: Vec<(UnitInput, Score766)> = units
        .into_iter()
        .map(|unit| {
            let score = score_unit(&unit.counts, &Bands::default());
            (unit, score)
        })
        .collect();
    let report = to_json(&results);

    // H44.07: ON_TIME 20 × 0.95 = 19; PAYMENT_DOSSIERS 80.00 % -> 6 × 0.8 = 4.8;
    // PAYMENT_PROCEDURES 76.60 % -> 2 × 0.766 / 0.8 = 1.915 -> 1.92; ONLINE_PAYMENT 6.72;
    // PETITION_PROCESSING_ON_TIME no petitions -> 6; DOSSIER_RECEIVING_SATISFACTION
    // 6 × 0.81 / 0.9 = 5.4; SATISFACTION 11.4; ORIGINAL_RESULT_AVAILABLE min(6, 7.2) = 6;
    // PUBLISH_ON_TIME 0/0 -> none, so TRANSPARENCY none.
    // Total 19 + 8.83 + 6.72 + 11.4 + 6 = 51.95 of the 82 points the five
    // scored groups could earn: no band, transparency missing.
    let mut h44_07 = IndicatorCode::ALL
        .map(|code| (code.code().to_owned(), Value::Null))
        .into_iter()
        .collect::<serde_json::Map<_, _>>();
    for (code, score) in [
        ("ON_TIME", 19.0),
        ("PAYMENT_DOSSIERS", 4.8),
        ("PAYMENT_PROCEDURES", 1.92),
        ("PETITION_PROCESSING_ON_TIME", 6.0),
        ("DOSSIER_RECEIVING_SATISFACTION", 5.4),
        ("ORIGINAL_RESULT_AVAILABLE", 6.0),
    ] {
        h44_07.insert(code.to_owned(), json!(score));
    }
    let mut h44_100 = IndicatorCode::ALL
        .map(|code| (code.code().to_owned(), Value::Null))
        .into_iter()
        .collect::<serde_json::Map<_, _>>();
    h44_100.insert("ON_TIME".to_owned(), json!(0.0));

    let expected = json!({"units": [
        {
            "code": "H44.07",
            "name": "Sở Tư pháp",
            "indicators": h44_07,
            "groups": {
                "TRANSPARENCY": null, "PROGRESS": 19.0, "ONLINE_SERVICES": 8.83,
                "ONLINE_PAYMENT": 6.72, "SATISFACTION": 11.4, "DIGITIZATION": 6.0
            },
            "total": 51.95,
            "attainable": 82.0,
            "missing": ["TRANSPARENCY"],
            "band": null
        },
        {
            "code": "H44.100",
            "name": "UBND xã Hòa Tiến",
            "indicators": h44_100,
            "groups": {
                "TRANSPARENCY": null, "PROGRESS": 0.0, "ONLINE_SERVICES": null,
                "ONLINE_PAYMENT": null, "SATISFACTION": null, "DIGITIZATION": null
            },
            "total": 0.0,
            "attainable": 20.0,
            "missing": ["TRANSPARENCY", "ONLINE_SERVICES", "ONLINE_PAYMENT", "SATISFACTION", "DIGITIZATION"],
            "band": null
        }
    ]});
    assert_eq!(report, expected);

    // The report reads back into the same scores.
    let read_back: Vec<Score766> = report["units"]
        .as_array()
        .expect("a list of units")
        .iter()
        .map(|unit| serde_json::from_value(unit.clone()).expect("a Score766"))
        .collect();
    let scores: Vec<Score766> = results.into_iter().map(|(_, score)| score).collect();
    assert_eq!(read_back, scores);
}

#[test]
fn the_text_report_is_a_table_with_vietnamese_names() {
    let unit = UnitInput {
        code: "H44.07".to_owned(),
        name: "Sở Tư pháp".to_owned(),
        counts: UnitCounts {
            online_services: Some(8.83),
            ..counts(&[(OnTime, 95, 100), (PublishOnTime, 0, 0)])
        },
    };
    let score = score_unit(&unit.counts, &Bands::default());
    let text = to_text(&[(unit, score)]);
    let lines: Vec<&str> = text.lines().collect();

    assert_eq!(lines[0], "H44.07 — Sở Tư pháp");
    assert_eq!(
        lines.last(),
        Some(
            &"Xếp loại: không xếp loại (thiếu 4 nhóm: Công khai, minh bạch; Thanh toán trực tuyến; Mức độ hài lòng; Số hóa hồ sơ)"
        )
    );
    // One header, 6 groups, 18 indicators, the total.
    assert_eq!(lines.len(), 1 + 1 + 6 + 18 + 1 + 1);
    let row = |label: &str| {
        lines
            .iter()
            .find(|line| line.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no row {label}"))
            .split_whitespace()
            .rev()
            .take(2)
            .collect::<Vec<_>>()
    };
    assert_eq!(row("Hồ sơ giải quyết đúng hạn"), ["20.00", "19.00"]);
    assert_eq!(row("Công bố TTHC đúng hạn"), ["6.00", "n/a"]);
    assert_eq!(row("Dịch vụ công trực tuyến"), ["12.00", "8.83"]);
    assert_eq!(row("Tổng điểm"), ["32.00", "27.83"]);
    // Every table row has the same width in characters, diacritics and all.
    let widths: HashSet<usize> = lines[1..lines.len() - 1]
        .iter()
        .map(|line| line.chars().count())
        .collect();
    assert_eq!(widths.len(), 1, "{text}");
}

#[test]
fn the_text_report_separates_units_with_a_blank_line() {
    let unit = |code: &str| UnitInput {
        code: code.to_owned(),
        name: "Đơn vị".to_owned(),
        counts: UnitCounts::default(),
    };
    let score = score_unit(&UnitCounts::default(), &Bands::default());
    let text = to_text(&[(unit("H44.07"), score.clone()), (unit("H44.08"), score)]);
    assert!(
        text.contains("Xếp loại: không xếp loại (chưa có dữ liệu)\n\nH44.08 — Đơn vị\n"),
        "{text}"
    );
    assert_eq!(to_text(&[]), "");
}
