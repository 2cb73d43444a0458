//! `/findings`: the list people filter and page through ([`list`]), one
//! finding with its evidence, sample records and audit trail ([`detail`]),
//! and the actions on it, acknowledge, silence and resolve ([`actions`]),
//! each form carrying the session's CSRF token.
//!
//! The evidence reads as in the alert e-mails: its words come from
//! `notify::compose`, so a page and a mail never say it differently.

mod actions;
mod detail;
mod list;
mod texts;

use std::collections::HashMap;

use axum::Router;
use axum::routing::{get, post};

pub(super) use texts::TEXTS;

use super::WebState;
use crate::domain::{Language, Severity, Unit};
use crate::findings::{EventKind, Evidence, LastResult, State};
use crate::rules::{PlanSection, RuleId, RuleSet};

/// How many findings one page of the list shows.
const PER_PAGE: usize = 50;

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        .route("/findings", get(list::page))
        .route("/findings/{id}", get(detail::page))
        .route("/findings/{id}/ack", post(actions::acknowledge))
        .route("/findings/{id}/silence", post(actions::silence))
        .route("/findings/{id}/resolve", post(actions::resolve))
}

/// The units' names by code.
fn unit_names(units: &[Unit]) -> HashMap<&str, &str> {
    units
        .iter()
        .map(|u| (u.code.as_str(), u.name.as_str()))
        .collect()
}

/// The evidence as the evaluation stored it; `None` for evidence written by
/// a version that kept another shape.
fn evidence(v: &serde_json::Value) -> Option<Evidence> {
    serde_json::from_value(v.clone()).ok()
}

/// The rule's title in the reader's language, or its id when it is no
/// longer configured.
fn rule_title(rules: &RuleSet, id: &RuleId, lang: Language) -> String {
    match rules.rules.iter().find(|r| r.id == *id) {
        Some(r) if lang == Language::En => r.title_en.clone(),
        Some(r) => r.title_vi.clone(),
        None => id.to_string(),
    }
}

/// The plan section of a configured rule, e.g. `2. Kết quả giải quyết TTHC…`.
fn section_of(rules: &RuleSet, id: &RuleId, lang: Language) -> Option<String> {
    let r = rules.rules.iter().find(|r| r.id == *id)?;
    Some(section_label(r.section, lang))
}

fn section_label(s: PlanSection, lang: Language) -> String {
    let name = match lang {
        Language::Vi => s.name_vi(),
        Language::En => s.name_en(),
    };
    format!("{}. {name}", s.number())
}

fn severity_name(s: Severity, lang: Language) -> &'static str {
    crate::notify::compose::severity_label(s, lang)
}

fn state_name(s: State, lang: Language) -> &'static str {
    match (lang, s) {
        (Language::Vi, s) => s.name_vi(),
        (Language::En, State::Open) => "open",
        (Language::En, State::Acknowledged) => "acknowledged",
        (Language::En, State::Silenced) => "silenced",
        (Language::En, State::Resolved) => "resolved",
    }
}

fn result_name(r: LastResult, lang: Language) -> &'static str {
    match (lang, r) {
        (Language::Vi, r) => r.name_vi(),
        (Language::En, LastResult::Pass) => "pass",
        (Language::En, LastResult::Fail) => "fail",
        (Language::En, LastResult::Unknown) => "unknown",
    }
}

/// An audit event's kind in words; a kind this version does not know is
/// shown as stored.
fn event_name(kind: &str, lang: Language) -> String {
    let Ok(k) = kind.parse::<EventKind>() else {
        return kind.to_owned();
    };
    let en = match k {
        EventKind::Opened => "opened",
        EventKind::Reopened => "recurred",
        EventKind::Resolved => "resolved",
        EventKind::SeverityChanged => "severity changed",
        EventKind::BecameUnknown => "became unknown",
        EventKind::Acknowledged => "acknowledged",
        EventKind::Silenced => "silenced",
        EventKind::SilenceExpired => "silence ended",
        EventKind::ResolvedManually => "resolved by hand",
    };
    match lang {
        Language::Vi => k.name_vi().to_owned(),
        Language::En => en.to_owned(),
    }
}

#[cfg(test)]
mod tests;
