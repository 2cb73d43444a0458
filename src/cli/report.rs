//! `report`: a unit's inspection report for a period, as a Word document
//! for the team to edit and sign.

use std::path::Path;

use crate::config::Settings;
use crate::domain::UnitCode;
use crate::unit_report::UnitReportError;

use super::error::{CliError, CliResult};
use super::export::write_file;
use super::indicators::parse_period;
use super::load::open;

/// `par-monitor report --unit CODE --period P --to FILE.docx`.
pub async fn report(settings: Settings, unit: &str, period: Option<&str>, to: &Path) -> CliResult {
    let code = UnitCode::parse(unit).map_err(|e| CliError::usage(format!("--unit: {}", e)))?;
    let app = open(settings).await?;
    let now = app.clock.now();
    let period = parse_period(period, now)?;
    let live = app.live();
    let report = crate::unit_report::build(&app.store, &live, &code, period, now)
        .await
        .map_err(|e| match e {
            UnitReportError::UnknownUnit(_) => CliError::usage(format!("--unit: {e}")),
            UnitReportError::Other(e) => CliError::failure(e),
        })?;
    let bytes = crate::report::to_docx(&report).map_err(CliError::failure)?;
    write_file(to, &bytes)?;
    eprintln!(
        "{}: báo cáo của {}, {}",
        to.display(),
        report.unit,
        report.period
    );
    Ok(())
}
