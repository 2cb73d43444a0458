//! Tables for people's spreadsheets: one [`Table`] written as an Excel
//! workbook (`.xlsx`, real cells: numbers as numbers, ratios formatted as
//! percentages, times as Excel dates in Asia/Ho_Chi_Minh, a bold frozen
//! header row with a filter) or as CSV (UTF-8 with a byte-order mark, so
//! Excel reads the diacritics of a Vietnamese header; RFC 4180 quoting).
//!
//! What goes into the cells is decided by the caller: this module knows no
//! finding and no indicator. A cell with no data is [`Cell::Empty`], never
//! 0, in both formats.

use chrono::{DateTime, Utc};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

/// Excel refuses sheet names longer than this.
const SHEET_NAME_MAX: usize = 31;

/// One sheet of rows under a header.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The sheet's name (Excel allows 31 characters; longer names are cut).
    pub sheet: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

/// A column: its header and its width in Excel's character units.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub header: String,
    pub width: f64,
}

impl Column {
    pub fn new(header: impl Into<String>, width: f64) -> Column {
        Column {
            header: header.into(),
            width,
        }
    }
}

/// One cell's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// No data: an empty cell, never 0.
    Empty,
    Text(String),
    Integer(i64),
    /// A number shown with two decimals (points of the 766 index).
    Number(f64),
    /// A fraction in [0, 1], shown as a percentage with one decimal.
    Ratio(f64),
    /// A moment, shown in Asia/Ho_Chi_Minh as `dd/mm/yyyy hh:mm`.
    Time(DateTime<Utc>),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// `Some` as the given kind, `None` as an empty cell.
    pub fn opt<T>(v: Option<T>, kind: fn(T) -> Cell) -> Cell {
        v.map_or(Cell::Empty, kind)
    }
}

/// Why a table could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing the Excel workbook: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("row {row} has {got} cells, the header has {want}")]
    Ragged { row: usize, got: usize, want: usize },
}

impl Table {
    fn check(&self) -> Result<(), ExportError> {
        let want = self.columns.len();
        match self.rows.iter().position(|r| r.len() != want) {
            Some(row) => Err(ExportError::Ragged {
                row: row + 1,
                got: self.rows[row].len(),
                want,
            }),
            None => Ok(()),
        }
    }
}

/// The table as an `.xlsx` workbook of one sheet.
pub fn to_xlsx(table: &Table) -> Result<Vec<u8>, ExportError> {
    table.check()?;
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name(&table.sheet))?;
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let formats = CellFormats::new();
    for (col, column) in (0u16..).zip(&table.columns) {
        sheet.set_column_width(col, column.width)?;
        sheet.write_string_with_format(0, col, &column.header, &header)?;
    }
    for (row, cells) in (1u32..).zip(&table.rows) {
        for (col, cell) in (0u16..).zip(cells) {
            formats.write(sheet, row, col, cell)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    if let Some(last_col) = table.columns.len().checked_sub(1) {
        let last_row = u32::try_from(table.rows.len()).unwrap_or(u32::MAX);
        sheet.autofilter(0, 0, last_row, u16::try_from(last_col).unwrap_or(u16::MAX))?;
    }
    Ok(workbook.save_to_buffer()?)
}

/// The number formats of the cell kinds, made once per workbook.
struct CellFormats {
    integer: Format,
    number: Format,
    ratio: Format,
    time: Format,
    text: Format,
}

impl CellFormats {
    fn new() -> CellFormats {
        CellFormats {
            integer: Format::new().set_num_format("#,##0"),
            number: Format::new().set_num_format("0.00"),
            ratio: Format::new().set_num_format("0.0%"),
            time: Format::new().set_num_format("dd/mm/yyyy hh:mm"),
            text: Format::new().set_text_wrap(),
        }
    }

    fn write(
        &self,
        sheet: &mut rust_xlsxwriter::Worksheet,
        row: u32,
        col: u16,
        cell: &Cell,
    ) -> Result<(), XlsxError> {
        match cell {
            Cell::Empty => {}
            Cell::Text(s) => {
                sheet.write_string_with_format(row, col, s, &self.text)?;
            }
            // Counts stay exact far beyond any province's dossiers.
            #[allow(clippy::cast_precision_loss)]
            Cell::Integer(n) => {
                sheet.write_number_with_format(row, col, *n as f64, &self.integer)?;
            }
            Cell::Number(v) => {
                sheet.write_number_with_format(row, col, *v, &self.number)?;
            }
            Cell::Ratio(v) => {
                sheet.write_number_with_format(row, col, *v, &self.ratio)?;
            }
            Cell::Time(t) => {
                let local = crate::time::utc_to_local(*t);
                sheet.write_datetime_with_format(row, col, local, &self.time)?;
            }
        }
        Ok(())
    }
}

/// Excel's rules for a sheet name: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '-' } else { c })
        .take(SHEET_NAME_MAX)
        .collect();
    if clean.trim().is_empty() {
        "Sheet1".to_string()
    } else {
        clean
    }
}

/// The table as CSV: a UTF-8 byte-order mark, the header, then the rows.
/// Numbers are written as a machine reads them (a decimal point, ratios as
/// fractions), times in Asia/Ho_Chi_Minh with their offset (RFC 3339).
pub fn to_csv(table: &Table) -> Result<Vec<u8>, ExportError> {
    table.check()?;
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        writer.write_record(table.columns.iter().map(|c| c.header.as_str()))?;
        for cells in &table.rows {
            writer.write_record(cells.iter().map(csv_field))?;
        }
        writer.flush().map_err(csv::Error::from)?;
    }
    Ok(out)
}

fn csv_field(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(s) => s.clone(),
        Cell::Integer(n) => n.to_string(),
        Cell::Number(v) | Cell::Ratio(v) => v.to_string(),
        Cell::Time(t) => crate::time::rfc3339_local(*t),
    }
}

#[cfg(test)]
mod tests;
