//! The HTTP side: list endpoints in both dialects, fault injection, and the
//! `/_sim` control endpoints.

use crate::upstream::dvcqg::protocol::NATIONAL;
use std::borrow::Cow;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::faults::{Endpoint, Fault, FaultError, Plan, is_bad};
use super::store::{Record, Table};
use super::wire::{
    AltDossier, WireDocument, WireDossier, WirePetition, WireReport, WireScore, WireUnit,
    write_record,
};
use super::{Simulator, State as SimState};
use crate::time::{Month, local_to_utc};

/// How long a hanging request waits at most when neither a shutdown nor a
/// cleared fault ends it first: far beyond any client timeout.
const HANG_LIMIT: Duration = Duration::from_secs(3600);

/// Page sizes a client may ask for.
const MAX_SIZE: usize = 10_000;
const DEFAULT_SIZE: usize = 100;

#[derive(Clone)]
struct Served {
    sim: Simulator,
    /// Ends hanging and slow requests when the server shuts down, so that
    /// graceful shutdown does not wait for them.
    stop: CancellationToken,
}

pub(crate) fn router(sim: &Simulator, stop: CancellationToken) -> Router {
    let list_route = |e: Endpoint| {
        get(
            move |State(s): State<Served>, RawQuery(q): RawQuery| async move { handle(s, e, q).await },
        )
    };
    let mut r = Router::new();
    for e in Endpoint::ALL {
        if e == Endpoint::Evaluation {
            r = r.route(
                e.path(),
                post(
                    move |State(s): State<Served>,
                          Path(name): Path<String>,
                          headers: axum::http::HeaderMap,
                          body: Bytes| async move {
                        evaluation(s, e, name, headers, body).await
                    },
                ),
            );
        } else if e == Endpoint::National {
            r =
                r.route(
                    e.path(),
                    post(
                        move |State(s): State<Served>,
                              headers: axum::http::HeaderMap,
                              body: Bytes| async move {
                            evaluation(s, e, NATIONAL.to_owned(), headers, body).await
                        },
                    ),
                );
        } else {
            r = r.route(e.path(), list_route(e));
        }
    }
    r.route("/danh-gia-chat-luong-phuc-vu", get(public_page))
        .route("/_sim/truth", get(truth))
        .route("/_sim/requests", get(requests))
        .route(
            "/_sim/faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .with_state(Served {
            sim: sim.clone(),
            stop,
        })
}

fn json(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::to_vec(&serde_json::json!({ "error": message }))
        .expect("a string map serialises");
    json(status, body)
}

fn to_json<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => json(StatusCode::OK, body),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// What a list request asked for.
pub(crate) enum Query {
    /// `?page=P&size=S[&updated_since=yyyyMMddHHmmss][&period=YYYY-MM]`
    Pages {
        page: usize,
        size: usize,
        since: Option<DateTime<Utc>>,
        period: Option<Month>,
    },
    /// `?limit=N[&cursor=C][&since=dd/MM/yyyy HH:mm:ss]`
    Cursor {
        limit: usize,
        cursor: Option<(Option<DateTime<Utc>>, String)>,
        since: Option<DateTime<Utc>>,
    },
}

fn parse_number(name: &str, v: &str) -> Result<usize, String> {
    v.parse()
        .map_err(|_| format!("{name} must be a whole number, found `{v}`"))
}

fn parse_date(name: &str, v: &str, format: &str, shown: &str) -> Result<DateTime<Utc>, String> {
    NaiveDateTime::parse_from_str(v, format)
        .map(local_to_utc)
        .map_err(|_| format!("{name} must be {shown}, found `{v}`"))
}

impl Query {
    fn parse(e: Endpoint, raw: Option<&str>) -> Result<Query, String> {
        let pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> =
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).collect();
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.as_ref())
        };
        if e == Endpoint::AltDossiers {
            let limit = get("limit")
                .map(|v| parse_number("limit", v))
                .transpose()?
                .unwrap_or(DEFAULT_SIZE)
                .clamp(1, MAX_SIZE);
            let cursor = get("cursor").map(decode_cursor).transpose()?;
            let since = get("since")
                .map(|v| parse_date("since", v, "%d/%m/%Y %H:%M:%S", "dd/MM/yyyy HH:mm:ss"))
                .transpose()?;
            return Ok(Query::Cursor {
                limit,
                cursor,
                since,
            });
        }
        let page = get("page")
            .map(|v| parse_number("page", v))
            .transpose()?
            .unwrap_or(1)
            .max(1);
        let size = get("size")
            .map(|v| parse_number("size", v))
            .transpose()?
            .unwrap_or(DEFAULT_SIZE)
            .clamp(1, MAX_SIZE);
        let since = get("updated_since")
            .map(|v| parse_date("updated_since", v, "%Y%m%d%H%M%S", "yyyyMMddHHmmss"))
            .transpose()?;
        let period = match (e, get("period")) {
            (Endpoint::Scores766, Some(v)) => Some(v.parse::<Month>()?),
            _ => None,
        };
        Ok(Query::Pages {
            page,
            size,
            since,
            period,
        })
    }
}

