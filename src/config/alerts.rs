//! Who hears of which finding (`[[email.routes]]`), the inspection team's
//! addresses and languages, and the timing of grouped alerts
//! (`[email.grouping]`).

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::domain::{EmailAddress, Language, Recipient, Severity, UnitKind};

/// Reads a list whose entries are either a plain address (`"a@b.example"`,
/// read in Vietnamese, as `email.inspection_team` was first written) or a
/// recipient table (`{ address = "a@b.example", language = "en" }`).
pub fn recipients<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Recipient>, D::Error> {
    Ok(Vec::<RecipientEntry>::deserialize(d)?
        .into_iter()
        .map(|e| e.0)
        .collect())
}

struct RecipientEntry(Recipient);

impl<'de> Deserialize<'de> for RecipientEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RecipientEntry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an e-mail address or { address = \"…\", language = \"vi\" | \"en\" }")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                let address = EmailAddress::parse(s).map_err(E::custom)?;
                Ok(RecipientEntry(Recipient {
                    address,
                    language: Language::Vi,
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Recipient::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RecipientEntry)
            }
        }
        d.deserialize_any(V)
    }
}

/// Who a route sends to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteTo {
    /// The head of the finding's own unit (from the unit directory), in
    /// `email.unit_head_language`.
    UnitHead,
    /// Everyone in `email.inspection_team`.
    InspectionTeam,
    /// These recipients.
    Recipients(Vec<Recipient>),
}

impl Serialize for RouteTo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RouteTo::UnitHead => s.serialize_str("unit_head"),
            RouteTo::InspectionTeam => s.serialize_str("inspection_team"),
            RouteTo::Recipients(r) => r.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for RouteTo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RouteTo;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"unit_head\", \"inspection_team\" or a list of recipients")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                match s {
                    "unit_head" => Ok(RouteTo::UnitHead),
                    "inspection_team" => Ok(RouteTo::InspectionTeam),
                    other => Err(E::custom(format!(
                        "`{other}`: expected \"unit_head\", \"inspection_team\" or a list of recipients"
                    ))),
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(RecipientEntry(r)) = seq.next_element()? {
                    out.push(r);
                }
                Ok(RouteTo::Recipients(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A plan section as a route names it (`2` or `"2"`), kept as text so that
/// it compares with whatever the rules call their sections.
fn sections<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Section(String);
    impl<'de> Deserialize<'de> for Section {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Section;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a plan section (1 to 5)")
                }
                fn visit_i64<E: de::Error>(self, n: i64) -> Result<Section, E> {
                    Ok(Section(n.to_string()))
                }
                fn visit_u64<E: de::Error>(self, n: u64) -> Result<Section, E> {
                    Ok(Section(n.to_string()))
                }
                fn visit_str<E: de::Error>(self, s: &str) -> Result<Section, E> {
                    Ok(Section(s.trim().to_owned()))
                }
            }
            d.deserialize_any(V)
        }
    }
    Ok(Vec::<Section>::deserialize(d)?
        .into_iter()
        .map(|s| s.0)
        .collect())
}

/// One routing rule: a finding that passes every filter given is sent to
/// `to`. Every route is tried; a recipient named by several gets one
/// notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub to: RouteTo,
    /// Only findings of these severities (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severities: Vec<Severity>,
    /// Only findings of rules in these plan sections (empty: any).
    #[serde(
        default,
        deserialize_with = "sections",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub sections: Vec<String>,
    /// Only findings of units of these kinds (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unit_kinds: Vec<UnitKind>,
}

/// The routes used when the file names none: each unit head gets their own
/// unit's alerts, the inspection team every critical finding.
pub fn default_routes() -> Vec<Route> {
    vec![
        Route {
            to: RouteTo::UnitHead,
            severities: Vec::new(),
            sections: Vec::new(),
            unit_kinds: Vec::new(),
        },
        Route {
            to: RouteTo::InspectionTeam,
            severities: vec![Severity::Critical],
            sections: Vec::new(),
            unit_kinds: Vec::new(),
        },
    ]
}

/// Alertmanager-style timing of alert e-mails, per recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GroupingSettings {
    /// How long the first notification of a group waits for others (findings
    /// opened by one evaluation go out as one e-mail; one that opens and
    /// resolves within the wait is never sent).
    #[serde(with = "humantime_serde")]
    pub group_wait: Duration,
    /// The least time between two alert e-mails to one recipient.
    #[serde(with = "humantime_serde")]
    pub group_interval: Duration,
    /// After this long without an e-mail, a recipient with findings still
    /// open is reminded of them.
    #[serde(with = "humantime_serde")]
    pub repeat_interval: Duration,
}

impl Default for GroupingSettings {
    fn default() -> Self {
        Self {
            group_wait: Duration::from_secs(30),
            group_interval: Duration::from_secs(300),
            repeat_interval: Duration::from_secs(24 * 3600),
        }
    }
}

