use super::*;

fn row(
    code: &str,
    total: Option<f64>,
    complete: bool,
    on_time: Option<f64>,
    risk: Option<f64>,
) -> UnitRow {
    UnitRow {
        code: code.into(),
        name: String::new(),
        total,
        complete,
        summary: String::new(),
        on_time,
        risk,
    }
}

fn ranked(key: SortKey) -> Vec<String> {
    let mut rows = vec![
        row("A", Some(60.0), false, None, Some(0.0)),
        row("B", Some(80.0), true, Some(0.7), Some(3.0)),
        row("C", None, false, Some(0.9), None),
        row("D", Some(90.0), true, Some(0.7), Some(12.5)),
        row("E", Some(90.0), true, Some(0.95), Some(3.0)),
    ];
    rank(&mut rows, key);
    rows.into_iter().map(|r| r.code).collect()
}

#[test]
fn units_rank_best_first_with_missing_figures_last() {
    let table = [
        // Complete totals first, then a partial sum, then none; ties by code.
        (SortKey::Index, ["D", "E", "B", "A", "C"]),
        (SortKey::OnTime, ["E", "C", "B", "D", "A"]),
        (SortKey::Risk, ["D", "B", "E", "A", "C"]),
    ];
    for (key, expected) in table {
        assert_eq!(ranked(key), expected, "{key:?}");
    }
}

#[test]
fn the_sort_asked_for_is_read_and_risk_is_the_teams() {
    let table = [
        (None, true, Some(SortKey::Index)),
        (Some(""), false, Some(SortKey::Index)),
        (Some("index"), false, Some(SortKey::Index)),
        (Some("on_time"), false, Some(SortKey::OnTime)),
        (Some("risk"), true, Some(SortKey::Risk)),
        // Leadership asking for risk gets the index order, no risk shown.
        (Some("risk"), false, Some(SortKey::Index)),
        (Some("name"), true, None),
    ];
    for (asked, team, expected) in table {
        match (SortKey::parse(asked, team), expected) {
            (Ok(got), Some(want)) => assert_eq!(got, want, "{asked:?}"),
            (Err(WebError::BadRequest(m)), None) => {
                assert!(
                    m.starts_with("sort:") && m.contains("index, on_time or risk"),
                    "{m}"
                )
            }
            (got, want) => panic!("{asked:?}: got {got:?}, expected {want:?}"),
        }
    }
}

#[test]
fn open_findings_are_counted_per_section_and_severity() {
    use Severity::*;
    let open = [
        (2, Critical),
        (2, Warning),
        (2, Critical),
        (3, Info),
        (5, Warning),
    ];
    let rows = sections_table(&open, Language::Vi);
    let got: Vec<(u8, usize, usize, usize, usize)> = rows
        .iter()
        .map(|r| (r.number, r.info, r.warning, r.critical, r.total))
        .collect();
    assert_eq!(
        got,
        [
            (1, 0, 0, 0, 0),
            (2, 0, 1, 2, 3),
            (3, 1, 0, 0, 1),
            (4, 0, 0, 0, 0),
            (5, 0, 1, 0, 1)
        ]
    );
    assert_eq!(rows[2].name, "Ứng dụng công nghệ thông tin");
    assert_eq!(sections_table(&[], Language::En)[4].name, "Other tasks");
}
