//! Templates and the filters they format figures with. Every figure goes
//! through `crate::locale`, so a page reads like the e-mails: a decimal
//! comma in Vietnamese, and "chưa có dữ liệu" where there is no figure.

use std::sync::Arc;

use axum::response::Html;
use chrono::{DateTime, Utc};
use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind, State, context};

use super::i18n::Catalog;
use super::{Viewer, WebError};
use crate::domain::Language;
use crate::locale;

/// Every template of the console, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("groups.html", include_str!("templates/groups.html")),
    ("freshness.html", include_str!("templates/freshness.html")),
    ("overview.html", include_str!("templates/overview.html")),
    ("unit.html", include_str!("templates/unit.html")),
    (
        "inspections.html",
        include_str!("templates/inspections.html"),
    ),
    ("proposal.html", include_str!("templates/proposal.html")),
    ("findings.html", include_str!("templates/findings.html")),
    ("finding.html", include_str!("templates/finding.html")),
    ("sources.html", include_str!("templates/sources.html")),
];

/// The console's templates, loaded once.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("console template {name}: {e:#}"));
        }
        let catalog = Arc::new(Catalog::new());
        env.add_function(
            "t",
            move |state: &State, key: &str| -> Result<String, Error> {
                catalog
                    .get(key, lang(state))
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::UndefinedError,
                            format!("no console text `{key}`"),
                        )
                    })
            },
        );
        env.add_filter("pct", |state: &State, v: Value| {
            figure(state, &v, locale::percent)
        });
        env.add_filter("points", |state: &State, v: Value| {
            figure(state, &v, locale::points)
        });
        env.add_filter("num", |state: &State, v: Value, places: Option<usize>| {
            figure(state, &v, |x, l| locale::decimal(x, places.unwrap_or(1), l))
        });
        env.add_filter("count", |state: &State, v: Value| {
            figure(state, &v, |x, l| locale::count(x as i64, l))
        });
        // Digits, slashes and a colon only: nothing to escape.
        env.add_filter("localtime", |v: Value| {
            Value::from_safe_string(local_time(&v))
        });
        Self { env }
    }

    /// Renders `name` for `viewer`, with `ctx` beside the viewer and the
    /// language every template reads.
    pub fn render(
        &self,
        name: &str,
        viewer: &Viewer,
        ctx: Value,
    ) -> Result<Html<String>, WebError> {
        let viewer_ctx = context! {
            name => viewer.name,
            role => viewer.role.as_str(),
            role_name => match viewer.language {
                Language::Vi => viewer.role.name_vi(),
                Language::En => viewer.role.name_en(),
            },
            unit => viewer.unit.as_ref().map(|u| u.as_str().to_owned()),
            csrf_token => viewer.csrf_token,
            sees_inspections => viewer.sees_inspections(),
            may_act => viewer.may_act(),
        };
        let full = context! { viewer => viewer_ctx, lang => viewer.language.as_str(), ..ctx };
        self.env
            .get_template(name)
            .and_then(|t| t.render(full))
            .map(Html)
            .map_err(|e| WebError::Internal(anyhow::anyhow!("rendering {name}: {e:#}")))
    }
}

impl Templates {
    /// Renders `name` for someone not signed in (the login page): no
    /// viewer, only the language.
    pub fn render_public(
        &self,
        name: &str,
        language: Language,
        ctx: Value,
    ) -> Result<Html<String>, WebError> {
        let full = context! { lang => language.as_str(), ..ctx };
        self.env
            .get_template(name)
            .and_then(|t| t.render(full))
            .map(Html)
            .map_err(|e| WebError::Internal(anyhow::anyhow!("rendering {name}: {e:#}")))
    }
}

fn lang(state: &State) -> Language {
    match state.lookup("lang").as_ref().and_then(Value::as_str) {
        Some("en") => Language::En,
        _ => Language::Vi,
    }
}

/// A number formatted for the reader, or the words for "no data" when the
/// value is none or missing: never a 0 for a figure that does not exist.
fn figure(state: &State, v: &Value, f: impl Fn(f64, Language) -> String) -> String {
    let l = lang(state);
    match f64::try_from(v.clone()) {
        Ok(x) if !v.is_none() && !v.is_undefined() && x.is_finite() => f(x, l),
        _ => locale::no_data(l).to_owned(),
    }
}

/// An RFC 3339 instant as people in the province read it:
/// `02/12/2026 08:00` in Asia/Ho_Chi_Minh.
fn local_time(v: &Value) -> String {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| crate::time::format_local(t.with_timezone(&Utc)))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
