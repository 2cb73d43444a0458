//! The mapping engine: turns a feed's configured wire format (field paths,
//! code tables, date formats, pagination) into a [`FeedSpec`], and reads
//! records through it.
//!
//! Each connector module declares its feeds' fields and code tables with
//! their defaults (domain.md's names); configuration overrides them.
//! Reading a record never panics and never fails the page: a problem
//! becomes a [`Reject`] naming the record, the field and what was expected.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

use super::Reject;
use crate::config::{FeedMapping, PaginationSettings, PaginationStyle};

/// The feeds par-monitor reads, each belonging to one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FeedKind {
    Dossiers,
    Petitions,
    Documents,
    Reports,
    Scores,
    Units,
}

impl FeedKind {
    pub const ALL: [FeedKind; 6] = [
        FeedKind::Dossiers,
        FeedKind::Petitions,
        FeedKind::Documents,
        FeedKind::Reports,
        FeedKind::Scores,
        FeedKind::Units,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FeedKind::Dossiers => "dossiers",
            FeedKind::Petitions => "petitions",
            FeedKind::Documents => "documents",
            FeedKind::Reports => "reports",
            FeedKind::Scores => "scores",
            FeedKind::Units => "units",
        }
    }

    pub fn from_name(name: &str) -> Option<FeedKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The source (upstream system) the feed comes from.
    pub fn source(self) -> &'static str {
        match self {
            FeedKind::Dossiers | FeedKind::Petitions => "procedures",
            FeedKind::Documents => "documents",
            FeedKind::Reports => "reports",
            FeedKind::Scores => "portal",
            FeedKind::Units => "units",
        }
    }

    /// `source.feed`, as used in storage, logs and metrics.
    pub fn qualified(self) -> String {
        format!("{}.{}", self.source(), self.name())
    }
}

/// A feed's fields and code tables with their defaults.
#[derive(Debug)]
pub struct Schema {
    pub default_path: &'static str,
    /// Whether the feed supports "changed since" polling by default.
    pub incremental: bool,
    pub fields: &'static [Field],
    pub codes: &'static [CodeTable],
}

/// One field: par-monitor's name, the default wire path, whether a record
/// without it is rejected.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub default: &'static str,
    pub required: bool,
}

/// A field a record cannot do without.
pub const fn req(name: &'static str, default: &'static str) -> Field {
    Field {
        name,
        default,
        required: true,
    }
}

/// A field that may be absent.
pub const fn opt(name: &'static str, default: &'static str) -> Field {
    Field {
        name,
        default,
        required: false,
    }
}

/// A table from upstream codes to par-monitor's names.
#[derive(Debug)]
pub struct CodeTable {
    pub name: &'static str,
    pub defaults: &'static [(&'static str, &'static str)],
    /// Checks that a configured target name exists.
    pub check: fn(&str) -> Result<(), String>,
}

/// A dotted path into JSON: `data`, `thoiGian.tiepNhan`, `items[0].id`;
/// empty means the value itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonPath(Vec<Segment>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl JsonPath {
    pub fn parse(s: &str) -> Result<JsonPath, String> {
        let mut segs = Vec::new();
        if s.is_empty() {
            return Ok(JsonPath(segs));
        }
        for part in s.split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if key.is_empty() && rest.is_empty() {
                return Err(format!("`{s}` has an empty path segment"));
            }
            if !key.is_empty() {
                segs.push(Segment::Key(key.to_owned()));
            }
            while let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']').ok_or_else(|| format!("`{s}`: unclosed `[`"))?;
                let n: usize = r[..end]
                    .parse()
                    .map_err(|_| format!("`{s}`: expected a number inside `[]`"))?;
                segs.push(Segment::Index(n));
                rest = &r[end + 1..];
            }
            if !rest.is_empty() {
                return Err(format!("`{s}`: unexpected `{rest}`"));
            }
        }
        Ok(JsonPath(segs))
    }

    /// The value at the path; JSON null counts as absent.
    pub fn get<'a>(&self, v: &'a Value) -> Option<&'a Value> {
        self.walk(&self.0, v)
    }

    /// The value at the path, `v` being what its first segment reached.
    fn get_after_first<'a>(&self, v: &'a Value) -> Option<&'a Value> {
        self.walk(self.0.get(1..).unwrap_or_default(), v)
    }

    fn walk<'a>(&self, segments: &[Segment], v: &'a Value) -> Option<&'a Value> {
        let mut cur = v;
        for seg in segments {
            cur = match seg {
                Segment::Key(k) => cur.get(k.as_str())?,
                Segment::Index(i) => cur.get(*i)?,
            };
        }
        (!cur.is_null()).then_some(cur)
    }
}

