//! The grouping worker: the I/O shell around [`grouping::plan`].
//!
//! Each run reads the pending notifications, the recipients' last send
//! times and the sources that are down, asks `plan` what is due, and for
//! each recipient writes one grouped outbox e-mail and marks its
//! notifications sent (or cancels them) in one transaction. The e-mail's
//! dedup key comes from the notification ids it tells, so a crash and a
//! retry, or two instances, never queue it twice. It also reminds
//! recipients of findings still open after `repeat_interval`, and tells
//! the inspection team, once per outage, that a source is down (its
//! alerts are held meanwhile) and when it is back.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::compose::{Alert, GroupMode};
use super::grouping::{self, Pending, RecipientState, Step, Timing};
use crate::domain::{EmailAddress, Language, Recipient, Severity, Unit, UnitCode};
use crate::findings::{EventKind, Evidence, State};
use crate::live::Live;
use crate::storage::{FindingRecord, NewEmail, Notification, Store};

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlertReport {
    /// Grouped e-mails queued.
    pub emails: u32,
    /// Notifications told in them.
    pub notifications_sent: u32,
    /// Notifications dropped (opened and resolved within the wait).
    pub cancelled: u32,
    /// Notifications held because their source is down.
    pub held: u32,
    /// Reminders of findings still open.
    pub repeats: u32,
    /// Source-down and source-back notices queued.
    pub source_notices: u32,
}

/// Why a source counts as down, and since when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outage {
    pub since: DateTime<Utc>,
    /// The last poll failed. Otherwise the data is only stale (for example
    /// right after a restart, before the first poll): alerts are held, but
    /// no one is told of an outage.
    pub failing: bool,
}

/// Sources that are down now: the last poll failed, or the data is older
/// than the source's staleness limit.
pub async fn down_sources(
    store: &Store,
    ev: &Live,
    now: DateTime<Utc>,
) -> anyhow::Result<BTreeMap<String, Outage>> {
    let mut out = BTreeMap::new();
    for s in store.source_states().await? {
        let Some(settings) = ev.settings.sources.get(&s.source) else {
            continue;
        };
        if !settings.enabled {
            continue;
        }
        let stale_after = chrono::Duration::from_std(settings.stale_after(now))?;
        let failing = s.health.is_failing();
        let stale = s.data_as_of.is_none_or(|t| now - t > stale_after);
        if !(failing || stale) {
            continue;
        }
        let since = if failing {
            store
                .source_events(&s.source)
                .await?
                .into_iter()
                .rev()
                .find(|e| e.health == s.health)
                .map(|e| e.at)
        } else {
            s.data_as_of.map(|t| t + stale_after)
        };
        let since = since.or(s.last_attempt_at).unwrap_or(now);
        out.insert(s.source.clone(), Outage { since, failing });
    }
    Ok(out)
}

/// One run of the worker at `now`.
pub async fn run(store: &Store, ev: &Live, now: DateTime<Utc>) -> anyhow::Result<AlertReport> {
    let mut report = AlertReport::default();
    let timing = ev.settings.email.grouping.timing();
    let down = down_sources(store, ev, now).await?;
    let down_set: HashSet<String> = down.keys().cloned().collect();
    let mut pending = store.pending_notifications().await?;
    report.source_notices = source_notices(store, ev, &down, &pending, now).await?;
    let last_sent = store.alert_recipients().await?;
    // Most runs have nothing to do: no notification waits and no reminder
    // is due. They end here, without reading findings and units.
    if pending.is_empty()
        && !last_sent
            .values()
            .any(|t| now >= *t + timing.repeat_interval)
    {
        return Ok(report);
    }
    let round = Round {
        store,
        ctx: Lookup::load(store, ev).await?,
        last_sent: &last_sent,
        down: &down_set,
        timing: &timing,
        now,
    };
    report.cancelled += round.cancel_silenced(&mut pending).await?;
    report.held = pending
        .iter()
        .filter(|n| down_set.contains(&n.source))
        .count() as u32;
    round.send_groups(&pending, &mut report).await?;
    report.repeats = round.send_reminders(&pending).await?;
    Ok(report)
}

