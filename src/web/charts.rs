//! Line charts of monthly series, drawn as SVG on the server (pure: series
//! in, markup out). They are meant to be read on paper too, in black and
//! white: each series has its own dash pattern and marker shape, named in
//! a legend, so no colour is needed to tell them apart.
//!
//! A month without data is a gap: the line breaks there and no point is
//! drawn, never a 0. A chart with no data at all says so in words instead
//! of drawing empty axes. Every piece of text (title, series names, labels)
//! is escaped here, so the caller may embed the result with `|safe`.

use std::fmt::Write;

use crate::domain::Language;
use crate::locale;
use crate::time::Month;

/// What the values of a chart are, which decides the axis labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Fractions, labelled as percentages (`0.5` → `50,0%`).
    Share,
    /// Points of the 766 index, 0 to 100.
    Points,
}

impl Scale {
    /// The top of the axis before any value exceeds it.
    fn natural_max(self) -> f64 {
        match self {
            Scale::Share => 1.0,
            Scale::Points => 100.0,
        }
    }

    fn label(self, v: f64, lang: Language) -> String {
        match self {
            Scale::Share => format!("{}%", locale::decimal(v * 100.0, 0, lang)),
            Scale::Points => locale::decimal(v, 0, lang),
        }
    }
}

/// One line: its name and one value per month of the chart (`None` where
/// the month has no data).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// A chart of monthly series over the same months.
#[derive(Clone, Debug, PartialEq)]
pub struct LineChart {
    pub title: String,
    pub months: Vec<Month>,
    pub series: Vec<Series>,
    pub scale: Scale,
}

/// Dash patterns, one per series in turn (solid first).
const DASHES: [&str; 4] = ["", "8 4", "2 3", "10 3 2 3"];
const MARKERS: [Marker; 4] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
}

const WIDTH: f64 = 880.0;
const PLOT_LEFT: f64 = 56.0;
const PLOT_RIGHT: f64 = 860.0;
const PLOT_TOP: f64 = 34.0;
const PLOT_BOTTOM: f64 = 214.0;
const LEGEND_ROW: f64 = 18.0;
/// Horizontal lines of the grid, the axis's bottom included.
const TICKS: usize = 4;

/// A month as the chart labels it: `T11/2026` in Vietnamese, `11/2026` in
/// English.
pub fn month_label(m: Month, lang: Language) -> String {
    match lang {
        Language::Vi => format!("T{}/{}", m.number(), m.year()),
        Language::En => format!("{}/{}", m.number(), m.year()),
    }
}

/// The words a chart without any data shows.
pub fn no_data_words(lang: Language) -> &'static str {
    match lang {
        Language::Vi => "Chưa có dữ liệu cho các tháng này.",
        Language::En => "No data for these months yet.",
    }
}

/// The chart as an SVG element, or, when no series has a single value, a
/// paragraph that says there is no data.
pub fn line_chart(chart: &LineChart, lang: Language) -> String {
    let has_data = chart
        .series
        .iter()
        .any(|s| s.values.iter().any(|v| v.is_some_and(f64::is_finite)));
    if !has_data {
        return format!(
            "<p class=\"chart-empty\"><strong>{}</strong>: {}</p>",
            escape(&chart.title),
            no_data_words(lang)
        );
    }
    let top = axis_max(chart);
    let legend_rows = chart.series.len() as f64;
    let height = PLOT_BOTTOM + 40.0 + legend_rows * LEGEND_ROW;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" \
         viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\">\
         <title>{t}</title>\
         <text x=\"{PLOT_LEFT}\" y=\"18\" font-weight=\"bold\">{t}</text>",
        t = escape(&chart.title)
    );
    grid(&mut out, chart.scale, top, lang);
    month_axis(&mut out, &chart.months, lang);
    for (i, s) in chart.series.iter().enumerate() {
        line(&mut out, s, chart.months.len(), top, i);
    }
    legend(&mut out, &chart.series);
    out.push_str("</svg>");
    out
}

/// The axis's top: the scale's natural maximum, or above it in quarter
/// steps when a value exceeds it (electronic results may pass 100%).
fn axis_max(chart: &LineChart) -> f64 {
    let natural = chart.scale.natural_max();
    let highest = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    if highest <= natural {
        return natural;
    }
    let step = natural / TICKS as f64;
    (highest / step).ceil() * step
}

fn y_of(v: f64, top: f64) -> f64 {
    let v = v.clamp(0.0, top);
    PLOT_BOTTOM - v / top * (PLOT_BOTTOM - PLOT_TOP)
}

fn x_of(i: usize, n: usize) -> f64 {
    let step = (PLOT_RIGHT - PLOT_LEFT) / n.max(1) as f64;
    PLOT_LEFT + step * (i as f64 + 0.5)
}

