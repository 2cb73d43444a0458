//! Form bodies (`application/x-www-form-urlencoded`), read one way for the
//! whole console. The forms' structs give every field a default, so a form
//! posted without its `csrf_token` reads as an empty token and is refused
//! by the CSRF check (403), never by a parse error.

use serde::de::DeserializeOwned;

use super::WebError;

/// A form body read into `T`, whose fields are all strings; a repeated
/// name keeps its last value, and unknown names are ignored.
pub(super) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, WebError> {
    let fields: serde_json::Map<String, serde_json::Value> = url::form_urlencoded::parse(body)
        .into_owned()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| WebError::BadRequest(format!("form: {e}")))
}
