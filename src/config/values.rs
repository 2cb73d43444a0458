//! Configuration values that carry rules, parsed (and so checked) when the
//! configuration is read.

use std::fmt;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------
// Value types with rules
// ---------------------------------------------------------------------------

/// A secret string. It cannot be printed by accident: `Debug`, `Display`-less,
/// and `Serialize` all show `[redacted]`.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(SecretString::from(s.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

/// A database URL. Its password, if any, never reaches `Debug` or `Serialize`.
#[derive(Clone)]
pub struct DatabaseUrl(Secret);

impl DatabaseUrl {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.starts_with("sqlite:")
            || s.starts_with("postgres://")
            || s.starts_with("postgresql://")
        {
            Ok(Self(Secret::new(s)))
        } else {
            Err("expected a URL starting with sqlite: or postgres://".into())
        }
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    pub fn is_postgres(&self) -> bool {
        !self.expose().starts_with("sqlite:")
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        match url::Url::parse(self.expose()) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                u.to_string()
            }
            Ok(u) => u.to_string(),
            // An unparseable URL may still hold a password: show only the scheme.
            Err(_) => format!(
                "{}://[redacted]",
                self.expose().split(':').next().unwrap_or("?")
            ),
        }
    }

    pub(crate) fn with_password(&self, password: &Secret) -> Result<Self, String> {
        let mut u = url::Url::parse(self.expose()).map_err(|e| e.to_string())?;
        u.set_password(Some(password.expose()))
            .map_err(|_| "this URL cannot carry a password".to_string())?;
        Ok(Self(Secret::new(u.to_string())))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A cron schedule with seconds (`sec min hour day month weekday`), read in
/// Asia/Ho_Chi_Minh, e.g. `0 */5 * * * *` for every five minutes.
#[derive(Clone)]
pub struct Schedule {
    text: String,
    cron: croner::Cron,
}

impl Schedule {
    pub fn parse(s: &str) -> Result<Self, String> {
        // The same parser settings as tokio-cron-scheduler, which runs it.
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Required)
            .dom_and_dow(true)
            .build()
            .parse(s)
            .map_err(|e| {
                format!("`{s}` is not a cron schedule with seconds, e.g. \"0 */5 * * * *\": {e}")
            })?;
        Ok(Self {
            text: s.to_owned(),
            cron,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The next time the schedule fires strictly after `after`.
    pub fn next_after(
        &self,
        after: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        let local = after.with_timezone(&crate::time::LOCAL_TZ);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc))
    }

    /// The gap between two consecutive firings after `after`: the nominal
    /// interval of a regular schedule, used for staleness defaults.
    pub fn interval_near(&self, after: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
        let a = self.next_after(after)?;
        let b = self.next_after(a)?;
        (b - a).to_std().ok()
    }
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({:?})", self.text)
    }
}

impl Serialize for Schedule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An absolute `http://` or `https://` base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl(url::Url);

impl BaseUrl {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut u = url::Url::parse(s).map_err(|e| format!("`{s}` is not a URL: {e}"))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(format!("`{s}` is not an http:// or https:// URL"));
        }
        // A trailing slash makes `join` append rather than replace the last segment.
        if !u.path().ends_with('/') {
            let p = format!("{}/", u.path());
            u.set_path(&p);
        }
        Ok(Self(u))
    }

    pub fn url(&self) -> &url::Url {
        &self.0
    }

    pub fn join(&self, path: &str) -> url::Url {
        self.0
            .join(path.trim_start_matches('/'))
            .unwrap_or_else(|_| self.0.clone())
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for BaseUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for BaseUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A fraction in [0, 1], written as such in config (`0.95`, not `95`).
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Fraction(f64);

impl Fraction {
    pub fn new(v: f64) -> Result<Self, String> {
        if (0.0..=1.0).contains(&v) {
            Ok(Self(v))
        } else {
            Err(format!(
                "{v} is not a fraction: expected a number from 0 to 1, e.g. 0.95 for 95%"
            ))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        Self::new(v).map_err(serde::de::Error::custom)
    }
}

/// An absolute `http://` or `https://` URL, kept as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpUrl(url::Url);

impl HttpUrl {
    pub fn parse(s: &str) -> Result<Self, String> {
        let u = url::Url::parse(s).map_err(|e| format!("`{s}` is not a URL: {e}"))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(format!("`{s}` is not an http:// or https:// URL"));
        }
        Ok(Self(u))
    }

    pub fn url(&self) -> &url::Url {
        &self.0
    }
}

impl Serialize for HttpUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}
