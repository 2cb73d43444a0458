//! Procedure indicators, from the one-stop shop's dossiers.
//!
//! A dossier never received (no NgayTiepNhan) is outside every indicator, as
//! it is outside Decision 766's. The others count by receipt in the period,
//! except the three that are about how dossiers *ended*: `processing_days`,
//! the numerator of `e_result`, and `shared_to_citizen_store`, which count
//! dossiers whose processing ended in the period (end of processing as
//! Decision 766 defines it: done, else returned, else stopped or refused,
//! else, for a withdrawal, its last change).
//!
//! "Late" means late by [`judge_on_time`], judged at the period's end (or at
//! `as_of` if that comes first), everywhere: on-time resolution, late
//! dossiers without an apology, dossier satisfaction and the evidence of
//! `processing_days` all agree on which dossiers were late.
//!
//! Rules where domain.md leaves room:
//! - `overdue_open`: "unfinished" is the current status (not processing
//!   done, returned, stopped, refused or withdrawn), judged at `as_of`, by
//!   the same rules as on-time resolution: a dossier waiting on its only
//!   supplement request is overdue only if the request came after the
//!   deadline; one with more than one request, or with no deadline at all,
//!   is overdue.
//! - `processing_days`: working days from the local date of receipt to the
//!   local date of the end of processing, by
//!   [`WorkCalendar::working_days_between`](crate::calendar::WorkCalendar::working_days_between)
//!   (a dossier finished the day it was received took 0 days). Time waiting
//!   on the applicant is not deducted: this is the time the applicant waited.
//!   Its sample lists the dossiers among them that ended late.
//! - `late_without_apology`: any apology notice counts, whenever issued.
//! - `rescheduled_more_than_once`: the promised date is moved by an apology
//!   notice, which carries the new date, so a dossier was rescheduled more
//!   than once when it has more than one apology notice. A supplement request
//!   also moves NgayHenTra, but that is the law's own clock-stop, not a
//!   rescheduling.
//! - `online_payment`: paid on the national portal or the provincial
//!   gateway, among dossiers whose procedure carries fees.
//! - `e_result`: the numerator counts dossiers that ended in the period with
//!   an electronic result, whatever their status; the sample lists those that
//!   ended in the period with a result (processing done or returned) but no
//!   electronic one: a refusal or a withdrawal has no result to digitize.
//! - `digitized_components`: either the dossier-level flag
//!   (HoSoCoThanhPhanSoHoa) or at least one digitized component.
//! - `dossier_satisfaction`: a dossier with no rating is not dissatisfied.
//! - `vneid`: among dossiers submitted online.

use crate::domain::{Channel, Dossier, DossierStatus, Satisfaction};
use crate::time::utc_to_local;

use super::on_time::end_of_processing;
use super::{IndicatorId as I, OnTime, Tallies, Window, judge_on_time};

