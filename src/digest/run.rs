//! The I/O shell of digests: which are due, who gets them, gathering their
//! data from the database, and queueing them with the period recorded as
//! sent in one transaction. The daemon's digest job calls [`run_due`] at
//! start-up and on every firing of a digest schedule; `digest preview`
//! calls [`preview`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Utc};

use super::content::{FindingFact, NationalFact, ProposalFact, SourceFact};
use super::render::{DigestRenderer, email};
use super::{Audience, DigestInput, DigestKind, DigestPeriod, build, due_period};
use crate::config::Settings;
use crate::domain::{EmailAddress, Language, SourceId, Unit, UnitKind};
use crate::live::{Context, Live};
use crate::overview::{compute_period, coverage, source_facts};

/// One digest queued: its kind, period and how many e-mails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    pub kind: DigestKind,
    pub period: String,
    pub emails: usize,
}

/// Who gets a digest of `kind`, in which language and as which audience.
/// The inspection team comes first, so that someone who is both on the
/// team and in leadership gets the team's digest; each address once.
pub fn recipients(
    settings: &Settings,
    units: &[Unit],
    kind: DigestKind,
) -> Vec<(EmailAddress, Language, Audience)> {
    let d = &settings.digests;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    if d.inspection_team {
        // The team's digest carries the proposal: never to a unit head.
        let team =
            crate::notify::routing::confidential_recipients(&settings.email.inspection_team, units);
        for r in &team {
            if seen.insert(r.address.clone()) {
                out.push((r.address.clone(), r.language, Audience::InspectionTeam));
            }
        }
    }
    for r in &d.leadership {
        if seen.insert(r.address.clone()) {
            out.push((r.address.clone(), r.language, Audience::Leadership));
        }
    }
    if kind == DigestKind::Monthly && d.unit_heads {
        for u in units {
            if u.kind == Some(UnitKind::Province) {
                continue;
            }
            if let Some(head) = &u.head_email
                && seen.insert(head.clone())
            {
                out.push((
                    head.clone(),
                    settings.email.unit_head_language,
                    Audience::UnitHead(u.code.clone()),
                ));
            }
        }
    }
    out
}

/// Reads what a digest of `period` is built from, from the sources whose
/// data covers it (`run_started`: see [`crate::coverage`]). The proposal is
/// read only when asked for (an inspection-team recipient is among those
/// addressed).
pub async fn gather(
    ctx: &Context,
    period: DigestPeriod,
    now: DateTime<Utc>,
    with_proposal: bool,
    run_started: Option<DateTime<Utc>>,
) -> anyhow::Result<DigestInput> {
    let (store, live): (&crate::storage::Store, &Live) = (&ctx.store, &ctx.live);
    // A past period is judged as at its end, so that the same digest comes
    // out whenever it is computed.
    let current = compute_period(
        store,
        live,
        period.as_period(),
        period.end().min(now),
        run_started,
    )
    .await?;
    crate::health::progress();
    let prev = period.previous();
    let previous = compute_period(
        store,
        live,
        prev.as_period(),
        prev.end().min(now),
        run_started,
    )
    .await?;
    crate::health::progress();
    let risks = crate::inspections::risks(ctx, now).await?;
    let findings = finding_facts(store, live).await?;
    let states = store.source_states().await?;
    let sources = source_facts(live, &states, now)?
        .into_iter()
        .map(|f| SourceFact {
            source: f.source,
            health: f.health,
            data_as_of: f.data_as_of,
            stale: f.data_as_of.is_none_or(|t| now - t > f.stale_after),
            gap: current.coverage.gaps.get(&f.source).copied(),
        })
        .collect::<Vec<SourceFact>>();
    let national = national_fact(
        store,
        period,
        current.units.first().map(|u| u.code.as_str()),
        &sources,
    )
    .await?;
    let proposal = if with_proposal {
        latest_proposal(store).await?
    } else {
        None
    };
    Ok(DigestInput {
        period,
        current: current.units,
        previous: previous.units,
        risks,
        findings,
        sources,
        proposal,
        bottom_n: live.settings.digests.bottom_units,
        watched_since: store.first_evaluation_at().await?,
        national,
    })
}

