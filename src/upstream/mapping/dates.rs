//! Dates as a feed writes them: a Java-style or strftime pattern in a time
//! zone, RFC 3339, or unix seconds or milliseconds.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use sonic_rs::{JsonValueTrait, Value};

/// How a feed writes dates.
#[derive(Clone, Debug, PartialEq)]
pub enum DateCodec {
    /// A strftime format (parsed once: `items`); dates without an offset
    /// are in `tz`.
    Pattern {
        format: String,
        items: Vec<chrono::format::Item<'static>>,
        tz: Tz,
        with_offset: bool,
        /// The default `yyyyMMddHHmmss`, read without chrono's general
        /// parser (see [`compact_date`]).
        compact: bool,
    },
    Rfc3339,
    Unix,
    UnixMs,
}

impl DateCodec {
    /// Parses `yyyyMMddHHmmss`-style patterns (and `rfc3339`, `unix`,
    /// `unix_ms`, or a strftime format containing `%`).
    pub fn parse(pattern: &str, tz: Tz) -> Result<DateCodec, String> {
        match pattern {
            "rfc3339" => return Ok(DateCodec::Rfc3339),
            "unix" => return Ok(DateCodec::Unix),
            "unix_ms" => return Ok(DateCodec::UnixMs),
            _ => {}
        }
        let format = if pattern.contains('%') {
            pattern.to_owned()
        } else {
            java_to_strftime(pattern)?
        };
        // Formatting a known instant proves the format is usable.
        let probe = Utc
            .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .expect("valid probe");
        let mut out = String::new();
        use std::fmt::Write;
        write!(out, "{}", probe.with_timezone(&tz).format(&format))
            .map_err(|_| format!("`{pattern}` is not a usable date format"))?;
        let with_offset = format.contains("%z") || format.contains("%:z") || format.contains("%#z");
        let items = chrono::format::StrftimeItems::new(&format)
            .map(|i| i.to_owned())
            .collect();
        Ok(DateCodec::Pattern {
            compact: format == "%Y%m%d%H%M%S",
            format,
            items,
            tz,
            with_offset,
        })
    }

    pub fn decode(&self, v: &Value) -> Option<DateTime<Utc>> {
        match self {
            DateCodec::Unix => v
                .as_i64()
                .or_else(|| v.as_str()?.trim().parse().ok())
                .and_then(|s| DateTime::from_timestamp(s, 0)),
            DateCodec::UnixMs => v
                .as_i64()
                .or_else(|| v.as_str()?.trim().parse().ok())
                .and_then(DateTime::from_timestamp_millis),
            DateCodec::Rfc3339 => DateTime::parse_from_rfc3339(v.as_str()?.trim())
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            DateCodec::Pattern {
                items,
                tz,
                with_offset,
                compact,
                ..
            } => {
                let text = v.as_str()?.trim();
                if *compact && let Some(naive) = compact_date(text) {
                    return tz
                        .from_local_datetime(&naive)
                        .earliest()
                        .map(|t| t.with_timezone(&Utc));
                }
                // The format was parsed once, when the mapping was resolved:
                // parsing it again for every date costs more than the date.
                let mut parsed = chrono::format::Parsed::new();
                chrono::format::parse(&mut parsed, text, items.iter()).ok()?;
                if *with_offset {
                    parsed.to_datetime().ok().map(|t| t.with_timezone(&Utc))
                } else {
                    let naive: NaiveDateTime = parsed.to_naive_datetime_with_offset(0).ok()?;
                    tz.from_local_datetime(&naive)
                        .earliest()
                        .map(|t| t.with_timezone(&Utc))
                }
            }
        }
    }

