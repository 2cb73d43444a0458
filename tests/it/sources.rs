//! Every upstream against the simulator: a first sync equals its ground
//! truth, faults are survived, incremental polls fetch only changes, full
//! reconciliation catches deletions, and a vendor's own mapping works.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Duration as Span;
use par_monitor::app::App;
use par_monitor::config::{FeedMapping, PaginationStyle};
use par_monitor::domain::DossierStatus;
use par_monitor::domain::SourceHealth;
use par_monitor::ingest::{LogProgress, Mode, PollReport};
use par_monitor::simulator::{Defect, Endpoint, Fault, RecordKind, SimConfig};
use par_monitor::storage::RecordTable;
use par_monitor::upstream::mapping::FeedKind;
use tokio_util::sync::CancellationToken;

use crate::helpers::{
    Backend, Ctx, on_both_backends, raw_execute, raw_scalar, sim_now, source_health,
};

async fn poll(app: &App, source: &str, mode: Mode) -> Result<PollReport, String> {
    let s = app
        .sources
        .iter()
        .find(|s| s.name == source)
        .expect("source enabled");
    app.poll(s, mode, &CancellationToken::new(), &LogProgress::default())
        .await
        .map_err(|e| e.to_string())
}

async fn poll_everything(app: &App) {
    for s in &app.sources {
        poll(app, s.name, Mode::Incremental)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", s.name));
    }
}

/// Stored counts per unit of one table, as a map.
async fn per_unit(app: &App, table: RecordTable) -> BTreeMap<String, u64> {
    app.store
        .record_counts_by_unit(table)
        .await
        .unwrap()
        .into_iter()
        .map(|(u, n)| (u, n as u64))
        .collect()
}

fn nonzero(m: BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    m.into_iter().filter(|(_, n)| *n > 0).collect()
}

/// Checks the stored dossiers, by unit and status, against the truth.
async fn assert_dossiers_match_truth(ctx: &Ctx, app: &App) {
    let truth = ctx.sim.sim.truth();
    let mut expected: BTreeMap<(String, DossierStatus), u64> = BTreeMap::new();
    for (unit, t) in &truth.units {
        for (status, n) in &t.dossiers_by_status {
            expected.insert((unit.to_string(), *status), *n);
        }
    }
    let stored: BTreeMap<(String, DossierStatus), u64> = app
        .store
        .dossier_counts_by_unit_and_status()
        .await
        .unwrap()
        .into_iter()
        .map(|(u, s, n)| ((u, s), n as u64))
        .collect();
    assert_eq!(stored, expected);
}

