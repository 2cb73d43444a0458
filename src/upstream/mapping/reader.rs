//! Reading one record through a [`FeedSpec`]: each field by its path,
//! typed, and a [`Reject`] naming the record and the field when it cannot
//! be read.

use std::rc::Rc;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

use super::super::Reject;
use super::spec::FeedSpec;

impl FeedSpec {
    /// A reader for one record.
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

    /// A coded value a record cannot do without.
    pub fn required_code<T: FromStr>(&self, field: &str, table: &str) -> Result<T, Reject> {
        self.code(field, table)?
            .ok_or_else(|| self.reject(field, "required field is missing"))
    }

    /// Each element of a list field (absent: none), read by `read`.
    pub fn list_of<T>(
        &self,
        field: &str,
        read: impl Fn(&Reader<'a>) -> Result<T, Reject>,
    ) -> Result<Vec<T>, Reject> {
        self.list(field)?.iter().map(read).collect()
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

/// A short rendering of a value for messages.
pub fn excerpt(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}
