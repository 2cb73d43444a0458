//! The national portal's public evaluation API (`[sources.portal] protocol
//! = "dvcqg-evaluation"`): the official Decision 766 scores of every unit
//! of the province, one endpoint per group (see [`protocol`]).
//!
//! A poll asks the six endpoints for each period (the current month, the
//! previous month, the current quarter and year), page by page, and reads
//! both envelopes field by field. Units are matched across endpoints by
//! `departmentId` and to par-monitor's units by the `departmentCode` the
//! tree endpoints give. What cannot be read is a reject naming the
//! endpoint, the period, the unit and the field:
//!
//! - an endpoint's answer that is HTML, has `code` other than `OK` or no
//!   unit list withholds that period this poll (the stored scores stay as
//!   they were; the other periods go on);
//! - a unit without a code, a score above its maximum, a negative count or
//!   a field of the wrong type withholds that unit's scores for the period.
//!
//! Transport failures (5xx, 429, timeouts, malformed JSON) are retried by
//! [`SourceClient`] and, if they persist, fail the poll like any source's.

mod join;
mod national;
pub mod protocol;
mod read;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};
use url::Url;

use super::http::SourceClient;
use super::mapping::FeedKind;
use super::{Batch, Feed, Fetched, PageQuery, Reject, Rejected, UpstreamError, clip};
use crate::config::{BaseUrl, SourceSettings};
use crate::domain::PortalScore;
use crate::time::{Month, SharedClock};
use join::join;
use protocol::{ENDPOINTS, EvalEndpoint, EvalPeriod, NATIONAL, PATH, Shape};
use read::{excerpt, metric, metrics, number, official_total, text, unit_label};

/// Pages of one endpoint at most, against a portal that never stops.
const MAX_PAGES: u32 = 1000;
/// Scores are given to 2 decimals: a score this much above its maximum is
/// rounding, not an error.
const ROUNDING: f64 = 0.005;
const EXCERPT: usize = 600;

/// The periods a poll asks for at `now`.
pub fn periods(now: chrono::DateTime<chrono::Utc>) -> Vec<EvalPeriod> {
    let m = Month::containing(now);
    vec![
        EvalPeriod::Month(m),
        EvalPeriod::Month(m.previous()),
        EvalPeriod::quarter_of(m),
        EvalPeriod::Year(m.year()),
    ]
}

pub struct EvaluationFeed {
    client: Arc<SourceClient>,
    base: BaseUrl,
    root: String,
    page_size: u32,
    warmup: Option<(Url, Duration)>,
    /// The warm-up page's cookies and when they were fetched.
    cookie: tokio::sync::Mutex<Option<(Option<HeaderValue>, Instant)>>,
    clock: SharedClock,
}

impl std::fmt::Debug for EvaluationFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvaluationFeed")
            .field("base", &self.base.url().as_str())
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// One unit's figure from one endpoint.
#[derive(Debug, Default)]
struct Figure {
    id: Option<String>,
    code: Option<String>,
    name: Option<String>,
    score: Option<f64>,
    indicators: BTreeMap<String, Option<f64>>,
    warnings: Vec<String>,
}

/// What one endpoint said for one period.
struct Answer {
    province: Figure,
    /// The province's official total (tree endpoints' `parent.totalScore`).
    province_total: Option<f64>,
    units: Vec<Figure>,
}

/// Why an endpoint's answer (or part of it) cannot be used.
#[derive(Debug)]
struct Problem {
    unit: Option<String>,
    field: String,
    problem: String,
    raw: String,
}

impl EvaluationFeed {
    pub fn new(
        client: Arc<SourceClient>,
        s: &SourceSettings,
        clock: SharedClock,
    ) -> Result<EvaluationFeed, String> {
        let root = s
            .root_department_id
            .clone()
            .ok_or("sources.portal.root_department_id is required for protocol dvcqg-evaluation")?;
        Ok(EvaluationFeed {
            client,
            base: s.base_url.clone(),
            root: root.trim().to_owned(),
            page_size: s.page_size,
            warmup: s
                .warmup_url
                .as_ref()
                .map(|u| (u.url().clone(), s.warmup_every)),
            cookie: tokio::sync::Mutex::new(None),
            clock,
        })
    }

