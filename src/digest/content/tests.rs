use super::*;
use crate::domain::Ratio;
use crate::indicators::IndicatorValue;
use crate::risk::UnitRisk;
use crate::score766::{Band, Score766};
use crate::time::local_to_utc;
use chrono::NaiveDateTime;

fn local(text: &str) -> DateTime<Utc> {
    local_to_utc(NaiveDateTime::parse_from_str(text, "%d/%m/%Y %H:%M").expect("valid"))
}

fn code(c: &str) -> UnitCode {
    UnitCode::parse(c).unwrap()
}

/// A unit's overview with an on-time ratio (none: no data) and a total.
pub(crate) fn overview(
    c: &str,
    name: &str,
    on_time: Option<(u64, u64)>,
    total: f64,
) -> UnitOverview {
    let (n, d) = on_time.unwrap_or((0, 0));
    UnitOverview {
        code: c.into(),
        name: name.into(),
        values: vec![IndicatorValue {
            unit_code: code(c),
            indicator: IndicatorId::OnTime,
            period: "x".into(),
            ratio: Ratio::new(n, d),
            sample: Vec::new(),
        }],
        score: Score766 {
            indicators: BTreeMap::new(),
            groups: Group::ALL
                .iter()
                .map(|g| (*g, on_time.map(|_| total / 6.0)))
                .collect(),
            total: on_time.map(|_| total),
            attainable: if on_time.is_some() { 100.0 } else { 0.0 },
            missing: if on_time.is_some() {
                Vec::new()
            } else {
                Group::ALL.to_vec()
            },
            band: on_time.map(|_| {
                if total >= 80.0 {
                    Band::Good
                } else {
                    Band::Weak
                }
            }),
        },
        official_total: None,
        comparison: Vec::new(),
    }
}

fn finding(
    unit: &str,
    section: u8,
    severity: Severity,
    opened: &str,
    resolved: Option<&str>,
) -> FindingFact {
    FindingFact {
        unit: unit.into(),
        title_vi: format!("Tiêu chí mục {section}"),
        title_en: format!("Rule in section {section}"),
        section,
        severity,
        opened_at: local(opened),
        resolved_at: resolved.map(local),
    }
}

pub(crate) fn input() -> DigestInput {
    let risk = |u: &str, score: f64| UnitRisk {
        unit: code(u),
        score,
        findings: u32::from(score > 0.0),
        critical: 0,
        sections: Vec::new(),
    };
    DigestInput {
        // 19/08/2026, a Wednesday.
        period: DigestPeriod::Day(chrono::NaiveDate::from_ymd_opt(2026, 8, 19).unwrap()),
        watched_since: Some(local("01/08/2026 08:00")),
        national: None,
        current: vec![
            overview("H44", "Toàn tỉnh", Some((90, 100)), 75.0),
            overview("H44.07", "Sở Tư pháp", Some((40, 40)), 85.0),
            overview("H44.100", "UBND phường Hồng Bàng", Some((20, 40)), 55.0),
            overview("H44.101", "UBND xã An Lư", Some((30, 40)), 65.0),
            overview("H44.102", "UBND xã Không Số", None, 0.0),
        ],
        previous: vec![
            overview("H44", "Toàn tỉnh", Some((80, 100)), 70.0),
            overview("H44.100", "UBND phường Hồng Bàng", Some((30, 40)), 60.0),
        ],
        risks: vec![
            risk("H44.07", 0.0),
            risk("H44.100", 12.5),
            risk("H44.101", 3.0),
        ],
        findings: vec![
            finding("H44.100", 2, Severity::Critical, "19/08/2026 09:00", None),
            finding("H44.101", 2, Severity::Warning, "19/08/2026 23:59", None),
            // Opened before, resolved in the period.
            finding(
                "H44.101",
                3,
                Severity::Warning,
                "01/08/2026 08:00",
                Some("19/08/2026 00:00"),
            ),
            // Opened after the period: not counted at all.
            finding("H44.100", 3, Severity::Warning, "20/08/2026 00:00", None),
            // Resolved after the period: still open at its end.
            finding(
                "H44.07",
                1,
                Severity::Info,
                "10/08/2026 08:00",
                Some("20/08/2026 08:00"),
            ),
        ],
        sources: vec![SourceFact {
            source: SourceId::Procedures,
            health: SourceHealth::Healthy,
            data_as_of: Some(local("20/08/2026 06:55")),
            stale: false,
            gap: None,
        }],
        proposal: Some(ProposalFact {
            id: 3,
            created_at: local("18/08/2026 15:00"),
            reason: "Kiểm tra quý III".into(),
            units: vec![PlanUnit {
                code: "H44.100".into(),
                name: "UBND phường Hồng Bàng".into(),
                risk: 12.5,
                pick: crate::risk::Pick::HighestRisk,
            }],
        }),
        bottom_n: 2,
    }
}