/// Every finding, with its rule's titles and plan section.
async fn finding_facts(
    store: &crate::storage::Store,
    live: &Live,
) -> anyhow::Result<Vec<FindingFact>> {
    // Rule id → (title vi, title en, plan section).
    let rules: HashMap<&str, (&str, &str, u8)> = live
        .rules
        .rules
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                (r.title_vi.as_str(), r.title_en.as_str(), r.section.number()),
            )
        })
        .collect();
    Ok(store
        .findings()
        .await?
        .into_iter()
        .map(|f| {
            // A rule no longer configured still counts, in "other tasks".
            let (vi, en, section) = rules.get(f.rule_id.as_str()).copied().unwrap_or((
                f.rule_id.as_str(),
                f.rule_id.as_str(),
                5,
            ));
            FindingFact {
                title_vi: vi.to_owned(),
                title_en: en.to_owned(),
                section,
                severity: f.severity,
                opened_at: f.opened_at,
                resolved_at: f.resolved_at,
                unit: f.unit_code.as_str().to_owned(),
            }
        })
        .collect())
}

/// The latest unannounced-inspection proposal, if any was made.
async fn latest_proposal(store: &crate::storage::Store) -> anyhow::Result<Option<ProposalFact>> {
    match store.inspection_plans().await?.into_iter().next() {
        Some(p) => Ok(Some(ProposalFact {
            id: p.id,
            created_at: p.created_at,
            reason: p.reason,
            units: serde_json::from_value(p.proposal)?,
        })),
        None => Ok(None),
    }
}

/// The province's national standing for the period's year, as last stored
/// from the portal (none when the portal source is off or has published
/// no ranking).
async fn national_fact(
    store: &crate::storage::Store,
    period: DigestPeriod,
    province: Option<&str>,
    sources: &[SourceFact],
) -> anyhow::Result<Option<NationalFact>> {
    let (Some(code), Some(portal)) = (
        province,
        sources.iter().find(|s| s.source == SourceId::Portal),
    ) else {
        return Ok(None);
    };
    let year = crate::time::utc_to_local(period.start()).year();
    let score = store
        .portal_scores(&year.to_string())
        .await?
        .into_iter()
        .find(|s| s.unit_code.as_str() == code);
    Ok(score.and_then(|s| {
        Some(NationalFact {
            year,
            standing: s.details.national?,
            total: s.total,
            as_of: portal.data_as_of,
            stale: portal.stale,
        })
    }))
}

/// Queues every digest due at `now`: per enabled kind, the latest period
/// whose scheduled time has passed and that was not sent yet, one e-mail
/// per recipient, recorded as sent in the same transaction. Running it
/// again, or after a restart, queues nothing more.
pub async fn run_due(ctx: &Context, now: DateTime<Utc>) -> anyhow::Result<Vec<Queued>> {
    let (store, live): (&crate::storage::Store, &Live) = (&ctx.store, &ctx.live);
    let cfg = &live.settings.digests;
    let last: BTreeMap<String, String> = store.digest_last_periods().await?.into_iter().collect();
    let renderer = DigestRenderer::new().with_console(live.settings.console_url());
    let mut out = Vec::new();
    for kind in cfg.enabled_kinds() {
        let last_sent = last
            .get(kind.as_str())
            .and_then(|id| DigestPeriod::parse(kind, id));
        let Some(period) = due_period(kind, cfg.schedule(kind), last_sent, now) else {
            continue;
        };
        // Figures only from data that covers the period: wait (bounded)
        // for a source not polled since the period ended.
        let gaps = coverage(store, live, &period.as_period(), now, Some(ctx.started_at))
            .await?
            .gaps;
        if !gaps.is_empty() {
            let due_at = cfg
                .schedule(kind)
                .next_after(period.end() - chrono::Duration::seconds(1))
                .unwrap_or(now);
            let waiting_since = due_at.max(ctx.started_at);
            let missing: Vec<&str> = gaps.keys().map(|s| s.as_str()).collect();
            if now < waiting_since + chrono::Duration::from_std(cfg.wait_for_data)? {
                tracing::info!(kind = %kind, period = %period, sources = ?missing, "digest waits for data that covers its period");
                continue;
            }
            tracing::warn!(kind = %kind, period = %period, sources = ?missing, waited_s = (now - waiting_since).num_seconds(), "digest goes out with these sources' figures marked unavailable");
        }
        let units = store.units().await?;
        let to = recipients(&live.settings, &units, kind);
        if to.is_empty() {
            tracing::debug!(kind = %kind, period = %period, "digest due but nobody to send it to");
            continue;
        }
        let with_proposal = to.iter().any(|(_, _, a)| *a == Audience::InspectionTeam);
        let input = gather(ctx, period, now, with_proposal, Some(ctx.started_at)).await?;
        let mut emails = Vec::with_capacity(to.len());
        for (address, lang, audience) in &to {
            let Some(digest) = build(&input, audience) else {
                tracing::warn!(kind = %kind, period = %period, to = address.domain(), "no data for the unit of a unit head; digest skipped");
                continue;
            };
            let rendered = renderer.render(&digest, *lang, live.composer.message_id_domain())?;
            emails.push(email(&rendered, &digest, address, |key| {
                live.composer.message_id(key)
            }));
        }
        let queued = store
            .enqueue_digest(kind.as_str(), &period.id(), period.start(), &emails, now)
            .await?;
        crate::health::progress();
        tracing::info!(kind = %kind, period = %period, emails = queued, "digest queued");
        out.push(Queued {
            kind,
            period: period.id(),
            emails: queued,
        });
    }
    Ok(out)
}