fn grid(out: &mut String, scale: Scale, top: f64, lang: Language) {
    for k in 0..=TICKS {
        let v = top * k as f64 / TICKS as f64;
        let y = y_of(v, top);
        let stroke = if k == 0 { "#000" } else { "#bbb" };
        let _ = write!(
            out,
            "<line x1=\"{PLOT_LEFT}\" y1=\"{y:.1}\" x2=\"{PLOT_RIGHT}\" y2=\"{y:.1}\" \
             stroke=\"{stroke}\" stroke-width=\"1\"/>\
             <text x=\"{x:.1}\" y=\"{ty:.1}\" text-anchor=\"end\">{label}</text>",
            x = PLOT_LEFT - 6.0,
            ty = y + 4.0,
            label = escape(&scale.label(v, lang)),
        );
    }
    let _ = write!(
        out,
        "<line x1=\"{PLOT_LEFT}\" y1=\"{PLOT_TOP}\" x2=\"{PLOT_LEFT}\" y2=\"{PLOT_BOTTOM}\" \
         stroke=\"#000\" stroke-width=\"1\"/>"
    );
}

fn month_axis(out: &mut String, months: &[Month], lang: Language) {
    for (i, m) in months.iter().enumerate() {
        let _ = write!(
            out,
            "<text x=\"{x:.1}\" y=\"{y}\" text-anchor=\"middle\">{label}</text>",
            x = x_of(i, months.len()),
            y = PLOT_BOTTOM + 16.0,
            label = escape(&month_label(*m, lang)),
        );
    }
}

/// One series: a polyline per run of months with data (a month without
/// data breaks the line), and a marker on every month with data.
fn line(out: &mut String, s: &Series, months: usize, top: f64, index: usize) {
    let dash = DASHES[index % DASHES.len()];
    let marker = MARKERS[index % MARKERS.len()];
    let dash_attr = if dash.is_empty() {
        String::new()
    } else {
        format!(" stroke-dasharray=\"{dash}\"")
    };
    let points: Vec<Option<(f64, f64)>> = (0..months)
        .map(|i| {
            s.values
                .get(i)
                .copied()
                .flatten()
                .filter(|v| v.is_finite())
                .map(|v| (x_of(i, months), y_of(v, top)))
        })
        .collect();
    let _ = write!(out, "<g class=\"series\" data-series=\"{index}\">");
    for run in points.split(Option::is_none).filter(|r| r.len() > 1) {
        let coords: Vec<String> = run
            .iter()
            .flatten()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        let _ = write!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#000\" stroke-width=\"2\"{dash_attr}/>",
            coords.join(" ")
        );
    }
    for (x, y) in points.iter().flatten() {
        draw_marker(out, marker, *x, *y, "point");
    }
    out.push_str("</g>");
}

/// A marker; `class` tells a data point (`point`) from a legend's (`key`).
fn draw_marker(out: &mut String, marker: Marker, x: f64, y: f64, class: &str) {
    let _ = match marker {
        Marker::Circle => write!(
            out,
            "<circle class=\"{class}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"#000\"/>"
        ),
        Marker::Square => write!(
            out,
            "<rect class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" \
             fill=\"#fff\" stroke=\"#000\" stroke-width=\"1.5\"/>",
            x - 4.0,
            y - 4.0
        ),
        Marker::Triangle => write!(
            out,
            "<polygon class=\"{class}\" points=\"{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\" fill=\"#000\"/>",
            x,
            y - 5.0,
            x - 5.0,
            y + 4.0,
            x + 5.0,
            y + 4.0
        ),
        Marker::Diamond => write!(
            out,
            "<polygon class=\"{class}\" points=\"{:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\" \
             fill=\"#fff\" stroke=\"#000\" stroke-width=\"1.5\"/>",
            x,
            y - 5.0,
            x + 5.0,
            y,
            x,
            y + 5.0,
            x - 5.0,
            y
        ),
    };
}

/// Under the plot, one row per series: a stretch of its line with its
/// marker, and its name.
fn legend(out: &mut String, series: &[Series]) {
    for (i, s) in series.iter().enumerate() {
        let y = PLOT_BOTTOM + 40.0 + i as f64 * LEGEND_ROW - 6.0;
        let dash = DASHES[i % DASHES.len()];
        let dash_attr = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        let (x1, x2) = (PLOT_LEFT, PLOT_LEFT + 40.0);
        let _ = write!(
            out,
            "<g class=\"legend\"><line x1=\"{x1}\" y1=\"{y:.1}\" x2=\"{x2}\" y2=\"{y:.1}\" \
             stroke=\"#000\" stroke-width=\"2\"{dash_attr}/>"
        );
        draw_marker(out, MARKERS[i % MARKERS.len()], (x1 + x2) / 2.0, y, "key");
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
            x2 + 8.0,
            y + 4.0,
            escape(&s.name)
        );
    }
}

/// Text made safe inside SVG (XML) content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
