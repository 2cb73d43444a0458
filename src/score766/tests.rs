use super::*;
use proptest::prelude::*;
use serde_json::json;

use IndicatorCode::*;

fn check_indicator(cases: &[(IndicatorCode, u64, u64, Option<f64>)]) {
    for &(code, numerator, denominator, expected) in cases {
        assert_eq!(
            score_indicator(code, Some(Count::new(numerator, denominator))),
            expected,
            "{code} {numerator}/{denominator}"
        );
    }
}

/// A unit's counts, `(code, numerator, denominator)` each; no online services.
pub(super) fn counts(entries: &[(IndicatorCode, u64, u64)]) -> UnitCounts {
    UnitCounts {
        counts: entries
            .iter()
            .map(|&(code, numerator, denominator)| (code, Count::new(numerator, denominator)))
            .collect(),
        online_services: None,
    }
}

/// Full marks in every group computed from counts: 88 points, all but `ONLINE_SERVICES`.
fn full_marks_counts() -> UnitCounts {
    counts(&IndicatorCode::ALL.map(|code| (code, 10, 10)))
}

fn check_band(bands: &Bands, cases: &[(f64, Band)]) {
    for &(total, expected) in cases {
        assert_eq!(bands.band_for(total), expected, "total {total}");
    }
}

// --- codes ----------------------------------------------------------------------------------

#[test]
fn codes_read_and_write_as_the_portals_codes() {
    for code in IndicatorCode::ALL {
        assert_eq!(code.to_string().parse::<IndicatorCode>(), Ok(code));
        assert_eq!(serde_json::to_value(code).unwrap(), json!(code.code()));
    }
    for group in Group::ALL {
        assert_eq!(serde_json::to_value(group).unwrap(), json!(group.code()));
    }
    assert_eq!(SoHoaGiayToGiaiQuyet.code(), "SO_HOA_GIAY_TO_GIAI_QUYET");
    assert_eq!(
        "ON_TIMES".parse::<IndicatorCode>(),
        Err(UnknownIndicatorCode("ON_TIMES".to_owned()))
    );
}

#[test]
fn indicator_maxima_add_up_to_their_groups_and_to_100() {
    for group in Group::ALL {
        let indicator_total: f64 = group.indicators().map(IndicatorCode::max_points).sum();
        let expected = match group {
            // The portal scores online services itself; no indicator of ours feeds it.
            Group::OnlineServices => 0.0,
            _ => group.max_points(),
        };
        assert_eq!(indicator_total, expected, "{group}");
    }
    let total: f64 = Group::ALL.into_iter().map(Group::max_points).sum();
    assert_eq!(total, 100.0);
}

#[test]
fn every_code_has_names_in_both_languages() {
    for code in IndicatorCode::ALL {
        assert!(
            !code.name_vi().is_empty() && !code.name_en().is_empty(),
            "{code}"
        );
    }
}

// --- empty denominators -----------------------------------------------------------------------

#[test]
fn on_time_scores_zero_when_nothing_was_received() {
    check_indicator(&[
        (OnTime, 0, 0, Some(0.0)),
        // The numerator cannot rescue an empty denominator.
        (OnTime, 3, 0, Some(0.0)),
    ]);
}

#[test]
fn dossier_satisfaction_scores_zero_when_there_are_no_dossiers() {
    check_indicator(&[(DossierReceivingSatisfaction, 0, 0, Some(0.0))]);
}

#[test]
fn petition_indicators_score_full_marks_when_there_are_no_petitions() {
    check_indicator(&[
        (PetitionProcessingOnTime, 0, 0, Some(6.0)),
        (PetitionHandlingSatisfaction, 0, 0, Some(6.0)),
    ]);
}

#[test]
fn every_other_indicator_has_no_score_on_an_empty_denominator() {
    let special = [
        OnTime,
        DossierReceivingSatisfaction,
        PetitionProcessingOnTime,
        PetitionHandlingSatisfaction,
    ];
    for code in IndicatorCode::ALL
        .into_iter()
        .filter(|code| !special.contains(code))
    {
        check_indicator(&[(code, 0, 0, None)]);
    }
}

#[test]
fn an_absent_count_has_no_score_whatever_its_empty_denominator_rule() {
    for code in IndicatorCode::ALL {
        assert_eq!(score_indicator(code, None), None, "{code}");
    }
}

// --- formulas ---------------------------------------------------------------------------------

