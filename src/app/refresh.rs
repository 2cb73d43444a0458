//! The metrics refresh: the province's state read from the database into
//! the registry (a scrape never reads it), the holiday calendar's coverage,
//! and the `STATUS=` line systemd shows.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::App;
use crate::coverage::Coverage;
use crate::domain::{NationalStanding, Severity, SourceId, UnitKind};
use crate::indicators::IndicatorId;
use crate::live::Live;
use crate::metrics::DbSnapshot;
use crate::storage::{OutboxStats, SourceState, StateVersion};
use crate::time::Month;

/// What the province's series in the registry were last read from: the
/// configuration in force, the month, the sources covering it and the
/// stored state's version. While it is unchanged, a refresh reads only
/// what moves between evaluations; at 3,000 units the whole read took
/// over a second, every 15 seconds.
pub(super) struct Shown {
    live: Arc<Live>,
    period: String,
    covered: Vec<SourceId>,
    version: StateVersion,
}

impl std::fmt::Debug for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shown")
            .field("period", &self.period)
            .field("covered", &self.covered)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Shown {
    fn eq(&self, other: &Shown) -> bool {
        Arc::ptr_eq(&self.live, &other.live)
            && self.period == other.period
            && self.covered == other.covered
            && self.version == other.version
    }
}

impl App {
    /// Reads the province's state from the database into the metrics. Also
    /// the readiness probe's database check.
    pub async fn refresh_metrics(&self) -> anyhow::Result<()> {
        let ping = self.store.ping().await;
        self.readiness.set_database_reachable(ping.is_ok());
        ping?;
        let live = self.live();
        let now = self.clock.now();
        self.check_calendar(&live, now);
        let month = Month::containing(now);
        // A figure only from sources whose data covers the month: the
        // series of the others are absent, never 0.
        let coverage = crate::overview::coverage(
            &self.store,
            &live,
            &month.into(),
            now,
            Some(self.started_at),
        )
        .await?;
        // Read before the state it stands for, so that a change made while
        // the state is read shows as a new version next time.
        let shown = Shown {
            live: live.clone(),
            period: month.to_string(),
            covered: coverage.covered.clone(),
            version: self.store.stored_state_version(&month.to_string()).await?,
        };
        // Held to the end, so that two refreshes (an evaluation's and the
        // loop's) cannot leave an older read marked as the one shown.
        let mut last = self.shown.lock().await;
        if last.as_ref() == Some(&shown) {
            // The province's series already show this state: only the
            // outbox, sources and digests move between evaluations.
            let (outbox, sources, digests) = self.activity().await?;
            self.metrics.apply_activity(&outbox, &sources, &digests);
            return Ok(());
        }
        // A read that fails part-way leaves nothing marked as shown.
        *last = None;
        let snapshot = self.snapshot(&live, now, &coverage).await?;
        self.metrics.apply(&snapshot, &live.settings.metrics);
        *last = Some(shown);
        Ok(())
    }

    /// What moves between evaluations: the outbox, the sources' states and
    /// the last digests sent.
    async fn activity(
        &self,
    ) -> anyhow::Result<(OutboxStats, Vec<SourceState>, Vec<(String, DateTime<Utc>)>)> {
        Ok((
            self.store.outbox_stats().await?,
            self.store.source_states().await?,
            self.store.last_digests_sent().await?,
        ))
    }

    /// The province's state in the month of `now`, as stored, from the
    /// sources `coverage` says cover it.
    async fn snapshot(
        &self,
        live: &Live,
        now: DateTime<Utc>,
        coverage: &Coverage,
    ) -> anyhow::Result<DbSnapshot> {
        let month = Month::containing(now);
        let period = month.to_string();
        let (outbox, sources, digests) = self.activity().await?;
        let covered = |indicator: &str| {
            indicator
                .parse::<IndicatorId>()
                .is_ok_and(|i| coverage.covers(i.source_id()))
        };
        Ok(DbSnapshot {
            units: self
                .store
                .units()
                .await?
                .into_iter()
                .map(|u| {
                    (
                        u.code.as_str().to_owned(),
                        u.name,
                        u.kind.map(|k| k.as_str().to_owned()),
                    )
                })
                .collect(),
            indicators: self
                .store
                .current_indicator_values(&period)
                .await?
                .into_iter()
                .filter(|(_, indicator, ..)| covered(indicator))
                .collect(),
            active_findings: self.store.active_finding_keys().await?,
            rule_sections: live
                .rules
                .rules
                .iter()
                .map(|r| (r.id.as_str().to_owned(), r.section.number()))
                .collect(),
            outbox,
            sources,
            digests,
            online_services: self
                .store
                .portal_scores(&period)
                .await?
                .into_iter()
                .filter(|_| coverage.covers(SourceId::Portal))
                .filter_map(|p| {
                    let online = p.groups.get("ONLINE_SERVICES").copied().flatten()?;
                    Some((p.unit_code.as_str().to_owned(), online))
                })
                .collect(),
            national: self.national_standing(now, coverage).await?,
        })
    }

    /// The province's national standing for the year of `now`, where the
    /// portal's data covers the month.
    async fn national_standing(
        &self,
        now: DateTime<Utc>,
        coverage: &Coverage,
    ) -> anyhow::Result<Option<NationalStanding>> {
        if !coverage.covers(SourceId::Portal) {
            return Ok(None);
        }
        let year = Month::containing(now).year().to_string();
        let province = self
            .store
            .units()
            .await?
            .into_iter()
            .find(|u| u.kind == Some(UnitKind::Province));
        let Some(province) = province else {
            return Ok(None);
        };
        Ok(self
            .store
            .portal_scores(&year)
            .await?
            .into_iter()
            .find(|s| s.unit_code == province.code)
            .and_then(|s| s.details.national))
    }

    /// Sets the calendar's coverage gauge and, once a local day, warns
    /// when the holiday calendar does not reach 60 days ahead.
    fn check_calendar(&self, live: &Live, now: DateTime<Utc>) {
        let covered = live.calendar.covered_until();
        self.metrics
            .calendar_covered_until_timestamp_seconds
            .set(covered.map_or(0, |d| {
                crate::time::local_to_utc(
                    d.succ_opt().unwrap_or(d).and_time(chrono::NaiveTime::MIN),
                )
                .timestamp()
            }));
        let today = crate::time::utc_to_local(now).date();
        let mut warned = self
            .calendar_warned_on
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if *warned == Some(today) {
            return;
        }
        *warned = Some(today);
        let file = &live.settings.indicators.holidays_file;
        if let Some(w) = live.calendar.coverage_warning(today, file) {
            tracing::warn!(covered_until = ?covered, "{w}");
        }
    }

    /// The `STATUS=` line systemd shows while running: the sources whose
    /// polls have been tried and fail are named as degraded.
    pub(super) fn systemd_status(&self, http: std::net::SocketAddr) -> String {
        let m = &self.metrics;
        let down: Vec<&str> = self
            .sources
            .iter()
            .map(|s| s.name)
            .filter(|name| {
                let tried = ["success", "failure"]
                    .iter()
                    .map(|o| m.polls_total.with_label_values(&[name, o]).get())
                    .sum::<u64>()
                    > 0;
                tried && m.source_up.with_label_values(&[name]).get() == 0
            })
            .collect();
        let active: i64 = Severity::ALL
            .iter()
            .map(|s| m.findings_active.with_label_values(&[s.as_str()]).get())
            .sum();
        crate::systemd::running_status(&http.to_string(), &down, active)
    }
}
