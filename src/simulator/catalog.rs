//! Fixed tables the simulated province is built from: procedures with
//! their time limits, fees, components and results; unit names; report
//! regimes; the reasons on apology notices.
//!
//! Procedure codes follow the national database's `n.nnnnnn` shape and the
//! names are real procedures, but the codes, fees and field codes are
//! illustrative: nothing downstream may rely on them being the official ones.

use crate::domain::UnitKind;

/// Which level of government handles a procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    /// Departments and the provincial public-service center.
    Province,
    /// Commune People's Committees.
    Commune,
}

/// One administrative procedure (TTHC).
#[derive(Debug)]
pub(crate) struct Procedure {
    pub code: &'static str,
    pub name: &'static str,
    /// MaLinhVuc, the field of procedures.
    pub field: &'static str,
    /// Statutory time limit in working days.
    pub days: u32,
    /// Fees and charges: (name, amount in VND). Empty when the procedure is free.
    pub fees: &'static [(&'static str, u64)],
    /// The components an applicant submits (TaiLieuNop).
    pub components: &'static [&'static str],
    /// The result document (DanhSachGiayToKetQua).
    pub result: &'static str,
    pub level: Level,
}

pub(crate) const PROCEDURES: &[Procedure] = &[
    Procedure {
        code: "1.001766",
        name: "Cấp phiếu lý lịch tư pháp",
        field: "LLTP",
        days: 10,
        fees: &[("Phí cung cấp thông tin lý lịch tư pháp", 200_000)],
        components: &[
            "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp",
            "Bản chụp giấy tờ tùy thân",
            "Văn bản ủy quyền (nếu có)",
        ],
        result: "Phiếu lý lịch tư pháp",
        level: Level::Province,
    },
    Procedure {
        code: "1.009972",
        name: "Cấp giấy phép xây dựng",
        field: "XAYDUNG",
        days: 15,
        fees: &[("Lệ phí cấp giấy phép xây dựng", 150_000)],
        components: &[
            "Đơn đề nghị cấp giấy phép xây dựng",
            "Bản sao giấy tờ chứng minh quyền sử dụng đất",
            "Bản vẽ thiết kế xây dựng",
        ],
        result: "Giấy phép xây dựng",
        level: Level::Province,
    },
    Procedure {
        code: "2.000889",
        name: "Cấp giấy chứng nhận quyền sử dụng đất",
        field: "DATDAI",
        days: 20,
        fees: &[
            ("Lệ phí cấp giấy chứng nhận", 100_000),
            ("Phí thẩm định hồ sơ", 500_000),
        ],
        components: &[
            "Đơn đăng ký, cấp Giấy chứng nhận",
            "Giấy tờ về quyền sử dụng đất",
            "Sơ đồ thửa đất",
            "Chứng từ thực hiện nghĩa vụ tài chính",
        ],
        result: "Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
        level: Level::Province,
    },
    Procedure {
        code: "2.001610",
        name: "Đăng ký thành lập công ty trách nhiệm hữu hạn một thành viên",
        field: "DKDN",
        days: 3,
        fees: &[("Lệ phí đăng ký doanh nghiệp", 50_000)],
        components: &[
            "Giấy đề nghị đăng ký doanh nghiệp",
            "Điều lệ công ty",
            "Bản sao giấy tờ pháp lý của chủ sở hữu",
        ],
        result: "Giấy chứng nhận đăng ký doanh nghiệp",
        level: Level::Province,
    },
    Procedure {
        code: "1.002202",
        name: "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp",
        field: "GPLX",
        days: 5,
        fees: &[("Lệ phí cấp giấy phép lái xe", 135_000)],
        components: &[
            "Đơn đề nghị đổi giấy phép lái xe",
            "Giấy khám sức khỏe của người lái xe",
        ],
        result: "Giấy phép lái xe",
        level: Level::Province,
    },
    Procedure {
        code: "1.004918",
        name: "Cấp giấy phép hành nghề khám bệnh, chữa bệnh",
        field: "KCB",
        days: 20,
        fees: &[("Phí thẩm định cấp giấy phép hành nghề", 360_000)],
        components: &[
            "Đơn đề nghị cấp giấy phép hành nghề",
            "Bản sao văn bằng chuyên môn",
            "Giấy chứng nhận đủ sức khỏe",
        ],
        result: "Giấy phép hành nghề khám bệnh, chữa bệnh",
        level: Level::Province,
    },
    Procedure {
        code: "1.005092",
        name: "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc",
        field: "VANBANG",
        days: 2,
        fees: &[],
        components: &["Đơn đề nghị cấp bản sao", "Bản chụp giấy tờ tùy thân"],
        result: "Bản sao văn bằng, chứng chỉ",
        level: Level::Province,
    },
    Procedure {
        code: "2.000633",
        name: "Cấp giấy phép bán lẻ sản phẩm rượu",
        field: "THUONGMAI",
        days: 10,
        fees: &[("Phí thẩm định cấp giấy phép kinh doanh", 1_200_000)],
        components: &[
            "Đơn đề nghị cấp giấy phép bán lẻ rượu",
            "Bản sao giấy chứng nhận đăng ký doanh nghiệp",
            "Bản cam kết bảo đảm an toàn thực phẩm",
        ],
        result: "Giấy phép bán lẻ sản phẩm rượu",
        level: Level::Province,
    },
    Procedure {
        code: "1.004227",
        name: "Đăng ký khai sinh",
        field: "HOTICH",
        days: 1,
        fees: &[],
        components: &["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"],
        result: "Giấy khai sinh",
        level: Level::Commune,
    },
    Procedure {
        code: "1.000894",
        name: "Chứng thực bản sao từ bản chính",
        field: "CHUNGTHUC",
        days: 1,
        fees: &[("Phí chứng thực bản sao từ bản chính", 10_000)],
        components: &["Bản chính giấy tờ", "Bản sao cần chứng thực"],
        result: "Bản sao được chứng thực",
        level: Level::Commune,
    },
    Procedure {
        code: "1.004082",
        name: "Đăng ký thành lập hộ kinh doanh",
        field: "DKKD",
        days: 3,
        fees: &[("Lệ phí đăng ký hộ kinh doanh", 100_000)],
        components: &[
            "Giấy đề nghị đăng ký hộ kinh doanh",
            "Bản sao giấy tờ pháp lý của chủ hộ",
        ],
        result: "Giấy chứng nhận đăng ký hộ kinh doanh",
        level: Level::Commune,
    },
    Procedure {
        code: "1.000656",
        name: "Đăng ký kết hôn",
        field: "HOTICH",
        days: 3,
        fees: &[],
        components: &[
            "Tờ khai đăng ký kết hôn",
            "Giấy xác nhận tình trạng hôn nhân",
        ],
        result: "Giấy chứng nhận kết hôn",
        level: Level::Commune,
    },
    Procedure {
        code: "1.004873",
        name: "Cấp giấy xác nhận tình trạng hôn nhân",
        field: "HOTICH",
        days: 3,
        fees: &[],
        components: &["Tờ khai cấp giấy xác nhận tình trạng hôn nhân"],
        result: "Giấy xác nhận tình trạng hôn nhân",
        level: Level::Commune,
    },
    Procedure {
        code: "1.010007",
        name: "Cấp giấy phép xây dựng nhà ở riêng lẻ",
        field: "XAYDUNG",
        days: 15,
        fees: &[("Lệ phí cấp giấy phép xây dựng nhà ở riêng lẻ", 75_000)],
        components: &[
            "Đơn đề nghị cấp giấy phép xây dựng",
            "Bản sao giấy tờ về quyền sử dụng đất",
            "Bản vẽ thiết kế",
        ],
        result: "Giấy phép xây dựng",
        level: Level::Commune,
    },
    Procedure {
        code: "1.003003",
        name: "Đăng ký biến động quyền sử dụng đất",
        field: "DATDAI",
        days: 10,
        fees: &[("Lệ phí đăng ký biến động", 30_000)],
        components: &[
            "Đơn đăng ký biến động đất đai",
            "Bản gốc Giấy chứng nhận đã cấp",
            "Hợp đồng chuyển nhượng có công chứng",
        ],
        result: "Giấy chứng nhận đã chỉnh lý biến động",
        level: Level::Commune,
    },
];