/// The alternative dialect's cursor: the last served record's
/// (NgayCapNhat, id), hex-encoded so that clients treat it as opaque.
pub(crate) fn encode_cursor(updated: Option<DateTime<Utc>>, id: &str) -> String {
    let time = updated.map_or_else(
        || "-".to_owned(),
        |t| format!("{}.{}", t.timestamp(), t.timestamp_subsec_nanos()),
    );
    format!("{time}|{id}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_cursor(c: &str) -> Result<(Option<DateTime<Utc>>, String), String> {
    let bad = || format!("cursor `{c}` is not one this server issued");
    if !c.len().is_multiple_of(2) || !c.is_ascii() {
        return Err(bad());
    }
    let bytes: Vec<u8> = (0..c.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&c[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (time, id) = text.split_once('|').ok_or_else(bad)?;
    let time = if time == "-" {
        None
    } else {
        let (secs, nanos) = time.split_once('.').ok_or_else(bad)?;
        let secs: i64 = secs.parse().map_err(|_| bad())?;
        let nanos: u32 = nanos.parse().map_err(|_| bad())?;
        Some(DateTime::from_timestamp(secs, nanos).ok_or_else(bad)?)
    };
    Ok((time, id.to_owned()))
}

/// The faults that come before any answer: latency, a hang, an HTTP
/// error. `Err` is the answer they give instead.
async fn prologue(s: &Served, e: Endpoint) -> Result<Plan, Response> {
    let inner = &s.sim.inner;
    inner.counters.request(e);
    let mut released = inner.release.subscribe();
    let plan = inner.faults().plan(e);
    if !plan.latency.is_zero() {
        tokio::select! {
            () = tokio::time::sleep(plan.latency) => {}
            () = s.stop.cancelled() => return Err(error(StatusCode::SERVICE_UNAVAILABLE, "shutting down")),
        }
    }
    if plan.hang {
        tokio::select! {
            () = s.stop.cancelled() => {}
            _ = released.changed() => {}
            () = tokio::time::sleep(HANG_LIMIT) => {}
        }
        return Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the request hung (injected fault)",
        ));
    }
    if let Some((status, retry_after)) = plan.status {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = error(status, "injected fault");
        if let Some(secs) = retry_after {
            r.headers_mut().insert(
                header::RETRY_AFTER,
                secs.to_string().parse().expect("digits"),
            );
        }
        return Err(r);
    }
    Ok(plan)
}

fn waf_page() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        super::evaluation::WAF_PAGE,
    )
        .into_response()
}

/// The cookie the public page sets; the firewall fault spares a request
/// that carries it.
const WAF_COOKIE: &str = "TS01sim=pass";

/// The portal's public page: it sets the firewall's cookie.
async fn public_page() -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::SET_COOKIE, "TS01sim=pass; Path=/; HttpOnly"),
        ],
        "<!DOCTYPE html><html><body>Đánh giá chất lượng phục vụ</body></html>",
    )
        .into_response()
}

/// `POST /api/v1/reporting/evaluation/{endpoint}` (`e` is
/// [`Endpoint::National`] for `service-results`): the portal answers 201.
async fn evaluation(
    s: Served,
    e: Endpoint,
    name: String,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let plan = match prologue(&s, e).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let cookie_ok = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(';').any(|c| c.trim() == WAF_COOKIE));
    if plan.waf && !cookie_ok {
        return waf_page();
    }
    let inner = &s.sim.inner;
    let rendered = {
        let state = inner.read();
        if e == Endpoint::National {
            super::evaluation::render_national(&state, &body, plan.drop_children)
        } else {
            let root = super::evaluation::root_id(&state);
            super::evaluation::Ask::parse(&name, &body, &root)
                .map(|ask| super::evaluation::render(&state, &ask, plan.drop_children))
        }
    };
    let (value, served) = match rendered {
        Ok(r) => r,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    inner.counters.served(e, served);
    let mut body = match serde_json::to_vec(&value) {
        Ok(b) => b,
        Err(err) => return error(StatusCode::INTERNAL_SERVER_ERROR, &err.to_string()),
    };
    if plan.truncate {
        body.truncate(body.len() / 2);
    }
    json(StatusCode::CREATED, body)
}