    /// The cookies to send: the warm-up page's, fetched again when older
    /// than `warmup_every` or when `refresh`. A warm-up that fails is
    /// logged and the request goes without cookies.
    async fn cookie(&self, refresh: bool) -> Option<HeaderValue> {
        let (url, every) = self.warmup.as_ref()?;
        let mut guard = self.cookie.lock().await;
        if let Some((c, at)) = guard.as_ref()
            && !refresh
            && at.elapsed() < *every
        {
            return c.clone();
        }
        match self.client.cookies_from(url).await {
            Ok(c) => {
                *guard = Some((c.clone(), Instant::now()));
                c
            }
            Err(e) => {
                tracing::warn!(source = "portal", error = %e, "warm-up page failed; going on without cookies");
                *guard = Some((None, Instant::now()));
                None
            }
        }
    }

    async fn post(&self, endpoint: &str, body: &Value) -> Result<sonic_rs::Value, UpstreamError> {
        let url = self.base.join(&format!("{PATH}{endpoint}"));
        let cookie = self.cookie(false).await;
        match self.client.post_json(&url, body, cookie.as_ref()).await {
            // A firewall's page: with a warm-up page, fresh cookies and once more.
            Err(UpstreamError::BadPayload { detail, .. })
                if detail.starts_with("HTML") && self.warmup.is_some() =>
            {
                let cookie = self.cookie(true).await;
                self.client.post_json(&url, body, cookie.as_ref()).await
            }
            other => other,
        }
    }

    /// Every page of one endpoint for one period. `Ok(Err)` is an answer
    /// that cannot be used; `Err` a transport failure that ends the poll.
    async fn endpoint(
        &self,
        e: &'static EvalEndpoint,
        period: EvalPeriod,
    ) -> Result<Result<(Answer, Vec<Problem>), Problem>, UpstreamError> {
        let mut answer = Answer {
            province: Figure::default(),
            province_total: None,
            units: Vec::new(),
        };
        let mut problems = Vec::new();
        for page in 1..=MAX_PAGES {
            let read = match self
                .answer(e.name, &self.page_body(e, period, page))
                .await?
            {
                Ok(v) => read_page(e, &v, page == 1, &mut answer, &mut problems),
                Err(p) => Err(p),
            };
            match read {
                Ok(listed) if listed < self.page_size as usize || listed == 0 => break,
                Ok(_) => {}
                Err(p) => return Ok(Err(p)),
            }
        }
        Ok(Ok((answer, problems)))
    }

    /// The request for one page of an endpoint for one period.
    fn page_body(&self, e: &EvalEndpoint, period: EvalPeriod, page: u32) -> Value {
        let mut body = json!({
            "rootDepartmentId": self.root,
            "currentPage": page,
            "pageSize": self.page_size,
        });
        if let Value::Object(m) = &mut body {
            m.extend(period.body_fields(e));
        }
        body
    }

    /// An endpoint's answer to `body`. `Ok(Err)` is an answer that is not
    /// JSON (a firewall's HTML page); `Err` a transport failure.
    async fn answer(
        &self,
        endpoint: &str,
        body: &Value,
    ) -> Result<Result<Value, Problem>, UpstreamError> {
        match self.post(endpoint, body).await {
            Ok(v) => Ok(Ok(
                serde_json::from_str(&v.to_string()).unwrap_or(Value::Null)
            )),
            Err(UpstreamError::BadPayload { detail, .. }) => Ok(Err(Problem {
                unit: None,
                field: "(body)".into(),
                problem: detail,
                raw: String::new(),
            })),
            Err(other) => Err(other),
        }
    }
}

/// Reads one page of an endpoint's answer into `answer` (the province's
/// figure from the first page); a unit that cannot be read is a problem
/// of its own, a page that cannot be read spoils the answer. Returns how
/// many units the page lists.
fn read_page(
    e: &EvalEndpoint,
    v: &Value,
    first: bool,
    answer: &mut Answer,
    problems: &mut Vec<Problem>,
) -> Result<usize, Problem> {
    answered_ok(v)?;
    let data = &v["data"];
    let (head_key, list_key) = match e.shape {
        Shape::Tree => ("parent", "children"),
        Shape::Breakdown => ("overview", "evaluation"),
    };
    if first {
        (answer.province, answer.province_total) = read_head(e, data, head_key)?;
    }
    let Some(list) = data.get(list_key).and_then(Value::as_array) else {
        return Err(Problem {
            unit: None,
            field: format!("data.{list_key}"),
            problem: "missing: expected the list of units".into(),
            raw: excerpt(data),
        });
    };
    for (i, item) in list.iter().enumerate() {
        match read_figure(e, item, false) {
            Ok((f, _)) => answer.units.push(f),
            Err((field, problem)) => problems.push(Problem {
                unit: Some(unit_label(item)),
                field: format!("data.{list_key}[{i}].{field}"),
                problem,
                raw: excerpt(item),
            }),
        }
    }
    Ok(list.len())
}

