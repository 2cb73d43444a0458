//! The figures: `indicators` (a period's indicators and 766 index per unit,
//! from the stored records) and `score766` (the index from counts given in
//! a file).

use std::path::Path;

use crate::config::Settings;
use crate::periods::Period;

use super::error::{CliError, CliResult};
use super::load::open;
use super::output::{Format, print_json};

/// `par-monitor score766 --counts FILE`.
pub fn score766(path: &Path, format: Format) -> CliResult {
    use crate::score766::{Bands, parse_counts_file, score_unit, to_json, to_text};
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
    let units = parse_counts_file(&text)
        .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
    let bands = Bands::default();
    let results: Vec<_> = units
        .into_iter()
        .map(|u| {
            let score = score_unit(&u.counts, &bands);
            (u, score)
        })
        .collect();
    match format {
        Format::Json => print_json(&to_json(&results)),
        Format::Text => print!("{}", to_text(&results)),
    }
    Ok(())
}

/// `--period P` as the figures' commands take it; none: this month.
pub(super) fn parse_period(
    period: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Period, CliError> {
    match period {
        None => Ok(crate::time::Month::containing(now).into()),
        Some(p) => p
            .parse()
            .map_err(|e| CliError::usage(format!("--period: {e}"))),
    }
}

/// `par-monitor indicators [--unit U] [--period P]`: the province first,
/// then the unit asked for (or every unit); the sources whose data does not
/// cover the period are named, their figures left out.
pub async fn indicators(
    settings: Settings,
    unit: Option<&str>,
    period: Option<&str>,
    format: Format,
) -> CliResult {
    let app = open(settings).await?;
    let now = app.clock.now();
    let period = parse_period(period, now)?;
    let live = app.live();
    let overview = crate::overview::compute_period(&app.store, &live, period, now, None).await?;
    let rows: Vec<_> = overview
        .units
        .into_iter()
        .enumerate()
        .filter(|(i, r)| *i == 0 || unit.is_none_or(|u| r.code == u))
        .map(|(_, r)| r)
        .collect();
    if let Some(u) = unit
        && rows.iter().all(|r| r.code != u)
    {
        return Err(CliError::usage(format!("no unit {u}")));
    }
    let gaps = &overview.coverage.gaps;
    match format {
        Format::Json => {
            let missing: Vec<serde_json::Value> = gaps
                .iter()
                .map(|(source, gap)| {
                    serde_json::json!({
                        "source": source,
                        "name": source.name(crate::domain::Language::Vi),
                        "reason": gap.reason(crate::domain::Language::Vi),
                    })
                })
                .collect();
            print_json(&serde_json::json!({
                "period": period.id(),
                "units": rows,
                "sources_without_data": missing,
            }))
        }
        Format::Text => print!("{}", indicators_text(&period.id(), &rows, gaps)),
    }
    Ok(())
}

fn indicators_text(
    period: &str,
    rows: &[crate::overview::UnitOverview],
    gaps: &std::collections::BTreeMap<crate::domain::SourceId, crate::coverage::Gap>,
) -> String {
    use crate::domain::Language::Vi;
    use crate::indicators::IndicatorId;
    use crate::locale::{no_data, percent, points};
    use std::fmt::Write;
    let mut out = String::new();
    for (source, gap) in gaps {
        let _ = writeln!(
            out,
            "Lưu ý: chưa có dữ liệu từ {} ({}); các chỉ số dựa trên nguồn này để trống.",
            source.name(Vi),
            gap.reason(Vi)
        );
    }
    if !gaps.is_empty() {
        out.push('\n');
    }
    for r in rows {
        let _ = writeln!(out, "{} {} — kỳ {period}", r.code, r.name);
        for &indicator in IndicatorId::ALL {
            let Some(v) = r.values.iter().find(|v| v.indicator == indicator) else {
                let _ = writeln!(out, "  {:<54} {:>8}", indicator.name_vi(), no_data(Vi));
                continue;
            };
            let shown = match v.ratio.value() {
                None => "–".to_owned(),
                Some(x) if v.indicator.is_share() => percent(x, Vi),
                Some(x) => crate::locale::decimal(x, 1, Vi),
            };
            let _ = writeln!(
                out,
                "  {:<54} {:>8}  ({}/{})",
                v.indicator.name_vi(),
                shown,
                v.ratio.numerator,
                v.ratio.denominator
            );
        }
        let _ = writeln!(
            out,
            "  Chỉ số 766: {}{}",
            r.score.summary(Vi),
            r.official_total
                .map(|t| format!(" (Cổng DVCQG: {} điểm)", points(t, Vi)))
                .unwrap_or_default()
        );
        for (g, s) in &r.score.groups {
            let cmp = r.comparison.iter().find(|c| c.group == *g);
            let _ = writeln!(
                out,
                "    {:<36} {:>6}{}",
                g.name_vi(),
                s.map(|x| points(x, Vi))
                    .unwrap_or_else(|| no_data(Vi).to_owned()),
                cmp.and_then(|c| c.official.map(|o| format!(
                    "   cổng {}{}",
                    points(o, Vi),
                    c.difference
                        .map(|d| format!(
                            ", chênh {}{}",
                            if d >= 0.0 { "+" } else { "" },
                            points(d, Vi)
                        ))
                        .unwrap_or_default()
                )))
                .unwrap_or_default()
            );
        }
        out.push('\n');
    }
    out
}
