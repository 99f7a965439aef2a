//! `JsonBody`: the request body as JSON, with malformed JSON a 400 and an oversized body a
//! 413, both in the documented error shape. A missing `Content-Type` is accepted. Text that
//! Postgres cannot store (a NUL character, `\u0000`, anywhere in the document) is refused
//! here, once for every endpoint, with the path of the field that holds it.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde_json::Value;
use std::fmt::Write;

/// Request bodies over this many bytes get 413 (SPEC §2).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// The parsed body; an empty body is `Value::Null`.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(format!(
                    "request body is larger than {} MB; split it into smaller requests",
                    MAX_BODY_BYTES / (1024 * 1024)
                ))
            } else if crate::http::is_body_timeout(&rejection) {
                ApiError::RequestTimeout(
                    "the request body did not arrive in time; send it at once".into(),
                )
            } else {
                ApiError::bad_request(format!("could not read the request body: {rejection}"))
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(Value::Null));
        }
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("request body is not valid JSON: {e}")))?;
        if let Some(path) = nul_path(&value) {
            return Err(ApiError::bad_request(format!(
                "invalid field '{path}': text must not contain NUL characters (\\u0000); remove them"
            )));
        }
        Ok(JsonBody(value))
    }
}

/// Where the first NUL character of `value` is: a field path such as `attributes[0].value`
/// (`<root>` for a bare string). Object keys are checked as well as strings.
pub fn nul_path(value: &Value) -> Option<String> {
    let mut path = String::new();
    find_nul(value, &mut path).then(|| {
        if path.is_empty() {
            "<root>".to_owned()
        } else {
            path
        }
    })
}

fn find_nul(value: &Value, path: &mut String) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
            let len = path.len();
            let _ = write!(path, "[{i}]");
            let found = find_nul(item, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        Value::Object(map) => map.iter().any(|(key, item)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&key.replace('\0', "\\u0000"));
            let found = key.contains('\0') || find_nul(item, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_path_of_a_nul_names_the_field_that_holds_it() {
        assert_eq!(
            nul_path(&json!({"name": "ok", "city": "a\u{0}b"})),
            Some("city".into())
        );
        assert_eq!(
            nul_path(
                &json!({"attributes": [{"name": "x", "value": "ok"}, {"name": "y", "value": ["\u{0}"]}]})
            ),
            Some("attributes[1].value[0]".into())
        );
        assert_eq!(nul_path(&json!({"a\u{0}": 1})), Some("a\\u0000".into()));
        assert_eq!(nul_path(&json!("\u{0}")), Some("<root>".into()));
        assert_eq!(
            nul_path(&json!({"name": "fine", "tags": ["a", "b"], "n": 1})),
            None
        );
    }
}