/// An answer's envelope says `code: "OK"`.
fn answered_ok(v: &Value) -> Result<(), Problem> {
    match v.get("code").and_then(Value::as_str) {
        Some("OK") => Ok(()),
        other => Err(Problem {
            unit: None,
            field: "code".into(),
            problem: format!(
                "expected \"OK\", found {}",
                other.map_or_else(|| "none".to_owned(), |c| format!("\"{c}\""))
            ),
            raw: excerpt(v),
        }),
    }
}

/// The province's figure (`data.parent` or `data.overview`) and its
/// official total.
fn read_head(
    e: &EvalEndpoint,
    data: &Value,
    head_key: &str,
) -> Result<(Figure, Option<f64>), Problem> {
    let head = &data[head_key];
    if !head.is_object() {
        return Err(Problem {
            unit: None,
            field: format!("data.{head_key}"),
            problem: "missing: the province's figure".into(),
            raw: excerpt(data),
        });
    }
    read_figure(e, head, true).map_err(|(field, problem)| Problem {
        unit: Some("(province)".into()),
        field: format!("data.{head_key}.{field}"),
        problem,
        raw: excerpt(head),
    })
}

impl EvaluationFeed {
    /// Adds where the province stands nationally to its yearly score. An
    /// answer that cannot be read withholds that score this poll (the
    /// stored one, standing included, stays); a list without our province
    /// leaves the standing out.
    async fn attach_national(
        &self,
        year: i32,
        scores: &mut Vec<PortalScore>,
        rejects: &mut Vec<Rejected>,
    ) -> Result<(), UpstreamError> {
        let Some(i) = scores
            .iter()
            .position(|s| s.details.department_id.as_deref() == Some(self.root.as_str()))
        else {
            return Ok(());
        };
        let period = EvalPeriod::Year(year);
        let read = self
            .answer(NATIONAL, &protocol::national_body(year))
            .await?
            .and_then(|v| national::read(&v));
        let all = match read {
            Ok(all) => all,
            Err(p) => {
                tracing::warn!(source = "portal", endpoint = NATIONAL, year, field = %p.field, problem = %p.problem,
                    "national answer rejected; the province's yearly score is kept as stored");
                rejects.push(reject(NATIONAL, period, p));
                scores.remove(i);
                return Ok(());
            }
        };
        let code = scores[i].unit_code.as_str().to_owned();
        match national::standing(&all, &self.root, &code) {
            Ok(s) => scores[i].details.national = Some(s),
            Err(p) => rejects.push(reject(NATIONAL, period, p)),
        }
        Ok(())
    }
}

/// Fields that hold scores, not counts.
const NOT_COUNTS: [&str; 2] = ["totalScore", "totalMaxScore"];

