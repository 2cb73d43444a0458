//! The inspection report as a Word document, in the layout of an
//! administrative document under Decree 30/2020/NĐ-CP: A4, Times New Roman,
//! the issuing body and the national motto side by side at the top, a number
//! and a date left for the team to fill in, the title, the plan's contents
//! II.1 to II.5 as sections, and the recipients and signature block at the
//! end. The team edits and signs it; nothing here decides what goes in.
//!
//! [`InspectionReport`] is the content, already in words; [`to_docx`]
//! lays it out. Which figures, findings and freshness a unit's report
//! carries is decided by the caller.

use docx_rs::{
    AlignmentType, Docx, LineSpacing, PageMargin, Paragraph, Run, RunFonts, SpecialIndentType,
    Table, TableCell, TableRow, WidthType,
};

/// Times New Roman, as Decree 30 asks.
const FONT: &str = "Times New Roman";
/// Sizes in half-points: 14 pt for the body and title, 13 pt for the
/// headings of the top block, 12 pt for the recipients.
const BODY: usize = 28;
const HEAD: usize = 26;
const SMALL: usize = 24;
/// A4 in twentieths of a point.
const A4: (u32, u32) = (11_906, 16_838);
/// One millimetre in twentieths of a point.
const MM: f64 = 56.7;

/// A unit's inspection report, in words.
#[derive(Clone, Debug, PartialEq)]
pub struct InspectionReport {
    /// The body the issuer answers to, e.g. "UBND TỈNH HÒA BÌNH".
    pub superior: String,
    /// The issuer, e.g. "VĂN PHÒNG".
    pub issuer: String,
    /// The unit inspected and the period, e.g. "Sở Tư pháp", "tháng 11/2026".
    pub unit: String,
    pub period: String,
    /// When the figures were read, in words (Asia/Ho_Chi_Minh).
    pub as_of: String,
    /// The five contents of the plan, II.1 to II.5, in order.
    pub sections: Vec<Section>,
}

/// One content of the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// "1" to "5": shown as II.1 to II.5.
    pub number: u8,
    pub title: String,
    pub indicators: Vec<IndicatorLine>,
    /// One paragraph per finding: the rule, its state and its evidence.
    pub findings: Vec<String>,
    /// How current the data behind this section is, one line per source.
    pub freshness: Vec<String>,
}

/// One indicator's row: numerator and denominator as counts, the result
/// formatted the reader's way, or the reason there is none.
#[derive(Clone, Debug, PartialEq)]
pub struct IndicatorLine {
    pub name: String,
    pub numerator: String,
    pub denominator: String,
    pub result: String,
}

/// The report as a `.docx` file.
/// Fails only if the archive cannot be written, which in memory means a bug.
pub fn to_docx(report: &InspectionReport) -> std::io::Result<Vec<u8>> {
    let mut doc = Docx::new()
        .page_size(A4.0, A4.1)
        .page_margin(
            PageMargin::new()
                .top(mm(20.0))
                .bottom(mm(20.0))
                .left(mm(30.0))
                .right(mm(15.0)),
        )
        .default_fonts(
            RunFonts::new()
                .ascii(FONT)
                .hi_ansi(FONT)
                .east_asia(FONT)
                .cs(FONT),
        )
        .default_size(BODY)
        .add_table(top_block(report))
        .add_paragraph(Paragraph::new());
    for p in title(report) {
        doc = doc.add_paragraph(p);
    }
    doc = doc.add_paragraph(heading(
        "I. THỜI ĐIỂM KIỂM TRA VÀ NGUỒN DỮ LIỆU".to_string(),
    ));
    doc = doc.add_paragraph(body(format!(
        "Số liệu được đọc từ các hệ thống thông tin lúc {}. Mọi số liệu dưới đây \
         là tử số và mẫu số đếm được trên hệ thống; chỉ tiêu không có dữ liệu \
         được ghi rõ là chưa có dữ liệu, không tính là đạt.",
        report.as_of
    )));
    doc = doc.add_paragraph(heading("II. KẾT QUẢ KIỂM TRA".to_string()));
    for section in &report.sections {
        doc = section_into(doc, section);
    }
    doc = doc
        .add_paragraph(heading("III. KIẾN NGHỊ".to_string()))
        .add_paragraph(body("…".to_string()))
        .add_paragraph(Paragraph::new())
        .add_table(closing_block());
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut out).map_err(std::io::Error::other)?;
    Ok(out.into_inner())
}

/// Millimetres to twentieths of a point.
#[allow(clippy::cast_possible_truncation)]
fn mm(v: f64) -> i32 {
    (v * MM).round() as i32
}

fn run(text: impl Into<String>, size: usize) -> Run {
    Run::new().add_text(text).size(size)
}

fn centred(r: Run) -> Paragraph {
    Paragraph::new().add_run(r).align(AlignmentType::Center)
}

