use std::io::Cursor;

use calamine::{Data, DataType, Reader, Xlsx, open_workbook_from_rs};
use chrono::{TimeZone, Utc};

use super::*;

fn sample() -> Table {
    Table {
        sheet: "Phát hiện: tháng 11/2026".to_string(),
        columns: vec![
            Column::new("Đơn vị", 30.0),
            Column::new("Số hồ sơ", 10.0),
            Column::new("Tỷ lệ đúng hạn", 12.0),
            Column::new("Điểm", 8.0),
            Column::new("Cập nhật", 16.0),
        ],
        rows: vec![
            vec![
                Cell::text("Sở Tư pháp, \"Phòng\" 1"),
                Cell::Integer(1234),
                Cell::Ratio(0.8523),
                Cell::Number(12.5),
                Cell::Time(Utc.with_ymd_and_hms(2026, 11, 30, 17, 30, 0).unwrap()),
            ],
            vec![
                Cell::text("UBND xã Hòa Bình"),
                Cell::Integer(0),
                Cell::Empty,
                Cell::opt(None::<f64>, Cell::Number),
                Cell::Empty,
            ],
        ],
    }
}

fn read_back(bytes: Vec<u8>) -> (String, calamine::Range<Data>) {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("a workbook");
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).expect("the sheet");
    (name, range)
}

#[test]
fn an_xlsx_holds_real_cells_and_leaves_no_data_empty() {
    let (name, range) = read_back(to_xlsx(&sample()).unwrap());
    // `:` and `/` are not allowed in a sheet name.
    assert_eq!(name, "Phát hiện- tháng 11-2026");
    assert_eq!(
        range.get_value((0, 0)),
        Some(&Data::String("Đơn vị".into()))
    );
    assert_eq!(
        range.get_value((1, 0)),
        Some(&Data::String("Sở Tư pháp, \"Phòng\" 1".into()))
    );
    assert_eq!(
        range.get_value((1, 1)).and_then(|d| d.as_f64()),
        Some(1234.0)
    );
    assert_eq!(
        range.get_value((1, 2)).and_then(|d| d.as_f64()),
        Some(0.8523)
    );
    assert_eq!(range.get_value((1, 3)).and_then(|d| d.as_f64()), Some(12.5));
    // 00:30 on 1 December in Hanoi is 17:30 UTC on 30 November.
    let shown = range.get_value((1, 4)).and_then(|d| d.as_datetime());
    assert_eq!(
        shown.map(|t| t.to_string()).as_deref(),
        Some("2026-12-01 00:30:00")
    );
    assert_eq!(range.get_value((2, 1)).and_then(|d| d.as_f64()), Some(0.0));
    for col in [2, 3, 4] {
        let cell = range.get_value((2, col));
        assert!(cell.is_none_or(|d| d.is_empty()), "column {col}: {cell:?}");
    }
}

#[test]
fn a_csv_starts_with_a_bom_and_quotes_what_needs_it() {
    let bytes = to_csv(&sample()).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[0], "Đơn vị,Số hồ sơ,Tỷ lệ đúng hạn,Điểm,Cập nhật");
    assert_eq!(
        lines[1],
        "\"Sở Tư pháp, \"\"Phòng\"\" 1\",1234,0.8523,12.5,2026-12-01T00:30:00+07:00"
    );
    assert_eq!(lines[2], "UBND xã Hòa Bình,0,,,");
    assert_eq!(lines[3], "");
}

#[test]
fn a_ragged_row_is_refused_with_its_number() {
    let mut table = sample();
    table.rows[1].pop();
    let err = to_xlsx(&table).unwrap_err().to_string();
    assert_eq!(err, "row 2 has 4 cells, the header has 5");
    assert!(to_csv(&table).is_err());
}

#[test]
fn an_empty_table_is_a_header_alone() {
    let mut table = sample();
    table.rows.clear();
    let (_, range) = read_back(to_xlsx(&table).unwrap());
    assert_eq!(range.height(), 1);
    let csv = to_csv(&table).unwrap();
    assert!(String::from_utf8(csv).unwrap().ends_with("Cập nhật\r\n"));
}
