//! The simulated upstream on a loopback port, and what tests make its
//! units do to their dossiers.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use par_monitor::domain::DossierStatus;
use par_monitor::simulator::{SimConfig, Simulator};
use par_monitor::time::Month;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::sim_now;

/// A simulator served on a loopback port until the token is cancelled.
pub struct SimServer {
    pub sim: Simulator,
    pub url: String,
    pub stop: CancellationToken,
}

/// When a re-dated dossier finishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// An hour before its deadline.
    OnTime,
    /// Thirty hours after it.
    Late,
}

impl SimServer {
    pub async fn start(cfg: SimConfig) -> SimServer {
        let sim = Simulator::generate(&cfg);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        tokio::spawn(sim.clone().serve(listener, stop.clone()));
        SimServer { sim, url, stop }
    }

    /// The dossiers the simulator judges late this month (the month of
    /// `sim_now()`) as of `as_of`.
    pub fn late_dossiers(&self, as_of: DateTime<Utc>) -> BTreeSet<String> {
        self.sim.late_dossiers(Month::containing(sim_now()), as_of)
    }

    /// Re-dates `unit`'s dossiers among `codes` to finish as `finish` says,
    /// done, neither returned nor refused and with no supplement requests
    /// (two of them make a dossier late whatever the dates), changed
    /// upstream at `changed_at`.
    pub fn redate_dossiers(
        &self,
        unit: &str,
        codes: &BTreeSet<String>,
        finish: Finish,
        changed_at: DateTime<Utc>,
    ) {
        self.sim.update_dossiers(|d| {
            if d.unit_code.as_str() != unit || !codes.contains(&d.code) {
                return;
            }
            let Some(due) = d.due_at else { return };
            d.supplements.clear();
            d.finished_at = Some(match finish {
                Finish::OnTime => due - Duration::hours(1),
                Finish::Late => due + Duration::hours(30),
            });
            d.returned_at = None;
            d.refused_at = None;
            d.status = DossierStatus::Done;
            d.updated_at = Some(changed_at);
        });
    }

    /// `unit` clears its backlog: every dossier late at `sim_now()` is
    /// re-dated to have finished an hour before its deadline, changed a
    /// minute after `sim_now()`.
    pub fn clear_backlog(&self, unit: &str) {
        let late = self.late_dossiers(sim_now());
        self.redate_dossiers(
            unit,
            &late,
            Finish::OnTime,
            sim_now() + Duration::minutes(1),
        );
    }
}