/// How a feed writes dates.
#[derive(Clone, Debug, PartialEq)]
pub enum DateCodec {
    /// A strftime format (parsed once: `items`); dates without an offset
    /// are in `tz`.
    Pattern {
        format: String,
        items: Vec<chrono::format::Item<'static>>,
        tz: Tz,
        with_offset: bool,
        /// The default `yyyyMMddHHmmss`, read without chrono's general
        /// parser (see [`compact_date`]).
        compact: bool,
    },
    Rfc3339,
    Unix,
    UnixMs,
}

impl DateCodec {
    /// Parses `yyyyMMddHHmmss`-style patterns (and `rfc3339`, `unix`,
    /// `unix_ms`, or a strftime format containing `%`).
    pub fn parse(pattern: &str, tz: Tz) -> Result<DateCodec, String> {
        match pattern {
            "rfc3339" => return Ok(DateCodec::Rfc3339),
            "unix" => return Ok(DateCodec::Unix),
            "unix_ms" => return Ok(DateCodec::UnixMs),
            _ => {}
        }
        let format = if pattern.contains('%') {
            pattern.to_owned()
        } else {
            java_to_strftime(pattern)?
        };
        // Formatting a known instant proves the format is usable.
        let probe = Utc
            .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .expect("valid probe");
        let mut out = String::new();
        use std::fmt::Write;
        write!(out, "{}", probe.with_timezone(&tz).format(&format))
            .map_err(|_| format!("`{pattern}` is not a usable date format"))?;
        let with_offset = format.contains("%z") || format.contains("%:z") || format.contains("%#z");
        let items = chrono::format::StrftimeItems::new(&format)
            .map(|i| i.to_owned())
            .collect();
        Ok(DateCodec::Pattern {
            compact: format == "%Y%m%d%H%M%S",
            format,
            items,
            tz,
            with_offset,
        })
    }

    pub fn decode(&self, v: &Value) -> Option<DateTime<Utc>> {
        match self {
            DateCodec::Unix => v
                .as_i64()
                .or_else(|| v.as_str()?.trim().parse().ok())
                .and_then(|s| DateTime::from_timestamp(s, 0)),
            DateCodec::UnixMs => v
                .as_i64()
                .or_else(|| v.as_str()?.trim().parse().ok())
                .and_then(DateTime::from_timestamp_millis),
            DateCodec::Rfc3339 => DateTime::parse_from_rfc3339(v.as_str()?.trim())
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            DateCodec::Pattern {
                items,
                tz,
                with_offset,
                compact,
                ..
            } => {
                let text = v.as_str()?.trim();
                if *compact && let Some(naive) = compact_date(text) {
                    return tz
                        .from_local_datetime(&naive)
                        .earliest()
                        .map(|t| t.with_timezone(&Utc));
                }
                // The format was parsed once, when the mapping was resolved:
                // parsing it again for every date costs more than the date.
                let mut parsed = chrono::format::Parsed::new();
                chrono::format::parse(&mut parsed, text, items.iter()).ok()?;
                if *with_offset {
                    parsed.to_datetime().ok().map(|t| t.with_timezone(&Utc))
                } else {
                    let naive: NaiveDateTime = parsed.to_naive_datetime_with_offset(0).ok()?;
                    tz.from_local_datetime(&naive)
                        .earliest()
                        .map(|t| t.with_timezone(&Utc))
                }
            }
        }
    }

