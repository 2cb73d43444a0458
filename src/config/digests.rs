//! `[digests]`: the periodic summaries for leadership, the inspection team
//! and unit heads.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Schedule;
use crate::domain::Recipient;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigestSettings {
    /// When false, no digest is queued.
    pub enabled: bool,
    /// The kinds that are sent.
    pub kinds: Vec<DigestKind>,
    /// When each kind is sent (cron with seconds, Asia/Ho_Chi_Minh). A
    /// digest covers the last whole period (day, Monday-to-Sunday week,
    /// calendar month) that ended before the firing.
    pub daily: Schedule,
    pub weekly: Schedule,
    pub monthly: Schedule,
    /// Leadership: every kind, province-wide, without inspection proposals.
    pub leadership: Vec<Recipient>,
    /// How many of the lowest-scoring units (and of the highest risks) a
    /// province-wide digest lists.
    pub bottom_units: usize,
    /// Whether `email.inspection_team` gets every kind too, with the latest
    /// unannounced-inspection proposal. Only these e-mails carry it.
    pub inspection_team: bool,
    /// Whether each unit head (`head_email` in the unit directory) gets a
    /// monthly digest of their own unit only.
    pub unit_heads: bool,
    /// How long a digest that is due waits for a source whose data does not
    /// cover its period yet (no completed poll since the period ended, e.g.
    /// at start-up). After it, the digest goes out with that source's
    /// figures marked unavailable and the reason.
    #[serde(with = "humantime_serde")]
    pub wait_for_data: std::time::Duration,
}

impl Default for DigestSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            kinds: DigestKind::ALL.to_vec(),
            daily: Schedule::parse("0 0 7 * * *").expect("valid default"),
            weekly: Schedule::parse("0 30 7 * * Mon").expect("valid default"),
            monthly: Schedule::parse("0 0 8 1 * *").expect("valid default"),
            leadership: Vec::new(),
            bottom_units: 5,
            inspection_team: true,
            unit_heads: true,
            wait_for_data: std::time::Duration::from_secs(30 * 60),
        }
    }
}

impl DigestSettings {
    pub fn schedule(&self, kind: DigestKind) -> &Schedule {
        match kind {
            DigestKind::Daily => &self.daily,
            DigestKind::Weekly => &self.weekly,
            DigestKind::Monthly => &self.monthly,
        }
    }

    /// Problems with `[digests]`, as `(key, message)`.
    pub(super) fn check(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if !(1..=50).contains(&self.bottom_units) {
            out.push((
                "digests.bottom_units".into(),
                "expected a number of units from 1 to 50".into(),
            ));
        }
        out
    }

    /// The kinds sent, each once, in a fixed order.
    pub fn enabled_kinds(&self) -> Vec<DigestKind> {
        if !self.enabled {
            return Vec::new();
        }
        DigestKind::ALL
            .into_iter()
            .filter(|k| self.kinds.contains(k))
            .collect()
    }
}

/// How often a digest is sent, and so the period it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestKind {
    Daily,
    Weekly,
    Monthly,
}

impl DigestKind {
    pub const ALL: [DigestKind; 3] = [DigestKind::Daily, DigestKind::Weekly, DigestKind::Monthly];

    pub fn as_str(self) -> &'static str {
        match self {
            DigestKind::Daily => "daily",
            DigestKind::Weekly => "weekly",
            DigestKind::Monthly => "monthly",
        }
    }
}

impl fmt::Display for DigestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DigestKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "daily" => Ok(DigestKind::Daily),
            "weekly" => Ok(DigestKind::Weekly),
            "monthly" => Ok(DigestKind::Monthly),
            other => Err(format!(
                "unknown digest kind `{other}`: expected daily, weekly or monthly"
            )),
        }
    }
}
