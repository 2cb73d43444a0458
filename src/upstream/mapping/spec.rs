//! A feed's wire format ([`FeedSpec`]): its connector's schema with the
//! configuration merged on, resolved once, with every problem named by its
//! key.

use std::collections::{BTreeMap, HashMap};

use chrono_tz::Tz;

use super::FeedKind;
use super::dates::DateCodec;
use super::path::{JsonPath, Segment, render_path};
use super::schema::Schema;
use crate::config::{FeedMapping, PaginationSettings, PaginationStyle};

/// Pagination with its response paths parsed.
#[derive(Clone, Debug)]
pub struct Pagination {
    pub style: PaginationStyle,
    pub params: PaginationSettings,
    pub total_pages: Option<JsonPath>,
    pub next_cursor: JsonPath,
    pub next_link: JsonPath,
}

/// A feed's wire format, resolved from defaults and configuration.
#[derive(Clone, Debug)]
pub struct FeedSpec {
    pub kind: FeedKind,
    pub path: String,
    pub records: JsonPath,
    pub dates: DateCodec,
    /// The "changed since" parameter and its format, if the feed has one.
    pub since: Option<(String, DateCodec)>,
    pub pagination: Pagination,
    pub query: BTreeMap<String, String>,
    /// Each schema field's path, in schema order (`field_index` maps a
    /// field's name to its place).
    pub(super) fields: Vec<Option<JsonPath>>,
    /// Each field's wire path as written in messages.
    pub(super) wire_names: Vec<String>,
    pub(super) field_index: FoldMap<&'static str, usize>,
    /// Fields by the first key of their path, so that a reader walks its
    /// object once instead of searching it for every field.
    pub(super) by_first_key: FoldMap<String, Vec<usize>>,
    /// Fields whose path does not start with a key: looked up whole.
    pub(super) other_paths: Vec<usize>,
    pub(super) codes: FoldMap<&'static str, FoldMap<String, String>>,
}

/// Lookups on the mapping path, done for every field of every record: a
/// fast hash (keys are our own names and the upstream's field names).
type FoldMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Problems found while resolving, each with its key under `mapping.FEED`.
type Problems = Vec<(String, String)>;

impl FeedSpec {
    /// Merges the configuration onto the feed's defaults; every problem is
    /// reported with its key.
    pub fn resolve(
        kind: FeedKind,
        schema: &'static Schema,
        m: &FeedMapping,
    ) -> Result<FeedSpec, Vec<(String, String)>> {
        let mut problems = Vec::new();
        let records = path_of(&mut problems, "records", &m.records);
        let pagination = pagination(&mut problems, &m.pagination);
        let fields = field_paths(&mut problems, schema, m);
        let codes = code_tables(&mut problems, schema, m);
        let (dates, since) = date_codecs(&mut problems, schema, m);
        if m.pagination.style == PaginationStyle::Page && m.pagination.page_param.is_empty() {
            problems.push((
                "pagination.page_param".into(),
                "required for style = \"page\"".into(),
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let (by_first_key, other_paths) = index_by_first_key(&fields);
        Ok(FeedSpec {
            kind,
            path: m
                .path
                .clone()
                .unwrap_or_else(|| schema.default_path.to_owned()),
            records: records.expect("checked"),
            dates: dates.expect("checked"),
            since,
            pagination,
            query: m.query.clone(),
            wire_names: wire_names(schema, &fields),
            field_index: schema
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.name, i))
                .collect(),
            fields,
            by_first_key,
            other_paths,
            codes,
        })
    }

    /// The wire path of a field, if the feed has it.
    pub fn wire_name_of(&self, field: &str) -> Option<String> {
        self.field_index
            .get(field)
            .map(|&i| self.wire_names[i].clone())
    }
}

fn path_of(problems: &mut Problems, key: &str, s: &str) -> Option<JsonPath> {
    match JsonPath::parse(s) {
        Ok(p) => Some(p),
        Err(e) => {
            problems.push((key.to_owned(), e));
            None
        }
    }
}

/// The pagination settings with the paths into a response parsed.
fn pagination(problems: &mut Problems, p: &PaginationSettings) -> Pagination {
    Pagination {
        style: p.style,
        params: p.clone(),
        total_pages: (!p.total_pages.is_empty())
            .then(|| path_of(problems, "pagination.total_pages", &p.total_pages))
            .flatten(),
        next_cursor: path_of(problems, "pagination.next_cursor", &p.next_cursor)
            .unwrap_or_default(),
        next_link: path_of(problems, "pagination.next_link", &p.next_link).unwrap_or_default(),
    }
}

/// Each schema field's path, configured or default, in schema order; an
/// empty path leaves an optional field out.
fn field_paths(problems: &mut Problems, schema: &Schema, m: &FeedMapping) -> Vec<Option<JsonPath>> {
    let mut fields = Vec::with_capacity(schema.fields.len());
    for f in schema.fields {
        let text = m
            .fields
            .get(f.name)
            .map(String::as_str)
            .unwrap_or(f.default);
        if text.is_empty() {
            if f.required {
                problems.push((
                    format!("fields.{}", f.name),
                    "this field is required and cannot be empty".into(),
                ));
            }
            fields.push(None);
        } else {
            fields.push(path_of(problems, &format!("fields.{}", f.name), text));
        }
    }
    let known: Vec<&str> = schema.fields.iter().map(|f| f.name).collect();
    unknown_names(problems, "fields", m.fields.keys(), &known, "field");
    fields
}

/// Each code table, its defaults with the configured codes merged on.
fn code_tables(
    problems: &mut Problems,
    schema: &Schema,
    m: &FeedMapping,
) -> FoldMap<&'static str, FoldMap<String, String>> {
    let mut codes = FoldMap::default();
    for table in schema.codes {
        let mut map: FoldMap<String, String> = table
            .defaults
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if let Some(over) = m.codes.get(table.name) {
            for (wire, name) in over {
                if let Err(e) = (table.check)(name) {
                    problems.push((format!("codes.{}.{wire}", table.name), e));
                }
                map.insert(wire.clone(), name.clone());
            }
        }
        codes.insert(table.name, map);
    }
    let known: Vec<&str> = schema.codes.iter().map(|t| t.name).collect();
    unknown_names(problems, "codes", m.codes.keys(), &known, "code table");
    codes
}