    pub fn encode(&self, t: DateTime<Utc>) -> String {
        match self {
            DateCodec::Unix => t.timestamp().to_string(),
            DateCodec::UnixMs => t.timestamp_millis().to_string(),
            DateCodec::Rfc3339 => t.to_rfc3339(),
            DateCodec::Pattern { format, tz, .. } => t.with_timezone(tz).format(format).to_string(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            DateCodec::Unix => "unix seconds".into(),
            DateCodec::UnixMs => "unix milliseconds".into(),
            DateCodec::Rfc3339 => "an RFC 3339 date".into(),
            DateCodec::Pattern { format, .. } => format!("a date as `{format}`"),
        }
    }
}

/// Reads exactly 14 ASCII digits as `yyyyMMddHHmmss`, the format of every
/// default feed and of most Vietnamese one-stop-shop systems: every dossier
/// carries a dozen such dates, and chrono's general parser costs several
/// times more. Anything else (or an impossible date) returns `None`, and the
/// general parser decides, so the two always agree.
fn compact_date(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() != 14 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |from: usize, to: usize| {
        b[from..to]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    chrono::NaiveDate::from_ymd_opt(i32::try_from(n(0, 4)).ok()?, n(4, 6), n(6, 8))?.and_hms_opt(
        n(8, 10),
        n(10, 12),
        n(12, 14),
    )
}

/// Converts a Java/.NET-style date pattern to strftime.
fn java_to_strftime(p: &str) -> Result<String, String> {
    const TOKENS: &[(&str, &str)] = &[
        ("yyyy", "%Y"),
        ("yy", "%y"),
        ("MM", "%m"),
        ("dd", "%d"),
        ("HH", "%H"),
        ("mm", "%M"),
        ("ss", "%S"),
        ("SSS", "%3f"),
        ("XXX", "%:z"),
        ("Z", "%z"),
    ];
    let mut out = String::new();
    let mut rest = p;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('\'') {
            let end = r
                .find('\'')
                .ok_or_else(|| format!("`{p}`: unclosed quote"))?;
            out.push_str(&r[..end].replace('%', "%%"));
            rest = &r[end + 1..];
            continue;
        }
        if let Some((tok, fmt)) = TOKENS.iter().find(|(t, _)| rest.starts_with(t)) {
            out.push_str(fmt);
            rest = &rest[tok.len()..];
            continue;
        }
        let c = rest.chars().next().expect("non-empty");
        if c.is_ascii_alphabetic() {
            return Err(format!(
                "`{p}`: unknown pattern letter `{c}` (use yyyy, MM, dd, HH, mm, ss, SSS, XXX, Z, or 'quoted' text)"
            ));
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Ok(out)
}

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
    fields: Vec<Option<JsonPath>>,
    /// Each field's wire path as written in messages.
    wire_names: Vec<String>,
    field_index: FoldMap<&'static str, usize>,
    /// Fields by the first key of their path, so that a reader walks its
    /// object once instead of searching it for every field.
    by_first_key: FoldMap<String, Vec<usize>>,
    /// Fields whose path does not start with a key: looked up whole.
    other_paths: Vec<usize>,
    codes: FoldMap<&'static str, FoldMap<String, String>>,
}

/// Lookups on the mapping path, done for every field of every record: a
/// fast hash (keys are our own names and the upstream's field names).
type FoldMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

fn path_of(problems: &mut Vec<(String, String)>, key: &str, s: &str) -> Option<JsonPath> {
    match JsonPath::parse(s) {
        Ok(p) => Some(p),
        Err(e) => {
            problems.push((key.to_owned(), e));
            None
        }
    }
}

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
        let pagination = Pagination {
            style: m.pagination.style,
            params: m.pagination.clone(),
            total_pages: (!m.pagination.total_pages.is_empty())
                .then(|| {
                    path_of(
                        &mut problems,
                        "pagination.total_pages",
                        &m.pagination.total_pages,
                    )
                })
                .flatten(),
            next_cursor: path_of(
                &mut problems,
                "pagination.next_cursor",
                &m.pagination.next_cursor,
            )
            .unwrap_or(JsonPath(Vec::new())),
            next_link: path_of(
                &mut problems,
                "pagination.next_link",
                &m.pagination.next_link,
            )
            .unwrap_or(JsonPath(Vec::new())),
        };
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
                fields.push(path_of(&mut problems, &format!("fields.{}", f.name), text));
            }
        }
        for name in m.fields.keys() {
            if !schema.fields.iter().any(|f| f.name == name) {
                let known: Vec<&str> = schema.fields.iter().map(|f| f.name).collect();
                problems.push((
                    format!("fields.{name}"),
                    format!("unknown field; expected one of: {}", known.join(", ")),
                ));
            }
        }
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
        for name in m.codes.keys() {
            if !schema.codes.iter().any(|t| t.name == name) {
                let known: Vec<&str> = schema.codes.iter().map(|t| t.name).collect();
                problems.push((
                    format!("codes.{name}"),
                    format!("unknown code table; expected one of: {}", known.join(", ")),
                ));
            }
        }
        let tz: Option<Tz> = match m.timezone.parse() {
            Ok(tz) => Some(tz),
            Err(_) => {
                problems.push((
                    "timezone".into(),
                    format!(
                        "`{}` is not an IANA time zone such as Asia/Ho_Chi_Minh",
                        m.timezone
                    ),
                ));
                None
            }
        };
        let tz = tz.unwrap_or(crate::time::LOCAL_TZ);
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
        if m.pagination.style == PaginationStyle::Page && m.pagination.page_param.is_empty() {
            problems.push((
                "pagination.page_param".into(),
                "required for style = \"page\"".into(),
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut by_first_key: FoldMap<String, Vec<usize>> = FoldMap::default();
        let mut other_paths = Vec::new();
        for (i, path) in fields.iter().enumerate() {
            match path.as_ref().and_then(|p| p.0.first()) {
                Some(Segment::Key(k)) => by_first_key.entry(k.clone()).or_default().push(i),
                Some(Segment::Index(_)) => other_paths.push(i),
                // No path, or the whole value: nothing to read by key.
                None => other_paths.extend(path.as_ref().map(|_| i)),
            }
        }
        let wire_names = schema
            .fields
            .iter()
            .zip(&fields)
            .map(|(f, p)| p.as_ref().map_or_else(|| f.default.to_owned(), render_path))
            .collect();
        let field_index = schema
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name, i))
            .collect();
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
            fields,
            wire_names,
            field_index,
            by_first_key,
            other_paths,
            codes,
        })
    }

    /// A reader for one record.
    /// The wire path of a field, if the feed has it.
    pub fn wire_name_of(&self, field: &str) -> Option<String> {
        self.field_index
            .get(field)
            .map(|&i| self.wire_names[i].clone())
    }

    pub fn reader<'a>(&'a self, record: &'a Value) -> Reader<'a> {
        Reader::new(self, record, None, None)
    }
}

