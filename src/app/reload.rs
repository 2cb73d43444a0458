//! Live reload: what SIGHUP (through [`super::Running::reload`]) applies,
//! and what it reports.

use super::{App, BuildError, load_rules_and_calendar, load_settings, sync_configured_units};
use crate::config::Settings;
use crate::live::Live;
use crate::notify::Composer;

/// What a successful reload changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReloadReport {
    pub rules: usize,
    pub units: usize,
    pub units_retired: u64,
    /// Changed sections that only a restart applies; they were ignored.
    pub needs_restart: Vec<String>,
}

impl App {
    /// Applies new settings without a restart: the rules, the holidays and
    /// what [`crate::config::Reloadable`] lists take effect from the next
    /// cycle. Sections that need a restart are reported and otherwise
    /// ignored. Invalid settings, rules or holidays are rejected and the
    /// configuration in force stays.
    pub async fn reload(&self, new: Settings) -> Result<ReloadReport, BuildError> {
        let (rules, calendar) = load_rules_and_calendar(&new)?;
        let needs_restart = self.settings.changes_needing_restart(&new);
        // The start-up settings, so that what needs a restart really is
        // ignored, with what a reload may change.
        let live = self.settings.clone().with_reloadable(new.reloadable());
        let units_retired = sync_configured_units(&self.store, &live, self.clock.now())
            .await
            .map_err(anyhow::Error::from)?;
        let report = ReloadReport {
            rules: rules.rules.len(),
            units: live.units.len(),
            units_retired,
            needs_restart,
        };
        self.live.replace(Live {
            rules,
            calendar,
            composer: Composer::new(self.mailer.from_domain()),
            settings: live,
        });
        Ok(report)
    }

    /// Re-reads the configuration file and reloads it, logging and counting
    /// the outcome. A rejected configuration leaves the one in force.
    pub async fn reload_from_file(&self) -> bool {
        let result = match &self.config_path {
            None => Err(BuildError::Invalid(
                "no configuration file to reload (started without --config)".into(),
            )),
            Some(path) => match load_settings(path) {
                Ok(settings) => self.reload(settings).await,
                Err(e) => Err(BuildError::Invalid(e.to_string().trim_end().to_owned())),
            },
        };
        match result {
            Ok(r) => {
                self.metrics
                    .config_reload_total
                    .with_label_values(&["success"])
                    .inc();
                self.metrics
                    .config_last_reload_success_timestamp_seconds
                    .set(self.clock.now().timestamp());
                for section in &r.needs_restart {
                    tracing::warn!(
                        section = %section,
                        "configuration changed in a section that needs a restart; ignored until then"
                    );
                }
                tracing::info!(
                    rules = r.rules,
                    units = r.units,
                    units_retired = r.units_retired,
                    "configuration reloaded"
                );
                true
            }
            Err(e) => {
                self.metrics
                    .config_reload_total
                    .with_label_values(&["failure"])
                    .inc();
                tracing::error!(
                    error = %e,
                    "configuration reload rejected; the previous configuration stays in force"
                );
                false
            }
        }
    }
}
