//! The e-mail templates (`notify/templates`, compiled into the binary) and
//! the minijinja environments that render them: one home for every e-mail
//! par-monitor sends. Each HTML template extends `base.html`, the nested
//! fixed-width tables that mail clients keep; the plain-text ones stand
//! alone. HTML auto-escapes (minijinja does for `.html` names), so text
//! from an upstream cannot inject markup.
//!
//! There are two environments because the two families were written for
//! different whitespace rules: the alerts' templates keep the text around
//! block tags as written, the digests' let a block tag swallow its line
//! (`trim_blocks`, `lstrip_blocks`). Both have the same filters, which
//! format figures the reader's way through [`crate::locale`].

use minijinja::Environment;

use crate::domain::Language;
use crate::locale;

/// The layout every HTML e-mail extends: a block `lang` for the document's
/// language and a block `content` for what goes inside the table.
const BASE: (&str, &str) = ("base.html", include_str!("../templates/base.html"));

/// Alerts, source notices and inspection proposals.
const ALERTS: [(&str, &str); 10] = [
    ("alert.vi.txt", include_str!("../templates/alert.vi.txt")),
    ("alert.vi.html", include_str!("../templates/alert.vi.html")),
    ("alert.en.txt", include_str!("../templates/alert.en.txt")),
    ("alert.en.html", include_str!("../templates/alert.en.html")),
    ("source.vi.txt", include_str!("../templates/source.vi.txt")),
    (
        "source.vi.html",
        include_str!("../templates/source.vi.html"),
    ),
    ("source.en.txt", include_str!("../templates/source.en.txt")),
    (
        "source.en.html",
        include_str!("../templates/source.en.html"),
    ),
    (
        "inspection.vi.txt",
        include_str!("../templates/inspection.vi.txt"),
    ),
    (
        "inspection.vi.html",
        include_str!("../templates/inspection.vi.html"),
    ),
];

/// Periodic digests.
const DIGESTS: [(&str, &str); 4] = [
    ("digest.vi.txt", include_str!("../templates/digest.vi.txt")),
    (
        "digest.vi.html",
        include_str!("../templates/digest.vi.html"),
    ),
    ("digest.en.txt", include_str!("../templates/digest.en.txt")),
    (
        "digest.en.html",
        include_str!("../templates/digest.en.html"),
    ),
];

/// The environment of alerts, source notices and proposals: the text
/// around block tags is kept as written.
pub fn alerts() -> Environment<'static> {
    environment(&ALERTS, false)
}

/// The digests' environment: a block tag swallows its line.
pub fn digests() -> Environment<'static> {
    environment(&DIGESTS, true)
}

fn environment(templates: &[(&'static str, &'static str)], trim: bool) -> Environment<'static> {
    let mut env = Environment::new();
    // Whitespace rules apply when a template is compiled, so before adding.
    env.set_trim_blocks(trim);
    env.set_lstrip_blocks(trim);
    for (name, source) in std::iter::once(&BASE).chain(templates) {
        env.add_template(name, source)
            .expect("templates compiled into the binary are valid");
    }
    env.add_filter("pct", pct);
    env.add_filter("pts", pts);
    env.add_filter("delta", delta);
    env.add_filter("dpct", dpct);
    env.add_filter("num", num);
    env
}

/// A template's `lang` (`"vi"` or `"en"`); anything else reads Vietnamese.
fn language(lang: &str) -> Language {
    if lang == "en" {
        Language::En
    } else {
        Language::Vi
    }
}

/// `0.9123` → `91,2%` (Vietnamese) or `91.2%`; no value → `–`.
pub(crate) fn pct(v: Option<f64>, lang: &str) -> String {
    v.map_or_else(|| "–".to_owned(), |v| locale::percent(v, language(lang)))
}

/// Points with two decimals: `78,35` or `78.35`; no value → `–`.
pub(crate) fn pts(v: Option<f64>, lang: &str) -> String {
    v.map_or_else(|| "–".to_owned(), |v| locale::points(v, language(lang)))
}

/// A change: `▲ 1,25`, `▼ 0,50`, `không đổi`; no value → empty.
fn delta(v: Option<f64>, lang: &str) -> String {
    v.map_or_else(String::new, |d| locale::change(d, language(lang)))
}

/// A change of a rate in percentage points: `▲ 1,2 điểm %` or `▲ 1.2 pp`;
/// no value → empty.
fn dpct(v: Option<f64>, lang: &str) -> String {
    v.map_or_else(String::new, |d| locale::rate_change(d, language(lang)))
}

/// A count with thousands grouped: `12.345` or `12,345`.
fn num(v: i64, lang: &str) -> String {
    locale::count(v, language(lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_change_is_said_in_words_not_as_a_nought() {
        assert_eq!(delta(Some(0.001), "vi"), "không đổi");
        assert_eq!(dpct(Some(0.0), "en"), "unchanged");
        assert_eq!(delta(Some(-0.5), "vi"), "▼ 0,50");
    }

    #[test]
    fn every_html_template_extends_the_one_layout() {
        for (name, source) in ALERTS.iter().chain(&DIGESTS) {
            if name.ends_with(".html") {
                assert!(source.starts_with("{% extends \"base.html\" %}"), "{name}");
                assert!(!source.contains("<html"), "{name} repeats the layout");
            }
        }
    }
}
