//! Routing, pure: who is told of a finding, from `[[email.routes]]`.
//!
//! A unit head hears only of their own unit: a route to `unit_head` names
//! the head of the finding's unit, and no route may hand a finding to the
//! head of another unit (an address that heads other units but not this one
//! is dropped, whatever the routes say).

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{Route, RouteTo};
use crate::domain::{EmailAddress, Language, Recipient, Severity, Unit, UnitCode};

/// The inspection team's members to whom confidential mail (proposals for
/// unannounced inspection) may go: a member who is also the head of a unit
/// is left out, so that no unit can learn it is to be inspected. Each one
/// left out is logged (by domain) so that the configuration gets fixed.
pub fn confidential_recipients(team: &[Recipient], units: &[Unit]) -> Vec<Recipient> {
    let heads: BTreeSet<&EmailAddress> =
        units.iter().filter_map(|u| u.head_email.as_ref()).collect();
    team.iter()
        .filter(|r| {
            let heads_a_unit = heads.contains(&r.address);
            if heads_a_unit {
                tracing::warn!(
                    to = r.address.domain(),
                    "an inspection-team address is also a unit head's; it gets no confidential mail"
                );
            }
            !heads_a_unit
        })
        .cloned()
        .collect()
}

/// What routing needs to know of a finding.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    pub severity: Severity,
    /// The plan section of the finding's rule, as text (`"2"`).
    pub section: &'a str,
    pub unit: &'a Unit,
}

/// The routes in force and the directory they resolve against.
#[derive(Clone, Debug, Default)]
pub struct Routing {
    pub routes: Vec<Route>,
    pub inspection_team: Vec<Recipient>,
    pub unit_head_language: Language,
    /// Every unit head's address and the units they head.
    pub heads: BTreeMap<EmailAddress, BTreeSet<UnitCode>>,
}

impl Routing {
    pub fn new(
        routes: Vec<Route>,
        inspection_team: Vec<Recipient>,
        unit_head_language: Language,
        units: &[Unit],
    ) -> Routing {
        let mut heads: BTreeMap<EmailAddress, BTreeSet<UnitCode>> = BTreeMap::new();
        for u in units {
            if let Some(h) = &u.head_email {
                heads.entry(h.clone()).or_default().insert(u.code.clone());
            }
        }
        Routing {
            routes,
            inspection_team,
            unit_head_language,
            heads,
        }
    }

    /// The recipients of a finding, each once (the first route that names an
    /// address decides its language), in route order.
    pub fn route(&self, f: &Facts<'_>) -> Vec<Recipient> {
        let mut out: Vec<Recipient> = Vec::new();
        for r in self.routes.iter().filter(|r| matches(r, f)) {
            let named: Vec<Recipient> = match &r.to {
                RouteTo::UnitHead => f
                    .unit
                    .head_email
                    .iter()
                    .map(|a| Recipient {
                        address: a.clone(),
                        language: self.unit_head_language,
                    })
                    .collect(),
                RouteTo::InspectionTeam => self.inspection_team.clone(),
                RouteTo::Recipients(list) => list.clone(),
            };
            for rc in named {
                let heads_another = self
                    .heads
                    .get(&rc.address)
                    .is_some_and(|units| !units.contains(&f.unit.code));
                if heads_another {
                    tracing::warn!(
                        unit = %f.unit.code,
                        recipient_domain = rc.address.domain(),
                        "a route names the head of another unit; not sent"
                    );
                    continue;
                }
                if !out.iter().any(|o| o.address == rc.address) {
                    out.push(rc);
                }
            }
        }
        out
    }
}

