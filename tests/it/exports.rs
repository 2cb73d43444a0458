//! The files people take away, read back by real readers: the `.xlsx`
//! exports by calamine (cells) and openpyxl (number formats), the CSV as
//! bytes, the `.docx` report by python-docx and docx-rs; from the command
//! line against `findings list` and `indicators` as JSON, and over HTTP as
//! each role may see them.

use std::collections::BTreeSet;
use std::io::Cursor;
use std::path::Path;
use std::process::Command;

use calamine::{Data, DataType, Reader, Xlsx, open_workbook_from_rs};
use chrono::{DateTime, Utc};
use par_monitor::domain::{Language, Role, UnitCode};
use par_monitor::indicators::IndicatorId;
use par_monitor::locale::count;
use par_monitor::simulator::SimConfig;
use par_monitor::web::{Viewer, WebState};
use serde_json::Value;

use crate::binary::{run_to_end, write_config};
use crate::helpers::{Ctx, SimServer, TestDb, on_both_backends, poll_and_evaluate, repo_root};

/// The five contents of the plan, as the report's headings read.
const SECTIONS: [&str; 5] = [
    "1. Lãnh đạo, chỉ đạo",
    "2. Kết quả giải quyết TTHC theo cơ chế một cửa, một cửa liên thông",
    "3. Ứng dụng công nghệ thông tin",
    "4. Thái độ, tác phong của công chức",
    "5. Nhiệm vụ khác",
];

/// A workbook's first sheet as rows of cells.
pub(crate) fn sheet(bytes: &[u8]) -> Vec<Vec<Data>> {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an .xlsx");
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).expect("its sheet");
    range.rows().map(<[Data]>::to_vec).collect()
}