/// The procedure with this code, if the catalogue has it.
pub(crate) fn procedure(code: &str) -> Option<&'static Procedure> {
    PROCEDURES.iter().find(|p| p.code == code)
}

/// Indices into [`PROCEDURES`] of a level's procedures.
pub(crate) fn procedures_of(level: Level) -> Vec<usize> {
    (0..PROCEDURES.len())
        .filter(|&i| PROCEDURES[i].level == level)
        .collect()
}

/// The procedures a fixed department handles, by code, so that the fixed
/// units keep the profile their names suggest.
pub(crate) fn procedures_for_fixed(code: &str) -> Option<&'static [&'static str]> {
    match code {
        "H44.07" => Some(&["1.001766"]),
        "H44.12" => Some(&["1.009972", "1.002202"]),
        "H44.15" => Some(&["2.000889"]),
        _ => None,
    }
}

/// One fixed unit: code, name, kind, designed on-time rate, and whether its
/// office IT lags (documents, signatures, reports).
pub(crate) struct FixedUnit {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: UnitKind,
    pub on_time: f64,
    pub lagging: bool,
}

/// The first six units, the same for every seed: tests name them.
pub(crate) const FIXED_UNITS: &[FixedUnit] = &[
    FixedUnit {
        code: "H44",
        name: "Văn phòng UBND tỉnh",
        kind: UnitKind::Province,
        on_time: 0.99,
        lagging: false,
    },
    FixedUnit {
        code: "H44.07",
        name: "Sở Tư pháp",
        kind: UnitKind::SoNganh,
        on_time: 0.99,
        lagging: false,
    },
    FixedUnit {
        code: "H44.12",
        name: "Sở Xây dựng",
        kind: UnitKind::SoNganh,
        on_time: 0.93,
        lagging: true,
    },
    FixedUnit {
        code: "H44.15",
        name: "Sở Nông nghiệp và Môi trường",
        kind: UnitKind::SoNganh,
        on_time: 0.97,
        lagging: false,
    },
    FixedUnit {
        code: "H44.100",
        name: "UBND phường Hồng Bàng",
        kind: UnitKind::Xa,
        on_time: 0.80,
        lagging: true,
    },
    FixedUnit {
        code: "H44.101",
        name: "UBND xã Tiên Lãng",
        kind: UnitKind::Xa,
        on_time: 0.98,
        lagging: false,
    },
];

