//! A [`Digest`] as an e-mail: subject, text and HTML from the minijinja
//! templates `notify/templates/digest.{vi,en}.{txt,html}` (HTML
//! auto-escaped), and the chart as an inline PNG part that the HTML shows
//! through `cid:`.

use minijinja::{Environment, context};

use super::chart::bar_chart_png;
use super::content::Digest;
use crate::domain::{EmailAddress, Language};
use crate::notify::compose::{MAX_SUBJECT_CHARS, truncate_chars};
use crate::storage::{DigestEmail, InlinePart, NewEmail};

/// A rendered digest, before it is addressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub chart_png: Vec<u8>,
    /// The chart's Content-ID, without angle brackets.
    pub chart_cid: String,
}

#[derive(Debug)]
pub struct DigestRenderer {
    env: Environment<'static>,
}

impl Default for DigestRenderer {
    fn default() -> Self {
        Self::new()
    }
}

/// `0.9123` → `91,2%` (Vietnamese) or `91.2%`; no value → `–`.
fn pct(v: Option<f64>, lang: &str) -> String {
    v.map_or_else(
        || "–".to_owned(),
        |v| decimal(&format!("{:.1}%", v * 100.0), lang),
    )
}

/// Points with two decimals: `78,35` or `78.35`; no value → `–`.
fn pts(v: Option<f64>, lang: &str) -> String {
    v.map_or_else(|| "–".to_owned(), |v| decimal(&format!("{v:.2}"), lang))
}

/// A change: `▲ 1,25`, `▼ 0,50`, `= 0`; no value → empty.
fn delta(v: Option<f64>, lang: &str) -> String {
    match v {
        None => String::new(),
        Some(d) if d.abs() < 0.005 => "= 0".to_owned(),
        Some(d) if d > 0.0 => format!("▲ {}", decimal(&format!("{d:.2}"), lang)),
        Some(d) => format!("▼ {}", decimal(&format!("{:.2}", -d), lang)),
    }
}

/// A change of a rate in percentage points: `▲ 1,2 điểm %` or `▲ 1.2 pp`.
fn dpct(v: Option<f64>, lang: &str) -> String {
    let unit = if lang == "en" { "pp" } else { "điểm %" };
    match v {
        None => String::new(),
        Some(d) if (d * 100.0).abs() < 0.05 => format!("= 0 {unit}"),
        Some(d) if d > 0.0 => format!("▲ {} {unit}", decimal(&format!("{:.1}", d * 100.0), lang)),
        Some(d) => format!("▼ {} {unit}", decimal(&format!("{:.1}", -d * 100.0), lang)),
    }
}

fn decimal(s: &str, lang: &str) -> String {
    if lang == "en" {
        s.to_owned()
    } else {
        s.replace('.', ",")
    }
}

impl DigestRenderer {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        for (name, source) in [
            (
                "digest.vi.txt",
                include_str!("../notify/templates/digest.vi.txt"),
            ),
            (
                "digest.vi.html",
                include_str!("../notify/templates/digest.vi.html"),
            ),
            (
                "digest.en.txt",
                include_str!("../notify/templates/digest.en.txt"),
            ),
            (
                "digest.en.html",
                include_str!("../notify/templates/digest.en.html"),
            ),
        ] {
            env.add_template(name, source)
                .expect("templates compiled into the binary are valid");
        }
        env.add_filter("pct", pct);
        env.add_filter("pts", pts);
        env.add_filter("delta", delta);
        env.add_filter("dpct", dpct);
        Self { env }
    }

    /// Renders `d` in `lang`. `domain` names the sender's domain, for the
    /// chart's Content-ID.
    pub fn render(
        &self,
        d: &Digest,
        lang: Language,
        domain: &str,
    ) -> Result<Rendered, minijinja::Error> {
        let subject = truncate_chars(&subject(d, lang), MAX_SUBJECT_CHARS);
        let chart_cid = format!("chart-{}-{}@{domain}", d.kind, d.period);
        let chart_alt = d
            .chart
            .iter()
            .map(|b| format!("{} {}", b.label, pct(b.value, lang.as_str())))
            .collect::<Vec<_>>()
            .join("; ");
        let ctx = context! {
            d => d,
            lang => lang.as_str(),
            subject => &subject,
            chart_cid => &chart_cid,
            chart_alt => chart_alt,
        };
        let l = lang.as_str();
        Ok(Rendered {
            text: self
                .env
                .get_template(&format!("digest.{l}.txt"))?
                .render(&ctx)?,
            html: self
                .env
                .get_template(&format!("digest.{l}.html"))?
                .render(&ctx)?,
            chart_png: bar_chart_png(&d.chart.iter().map(|b| b.value).collect::<Vec<_>>()),
            chart_cid,
            subject,
        })
    }
}

/// The subject: what, when and the headline number, in the reader's
/// language, marked confidential when it carries a proposal.
pub fn subject(d: &Digest, lang: Language) -> String {
    // Names from upstreams may carry line breaks; a header must not.
    let name: String = d
        .scope_name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let l = lang.as_str();
    let total = pts(Some(d.score.total), l);
    match (lang, d.audience) {
        (Language::Vi, "unit_head") => format!(
            "[par-monitor] Bản tin {} – {name}: Chỉ số 766 {total} điểm ({})",
            d.period_vi, d.score.band_vi
        ),
        (Language::En, "unit_head") => format!(
            "[par-monitor] Digest for {} – {name}: 766 index {total} ({})",
            d.period_en, d.score.band_en
        ),
        (Language::Vi, _) => format!(
            "[par-monitor] {}Bản tin {}: Chỉ số 766 toàn tỉnh {total} điểm ({})",
            if d.proposal.is_some() {
                "MẬT – "
            } else {
                ""
            },
            d.period_vi,
            d.score.band_vi
        ),
        (Language::En, _) => format!(
            "[par-monitor] {}Digest for {}: province 766 index {total} ({})",
            if d.proposal.is_some() {
                "CONFIDENTIAL – "
            } else {
                ""
            },
            d.period_en,
            d.score.band_en
        ),
    }
}

/// The dedup key of one recipient's digest: a restart, a second tick or a
/// second instance never queues it twice.
pub fn dedup_key(d: &Digest, recipient: &EmailAddress) -> String {
    format!("digest:{}:{}:{}", d.kind, d.period, recipient.as_str())
}

/// The outbox row for one recipient.
pub fn email(
    rendered: &Rendered,
    d: &Digest,
    recipient: &EmailAddress,
    message_id: impl Fn(&str) -> String,
) -> DigestEmail {
    let dedup_key = dedup_key(d, recipient);
    DigestEmail {
        email: NewEmail {
            message_id: message_id(&dedup_key),
            dedup_key,
            kind: d.kind.outbox_kind(),
            recipients: vec![recipient.as_str().to_owned()],
            subject: rendered.subject.clone(),
            body_text: rendered.text.clone(),
            body_html: rendered.html.clone(),
        },
        parts: vec![InlinePart {
            content_id: rendered.chart_cid.clone(),
            mime: "image/png".into(),
            bytes: rendered.chart_png.clone(),
        }],
    }
}