/// The number format of every cell of column `col` (1-based), from row 2,
/// as openpyxl reads it.
fn number_formats(path: &Path, col: usize) -> Vec<String> {
    let script = "import json, sys, openpyxl\n\
        ws = openpyxl.load_workbook(sys.argv[1]).active\n\
        col = int(sys.argv[2])\n\
        print(json.dumps([ws.cell(row=r, column=col).number_format for r in range(2, ws.max_row + 1)]))";
    let out = Command::new("python3")
        .args(["-c", script, path.to_str().unwrap(), &col.to_string()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A `.docx`'s paragraphs and table rows (cells joined by ` | `) as
/// python-docx reads them.
fn python_docx_text(path: &Path) -> String {
    let script = "import sys, docx\n\
        d = docx.Document(sys.argv[1])\n\
        for p in d.paragraphs: print(p.text)\n\
        for t in d.tables:\n\
        \x20   for row in t.rows: print(' | '.join(c.text for c in row.cells))";
    let out = Command::new("python3")
        .args(["-c", script, path.to_str().unwrap()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The document's text as docx-rs reads it: a line per paragraph, a line
/// per table row with its cells joined by ` | `.
pub(crate) fn docx_text(bytes: &[u8]) -> String {
    use docx_rs::{DocumentChild, TableCellContent, TableChild, TableRowChild};
    let para = |p: &docx_rs::Paragraph| p.raw_text();
    let doc = docx_rs::read_docx(bytes).expect("a readable .docx");
    let mut lines = Vec::new();
    for child in &doc.document.children {
        match child {
            DocumentChild::Paragraph(p) => lines.push(para(p)),
            DocumentChild::Table(t) => {
                for TableChild::TableRow(row) in &t.rows {
                    let cells: Vec<String> = row
                        .cells
                        .iter()
                        .map(|TableRowChild::TableCell(c)| {
                            c.children
                                .iter()
                                .filter_map(|x| match x {
                                    TableCellContent::Paragraph(p) => Some(para(p)),
                                    _ => None,
                                })
                                .collect::<Vec<_>>()
                                .join(" / ")
                        })
                        .collect();
                    lines.push(cells.join(" | "));
                }
            }
            _ => {}
        }
    }
    lines.join("\n")
}

fn cell_f64(d: &Data) -> Option<f64> {
    if d.is_empty() { None } else { d.as_f64() }
}

fn cell_str(d: &Data) -> String {
    d.as_string().unwrap_or_default()
}

fn local(t: &Value) -> chrono::NaiveDateTime {
    let t: DateTime<Utc> = t.as_str().unwrap().parse().unwrap();
    par_monitor::time::utc_to_local(t)
}

/// The findings workbook says, cell by cell, what `findings list` says.
fn findings_match(xlsx: &Path, listed: &[Value], names: &dyn Fn(&str) -> String) {
    let rows = sheet(&std::fs::read(xlsx).unwrap());
    assert_eq!(cell_str(&rows[0][0]), "Số");
    assert_eq!(rows.len() - 1, listed.len(), "one row per finding");
    let formats = number_formats(xlsx, 11);
    for (i, (row, f)) in rows[1..].iter().zip(listed).enumerate() {
        let what = format!("row {}: {f}", i + 2);
        assert_eq!(row[0].as_f64(), f["id"].as_f64(), "{what}");
        assert_eq!(cell_str(&row[1]), f["rule_id"].as_str().unwrap(), "{what}");
        let unit = f["unit_code"].as_str().unwrap();
        assert_eq!(cell_str(&row[4]), unit, "{what}");
        assert_eq!(cell_str(&row[5]), names(unit), "{what}");
        let severity: par_monitor::domain::Severity =
            serde_json::from_value(f["severity"].clone()).unwrap();
        let state: par_monitor::findings::State =
            serde_json::from_value(f["state"].clone()).unwrap();
        assert_eq!(cell_str(&row[6]), severity.name_vi(), "{what}");
        assert_eq!(cell_str(&row[7]), state.name_vi(), "{what}");
        let e = &f["last_detail"];
        let value = e["value"]
            .as_f64()
            .map(|v| match e["unit_of_value"].as_str() {
                Some("count") => v.round(),
                _ => v,
            });
        assert_eq!(cell_f64(&row[10]), value, "{what}");
        assert_eq!(cell_f64(&row[11]), e["numerator"].as_f64(), "{what}");
        assert_eq!(cell_f64(&row[12]), e["denominator"].as_f64(), "{what}");
        if e["unit_of_value"] == "ratio" && value.is_some() {
            assert_eq!(formats[i], "0.0%", "{what}");
        }
        for (col, key) in [(15, "opened_at"), (16, "updated_at")] {
            let shown = row[col].as_datetime().expect("a date cell");
            let gap = (shown - local(&f[key])).num_milliseconds().abs();
            assert!(gap < 1000, "{what}: {key} {shown}");
        }
        let ack = f["acknowledged_by"].as_str().unwrap_or("");
        assert_eq!(cell_str(&row[17]), ack, "{what}");
    }
}

/// The indicators workbook says, cell by cell, what `indicators` says:
/// every indicator of every unit, n/a as empty cells.
fn indicators_match(xlsx: &Path, doc: &Value) {
    let rows = sheet(&std::fs::read(xlsx).unwrap());
    let units = doc["units"].as_array().unwrap();
    assert_eq!(rows.len() - 1, units.len() * IndicatorId::ALL.len());
    let formats = number_formats(xlsx, 8);
    let mut at = 1;
    let mut figures = 0;
    for u in units {
        for &indicator in IndicatorId::ALL {
            let row = &rows[at];
            let what = format!("row {}: {} {}", at + 1, u["code"], indicator.as_str());
            assert_eq!(cell_str(&row[0]), doc["period"].as_str().unwrap(), "{what}");
            assert_eq!(cell_str(&row[1]), u["code"].as_str().unwrap(), "{what}");
            assert_eq!(cell_str(&row[2]), u["name"].as_str().unwrap(), "{what}");
            assert_eq!(cell_str(&row[3]), indicator.as_str(), "{what}");
            let v = u["values"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["indicator"] == indicator.as_str());
            let (n, d) = match v {
                Some(v) => (
                    v["ratio"]["numerator"].as_f64(),
                    v["ratio"]["denominator"].as_f64(),
                ),
                None => (None, None),
            };
            assert_eq!((cell_f64(&row[5]), cell_f64(&row[6])), (n, d), "{what}");
            let value = n.zip(d).filter(|(_, d)| *d > 0.0).map(|(n, d)| n / d);
            assert_eq!(cell_f64(&row[7]), value, "{what}");
            if value.is_some() {
                figures += 1;
                if indicator.is_share() {
                    assert_eq!(formats[at - 1], "0.0%", "{what}");
                }
            }
            at += 1;
        }
    }
    assert!(figures > 0, "some figures at all");
}

/// The month before the system clock's, as the binary's tools see it: a
/// past period, covered by a poll made now.
fn last_month() -> String {
    par_monitor::time::Month::containing(Utc::now())
        .previous()
        .to_string()
}

on_both_backends! {
    async fn the_command_lines_files_say_what_its_json_says(backend) {
        let Some(db) = TestDb::new(backend).await else { return };
        let sim = SimServer::start(SimConfig::new(3, Utc::now())).await;
        let dir = tempfile::tempdir().unwrap();
        let cfg = write_config(dir.path(), &db.url, &sim, &dir.path().join("outbox"), "");
        // The shipped rules: findings in more than one section of the plan.
        let text = std::fs::read_to_string(&cfg).unwrap().replace(
            &repo_root().join("tests/fixtures/on-time.rolling.rules.toml").display().to_string(),
            &repo_root().join("config/rules.toml").display().to_string(),
        );
        std::fs::write(&cfg, text).unwrap();
        let units = sim.sim.units();
        let work = dir.path().to_owned();
        tokio::task::spawn_blocking(move || {
            let path = |f: &str| work.join(f).display().to_string();
            let cli = |args: &[&str]| {
                let mut all = vec!["--config", cfg.to_str().unwrap()];
                all.extend_from_slice(args);
                run_to_end(&all, &work)
            };
            let ok = |args: &[&str]| {
                let (code, out, err) = cli(args);
                assert_eq!(code, 0, "{args:?}: {err}");
                out
            };
            ok(&["check"]);
            let names = |code: &str| {
                units.iter().find(|u| u.code == code).map(|u| u.name.clone()).unwrap_or_default()
            };

            let listed: Vec<Value> =
                serde_json::from_str(&ok(&["findings", "list", "--all", "--format", "json"])).unwrap();
            assert!(listed.len() > 1, "findings to export");
            ok(&["export", "findings", "--all", "--format", "xlsx", "--to", &path("f.xlsx")]);
            findings_match(&work.join("f.xlsx"), &listed, &names);
            let mine: Vec<Value> = serde_json::from_str(&ok(&[
                "findings", "list", "--unit", "H44.100", "--format", "json",
            ]))
            .unwrap();
            ok(&["export", "findings", "--unit", "H44.100", "--format", "xlsx", "--to", &path("u.xlsx")]);
            findings_match(&work.join("u.xlsx"), &mine, &names);

            let period = last_month();
            let doc: Value = serde_json::from_str(&ok(&[
                "indicators", "--period", &period, "--format", "json",
            ]))
            .unwrap();
            ok(&["export", "indicators", "--period", &period, "--format", "xlsx", "--to", &path("i.xlsx")]);
            indicators_match(&work.join("i.xlsx"), &doc);

            ok(&["export", "findings", "--format", "csv", "--to", &path("f.csv")]);
            ok(&["export", "indicators", "--period", &period, "--format", "csv", "--to", &path("i.csv")]);
            for file in ["f.csv", "i.csv"] {
                let bytes = std::fs::read(work.join(file)).unwrap();
                assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{file}: a byte-order mark");
                let text = String::from_utf8(bytes[3..].to_vec()).expect("UTF-8");
                assert!(text.contains("UBND phường Hồng Bàng"), "{file}: {text}");
            }

            ok(&["report", "--unit", "H44.100", "--period", &period, "--to", &path("r.docx")]);
            let text = python_docx_text(&work.join("r.docx"));
            for s in SECTIONS {
                assert!(text.lines().any(|l| l == s), "section {s}:\n{text}");
            }
            assert!(text.contains("UBND phường Hồng Bàng"), "{text}");
            let commune = doc["units"].as_array().unwrap().iter().find(|u| u["code"] == "H44.100").unwrap();
            let on_time = commune["values"].as_array().unwrap().iter().find(|v| v["indicator"] == "on_time").unwrap();
            let c = |k: &str| count(on_time["ratio"][k].as_i64().unwrap(), Language::Vi);
            let line = format!("{} | {} | {} |", IndicatorId::OnTime.name_vi(), c("numerator"), c("denominator"));
            assert!(text.contains(&line), "{line}:\n{text}");
            assert!(!text.contains("đề xuất"), "{text}");

            let (code, _, err) = cli(&["export", "indicators", "--period", "2026-13", "--format", "csv", "--to", &path("x.csv")]);
            assert_eq!(code, 2, "{err}");
            assert!(err.contains("--period") && err.contains("2026-13"), "{err}");
            let (code, _, err) = cli(&["report", "--unit", "H44.999", "--to", &path("x.docx")]);
            assert_eq!(code, 2, "{err}");
            assert!(err.contains("H44.999"), "{err}");
            let (code, _, err) = cli(&["export", "findings", "--unit", "H44.999", "--format", "csv", "--to", &path("x.csv")]);
            assert_eq!(code, 2, "{err}");
            assert!(err.contains("H44.999"), "{err}");
            let nowhere = path("no/such/folder/f.xlsx");
            let (code, _, err) = cli(&["export", "findings", "--format", "xlsx", "--to", &nowhere]);
            assert_eq!(code, 1, "{err}");
            assert!(err.contains(&nowhere), "{err}");
        })
        .await
        .unwrap();
        sim.stop.cancel();
        db.cleanup().await;
    }
}

on_both_backends! {
    async fn a_units_report_reads_the_same_for_a_fixed_province(backend) {
        let Some(mut ctx) = Ctx::new(backend).await else { return };
        ctx.settings.rules.file = repo_root().join("config/rules.toml");
        let app = ctx.app().await;
        poll_and_evaluate(&app).await;
        let code = UnitCode::parse("H44.100").unwrap();
        let period = "2026-08".parse().unwrap();
        let report = par_monitor::unit_report::build(&app.store, &app.live(), &code, period, app.clock.now())
            .await
            .unwrap();
        let text = docx_text(&par_monitor::report::to_docx(&report).unwrap());
        insta::assert_snapshot!("unit_report_h44_100_2026_08", text);
        ctx.finish().await;
    }
}

// --- over HTTP ------------------------------------------------------------

fn viewer(role: Role, unit: Option<&str>) -> Viewer {
    Viewer {
        name: "kiem.tra".into(),
        role,
        unit: unit.map(|u| UnitCode::parse(u).unwrap()),
        language: Language::Vi,
        csrf_token: "token".into(),
    }
}

/// The console's pages served for one viewer; the base URL.
async fn serve(state: WebState, viewer: Viewer) -> String {
    let app = par_monitor::web::pages()
        .layer(axum::Extension(viewer))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// `path`'s status, headers and body.
async fn get(base: &str, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let client = reqwest::Client::builder().build().unwrap();
    let r = client.get(format!("{base}{path}")).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

/// Whether `text` names `code` as a whole code (not as the start of a
/// longer one: `H44` is not named by `H44.100`).
fn mentions(text: &str, code: &str) -> bool {
    let part = |c: char| c.is_ascii_alphanumeric() || c == '.';
    text.match_indices(code).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + code.len()..].chars().next();
        // A code that ends a sentence is followed by a full stop alone.
        let after_ok = match after {
            Some('.') => {
                !text[i + code.len() + 1..].starts_with(|c: char| c.is_ascii_alphanumeric())
            }
            Some(c) => !part(c),
            None => true,
        };
        before.is_none_or(|c| !part(c)) && after_ok
    })
}

fn cells_text(rows: &[Vec<Data>]) -> String {
    rows.iter()
        .flatten()
        .map(cell_str)
        .collect::<Vec<_>>()
        .join("\n")
}

on_both_backends! {
    async fn each_role_downloads_what_it_may_see(backend) {
        let Some(ctx) = Ctx::new(backend).await else { return };
        let app = ctx.app().await;
        poll_and_evaluate(&app).await;
        let state = WebState::new(app.store.clone(), app.live_handle(), app.clock.clone(), Default::default());
        let team = serve(state.clone(), viewer(Role::Inspection, None)).await;
        let head = serve(state, viewer(Role::UnitHead, Some("H44.100"))).await;
        let units = ctx.sim.sim.units();
        let active = app.store.findings().await.unwrap();
        let active: Vec<_> = active.iter().filter(|f| f.state.is_active()).collect();

        let (status, headers, body) = get(&team, "/exports/findings.xlsx").await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(disposition.starts_with("attachment; filename=\"phat-hien-2026-08-20.xlsx\""), "{disposition}");
        assert!(disposition.contains("filename*=UTF-8''ph%C3%A1t-hi%E1%BB%87n-2026-08-20.xlsx"), "{disposition}");
        let rows = sheet(&body);
        assert_eq!(rows.len() - 1, active.len());
        let listed: BTreeSet<String> = rows[1..].iter().map(|r| cell_str(&r[4])).collect();
        let expected: BTreeSet<String> = active.iter().map(|f| f.unit_code.to_string()).collect();
        assert_eq!(listed, expected);

        let (status, headers, body) = get(&team, "/exports/indicators.csv?period=2026-08").await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
        assert!(body.starts_with(b"\xEF\xBB\xBF"));
        let csv = String::from_utf8(body[3..].to_vec()).unwrap();
        for u in &units {
            assert!(csv.contains(&format!("2026-08,{},{},", u.code, u.name)), "{}", u.code);
        }
        let (status, _, _) = get(&team, "/exports/indicators.xlsx?period=August").await;
        assert_eq!(status, 400);

        // The unit head: their own unit's rows, nobody else's.
        let others: Vec<String> = units.iter().map(|u| u.code.to_string()).filter(|c| c != "H44.100").collect();
        let clean = |what: &str, text: &str| {
            for code in &others {
                assert!(!mentions(text, code), "{what} names {code}:\n{text}");
            }
            let lower = text.to_lowercase();
            assert!(!lower.contains("đề xuất") && !lower.contains("proposal"), "{what}:\n{text}");
        };
        let (status, _, body) = get(&head, "/exports/findings.xlsx").await;
        assert_eq!(status, 200);
        let rows = sheet(&body);
        let mine = active.iter().filter(|f| f.unit_code == "H44.100").count();
        assert!(mine > 0);
        assert_eq!(rows.len() - 1, mine);
        clean("findings.xlsx", &cells_text(&rows));
        let (_, _, body) = get(&head, "/exports/findings.csv?state=all").await;
        clean("findings.csv", &String::from_utf8(body).unwrap());
        let (status, _, body) = get(&head, "/exports/indicators.xlsx?period=2026-08").await;
        assert_eq!(status, 200);
        let rows = sheet(&body);
        assert_eq!(rows.len() - 1, IndicatorId::ALL.len());
        assert!(rows[1..].iter().all(|r| cell_str(&r[1]) == "H44.100"));
        clean("indicators.xlsx", &cells_text(&rows));
        let (status, headers, body) = get(&head, "/units/H44.100/report.docx?period=2026-08").await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
        let text = docx_text(&body);
        assert!(text.contains("UBND phường Hồng Bàng"), "{text}");
        clean("report.docx", &text);

        for path in [
            "/exports/findings.xlsx?unit=H44.12",
            "/exports/findings.csv?unit=H44.12",
            "/exports/indicators.xlsx?period=2026-08&unit=H44.12",
            "/exports/indicators.csv?unit=H44",
            "/units/H44.12/report.docx?period=2026-08",
        ] {
            let (status, _, body) = get(&head, path).await;
            assert_eq!(status, 403, "{path}");
            clean(path, &String::from_utf8_lossy(&body));
        }
        let (status, _, _) = get(&team, "/units/H44.999/report.docx").await;
        assert_eq!(status, 404);
        ctx.finish().await;
    }
}