async fn handle(s: Served, e: Endpoint, raw: Option<String>) -> Response {
    let plan = match prologue(&s, e).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if plan.waf {
        return waf_page();
    }
    let inner = &s.sim.inner;
    let query = match Query::parse(e, raw.as_deref()) {
        Ok(q) => q,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    let page = {
        let state = inner.read();
        render(&state, e, &query, &plan)
    };
    let (mut body, served, duplicated) = match page {
        Ok(p) => p,
        Err(err) => return error(StatusCode::INTERNAL_SERVER_ERROR, &err.to_string()),
    };
    if duplicated {
        inner.faults().spend(e, false);
    }
    // The new record appears after this page was computed: the client's
    // next page is the one that shifts.
    if plan.shift && s.sim.insert_front(e) {
        inner.faults().spend(e, true);
    }
    inner.counters.served(e, served);
    if plan.truncate {
        body.truncate(body.len() / 2);
    }
    json(StatusCode::OK, body)
}

/// A rendered page: the body, how many records it carries, and whether a
/// duplicate from the previous page was put in.
type Rendered = (Vec<u8>, u64, bool);

fn render(state: &SimState, e: Endpoint, q: &Query, plan: &Plan) -> serde_json::Result<Rendered> {
    let (page, size, since, period) = match q {
        Query::Cursor {
            limit,
            cursor,
            since,
        } => return alt_page(state, *limit, cursor.as_ref(), *since, plan),
        Query::Pages {
            page,
            size,
            since,
            period,
        } => (*page, *size, *since, *period),
    };
    let p = PageAsk { page, size, since };
    match e {
        Endpoint::Dossiers | Endpoint::AltDossiers => {
            pages(&state.dossiers, e, &p, plan, None, WireDossier::new)
        }
        Endpoint::Petitions => pages(&state.petitions, e, &p, plan, None, WirePetition::new),
        Endpoint::Documents => pages(&state.documents, e, &p, plan, None, WireDocument::new),
        Endpoint::Reports => pages(&state.reports, e, &p, plan, None, WireReport::new),
        Endpoint::Units => pages(&state.units, e, &p, plan, None, WireUnit::new),
        Endpoint::Scores766 => {
            let in_period = |s: &super::store::SimScore| period.is_none_or(|m| s.period == m);
            pages(&state.scores, e, &p, plan, Some(&in_period), WireScore::new)
        }
        Endpoint::Evaluation | Endpoint::National => {
            unreachable!("evaluation requests are answered by `evaluation`")
        }
    }
}

struct PageAsk {
    page: usize,
    size: usize,
    since: Option<DateTime<Utc>>,
}

/// A page of the default dialect, with the envelope
/// `{"data":[…],"page":P,"size":S,"total":T,"total_pages":⌈T/S⌉}`.
fn pages<'t, T: Record, W: Serialize>(
    table: &'t Table<T>,
    e: Endpoint,
    ask: &PageAsk,
    plan: &Plan,
    keep: Option<&dyn Fn(&T) -> bool>,
    wire: impl Fn(&'t T) -> W,
) -> serde_json::Result<Rendered> {
    let selected = table.since(ask.since);
    // Only the scores' period filter needs a copy of the order.
    let selected: Cow<'_, [u32]> = match keep {
        None => Cow::Borrowed(selected),
        Some(keep) => Cow::Owned(
            selected
                .iter()
                .copied()
                .filter(|&i| keep(table.row(i)))
                .collect(),
        ),
    };
    let total = selected.len();
    let start = (ask.page - 1).saturating_mul(ask.size).min(total);
    let end = start.saturating_add(ask.size).min(total);
    let duplicate = (plan.duplicate && start > 0 && start < total).then(|| selected[start - 1]);
    let mut out = Vec::with_capacity((end - start) * 1_200 + 128);
    out.extend_from_slice(b"{\"data\":[");
    let mut served = 0u64;
    for &i in duplicate.iter().chain(&selected[start..end]) {
        if served > 0 {
            out.push(b',');
        }
        let r = table.row(i);
        write_record(&mut out, e, &wire(r), is_bad(&plan.bad, r.id()))?;
        served += 1;
    }
    out.extend_from_slice(
        format!(
            "],\"page\":{},\"size\":{},\"total\":{},\"total_pages\":{}}}",
            ask.page,
            ask.size,
            total,
            total.div_ceil(ask.size)
        )
        .as_bytes(),
    );
    Ok((out, served, duplicate.is_some()))
}

