//! The state of the upstream sources, gathered for people: health,
//! freshness, records held and records quarantined, per source and feed.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::quality::Check;
use crate::domain::{Language, SourceHealth, SourceId};
use crate::live::Context;
use crate::storage::RecordTable;
use crate::time::{format_local, rfc3339_local};
use crate::upstream::mapping::FeedKind;

#[derive(Clone, Debug, Serialize)]
pub struct FeedStatus {
    pub feed: String,
    pub records: i64,
    pub quarantined: i64,
    /// Of the quarantined, those that mapped but cannot be true, by check.
    pub implausible: BTreeMap<Check, i64>,
    pub last_success_at: Option<String>,
    pub last_full_sync_at: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SourceStatus {
    pub source: String,
    /// The system's name in Vietnamese, e.g. Hệ thống giải quyết TTHC.
    pub name: &'static str,
    pub enabled: bool,
    /// `healthy`, `degraded`, `down`, `misconfigured`, or `never_polled`.
    pub health: SourceHealth,
    /// The health in Vietnamese words.
    pub health_text: &'static str,
    /// Data older than the source's staleness limit is not trusted by rules.
    pub stale: bool,
    pub last_success_at: Option<String>,
    pub data_as_of: Option<String>,
    pub consecutive_failures: i64,
    pub last_error: Option<String>,
    pub feeds: Vec<FeedStatus>,
}

fn table_of(kind: FeedKind) -> Option<RecordTable> {
    match kind {
        FeedKind::Dossiers => Some(RecordTable::Dossiers),
        FeedKind::Petitions => Some(RecordTable::Petitions),
        FeedKind::Documents => Some(RecordTable::Documents),
        FeedKind::Reports => Some(RecordTable::Reports),
        FeedKind::Scores => Some(RecordTable::PortalScores),
        FeedKind::Units => None,
    }
}

pub async fn sources(ctx: &Context, now: DateTime<Utc>) -> anyhow::Result<Vec<SourceStatus>> {
    let states = ctx.store.source_states().await?;
    let quarantined = ctx.store.quarantine_counts().await?;
    let implausible = ctx.store.implausible_counts().await?;
    let units = ctx.store.units().await?.len() as i64;
    let mut out = Vec::new();
    for (name, settings) in ctx.live.settings.sources.all() {
        let state = states.iter().find(|s| s.source == name);
        let stale_after = chrono::Duration::from_std(settings.stale_after(now))?;
        let mut feeds = Vec::new();
        for kind in FeedKind::ALL.into_iter().filter(|k| k.source() == name) {
            let qualified = kind.qualified();
            let fs = ctx.store.feed_state(&qualified).await?;
            let records = match table_of(kind) {
                Some(t) => ctx.store.record_count(t).await?,
                None => units,
            };
            feeds.push(FeedStatus {
                records,
                quarantined: quarantined
                    .iter()
                    .find(|(f, _)| *f == qualified)
                    .map_or(0, |(_, n)| *n),
                implausible: implausible
                    .iter()
                    .filter(|(f, _, _)| *f == qualified)
                    .map(|(_, c, n)| (*c, *n))
                    .collect(),
                last_success_at: fs.last_success_at.map(rfc3339_local),
                last_full_sync_at: fs.last_full_sync_at.map(rfc3339_local),
                feed: qualified,
            });
        }
        let health = state.map_or(SourceHealth::NeverPolled, |s| s.health);
        let id: SourceId = name.parse()?;
        out.push(SourceStatus {
            source: name.to_owned(),
            name: id.name(Language::Vi),
            enabled: settings.enabled,
            health,
            health_text: health.name(Language::Vi),
            stale: state
                .and_then(|s| s.data_as_of)
                .is_none_or(|t| now - t > stale_after),
            last_success_at: state.and_then(|s| s.last_success_at).map(rfc3339_local),
            data_as_of: state.and_then(|s| s.data_as_of).map(rfc3339_local),
            consecutive_failures: state.map_or(0, |s| s.consecutive_failures),
            last_error: state.and_then(|s| s.last_error.clone()),
            feeds,
        });
    }
    Ok(out)
}

/// The sources for people, in Vietnamese.
pub fn sources_text(rows: &[SourceStatus]) -> String {
    let mut out = String::new();
    let time = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map_or_else(
                || "chưa có".to_owned(),
                |t| format_local(t.with_timezone(&chrono::Utc)),
            )
    };
    for s in rows {
        if !s.enabled {
            let _ = writeln!(out, "{} ({}): không bật", s.name, s.source);
            continue;
        }
        let _ = writeln!(
            out,
            "{} ({}): {}{}; lấy dữ liệu thành công lần cuối {}; dữ liệu đến {}",
            s.name,
            s.source,
            s.health_text,
            if s.stale && s.health != SourceHealth::NeverPolled {
                " (dữ liệu cũ: các tiêu chí dựa trên nguồn này không được đánh giá)"
            } else {
                ""
            },
            time(&s.last_success_at),
            time(&s.data_as_of),
        );
        if let Some(e) = &s.last_error {
            let _ = writeln!(
                out,
                "    lỗi gần nhất ({} lần liên tiếp): {e}",
                s.consecutive_failures
            );
        }
        for f in &s.feeds {
            let _ = writeln!(
                out,
                "    {:<22} {:>9} bản ghi  {:>5} bị cách ly  đồng bộ toàn bộ lần cuối {}",
                f.feed,
                f.records,
                f.quarantined,
                time(&f.last_full_sync_at),
            );
            if !f.implausible.is_empty() {
                let list: Vec<String> = f
                    .implausible
                    .iter()
                    .map(|(c, n)| format!("{n} {}", c.name(Language::Vi)))
                    .collect();
                let _ = writeln!(
                    out,
                    "        dữ liệu không thể đúng, không tính cho đơn vị nào: {}",
                    list.join("; ")
                );
            }
        }
    }
    out
}
