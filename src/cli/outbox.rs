//! `outbox`: the e-mails queued, sent or dead, and requeueing one.

use clap::{Subcommand, ValueEnum};

use crate::config::Settings;
use crate::notify::outbox_view::{self, Requeue};
use crate::storage::Store;

use super::error::{CliError, CliResult};
use super::load::open_store;
use super::output::{Format, print_json};

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// E-mails, newest first. Recipients are shown by domain only unless
    /// --show-recipients is given (text and JSON alike).
    List {
        #[arg(long, value_enum)]
        status: Option<OutboxStatus>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Show full recipient addresses, not only their domains.
        #[arg(long)]
        show_recipients: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Requeue a dead (or pending) e-mail: attempts reset, due now. Refused
    /// for an e-mail already sent or being sent right now.
    Retry { id: i64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutboxStatus {
    Pending,
    Sent,
    Dead,
}

impl OutboxStatus {
    fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Dead => "dead",
        }
    }
}

/// `par-monitor outbox …`.
pub async fn run(settings: Settings, command: OutboxCommand) -> CliResult {
    let store = open_store(&settings).await?;
    match command {
        OutboxCommand::List {
            status,
            limit,
            show_recipients,
            format,
        } => list(&store, status, limit, show_recipients, format).await,
        OutboxCommand::Retry { id } => retry(&store, id, &settings).await,
    }
}

async fn list(
    store: &Store,
    status: Option<OutboxStatus>,
    limit: u32,
    show_recipients: bool,
    format: Format,
) -> CliResult {
    let now = chrono::Utc::now();
    let rows = store
        .outbox_page(status.map(OutboxStatus::as_str), i64::from(limit))
        .await?;
    let items: Vec<_> = rows
        .iter()
        .map(|e| outbox_view::Item::of(e, now, show_recipients))
        .collect();
    match format {
        Format::Json => print_json(&items),
        Format::Text => {
            if items.is_empty() {
                println!("Hộp thư đi trống (no e-mails match).");
            }
            for item in &items {
                println!("{}", item.text());
            }
        }
    }
    Ok(())
}

/// Requeues the e-mail unless it is sent or in flight; a worker that takes
/// it meanwhile wins.
async fn retry(store: &Store, id: i64, settings: &Settings) -> CliResult {
    let now = chrono::Utc::now();
    let email = store.outbox_email(id).await?;
    let email = match outbox_view::requeue_verdict(email.as_ref(), now) {
        Requeue::Refuse(why) => return Err(CliError::usage(why)),
        Requeue::Go(email) => email,
    };
    if store.requeue_email(email, now).await? {
        println!(
            "{}",
            outbox_view::requeued_text(email, settings.email.poll_interval)
        );
        Ok(())
    } else {
        Err(CliError::failure(anyhow::anyhow!(
            "e-mail #{id} changed while it was being requeued (a worker claimed or finished it); look again with `outbox list`"
        )))
    }
}
