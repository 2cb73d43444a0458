//! `export findings|indicators`: the tables people open in Excel, as
//! `.xlsx` or as CSV with a byte-order mark, written to a file.

use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};

use crate::config::Settings;
use crate::workflow::Filter;

use super::error::{CliError, CliResult};
use super::findings::{parse_severity, parse_state};
use super::indicators::parse_period;
use super::load::open;

/// A table's file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Xlsx,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The findings `findings list` lists for the same filters, newest first.
    Findings {
        #[arg(long)]
        unit: Option<String>,
        #[arg(long, value_parser = parse_state)]
        state: Option<crate::findings::State>,
        #[arg(long, value_parser = parse_severity)]
        severity: Option<crate::domain::Severity>,
        /// Include resolved findings.
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum)]
        format: TableFormat,
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Every indicator of every unit for a period, with numerator and
    /// denominator, as `indicators` computes them.
    Indicators {
        /// 2026-08, 2026-Q3, 2026, 2026-YTD-08, W2026-08, R30D-20260820; default: this month.
        #[arg(long)]
        period: Option<String>,
        #[arg(long, value_enum)]
        format: TableFormat,
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
}

/// `par-monitor export …`.
pub async fn run(settings: Settings, command: ExportCommand) -> CliResult {
    let app = open(settings).await?;
    let now = app.clock.now();
    let live = app.live();
    let (table, format, to) = match command {
        ExportCommand::Findings {
            unit,
            state,
            severity,
            all,
            format,
            to,
        } => {
            let units = app.store.units().await?;
            if let Some(u) = &unit
                && !units.iter().any(|x| x.code.as_str() == u)
            {
                return Err(CliError::usage(format!(
                    "--unit: no unit {u} in the unit directory"
                )));
            }
            let filter = Filter {
                unit,
                state,
                severity,
                include_resolved: all,
                ..Filter::default()
            };
            let rows = crate::tables::findings_newest_first(&app.store, &filter).await?;
            let table = crate::tables::findings_table(&rows, &units, &live.rules);
            (table, format, to)
        }
        ExportCommand::Indicators { period, format, to } => {
            let period = parse_period(period.as_deref(), now)?;
            let overview =
                crate::overview::compute_period(&app.store, &live, period, now, None).await?;
            let table =
                crate::tables::indicators_table(&period, &overview.units, &overview.coverage);
            (table, format, to)
        }
    };
    let bytes = match format {
        TableFormat::Xlsx => crate::export::to_xlsx(&table),
        TableFormat::Csv => crate::export::to_csv(&table),
    }
    .map_err(CliError::failure)?;
    write_file(&to, &bytes)?;
    eprintln!("{}: {} dòng", to.display(), table.rows.len());
    Ok(())
}

/// Writes `bytes` to `to`, or says which file could not be written and why.
pub(super) fn write_file(to: &Path, bytes: &[u8]) -> CliResult {
    std::fs::write(to, bytes).map_err(|e| {
        CliError::failure(anyhow::anyhow!(
            "--to {}: cannot write the file: {e}",
            to.display()
        ))
    })
}
