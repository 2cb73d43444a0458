//! Data that cannot be true is not evidence: a hostile upstream (the
//! simulator's data-quality defects) serves dossiers with a deadline before
//! their reception, an end before their start, a reception in 2099, one
//! code for many units, and names carrying control characters. None of the
//! impossible records counts for any unit, each is listed with its reason,
//! the rest of every page is stored, and the text is stored clean.

use chrono::{TimeZone, Utc};
use par_monitor::app::App;
use par_monitor::domain::SourceHealth;
use par_monitor::domain::quality::Check;
use par_monitor::ingest::{LogProgress, Mode};
use par_monitor::simulator::{DUPLICATE_CODE, Defect, Endpoint, Fault, SimConfig};
use par_monitor::storage::QuarantineEntry;
use par_monitor::time::Clock;
use tokio_util::sync::CancellationToken;

use crate::helpers::{Ctx, on_both_backends, promtool_check_metrics, sim_now, source_health};

fn bad(defect: Defect, every: u32) -> Fault {
    Fault::BadRecords {
        endpoint: Some(Endpoint::Dossiers),
        every,
        defect,
        field: None,
    }
}

async fn poll(app: &App, mode: Mode) {
    let s = app
        .sources
        .iter()
        .find(|s| s.name == "procedures")
        .expect("procedures enabled");
    app.poll(s, mode, &CancellationToken::new(), &LogProgress::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

fn of(q: &[QuarantineEntry], check: Check) -> Vec<&QuarantineEntry> {
    q.iter().filter(|e| e.check == Some(check)).collect()
}

/// Stored dossiers per unit.
async fn by_unit(app: &App) -> std::collections::BTreeMap<String, u64> {
    app.store
        .record_counts_by_unit(par_monitor::storage::RecordTable::Dossiers)
        .await
        .unwrap()
        .into_iter()
        .map(|(u, n)| (u, n as u64))
        .collect()
}

/// Every stored dossier received at any time.
async fn stored(app: &App) -> Vec<par_monitor::domain::Dossier> {
    let from = Utc.with_ymd_and_hms(1800, 1, 1, 0, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2200, 1, 1, 0, 0, 0).unwrap();
    app.store.dossiers_received_between(from, to).await.unwrap()
}

on_both_backends! {
    async fn impossible_records_are_quarantined_with_their_reason_and_never_counted(backend) {
        let Some(ctx) = Ctx::with_simulator(backend, SimConfig::new(7, sim_now())).await else { return };
        // Rules are tried in order: the spoiling ones first, so a record
        // hit by two has one defect and the truth knows which it is.
        ctx.sim
            .sim
            .add_faults(vec![
                bad(Defect::ImpossibleDeadline, 7),
                bad(Defect::EndBeforeStart, 11),
                bad(Defect::FutureDate, 13),
                bad(Defect::DuplicateCode, 17),
                bad(Defect::ControlChars, 5),
            ])
            .unwrap();
        let app = ctx.app().await;
        poll(&app, Mode::Incremental).await;

        let truth = ctx.sim.sim.truth();
        let served = truth.totals[&Endpoint::Dossiers];
        assert!(served.bad > 20, "the faults spoiled records: {served:?}");
        // The rest of every page is stored: exactly the valid records, per unit.
        let dossiers = stored(&app).await;
        let stored_by_unit = by_unit(&app).await;
        for (unit, t) in &truth.units {
            assert_eq!(
                stored_by_unit.get(unit.as_str()).copied().unwrap_or(0),
                t.dossiers.valid,
                "{unit}: stored dossiers equal the valid ones served"
            );
        }
        // None of the impossible ones is among them.
        let poll_time = ctx.clock.now();
        for d in &dossiers {
            assert_ne!(d.code, DUPLICATE_CODE);
            let start = d.received_at.or(d.submitted_at).expect("a start");
            assert!(d.due_at.is_none_or(|t| t.date_naive() >= start.date_naive() - chrono::Days::new(1)), "{d:?}");
            assert!(d.finished_at.is_none_or(|t| t >= start - chrono::Duration::days(1)), "{d:?}");
            assert!(start <= poll_time + chrono::Duration::hours(1), "{d:?}");
        }

        let q = app.store.quarantined(Some("procedures.dossiers")).await.unwrap();
        let deadlines = of(&q, Check::DeadlineBeforeReception);
        assert!(!deadlines.is_empty());
        for e in &deadlines {
            assert_eq!(e.field, "NgayHenTra");
            assert!(e.problem.starts_with("deadline 1900-01-01 is before reception on "), "{}", e.problem);
            assert!(e.raw.contains("19000101000000"), "raw kept");
        }
        let ends = of(&q, Check::EndBeforeStart);
        assert!(!ends.is_empty());
        assert!(ends.iter().all(|e| e.field == "NgayKetThucXuLy" && e.problem.starts_with("processing end 2000-01-01 is before reception on ")), "{ends:?}");
        let future = of(&q, Check::DateAfterPoll);
        assert!(!future.is_empty());
        assert!(future.iter().all(|e| e.field == "NgayTiepNhan" && e.problem.contains("2099-12-31") && e.problem.contains("has not happened yet")), "{future:?}");
        let dup = of(&q, Check::CodeForTwoUnits);
        assert_eq!(dup.len(), 1, "one entry for the one code: {dup:?}");
        let dup = dup[0];
        assert_eq!(dup.record_id.as_deref(), Some(DUPLICATE_CODE));
        assert_eq!(dup.field, "MaHoSo");
        let units: serde_json::Value = serde_json::from_str(&dup.raw).unwrap();
        let units = units["units"].as_array().unwrap().len();
        assert!(units >= 2, "{}", dup.raw);
        assert!(dup.problem.contains(&format!("arrived for {units} units in one sync")), "{}", dup.problem);
        // Every spoiled record is accounted for: one entry each, and one for
        // all those served under the shared code.
        let dated = (deadlines.len() + ends.len() + future.len()) as u64;
        assert!(dated < served.bad && served.bad - dated >= units as u64, "{dated} of {}", served.bad);
        assert_eq!(q.len() as u64, dated + 1, "nothing else is quarantined");

        // Text is stored clean: the control characters and the
        // right-to-left override are gone, the Vietnamese name is intact.
        let names: Vec<&str> = dossiers.iter().filter_map(|d| d.procedure_name.as_deref()).collect();
        assert!(!names.is_empty());
        for n in &names {
            assert!(!n.chars().any(par_monitor::domain::quality::is_stripped), "{n:?}");
        }
        let sim_names: std::collections::BTreeSet<String> = ctx.sim.sim.dossiers().iter().filter_map(|d| d.procedure_name.clone()).collect();
        assert!(names.iter().all(|n| sim_names.contains(*n)), "names equal the simulator's, diacritics kept");

        // Shown by `sources`, counted in /metrics.
        let status = par_monitor::status::sources(&app.context(), app.clock.now()).await.unwrap();
        let feed = status.iter().flat_map(|s| &s.feeds).find(|f| f.feed == "procedures.dossiers").unwrap();
        assert_eq!(feed.quarantined, q.len() as i64);
        assert_eq!(feed.implausible.get(&Check::DeadlineBeforeReception).copied(), Some(deadlines.len() as i64));
        assert_eq!(feed.implausible.get(&Check::CodeForTwoUnits).copied(), Some(1));
        let text = par_monitor::status::sources_text(&status);
        assert!(text.contains(&format!("{} hạn xử lý trước ngày tiếp nhận", deadlines.len())), "{text}");
        assert!(text.contains("1 một mã cho hai đơn vị"), "{text}");
        assert_eq!(source_health(&app, "procedures").await, SourceHealth::Degraded);
        let metrics = app.metrics.render();
        promtool_check_metrics(&metrics);
        assert!(
            metrics.contains(&format!(
                "par_monitor_records_implausible{{check=\"deadline_before_reception\",source=\"procedures\"}} {}",
                deadlines.len()
            )),
            "{metrics}"
        );
        assert!(metrics.contains("par_monitor_records_implausible{check=\"code_for_two_units\",source=\"procedures\"} 1"));

        // A full sync of the same data changes nothing: no duplicate code
        // slips in, nothing leaves quarantine, every entry is seen again.
        ctx.clock.advance(chrono::Duration::seconds(60));
        poll(&app, Mode::Full).await;
        assert_eq!(by_unit(&app).await, stored_by_unit);
        let again = app.store.quarantined(Some("procedures.dossiers")).await.unwrap();
        assert_eq!(again.len(), q.len());
        assert!(again.iter().all(|e| e.times_seen >= 2), "{again:?}");

        // The upstream is fixed: every record arrives, quarantine empties
        // (the shared code, gone upstream, with it).
        ctx.sim.sim.clear_faults();
        ctx.clock.advance(chrono::Duration::seconds(60));
        poll(&app, Mode::Full).await;
        assert!(app.store.quarantined(Some("procedures.dossiers")).await.unwrap().is_empty());
        assert_eq!(by_unit(&app).await.values().sum::<u64>(), served.served());
        assert_eq!(source_health(&app, "procedures").await, SourceHealth::Healthy);
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn a_code_that_moves_to_another_unit_between_syncs_is_a_transfer_not_a_conflict(backend) {
        use par_monitor::domain::{Dossier, UnitCode};
        let Some(ctx) = Ctx::new(backend).await else { return };
        let app = ctx.app().await;
        let t0 = sim_now() - chrono::Duration::days(3);
        let mut d = Dossier::new("HS-MOVE", UnitCode::parse("H44.01").unwrap(), "P1");
        d.received_at = Some(t0);
        let first = par_monitor::storage::PollRun::start(t0, false);
        let c = app.store.upsert_dossiers_in(std::slice::from_ref(&d), t0, first).await.unwrap();
        assert_eq!((c.inserted, c.conflicts), (1, 0));
        // The same sync serves it for another unit: a conflict, withdrawn.
        let mut other = d.clone();
        other.unit_code = UnitCode::parse("H44.02").unwrap();
        let c = app.store.upsert_dossiers_in(std::slice::from_ref(&other), t0, first).await.unwrap();
        assert_eq!(c.conflicts, 1);
        assert!(stored(&app).await.iter().all(|x| x.code != "HS-MOVE"));
        // A later sync serves it for one unit: a transfer, stored, and the
        // quarantine entry goes.
        let second = par_monitor::storage::PollRun::start(t0, false);
        let c = app.store.upsert_dossiers_in(std::slice::from_ref(&other), t0, second).await.unwrap();
        assert_eq!((c.inserted, c.conflicts), (1, 0));
        let third = par_monitor::storage::PollRun::start(t0, false);
        let mut back = other.clone();
        back.unit_code = UnitCode::parse("H44.03").unwrap();
        let c = app.store.upsert_dossiers_in(std::slice::from_ref(&back), t0, third).await.unwrap();
        assert_eq!((c.updated, c.conflicts), (1, 0));
        let now = stored(&app).await;
        let moved = now.iter().find(|x| x.code == "HS-MOVE").unwrap();
        assert_eq!(moved.unit_code.as_str(), "H44.03");
        assert!(app.store.quarantined(None).await.unwrap().is_empty());
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn a_first_sync_over_records_already_stored_keeps_one_row_each_as_served(backend) {
        // Records stored before the feed's first sync moved its cursor (a
        // sync cut short, or another instance): the first sync expects
        // every key to be new, finds some stored after all, and stores
        // those as it would in any sync, once each, as served now.
        let Some(ctx) = Ctx::with_simulator(backend, SimConfig::new(11, sim_now())).await else { return };
        let app = ctx.app().await;
        let served = ctx.sim.sim.dossiers();
        let t0 = sim_now() - chrono::Duration::days(1);
        let mut changed = served[1].clone();
        changed.procedure_name = Some("Thủ tục cũ".into());
        let earlier = par_monitor::storage::PollRun::start(t0, false);
        app.store
            .upsert_dossiers_in(&[served[0].clone(), changed], t0, earlier)
            .await
            .unwrap();
        poll(&app, Mode::Full).await;
        let truth = ctx.sim.sim.truth();
        assert_eq!(
            by_unit(&app).await.values().sum::<u64>(),
            truth.totals[&Endpoint::Dossiers].served(),
            "every dossier served is stored once"
        );
        let now = stored(&app).await;
        let again = now.iter().find(|d| d.code == served[1].code).unwrap();
        assert_eq!(again.procedure_name, served[1].procedure_name, "stored as served now");
        ctx.finish().await;
    }
}
