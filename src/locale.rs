//! Numbers and words the reader's way: Vietnamese writes a decimal comma
//! (`91,2%`, `12,50 điểm`), English a decimal point. Every surface that
//! shows a figure to people (e-mails, digests, the CLI's text) formats it
//! here, so a figure reads the same wherever it appears.

use crate::domain::Language;

/// `v` with `places` decimals and the reader's decimal separator:
/// `72.5` → `72,50` in Vietnamese, `72.50` in English.
pub fn decimal(v: f64, places: usize, lang: Language) -> String {
    let s = format!("{v:.places$}");
    match lang {
        Language::Vi => s.replace('.', ","),
        Language::En => s,
    }
}

/// A fraction as a percentage with one decimal: `0.9123` → `91,2%`.
pub fn percent(v: f64, lang: Language) -> String {
    format!("{}%", decimal(v * 100.0, 1, lang))
}

/// Points with two decimals, the portal's precision: `78,35`.
pub fn points(v: f64, lang: Language) -> String {
    decimal(v, 2, lang)
}

/// What is shown where a figure has no data behind it.
pub fn no_data(lang: Language) -> &'static str {
    match lang {
        Language::Vi => "chưa có dữ liệu",
        Language::En => "no data yet",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_the_readers_way() {
        for (got, expected) in [
            (decimal(72.5, 2, Language::Vi), "72,50"),
            (decimal(72.5, 2, Language::En), "72.50"),
            (percent(0.9123, Language::Vi), "91,2%"),
            (percent(0.9123, Language::En), "91.2%"),
            (points(12.0, Language::Vi), "12,00"),
            (percent(1.0, Language::Vi), "100,0%"),
        ] {
            assert_eq!(got, expected);
        }
    }
}
