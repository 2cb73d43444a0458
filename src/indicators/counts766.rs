//! From indicator values to the counts Decision 766's index is scored from.

use crate::score766::{Count, IndicatorCode, UnitCounts};

use super::{IndicatorId, IndicatorValue};

/// Which of our indicators gives each of the portal's counts. The portal's
/// procedure-catalogue indicators (PUBLISH_ON_TIME, PUBLIC_UPDATE_ON_TIME,
/// PUBLIC_CONTENT_FULL, PAYMENT_PROCEDURES, PAYMENT_ON_PORTAL,
/// ELECTRONIC_CERTIFIED_COPY, CITIZEN_DATA_CONNECTED_FORMALITY) count
/// procedures, not dossiers, and no source of ours has them: they stay
/// absent, which the index shows as "no score".
const SOURCES: [(IndicatorCode, IndicatorId); 11] = [
    (IndicatorCode::OnTime, IndicatorId::OnTime),
    (IndicatorCode::PaymentDossiers, IndicatorId::OnlinePayment),
    (
        IndicatorCode::DossierReceivingSatisfaction,
        IndicatorId::DossierSatisfaction,
    ),
    (IndicatorCode::OriginalResultAvailable, IndicatorId::EResult),
    (
        IndicatorCode::SoHoaGiayToGiaiQuyet,
        IndicatorId::DigitizedComponents,
    ),
    (IndicatorCode::ReusedDigitizedData, IndicatorId::ReusedData),
    (
        IndicatorCode::SyncedWithDvcqgPersonalStorage,
        IndicatorId::SharedToCitizenStore,
    ),
    (
        IndicatorCode::CitizenDataConnectedDossier,
        IndicatorId::PopulationData,
    ),
    (IndicatorCode::DossierSync, IndicatorId::SyncedToPortal),
    (
        IndicatorCode::PetitionProcessingOnTime,
        IndicatorId::PetitionsOnTime,
    ),
    (
        IndicatorCode::PetitionHandlingSatisfaction,
        IndicatorId::PetitionsSatisfied,
    ),
];

/// The Decision 766 counts of one unit and period.
///
/// `values` are that unit's values for that period, as [`compute`](super::compute)
/// or [`aggregate`](super::aggregate) give them. A value present with 0/0
/// passes on as a count of 0/0, so that the index applies its rule for an
/// empty denominator (zero for ON_TIME, full marks for the petition
/// indicators, no score for the rest); an indicator without a value stays
/// absent, which is always "no score". Values of other indicators are
/// ignored; several values of one indicator are summed, as `aggregate`
/// would. `online_services` is the portal's own ONLINE_SERVICES score, taken
/// as given because the portal does not publish its formula.
pub fn counts_766<'v>(
    values: impl IntoIterator<Item = &'v IndicatorValue>,
    online_services: Option<f64>,
) -> UnitCounts {
    counts_766_from_ratios(
        values
            .into_iter()
            .map(|v| (v.indicator, v.ratio.numerator, v.ratio.denominator)),
        online_services,
    )
}

