//! `digest preview`: a digest rendered as HTML, sent to no one.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::{Subcommand, ValueEnum};

use crate::config::Settings;
use crate::digest::DigestKind;
use crate::domain::Language;

use super::error::{CliError, CliResult};
use super::load::open;

#[derive(Debug, Subcommand)]
pub enum DigestCommand {
    /// Render the latest complete period's digest as HTML without sending
    /// it (the chart embedded in the page). Leadership's version, or with
    /// --unit that unit head's; never the inspection team's proposal.
    Preview {
        #[arg(long, value_enum, default_value_t = DigestKindArg::Daily)]
        kind: DigestKindArg,
        /// A unit head's digest: that unit's own data only.
        #[arg(long)]
        unit: Option<String>,
        #[arg(long, value_enum, default_value_t = LangArg::Vi)]
        lang: LangArg,
        /// Write the HTML here instead of standard output.
        #[arg(long, value_name = "FILE.html")]
        to: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DigestKindArg {
    Daily,
    Weekly,
    Monthly,
}

impl From<DigestKindArg> for DigestKind {
    fn from(kind: DigestKindArg) -> DigestKind {
        match kind {
            DigestKindArg::Daily => DigestKind::Daily,
            DigestKindArg::Weekly => DigestKind::Weekly,
            DigestKindArg::Monthly => DigestKind::Monthly,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    Vi,
    En,
}

impl From<LangArg> for Language {
    fn from(lang: LangArg) -> Language {
        match lang {
            LangArg::Vi => Language::Vi,
            LangArg::En => Language::En,
        }
    }
}

/// `par-monitor digest preview`.
pub async fn run(settings: Settings, command: DigestCommand) -> CliResult {
    let DigestCommand::Preview {
        kind,
        unit,
        lang,
        to,
    } = command;
    preview(
        settings,
        kind.into(),
        unit.as_deref(),
        lang.into(),
        to.as_deref(),
    )
    .await
}

async fn preview(
    settings: Settings,
    kind: DigestKind,
    unit: Option<&str>,
    lang: Language,
    to: Option<&Path>,
) -> CliResult {
    let app = open(settings).await?;
    if let Some(code) = unit
        && !app
            .store
            .units()
            .await?
            .iter()
            .any(|u| u.code.as_str() == code)
    {
        return Err(CliError::usage(format!(
            "--unit {code}: no such unit in the unit directory"
        )));
    }
    let html =
        crate::digest::run::preview(&app.context(), kind, unit, lang, app.clock.now()).await?;
    match to {
        None => print!("{html}"),
        Some(path) => {
            std::fs::write(path, html)
                .map_err(|e| CliError::failure(anyhow!("cannot write {}: {e}", path.display())))?;
            eprintln!("digest written to {}", path.display());
        }
    }
    Ok(())
}
