//! Prometheus metrics. Every name carries the `par_monitor_` prefix; units
//! are base units (`_seconds`), counters end in `_total`, points in time are
//! `_timestamp_seconds` (Prometheus computes ages with `time() - x`, and a
//! timestamp stays right between refreshes where an age would not), and
//! ratios are 0 to 1.
//!
//! Two kinds of series live here. The daemon's own counters and histograms
//! (polls, jobs, e-mails) are per instance and change as work happens. The
//! province's state (indicators per unit, active findings, the outbox,
//! source freshness, digests) comes from the database through a
//! [`DbSnapshot`], so every instance serves the same values; [`Metrics::apply`]
//! replaces those series whole, removing the label sets of units that are
//! retired or gone. A scrape only renders the in-memory registry: it never
//! touches the database.

use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::domain::{Severity, SourceHealth};
use crate::storage::OutboxStats;

mod replaced;
mod snapshot;

use replaced::Replaced;
pub use snapshot::DbSnapshot;

/// Buckets for polls, evaluations and jobs: from 10 ms to 10 minutes.
const DURATION_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    pub polls_total: IntCounterVec,
    pub poll_errors_total: IntCounterVec,
    pub poll_duration_seconds: HistogramVec,
    pub last_successful_poll_timestamp_seconds: IntGaugeVec,
    pub source_up: IntGaugeVec,
    pub records_ingested_total: IntCounterVec,
    pub records_rejected_total: IntCounterVec,
    pub findings_active: IntGaugeVec,
    pub finding_transitions_total: IntCounterVec,
    pub emails_sent_total: IntCounterVec,
    pub emails_failed_total: IntCounterVec,
    pub outbox_pending: IntGauge,
    pub outbox_oldest_pending_timestamp_seconds: IntGauge,
    pub job_runs_total: IntCounterVec,
    pub job_duration_seconds: HistogramVec,
    pub last_evaluation_timestamp_seconds: IntGauge,
    pub source_health: IntGaugeVec,
    pub data_as_of_timestamp_seconds: IntGaugeVec,
    pub records_quarantined: IntGaugeVec,
    pub records_implausible: IntGaugeVec,
    pub calendar_covered_until_timestamp_seconds: IntGauge,
    pub evaluation_duration_seconds: Histogram,
    pub config_reload_total: IntCounterVec,
    pub config_last_reload_success_timestamp_seconds: IntGauge,
    indicator_ratio: Replaced<prometheus::core::AtomicF64>,
    indicator_denominator: Replaced<prometheus::core::AtomicI64>,
    unit_findings_active: Replaced<prometheus::core::AtomicI64>,
    unit_info: Replaced<prometheus::core::AtomicI64>,
    section_findings_active: Replaced<prometheus::core::AtomicI64>,
    last_digest_sent_timestamp_seconds: Replaced<prometheus::core::AtomicI64>,
    score766_points: Replaced<prometheus::core::AtomicF64>,
    score766_group_points: Replaced<prometheus::core::AtomicF64>,
    unit_score766_points: Replaced<prometheus::core::AtomicF64>,
    portal_national_rank: Replaced<prometheus::core::AtomicI64>,
    portal_national_ranked: Replaced<prometheus::core::AtomicI64>,
}

/// The health states a source can be in.
pub const SOURCE_HEALTH: [&str; 4] = ["healthy", "degraded", "down", "misconfigured"];

fn opts(name: &str, help: &str) -> Opts {
    Opts::new(name, help).namespace("par_monitor")
}

fn hist(name: &str, help: &str) -> HistogramOpts {
    HistogramOpts::new(name, help)
        .namespace("par_monitor")
        .buckets(DURATION_BUCKETS.to_vec())
}

