//! Dotted paths into JSON, as a mapping names its fields.

use sonic_rs::{JsonValueTrait, Value};

/// A dotted path into JSON: `data`, `thoiGian.tiepNhan`, `items[0].id`;
/// empty (the default) means the value itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsonPath(Vec<Segment>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Segment {
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

    /// The path's first step, if it has one.
    pub(super) fn first(&self) -> Option<&Segment> {
        self.0.first()
    }

    /// The value at the path, `v` being what its first segment reached.
    pub(super) fn get_after_first<'a>(&self, v: &'a Value) -> Option<&'a Value> {
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

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            f.write_str("(the whole body)")
        } else {
            f.write_str(&render_path(self))
        }
    }
}

pub(super) fn render_path(p: &JsonPath) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use sonic_rs::json;

    #[test]
    fn json_paths_reach_nested_values_and_treat_null_as_absent() {
        let v = json!({"a": {"b": [{"c": 1}, {"c": null}]}, "d": "x"});
        assert_eq!(
            JsonPath::parse("a.b[0].c").unwrap().get(&v),
            Some(&json!(1))
        );
        assert_eq!(JsonPath::parse("a.b[1].c").unwrap().get(&v), None);
        assert_eq!(JsonPath::parse("d").unwrap().get(&v), Some(&json!("x")));
        assert_eq!(JsonPath::parse("").unwrap().get(&v), Some(&v));
        for bad in ["a..b", "a[x]", "a[1", "a[1]b"] {
            assert!(JsonPath::parse(bad).is_err(), "{bad}");
        }
    }
}
