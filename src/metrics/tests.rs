use std::collections::HashMap;

use super::*;
use crate::config::MetricsSettings;
use crate::indicators::{IndicatorId, counts_766_from_ratios};
use crate::score766::UnitCounts;
use crate::score766::{Bands, score_unit};

fn snapshot() -> DbSnapshot {
    let unit = |code: &str, kind: &str| {
        (
            code.to_owned(),
            format!("Đơn vị {code}"),
            Some(kind.to_owned()),
        )
    };
    let on_time = |unit: &str, n: i64, d: i64| (unit.to_owned(), "on_time".to_owned(), n, d);
    DbSnapshot {
        units: vec![
            unit("H44", "province"),
            unit("H44.07", "so_nganh"),
            unit("H44.100", "xa"),
        ],
        indicators: vec![
            on_time("H44.07", 10, 10),
            on_time("H44.100", 5, 10),
            // A retired unit's values count for nobody.
            on_time("H44.999", 0, 50),
        ],
        online_services: HashMap::from([("H44".to_owned(), 9.5)]),
        ..DbSnapshot::default()
    }
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn the_766_index_is_exported_for_the_province_and_per_unit() {
    let m = Metrics::new();
    m.apply(&snapshot(), &MetricsSettings::default());
    let text = m.render();
    // The province sums its units' counts (15 of 20 on time) and takes
    // the portal's ONLINE_SERVICES score as given.
    let score = |counts: UnitCounts| score_unit(&counts, &Bands::default());
    let province = score(counts_766_from_ratios(
        [(IndicatorId::OnTime, 15, 20)],
        Some(9.5),
    ));
    // Four groups have no score: no total, not a weak one.
    assert!(!province.is_complete());
    assert_eq!(value(&text, "par_monitor_score766_points"), None, "{text}");
    assert_eq!(
        value(
            &text,
            r#"par_monitor_score766_group_points{group="ONLINE_SERVICES"}"#
        ),
        Some(9.5)
    );
    let progress = province.groups[&crate::score766::Group::Progress].unwrap();
    assert_eq!(
        value(
            &text,
            r#"par_monitor_score766_group_points{group="PROGRESS"}"#
        ),
        Some(progress)
    );
    assert!(
        !text.contains(r#"group="TRANSPARENCY""#),
        "no score, no series"
    );
    assert_eq!(
        value(&text, r#"par_monitor_unit_score766_points{unit="H44.100"}"#),
        None,
        "a unit's partial total is not its index"
    );
    assert!(!text.contains(r#"unit="H44.999""#));

    // Every group scored: the totals are there.
    let complete = |unit: &str| {
        let mut v: Vec<(String, String, i64, i64)> = IndicatorId::ALL
            .iter()
            .map(|i| (unit.to_owned(), i.as_str().to_owned(), 8, 10))
            .collect();
        v.retain(|(_, i, ..)| i != "on_time");
        v.push((unit.to_owned(), "on_time".to_owned(), 9, 10));
        v
    };
    let full = DbSnapshot {
        indicators: [complete("H44.07"), complete("H44.100")].concat(),
        online_services: HashMap::from([("H44".to_owned(), 9.5), ("H44.100".to_owned(), 11.0)]),
        ..snapshot()
    };
    m.apply(&full, &MetricsSettings::default());
    let text = m.render();
    let ratios = |unit_online| {
        let counts = counts_766_from_ratios(
            IndicatorId::ALL.iter().map(|&i| {
                if i == IndicatorId::OnTime {
                    (i, 9, 10)
                } else {
                    (i, 8, 10)
                }
            }),
            unit_online,
        );
        score(counts)
    };
    let h44_100 = ratios(Some(11.0));
    assert!(h44_100.is_complete(), "{h44_100:?}");
    assert_eq!(
        value(&text, r#"par_monitor_unit_score766_points{unit="H44.100"}"#),
        h44_100.total
    );
    assert_eq!(
        value(&text, r#"par_monitor_unit_score766_points{unit="H44.07"}"#),
        None,
        "H44.07 has no online-services score from the portal"
    );

    m.apply(
        &snapshot(),
        &MetricsSettings {
            per_unit_score766: false,
            ..MetricsSettings::default()
        },
    );
    let text = m.render();
    assert!(
        !text.contains("par_monitor_unit_score766_points{"),
        "{text}"
    );
    m.apply(&DbSnapshot::default(), &MetricsSettings::default());
    assert!(
        !m.render().contains("par_monitor_score766_points "),
        "no counts, no index"
    );
}

#[test]
fn the_national_rank_is_exported_while_known_and_gone_when_not() {
    use crate::domain::{NationalStanding, Rank};
    let m = Metrics::new();
    let mut snap = snapshot();
    snap.national = Some(NationalStanding {
        total: Some(Rank { rank: 12, of: 34 }),
        groups: [("PROGRESS".to_owned(), Rank { rank: 3, of: 33 })].into(),
    });
    m.apply(&snap, &MetricsSettings::default());
    let text = m.render();
    let rank = |g: &str| {
        value(
            &text,
            &format!("par_monitor_portal_national_rank{{group=\"{g}\"}}"),
        )
    };
    let ranked = |g: &str| {
        value(
            &text,
            &format!("par_monitor_portal_national_ranked{{group=\"{g}\"}}"),
        )
    };
    assert_eq!(
        (rank("total"), ranked("total")),
        (Some(12.0), Some(34.0)),
        "{text}"
    );
    assert_eq!(
        (rank("PROGRESS"), ranked("PROGRESS")),
        (Some(3.0), Some(33.0))
    );
    assert_eq!(rank("TRANSPARENCY"), None, "not ranked, no series");
    // The portal's data no longer covers now: no rank, not an old one.
    snap.national = None;
    m.apply(&snap, &MetricsSettings::default());
    assert!(!m.render().contains("par_monitor_portal_national_rank{"));
}