/// The issuing body (left) and the national motto (right), each with its
/// number or date line under it.
fn top_block(report: &InspectionReport) -> Table {
    let left = TableCell::new()
        .width(3_600, WidthType::Dxa)
        .add_paragraph(centred(run(report.superior.to_uppercase(), HEAD)))
        .add_paragraph(centred(run(report.issuer.to_uppercase(), HEAD).bold()))
        .add_paragraph(centred(run("Số: …/BC-VP", HEAD)));
    let right = TableCell::new()
        .width(5_900, WidthType::Dxa)
        .add_paragraph(centred(
            run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", HEAD).bold(),
        ))
        .add_paragraph(centred(
            run("Độc lập - Tự do - Hạnh phúc", BODY)
                .bold()
                .underline("single"),
        ))
        .add_paragraph(centred(run("…, ngày … tháng … năm …", BODY).italic()));
    Table::without_borders(vec![TableRow::new(vec![left, right])]).set_grid(vec![3_600, 5_900])
}

fn title(report: &InspectionReport) -> Vec<Paragraph> {
    vec![
        centred(run("BÁO CÁO", BODY).bold()),
        centred(
            run(
                "Kết quả kiểm tra công tác cải cách hành chính, kiểm soát thủ tục \
                 hành chính thông qua hệ thống thông tin",
                BODY,
            )
            .bold(),
        ),
        centred(run(format!("tại {}, {}", report.unit, report.period), BODY).bold()),
        Paragraph::new(),
    ]
}

fn heading(text: String) -> Paragraph {
    Paragraph::new()
        .add_run(run(text, BODY).bold())
        .line_spacing(LineSpacing::new().before(120).after(60))
}

/// A body paragraph: justified, first line indented 1 cm.
fn body(text: String) -> Paragraph {
    Paragraph::new()
        .add_run(run(text, BODY))
        .align(AlignmentType::Both)
        .indent(
            None,
            Some(SpecialIndentType::FirstLine(mm(10.0))),
            None,
            None,
        )
        .line_spacing(LineSpacing::new().after(60))
}

fn section_into(mut doc: Docx, s: &Section) -> Docx {
    doc = doc.add_paragraph(heading(format!("{}. {}", s.number, s.title)));
    doc = doc.add_paragraph(body("a) Chỉ tiêu".to_string()));
    doc = if s.indicators.is_empty() {
        doc.add_paragraph(body(
            "Kế hoạch chưa có chỉ tiêu nào đo được cho nội dung này.".to_string(),
        ))
    } else {
        doc.add_table(indicator_table(&s.indicators))
    };
    doc = doc.add_paragraph(body("b) Phát hiện".to_string()));
    if s.findings.is_empty() {
        doc = doc.add_paragraph(body("Không có phát hiện trong kỳ.".to_string()));
    }
    for f in &s.findings {
        doc = doc.add_paragraph(body(format!("- {f}")));
    }
    doc = doc.add_paragraph(body("c) Dữ liệu".to_string()));
    for f in &s.freshness {
        doc = doc.add_paragraph(body(format!("- {f}")));
    }
    doc
}

const INDICATOR_GRID: [usize; 4] = [4_300, 1_700, 1_700, 1_800];

fn indicator_table(lines: &[IndicatorLine]) -> Table {
    let cell = |text: &str, width: usize, bold: bool| {
        let r = run(text, SMALL);
        TableCell::new()
            .width(width, WidthType::Dxa)
            .add_paragraph(Paragraph::new().add_run(if bold { r.bold() } else { r }))
    };
    let row = |cells: [&str; 4], bold: bool| {
        TableRow::new(
            cells
                .iter()
                .zip(INDICATOR_GRID)
                .map(|(t, w)| cell(t, w, bold))
                .collect(),
        )
    };
    let mut rows = vec![row(["Chỉ tiêu", "Tử số", "Mẫu số", "Kết quả"], true)];
    rows.extend(
        lines
            .iter()
            .map(|l| row([&l.name, &l.numerator, &l.denominator, &l.result], false)),
    );
    Table::new(rows).set_grid(INDICATOR_GRID.to_vec())
}

/// Recipients on the left, the signature on the right.
fn closing_block() -> Table {
    let left = TableCell::new()
        .width(4_750, WidthType::Dxa)
        .add_paragraph(Paragraph::new().add_run(run("Nơi nhận:", SMALL).bold().italic()))
        .add_paragraph(Paragraph::new().add_run(run("- Như trên;", 22)))
        .add_paragraph(Paragraph::new().add_run(run("- Lưu: VT, HCTC.", 22)));
    let right = TableCell::new()
        .width(4_750, WidthType::Dxa)
        .add_paragraph(centred(run("TRƯỞNG ĐOÀN KIỂM TRA", BODY).bold()))
        .add_paragraph(centred(run("(Ký, ghi rõ họ tên)", BODY).italic()));
    Table::without_borders(vec![TableRow::new(vec![left, right])]).set_grid(vec![4_750, 4_750])
}

#[cfg(test)]
mod tests;
