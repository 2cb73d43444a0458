use super::*;
use crate::score766::{Bands, UnitCounts, score_unit};

#[test]
fn the_trend_is_the_twelve_months_ending_with_this_one() {
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T18:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    // 01:00 on 1 December in Hanoi.
    let months = trend_months(now);
    assert_eq!(months.len(), 12);
    assert_eq!(months.first().unwrap().to_string(), "2026-01");
    assert_eq!(months.last().unwrap().to_string(), "2026-12");
}

#[test]
fn a_unit_without_data_has_no_figure_only_words() {
    let u = UnitOverview {
        code: "STP".into(),
        name: "Sở Tư pháp".into(),
        values: Vec::new(),
        score: score_unit(&UnitCounts::default(), &Bands::default()),
        official_total: None,
        comparison: Vec::new(),
    };
    let vi = total_view(&u, Language::Vi);
    assert_eq!(vi.summary, "chưa có dữ liệu");
    assert_eq!(vi.total, None);
    assert!(!vi.complete);
    assert_eq!(vi.groups.len(), 6);
    assert!(
        vi.groups
            .iter()
            .all(|g| g.ours.is_none() && g.official.is_none() && g.difference.is_none())
    );
    assert_eq!(total_view(&u, Language::En).summary, "no data yet");
    assert_eq!(value_of(&u, IndicatorId::OnTime), None);
}

#[test]
fn the_difference_is_in_words_with_its_direction() {
    use crate::overview::GroupComparison;
    let mut u = UnitOverview {
        code: "STP".into(),
        name: String::new(),
        values: Vec::new(),
        score: score_unit(&UnitCounts::default(), &Bands::default()),
        official_total: Some(80.0),
        comparison: vec![
            GroupComparison {
                group: Group::Progress,
                ours: Some(18.0),
                official: Some(16.75),
                difference: Some(1.25),
            },
            GroupComparison {
                group: Group::Digitization,
                ours: Some(10.0),
                official: Some(10.0),
                difference: Some(0.0),
            },
            GroupComparison {
                group: Group::Satisfaction,
                ours: None,
                official: Some(12.0),
                difference: None,
            },
        ],
    };
    u.score.groups.insert(Group::Progress, Some(18.0));
    let v = total_view(&u, Language::Vi);
    let by = |code: &str| v.groups.iter().find(|g| g.code == code).unwrap().clone();
    assert_eq!(by("PROGRESS").difference.as_deref(), Some("▲ 1,25"));
    assert_eq!(by("DIGITIZATION").difference.as_deref(), Some("bằng nhau"));
    assert_eq!(by("SATISFACTION").official, Some(12.0));
    assert_eq!(by("SATISFACTION").difference, None);
    assert_eq!(v.official, Some(80.0));
}
