use super::*;

fn tree() -> &'static EvalEndpoint {
    protocol::endpoint("dvc-progress-tree").unwrap()
}

fn breakdown() -> &'static EvalEndpoint {
    protocol::endpoint("transparency").unwrap()
}

#[test]
fn figures_are_read_field_by_field_and_no_score_is_not_zero() {
    let v = json!({"departmentId":"0190-a","departmentName":"Sở Tư pháp","departmentCode":"H99.07",
            "level":"PROVINCE","totalReceived":480,"totalOnTime":400,"ratio":83.33,"score":16.67,"maxScore":20,"scoreDelta":null});
    let (f, _) = read_figure(tree(), &v, false).unwrap();
    assert_eq!((f.code.as_deref(), f.score), (Some("H99.07"), Some(16.67)));
    let v = json!({"departmentId":"0190-b","score":null,"maxScore":20});
    assert_eq!(read_figure(tree(), &v, false).unwrap().0.score, None);
    let v = json!({"departmentId":"0190-b","score":0,"maxScore":20});
    assert_eq!(read_figure(tree(), &v, false).unwrap().0.score, Some(0.0));
    let v = json!({"departmentId":"0190-c","totalScore":9.5,"totalMaxScore":18,
            "metrics":[{"code":"PUBLISH_ON_TIME","numerator":0,"denominator":0,"ratio":null,"score":null,"maxScore":6},
                       {"code":"DOSSIER_SYNC","score":5.5,"maxScore":6,"dataQualityStatus":"WARNING","dataQualityMessage":"Số liệu tạm tính"}]});
    let (f, _) = read_figure(breakdown(), &v, false).unwrap();
    assert_eq!(f.score, Some(9.5));
    assert_eq!(f.indicators["PUBLISH_ON_TIME"], None);
    assert_eq!(f.indicators["DOSSIER_SYNC"], Some(5.5));
    assert_eq!(f.warnings, ["DOSSIER_SYNC: Số liệu tạm tính"]);
}

#[test]
fn impossible_figures_are_refused_naming_the_field() {
    for (e, v, field) in [
        (tree(), json!({"score": 20.5, "maxScore": 20}), "score"),
        (
            tree(),
            json!({"score": 10, "maxScore": 20, "totalOverdue": -1}),
            "totalOverdue",
        ),
        (tree(), json!({"score": "high"}), "score"),
        (
            breakdown(),
            json!({"totalScore": 19, "totalMaxScore": 18}),
            "totalScore",
        ),
        (
            breakdown(),
            json!({"totalScore": 5, "metrics": [{"code": "DOSSIER_SYNC", "numerator": -3}]}),
            "metrics[0].numerator",
        ),
        (
            breakdown(),
            json!({"totalScore": 5, "metrics": [{"score": 1}]}),
            "metrics[0].code",
        ),
    ] {
        let (f, problem) = read_figure(e, &v, false).unwrap_err();
        assert_eq!(f, field, "{v}: {problem}");
    }
}

#[test]
fn units_are_joined_by_department_id_and_coded_by_the_trees() {
    let period = EvalPeriod::Month(Month::new(2026, 8).unwrap());
    let fig = |id: &str, code: Option<&str>, score: f64| Figure {
        id: Some(id.into()),
        code: code.map(str::to_owned),
        name: Some(format!("Đơn vị {id}")),
        score: Some(score),
        ..Figure::default()
    };
    let province = |code: Option<&str>| Figure {
        id: Some("root".into()),
        code: code.map(str::to_owned),
        score: Some(15.0),
        ..Figure::default()
    };
    let answers = vec![
        (
            tree(),
            Answer {
                province: province(Some("H99")),
                province_total: Some(71.5),
                units: vec![
                    fig("a", Some("H99.07"), 16.0),
                    fig("b", Some("H99.100"), 12.0),
                ],
            },
        ),
        (
            breakdown(),
            Answer {
                province: province(None),
                province_total: None,
                units: vec![fig("a", None, 9.0), fig("z", None, 3.0)],
            },
        ),
    ];
    let mut rejects = Vec::new();
    let scores = join(period, &answers, &mut rejects);
    let by: BTreeMap<&str, &PortalScore> =
        scores.iter().map(|s| (s.unit_code.as_str(), s)).collect();
    assert_eq!(by.len(), 3);
    assert_eq!(by["H99.07"].groups["TRANSPARENCY"], Some(9.0));
    assert_eq!(by["H99.07"].groups["PROGRESS"], Some(16.0));
    assert_eq!(by["H99.07"].groups["DIGITIZATION"], None);
    assert_eq!(by["H99.07"].total, Some(25.0));
    assert_eq!(by["H99.100"].groups["TRANSPARENCY"], None);
    assert_eq!(by["H99"].total, Some(71.5), "the province's official total");
    assert_eq!(by["H99.07"].details.unit_name.as_deref(), Some("Đơn vị a"));
    // `z` has no code anywhere: named, not dropped silently.
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].reject.field, "departmentCode");
    assert_eq!(
        rejects[0].reject.record_id.as_deref(),
        Some("transparency 2026-08 z (Đơn vị z)")
    );
}