/// Reads one unit's (or the province's) figure: its score for the
/// endpoint's group, out of its maximum, and its counts.
fn read_figure(
    e: &EvalEndpoint,
    v: &Value,
    province: bool,
) -> Result<(Figure, Option<f64>), (String, String)> {
    let mut f = Figure {
        id: text(v, "departmentId")?,
        code: text(v, "departmentCode")?,
        name: text(v, "departmentName")?,
        ..Figure::default()
    };
    let (score_field, max_field) = match (e.shape, province) {
        (Shape::Tree, _) => ("score", "maxScore"),
        (Shape::Breakdown, _) => ("totalScore", "totalMaxScore"),
    };
    f.score = number(v, score_field)?;
    let max = number(v, max_field)?.unwrap_or(e.max);
    if let Some(s) = f.score {
        if s < 0.0 {
            return Err((score_field.into(), format!("negative score {s}")));
        }
        if s > max + ROUNDING {
            return Err((
                score_field.into(),
                format!("score {s} above its maximum {max}"),
            ));
        }
    }
    if max > e.max + ROUNDING {
        return Err((
            max_field.into(),
            format!("maximum {max} above the group's {}", e.max),
        ));
    }
    if let Value::Object(m) = v {
        for (k, x) in m {
            let count = (k.starts_with("total") && !NOT_COUNTS.contains(&k.as_str()))
                || k == "numerator"
                || k == "denominator";
            if count && x.as_f64().is_some_and(|n| n < 0.0) {
                return Err((k.clone(), format!("negative count {x}")));
            }
        }
    }
    // The province's official total, on the tree endpoints' parent.
    let total = if province && e.shape == Shape::Tree {
        official_total(v)?
    } else {
        None
    };
    for (i, m) in metrics(v)?.iter().enumerate() {
        let at = |(field, p): (String, String)| (format!("metrics[{i}].{field}"), p);
        let (code, score) = metric(i, m)?;
        let max = number(m, "maxScore").map_err(at)?;
        if let (Some(s), Some(mx)) = (score, max)
            && s > mx + ROUNDING
        {
            return Err((
                format!("metrics[{i}].score"),
                format!("score {s} above its maximum {mx}"),
            ));
        }
        for k in ["numerator", "denominator"] {
            if number(m, k).map_err(at)?.is_some_and(|n| n < 0.0) {
                return Err((format!("metrics[{i}].{k}"), "negative count".into()));
            }
        }
        if let Some(msg) =
            text(m, "dataQualityMessage")
                .map_err(at)?
                .or(text(m, "dataQualityStatus").map_err(at)?)
            && !msg.is_empty()
        {
            f.warnings.push(format!("{code}: {msg}"));
        }
        f.indicators.insert(code, score);
    }
    Ok((f, total))
}

fn reject(endpoint: &str, period: EvalPeriod, p: Problem) -> Rejected {
    let id = match &p.unit {
        Some(u) => format!("{endpoint} {} {u}", period.key()),
        None => format!("{endpoint} {}", period.key()),
    };
    Rejected {
        reject: Reject {
            check: None,
            record_id: Some(id),
            field: p.field,
            problem: p.problem,
        },
        raw: p.raw,
    }
}

#[async_trait]
impl Feed for EvaluationFeed {
    fn kind(&self) -> FeedKind {
        FeedKind::Scores
    }

    fn is_incremental(&self) -> bool {
        false
    }

    fn reconciles_deletions(&self) -> bool {
        false
    }

    async fn fetch(&self, _query: &PageQuery) -> Result<Fetched, UpstreamError> {
        let mut scores = Vec::new();
        let mut rejects = Vec::new();
        for period in periods(self.clock.now()) {
            let mut answers = Vec::new();
            let mut usable = true;
            // Units with a figure that cannot be read keep their stored scores.
            let mut withheld = std::collections::BTreeSet::new();
            for e in &ENDPOINTS {
                match self.endpoint(e, period).await? {
                    Ok((answer, problems)) => {
                        for p in problems {
                            withheld.extend(p.unit.clone());
                            rejects.push(reject(e.name, period, p));
                        }
                        answers.push((e, answer));
                    }
                    Err(p) => {
                        let r = reject(e.name, period, p);
                        tracing::warn!(
                            source = "portal",
                            endpoint = e.name,
                            period = %period.key(),
                            field = %r.reject.field,
                            problem = %r.reject.problem,
                            "answer rejected; the period's scores are kept as stored"
                        );
                        rejects.push(r);
                        usable = false;
                    }
                }
            }
            if usable {
                let mut joined = join(period, &answers, &mut rejects);
                joined.retain(|s| {
                    !withheld.contains(s.unit_code.as_str())
                        && !s
                            .details
                            .department_id
                            .as_ref()
                            .is_some_and(|id| withheld.iter().any(|w| w.starts_with(id.as_str())))
                });
                if let EvalPeriod::Year(year) = period {
                    self.attach_national(year, &mut joined, &mut rejects)
                        .await?;
                }
                scores.extend(joined);
            }
        }
        for r in &rejects {
            tracing::warn!(source = "portal", record = ?r.reject.record_id, field = %r.reject.field, problem = %r.reject.problem, "portal figure rejected");
        }
        Ok(Fetched::mapped(Batch::Scores(scores), rejects))
    }
}

#[cfg(test)]
mod tests;
