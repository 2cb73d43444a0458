//! Prometheus metrics. Every name carries the `par_monitor_` prefix; units
//! are base units (`_seconds`), counters end in `_total`.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::domain::Severity;

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
                &["job", "outcome"],
            )
            .expect("valid metric"),
            job_duration_seconds: HistogramVec::new(
                hist("job_duration_seconds", "Duration of background job runs."),
                &["job"],
            )
            .expect("valid metric"),
            last_evaluation_timestamp_seconds: IntGauge::with_opts(opts(
                "last_evaluation_timestamp_seconds",
                "Unix time the last evaluation cycle completed.",
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
            records_quarantined: IntGaugeVec::new(
                opts("records_quarantined", "Records kept aside because they could not be mapped, by feed."),
                &["feed"],
            )
            .expect("valid metric"),
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
        ];
        for c in collectors {
            m.registry.register(c).expect("metric names are unique");
        }
        for s in Severity::ALL {
            m.findings_active.with_label_values(&[s.as_str()]).set(0);
        }
        m
    }

    /// Makes a source's series exist from start-up, so dashboards and alerts
    /// see zeros rather than absent series.
    pub fn register_source(&self, source: &str) {
        for outcome in ["success", "failure"] {
            self.polls_total.with_label_values(&[source, outcome]);
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
    pub fn set_source_health(&self, source: &str, health: &str) {
        for h in SOURCE_HEALTH {
            self.source_health
                .with_label_values(&[source, h])
                .set(i64::from(h == health));
        }
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
