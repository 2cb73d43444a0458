//! The console's words, Vietnamese first. A template writes `t("key")`;
//! each page keeps its own list of `(key, vi, en)` next to its handler and
//! names it in [`CATALOGS`]. A key missing from every list fails the
//! render, so a test that renders the page finds it.

use std::collections::HashMap;

use crate::domain::Language;

/// One page's words: `(key, Vietnamese, English)`.
pub type Texts = &'static [(&'static str, &'static str, &'static str)];

/// The layout's words: navigation, the account box, common labels.
const LAYOUT: Texts = &[
    ("app.name", "Giám sát CCHC", "Reform monitor"),
    ("nav.overview", "Tổng quan", "Overview"),
    ("nav.findings", "Phát hiện", "Findings"),
    (
        "nav.inspections",
        "Kiểm tra đột xuất",
        "Unannounced inspections",
    ),
    ("nav.sources", "Nguồn dữ liệu", "Data sources"),
    ("nav.logout", "Đăng xuất", "Log out"),
    ("common.no_data", "chưa có dữ liệu", "no data yet"),
    ("common.unit", "Đơn vị", "Unit"),
    ("common.period", "Kỳ", "Period"),
    ("common.show", "Xem", "Show"),
    ("common.prev", "Trang trước", "Previous"),
    ("common.next", "Trang sau", "Next"),
];

/// Every list of words the templates may use.
const CATALOGS: &[Texts] = &[
    LAYOUT,
    super::auth::TEXTS,
    super::figures::TEXTS,
    super::overview::TEXTS,
    super::unit::TEXTS,
    super::inspections::TEXTS,
    super::findings::TEXTS,
    super::sources::TEXTS,
];

/// The words of every catalog, by key.
#[derive(Debug)]
pub struct Catalog(HashMap<&'static str, (&'static str, &'static str)>);

impl Catalog {
    pub fn new() -> Self {
        let mut map = HashMap::new();
        for (key, vi, en) in CATALOGS.iter().flat_map(|c| c.iter()) {
            let old = map.insert(*key, (*vi, *en));
            debug_assert!(old.is_none(), "console text `{key}` is defined twice");
        }
        Self(map)
    }

    pub fn get(&self, key: &str, lang: Language) -> Option<&'static str> {
        self.0.get(key).map(|(vi, en)| match lang {
            Language::Vi => *vi,
            Language::En => *en,
        })
    }
}

impl Default for Catalog {
    fn default() -> Self {
        Self::new()
    }
}
