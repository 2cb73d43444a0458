use docx_rs::{
    DocumentChild, ParagraphChild, RunChild, TableCellContent, TableChild, TableRowChild,
};

use super::*;

fn sample() -> InspectionReport {
    let section = |number: u8, title: &str| Section {
        number,
        title: title.to_string(),
        indicators: Vec::new(),
        findings: Vec::new(),
        freshness: vec!["Hệ thống giải quyết TTHC: cập nhật 01/12/2026 07:55".to_string()],
    };
    let mut sections = vec![
        section(1, "Lãnh đạo, chỉ đạo"),
        section(
            2,
            "Kết quả giải quyết TTHC theo cơ chế một cửa, một cửa liên thông",
        ),
        section(3, "Ứng dụng công nghệ thông tin"),
        section(4, "Thái độ, tác phong của công chức"),
        section(5, "Nhiệm vụ khác"),
    ];
    sections[1].indicators = vec![
        IndicatorLine {
            name: "Tỷ lệ hồ sơ giải quyết đúng hạn".to_string(),
            numerator: "1.180".to_string(),
            denominator: "1.234".to_string(),
            result: "95,6%".to_string(),
        },
        IndicatorLine {
            name: "Tỷ lệ thanh toán trực tuyến".to_string(),
            numerator: String::new(),
            denominator: String::new(),
            result: "chưa có dữ liệu".to_string(),
        },
    ];
    sections[1].findings = vec![
        "Tỷ lệ giải quyết đúng hạn dưới mức (mức nghiêm trọng, đang mở từ 03/11/2026): 88,1% < 90,0%, 1.234 hồ sơ".to_string(),
    ];
    InspectionReport {
        superior: "UBND tỉnh Hòa Bình".to_string(),
        issuer: "Văn phòng".to_string(),
        unit: "Sở Tư pháp".to_string(),
        period: "tháng 11/2026".to_string(),
        as_of: "08:00 ngày 01/12/2026".to_string(),
        sections,
    }
}

fn paragraph_text(p: &docx_rs::Paragraph) -> String {
    let mut out = String::new();
    for child in &p.children {
        if let ParagraphChild::Run(r) = child {
            for c in &r.children {
                if let RunChild::Text(t) = c {
                    out.push_str(&t.text);
                }
            }
        }
    }
    out
}

/// The document's text read back by docx-rs's own reader: one line per
/// paragraph, table cells joined by ` | `.
fn text_of(bytes: &[u8]) -> String {
    let doc = docx_rs::read_docx(bytes).expect("a readable .docx");
    let mut lines = Vec::new();
    for child in &doc.document.children {
        match child {
            DocumentChild::Paragraph(p) => lines.push(paragraph_text(p)),
            DocumentChild::Table(t) => {
                for TableChild::TableRow(row) in &t.rows {
                    let cells: Vec<String> = row
                        .cells
                        .iter()
                        .map(|TableRowChild::TableCell(c)| {
                            c.children
                                .iter()
                                .filter_map(|x| match x {
                                    TableCellContent::Paragraph(p) => Some(paragraph_text(p)),
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

#[test]
fn the_report_reads_back_with_its_header_sections_and_figures() {
    let bytes = to_docx(&sample()).unwrap();
    insta::assert_snapshot!(text_of(&bytes));
}

#[test]
fn the_report_is_a4_in_times_new_roman() {
    let bytes = to_docx(&sample()).unwrap();
    let doc = docx_rs::read_docx(&bytes).unwrap();
    let json = doc.json();
    assert!(
        json.contains("\"Times New Roman\""),
        "fonts: {}",
        &json[..json.len().min(400)]
    );
    assert!(
        json.contains("11906") && json.contains("16838"),
        "A4 page size"
    );
}
