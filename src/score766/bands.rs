//! The rating bands of a complete total: excellent and good fixed by the portal, fair and average
//! from the configuration.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The rating bands of the total score.
///
/// Excellent (≥ 90) and good (≥ 80) are fixed by the portal; the cut-offs of fair and average are
/// configurable. Weak is everything below `average_from`: the portal's "< 50" holds with the default,
/// and a province that raises `average_from` above 50 rates more units weak.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(try_from = "BandCutOffs", into = "BandCutOffs")]
pub struct Bands {
    fair_from: f64,
    average_from: f64,
}

/// The configuration form of [`Bands`], checked by [`Bands::new`].
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct BandCutOffs {
    #[serde(default = "default_fair_from")]
    fair_from: f64,
    #[serde(default = "default_average_from")]
    average_from: f64,
}

const fn default_fair_from() -> f64 {
    70.0
}

const fn default_average_from() -> f64 {
    50.0
}

impl From<Bands> for BandCutOffs {
    fn from(b: Bands) -> Self {
        BandCutOffs {
            fair_from: b.fair_from,
            average_from: b.average_from,
        }
    }
}

impl TryFrom<BandCutOffs> for Bands {
    type Error = BandsError;

    fn try_from(cut_offs: BandCutOffs) -> Result<Self, Self::Error> {
        Bands::new(cut_offs.fair_from, cut_offs.average_from)
    }
}

/// Band cut-offs that do not describe five ordered bands.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum BandsError {
    /// A cut-off is NaN or infinite.
    #[error(
        "band cut-offs must be finite, got fair_from = {fair_from}, average_from = {average_from}"
    )]
    NotFinite {
        /// The configured fair cut-off.
        fair_from: f64,
        /// The configured average cut-off.
        average_from: f64,
    },
    /// The average cut-off is below 0, where no total can be.
    #[error("average_from ({average_from}) must not be negative")]
    NegativeAverage {
        /// The configured average cut-off.
        average_from: f64,
    },
    /// The average band would be empty or inverted.
    #[error("average_from ({average_from}) must be below fair_from ({fair_from})")]
    AverageNotBelowFair {
        /// The configured fair cut-off.
        fair_from: f64,
        /// The configured average cut-off.
        average_from: f64,
    },
    /// The fair band would be empty or overlap the fixed good band.
    #[error("fair_from ({fair_from}) must be below 80, where the good band starts")]
    FairNotBelowGood {
        /// The configured fair cut-off.
        fair_from: f64,
    },
}

impl Bands {
    /// The total from which a unit is excellent, fixed by the portal.
    pub const EXCELLENT_FROM: f64 = 90.0;
    /// The total from which a unit is good, fixed by the portal.
    pub const GOOD_FROM: f64 = 80.0;

    /// Bands with the given cut-offs.
    ///
    /// # Errors
    ///
    /// Unless 0 ≤ `average_from` < `fair_from` < 80, with both finite. `average_from` may exceed 50.
    pub fn new(fair_from: f64, average_from: f64) -> Result<Self, BandsError> {
        if !fair_from.is_finite() || !average_from.is_finite() {
            return Err(BandsError::NotFinite {
                fair_from,
                average_from,
            });
        }
        if average_from < 0.0 {
            return Err(BandsError::NegativeAverage { average_from });
        }
        if average_from >= fair_from {
            return Err(BandsError::AverageNotBelowFair {
                fair_from,
                average_from,
            });
        }
        if fair_from >= Self::GOOD_FROM {
            return Err(BandsError::FairNotBelowGood { fair_from });
        }
        Ok(Bands {
            fair_from,
            average_from,
        })
    }

    /// The total from which a unit is fair.
    pub fn fair_from(&self) -> f64 {
        self.fair_from
    }

    /// The total from which a unit is average; below it a unit is weak.
    pub fn average_from(&self) -> f64 {
        self.average_from
    }

    /// The band of a total score. Each cut-off belongs to the band above it: 90 is excellent.
    pub fn band_for(&self, total: f64) -> Band {
        if total >= Self::EXCELLENT_FROM {
            Band::Excellent
        } else if total >= Self::GOOD_FROM {
            Band::Good
        } else if total >= self.fair_from {
            Band::Fair
        } else if total >= self.average_from {
            Band::Average
        } else {
            Band::Weak
        }
    }
}

impl Default for Bands {
    /// The defaults of domain.md: fair from 70, average from 50.
    fn default() -> Self {
        Bands {
            fair_from: default_fair_from(),
            average_from: default_average_from(),
        }
    }
}

/// A unit's rating.
// No `Ord`: the declaration order runs from best to worst, and `band >= Band::Good` would read as
// the opposite of what it meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Xuất sắc: 90 and above.
    Excellent,
    /// Tốt: 80 to below 90.
    Good,
    /// Khá: from the fair cut-off to below 80.
    Fair,
    /// Trung bình: from the average cut-off to below the fair one.
    Average,
    /// Yếu: below the average cut-off.
    Weak,
}

impl Band {
    /// The band's Vietnamese name, as used in assessments.
    pub const fn name_vi(self) -> &'static str {
        match self {
            Band::Excellent => "xuất sắc",
            Band::Good => "tốt",
            Band::Fair => "khá",
            Band::Average => "trung bình",
            Band::Weak => "yếu",
        }
    }

    /// The band's English name.
    pub const fn name_en(self) -> &'static str {
        match self {
            Band::Excellent => "excellent",
            Band::Good => "good",
            Band::Fair => "fair",
            Band::Average => "average",
            Band::Weak => "weak",
        }
    }
}