    pub fn encode(&self, t: DateTime<Utc>) -> String {
        match self {
            DateCodec::Unix => t.timestamp().to_string(),
            DateCodec::UnixMs => t.timestamp_millis().to_string(),
            DateCodec::Rfc3339 => t.to_rfc3339(),
            DateCodec::Pattern { format, tz, .. } => t.with_timezone(tz).format(format).to_string(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            DateCodec::Unix => "unix seconds".into(),
            DateCodec::UnixMs => "unix milliseconds".into(),
            DateCodec::Rfc3339 => "an RFC 3339 date".into(),
            DateCodec::Pattern { format, .. } => format!("a date as `{format}`"),
        }
    }
}

/// Reads exactly 14 ASCII digits as `yyyyMMddHHmmss`, the format of every
/// default feed and of most Vietnamese one-stop-shop systems: every dossier
/// carries a dozen such dates, and chrono's general parser costs several
/// times more. Anything else (or an impossible date) returns `None`, and the
/// general parser decides, so the two always agree.
fn compact_date(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() != 14 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |from: usize, to: usize| {
        b[from..to]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    chrono::NaiveDate::from_ymd_opt(i32::try_from(n(0, 4)).ok()?, n(4, 6), n(6, 8))?.and_hms_opt(
        n(8, 10),
        n(10, 12),
        n(12, 14),
    )
}

/// Converts a Java/.NET-style date pattern to strftime.
fn java_to_strftime(p: &str) -> Result<String, String> {
    const TOKENS: &[(&str, &str)] = &[
        ("yyyy", "%Y"),
        ("yy", "%y"),
        ("MM", "%m"),
        ("dd", "%d"),
        ("HH", "%H"),
        ("mm", "%M"),
        ("ss", "%S"),
        ("SSS", "%3f"),
        ("XXX", "%:z"),
        ("Z", "%z"),
    ];
    let mut out = String::new();
    let mut rest = p;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('\'') {
            let end = r
                .find('\'')
                .ok_or_else(|| format!("`{p}`: unclosed quote"))?;
            out.push_str(&r[..end].replace('%', "%%"));
            rest = &r[end + 1..];
            continue;
        }
        if let Some((tok, fmt)) = TOKENS.iter().find(|(t, _)| rest.starts_with(t)) {
            out.push_str(fmt);
            rest = &rest[tok.len()..];
            continue;
        }
        let c = rest.chars().next().expect("non-empty");
        if c.is_ascii_alphabetic() {
            return Err(format!(
                "`{p}`: unknown pattern letter `{c}` (use yyyy, MM, dd, HH, mm, ss, SSS, XXX, Z, or 'quoted' text)"
            ));
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sonic_rs::json;

    #[test]
    fn date_patterns_read_local_time() {
        let tz = crate::time::LOCAL_TZ;
        let cases = [
            (
                "yyyyMMddHHmmss",
                json!("20260803090000"),
                "2026-08-03T02:00:00+00:00",
            ),
            (
                "dd/MM/yyyy HH:mm:ss",
                json!("03/08/2026 09:00:00"),
                "2026-08-03T02:00:00+00:00",
            ),
            (
                "yyyy-MM-dd'T'HH:mm:ssXXX",
                json!("2026-08-03T09:00:00+07:00"),
                "2026-08-03T02:00:00+00:00",
            ),
            (
                "rfc3339",
                json!("2026-08-03T02:00:00Z"),
                "2026-08-03T02:00:00+00:00",
            ),
            ("unix", json!(1785722400), "2026-08-03T02:00:00+00:00"),
            (
                "unix_ms",
                json!("1785722400000"),
                "2026-08-03T02:00:00+00:00",
            ),
        ];
        for (pattern, input, expected) in cases {
            let codec = DateCodec::parse(pattern, tz).unwrap();
            let t = codec
                .decode(&input)
                .unwrap_or_else(|| panic!("{pattern} {input}"));
            assert_eq!(t.to_rfc3339(), expected, "{pattern}");
            assert_eq!(
                codec.decode(&Value::from(codec.encode(t).as_str())),
                Some(t),
                "{pattern} round trip"
            );
        }
        assert!(DateCodec::parse("yyyy-QQ", tz).is_err());
        // The fast path for the default format agrees with chrono's parser,
        // on good dates and on impossible ones.
        let fast = DateCodec::parse("yyyyMMddHHmmss", tz).unwrap();
        let mut slow = fast.clone();
        if let DateCodec::Pattern { compact, .. } = &mut slow {
            *compact = false;
        }
        assert_ne!(fast, slow);
        assert!(fast.decode(&json!("20240229235959")).is_some());
        for text in [
            "20260803090000",
            "20240229235959",
            "20250229000000",
            "20261301000000",
            "20260803240000",
            "20260803086000",
            "00010101000000",
            "2026080309000",
            "2026-08-03 09:0",
        ] {
            assert_eq!(
                fast.decode(&json!(text)),
                slow.decode(&json!(text)),
                "{text}"
            );
        }
        let c = DateCodec::parse("yyyyMMddHHmmss", tz).unwrap();
        assert_eq!(c.decode(&json!("2026-08-03")), None);
    }
}