on_both_backends! {
    async fn a_first_sync_of_200_units_and_a_year_equals_the_ground_truth(backend) {
        let cfg = SimConfig {
            units: 200,
            months: 12,
            dossiers_per_month: 5,
            petitions_per_month: 1,
            documents_per_month: 3,
            ..SimConfig::new(11, sim_now())
        };
        let Some(ctx) = Ctx::with_simulator(backend, cfg).await else { return };
        let app = ctx.app().await;
        poll_everything(&app).await;

        assert_dossiers_match_truth(&ctx, &app).await;
        let truth = ctx.sim.sim.truth();
        let expect = |f: &dyn Fn(&par_monitor::simulator::UnitTruth) -> u64| {
            nonzero(truth.units.iter().map(|(u, t)| (u.to_string(), f(t))).collect())
        };
        assert_eq!(per_unit(&app, RecordTable::Petitions).await, expect(&|t| t.petitions.valid));
        assert_eq!(
            per_unit(&app, RecordTable::Documents).await,
            expect(&|t| t.documents_outgoing.valid + t.documents_incoming.valid)
        );
        assert_eq!(per_unit(&app, RecordTable::Reports).await, expect(&|t| t.reports.valid));
        assert_eq!(per_unit(&app, RecordTable::PortalScores).await, expect(&|t| t.scores.valid));
        let units = app.store.units().await.unwrap();
        assert_eq!(units.len(), 200);
        assert!(units.iter().any(|u| u.name == "UBND phường Hồng Bàng"), "Vietnamese names survive");
        assert!(truth.units.len() >= 200);
        for state in app.store.source_states().await.unwrap() {
            assert_eq!(state.health, SourceHealth::Healthy, "{}", state.source);
        }
        ctx.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_and_429s_are_retried_and_nothing_is_lost_or_doubled() {
    let mut ctx = Ctx::new(Backend::Sqlite).await.unwrap();
    ctx.settings.sources.procedures.retry_backoff = Duration::from_millis(20);
    let app = ctx.app().await;
    ctx.sim
        .sim
        .add_faults(vec![
            Fault::Status {
                endpoint: Some(Endpoint::Dossiers),
                status: 503,
                count: 2,
                retry_after_secs: Some(0),
            },
            Fault::Status {
                endpoint: Some(Endpoint::Petitions),
                status: 429,
                count: 1,
                retry_after_secs: Some(1),
            },
            Fault::Truncated {
                endpoint: Some(Endpoint::Dossiers),
                count: 1,
            },
            Fault::DuplicateAcrossPages {
                endpoint: Some(Endpoint::Dossiers),
                count: 3,
            },
        ])
        .unwrap();
    ctx.settings.sources.procedures.page_size = 50;
    let app2 = ctx.app().await;
    drop(app);
    let started = std::time::Instant::now();
    let report = poll(&app2, "procedures", Mode::Incremental)
        .await
        .expect("retries carry the poll");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the 429's Retry-After was waited out"
    );
    assert_eq!(report.health, SourceHealth::Healthy);
    assert_dossiers_match_truth(&ctx, &app2).await;
    ctx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_shifts_while_paging_loses_nothing() {
    let mut ctx = Ctx::new(Backend::Sqlite).await.unwrap();
    ctx.settings.sources.procedures.page_size = 40;
    let app = ctx.app().await;
    ctx.sim
        .sim
        .add_fault(Fault::ShiftingPages {
            endpoint: Some(Endpoint::Dossiers),
            count: 3,
        })
        .unwrap();
    let first = poll(&app, "procedures", Mode::Incremental).await.unwrap();
    assert!(first.feed("procedures.dossiers").unwrap().pages > 3);
    // Records inserted mid-poll with older change times than the cursor
    // are what the periodic full reconciliation is for: after it, nothing
    // valid is missing and nothing is doubled.
    ctx.sim.sim.clear_faults();
    poll(&app, "procedures", Mode::Full).await.unwrap();
    assert_dossiers_match_truth(&ctx, &app).await;
    ctx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_source_goes_down_once_while_the_others_keep_polling() {
    let mut ctx = Ctx::new(Backend::Sqlite).await.unwrap();
    ctx.settings.sources.documents.request_timeout = Duration::from_millis(500);
    ctx.settings.sources.documents.max_retries = 0;
    let app = ctx.app().await;
    ctx.sim
        .sim
        .add_fault(Fault::Hang {
            endpoint: Some(Endpoint::Documents),
            count: 2,
        })
        .unwrap();
    for _ in 0..2 {
        let results = app.poll_all(&CancellationToken::new()).await;
        for (source, r) in &results {
            assert_eq!(r.is_ok(), *source != "documents", "{source}: {r:?}");
        }
    }
    let documents = app.store.source_state("documents").await.unwrap().unwrap();
    assert_eq!(documents.health, SourceHealth::Down);
    assert_eq!(documents.consecutive_failures, 2);
    assert!(
        documents
            .last_error
            .as_deref()
            .unwrap()
            .contains("timed out"),
        "{documents:?}"
    );
    assert_eq!(
        source_health(&app, "procedures").await,
        SourceHealth::Healthy
    );
    // It comes back: one event for the outage, one for the recovery.
    poll(&app, "documents", Mode::Incremental).await.unwrap();
    let events: Vec<SourceHealth> = app
        .store
        .source_events("documents")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.health)
        .collect();
    assert_eq!(events, [SourceHealth::Down, SourceHealth::Healthy]);
    ctx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_records_are_quarantined_by_record_and_field_and_the_rest_ingested() {
    let ctx = Ctx::new(Backend::Sqlite).await.unwrap();
    ctx.sim
        .sim
        .add_faults(vec![
            Fault::BadRecords {
                endpoint: Some(Endpoint::Dossiers),
                every: 15,
                defect: Defect::MissingField,
                field: Some("MaTTHC".into()),
            },
            Fault::BadRecords {
                endpoint: Some(Endpoint::Reports),
                every: 10,
                defect: Defect::UnknownStatus,
                field: None,
            },
        ])
        .unwrap();
    let app = ctx.app().await;
    poll_everything(&app).await;
    let truth = ctx.sim.sim.truth();
    let bad = truth.totals[&Endpoint::Dossiers].bad;
    assert!(bad > 0, "the fault spoiled some records");
    let quarantined = app
        .store
        .quarantined(Some("procedures.dossiers"))
        .await
        .unwrap();
    assert_eq!(quarantined.len() as u64, bad);
    for q in &quarantined {
        assert!(
            q.record_id
                .as_deref()
                .is_some_and(|id| id.starts_with("H44.")),
            "{q:?}"
        );
        assert_eq!(q.field, "MaTTHC");
        assert!(q.problem.contains("missing"), "{}", q.problem);
        assert!(q.raw.contains("MaHoSo"), "raw kept");
    }
    assert_dossiers_match_truth(&ctx, &app).await;
    let reports = app
        .store
        .quarantined(Some("reports.reports"))
        .await
        .unwrap();
    assert_eq!(reports.len() as u64, truth.totals[&Endpoint::Reports].bad);
    assert!(
        reports
            .iter()
            .all(|q| q.field == "TrangThai" && q.problem.contains("unknown code \"42\""))
    );
    assert_eq!(
        source_health(&app, "procedures").await,
        SourceHealth::Degraded
    );
    assert!(app.metrics.render().contains(
        "par_monitor_records_quarantined{feed=\"procedures.dossiers\",source=\"procedures\"}"
    ));

    // Fixed upstream: the records arrive and leave quarantine.
    ctx.sim.sim.clear_faults();
    poll(&app, "procedures", Mode::Full).await.unwrap();
    assert!(
        app.store
            .quarantined(Some("procedures.dossiers"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        source_health(&app, "procedures").await,
        SourceHealth::Healthy
    );
    ctx.finish().await;
}

/// Makes the database refuse to update the dossier `code`, as a full disk
/// or a lost connection would refuse a page part-way through.
async fn refuse_updates_of(url: &str, code: &str) {
    if url.starts_with("sqlite:") {
        raw_execute(url, &format!(
            "CREATE TRIGGER refuse BEFORE UPDATE ON dossiers WHEN NEW.code = '{code}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )).await.unwrap();
    } else {
        raw_execute(url, "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$").await.unwrap();
        raw_execute(url, &format!(
            "CREATE TRIGGER refuse BEFORE UPDATE ON dossiers FOR EACH ROW WHEN (NEW.code = '{code}') EXECUTE FUNCTION refuse()"
        )).await.unwrap();
    }
}

on_both_backends! {
    async fn a_page_whose_write_fails_part_way_stores_nothing_and_keeps_the_cursor(backend) {
        let Some(ctx) = Ctx::new(backend).await else { return };
        let app = ctx.app().await;
        poll(&app, "procedures", Mode::Incremental).await.unwrap();
        let cursor = app.store.feed_state("procedures.dossiers").await.unwrap().cursor;
        let changed = "SELECT COUNT(*) FROM dossiers WHERE changed_at <> first_seen_at";
        assert_eq!(raw_scalar(&ctx.db.url, changed).await, 0);

        // Three changes in one page; the last of them in key order is
        // refused, after the others were written (on PostgreSQL, after the
        // whole page was copied into staging).
        let mut codes: Vec<String> = ctx.sim.sim.dossiers().iter().take(3).map(|d| d.code.clone()).collect();
        codes.sort();
        for c in &codes {
            assert!(ctx.sim.sim.touch(RecordKind::Dossier, c));
        }
        refuse_updates_of(&ctx.db.url, &codes[2]).await;
        ctx.clock.advance(Span::minutes(5));
        let err = poll(&app, "procedures", Mode::Incremental).await.unwrap_err();
        assert!(err.contains("injected failure"), "{err}");
        assert_eq!(raw_scalar(&ctx.db.url, changed).await, 0, "no part of the page is stored");
        assert_eq!(app.store.feed_state("procedures.dossiers").await.unwrap().cursor, cursor, "the cursor stays");

        // The database takes the page again: all of it is stored, once.
        let drop = match backend {
            Backend::Sqlite => "DROP TRIGGER refuse",
            Backend::Postgres => "DROP TRIGGER refuse ON dossiers",
        };
        raw_execute(&ctx.db.url, drop).await.unwrap();
        let report = poll(&app, "procedures", Mode::Incremental).await.unwrap();
        assert_eq!(report.feed("procedures.dossiers").unwrap().counts.updated, 3);
        assert_eq!(raw_scalar(&ctx.db.url, changed).await, 3);
        assert_ne!(app.store.feed_state("procedures.dossiers").await.unwrap().cursor, cursor);
        ctx.finish().await;
    }
}

on_both_backends! {
    async fn incremental_polls_fetch_only_changes_and_full_syncs_catch_deletions(backend) {
        let Some(ctx) = Ctx::new(backend).await else { return };
        let app = ctx.app().await;
        poll(&app, "procedures", Mode::Incremental).await.unwrap();
        let total = ctx.sim.sim.dossiers().len() as u64;
        // The cursor is inclusive (changes in the same second as the newest
        // one seen must not be missed), so the records at the cursor come
        // again, unchanged.
        let cursor = app.store.feed_state("procedures.dossiers").await.unwrap().cursor.unwrap();
        let cursor = chrono::DateTime::parse_from_rfc3339(&cursor).unwrap();
        let at_cursor = ctx.sim.sim.dossiers().iter().filter(|d| d.updated_at == Some(cursor.into())).count() as u64;
        assert!(at_cursor >= 1);
        let served_before = ctx.sim.sim.records_served(Endpoint::Dossiers);
        let requests_before = ctx.sim.sim.requests(Endpoint::Dossiers);

        let codes: Vec<String> = ctx.sim.sim.dossiers().iter().take(3).map(|d| d.code.clone()).collect();
        for c in &codes {
            assert!(ctx.sim.sim.touch(RecordKind::Dossier, c));
        }
        ctx.clock.advance(Span::minutes(5));
        let report = poll(&app, "procedures", Mode::Incremental).await.unwrap();
        let feed = report.feed("procedures.dossiers").unwrap();
        assert!(!feed.full);
        assert_eq!(feed.counts.inserted, 0);
        assert_eq!(feed.counts.updated, 3, "the three touched dossiers: {feed:?}");
        assert_eq!(feed.counts.unchanged, at_cursor, "and only those at the cursor again: {feed:?}");
        assert_eq!(ctx.sim.sim.records_served(Endpoint::Dossiers) - served_before, 3 + at_cursor);
        assert_eq!(ctx.sim.sim.requests(Endpoint::Dossiers) - requests_before, 1, "one page");

        // Deleted upstream: an incremental poll cannot see it; a full one does.
        let gone: Vec<String> = ctx.sim.sim.dossiers().iter().rev().take(5).map(|d| d.code.clone()).collect();
        for c in &gone {
            assert!(ctx.sim.sim.delete(RecordKind::Dossier, c));
        }
        poll(&app, "procedures", Mode::Incremental).await.unwrap();
        assert_eq!(app.store.record_count(RecordTable::Dossiers).await.unwrap() as u64, total);
        let report = poll(&app, "procedures", Mode::Full).await.unwrap();
        assert_eq!(report.feed("procedures.dossiers").unwrap().deleted, 5);
        assert_eq!(app.store.record_count(RecordTable::Dossiers).await.unwrap() as u64, total - 5);
        assert_dossiers_match_truth(&ctx, &app).await;
        ctx.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendors_own_mapping_ingests_the_same_data() {
    let mut ctx = Ctx::new(Backend::Sqlite).await.unwrap();
    let mapping: FeedMapping = toml::from_str(
        r#"
        path = "alt/v2/ho-so"
        records = "result.items"
        date_format = "dd/MM/yyyy HH:mm:ss"
        since_param = "since"
        [pagination]
        style = "cursor"
        cursor_param = "cursor"
        limit_param = "limit"
        next_cursor = "result.nextCursor"
        [fields]
        code = "id"
        unit = "donVi.ma"
        procedure_code = "thuTuc.ma"
        procedure_name = "thuTuc.ten"
        field_code = "thuTuc.linhVuc"
        channel = "kenh"
        status = "trangThai"
        submitted_at = "thoiGian.nop"
        received_at = "thoiGian.tiepNhan"
        due_at = "thoiGian.henTra"
        finished_at = "thoiGian.ketThuc"
        returned_at = "thoiGian.tra"
        refused_at = "thoiGian.tuChoi"
        updated_at = "thoiGian.capNhat"
        supplements = "boSung"
        supplement_requested_at = "yeuCau"
        supplement_completed_at = "hoanThanh"
        supplement_old_due_at = "henTraCu"
        supplement_new_due_at = "henTraMoi"
        [codes.channel]
        TRUC_TIEP = "in_person"
        TRUC_TUYEN = "online"
        BUU_CHINH = "postal"
        [codes.status]
        MOI = "newly_registered"
        DA_TIEP_NHAN = "received"
        TU_CHOI = "refused"
        DANG_XU_LY = "in_progress"
        YEU_CAU_BO_SUNG = "supplement_requested"
        CHO_NOP_PHI = "awaiting_fees"
        RUT_HO_SO = "withdrawn"
        DUNG_XU_LY = "stopped"
        DA_XU_LY = "done"
        DA_TRA_KET_QUA = "returned"
        "#,
    )
    .unwrap();
    assert_eq!(mapping.pagination.style, PaginationStyle::Cursor);
    ctx.settings.mapping.dossiers = mapping;
    ctx.settings.sources.procedures.page_size = 70;
    let app = ctx.app().await;
    let report = poll(&app, "procedures", Mode::Incremental).await.unwrap();
    assert_eq!(report.rejected(), 0, "{report:?}");
    assert!(
        report.feed("procedures.dossiers").unwrap().pages > 1,
        "paged by cursor"
    );
    assert_dossiers_match_truth(&ctx, &app).await;
    // The dates were read in the vendor's format: the stored dossiers equal
    // the simulator's on every field the alternative dialect carries.
    let month = par_monitor::time::Month::containing(sim_now());
    let stored = app
        .store
        .dossiers_received_between(month.start(), month.end())
        .await
        .unwrap();
    let sim: BTreeMap<String, par_monitor::domain::Dossier> = ctx
        .sim
        .sim
        .dossiers()
        .into_iter()
        .map(|d| (d.code.clone(), d))
        .collect();
    for d in stored {
        let s = &sim[&d.code];
        assert_eq!(
            (
                d.received_at,
                d.due_at,
                d.finished_at,
                d.status,
                d.channel,
                d.supplements.len()
            ),
            (
                s.received_at,
                s.due_at,
                s.finished_at,
                s.status,
                s.channel,
                s.supplements.len()
            ),
            "{}",
            d.code
        );
    }
    ctx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_unit_keeps_its_history_and_a_vanished_one_is_retired() {
    let mut ctx = Ctx::new(Backend::Sqlite).await.unwrap();
    // Units from the directory only, so that the directory decides.
    ctx.settings.units.clear();
    let app = ctx.app().await;
    poll(&app, "units", Mode::Incremental).await.unwrap();
    let code = par_monitor::domain::UnitCode::parse("H44.12").unwrap();
    assert!(ctx.sim.sim.rename_unit(&code, "Sở Xây dựng và Quy hoạch"));
    let report = poll(&app, "units", Mode::Incremental).await.unwrap();
    assert_eq!(report.feed("units.units").unwrap().counts.updated, 1);
    let unit = app
        .store
        .units()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.code == code)
        .unwrap();
    assert_eq!(unit.name, "Sở Xây dựng và Quy hoạch");
    let history: Vec<(String, String)> = app
        .store
        .unit_history("H44.12")
        .await
        .unwrap()
        .into_iter()
        .map(|(_, change, name)| (change, name))
        .collect();
    assert_eq!(
        history,
        [
            ("added".to_string(), "Sở Xây dựng".to_string()),
            (
                "renamed".to_string(),
                "Sở Xây dựng và Quy hoạch".to_string()
            )
        ]
    );
    assert!(ctx.sim.sim.delete(RecordKind::Unit, "H44.101"));
    let report = poll(&app, "units", Mode::Incremental).await.unwrap();
    assert_eq!(report.feed("units.units").unwrap().deleted, 1);
    assert!(
        app.store
            .units()
            .await
            .unwrap()
            .iter()
            .all(|u| u.code.as_str() != "H44.101"),
        "retired"
    );
    assert_eq!(
        app.store
            .unit_history("H44.101")
            .await
            .unwrap()
            .last()
            .unwrap()
            .1,
        "retired"
    );
    assert!(FeedKind::Units.source() == "units");
    ctx.finish().await;
}