/// [`counts_766`] from bare `(indicator, numerator, denominator)` triples,
/// as stored (the metrics refresh scores every unit from them).
pub fn counts_766_from_ratios(
    ratios: impl IntoIterator<Item = (IndicatorId, u64, u64)>,
    online_services: Option<f64>,
) -> UnitCounts {
    let mut counts = UnitCounts {
        online_services,
        ..UnitCounts::default()
    };
    for (indicator, numerator, denominator) in ratios {
        for &(code, _) in SOURCES.iter().filter(|(_, id)| *id == indicator) {
            let count = counts.counts.entry(code).or_insert(Count::new(0, 0));
            count.numerator += numerator;
            count.denominator += denominator;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Dossier, Petition, Ratio, Satisfaction};
    use crate::indicators::fixtures::{
        Records, UNIT, at, compute_all, done, dossier, petition, unit,
    };
    use crate::score766::{Bands, score_indicator, score_unit};

    fn values_of(dossiers: &[Dossier], petitions: &[Petition]) -> Vec<IndicatorValue> {
        let records = Records {
            dossiers,
            petitions,
            ..Records::default()
        };
        compute_all(records, &[unit(UNIT)], "2026-08", at(5, 9, 10))
    }

    #[test]
    fn each_portal_count_comes_from_its_indicator() {
        let values = values_of(&[done("A", at(7, 8, 9)), dossier("B")], &[]);
        let counts = counts_766(&values, Some(9.5));
        for (code, id) in SOURCES {
            let ratio = values
                .iter()
                .find(|v| v.indicator == id)
                .map(|v| v.ratio)
                .expect("computed");
            assert_eq!(
                counts.counts.get(&code),
                Some(&Count::new(ratio.numerator, ratio.denominator)),
                "{code} from {id}"
            );
        }
        // On time: A done 7/8 is on time, B open past 10/8 at August's end is late.
        assert_eq!(counts.counts[&IndicatorCode::OnTime], Count::new(1, 2));
        assert_eq!(counts.online_services, Some(9.5));
    }

    #[test]
    fn the_procedure_catalogue_indicators_stay_absent() {
        let counts = counts_766(&values_of(&[dossier("A")], &[]), None);
        for code in [
            IndicatorCode::PublishOnTime,
            IndicatorCode::PublicUpdateOnTime,
            IndicatorCode::PublicContentFull,
            IndicatorCode::PaymentProcedures,
            IndicatorCode::PaymentOnPortal,
            IndicatorCode::ElectronicCertifiedCopy,
            IndicatorCode::CitizenDataConnectedFormality,
        ] {
            assert!(!counts.counts.contains_key(&code), "{code}");
            assert_eq!(
                score_indicator(code, counts.counts.get(&code).copied()),
                None
            );
        }
        assert_eq!(counts.counts.len(), 11);
        assert_eq!(counts.online_services, None);
    }

    #[test]
    fn an_idle_unit_gets_zero_for_progress_full_marks_for_petitions_and_no_score_elsewhere() {
        // Nothing received, no petitions: every value is present as 0/0.
        let counts = counts_766(&values_of(&[], &[]), None);
        assert_eq!(
            counts.counts[&IndicatorCode::PetitionProcessingOnTime],
            Count::new(0, 0)
        );
        let score = score_unit(&counts, &Bands::default());
        let scored = |code| score.indicators[&code];
        // ON_TIME: 0 when nothing was received.
        assert_eq!(scored(IndicatorCode::OnTime), Some(0.0));
        // DOSSIER_RECEIVING_SATISFACTION: 0 when there are no dossiers.
        assert_eq!(
            scored(IndicatorCode::DossierReceivingSatisfaction),
            Some(0.0)
        );
        // Petitions: full 6 each when there are none.
        assert_eq!(scored(IndicatorCode::PetitionProcessingOnTime), Some(6.0));
        assert_eq!(
            scored(IndicatorCode::PetitionHandlingSatisfaction),
            Some(6.0)
        );
        // Payment, digitization, sync: no score on an empty denominator.
        for code in [
            IndicatorCode::PaymentDossiers,
            IndicatorCode::OriginalResultAvailable,
            IndicatorCode::SoHoaGiayToGiaiQuyet,
            IndicatorCode::ReusedDigitizedData,
            IndicatorCode::SyncedWithDvcqgPersonalStorage,
            IndicatorCode::CitizenDataConnectedDossier,
            IndicatorCode::DossierSync,
        ] {
            assert_eq!(scored(code), None, "{code}");
        }
        // 0 + 0 + 6 + 6 = 12 points in all.
        assert_eq!(score.total, Some(12.0));
    }

    #[test]
    fn more_e_results_than_dossiers_received_reach_the_index_as_counted_and_score_full_marks() {
        // Received in July, done 3/8 with an e-result; received 10/8, open.
        let dossiers = [
            Dossier {
                received_at: Some(at(20, 7, 9)),
                e_result: true,
                ..done("A", at(3, 8, 9))
            },
            Dossier {
                received_at: Some(at(10, 8, 9)),
                ..dossier("B")
            },
            Dossier {
                received_at: Some(at(21, 7, 9)),
                e_result: true,
                ..done("C", at(4, 8, 9))
            },
        ];
        let counts = counts_766(&values_of(&dossiers, &[]), None);
        // Two e-results in August (A, C) against one dossier received (B).
        let count = counts.counts[&IndicatorCode::OriginalResultAvailable];
        assert_eq!(count, Count::new(2, 1));
        // min(P, P × R) = min(6, 6 × 2) = 6.
        assert_eq!(
            score_indicator(IndicatorCode::OriginalResultAvailable, Some(count)),
            Some(6.0)
        );
    }

    #[test]
    fn petitions_reach_the_index_with_their_counts() {
        let petitions = [
            // Answered 10/8, within 15 working days (due 22/8), satisfied.
            Petition {
                answered_at: Some(at(10, 8, 9)),
                satisfaction: Some(Satisfaction::Satisfied),
                ..petition("P1")
            },
            // Answered 25/8, late, dissatisfied.
            Petition {
                answered_at: Some(at(25, 8, 9)),
                satisfaction: Some(Satisfaction::Dissatisfied),
                ..petition("P2")
            },
        ];
        let counts = counts_766(&values_of(&[], &petitions), None);
        assert_eq!(
            counts.counts[&IndicatorCode::PetitionProcessingOnTime],
            Count::new(1, 2)
        );
        assert_eq!(
            counts.counts[&IndicatorCode::PetitionHandlingSatisfaction],
            Count::new(1, 2)
        );
    }

    #[test]
    fn values_of_one_indicator_are_summed_and_others_ignored() {
        let value = |indicator, numerator, denominator| IndicatorValue {
            unit_code: unit(UNIT),
            indicator,
            period: "2026-08".into(),
            ratio: Ratio::new(numerator, denominator),
            sample: Vec::new(),
        };
        let values = [
            value(IndicatorId::OnTime, 1, 2),
            value(IndicatorId::OnTime, 3, 4),
            value(IndicatorId::OverdueOpen, 9, 9),
        ];
        let counts = counts_766(&values, None);
        assert_eq!(counts.counts.len(), 1);
        assert_eq!(counts.counts[&IndicatorCode::OnTime], Count::new(4, 6));
    }
}