#[test]
fn proportional_indicators_score_p_times_r() {
    check_indicator(&[
        // 20 × 95/100 = 19
        (OnTime, 95, 100, Some(19.0)),
        // 6 × 1/3 = 2
        (PublishOnTime, 1, 3, Some(2.0)),
        // 2 × 2/3 = 1.333… -> 1.33
        (PublicContentFull, 2, 3, Some(1.33)),
        // 6 × 5/6 = 5
        (DossierSync, 5, 6, Some(5.0)),
        // 4 × 3/4 = 3
        (SyncedWithDvcqgPersonalStorage, 3, 4, Some(3.0)),
        // 2 × 0/7 = 0
        (CitizenDataConnectedFormality, 0, 7, Some(0.0)),
    ]);
}

#[test]
fn indicators_capped_at_80_percent_reach_full_marks_at_80_percent() {
    check_indicator(&[
        // 2 × 0.60 / 0.8 = 1.5, below the cap
        (PaymentProcedures, 3, 5, Some(1.5)),
        // 2 × 0.80 / 0.8 = 2, exactly at the cap
        (PaymentProcedures, 4, 5, Some(2.0)),
        // 2 × 0.90 / 0.8 = 2.25, above the cap: min(2, 2.25) = 2
        (PaymentProcedures, 9, 10, Some(2.0)),
        // 2 × 0.50 / 0.8 = 1.25
        (PaymentOnPortal, 1, 2, Some(1.25)),
        // 2 × 0.70 / 0.8 = 1.75
        (ReusedDigitizedData, 7, 10, Some(1.75)),
        // 2 × 1/3 / 0.8 = 0.8333… -> 0.83 (from the exact ratio: not a payment indicator)
        (ReusedDigitizedData, 1, 3, Some(0.83)),
        // 2 × 0.95 / 0.8 = 2.375: min(2, 2.375) = 2
        (ReusedDigitizedData, 19, 20, Some(2.0)),
    ]);
}

#[test]
fn dossier_satisfaction_reaches_full_marks_at_90_percent() {
    check_indicator(&[
        // 6 × 0.81 / 0.9 = 5.4, below the cap
        (DossierReceivingSatisfaction, 81, 100, Some(5.4)),
        // 6 × 2/3 / 0.9 = 4.444… -> 4.44
        (DossierReceivingSatisfaction, 2, 3, Some(4.44)),
        // 6 × 0.9 / 0.9 = 6, exactly at the cap
        (DossierReceivingSatisfaction, 9, 10, Some(6.0)),
        // 6 × 0.95 / 0.9 = 6.333…: min(6, 6.33) = 6
        (DossierReceivingSatisfaction, 95, 100, Some(6.0)),
    ]);
}

#[test]
fn digitization_results_above_their_denominator_are_capped_at_full_marks() {
    check_indicator(&[
        // 6 × 45/50 = 5.4
        (OriginalResultAvailable, 45, 50, Some(5.4)),
        // 6 × 120/100 = 7.2: min(6, 7.2) = 6
        (OriginalResultAvailable, 120, 100, Some(6.0)),
        // 4 × 11/10 = 4.4: min(4, 4.4) = 4
        (SoHoaGiayToGiaiQuyet, 11, 10, Some(4.0)),
    ]);
}

#[test]
fn uncapped_indicators_with_a_ratio_above_one_are_clamped_at_full_marks() {
    check_indicator(&[
        // 20 × 101/100 = 20.2 -> 20
        (OnTime, 101, 100, Some(20.0)),
        // 2 × 5/4 = 2.5 -> 2
        (ElectronicCertifiedCopy, 5, 4, Some(2.0)),
        // 110.00 % -> 6 × 1.10 = 6.6 -> 6
        (PaymentDossiers, 11, 10, Some(6.0)),
    ]);
}

#[test]
fn payment_indicators_score_the_ratio_rounded_to_a_percentage() {
    check_indicator(&[
        // 84.2123 % -> 84.21 %: 6 × 0.8421 = 5.0526 -> 5.05
        (PaymentDossiers, 842_123, 1_000_000, Some(5.05)),
        // 62.745098… % -> 62.75 %: 6 × 0.6275 = 3.765 -> 3.77 (exact ratio: 3.7647… -> 3.76)
        (PaymentDossiers, 32, 51, Some(3.77)),
        // 2.083333… % -> 2.08 %: 6 × 0.0208 = 0.1248 -> 0.12 (exact ratio: 0.125 -> 0.13)
        (PaymentDossiers, 1, 48, Some(0.12)),
        // 76.595744… % -> 76.60 %: 2 × 0.766 / 0.8 = 1.915 -> 1.92 (exact ratio: 1.9148… -> 1.91)
        (PaymentProcedures, 36, 47, Some(1.92)),
        // 12.195121… % -> 12.20 %: 2 × 0.122 / 0.8 = 0.305 -> 0.31 (exact ratio: 0.3048… -> 0.30)
        (PaymentOnPortal, 5, 41, Some(0.31)),
    ]);
}

