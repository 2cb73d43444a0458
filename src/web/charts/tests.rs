use super::*;

fn months(n: usize) -> Vec<Month> {
    let mut m = Month::new(2025, 12).unwrap();
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(m);
        m = m.next();
    }
    out
}

fn chart(series: Vec<Series>, scale: Scale) -> LineChart {
    LineChart {
        title: "Tỷ lệ đúng hạn".into(),
        months: months(12),
        series,
        scale,
    }
}

fn series(name: &str, values: &[Option<f64>]) -> Series {
    Series {
        name: name.into(),
        values: values.to_vec(),
    }
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn months_are_labelled_the_readers_way() {
    let cases = [
        (Month::new(2026, 11).unwrap(), Language::Vi, "T11/2026"),
        (Month::new(2026, 1).unwrap(), Language::Vi, "T1/2026"),
        (Month::new(2026, 11).unwrap(), Language::En, "11/2026"),
    ];
    for (m, lang, expected) in cases {
        assert_eq!(month_label(m, lang), expected);
    }
}

#[test]
fn a_month_without_data_breaks_the_line_and_draws_no_point() {
    // (values, polylines expected, points expected)
    let some = Some(0.9);
    let table: [(Vec<Option<f64>>, usize, usize); 5] = [
        (vec![some; 12], 1, 12),
        (
            vec![
                some, some, None, some, some, some, None, None, some, some, some, some,
            ],
            3,
            9,
        ),
        // A lone month between gaps is a point without a line.
        (
            vec![
                None, some, None, None, None, None, None, None, None, None, None, None,
            ],
            0,
            1,
        ),
        (
            vec![
                some, None, some, None, some, None, some, None, some, None, some, None,
            ],
            0,
            6,
        ),
        // Fewer values than months: the missing ones are gaps too.
        (vec![some, some, some], 1, 3),
    ];
    for (values, lines, points) in table {
        let svg = line_chart(
            &chart(vec![series("a", &values)], Scale::Share),
            Language::Vi,
        );
        assert_eq!(count(&svg, "<polyline"), lines, "{values:?}");
        assert_eq!(count(&svg, "class=\"point\""), points, "{values:?}");
    }
}

#[test]
fn a_gap_is_never_plotted_at_zero() {
    let svg = line_chart(
        &chart(
            vec![series("a", &[Some(0.5), None, Some(0.5)])],
            Scale::Share,
        ),
        Language::Vi,
    );
    // 0% sits on the axis's bottom line; no point may be drawn there.
    let bottom = format!("cy=\"{PLOT_BOTTOM:.1}\"");
    assert!(!svg.contains(&bottom), "{svg}");
    let half = format!("cy=\"{:.1}\"", y_of(0.5, 1.0));
    assert_eq!(count(&svg, &half), 2, "{svg}");
}

#[test]
fn each_series_has_its_own_dash_and_marker_and_a_legend_row() {
    let all = vec![
        series("Đúng hạn", &[Some(0.9); 12]),
        series("Trực tuyến", &[Some(0.5); 12]),
        series("Số hóa", &[Some(0.3); 12]),
        series("Ký số", &[Some(0.1); 12]),
    ];
    let svg = line_chart(&chart(all, Scale::Share), Language::Vi);
    // One line per series plus one in each legend row.
    for dash in [
        "stroke-dasharray=\"8 4\"",
        "stroke-dasharray=\"2 3\"",
        "stroke-dasharray=\"10 3 2 3\"",
    ] {
        assert_eq!(count(&svg, dash), 2, "{dash}");
    }
    assert_eq!(count(&svg, "<circle"), 13);
    assert_eq!(count(&svg, "<rect"), 13);
    assert_eq!(count(&svg, "class=\"legend\""), 4);
    for name in ["Đúng hạn", "Trực tuyến", "Số hóa", "Ký số"] {
        assert!(svg.contains(&format!(">{name}</text>")), "{name}");
    }
    assert!(svg.contains(">T12/2025</text>") && svg.contains(">T11/2026</text>"));
}

#[test]
fn axis_labels_use_the_readers_number_format() {
    let table = [
        (
            Scale::Share,
            Language::Vi,
            vec![Some(0.5)],
            vec![">0%<", ">25%<", ">100%<"],
        ),
        (
            Scale::Points,
            Language::Vi,
            vec![Some(70.0)],
            vec![">0<", ">25<", ">100<"],
        ),
        // Above the natural top, the axis grows in quarter steps.
        (Scale::Share, Language::Vi, vec![Some(1.1)], vec![">125%<"]),
        (Scale::Points, Language::En, vec![Some(70.0)], vec![">75<"]),
    ];
    for (scale, lang, values, labels) in table {
        let svg = line_chart(&chart(vec![series("a", &values)], scale), lang);
        for l in labels {
            assert!(svg.contains(l), "{l} in {svg}");
        }
    }
}

#[test]
fn no_data_at_all_says_so_in_words() {
    let table = [
        (vec![], Language::Vi, "Chưa có dữ liệu"),
        (
            vec![series("a", &[None; 12])],
            Language::Vi,
            "Chưa có dữ liệu",
        ),
        (
            vec![series("a", &[Some(f64::NAN)])],
            Language::En,
            "No data",
        ),
    ];
    for (s, lang, words) in table {
        let out = line_chart(&chart(s, Scale::Share), lang);
        assert!(!out.contains("<svg"), "{out}");
        assert!(out.contains(words), "{out}");
        assert!(!out.contains("0%"), "{out}");
    }
}

#[test]
fn every_text_is_escaped() {
    let hostile = "<script>alert('x')</script> & \"Sở\"";
    let mut c = chart(vec![series(hostile, &[Some(0.5)])], Scale::Share);
    c.title = hostile.into();
    let svg = line_chart(&c, Language::Vi);
    assert!(!svg.contains("<script"), "{svg}");
    assert!(svg.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Sở&quot;"));
    c.series[0].values = vec![None];
    let empty = line_chart(&c, Language::Vi);
    assert!(
        !empty.contains("<script") && empty.contains("&lt;script&gt;"),
        "{empty}"
    );
}
