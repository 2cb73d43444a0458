//! `GET /findings`: the filter form, one page of the findings it selects,
//! the links to the previous and next pages and to the exports of the same
//! list.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Html;
use minijinja::context;
use serde::Serialize;

use super::{
    PER_PAGE, evidence, result_name, rule_title, section_label, section_of, severity_name,
    state_name, unit_names,
};
use crate::domain::{Language, Severity, Unit};
use crate::findings::State as FindingState;
use crate::notify::compose::{threshold_text, value_text};
use crate::rules::{PlanSection, RuleSet};
use crate::storage::FindingRecord;
use crate::web::{FindingsQuery, Viewer, WebError, WebState};
use crate::workflow;

/// One finding, one line of the list.
#[derive(Debug, Serialize)]
pub(super) struct Row {
    pub id: i64,
    pub rule_title: String,
    pub section: Option<String>,
    pub unit_code: String,
    pub unit_name: Option<String>,
    pub severity: &'static str,
    /// `info`, `warning`, `critical`: the css class `sev-…`.
    pub severity_class: &'static str,
    pub state: &'static str,
    pub result: &'static str,
    /// RFC 3339, for the `localtime` filter.
    pub opened_at: String,
    pub value: Option<String>,
    pub threshold: Option<String>,
}

pub(super) fn row(
    f: &FindingRecord,
    rules: &RuleSet,
    names: &HashMap<&str, &str>,
    lang: Language,
) -> Row {
    let e = evidence(&f.last_detail);
    Row {
        id: f.id,
        rule_title: rule_title(rules, &f.rule_id, lang),
        section: section_of(rules, &f.rule_id, lang),
        unit_code: f.unit_code.to_string(),
        unit_name: names.get(f.unit_code.as_str()).map(|n| (*n).to_owned()),
        severity: severity_name(f.severity, lang),
        severity_class: f.severity.as_str(),
        state: state_name(f.state, lang),
        result: result_name(f.last_result, lang),
        opened_at: f.opened_at.to_rfc3339(),
        value: e.as_ref().map(|e| value_text(e, lang)),
        threshold: e
            .as_ref()
            .map(|e| threshold_text(e, lang))
            .filter(|t| !t.is_empty()),
    }
}

/// One option of a select. The "all" option (the empty value) is the
/// template's, with its words.
#[derive(Debug, Serialize, PartialEq)]
pub(super) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choices(
    options: impl IntoIterator<Item = (String, String)>,
    current: &Option<String>,
) -> Vec<Choice> {
    let current = current.as_deref().map(str::trim).unwrap_or("");
    options
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == current,
            value,
            label,
        })
        .collect()
}

/// The filter form's selects, each with the query's choice selected.
#[derive(Debug, Serialize)]
pub(super) struct FilterForm {
    pub state: Vec<Choice>,
    /// `state=all`: resolved ones too.
    pub state_all: bool,
    pub severity: Vec<Choice>,
    pub section: Vec<Choice>,
    pub rule: Vec<Choice>,
    pub unit: Vec<Choice>,
    /// A unit head's select has their unit only, and no "all".
    pub unit_fixed: bool,
    /// Values `7d` … whose words are the template's (`findings.window.7d`).
    pub window: Vec<Choice>,
}

/// The windows the form offers.
const WINDOWS: [&str; 4] = ["7d", "30d", "90d", "365d"];

pub(super) fn filter_form(
    q: &FindingsQuery,
    viewer: &Viewer,
    rules: &RuleSet,
    units: &[Unit],
) -> FilterForm {
    let lang = viewer.language;
    let states = [
        FindingState::Open,
        FindingState::Acknowledged,
        FindingState::Silenced,
        FindingState::Resolved,
    ]
    .map(|s| (s.as_str().to_owned(), state_name(s, lang).to_owned()));
    let sev = [Severity::Info, Severity::Warning, Severity::Critical]
        .map(|s| (s.as_str().to_owned(), severity_name(s, lang).to_owned()));
    let sections = (1..=5u8)
        .filter_map(|n| PlanSection::new(n).ok())
        .map(|s| (s.number().to_string(), section_label(s, lang)));
    let rule_opts = rules
        .rules
        .iter()
        .map(|r| (r.id.to_string(), rule_title(rules, &r.id, lang)));
    let unit_opts = units
        .iter()
        .filter(|u| viewer.sees_unit(&u.code))
        .map(|u| (u.code.to_string(), format!("{} ({})", u.name, u.code)));
    let unit_fixed = viewer.scope().is_some();
    let mut unit = choices(unit_opts, &q.unit);
    if unit_fixed {
        unit.iter_mut().for_each(|c| c.selected = true);
    }
    FilterForm {
        state: choices(states, &q.state),
        state_all: q.state.as_deref().map(str::trim) == Some("all"),
        severity: choices(sev, &q.severity),
        section: choices(sections, &q.section),
        rule: choices(rule_opts, &q.rule),
        unit,
        unit_fixed,
        window: choices(WINDOWS.map(|w| (w.to_owned(), w.to_owned())), &q.window),
    }
}

pub(super) async fn page(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<FindingsQuery>,
) -> Result<Html<String>, WebError> {
    let live = state.live.load();
    let filter = query.filter(&viewer, &live.rules, state.clock.now())?;
    let mut found = workflow::list(&state.store, &filter).await?;
    // Newest first, as `findings list` prints them.
    found.reverse();
    let units = state.store.units().await?;
    let names = unit_names(&units);
    let page = query.page();
    let first = (page as usize - 1).saturating_mul(PER_PAGE);
    let rows: Vec<Row> = found
        .iter()
        .skip(first)
        .take(PER_PAGE)
        .map(|f| row(f, &live.rules, &names, viewer.language))
        .collect();
    let more = found.len() > first + rows.len();
    let ctx = context! {
        form => filter_form(&query, &viewer, &live.rules, &units),
        rows => rows,
        total => found.len(),
        page => page,
        pages => found.len().div_ceil(PER_PAGE).max(1),
        prev => (page > 1).then(|| query.to_query_string(Some(page - 1))),
        next => more.then(|| query.to_query_string(Some(page + 1))),
        export_query => query.to_query_string(None),
    };
    state.templates.render("findings.html", &viewer, ctx)
}