/// Provincial departments and agencies after the 2025 reorganisation, with
/// the two-digit code each gets (`H44.NN`), besides the three fixed ones.
pub(crate) const DEPARTMENTS: &[(&str, &str, UnitKind)] = &[
    ("02", "Sở Nội vụ", UnitKind::SoNganh),
    ("03", "Sở Tài chính", UnitKind::SoNganh),
    ("04", "Sở Giáo dục và Đào tạo", UnitKind::SoNganh),
    ("05", "Sở Y tế", UnitKind::SoNganh),
    ("06", "Sở Công Thương", UnitKind::SoNganh),
    (
        "08",
        "Trung tâm Phục vụ hành chính công tỉnh",
        UnitKind::ServiceCenter,
    ),
    ("09", "Sở Khoa học và Công nghệ", UnitKind::SoNganh),
    ("10", "Sở Văn hóa, Thể thao và Du lịch", UnitKind::SoNganh),
    ("11", "Sở Dân tộc và Tôn giáo", UnitKind::SoNganh),
    ("13", "Sở Ngoại vụ", UnitKind::SoNganh),
    ("14", "Thanh tra tỉnh", UnitKind::SoNganh),
    (
        "16",
        "Ban Quản lý các khu công nghiệp tỉnh",
        UnitKind::SoNganh,
    ),
];

/// First syllables of commune names.
pub(crate) const COMMUNE_FIRST: &[&str] = &[
    "An",
    "Bình",
    "Cát",
    "Đại",
    "Đông",
    "Đức",
    "Gia",
    "Hà",
    "Hải",
    "Hòa",
    "Hồng",
    "Hưng",
    "Kiến",
    "Lạc",
    "Lê",
    "Long",
    "Minh",
    "Nam",
    "Ngọc",
    "Nhân",
    "Phú",
    "Phúc",
    "Quang",
    "Quảng",
    "Tân",
    "Tây",
    "Thạch",
    "Thái",
    "Thanh",
    "Thành",
    "Thịnh",
    "Thủy",
    "Tiên",
    "Trung",
    "Trường",
    "Văn",
    "Vĩnh",
    "Xuân",
    "Yên",
    "Bắc",
    "Cẩm",
    "Diên",
    "Đồng",
    "Hiệp",
    "Kim",
    "Mỹ",
    "Ninh",
    "Sơn",
];