/// Where a list element sits in its record, for messages: the list field
/// (within its own parent) and the element's index (`None` for a single
/// object read as a list of one). Rendered only when a record is rejected.
#[derive(Debug)]
struct ListAt {
    parent: Option<(Rc<ListAt>, Option<usize>)>,
    field: usize,
}

fn render_prefix(spec: &FeedSpec, at: &Option<(Rc<ListAt>, Option<usize>)>) -> String {
    match at {
        None => String::new(),
        Some((list, index)) => {
            let mut out = render_prefix(spec, &list.parent);
            out.push_str(&spec.wire_names[list.field]);
            match index {
                Some(i) => out.push_str(&format!("[{i}].")),
                None => out.push('.'),
            }
            out
        }
    }
}

/// Reads the fields of one record (or of one element of a list in it).
pub struct Reader<'a> {
    spec: &'a FeedSpec,
    /// Each field's value here, by field index (`None`: absent or null).
    slots: Vec<Option<&'a Value>>,
    id: Option<Rc<str>>,
    /// For list elements, where they sit, so errors name the element.
    at: Option<(Rc<ListAt>, Option<usize>)>,
}

impl<'a> Reader<'a> {
    fn new(
        spec: &'a FeedSpec,
        value: &'a Value,
        id: Option<Rc<str>>,
        at: Option<(Rc<ListAt>, Option<usize>)>,
    ) -> Reader<'a> {
        let mut slots = vec![None; spec.fields.len()];
        // One walk over the object's keys; a repeated key's last copy wins.
        if let Some(obj) = value.as_object() {
            for (key, v) in obj.iter() {
                if let Some(fields) = spec.by_first_key.get(key) {
                    for &i in fields {
                        if let Some(path) = &spec.fields[i] {
                            slots[i] = path.get_after_first(v);
                        }
                    }
                }
            }
        }
        for &i in &spec.other_paths {
            if let Some(path) = &spec.fields[i] {
                slots[i] = path.get(value);
            }
        }
        Reader {
            spec,
            slots,
            id,
            at,
        }
    }

    /// Names the record in later rejects.
    pub fn identify(&mut self, id: &str) {
        self.id = Some(Rc::from(id));
    }

    pub fn reject(&self, field: &str, problem: impl Into<String>) -> Reject {
        Reject {
            check: None,
            record_id: self.id.as_deref().map(str::to_owned),
            field: format!(
                "{}{}",
                render_prefix(self.spec, &self.at),
                self.wire_name(field)
            ),
            problem: problem.into(),
        }
    }

    /// The wire path of a field, for messages.
    fn wire_name(&self, field: &str) -> String {
        match self.spec.field_index.get(field) {
            Some(&i) => self.spec.wire_names[i].clone(),
            None => field.to_owned(),
        }
    }

    pub fn value(&self, field: &str) -> Option<&'a Value> {
        let i = *self.spec.field_index.get(field)?;
        self.slots[i]
    }

    /// The record's unit (field `unit`), an electronic agency code; every
    /// feed has one.
    pub fn unit_code(&self) -> Result<crate::domain::UnitCode, Reject> {
        let raw = self.string("unit")?;
        crate::domain::UnitCode::parse(&raw).map_err(|e| self.reject("unit", e.to_string()))
    }

    pub fn string(&self, field: &str) -> Result<String, Reject> {
        self.opt_string(field)?
            .ok_or_else(|| self.reject(field, "required field is missing"))
    }

    pub fn opt_string(&self, field: &str) -> Result<Option<String>, Reject> {
        match self.value(field) {
            None => Ok(None),
            Some(v) => match (v.as_str(), v.as_number()) {
                (Some(s), _) => {
                    // Control characters and direction overrides never reach storage.
                    let s = crate::domain::quality::clean_text(s);
                    let s = s.trim();
                    Ok((!s.is_empty()).then(|| s.to_owned()))
                }
                (None, Some(n)) => Ok(Some(n.to_string())),
                _ => Err(self.reject(field, format!("expected a string, found {}", excerpt(v)))),
            },
        }
    }

    /// A boolean; also accepts 0/1 and "true"/"false"/"0"/"1". Absent is false.
    pub fn flag(&self, field: &str) -> Result<bool, Reject> {
        Ok(self.opt_flag(field)?.unwrap_or(false))
    }

    pub fn opt_flag(&self, field: &str) -> Result<Option<bool>, Reject> {
        match self.value(field) {
            None => Ok(None),
            Some(v) if v.is_boolean() => Ok(v.as_bool()),
            Some(v) if v.is_number() && v.as_u64() == Some(0) => Ok(Some(false)),
            Some(v) if v.is_number() && v.as_u64() == Some(1) => Ok(Some(true)),
            Some(v) if v.is_str() => match v.as_str().unwrap_or_default().trim() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                s => Err(self.reject(field, format!("expected true or false, found \"{s}\""))),
            },
            Some(other) => Err(self.reject(
                field,
                format!("expected true or false, found {}", excerpt(other)),
            )),
        }
    }

    pub fn number(&self, field: &str) -> Result<Option<f64>, Reject> {
        match self.value(field) {
            None => Ok(None),
            Some(v) if v.is_number() => Ok(v.as_f64()),
            Some(v) if v.is_str() => {
                let s = v.as_str().unwrap_or_default();
                s.trim()
                    .replace(',', ".")
                    .parse()
                    .map(Some)
                    .map_err(|_| self.reject(field, format!("expected a number, found \"{s}\"")))
            }
            Some(other) => Err(self.reject(
                field,
                format!("expected a number, found {}", excerpt(other)),
            )),
        }
    }

    pub fn date(&self, field: &str) -> Result<Option<DateTime<Utc>>, Reject> {
        match self.value(field) {
            None => Ok(None),
            Some(v) if v.as_str().is_some_and(|s| s.trim().is_empty()) => Ok(None),
            Some(v) => self.spec.dates.decode(v).map(Some).ok_or_else(|| {
                self.reject(
                    field,
                    format!(
                        "expected {}, found {}",
                        self.spec.dates.describe(),
                        excerpt(v)
                    ),
                )
            }),
        }
    }

    pub fn required_date(&self, field: &str) -> Result<DateTime<Utc>, Reject> {
        self.date(field)?
            .ok_or_else(|| self.reject(field, "required field is missing"))
    }

    /// A coded value through `table`; `None` when the field is absent.
    pub fn code<T: FromStr>(&self, field: &str, table: &str) -> Result<Option<T>, Reject> {
        let raw = match self.value(field) {
            None => return Ok(None),
            Some(v) if v.is_str() => v.as_str().unwrap_or_default().trim().to_owned(),
            Some(v) if v.is_number() || v.is_boolean() => v.to_string(),
            Some(other) => {
                return Err(
                    self.reject(field, format!("expected a code, found {}", excerpt(other)))
                );
            }
        };
        let table_map = self.spec.codes.get(table);
        let Some(name) = table_map.and_then(|t| t.get(&raw)) else {
            let mut known: Vec<&String> = table_map.map(|t| t.keys().collect()).unwrap_or_default();
            known.sort();
            return Err(self.reject(
                field,
                format!(
                    "unknown code \"{raw}\": expected one of {} (see mapping codes.{table})",
                    known
                        .iter()
                        .map(|k| format!("\"{k}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        name.parse().map(Some).map_err(|_| {
            self.reject(
                field,
                format!("code \"{raw}\" maps to unknown name `{name}`"),
            )
        })
    }

    /// The elements of a list field (absent: none), each with its own reader.
    pub fn list(&self, field: &str) -> Result<Vec<Reader<'a>>, Reject> {
        let Some(v) = self.value(field) else {
            return Ok(Vec::new());
        };
        let at = |index| {
            let list = ListAt {
                parent: self.at.clone(),
                field: self.spec.field_index.get(field).copied().unwrap_or(0),
            };
            (Rc::new(list), index)
        };
        if let Some(items) = v.as_array() {
            if items.is_empty() {
                return Ok(Vec::new());
            }
            let (list, _) = at(None);
            Ok(items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    Reader::new(
                        self.spec,
                        item,
                        self.id.clone(),
                        Some((list.clone(), Some(i))),
                    )
                })
                .collect())
        } else if v.is_object() {
            // A single object where a list is expected is read as a list of one.
            Ok(vec![Reader::new(
                self.spec,
                v,
                self.id.clone(),
                Some(at(None)),
            )])
        } else {
            Err(self.reject(field, format!("expected a list, found {}", excerpt(v))))
        }
    }
}

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            f.write_str("(the whole body)")
        } else {
            f.write_str(&render_path(self))
        }
    }
}

fn render_path(p: &JsonPath) -> String {
    let mut out = String::new();
    for seg in &p.0 {
        match seg {
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// A short rendering of a value for messages.
pub fn excerpt(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// The same JSON as read from the wire, for tests that build records with
/// `serde_json::json!` and edit them in place.
#[cfg(test)]
pub(crate) fn wire(v: &serde_json::Value) -> Value {
    sonic_rs::to_value(v).expect("any serde_json value converts")
}

/// Checks a code-table target name against an enum's names.
pub fn check_name<T: FromStr<Err = String>>(name: &str) -> Result<(), String> {
    T::from_str(name).map(|_| ())
}

#[cfg(test)]
mod tests;