/// Renders the latest complete period's digest of `kind` as HTML, for
/// leadership or (with `unit`) for that unit's head, with the chart
/// embedded as a `data:` URI so that a browser shows it. Sends nothing.
pub async fn preview(
    ctx: &Context,
    kind: DigestKind,
    unit: Option<&str>,
    lang: Language,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    use base64::Engine;
    let period = DigestPeriod::containing(kind, now).previous();
    let audience = match unit {
        Some(code) => Audience::UnitHead(crate::domain::UnitCode::parse(code)?),
        None => Audience::Leadership,
    };
    let input = gather(ctx, period, now, false, None).await?;
    let digest = build(&input, &audience).ok_or_else(|| {
        anyhow::anyhow!("no unit {} among the units with data", unit.unwrap_or(""))
    })?;
    let r = DigestRenderer::new()
        .with_console(ctx.live.settings.console_url())
        .render(&digest, lang, ctx.live.composer.message_id_domain())?;
    let png = base64::engine::general_purpose::STANDARD.encode(&r.chart_png);
    Ok(r.html.replace(
        &format!("cid:{}", r.chart_cid),
        &format!("data:image/png;base64,{png}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Recipient, UnitCode};

    fn unit(code: &str, kind: UnitKind, head: Option<&str>) -> Unit {
        Unit {
            code: UnitCode::parse(code).unwrap(),
            name: code.into(),
            kind: Some(kind),
            parent: None,
            head_email: head.map(|h| EmailAddress::parse(h).unwrap()),
        }
    }

    #[test]
    fn recipients_by_kind_team_first_each_address_once() {
        let mut s = Settings::from_toml_str("", "test", &BTreeMap::new()).unwrap();
        let a = |x: &str| EmailAddress::parse(x).unwrap();
        let vi = |x: &str| Recipient {
            address: a(x),
            language: Language::Vi,
        };
        s.email.inspection_team = vec![vi("team@x.example"), vi("both@x.example")];
        s.digests.leadership = vec![
            Recipient {
                address: a("both@x.example"),
                language: Language::En,
            },
            Recipient {
                address: a("lead@x.example"),
                language: Language::En,
            },
        ];
        let units = [
            unit("H44", UnitKind::Province, Some("tinh@x.example")),
            unit("H44.07", UnitKind::SoNganh, Some("stp@x.example")),
            unit("H44.100", UnitKind::Xa, None),
        ];
        let who = |s: &Settings, kind| -> Vec<(String, Language, &'static str)> {
            recipients(s, &units, kind)
                .into_iter()
                .map(|(e, l, a)| (e.as_str().to_owned(), l, a.as_str()))
                .collect()
        };
        let province_wide = vec![
            ("team@x.example".to_owned(), Language::Vi, "inspection_team"),
            ("both@x.example".to_owned(), Language::Vi, "inspection_team"),
            ("lead@x.example".to_owned(), Language::En, "leadership"),
        ];
        assert_eq!(who(&s, DigestKind::Daily), province_wide);
        assert_eq!(who(&s, DigestKind::Weekly), province_wide);
        let mut monthly = province_wide.clone();
        monthly.push(("stp@x.example".to_owned(), Language::Vi, "unit_head"));
        assert_eq!(
            who(&s, DigestKind::Monthly),
            monthly,
            "heads monthly, not the province's"
        );
        s.digests.inspection_team = false;
        s.digests.unit_heads = false;
        let names: Vec<String> = who(&s, DigestKind::Monthly)
            .into_iter()
            .map(|w| w.0)
            .collect();
        assert_eq!(names, ["both@x.example", "lead@x.example"]);
    }
}
