//! `/sources`: each upstream source's health, the freshness of its data,
//! its feeds with their quarantine counts, the last error, and the records
//! quarantined most recently, from the same report as `par-monitor
//! sources` ([`crate::status`]).
//!
//! A unit head sees health and freshness only: errors, quarantined records
//! and feed counts come from every unit's data and may name another unit.
//! Upstream text (errors, quarantine reasons) is escaped by the template.

use axum::Extension;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use chrono::{DateTime, Utc};
use minijinja::context;
use serde::Serialize;

use super::{Viewer, WebError, WebState};
use crate::domain::{Language, Role, SourceId};
use crate::live::Context;
use crate::notify::compose::duration;
use crate::status::{self, FeedStatus, SourceStatus};
use crate::storage::QuarantineEntry;

/// How many of the latest quarantined records the page lists.
const QUARANTINE_ROWS: usize = 20;

/// The page's words (`i18n::Texts`, spelled out so that the catalog's
/// module, which lists this one, is not imported back).
pub(super) const TEXTS: &[(&str, &str, &str)] = &[
    ("sources.title", "Nguồn dữ liệu", "Data sources"),
    ("sources.col.source", "Nguồn", "Source"),
    ("sources.col.health", "Tình trạng", "Health"),
    (
        "sources.col.last_success",
        "Lấy dữ liệu thành công lần cuối",
        "Last successful poll",
    ),
    ("sources.col.age", "Cách đây", "Age"),
    ("sources.col.data_as_of", "Dữ liệu đến", "Data as of"),
    ("sources.disabled", "không bật", "not enabled"),
    (
        "sources.stale",
        "Dữ liệu cũ: các tiêu chí dựa trên nguồn này không được đánh giá.",
        "Stale data: the rules that read this source are not judged.",
    ),
    ("sources.last_error", "Lỗi gần nhất", "Last error"),
    ("sources.failures", "lần liên tiếp", "times in a row"),
    ("sources.feeds", "Luồng dữ liệu", "Feeds"),
    ("sources.col.feed", "Luồng", "Feed"),
    ("sources.col.records", "Bản ghi", "Records"),
    ("sources.col.quarantined", "Bị cách ly", "Quarantined"),
    ("sources.col.implausible", "Không thể đúng", "Implausible"),
    (
        "sources.col.full_sync",
        "Đồng bộ toàn bộ lần cuối",
        "Last full sync",
    ),
    (
        "sources.quarantine",
        "Bản ghi bị cách ly gần đây",
        "Recently quarantined records",
    ),
    (
        "sources.quarantine.none",
        "Không có bản ghi nào bị cách ly.",
        "No quarantined records.",
    ),
    ("sources.col.record", "Mã bản ghi", "Record"),
    ("sources.col.check", "Lý do cách ly", "Why"),
    ("sources.col.field", "Trường", "Field"),
    ("sources.col.problem", "Vấn đề", "Problem"),
    ("sources.col.seen", "Số lần gặp", "Times seen"),
    ("sources.col.last_seen", "Lần cuối", "Last seen"),
    ("sources.no_id", "(không có mã)", "(no id)"),
    ("sources.unmapped", "không đọc được", "could not be read"),
    (
        "sources.unit_head",
        "Trang này chỉ hiện tình trạng và độ mới của dữ liệu; chi tiết lỗi và bản ghi bị cách ly dành cho Tổ kiểm tra.",
        "This page shows health and freshness only; errors and quarantined records are for the inspection team.",
    ),
];

pub(super) fn routes() -> Router<WebState> {
    Router::new().route("/sources", get(page))
}

/// One source as the page shows it. Times are RFC 3339 for `localtime`.
#[derive(Debug, Serialize, PartialEq)]
pub(super) struct SourceView {
    pub source: String,
    pub name: &'static str,
    pub enabled: bool,
    pub health: &'static str,
    /// `healthy`, `degraded`, …: the css class `health-…`.
    pub health_class: &'static str,
    pub stale: bool,
    pub last_success_at: Option<String>,
    /// How long ago the last success was, in words.
    pub age: Option<String>,
    pub data_as_of: Option<String>,
    /// Left out for a unit head, with the feeds.
    pub last_error: Option<String>,
    pub failures: i64,
    pub feeds: Vec<FeedView>,
}

