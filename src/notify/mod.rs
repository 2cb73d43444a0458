//! Notifications: composing e-mails, and delivering the outbox.
//!
//! E-mails are never sent from where they are caused. A finding transition
//! writes notification rows (one per recipient `routing` names) in its own
//! transaction; the grouping worker (`alerts`, around the pure `grouping`)
//! turns them into one outbox row per recipient and group, in one
//! transaction; other causes (proposals, digests) write their outbox row
//! directly; [`deliver_due`] later claims due rows
//! and sends them outside any transaction, with retries, backoff and a dead
//! letter. Logs carry a recipient's domain, never the full address.

pub mod alerts;
pub mod compose;
pub mod grouping;
pub mod mailer;
pub mod outbox_view;
pub mod routing;
mod sent;
mod smtp;

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::config::EmailSettings;
use crate::metrics::Metrics;
use crate::storage::Store;
use crate::time::Clock;

pub use alerts::AlertReport;
pub use compose::{Alert, Composer, GroupMode};
pub use mailer::Mailer;
pub use sent::SendError;

/// What one delivery round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: u32,
    pub retried: u32,
    pub dead: u32,
}

/// Backoff before retry number `attempt` (1-based): 30 s doubling up to an
/// hour, with ±20% jitter so that many failed e-mails do not retry in step.
pub fn backoff(attempt: i64, rng: &mut impl Rng) -> Duration {
    let exp = u32::try_from(attempt.clamp(1, 8) - 1).unwrap_or(0);
    let base = Duration::from_secs(30 * 2u64.pow(exp)).min(Duration::from_secs(3600));
    base.mul_f64(rng.random_range(0.8..1.2))
}

/// Sends every due e-mail, one claim at a time, until none is due or
/// shutdown begins. An e-mail in flight when shutdown begins is finished.
pub async fn deliver_due(
    store: &Store,
    mailer: &Mailer,
    settings: &EmailSettings,
    metrics: &Metrics,
    clock: &dyn Clock,
    shutdown: &CancellationToken,
) -> anyhow::Result<DeliveryReport> {
    let mut report = DeliveryReport::default();
    // A claim outlives the send's own timeout, so a live worker never loses
    // its claim; a dead one's claim expires and another attempt follows.
    let lease = chrono::Duration::from_std(settings.send_timeout + Duration::from_secs(60))?;
    while !shutdown.is_cancelled() {
        let Some(email) = store
            .claim_due_emails(clock.now(), lease, 1)
            .await?
            .into_iter()
            .next()
        else {
            break;
        };
        let domains: Vec<&str> = email
            .recipients
            .iter()
            .map(|r| sent::domain_of(r))
            .collect();
        let outcome = mailer.send(&email).await;
        crate::health::progress();
        let now = clock.now();
        match outcome {
            Ok(()) => {
                store.mark_email_sent(email.id, now).await?;
                metrics
                    .emails_sent_total
                    .with_label_values(&[&email.kind])
                    .inc();
                tracing::info!(email = email.id, kind = %email.kind, to = ?domains, "e-mail sent");
                report.sent += 1;
            }
            Err(SendError::Transient(err)) if email.attempts < i64::from(settings.max_attempts) => {
                let next: DateTime<Utc> =
                    now + chrono::Duration::from_std(backoff(email.attempts, &mut rand::rng()))?;
                store.mark_email_retry(email.id, next, &err).await?;
                metrics
                    .emails_failed_total
                    .with_label_values(&["retry"])
                    .inc();
                tracing::warn!(email = email.id, attempt = email.attempts, error = %err, to = ?domains, "e-mail failed; will retry");
                report.retried += 1;
            }
            Err(e) => {
                store.mark_email_dead(email.id, &e.to_string()).await?;
                metrics
                    .emails_failed_total
                    .with_label_values(&["dead"])
                    .inc();
                tracing::error!(email = email.id, attempt = email.attempts, error = %e, to = ?domains, "e-mail dead-lettered");
                report.dead += 1;
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let first = backoff(1, &mut rng);
        assert!((24..=36).contains(&first.as_secs()), "{first:?}");
        let third = backoff(3, &mut rng);
        assert!((96..=144).contains(&third.as_secs()), "{third:?}");
        let late = backoff(50, &mut rng);
        assert!(late <= Duration::from_secs(4320), "{late:?}");
    }
}