#[test]
fn a_province_digest_ranks_low_scores_and_risks_and_lists_units_without_data() {
    let d = build(&input(), &Audience::Leadership).unwrap();
    assert_eq!(
        (d.scope_code.as_str(), d.period.as_str()),
        ("H44", "2026-08-19")
    );
    assert_eq!((d.score.total, d.score.delta), (Some(75.0), Some(5.0)));
    assert_eq!(d.on_time.value, Some(0.9));
    assert!((d.on_time.delta.unwrap() - 0.1).abs() < 1e-9);
    let bottom: Vec<(&str, Option<f64>)> = d
        .bottom_units
        .iter()
        .map(|u| (u.code.as_str(), u.delta))
        .collect();
    // Lowest first, the unit without data left out (and listed apart).
    assert_eq!(bottom, [("H44.100", Some(-5.0)), ("H44.101", None)]);
    assert_eq!(
        d.units_without_data
            .iter()
            .map(|u| u.code.as_str())
            .collect::<Vec<_>>(),
        ["H44.102"]
    );
    let risks: Vec<&str> = d.risks.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(
        risks,
        ["H44.100", "H44.101"],
        "highest first, no zero risks"
    );
    let chart: Vec<(&str, Option<f64>)> = d
        .chart
        .iter()
        .map(|b| (b.label.as_str(), b.value))
        .collect();
    assert_eq!(
        chart,
        [
            ("H44", Some(0.9)),
            ("H44.100", Some(0.5)),
            ("H44.101", Some(0.75))
        ]
    );
    assert_eq!(d.proposal, None, "leadership never gets a proposal");
}

#[test]
fn findings_count_by_section_within_the_period() {
    let d = build(&input(), &Audience::Leadership).unwrap();
    let counts: Vec<(u8, usize, usize, usize)> = d
        .sections
        .iter()
        .map(|s| (s.number, s.new, s.resolved, s.open))
        .collect();
    // (section, new, resolved, open at the end of 19/08)
    assert_eq!(
        counts,
        [
            (1, 0, 0, 1),
            (2, 2, 0, 2),
            (3, 0, 1, 0),
            (4, 0, 0, 0),
            (5, 0, 0, 0)
        ]
    );
    assert_eq!((d.new_total, d.resolved_total, d.open_total), (2, 1, 3));
    let s2: Vec<&str> = d.sections[1].new_items.iter().map(|f| f.severity).collect();
    assert_eq!(s2, ["critical", "warning"], "most severe first");
    assert_eq!(
        d.sections[1].new_items[0].unit_name,
        "UBND phường Hồng Bàng"
    );
}

#[test]
fn only_the_team_gets_the_proposal_and_a_unit_head_only_their_unit() {
    let team = build(&input(), &Audience::InspectionTeam).unwrap();
    assert_eq!(team.proposal.as_ref().map(|p| p.id), Some(3));

    let head = build(&input(), &Audience::UnitHead(code("H44.101"))).unwrap();
    assert_eq!(
        (head.scope_code.as_str(), head.scope_name.as_str()),
        ("H44.101", "UBND xã An Lư")
    );
    assert_eq!(head.proposal, None);
    assert!(head.bottom_units.is_empty() && head.risks.is_empty());
    assert!(head.units_without_data.is_empty());
    let units: Vec<&str> = head
        .sections
        .iter()
        .flat_map(|s| s.new_items.iter().map(|f| f.unit_code.as_str()))
        .collect();
    assert_eq!(units, ["H44.101"]);
    assert_eq!(
        (head.new_total, head.resolved_total, head.open_total),
        (1, 1, 1)
    );
    // Its chart: the previous period (no data) and this one.
    let chart: Vec<(&str, Option<f64>)> = head
        .chart
        .iter()
        .map(|b| (b.label.as_str(), b.value))
        .collect();
    assert_eq!(chart, [("2026-08-18", None), ("2026-08-19", Some(0.75))]);
    // The province's own row is not a unit head's unit.
    assert_eq!(build(&input(), &Audience::UnitHead(code("H44"))), None);
    assert_eq!(build(&input(), &Audience::UnitHead(code("H99"))), None);
}