#[test]
fn other_indicators_score_the_exact_ratio() {
    check_indicator(&[
        // The same 32/51 as above, unrounded: 6 × 0.627450… = 3.7647… -> 3.76
        (DossierSync, 32, 51, Some(3.76)),
        // 1/48 unrounded: 6 × 0.0208333… = 0.125 -> 0.13
        (PublishOnTime, 1, 48, Some(0.13)),
    ]);
}

#[test]
fn scores_are_rounded_half_up_to_two_decimals_exactly() {
    check_indicator(&[
        // 4 × 107/160 = 2.675 exactly; the nearest f64 is 2.67499999…, yet it must round to 2.68
        (PublicUpdateOnTime, 107, 160, Some(2.68)),
        // 20 × 2469/4000 = 12.345 exactly -> 12.35
        (OnTime, 2469, 4000, Some(12.35)),
        // 2 × 1/16 = 0.125 -> 0.13
        (CitizenDataConnectedDossier, 1, 16, Some(0.13)),
        // 4 × 1/800 = 0.005 -> 0.01
        (SyncedWithDvcqgPersonalStorage, 1, 800, Some(0.01)),
        // 2 × 1/800 = 0.0025 -> 0.00, below the half
        (CitizenDataConnectedFormality, 1, 800, Some(0.0)),
        // 20 × 1/3 = 6.666… -> 6.67
        (OnTime, 1, 3, Some(6.67)),
        // 20 × 2/3 = 13.333… -> 13.33
        (OnTime, 2, 3, Some(13.33)),
    ]);
}

#[test]
fn huge_counts_do_not_overflow() {
    check_indicator(&[
        (OnTime, u64::MAX, u64::MAX, Some(20.0)),
        (PaymentDossiers, u64::MAX, 1, Some(6.0)),
        (DossierReceivingSatisfaction, 1, u64::MAX, Some(0.0)),
    ]);
}

// --- groups, total, bands -------------------------------------------------------------------

#[test]
fn a_group_score_is_the_sum_of_its_rounded_indicator_scores() {
    let score = score_unit(
        &counts(&[
            (PublishOnTime, 2, 9),      // 6 × 2/9 = 1.333… -> 1.33
            (PublicUpdateOnTime, 1, 3), // 4 × 1/3 = 1.333… -> 1.33
            (PublicContentFull, 2, 3),  // 2 × 2/3 = 1.333… -> 1.33
            (DossierSync, 2, 9),        // 6 × 2/9 = 1.333… -> 1.33
        ]),
        &Bands::default(),
    );
    // 4 × 1.33 = 5.32, where the unrounded sum 5.333… would give 5.33.
    assert_eq!(score.groups[&Group::Transparency], Some(5.32));
    assert_eq!(score.total, Some(5.32));
}

#[test]
fn a_group_without_any_scored_indicator_has_no_score_while_zero_is_a_score() {
    let score = score_unit(
        &counts(&[
            // Transparency: every denominator empty, and none of them has an empty rule.
            (PublishOnTime, 0, 0),
            (DossierSync, 0, 0),
            // Progress: nothing received scores 0.
            (OnTime, 0, 0),
        ]),
        &Bands::default(),
    );
    assert_eq!(score.groups[&Group::Transparency], None);
    assert_eq!(score.groups[&Group::Progress], Some(0.0));
    assert_eq!(score.groups[&Group::Digitization], None);
    // Progress scored 0: a total of 0 out of its 20 points, five groups
    // missing, and no band.
    assert_eq!(score.total, Some(0.0));
    assert_eq!(score.attainable, 20.0);
    assert_eq!(score.missing.len(), 5);
    assert_eq!(score.band, None);
}