/// A configured name the schema does not know is a problem naming the
/// ones it does.
fn unknown_names<'a>(
    problems: &mut Problems,
    section: &str,
    configured: impl Iterator<Item = &'a String>,
    known: &[&str],
    what: &str,
) {
    for name in configured {
        if !known.contains(&name.as_str()) {
            problems.push((
                format!("{section}.{name}"),
                format!("unknown {what}; expected one of: {}", known.join(", ")),
            ));
        }
    }
}

/// The record dates' codec and, for an incremental feed with a "changed
/// since" parameter, that parameter's.
fn date_codecs(
    problems: &mut Problems,
    schema: &Schema,
    m: &FeedMapping,
) -> (Option<DateCodec>, Option<(String, DateCodec)>) {
    let tz = time_zone(problems, &m.timezone);
    let dates = DateCodec::parse(&m.date_format, tz)
        .map_err(|e| problems.push(("date_format".into(), e)))
        .ok();
    let since = if m.since_param.is_empty() || !schema.incremental {
        None
    } else {
        let format = m.since_format.as_deref().unwrap_or(&m.date_format);
        DateCodec::parse(format, tz)
            .map_err(|e| problems.push(("since_format".into(), e)))
            .ok()
            .map(|c| (m.since_param.clone(), c))
    };
    (dates, since)
}

/// The configured time zone; an unknown one is a problem, and the formats
/// are then checked in the local zone.
fn time_zone(problems: &mut Problems, name: &str) -> Tz {
    name.parse().unwrap_or_else(|_| {
        problems.push((
            "timezone".into(),
            format!("`{name}` is not an IANA time zone such as Asia/Ho_Chi_Minh"),
        ));
        crate::time::LOCAL_TZ
    })
}

/// Fields by the first key of their path, and the fields looked up whole.
fn index_by_first_key(fields: &[Option<JsonPath>]) -> (FoldMap<String, Vec<usize>>, Vec<usize>) {
    let mut by_first_key: FoldMap<String, Vec<usize>> = FoldMap::default();
    let mut other_paths = Vec::new();
    for (i, path) in fields.iter().enumerate() {
        match path.as_ref().and_then(JsonPath::first) {
            Some(Segment::Key(k)) => by_first_key.entry(k.clone()).or_default().push(i),
            Some(Segment::Index(_)) => other_paths.push(i),
            // No path, or the whole value: nothing to read by key.
            None => other_paths.extend(path.as_ref().map(|_| i)),
        }
    }
    (by_first_key, other_paths)
}

/// Each field's wire path as messages write it (its default when the feed
/// leaves it out).
fn wire_names(schema: &Schema, fields: &[Option<JsonPath>]) -> Vec<String> {
    schema
        .fields
        .iter()
        .zip(fields)
        .map(|(f, p)| p.as_ref().map_or_else(|| f.default.to_owned(), render_path))
        .collect()
}