/// What one run that has work reads once and every step uses.
struct Round<'r> {
    store: &'r Store,
    ctx: Lookup<'r>,
    /// When each recipient was last sent an alert e-mail.
    last_sent: &'r BTreeMap<EmailAddress, DateTime<Utc>>,
    down: &'r HashSet<String>,
    timing: &'r Timing,
    now: DateTime<Utc>,
}

impl Round<'_> {
    /// Cancels the pending notifications of findings silenced since they
    /// were written (a resolution is still told), and returns how many.
    async fn cancel_silenced(&self, pending: &mut Vec<Notification>) -> anyhow::Result<u32> {
        let mut silenced: BTreeMap<EmailAddress, Vec<i64>> = BTreeMap::new();
        pending.retain(|n| {
            let muted = !matches!(n.kind, EventKind::Resolved | EventKind::ResolvedManually)
                && self
                    .ctx
                    .findings
                    .get(&n.finding_id)
                    .is_some_and(|f| f.state == State::Silenced);
            if muted {
                silenced.entry(n.recipient.clone()).or_default().push(n.id);
            }
            !muted
        });
        let mut cancelled = 0;
        for (recipient, ids) in silenced {
            if self
                .store
                .commit_alert_group(&recipient, &[], &ids, None, self.now)
                .await?
            {
                cancelled += ids.len() as u32;
            }
        }
        Ok(cancelled)
    }

    /// Asks [`grouping::plan`] what is due and carries it out: one grouped
    /// e-mail per recipient, its notifications marked sent (or cancelled)
    /// in the same transaction.
    async fn send_groups(
        &self,
        pending: &[Notification],
        report: &mut AlertReport,
    ) -> anyhow::Result<()> {
        let states: BTreeMap<EmailAddress, RecipientState> = self
            .last_sent
            .iter()
            .map(|(r, t)| {
                (
                    r.clone(),
                    RecipientState {
                        last_sent_at: Some(*t),
                    },
                )
            })
            .collect();
        let plan_input: Vec<Pending> = pending
            .iter()
            .map(|n| Pending {
                id: n.id,
                recipient: n.recipient.clone(),
                finding_id: n.finding_id,
                kind: n.kind,
                source: n.source.clone(),
                created_at: n.created_at,
            })
            .collect();
        let steps = grouping::plan(&plan_input, &states, self.down, self.timing, self.now);
        let by_id: HashMap<i64, &Notification> = pending.iter().map(|n| (n.id, n)).collect();
        for step in steps {
            match step {
                Step::Cancel { recipient, cancel } => {
                    if self
                        .store
                        .commit_alert_group(&recipient, &[], &cancel, None, self.now)
                        .await?
                    {
                        report.cancelled += cancel.len() as u32;
                    }
                }
                Step::Send {
                    recipient,
                    include,
                    cancel,
                } => {
                    let told: Vec<&Notification> = include
                        .iter()
                        .filter_map(|id| by_id.get(id).copied())
                        .collect();
                    self.send_group(&recipient, &told, &include, &cancel, report)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// One grouped e-mail telling `recipient` of `told` (the notifications
    /// `include` names), with `cancel` dropped in the same transaction.
    async fn send_group(
        &self,
        recipient: &EmailAddress,
        told: &[&Notification],
        include: &[i64],
        cancel: &[i64],
        report: &mut AlertReport,
    ) -> anyhow::Result<()> {
        let to = Recipient {
            address: recipient.clone(),
            language: told.last().map_or(Language::Vi, |n| n.language),
        };
        let items: Vec<Told<'_>> = told
            .iter()
            .map(|n| Told {
                finding_id: n.finding_id,
                kind: n.kind,
                severity: n.severity,
                evidence: &n.evidence,
                at: n.created_at,
            })
            .collect();
        let key = format!("alert-group:{}", digest(recipient, include));
        let mail = self
            .ctx
            .mail(&items, GroupMode::Changes, &to, key, self.now)?;
        if self
            .store
            .commit_alert_group(recipient, include, cancel, Some(&mail), self.now)
            .await?
        {
            tracing::info!(
                recipient_domain = to.address.domain(),
                notifications = include.len(),
                cancelled = cancel.len(),
                "alert e-mail queued"
            );
            report.emails += 1;
            report.notifications_sent += include.len() as u32;
            report.cancelled += cancel.len() as u32;
        }
        Ok(())
    }

    /// Reminds each recipient of the findings they were told are open and
    /// still are, once `repeat_interval` has passed, unless their source is
    /// down or something new is on its way anyway. Returns how many
    /// reminders were queued.
    async fn send_reminders(&self, pending: &[Notification]) -> anyhow::Result<u32> {
        let waiting: HashSet<&EmailAddress> = pending.iter().map(|n| &n.recipient).collect();
        let mut open: BTreeMap<EmailAddress, Vec<(i64, Language)>> = BTreeMap::new();
        for t in self.store.open_told_findings().await? {
            if self.down.contains(&t.source) || waiting.contains(&t.recipient) {
                continue;
            }
            open.entry(t.recipient)
                .or_default()
                .push((t.finding_id, t.language));
        }
        let mut repeats = 0;
        for (recipient, findings) in open {
            let Some(last) = self.last_sent.get(&recipient).copied() else {
                continue;
            };
            let state = RecipientState {
                last_sent_at: Some(last),
            };
            if !grouping::repeat_due(&state, !findings.is_empty(), self.timing, self.now) {
                continue;
            }
            if self.send_reminder(&recipient, &findings, last).await? {
                repeats += 1;
            }
        }
        Ok(repeats)
    }

    /// The reminder to `recipient` of `findings` (with the language each
    /// was told in), keyed by their last e-mail at `last`. Whether it was
    /// queued.
    async fn send_reminder(
        &self,
        recipient: &EmailAddress,
        findings: &[(i64, Language)],
        last: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let to = Recipient {
            address: recipient.clone(),
            language: findings.last().map_or(Language::Vi, |f| f.1),
        };
        let items: Vec<Told<'_>> = findings
            .iter()
            .filter_map(|(id, _)| self.ctx.findings.get(id))
            .map(|f| Told {
                finding_id: f.id,
                kind: EventKind::Opened,
                severity: f.severity,
                evidence: &f.last_detail,
                at: f.updated_at,
            })
            .collect();
        if items.is_empty() {
            return Ok(false);
        }
        let told: Vec<i64> = items.iter().map(|t| t.finding_id).collect();
        let key = format!(
            "alert-repeat:{}:{}",
            digest(recipient, &[]),
            last.timestamp()
        );
        let mail = self
            .ctx
            .mail(&items, GroupMode::Reminder, &to, key, self.now)?;
        let queued = self
            .store
            .commit_alert_repeat(recipient, last, &told, &mail, self.now)
            .await?;
        if queued {
            tracing::info!(
                recipient_domain = to.address.domain(),
                findings = items.len(),
                "reminder of open findings queued"
            );
        }
        Ok(queued)
    }
}

/// Announces each new outage, and each end of one, to the inspection team:
/// one e-mail per language, whatever the number of units concerned.
async fn source_notices(
    store: &Store,
    ev: &Live,
    down: &BTreeMap<String, Outage>,
    pending: &[Notification],
    now: DateTime<Utc>,
) -> anyhow::Result<u32> {
    let team = &ev.settings.email.inspection_team;
    let open: BTreeMap<String, DateTime<Utc>> =
        store.open_source_outages().await?.into_iter().collect();
    let mut queued = 0;
    let mut by_language: BTreeMap<Language, Vec<EmailAddress>> = BTreeMap::new();
    for r in team {
        by_language
            .entry(r.language)
            .or_default()
            .push(r.address.clone());
    }
    let notice = |source: &str, back: bool, since: DateTime<Utc>, held: usize| {
        by_language
            .iter()
            .map(|(language, to)| {
                let key = format!(
                    "source-{}:{source}:{}:{}",
                    if back { "back" } else { "down" },
                    since.timestamp(),
                    language.as_str()
                );
                ev.composer
                    .source_notice(source, back, since, held, *language, to, key, now)
            })
            .collect::<Result<Vec<NewEmail>, _>>()
    };
    for (source, outage) in down {
        if !outage.failing || open.contains_key(source) {
            continue;
        }
        let since = outage.since;
        let held = pending.iter().filter(|n| &n.source == source).count();
        let mails = notice(source, false, since, held)?;
        store.record_source_down(source, since, &mails, now).await?;
        tracing::warn!(source = %source, held, "source down: its alerts are held; the inspection team is told");
        queued += mails.len() as u32;
    }
    for (source, since) in &open {
        if down.contains_key(source) {
            continue;
        }
        let mails = notice(source, true, *since, 0)?;
        store
            .record_source_back(source, *since, &mails, now)
            .await?;
        tracing::info!(source = %source, "source back: held alerts are released");
        queued += mails.len() as u32;
    }
    Ok(queued)
}

/// A short, stable digest of a recipient and notification ids.
fn digest(recipient: &EmailAddress, ids: &[i64]) -> String {
    let mut h = Sha256::new();
    h.update(recipient.as_str().as_bytes());
    for id in ids {
        h.update(b",");
        h.update(id.to_string().as_bytes());
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One finding a grouped e-mail tells of: a change, or for a reminder its
/// latest state.
struct Told<'n> {
    finding_id: i64,
    kind: EventKind,
    severity: Severity,
    /// The evidence as stored.
    evidence: &'n serde_json::Value,
    at: DateTime<Utc>,
}

/// Findings, units and rules by key, for composing.
struct Lookup<'e> {
    ev: &'e Live,
    findings: HashMap<i64, FindingRecord>,
    units: HashMap<String, Unit>,
}

impl<'e> Lookup<'e> {
    async fn load(store: &Store, ev: &'e Live) -> anyhow::Result<Lookup<'e>> {
        Ok(Lookup {
            ev,
            findings: store
                .findings()
                .await?
                .into_iter()
                .map(|f| (f.id, f))
                .collect(),
            units: store
                .units()
                .await?
                .into_iter()
                .map(|u| (u.code.to_string(), u))
                .collect(),
        })
    }

    /// The unit of a finding; a unit no longer in the directory is known
    /// by its code.
    fn unit_of_finding(&self, finding_id: i64) -> Unit {
        let code = self
            .findings
            .get(&finding_id)
            .map(|f| f.unit_code.as_str().to_owned())
            .unwrap_or_default();
        self.units.get(&code).cloned().unwrap_or_else(|| Unit {
            code: UnitCode::parse(&code)
                .unwrap_or_else(|_| UnitCode::parse("H00").expect("valid code")),
            name: code.clone(),
            kind: None,
            parent: None,
            head_email: None,
        })
    }

    /// The grouped e-mail telling `to` of `told`, in `mode`.
    fn mail(
        &self,
        told: &[Told<'_>],
        mode: GroupMode,
        to: &Recipient,
        dedup_key: String,
        now: DateTime<Utc>,
    ) -> anyhow::Result<NewEmail> {
        let evidence: Vec<Evidence> = told
            .iter()
            .map(|t| serde_json::from_value(t.evidence.clone()))
            .collect::<Result<_, _>>()?;
        let units: Vec<Unit> = told
            .iter()
            .map(|t| self.unit_of_finding(t.finding_id))
            .collect();
        let alerts: Vec<Alert<'_>> = told
            .iter()
            .zip(&evidence)
            .zip(&units)
            .map(|((t, e), u)| self.alert(t.finding_id, t.kind, u, t.severity, e, t.at))
            .collect();
        let evidence_url = self.ev.settings.evidence_url();
        Ok(self.ev.composer.alert_group(
            &alerts,
            mode,
            to,
            dedup_key,
            evidence_url.as_deref(),
            now,
        )?)
    }

    fn alert<'a>(
        &'a self,
        finding_id: i64,
        kind: EventKind,
        unit: &'a Unit,
        severity: Severity,
        evidence: &'a Evidence,
        at: DateTime<Utc>,
    ) -> Alert<'a> {
        let rule_id = self
            .findings
            .get(&finding_id)
            .map_or("", |f| f.rule_id.as_str());
        Alert {
            finding_id,
            kind,
            unit,
            rule: self
                .ev
                .rules
                .rules
                .iter()
                .find(|r| r.id.as_str() == rule_id),
            rule_id,
            severity,
            evidence,
            at,
        }
    }
}