#[test]
fn a_group_with_some_indicators_unscored_sums_the_scored_ones() {
    let score = score_unit(
        &counts(&[
            (PetitionProcessingOnTime, 0, 0),     // no petitions: 6
            (PetitionHandlingSatisfaction, 0, 0), // no petitions: 6
            (DossierReceivingSatisfaction, 0, 0), // no dossiers: 0
            (OriginalResultAvailable, 3, 4),      // 6 × 0.75 = 4.5
            (ElectronicCertifiedCopy, 0, 0),      // no communes: n/a
        ]),
        &Bands::default(),
    );
    assert_eq!(score.groups[&Group::Satisfaction], Some(12.0));
    assert_eq!(score.groups[&Group::Digitization], Some(4.5));
    assert_eq!(score.indicators[&ElectronicCertifiedCopy], None);
    assert_eq!(score.indicators[&ReusedDigitizedData], None);
    assert_eq!(score.total, Some(16.5));
}

#[test]
fn every_indicator_and_group_is_reported_even_without_a_score() {
    let score = score_unit(&UnitCounts::default(), &Bands::default());
    assert_eq!(score.indicators.len(), 18);
    assert!(score.indicators.values().all(Option::is_none));
    assert_eq!(score.groups.len(), 6);
    assert!(score.groups.values().all(Option::is_none));
    assert_eq!(score.total, None, "nothing scored is no total, not 0");
    assert_eq!(score.band, None);
    assert_eq!(score.missing, Group::ALL);
}

#[test]
fn online_services_is_the_portals_score_when_given_and_absent_otherwise() {
    let mut unit = full_marks_counts();
    let without = score_unit(&unit, &Bands::default());
    assert_eq!(without.groups[&Group::OnlineServices], None);
    assert_eq!(without.total, Some(88.0));
    assert_eq!(without.band, None, "online services missing: no band");

    unit.online_services = Some(8.83);
    let with = score_unit(&unit, &Bands::default());
    assert_eq!(with.groups[&Group::OnlineServices], Some(8.83));
    assert_eq!(with.total, Some(96.83));
    assert_eq!(with.band, Some(Band::Excellent));
}

#[test]
fn online_services_is_rounded_clamped_and_dropped_when_not_finite() {
    for (given, expected) in [
        (Some(8.835), Some(8.84)), // half-up despite 8.835 being stored as 8.83499…
        (Some(8.834), Some(8.83)),
        (Some(12.5), Some(12.0)),
        (Some(-1.0), Some(0.0)),
        (Some(f64::NAN), None),
        (Some(f64::INFINITY), None),
        (None, None),
    ] {
        let unit = UnitCounts {
            counts: BTreeMap::new(),
            online_services: given,
        };
        let score = score_unit(&unit, &Bands::default());
        assert_eq!(score.groups[&Group::OnlineServices], expected, "{given:?}");
    }
}

/// One case of the n/a rules: which groups are scored (and at what), and
/// what the total, the points attainable, the missing groups, the band and
/// the words people read must be.
fn check_partial(
    groups: &[(Group, f64)],
    total: Option<f64>,
    attainable: f64,
    missing: usize,
    band: Option<Band>,
    summary_vi: &str,
) {
    // Counts that score each group exactly as asked: a group's first
    // indicator at `points` out of its maximum, the rest left out; online
    // services as the portal's own score.
    let mut unit = UnitCounts::default();
    for &(group, points) in groups {
        if group == Group::OnlineServices {
            unit.online_services = Some(points);
            continue;
        }
        let mut left = (points * 100.0).round() as u64;
        for code in group.indicators() {
            let max = (code.max_points() * 100.0) as u64;
            let take = left.min(max);
            left -= take;
            // take/max of the indicator's maximum, in hundredths.
            let count = match code.rule().full_marks_at {
                t if t.numerator == t.denominator => Count::new(take, max),
                t => Count::new(take * t.numerator, max * t.denominator),
            };
            unit.counts.insert(code, count);
        }
    }
    let score = score_unit(&unit, &Bands::default());
    let names: Vec<_> = groups.iter().map(|g| g.0).collect();
    assert_eq!(score.total, total, "{names:?}");
    assert_eq!(score.attainable, attainable, "{names:?}");
    assert_eq!(score.missing.len(), missing, "{names:?}");
    assert_eq!(score.band, band, "{names:?}");
    assert_eq!(score.summary(crate::domain::Language::Vi), summary_vi);
}