impl Metrics {
    // table-like: one declaration per metric, with its name, help and labels.
    pub fn new() -> Self {
        let registry = Registry::new();
        let m = Self {
            polls_total: IntCounterVec::new(
                opts("polls_total", "Polls of an upstream source, by outcome."),
                &["source", "outcome"],
            )
            .expect("valid metric"),
            poll_errors_total: IntCounterVec::new(
                opts(
                    "poll_errors_total",
                    "Failed polls, by source and error kind.",
                ),
                &["source", "kind"],
            )
            .expect("valid metric"),
            poll_duration_seconds: HistogramVec::new(
                hist(
                    "poll_duration_seconds",
                    "Duration of one poll of a source, all pages.",
                ),
                &["source"],
            )
            .expect("valid metric"),
            last_successful_poll_timestamp_seconds: IntGaugeVec::new(
                opts(
                    "last_successful_poll_timestamp_seconds",
                    "Unix time of the last successful poll of a source.",
                ),
                &["source"],
            )
            .expect("valid metric"),
            source_up: IntGaugeVec::new(
                opts(
                    "source_up",
                    "1 when the last poll of a source succeeded, else 0.",
                ),
                &["source"],
            )
            .expect("valid metric"),
            records_ingested_total: IntCounterVec::new(
                opts(
                    "records_ingested_total",
                    "Records received from a source and stored (new or changed).",
                ),
                &["source"],
            )
            .expect("valid metric"),
            records_rejected_total: IntCounterVec::new(
                opts(
                    "records_rejected_total",
                    "Records a source sent that could not be mapped.",
                ),
                &["source"],
            )
            .expect("valid metric"),
            findings_active: IntGaugeVec::new(
                opts(
                    "findings_active",
                    "Findings not resolved (open, acknowledged or silenced), by severity.",
                ),
                &["severity"],
            )
            .expect("valid metric"),
            finding_transitions_total: IntCounterVec::new(
                opts("finding_transitions_total", "Finding transitions, by kind."),
                &["kind"],
            )
            .expect("valid metric"),
            emails_sent_total: IntCounterVec::new(
                opts(
                    "emails_sent_total",
                    "E-mails handed to the transport, by kind.",
                ),
                &["kind"],
            )
            .expect("valid metric"),
            emails_failed_total: IntCounterVec::new(
                opts(
                    "emails_failed_total",
                    "Failed e-mail attempts, by outcome (retry or dead).",
                ),
                &["outcome"],
            )
            .expect("valid metric"),
            outbox_pending: IntGauge::with_opts(opts(
                "outbox_pending",
                "E-mails waiting in the outbox.",
            ))
            .expect("valid metric"),
            outbox_oldest_pending_timestamp_seconds: IntGauge::with_opts(opts(
                "outbox_oldest_pending_timestamp_seconds",
                "Unix time the oldest pending e-mail was queued (0 when none).",
            ))
            .expect("valid metric"),
            job_runs_total: IntCounterVec::new(
                opts("job_runs_total", "Background job runs, by job and outcome."),
                &["job_name", "outcome"],
            )
            .expect("valid metric"),
            job_duration_seconds: HistogramVec::new(
                hist("job_duration_seconds", "Duration of background job runs."),
                &["job_name"],
            )
            .expect("valid metric"),
            last_evaluation_timestamp_seconds: IntGauge::with_opts(opts(
                "last_evaluation_timestamp_seconds",
                "Unix time the last evaluation cycle completed: it judged, or found that nothing it judges had changed.",
            ))
            .expect("valid metric"),
            source_health: IntGaugeVec::new(
                opts(
                    "source_health",
                    "1 for a source's current health (healthy, degraded, down, misconfigured), 0 for the others.",
                ),
                &["source", "health"],
            )
            .expect("valid metric"),
            data_as_of_timestamp_seconds: IntGaugeVec::new(
                opts(
                    "data_as_of_timestamp_seconds",
                    "Unix time up to which a source's data is known complete (start of its last good poll).",
                ),
                &["source"],
            )
            .expect("valid metric"),
            evaluation_duration_seconds: Histogram::with_opts(hist(
                "evaluation_duration_seconds",
                "Duration of one evaluation cycle (indicators, rules, findings).",
            ))
            .expect("valid metric"),
            calendar_covered_until_timestamp_seconds: IntGauge::with_opts(opts(
                "calendar_covered_until_timestamp_seconds",
                "End (exclusive, 00:00 Asia/Ho_Chi_Minh) of the last day the holiday calendar lists holidays for; 0 when it lists none.",
            ))
            .expect("valid metric"),
            records_quarantined: IntGaugeVec::new(
                opts("records_quarantined", "Records kept aside because they could not be mapped, by source and feed."),
                &["source", "feed"],
            )
            .expect("valid metric"),
            records_implausible: IntGaugeVec::new(
                opts(
                    "records_implausible",
                    "Quarantined records that mapped but cannot be true (deadline_before_reception, end_before_start, date_after_poll, code_for_two_units), by source and check.",
                ),
                &["source", "check"],
            )
            .expect("valid metric"),
            config_reload_total: IntCounterVec::new(
                opts(
                    "config_reload_total",
                    "Configuration reloads (SIGHUP), by outcome (success or failure).",
                ),
                &["outcome"],
            )
            .expect("valid metric"),
            config_last_reload_success_timestamp_seconds: IntGauge::with_opts(opts(
                "config_last_reload_success_timestamp_seconds",
                "Unix time the configuration in force was loaded (start-up or reload).",
            ))
            .expect("valid metric"),
            indicator_ratio: Replaced::new(
                GaugeVec::new(
                    opts(
                        "indicator_ratio",
                        "An indicator of a unit for the current month, 0 to 1 (absent when its denominator is 0).",
                    ),
                    &["unit", "indicator"],
                )
                .expect("valid metric"),
            ),
            indicator_denominator: Replaced::new(
                IntGaugeVec::new(
                    opts(
                        "indicator_denominator",
                        "The denominator of an indicator of a unit for the current month (e.g. dossiers received).",
                    ),
                    &["unit", "indicator"],
                )
                .expect("valid metric"),
            ),
            unit_findings_active: Replaced::new(
                IntGaugeVec::new(
                    opts(
                        "unit_findings_active",
                        "Findings of a unit not resolved, by severity.",
                    ),
                    &["unit", "severity"],
                )
                .expect("valid metric"),
            ),
            unit_info: Replaced::new(
                IntGaugeVec::new(
                    opts(
                        "unit_info",
                        "The units watched (not retired), with their names; the value is always 1.",
                    ),
                    &["unit", "name", "kind"],
                )
                .expect("valid metric"),
            ),
            section_findings_active: Replaced::new(
                IntGaugeVec::new(
                    opts(
                        "section_findings_active",
                        "Findings not resolved, by the inspection plan's section (1-5) and severity.",
                    ),
                    &["section", "severity"],
                )
                .expect("valid metric"),
            ),
            last_digest_sent_timestamp_seconds: Replaced::new(
                IntGaugeVec::new(
                    opts(
                        "last_digest_sent_timestamp_seconds",
                        "Unix time the last digest of a kind was sent (from the outbox).",
                    ),
                    &["kind"],
                )
                .expect("valid metric"),
            ),
            score766_points: Replaced::new(
                GaugeVec::new(
                    opts(
                        "score766_points",
                        "The province's Decision 766 index for the current month so far, 0 to 100, from all units' counts (absent before any count).",
                    ),
                    &[],
                )
                .expect("valid metric"),
            ),
            score766_group_points: Replaced::new(
                GaugeVec::new(
                    opts(
                        "score766_group_points",
                        "The province's Decision 766 score of a group for the current month so far (absent when the group has no score).",
                    ),
                    &["group"],
                )
                .expect("valid metric"),
            ),
            unit_score766_points: Replaced::new(
                GaugeVec::new(
                    opts(
                        "unit_score766_points",
                        "A unit's Decision 766 index for the current month so far, 0 to 100 (absent when the unit has no count).",
                    ),
                    &["unit"],
                )
                .expect("valid metric"),
            ),
            portal_national_rank: Replaced::new(
                IntGaugeVec::new(
                    opts(
                        "portal_national_rank",
                        "The province's rank among all provinces for the current year on the national portal, by total (group=\"total\") or by group; 1 is the highest (absent until the portal ranks it).",
                    ),
                    &["group"],
                )
                .expect("valid metric"),
            ),
            portal_national_ranked: Replaced::new(
                IntGaugeVec::new(
                    opts(
                        "portal_national_ranked",
                        "How many provinces the national portal ranks for the current year, by total (group=\"total\") or by group.",
                    ),
                    &["group"],
                )
                .expect("valid metric"),
            ),
            registry,
        };
        let build_info = IntGaugeVec::new(
            opts("build_info", "Build information; the value is always 1."),
            &["version"],
        )
        .expect("valid metric");
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(build_info),
            Box::new(m.polls_total.clone()),
            Box::new(m.poll_errors_total.clone()),
            Box::new(m.poll_duration_seconds.clone()),
            Box::new(m.last_successful_poll_timestamp_seconds.clone()),
            Box::new(m.source_up.clone()),
            Box::new(m.records_ingested_total.clone()),
            Box::new(m.records_rejected_total.clone()),
            Box::new(m.records_implausible.clone()),
            Box::new(m.findings_active.clone()),
            Box::new(m.finding_transitions_total.clone()),
            Box::new(m.emails_sent_total.clone()),
            Box::new(m.emails_failed_total.clone()),
            Box::new(m.outbox_pending.clone()),
            Box::new(m.outbox_oldest_pending_timestamp_seconds.clone()),
            Box::new(m.job_runs_total.clone()),
            Box::new(m.job_duration_seconds.clone()),
            Box::new(m.last_evaluation_timestamp_seconds.clone()),
            Box::new(m.source_health.clone()),
            Box::new(m.data_as_of_timestamp_seconds.clone()),
            Box::new(m.records_quarantined.clone()),
            Box::new(m.calendar_covered_until_timestamp_seconds.clone()),
            Box::new(m.evaluation_duration_seconds.clone()),
            Box::new(m.config_reload_total.clone()),
            Box::new(m.config_last_reload_success_timestamp_seconds.clone()),
            Box::new(m.indicator_ratio.vec.clone()),
            Box::new(m.indicator_denominator.vec.clone()),
            Box::new(m.unit_findings_active.vec.clone()),
            Box::new(m.unit_info.vec.clone()),
            Box::new(m.section_findings_active.vec.clone()),
            Box::new(m.last_digest_sent_timestamp_seconds.vec.clone()),
            Box::new(m.score766_points.vec.clone()),
            Box::new(m.score766_group_points.vec.clone()),
            Box::new(m.unit_score766_points.vec.clone()),
            Box::new(m.portal_national_rank.vec.clone()),
            Box::new(m.portal_national_ranked.vec.clone()),
        ];
        for c in collectors {
            m.registry.register(c).expect("metric names are unique");
        }
        // process_* (resident memory, CPU seconds, open files, start time),
        // read from /proc at each scrape; Linux only.
        #[cfg(target_os = "linux")]
        m.registry
            .register(Box::new(process::ProcessMetrics::for_self()))
            .expect("process metric names are unique");
        for s in Severity::ALL {
            m.findings_active.with_label_values(&[s.as_str()]).set(0);
        }
        for outcome in ["success", "failure"] {
            m.config_reload_total.with_label_values(&[outcome]);
        }
        for outcome in ["retry", "dead"] {
            m.emails_failed_total.with_label_values(&[outcome]);
        }
        m
    }

    /// Makes a source's series exist from start-up, so dashboards and alerts
    /// see zeros rather than absent series.
    pub fn register_source(&self, source: &str) {
        for outcome in ["success", "failure"] {
            self.polls_total.with_label_values(&[source, outcome]);
        }
        for kind in crate::upstream::UpstreamError::KINDS
            .into_iter()
            .chain(["storage"])
        {
            self.poll_errors_total.with_label_values(&[source, kind]);
        }
        self.records_ingested_total.with_label_values(&[source]);
        self.records_rejected_total.with_label_values(&[source]);
        self.source_up.with_label_values(&[source]).set(0);
        self.last_successful_poll_timestamp_seconds
            .with_label_values(&[source]);
        self.data_as_of_timestamp_seconds
            .with_label_values(&[source]);
        for h in SOURCE_HEALTH {
            self.source_health.with_label_values(&[source, h]);
        }
    }

    /// Marks `health` as the source's current state (and the others not).
    pub fn set_source_health(&self, source: &str, health: SourceHealth) {
        for h in SOURCE_HEALTH {
            self.source_health
                .with_label_values(&[source, h])
                .set(i64::from(h == health.as_str()));
        }
    }

    /// Sets the outbox gauges from the stored outbox.
    pub fn set_outbox(&self, stats: &OutboxStats) {
        self.outbox_pending.set(stats.pending);
        self.outbox_oldest_pending_timestamp_seconds
            .set(stats.oldest_pending_at.map_or(0, |t| t.timestamp()));
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let families = self.registry.gather();
        if let Err(e) = TextEncoder::new().encode(&families, &mut buf) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(target_os = "linux")]
mod process;

#[cfg(test)]
mod tests;
