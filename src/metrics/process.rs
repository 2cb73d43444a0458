//! The prometheus crate's process collector, with a start time that does
//! not need `/proc/stat`.

use prometheus::core::{Collector, Desc};
use prometheus::process_collector::ProcessCollector;
use prometheus::proto::{Gauge, MetricFamily};

const START_TIME: &str = "process_start_time_seconds";

/// The collector reads the boot time from `/proc/stat` to date the
/// process's start, and says 0 (a daemon up since 1970) when it cannot:
/// under the unit's `ProcSubset=pid` only `/proc/<pid>/` is visible. Then
/// the start time is when this collector was made, which is while the
/// daemon starts.
pub(super) struct ProcessMetrics {
    inner: ProcessCollector,
    made_at: f64,
}

impl ProcessMetrics {
    pub(super) fn for_self() -> ProcessMetrics {
        let made_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs() as f64);
        ProcessMetrics {
            inner: ProcessCollector::for_self(),
            made_at,
        }
    }
}

impl Collector for ProcessMetrics {
    fn desc(&self) -> Vec<&Desc> {
        self.inner.desc()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        dated(self.inner.collect(), self.made_at)
    }
}

/// `families` with a start time of 0 replaced by `made_at`.
fn dated(mut families: Vec<MetricFamily>, made_at: f64) -> Vec<MetricFamily> {
    for family in families.iter_mut().filter(|f| f.name() == START_TIME) {
        for metric in family.mut_metric() {
            if metric.get_gauge().get_value() <= 0.0 {
                let mut gauge = Gauge::default();
                gauge.set_value(made_at);
                metric.set_gauge(gauge);
            }
        }
    }
    families
}

#[cfg(test)]
mod tests {
    use prometheus::core::Collector;

    #[test]
    fn a_start_time_the_proc_files_could_not_give_is_when_the_daemon_started() {
        let unknown = prometheus::IntGauge::new(super::START_TIME, "start").unwrap();
        let other = prometheus::IntGauge::new("process_threads", "threads").unwrap();
        let mut families = unknown.collect();
        families.extend(other.collect());
        let families = super::dated(families, 1_790_000_000.0);
        let value = |name: &str| {
            let f = families.iter().find(|f| f.name() == name).unwrap();
            f.get_metric()[0].get_gauge().get_value()
        };
        assert_eq!(value(super::START_TIME), 1_790_000_000.0);
        assert_eq!(
            value("process_threads"),
            0.0,
            "only the start time is filled in"
        );

        let known = prometheus::IntGauge::new(super::START_TIME, "start").unwrap();
        known.set(1_700_000_000);
        let families = super::dated(known.collect(), 1_790_000_000.0);
        assert_eq!(
            families[0].get_metric()[0].get_gauge().get_value(),
            1_700_000_000.0
        );
    }
}
