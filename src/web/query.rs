//! The findings filter as the console's forms and links write it, shared by
//! the findings page and the findings exports, so an export holds exactly
//! the rows the page lists.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Viewer, WebError};
use crate::domain::UnitCode;
use crate::rules::{PlanSection, RuleId, RuleSet};
use crate::workflow::Filter;

/// `/findings?state=&severity=&section=&rule=&unit=&window=&page=`. An
/// empty field (a select left at "all") is no filter.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct FindingsQuery {
    /// `open`, `acknowledged`, `silenced`, `resolved`, or `all`; none: the
    /// active ones.
    pub state: Option<String>,
    pub severity: Option<String>,
    /// A plan section, `1` to `5`.
    pub section: Option<String>,
    pub rule: Option<String>,
    pub unit: Option<String>,
    /// Opened within this long before now: `7d`, `30d`, `12w`.
    pub window: Option<String>,
    /// 1-based.
    pub page: Option<u32>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn bad(field: &str, e: impl std::fmt::Display) -> WebError {
    WebError::BadRequest(format!("{field}: {e}"))
}

impl FindingsQuery {
    /// The filter this query asks for, as `viewer` may see it: a unit head's
    /// query is limited to their unit, and naming another unit is refused.
    pub fn filter(
        &self,
        viewer: &Viewer,
        rules: &RuleSet,
        now: DateTime<Utc>,
    ) -> Result<Filter, WebError> {
        let mut filter = Filter::default();
        match given(&self.state) {
            None => {}
            Some("all") => filter.include_resolved = true,
            Some(s) => filter.state = Some(s.parse().map_err(|e| bad("state", e))?),
        }
        if let Some(s) = given(&self.severity) {
            filter.severity = Some(s.parse().map_err(|e| bad("severity", e))?);
        }
        let unit = match given(&self.unit) {
            Some(u) => {
                let code = UnitCode::parse(u).map_err(|e| bad("unit", e.0))?;
                viewer.require_unit(&code)?;
                Some(code)
            }
            None => viewer.scope().cloned(),
        };
        filter.unit = unit.map(|u| u.as_str().to_owned());
        if let Some(s) = given(&self.section) {
            let n = s.parse::<u8>().map_err(|e| bad("section", e))?;
            let section = PlanSection::new(n).map_err(|e| bad("section", e))?;
            let ids = rules.rules.iter().filter(|r| r.section == section);
            filter.rules = Some(ids.map(|r| r.id.clone()).collect());
        }
        if let Some(r) = given(&self.rule) {
            let id = RuleId::parse(r).map_err(|e| bad("rule", e))?;
            filter.rules = Some(match filter.rules.take() {
                Some(ids) => ids.into_iter().filter(|i| *i == id).collect(),
                None => vec![id],
            });
        }
        if let Some(w) = given(&self.window) {
            let d = humantime::parse_duration(w).map_err(|e| bad("window", e))?;
            let d = chrono::Duration::from_std(d).map_err(|e| bad("window", e))?;
            filter.opened_since = Some(now - d);
        }
        Ok(filter)
    }

    /// The page asked for, from 1.
    pub fn page(&self) -> u32 {
        self.page.unwrap_or(1).max(1)
    }

    /// The query as a URL query string (no `?`), with `page` replaced, for
    /// the paging links and the export links of the same list.
    pub fn to_query_string(&self, page: Option<u32>) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        let fields = [
            ("state", &self.state),
            ("severity", &self.severity),
            ("section", &self.section),
            ("rule", &self.rule),
            ("unit", &self.unit),
            ("window", &self.window),
        ];
        for (k, v) in fields {
            if let Some(v) = given(v) {
                out.append_pair(k, v);
            }
        }
        if let Some(p) = page {
            out.append_pair("page", &p.to_string());
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests;
