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

/// A count with its thousands grouped the reader's way: `12345` →
/// `12.345` in Vietnamese, `12,345` in English.
pub fn count(n: i64, lang: Language) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = match lang {
        Language::Vi => '.',
        Language::En => ',',
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// No change, in words: a bare `= 0` reads as a score of nought.
pub fn unchanged(lang: Language) -> &'static str {
    match lang {
        Language::Vi => "không đổi",
        Language::En => "unchanged",
    }
}

/// A change of points, two decimals: `▲ 1,25`, `▼ 0,50`, or
/// [`unchanged`] when it rounds to nothing.
pub fn change(d: f64, lang: Language) -> String {
    if d.abs() < 0.005 {
        unchanged(lang).to_owned()
    } else if d > 0.0 {
        format!("▲ {}", decimal(d, 2, lang))
    } else {
        format!("▼ {}", decimal(-d, 2, lang))
    }
}

/// A difference between two figures of the same time (ours and the
/// portal's): `▲ 1,25`, `▼ 0,50`, or "bằng nhau" when they agree; unlike
/// [`change`], nothing here moved over time.
pub fn difference(d: f64, lang: Language) -> String {
    if d.abs() < 0.005 {
        match lang {
            Language::Vi => "bằng nhau",
            Language::En => "equal",
        }
        .to_owned()
    } else {
        change(d, lang)
    }
}

/// A change of a rate (a fraction) in percentage points, one decimal:
/// `▲ 1,2 điểm %` or `▼ 1.2 pp`, or [`unchanged`] when it rounds to nothing.
pub fn rate_change(d: f64, lang: Language) -> String {
    let unit = match lang {
        Language::Vi => "điểm %",
        Language::En => "pp",
    };
    if (d * 100.0).abs() < 0.05 {
        unchanged(lang).to_owned()
    } else if d > 0.0 {
        format!("▲ {} {unit}", decimal(d * 100.0, 1, lang))
    } else {
        format!("▼ {} {unit}", decimal(-d * 100.0, 1, lang))
    }
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
    fn counts_group_thousands_the_readers_way() {
        let cases = [
            (0, "0", "0"),
            (999, "999", "999"),
            (1000, "1.000", "1,000"),
            (932_114, "932.114", "932,114"),
            (1_234_567, "1.234.567", "1,234,567"),
            (-4200, "-4.200", "-4,200"),
        ];
        for (n, vi, en) in cases {
            assert_eq!(count(n, Language::Vi), vi);
            assert_eq!(count(n, Language::En), en);
        }
    }

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