#[test]
fn a_total_is_shown_only_from_the_groups_that_exist_and_banded_only_when_all_do() {
    use Group::*;
    let all = [
        (Transparency, 18.0),
        (Progress, 20.0),
        (OnlineServices, 12.0),
        (OnlinePayment, 10.0),
        (Satisfaction, 18.0),
        (Digitization, 22.0),
    ];
    check_partial(&[], None, 0.0, 6, None, "chưa có dữ liệu");
    check_partial(
        &[(OnlineServices, 12.0)],
        Some(12.0),
        12.0,
        5,
        None,
        "12,00 / 12,00 điểm của các nhóm có dữ liệu; thiếu 5 nhóm (Công khai, minh bạch; \
             Tiến độ giải quyết; Thanh toán trực tuyến; Mức độ hài lòng; Số hóa hồ sơ)",
    );
    check_partial(
        &all[..2],
        Some(38.0),
        38.0,
        4,
        None,
        "38,00 / 38,00 điểm của các nhóm có dữ liệu; thiếu 4 nhóm (Dịch vụ công trực tuyến; \
             Thanh toán trực tuyến; Mức độ hài lòng; Số hóa hồ sơ)",
    );
    check_partial(
        &all,
        Some(100.0),
        100.0,
        0,
        Some(Band::Excellent),
        "100,00 điểm, xếp loại xuất sắc",
    );
    let mut weak = all;
    weak[1].1 = 0.0; // nothing on time
    weak[5].1 = 0.0;
    check_partial(
        &weak,
        Some(58.0),
        100.0,
        0,
        Some(Band::Average),
        "58,00 điểm, xếp loại trung bình",
    );
}

#[test]
fn bounds_span_what_the_missing_groups_could_add() {
    let score = score_unit(&full_marks_counts(), &Bands::default());
    assert_eq!(score.bounds(), Some((88.0, 100.0)));
    let none = score_unit(&UnitCounts::default(), &Bands::default());
    assert_eq!(none.bounds(), None);
}

#[test]
fn the_total_decides_the_band_at_every_boundary() {
    check_band(
        &Bands::default(),
        &[
            (100.0, Band::Excellent),
            (90.0, Band::Excellent),
            (89.99, Band::Good),
            (80.0, Band::Good),
            (79.99, Band::Fair),
            (70.0, Band::Fair),
            (69.99, Band::Average),
            (50.0, Band::Average),
            (49.99, Band::Weak),
            (0.0, Band::Weak),
        ],
    );
}

#[test]
fn configured_cut_offs_move_the_fair_and_average_bands() {
    let bands = Bands::new(75.0, 55.0).expect("valid cut-offs");
    check_band(
        &bands,
        &[
            (80.0, Band::Good),
            (75.0, Band::Fair),
            (74.99, Band::Average),
            (55.0, Band::Average),
            (54.99, Band::Weak),
        ],
    );
}

#[test]
fn a_scored_unit_is_banded_by_its_total() {
    // 88 points from counts plus ONLINE_SERVICES: 2 -> 90 (excellent), 1.99 -> 89.99 (good).
    for (online_services, total, band) in [(2.0, 90.0, Band::Excellent), (1.99, 89.99, Band::Good)]
    {
        let unit = UnitCounts {
            online_services: Some(online_services),
            ..full_marks_counts()
        };
        let score = score_unit(&unit, &Bands::default());
        assert_eq!((score.total, score.band), (Some(total), Some(band)));
    }
}

#[test]
fn inconsistent_cut_offs_are_rejected() {
    for (fair_from, average_from, expected) in [
        (
            50.0,
            50.0,
            BandsError::AverageNotBelowFair {
                fair_from: 50.0,
                average_from: 50.0,
            },
        ),
        (
            60.0,
            65.0,
            BandsError::AverageNotBelowFair {
                fair_from: 60.0,
                average_from: 65.0,
            },
        ),
        (80.0, 50.0, BandsError::FairNotBelowGood { fair_from: 80.0 }),
        (
            70.0,
            -1.0,
            BandsError::NegativeAverage { average_from: -1.0 },
        ),
        (
            f64::INFINITY,
            50.0,
            BandsError::NotFinite {
                fair_from: f64::INFINITY,
                average_from: 50.0,
            },
        ),
    ] {
        assert_eq!(
            Bands::new(fair_from, average_from),
            Err(expected),
            "{fair_from}/{average_from}"
        );
    }
    assert!(matches!(
        Bands::new(70.0, f64::NAN),
        Err(BandsError::NotFinite { .. })
    ));
}

#[test]
fn an_average_cut_off_above_50_is_allowed() {
    let bands = Bands::new(79.99, 60.0).expect("valid cut-offs");
    assert_eq!(bands.band_for(59.99), Band::Weak);
}

