//! The simulated province's unit directory and each unit's behaviour.
//!
//! The first six units are fixed (tests name them). Further units are
//! departments `H44.NN`, one in five while the real department list lasts,
//! and communes `H44.102`, `H44.103`, … with generated Vietnamese names.

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::rngs::StdRng;

use super::catalog::{
    self, DEPARTMENTS, FIXED_UNITS, Level, PROCEDURES, commune_names, procedures_for_fixed,
};
use crate::domain::{EmailAddress, Unit, UnitCode, UnitKind};

/// How a unit behaves: the shares the generator draws its records with.
/// Every field is a probability in [0, 1].
#[derive(Clone, Debug)]
pub(crate) struct Profile {
    /// Designed share of received dossiers finished on time.
    pub on_time: f64,
    /// Dossiers submitted online.
    pub online: f64,
    /// Online-submitted dossiers with fees that were also paid online.
    pub pay_online: f64,
    /// Dossiers whose components were digitized.
    pub digitize: f64,
    /// Digitized dossiers that reused already-digitized data.
    pub reuse: f64,
    /// Finished dossiers with an electronic result.
    pub e_result: f64,
    /// Dossiers synced to the national portal.
    pub synced: f64,
    /// E-results shared to the citizen's data store.
    pub shared_store: f64,
    /// Dossiers that used population-database data.
    pub population_data: f64,
    /// Late dossiers that got an apology notice.
    pub apology: f64,
    /// Outgoing documents sent over the interconnection axis.
    pub doc_electronic: f64,
    /// Electronically sent documents that were digitally signed.
    pub doc_signed: f64,
    /// Handled documents filed into an electronic work file.
    pub work_file: f64,
    /// Incoming documents handled by their deadline.
    pub incoming_on_time: f64,
    /// Reports submitted by the deadline.
    pub report_on_time: f64,
    /// Reports never submitted.
    pub report_missing: f64,
    /// Petitions answered within 15 working days.
    pub petition_on_time: f64,
}

impl Profile {
    /// A unit's behaviour from its on-time rate and whether its office IT
    /// lags, with some noise so that no two units look alike.
    fn draw(on_time: f64, lagging: bool, kind: UnitKind, rng: &mut StdRng) -> Profile {
        let mut r = |lo: f64, hi: f64| rng.random_range(lo..hi);
        let online = match kind {
            UnitKind::Xa => r(0.25, 0.75),
            _ => r(0.55, 0.95),
        };
        let (doc_electronic, doc_signed, work_file, report_on_time, report_missing) = if lagging {
            (
                r(0.55, 0.85),
                r(0.6, 0.85),
                r(0.35, 0.7),
                r(0.55, 0.8),
                r(0.05, 0.15),
            )
        } else {
            (
                r(0.95, 1.0),
                r(0.93, 1.0),
                r(0.85, 1.0),
                r(0.9, 1.0),
                r(0.0, 0.03),
            )
        };
        let poor = on_time < 0.9;
        Profile {
            on_time,
            online,
            pay_online: if lagging { r(0.35, 0.7) } else { r(0.7, 0.98) },
            digitize: if lagging { r(0.45, 0.75) } else { r(0.75, 1.0) },
            reuse: r(0.3, 0.9),
            e_result: if lagging { r(0.4, 0.75) } else { r(0.75, 1.0) },
            synced: r(0.92, 1.0),
            shared_store: r(0.4, 0.9),
            population_data: r(0.4, 0.9),
            apology: if poor { r(0.3, 0.6) } else { r(0.7, 1.0) },
            doc_electronic,
            doc_signed,
            work_file,
            incoming_on_time: if lagging { r(0.7, 0.9) } else { r(0.9, 1.0) },
            report_on_time,
            report_missing,
            petition_on_time: if poor { r(0.6, 0.85) } else { r(0.9, 1.0) },
        }
    }
}