#[derive(Debug, Serialize, PartialEq)]
pub(super) struct FeedView {
    pub feed: String,
    pub records: i64,
    pub quarantined: i64,
    /// `3 ngày kết thúc trước ngày bắt đầu`, one per check.
    pub implausible: Vec<String>,
    pub last_full_sync_at: Option<String>,
}

fn parse_time(t: &Option<String>) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(t.as_deref()?).ok()?;
    Some(t.with_timezone(&Utc))
}

fn feed_view(f: &FeedStatus, lang: Language) -> FeedView {
    FeedView {
        feed: f.feed.clone(),
        records: f.records,
        quarantined: f.quarantined,
        implausible: f
            .implausible
            .iter()
            .map(|(check, n)| format!("{} {}", crate::locale::count(*n, lang), check.name(lang)))
            .collect(),
        last_full_sync_at: f.last_full_sync_at.clone(),
    }
}

/// `full`: with the last error and the feeds (not for a unit head).
pub(super) fn source_view(
    s: &SourceStatus,
    now: DateTime<Utc>,
    lang: Language,
    full: bool,
) -> SourceView {
    let name = s
        .source
        .parse::<SourceId>()
        .map_or(s.name, |id| id.name(lang));
    let age = parse_time(&s.last_success_at)
        .map(|t| duration((now - t).num_seconds().max(0) as f64, lang));
    SourceView {
        source: s.source.clone(),
        name,
        enabled: s.enabled,
        health: s.health.name(lang),
        health_class: s.health.as_str(),
        stale: s.stale && s.health != crate::domain::SourceHealth::NeverPolled,
        last_success_at: s.last_success_at.clone(),
        age,
        data_as_of: s.data_as_of.clone(),
        last_error: s.last_error.clone().filter(|_| full),
        failures: s.consecutive_failures,
        feeds: if full {
            s.feeds.iter().map(|f| feed_view(f, lang)).collect()
        } else {
            Vec::new()
        },
    }
}

/// One quarantined record.
#[derive(Debug, Serialize, PartialEq)]
pub(super) struct QuarantineView {
    pub feed: String,
    pub record_id: Option<String>,
    /// The failed check in words; `None`: the record could not be read.
    pub check: Option<&'static str>,
    pub field: String,
    pub problem: String,
    pub times_seen: i64,
    pub last_seen_at: String,
}

pub(super) fn quarantine_view(q: &QuarantineEntry, lang: Language) -> QuarantineView {
    QuarantineView {
        feed: q.feed.clone(),
        record_id: q.record_id.clone(),
        check: q.check.map(|c| c.name(lang)),
        field: q.field.clone(),
        problem: q.problem.clone(),
        times_seen: q.times_seen,
        last_seen_at: q.last_seen_at.to_rfc3339(),
    }
}

async fn page(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
) -> Result<Html<String>, WebError> {
    let now = state.clock.now();
    let ctx = Context {
        store: state.store.clone(),
        live: state.live.load(),
        started_at: now,
    };
    let rows = status::sources(&ctx, now).await?;
    let full = viewer.role != Role::UnitHead;
    let lang = viewer.language;
    let quarantine: Vec<QuarantineView> = if full {
        let entries = state.store.quarantined(None).await?;
        let latest = entries.iter().take(QUARANTINE_ROWS);
        latest.map(|q| quarantine_view(q, lang)).collect()
    } else {
        Vec::new()
    };
    let sources: Vec<SourceView> = rows
        .iter()
        .map(|s| source_view(s, now, lang, full))
        .collect();
    let ctx = context! { sources => sources, full => full, quarantine => quarantine };
    state.templates.render("sources.html", &viewer, ctx)
}

#[cfg(test)]
mod tests;