impl GroupingSettings {
    pub fn timing(&self) -> crate::notify::grouping::Timing {
        let d = |x: Duration| chrono::Duration::from_std(x).unwrap_or(chrono::Duration::MAX);
        crate::notify::grouping::Timing {
            group_wait: d(self.group_wait),
            group_interval: d(self.group_interval),
            repeat_interval: d(self.repeat_interval),
        }
    }
}

/// Problems with routes and grouping, as `(key, message)`.
pub fn check(
    routes: &[Route],
    grouping: &GroupingSettings,
    evidence_url: Option<&str>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, r) in routes.iter().enumerate() {
        if let RouteTo::Recipients(list) = &r.to
            && list.is_empty()
        {
            out.push((
                format!("email.routes[{i}].to"),
                "expected at least one recipient".into(),
            ));
        }
        for (j, s) in r.sections.iter().enumerate() {
            let ok = s
                .parse::<u8>()
                .ok()
                .is_some_and(|n| crate::rules::PlanSection::new(n).is_ok());
            if !ok {
                out.push((
                    format!("email.routes[{i}].sections[{j}]"),
                    format!("`{s}` is not a plan section: expected 1 to 5"),
                ));
            }
        }
    }
    if grouping.repeat_interval < Duration::from_secs(60) {
        out.push((
            "email.grouping.repeat_interval".into(),
            "expected at least 1m".into(),
        ));
    }
    if let Some(url) = evidence_url
        && (!(url.starts_with("https://") || url.starts_with("http://")) || !url.contains("{id}"))
    {
        out.push((
            "email.evidence_url".into(),
            "expected an http(s) URL containing `{id}`, e.g. \"https://par.example/findings/{id}\""
                .into(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::{ConfigError, Settings};

    fn load(text: &str) -> Result<Settings, ConfigError> {
        Settings::from_toml_str(text, "test.toml", &BTreeMap::new())
    }

    fn problem_keys(text: &str) -> Vec<String> {
        load(text)
            .unwrap_err()
            .problems
            .into_iter()
            .map(|p| p.key)
            .collect()
    }

    #[test]
    fn without_routes_heads_get_their_units_alerts_and_the_team_critical_ones() {
        let s = load("").unwrap();
        assert_eq!(s.email.routes, default_routes());
        assert_eq!(s.email.grouping, GroupingSettings::default());
    }

    #[test]
    fn the_team_takes_plain_addresses_or_recipients_with_a_language() {
        let s = load(
            "[email]\ninspection_team = [\"a@x.example\", { address = \"b@x.example\", language = \"en\" }]\n\
             [[email.routes]]\nto = [\"c@x.example\"]\nseverities = [\"critical\", \"warning\"]\nsections = [2, \"3\"]\nunit_kinds = [\"xa\"]\n\
             [email.grouping]\ngroup_wait = \"10s\"\n",
        )
        .unwrap();
        let langs: Vec<Language> = s.email.inspection_team.iter().map(|r| r.language).collect();
        assert_eq!(langs, [Language::Vi, Language::En]);
        let r = &s.email.routes[0];
        assert_eq!(
            s.email.routes.len(),
            1,
            "routes written replace the defaults"
        );
        assert!(matches!(&r.to, RouteTo::Recipients(v) if v[0].address.as_str() == "c@x.example"));
        assert_eq!(r.sections, ["2", "3"]);
        assert_eq!(r.unit_kinds, [UnitKind::Xa]);
        assert_eq!(s.email.grouping.group_wait, Duration::from_secs(10));
        assert_eq!(s.email.grouping.repeat_interval, Duration::from_secs(86400));
    }

    #[test]
    fn mistakes_name_their_key() {
        let cases = [
            ("[[email.routes]]\nto = \"leaders\"\n", "email.routes"),
            ("[[email.routes]]\nto = []\n", "email.routes[0].to"),
            (
                "[[email.routes]]\nto = \"unit_head\"\nsections = [9]\n",
                "email.routes[0].sections[0]",
            ),
            (
                "[[email.routes]]\nto = \"unit_head\"\nseverities = [\"urgent\"]\n",
                "email.routes",
            ),
            (
                "[email]\ninspection_team = [{ address = \"x@y.example\", language = \"fr\" }]\n",
                "email.inspection_team",
            ),
            (
                "[email]\nevidence_url = \"https://par.example/findings\"\n",
                "email.evidence_url",
            ),
            (
                "[email.grouping]\nrepeat_interval = \"0s\"\n",
                "email.grouping.repeat_interval",
            ),
        ];
        for (text, key) in cases {
            let keys = problem_keys(text);
            assert!(keys.iter().any(|k| k.starts_with(key)), "{text}: {keys:?}");
        }
    }
}