/// A unit as the simulator keeps it.
#[derive(Clone, Debug)]
pub(crate) struct SimUnit {
    pub unit: Unit,
    pub profile: Profile,
    /// Indices into [`PROCEDURES`] of what the unit handles (none for the
    /// province office, which runs no one-stop desk of its own).
    pub procedures: Vec<usize>,
    /// The directory's NgayCapNhat.
    pub updated_at: Option<DateTime<Utc>>,
}

fn head_email(code: &str) -> EmailAddress {
    let local = code.to_ascii_lowercase().replace('.', "-");
    EmailAddress::parse(&format!("lanhdao@{local}.example")).expect("valid generated address")
}

/// The unit directory: `n` units (at least one), listed at `listed_at`.
pub(crate) fn make_units(n: usize, listed_at: DateTime<Utc>, rng: &mut StdRng) -> Vec<SimUnit> {
    let province = UnitCode::parse(FIXED_UNITS[0].code).expect("valid code");
    let province_procs = catalog::procedures_of(Level::Province);
    let commune_procs = catalog::procedures_of(Level::Commune);
    let mut departments = DEPARTMENTS.iter();
    let mut communes = commune_names();
    let mut next_commune = 102;
    let mut spare_round = 1;
    let mut out = Vec::with_capacity(n.max(1));
    for i in 0..n.max(1) {
        let (code, name, kind, on_time, lagging) = if let Some(f) = FIXED_UNITS.get(i) {
            (
                f.code.to_owned(),
                f.name.to_owned(),
                f.kind,
                f.on_time,
                f.lagging,
            )
        } else {
            let extra = i - FIXED_UNITS.len();
            // One in five extra units is a department while there are any left,
            // so that even a small province has both kinds.
            let dept = if extra.is_multiple_of(5) {
                departments.next()
            } else {
                None
            };
            let (code, name, kind) = match dept {
                Some(&(nn, name, kind)) => (format!("H44.{nn}"), name.to_owned(), kind),
                None => {
                    let base = communes.next().unwrap_or_else(|| {
                        // Past ~2,300 communes the syllable pairs run out; start
                        // over with a suffix rather than fail.
                        spare_round += 1;
                        communes = commune_names();
                        communes.next().expect("the name list is not empty")
                    });
                    let base = if spare_round > 1 {
                        format!("{base} {spare_round}")
                    } else {
                        base
                    };
                    // About a quarter of commune-level units are urban wards.
                    let prefix = if rng.random_bool(0.25) {
                        "phường"
                    } else {
                        "xã"
                    };
                    let code = format!("H44.{next_commune}");
                    next_commune += 1;
                    (code, format!("UBND {prefix} {base}"), UnitKind::Xa)
                }
            };
            // Most units do well; about one in eight clearly fails on time,
            // and about one in six lags in office IT.
            let on_time = if rng.random_bool(0.125) {
                rng.random_range(0.70..0.88)
            } else {
                rng.random_range(0.95..1.0)
            };
            let lagging = rng.random_bool(1.0 / 6.0);
            (code, name, kind, on_time, lagging)
        };
        let profile = Profile::draw(on_time, lagging, kind, rng);
        let procedures = match kind {
            UnitKind::Province | UnitKind::Phong => Vec::new(),
            UnitKind::Xa => commune_procs.clone(),
            UnitKind::ServiceCenter => province_procs.clone(),
            UnitKind::SoNganh => match procedures_for_fixed(&code) {
                Some(codes) => codes
                    .iter()
                    .filter_map(|c| PROCEDURES.iter().position(|p| p.code == *c))
                    .collect(),
                // A department handles two or three of the provincial procedures.
                None => {
                    let start = rng.random_range(0..province_procs.len());
                    let take = rng.random_range(2..=3);
                    (0..take)
                        .map(|k| province_procs[(start + k) % province_procs.len()])
                        .collect()
                }
            },
        };
        let unit_code = UnitCode::parse(&code).expect("valid generated code");
        out.push(SimUnit {
            unit: Unit {
                head_email: Some(head_email(&code)),
                parent: (unit_code != province).then(|| province.clone()),
                code: unit_code,
                name,
                kind: Some(kind),
            },
            profile,
            procedures,
            updated_at: Some(listed_at),
        });
    }
    out
}