/// Second syllables of commune names.
pub(crate) const COMMUNE_SECOND: &[&str] = &[
    "Lão", "Thụy", "Bảo", "Hải", "Sơn", "Hòa", "Lợi", "Thành", "Phú", "Lâm", "Tiến", "Thịnh",
    "Hưng", "Lạc", "An", "Xuân", "Định", "Thuận", "Đạo", "Trung", "Nghĩa", "Phong", "Quý", "Bình",
    "Cường", "Dũng", "Giang", "Hà", "Khánh", "Long", "Minh", "Ninh", "Quang", "Tân", "Thanh",
    "Thắng", "Tường", "Vinh", "Vượng", "Yên", "Đông", "Đức", "Hiền", "Hồng", "Lộc", "Mỹ", "Phúc",
    "Tài",
];

/// Generated commune names ("Tân Lập"-style, two syllables) in the order
/// communes get them: never the same syllable twice, never a fixed unit's
/// name, every name once.
pub(crate) fn commune_names() -> impl Iterator<Item = String> {
    let fixed = ["Hồng Bàng", "Tiên Lãng"];
    let pairs = COMMUNE_FIRST.len() * COMMUNE_SECOND.len();
    // A stride coprime with the number of pairs walks every pair once while
    // neighbouring communes get unrelated names.
    const STRIDE: usize = 1_567;
    (0..pairs).filter_map(move |k| {
        let p = (k * STRIDE) % pairs;
        let (a, b) = (
            COMMUNE_FIRST[p / COMMUNE_SECOND.len()],
            COMMUNE_SECOND[p % COMMUNE_SECOND.len()],
        );
        let name = format!("{a} {b}");
        (a != b && !fixed.contains(&name.as_str())).then_some(name)
    })
}

/// Report regimes on the provincial reporting system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Regime {
    Monthly,
    Quarterly,
    Yearly,
}

pub(crate) struct ReportType {
    pub code: &'static str,
    pub name: &'static str,
    pub regime: Regime,
}

pub(crate) const REPORT_TYPES: &[ReportType] = &[
    ReportType {
        code: "BC_CCHC_THANG",
        name: "Báo cáo tình hình thực hiện công tác cải cách hành chính tháng",
        regime: Regime::Monthly,
    },
    ReportType {
        code: "BC_KSTTHC_QUY",
        name: "Báo cáo tình hình, kết quả thực hiện kiểm soát thủ tục hành chính quý",
        regime: Regime::Quarterly,
    },
    ReportType {
        code: "BC_CCHC_NAM",
        name: "Báo cáo kết quả công tác cải cách hành chính năm",
        regime: Regime::Yearly,
    },
];

/// Reasons written on apology notices (phiếu xin lỗi và hẹn lại ngày trả kết quả).
pub(crate) const APOLOGY_REASONS: &[&str] = &[
    "Hồ sơ cần xác minh thêm thông tin với cơ quan liên quan",
    "Cán bộ thụ lý hồ sơ vắng mặt do đi công tác",
    "Hệ thống phần mềm gặp sự cố, chưa ký số được kết quả",
    "Chờ ý kiến phối hợp của cơ quan chuyên môn",
    "Khối lượng hồ sơ tiếp nhận tăng đột biến",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commune_names_are_distinct_and_enough_for_two_thousand_units() {
        let names: Vec<String> = commune_names().take(2_000).collect();
        assert_eq!(names.len(), 2_000);
        let distinct: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        assert!(!names.iter().any(|n| n == "Tiên Lãng" || n == "Hồng Bàng"));
    }

    #[test]
    fn every_level_has_procedures_and_fixed_units_name_known_ones() {
        assert!(!procedures_of(Level::Province).is_empty());
        assert!(!procedures_of(Level::Commune).is_empty());
        for f in FIXED_UNITS {
            for code in procedures_for_fixed(f.code).unwrap_or(&[]) {
                assert!(procedure(code).is_some(), "{code}");
            }
        }
    }
}