fn matches(r: &Route, f: &Facts<'_>) -> bool {
    (r.severities.is_empty() || r.severities.contains(&f.severity))
        && (r.sections.is_empty() || r.sections.iter().any(|s| s == f.section))
        && (r.unit_kinds.is_empty() || f.unit.kind.is_some_and(|k| r.unit_kinds.contains(&k)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::default_routes;
    use crate::domain::UnitKind;

    #[test]
    fn no_unit_head_is_a_confidential_recipient_even_on_the_team() {
        let r = |a: &str| Recipient {
            address: EmailAddress::parse(a).unwrap(),
            language: Language::Vi,
        };
        let units = [
            unit("H44.100", UnitKind::Xa, Some("lanhdao@h44-100.example")),
            unit("H44.07", UnitKind::SoNganh, None),
        ];
        let team = [r("thanhtra@vpubnd.example"), r("lanhdao@h44-100.example")];
        assert_eq!(
            confidential_recipients(&team, &units),
            vec![r("thanhtra@vpubnd.example")]
        );
    }

    fn unit(code: &str, kind: UnitKind, head: Option<&str>) -> Unit {
        Unit {
            code: UnitCode::parse(code).unwrap(),
            name: format!("Đơn vị {code}"),
            kind: Some(kind),
            parent: None,
            head_email: head.map(|h| EmailAddress::parse(h).unwrap()),
        }
    }

    fn rc(a: &str, language: Language) -> Recipient {
        Recipient {
            address: EmailAddress::parse(a).unwrap(),
            language,
        }
    }

    fn units() -> Vec<Unit> {
        vec![
            unit("H44.100", UnitKind::Xa, Some("lanhdao@h44-100.example")),
            unit("H44.07", UnitKind::SoNganh, Some("giamdoc@stp.example")),
            unit("H44.101", UnitKind::Xa, None),
        ]
    }

    fn team() -> Vec<Recipient> {
        vec![
            rc("doankt@vpubnd.example", Language::Vi),
            rc("advisor@vpubnd.example", Language::En),
        ]
    }

    fn route(to: RouteTo, sev: &[Severity], sections: &[&str], kinds: &[UnitKind]) -> Route {
        Route {
            to,
            severities: sev.to_vec(),
            sections: sections.iter().map(|s| s.to_string()).collect(),
            unit_kinds: kinds.to_vec(),
        }
    }

    fn check(
        routes: Vec<Route>,
        unit_code: &str,
        severity: Severity,
        section: &str,
        expected: &[&str],
    ) {
        let all = units();
        let r = Routing::new(routes, team(), Language::Vi, &all);
        let unit = all.iter().find(|u| u.code.as_str() == unit_code).unwrap();
        let got: Vec<String> = r
            .route(&Facts {
                severity,
                section,
                unit,
            })
            .into_iter()
            .map(|r| format!("{}:{}", r.address, r.language.as_str()))
            .collect();
        assert_eq!(got, expected, "{unit_code} {severity} section {section}");
    }

    #[test]
    fn default_routes_tell_the_head_everything_and_the_team_what_is_critical() {
        use Severity::*;
        let cases: &[(&str, Severity, &[&str])] = &[
            ("H44.100", Warning, &["lanhdao@h44-100.example:vi"]),
            (
                "H44.100",
                Critical,
                &[
                    "lanhdao@h44-100.example:vi",
                    "doankt@vpubnd.example:vi",
                    "advisor@vpubnd.example:en",
                ],
            ),
            ("H44.07", Info, &["giamdoc@stp.example:vi"]),
            // No head in the directory: only the team, and only if critical.
            ("H44.101", Warning, &[]),
            (
                "H44.101",
                Critical,
                &["doankt@vpubnd.example:vi", "advisor@vpubnd.example:en"],
            ),
        ];
        for (unit, sev, expected) in cases {
            check(default_routes(), unit, *sev, "2", expected);
        }
    }

    #[test]
    fn filters_by_severity_section_and_unit_kind() {
        use Severity::*;
        let it = rc("cntt@vpubnd.example", Language::En);
        let routes = || {
            vec![
                route(RouteTo::Recipients(vec![it.clone()]), &[], &["3"], &[]),
                route(
                    RouteTo::Recipients(vec![rc("xa@vpubnd.example", Language::Vi)]),
                    &[Warning, Critical],
                    &[],
                    &[UnitKind::Xa],
                ),
            ]
        };
        let cases: &[(&str, Severity, &str, &[&str])] = &[
            ("H44.100", Warning, "2", &["xa@vpubnd.example:vi"]),
            ("H44.100", Info, "2", &[]),
            (
                "H44.100",
                Critical,
                "3",
                &["cntt@vpubnd.example:en", "xa@vpubnd.example:vi"],
            ),
            ("H44.07", Critical, "2", &[]),
            ("H44.07", Info, "3", &["cntt@vpubnd.example:en"]),
        ];
        for (unit, sev, section, expected) in cases {
            check(routes(), unit, *sev, section, expected);
        }
    }

    #[test]
    fn an_address_named_twice_is_told_once_in_the_first_routes_language() {
        let routes = vec![
            route(RouteTo::InspectionTeam, &[], &[], &[]),
            route(
                RouteTo::Recipients(vec![rc("advisor@vpubnd.example", Language::Vi)]),
                &[],
                &[],
                &[],
            ),
        ];
        check(
            routes,
            "H44.07",
            Severity::Warning,
            "1",
            &["doankt@vpubnd.example:vi", "advisor@vpubnd.example:en"],
        );
    }

    #[test]
    fn a_unit_head_never_receives_another_units_findings() {
        // A misconfigured route lists a commune head explicitly: a finding
        // of another unit still does not reach them, one of their own does.
        let routes = vec![route(
            RouteTo::Recipients(vec![
                rc("lanhdao@h44-100.example", Language::Vi),
                rc("doankt@vpubnd.example", Language::Vi),
            ]),
            &[],
            &[],
            &[],
        )];
        check(
            routes.clone(),
            "H44.07",
            Severity::Critical,
            "2",
            &["doankt@vpubnd.example:vi"],
        );
        check(
            routes,
            "H44.100",
            Severity::Critical,
            "2",
            &["lanhdao@h44-100.example:vi", "doankt@vpubnd.example:vi"],
        );
        // The head language setting applies to heads.
        let all = units();
        let r = Routing::new(default_routes(), vec![], Language::En, &all);
        let got = r.route(&Facts {
            severity: Severity::Warning,
            section: "2",
            unit: &all[1],
        });
        assert_eq!(got, vec![rc("giamdoc@stp.example", Language::En)]);
    }
}