/// A page of the alternative dialect:
/// `{"result":{"items":[…],"nextCursor":"…"|null}}`, keyset-paginated.
fn alt_page(
    state: &SimState,
    limit: usize,
    cursor: Option<&(Option<DateTime<Utc>>, String)>,
    since: Option<DateTime<Utc>>,
    plan: &Plan,
) -> serde_json::Result<Rendered> {
    let table = &state.dossiers;
    let order = table.order();
    let base = order.len() - table.since(since).len();
    let start = cursor
        .map_or(base, |(t, id)| table.after((*t, id)))
        .max(base);
    let end = start.saturating_add(limit).min(order.len());
    let duplicate = (plan.duplicate && cursor.is_some() && start > base).then(|| order[start - 1]);
    let mut out = Vec::with_capacity((end - start) * 600 + 64);
    out.extend_from_slice(b"{\"result\":{\"items\":[");
    let mut served = 0u64;
    for &i in duplicate.iter().chain(&order[start..end]) {
        if served > 0 {
            out.push(b',');
        }
        let d = table.row(i);
        write_record(
            &mut out,
            Endpoint::AltDossiers,
            &AltDossier::new(d),
            is_bad(&plan.bad, &d.code),
        )?;
        served += 1;
    }
    out.extend_from_slice(b"],\"nextCursor\":");
    if end < order.len() && end > start {
        let last = table.row(order[end - 1]);
        serde_json::to_writer(&mut out, &encode_cursor(last.updated_at, &last.code))?;
    } else {
        out.extend_from_slice(b"null");
    }
    out.extend_from_slice(b"}}");
    Ok((out, served, duplicate.is_some()))
}

async fn truth(State(s): State<Served>) -> Response {
    to_json(&s.sim.truth())
}

#[derive(Serialize)]
struct Counts {
    requests: std::collections::BTreeMap<Endpoint, u64>,
    records_served: std::collections::BTreeMap<Endpoint, u64>,
}

async fn requests(State(s): State<Served>) -> Response {
    to_json(&Counts {
        requests: Endpoint::ALL
            .into_iter()
            .map(|e| (e, s.sim.requests(e)))
            .collect(),
        records_served: Endpoint::ALL
            .into_iter()
            .map(|e| (e, s.sim.records_served(e)))
            .collect(),
    })
}

#[derive(Serialize)]
struct Active {
    active: Vec<super::ActiveFault>,
}

async fn list_faults(State(s): State<Served>) -> Response {
    to_json(&Active {
        active: s.sim.active_faults(),
    })
}

/// `POST /_sim/faults` with one fault object or a list of them. Either all
/// are applied or, if one is invalid, none.
async fn add_faults(State(s): State<Served>, body: String) -> Response {
    let parsed: Result<Vec<Fault>, String> = serde_json::from_str::<serde_json::Value>(&body)
        .map_err(|e| format!("the body must be JSON: {e}"))
        .and_then(|v| match v {
            serde_json::Value::Array(_) => serde_json::from_value(v).map_err(|e| e.to_string()),
            other => serde_json::from_value(other)
                .map(|f| vec![f])
                .map_err(|e| e.to_string()),
        });
    let faults = match parsed {
        Ok(f) => f,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    if let Err(FaultError(msg)) = s.sim.add_faults(faults) {
        return error(StatusCode::BAD_REQUEST, &msg);
    }
    list_faults(State(s)).await
}

async fn clear_faults(State(s): State<Served>) -> Response {
    s.sim.clear_faults();
    list_faults(State(s)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let t = Utc.with_ymd_and_hms(2026, 8, 20, 3, 0, 0).unwrap();
        for (time, id) in [(Some(t), "H44.07-260820-00001"), (None, "x|y")] {
            let c = encode_cursor(time, id);
            assert!(c.bytes().all(|b| b.is_ascii_hexdigit()), "{c}");
            assert_eq!(decode_cursor(&c).unwrap(), (time, id.to_owned()));
        }
        for bad in ["zz", "abc", "2d", ""] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }
}