/// Counts one dossier into its unit's tallies.
pub(crate) fn count<'a>(d: &'a Dossier, w: &Window<'_>, tallies: &mut Tallies<'a>) {
    let Some(received_at) = d.received_at else {
        return;
    };
    let end = end_of_processing(d);
    let received_in_period = w.contains(received_at);
    let ended_in_period = end.filter(|&end| w.contains(end));
    if !received_in_period && ended_in_period.is_none() {
        return;
    }
    let (id, limit) = (d.code.as_str(), w.sample_limit);
    let late = !matches!(judge_on_time(d, w.rules, w.judged_at), OnTime::OnTime);

    if received_in_period {
        tallies.record(I::OnTime, !late, id, limit);
        if !d.status.is_terminal() {
            let overdue = if w.as_of == w.judged_at {
                late
            } else {
                !matches!(judge_on_time(d, w.rules, w.as_of), OnTime::OnTime)
            };
            tallies.record(I::OverdueOpen, !overdue, id, limit);
        }
        if late {
            tallies.record(I::LateWithoutApology, !d.apologies.is_empty(), id, limit);
        }
        tallies.record(
            I::RescheduledMoreThanOnce,
            d.apologies.len() <= 1,
            id,
            limit,
        );
        let online = d.channel == Channel::Online;
        tallies.record(I::OnlineSubmission, online, id, limit);
        if d.has_fees {
            tallies.record(I::OnlinePayment, d.online_payment.is_online(), id, limit);
        }
        let digitized = d.digitized || d.components.digitized > 0;
        tallies.record(I::DigitizedComponents, digitized, id, limit);
        tallies.record(I::ReusedData, d.components.reused > 0, id, limit);
        tallies.record(I::PopulationData, d.used_population_data, id, limit);
        tallies.record(I::SyncedToPortal, d.synced_to_portal, id, limit);
        let dissatisfied = d.satisfaction == Some(Satisfaction::Dissatisfied);
        tallies.record(I::DossierSatisfaction, !late && !dissatisfied, id, limit);
        if online {
            tallies.record(I::Vneid, d.vneid_authenticated, id, limit);
        }
        tallies.of(I::EResult).add_to_denominator(1);
    }

    if let Some(end) = ended_in_period {
        if d.e_result {
            tallies.record(
                I::SharedToCitizenStore,
                d.shared_to_citizen_store,
                id,
                limit,
            );
        }
        let days = w
            .rules
            .calendar
            .working_days_between(utc_to_local(received_at).date(), utc_to_local(end).date());
        let processing = tallies.of(I::ProcessingDays);
        processing.add_to_denominator(1);
        processing.add_to_numerator(u64::from(days));
        if late {
            processing.offer(id, limit);
        }
        let e_result = tallies.of(I::EResult);
        if d.e_result {
            e_result.add_to_numerator(1);
        } else if matches!(d.status, DossierStatus::Done | DossierStatus::Returned) {
            e_result.offer(id, limit);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::super::IndicatorId as I;
    use super::super::fixtures::{
        Records, UNIT, at, at_minute, check, compute_all, done, dossier, unit,
    };
    use crate::domain::{
        Apology, Channel, ComponentCounts, Dossier, DossierStatus, OnlinePayment, Satisfaction,
        SupplementRequest,
    };

    fn apology() -> Apology {
        Apology {
            issued_at: Some(at(11, 8, 9)),
            reason: Some("Chờ ý kiến cơ quan phối hợp".into()),
            new_due_at: Some(at(14, 8, 17)),
        }
    }

    fn received(code: &str, at: DateTime<Utc>) -> Dossier {
        Dossier {
            received_at: Some(at),
            ..dossier(code)
        }
    }

    #[test]
    fn on_time_counts_dossiers_received_in_the_period_and_samples_the_late_ones() {
        // August 2026, judged on 5/9 10:00: the period has ended, so open
        // dossiers are judged at its end, 1/9 00:00.
        let dossiers = [
            // Received 3/8, due 10/8 17:00, done 7/8: on time.
            done("A", at(7, 8, 15)),
            // Done 11/8 09:00, sixteen hours after the deadline: late.
            done("B", at(11, 8, 9)),
            // Received 31/7 23:59, a minute before August: another month's.
            Dossier {
                received_at: Some(at_minute(31, 7, 23, 59)),
                ..done("C", at(20, 8, 9))
            },
            // Received at 1/8 00:00, August's first instant; open, due 4/9:
            // within its deadline at 1/9 00:00, so on time.
            Dossier {
                due_at: Some(at(4, 9, 17)),
                ..received("D", at(1, 8, 0))
            },
            // Received 31/8 08:00, due 31/8 17:00, open: past due at 1/9 00:00.
            Dossier {
                due_at: Some(at(31, 8, 17)),
                ..received("E", at(31, 8, 8))
            },
        ];
        // On time: A, D. Late: B, E. C is July's. 2/4.
        check(
            &dossiers,
            "2026-08",
            at(5, 9, 10),
            I::OnTime,
            (2, 4),
            &["B", "E"],
        );
    }

    #[test]
    fn on_time_judges_open_dossiers_at_as_of_while_the_period_runs() {
        // Open A is due 10/8 17:00. On 7/8 12:00 it is within its deadline.
        check(
            &[dossier("A")],
            "2026-08",
            at(7, 8, 12),
            I::OnTime,
            (1, 1),
            &[],
        );
        // On 11/8 09:00 it is past it.
        check(
            &[dossier("A")],
            "2026-08",
            at(11, 8, 9),
            I::OnTime,
            (0, 1),
            &["A"],
        );
    }

    #[test]
    fn on_time_with_nothing_received_is_zero_over_zero() {
        let none: &[Dossier] = &[];
        check(none, "2026-08", at(5, 9, 10), I::OnTime, (0, 0), &[]);
    }

    #[test]
    fn overdue_open_counts_unfinished_dossiers_past_their_deadline_at_as_of() {
        let dossiers = [
            // Open, due 10/8 17:00; on 5/9 long past: overdue.
            dossier("A"),
            // Received 20/8, due 10/9 17:00: open but within its deadline.
            Dossier {
                due_at: Some(at(10, 9, 17)),
                ..received("B", at(20, 8, 9))
            },
            // Finished: not open, outside the indicator.
            done("C", at(20, 8, 9)),
            // Waiting on its only supplement request, made 6/8 09:00, before
            // the deadline: the clock stopped in time, not overdue.
            Dossier {
                status: DossierStatus::SupplementRequested,
                supplements: vec![SupplementRequest {
                    requested_at: at(6, 8, 9),
                    completed_at: None,
                    old_due_at: None,
                    new_due_at: None,
                }],
                ..dossier("D")
            },
            // No promised date; procedure 2.002 allows 3 working days.
            // Received Fri 28/8 09:00: Mon 31/8, Tue 1/9 and Wed 2/9 are
            // holidays, so Thu 3/9 (1), Fri 4/9 (2), Mon 7/9 (3): due 7/9
            // 09:00, not overdue on 5/9. (Weekends alone would give 2/9.)
            Dossier {
                procedure_code: "2.002".into(),
                due_at: None,
                ..received("E", at(28, 8, 9))
            },
            // Received 27/8, due Thu 3/9 17:00: within its deadline when
            // August closed (on time there), past it on 5/9: overdue now.
            Dossier {
                due_at: Some(at(3, 9, 17)),
                ..received("F", at(27, 8, 9))
            },
        ];
        // Open: A, B, D, E, F. Overdue: A, F. 2/5.
        check(
            &dossiers,
            "2026-08",
            at(5, 9, 10),
            I::OverdueOpen,
            (2, 5),
            &["A", "F"],
        );
        // On-time resolution judges F at August's end, 1/9 00:00 < 3/9 17:00:
        // on time. Late: A only (C done 20/8 is late too: due 10/8).
        check(
            &dossiers,
            "2026-08",
            at(5, 9, 10),
            I::OnTime,
            (4, 6),
            &["A", "C"],
        );
    }

    #[test]
    fn processing_days_sum_working_days_of_dossiers_that_ended_in_the_period() {
        let dossiers = [
            // Received Mon 3/8, done Fri 7/8: Tue 4, Wed 5, Thu 6, Fri 7 = 4.
            done("A", at(7, 8, 15)),
            // Received Fri 14/8, done Mon 24/8: Mon 17 … Fri 21 = 5, Sat 22
            // is a make-up working day = 6, Mon 24 = 7. Due Fri 21/8 17:00,
            // so it ended late and is sampled.
            Dossier {
                received_at: Some(at(14, 8, 9)),
                due_at: Some(at(21, 8, 17)),
                ..done("B", at(24, 8, 10))
            },
            // Received Tue 28/7, done Tue 4/8: Wed 29, Thu 30, Fri 31 July =
            // 3, Mon 3/8 = 4, Tue 4/8 = 5. Ended in August, so counted.
            Dossier {
                received_at: Some(at(28, 7, 9)),
                due_at: Some(at(4, 8, 17)),
                ..done("C", at(4, 8, 10))
            },
            // Received 20/8, done 3/9: ended in September, not counted.
            Dossier {
                received_at: Some(at(20, 8, 9)),
                ..done("D", at(3, 9, 9))
            },
            // Still open: not counted.
            received("E", at(5, 8, 9)),
            // Received and done on Thu 6/8: 0 working days.
            Dossier {
                received_at: Some(at(6, 8, 9)),
                ..done("F", at(6, 8, 16))
            },
        ];
        // 4 + 7 + 5 + 0 = 16 working days over 4 dossiers (an average of 4).
        check(
            &dossiers,
            "2026-08",
            at(5, 9, 10),
            I::ProcessingDays,
            (16, 4),
            &["B"],
        );
    }

    #[test]
    fn late_without_apology_counts_late_dossiers_that_have_no_apology_notice() {
        let dossiers = [
            // Done 12/8, due 10/8: late, no apology.
            done("A", at(12, 8, 9)),
            // Late too, but apologised for.
            Dossier {
                apologies: vec![apology()],
                ..done("B", at(12, 8, 9))
            },
            // On time: no apology needed, outside the indicator.
            done("C", at(7, 8, 9)),
            // Open and past its deadline at August's end: late, no apology.
            dossier("D"),
        ];
        // Late: A, B, D. Without an apology: A, D. 2/3.
        check(
            &dossiers,
            "2026-08",
            at(5, 9, 10),
            I::LateWithoutApology,
            (2, 3),
            &["A", "D"],
        );
        // Nothing late: 0/0, the target.
        check(
            &[done("C", at(7, 8, 9))],
            "2026-08",
            at(5, 9, 10),
            I::LateWithoutApology,
            (0, 0),
            &[],
        );
    }

    #[test]
    fn rescheduled_more_than_once_counts_dossiers_with_a_second_apology_notice() {
        let dossiers = [
            dossier("A"),
            Dossier {
                apologies: vec![apology()],
                ..dossier("B")
            },
            Dossier {
                apologies: vec![apology(), apology()],
                ..dossier("C")
            },
            // A supplement request moved its date (10/8 → 17/8) and one
            // apology moved it again: one rescheduling, the law's clock-stop
            // is not one.
            Dossier {
                supplements: vec![SupplementRequest {
                    requested_at: at(5, 8, 9),
                    completed_at: Some(at(7, 8, 9)),
                    old_due_at: Some(at(10, 8, 17)),
                    new_due_at: Some(at(17, 8, 17)),
                }],
                apologies: vec![apology()],
                ..dossier("D")
            },
        ];
        check(
            &dossiers,
            "2026-08",
            at(5, 9, 10),
            I::RescheduledMoreThanOnce,
            (1, 4),
            &["C"],
        );
    }

    #[test]
    fn online_submission_counts_the_online_channel_among_dossiers_received() {
        let dossiers = [
            Dossier {
                channel: Channel::Online,
                ..dossier("A")
            },
            dossier("B"),
            Dossier {
                channel: Channel::Postal,
                ..dossier("C")
            },
            // Online, but received in July.
            Dossier {
                channel: Channel::Online,
                ..received("D", at(30, 7, 9))
            },
        ];
        // Online: A of A, B, C. The sample lists the others.
        check(
            &dossiers,
            "2026-08",
            at(5, 9, 10),
            I::OnlineSubmission,
            (1, 3),
            &["B", "C"],
        );
    }

    #[test]
    fn online_payment_counts_payments_on_either_gateway_among_dossiers_with_fees() {
        let with_fees = |code, paid| Dossier {
            has_fees: true,
            online_payment: paid,
            ..dossier(code)
        };
        let dossiers = [
            with_fees("A", OnlinePayment::NationalPortal),
            with_fees("B", OnlinePayment::ProvincialGateway),
            with_fees("C", OnlinePayment::NotPaidOnline),
            // No fees: outside the indicator.
            dossier("D"),
        ];
        check(
            &dossiers,
            "2026-08",
            at(5, 9, 10),
            I::OnlinePayment,
            (2, 3),
            &["C"],
        );
        // No dossier with fees: 0/0.
        check(
            &[dossier("D")],
            "2026-08",
            at(5, 9, 10),
            I::OnlinePayment,
            (0, 0),
            &[],
        );
    }

    #[test]
    fn e_results_of_the_period_may_exceed_the_dossiers_received_in_it() {
        let dossiers = [
            // Received in July, done 3/8 with an e-result: numerator only.
            Dossier {
                received_at: Some(at(20, 7, 9)),
                e_result: true,
                ..done("A", at(3, 8, 9))
            },
            // Received in July, returned 5/8 with an e-result: numerator only.
            Dossier {
                status: DossierStatus::Returned,
                received_at: Some(at(25, 7, 9)),
                returned_at: Some(at(5, 8, 9)),
                e_result: true,
                ..dossier("B")
            },
            // Received 10/8, done 12/8 with an e-result: both.
            Dossier {
                received_at: Some(at(10, 8, 9)),
                e_result: true,
                ..done("C", at(12, 8, 9))
            },
            // Received 11/8, open: denominator only.
            received("D", at(11, 8, 9)),
            // Received in July, done 6/8 with a paper result: sampled.
            Dossier {
                received_at: Some(at(28, 7, 9)),
                ..done("E", at(6, 8, 9))
            },
            // Received in July, refused 4/8: no result to digitize, not sampled.
            Dossier {
                status: DossierStatus::Refused,
                received_at: Some(at(29, 7, 9)),
                refused_at: Some(at(4, 8, 9)),
                ..dossier("F")
            },
        ];
        // Numerator: A, B, C = 3. Denominator (received in August): C, D = 2.
        check(
            &dossiers,
            "2026-08",
            at(5, 9, 10),
            I::EResult,
            (3, 2),
            &["E"],
        );
    }

    #[test]
    fn shares_of_dossiers_received_follow_their_flags() {
        // One table for the four plain shares: dossier A has the property, B
        // has not, so each is 1/2 with B sampled.
        type Set = fn(&mut Dossier);
        let cases: [(I, Set); 4] = [
            (I::ReusedData, |d| d.components.reused = 1),
            (I::PopulationData, |d| d.used_population_data = true),
            (I::SyncedToPortal, |d| d.synced_to_portal = true),
            (I::DigitizedComponents, |d| d.digitized = true),
        ];
        for (indicator, set) in cases {
            let mut a = dossier("A");
            set(&mut a);
            check(
                &[a, dossier("B")],
                "2026-08",
                at(5, 9, 10),
                indicator,
                (1, 2),
                &["B"],
            );
        }
    }

    #[test]
    fn digitized_components_accepts_either_the_flag_or_a_digitized_component() {
        let dossiers = [
            Dossier {
                digitized: true,
                ..dossier("A")
            },
            // The flag is unset, but one of three components was digitized.
            Dossier {
                components: ComponentCounts {
                    total: 3,
                    digitized: 1,
                    reused: 0,
                },
                ..dossier("B")
            },
            dossier("C"),
        ];
        check(
            &dossiers,
            "2026-08",
            at(5, 9, 10),
            I::DigitizedComponents,
            (2, 3),
            &["C"],
        );
    }

    #[test]
    fn shared_to_citizen_store_counts_e_results_of_dossiers_that_ended_in_the_period() {
        let e_result = |code, finished, shared| Dossier {
            e_result: true,
            shared_to_citizen_store: shared,
            ..done(code, finished)
        };
        let dossiers = [
            e_result("A", at(7, 8, 9), true),
            e_result("B", at(7, 8, 9), false),
            // No e-result: nothing to share, outside the indicator.
            Dossier {
                shared_to_citizen_store: true,
                ..done("C", at(7, 8, 9))
            },
            // E-result flagged but still open: it has not ended.
            Dossier {
                e_result: true,
                ..dossier("D")
            },
            // Received in July, ended 3/8 and shared: counts in August.
            Dossier {
                received_at: Some(at(27, 7, 9)),
                ..e_result("E", at(3, 8, 9), true)
            },
            // Ended 2/9: September's.
            e_result("F", at(2, 9, 9), false),
        ];
        // Denominator: A, B, E. Shared: A, E. 2/3.
        check(
            &dossiers,
            "2026-08",
            at(5, 9, 10),
            I::SharedToCitizenStore,
            (2, 3),
            &["B"],
        );
    }

    #[test]
    fn dossier_satisfaction_counts_dossiers_neither_late_nor_rated_dissatisfied() {
        let rated = |code, finished, rating| Dossier {
            satisfaction: rating,
            ..done(code, finished)
        };
        let dossiers = [
            rated("A", at(7, 8, 9), Some(Satisfaction::Satisfied)),
            rated("B", at(7, 8, 9), None),
            rated("C", at(7, 8, 9), Some(Satisfaction::Dissatisfied)),
            // Done 12/8 after the 10/8 deadline: late, whatever the rating.
            rated("D", at(12, 8, 9), Some(Satisfaction::Satisfied)),
            rated("E", at(7, 8, 9), Some(Satisfaction::Neutral)),
        ];
        // Counted: A, B, E. Against: C (dissatisfied), D (late). 3/5.
        check(
            &dossiers,
            "2026-08",
            at(5, 9, 10),
            I::DossierSatisfaction,
            (3, 5),
            &["C", "D"],
        );
    }

    #[test]
    fn vneid_counts_authenticated_applicants_among_online_submissions() {
        let dossiers = [
            Dossier {
                channel: Channel::Online,
                vneid_authenticated: true,
                ..dossier("A")
            },
            Dossier {
                channel: Channel::Online,
                ..dossier("B")
            },
            // In person: outside the indicator even though authenticated.
            Dossier {
                vneid_authenticated: true,
                ..dossier("C")
            },
        ];
        check(&dossiers, "2026-08", at(5, 9, 10), I::Vneid, (1, 2), &["B"]);
    }

    #[test]
    fn a_dossier_never_received_is_outside_every_indicator() {
        let never_received = Dossier {
            status: DossierStatus::Withdrawn,
            received_at: None,
            updated_at: Some(at(5, 8, 9)),
            ..dossier("A")
        };
        let values = compute_all(
            Records {
                dossiers: &[never_received],
                ..Records::default()
            },
            &[unit(UNIT)],
            "2026-08",
            at(5, 9, 10),
        );
        for value in values {
            assert_eq!(value.ratio.denominator, 0, "{}", value.indicator);
            assert_eq!(value.ratio.numerator, 0, "{}", value.indicator);
        }
    }
}