#[test]
fn bands_deserialize_with_defaults_and_are_checked() {
    let defaults: Bands = serde_json::from_str("{}").unwrap();
    assert_eq!(defaults, Bands::default());
    let fair_only: Bands = serde_json::from_str(r#"{"fair_from": 72.5}"#).unwrap();
    assert_eq!(
        (fair_only.fair_from(), fair_only.average_from()),
        (72.5, 50.0)
    );
    let error = serde_json::from_str::<Bands>(r#"{"fair_from": 85}"#).unwrap_err();
    assert!(error.to_string().contains("must be below 80"), "{error}");
    assert!(serde_json::from_str::<Bands>(r#"{"fair": 75}"#).is_err());
}

#[test]
fn bands_have_vietnamese_names_and_snake_case_codes() {
    for (band, name_vi, code) in [
        (Band::Excellent, "xuất sắc", "excellent"),
        (Band::Good, "tốt", "good"),
        (Band::Fair, "khá", "fair"),
        (Band::Average, "trung bình", "average"),
        (Band::Weak, "yếu", "weak"),
    ] {
        assert_eq!(band.name_vi(), name_vi);
        assert_eq!(band.name_en(), code);
        assert_eq!(serde_json::to_value(band).unwrap(), json!(code));
    }
}

// --- laws -------------------------------------------------------------------------------------

fn any_code() -> impl Strategy<Value = IndicatorCode> {
    proptest::sample::select(IndicatorCode::ALL.to_vec())
}

fn any_unit_counts() -> impl Strategy<Value = UnitCounts> {
    let count = (0u64..1_000, 0u64..1_000).prop_map(|(n, d)| Count::new(n, d));
    (
        proptest::collection::btree_map(any_code(), count, 0..18),
        proptest::option::of(0.0..=12.0f64),
    )
        .prop_map(|(counts, online_services)| UnitCounts {
            counts,
            online_services,
        })
}

fn is_whole_hundredths(points: f64) -> bool {
    let hundredths = points * 100.0;
    (hundredths - hundredths.round()).abs() < 1e-6
}

proptest! {
    #[test]
    fn an_indicator_scores_between_zero_and_its_maximum_in_hundredths(
        code in any_code(), numerator in any::<u64>(), denominator in any::<u64>(),
    ) {
        if let Some(score) = score_indicator(code, Some(Count::new(numerator, denominator))) {
            prop_assert!((0.0..=code.max_points()).contains(&score));
            prop_assert!(is_whole_hundredths(score));
        }
    }

    #[test]
    fn a_larger_numerator_never_scores_less(
        code in any_code(), numerator in 0u64..10_000, extra in 0u64..10_000,
        denominator in 1u64..10_000,
    ) {
        let lower = score_indicator(code, Some(Count::new(numerator, denominator)));
        let higher = score_indicator(code, Some(Count::new(numerator + extra, denominator)));
        prop_assert!(higher >= lower);
    }

    #[test]
    fn groups_sum_their_indicators_and_the_total_sums_the_groups(unit in any_unit_counts()) {
        let score = score_unit(&unit, &Bands::default());
        let hundredths = |points: f64| (points * 100.0).round() as i64;
        for group in Group::ALL.into_iter().filter(|g| *g != Group::OnlineServices) {
            let scored: Vec<f64> =
                group.indicators().filter_map(|code| score.indicators[&code]).collect();
            let expected = (!scored.is_empty())
                .then(|| scored.iter().map(|points| hundredths(*points)).sum::<i64>());
            prop_assert_eq!(score.groups[&group].map(hundredths), expected);
        }
        let scored: Vec<i64> = score.groups.values().flatten().map(|points| hundredths(*points)).collect();
        let total = (!scored.is_empty()).then(|| scored.iter().sum::<i64>());
        prop_assert_eq!(score.total.map(hundredths), total);
        prop_assert!(score.total.is_none_or(is_whole_hundredths));
        let complete = score.groups.values().all(Option::is_some);
        prop_assert_eq!(score.band.is_some(), complete);
        if complete {
            prop_assert_eq!(score.band, score.total.map(|t| Bands::default().band_for(t)));
        }
        let attainable: f64 = Group::ALL
            .into_iter()
            .filter(|g| score.groups[g].is_some())
            .map(Group::max_points)
            .sum();
        prop_assert_eq!(score.attainable, attainable);
    }
}
