//! A tool call runs as the REST request it stands for, answered in-process by the edge's own
//! routes (reads with read-your-writes here, writes forwarded to command-service), with the
//! caller's key: the same validation, scopes, rate limits and rules as over REST, and no
//! second implementation of any of them. The answer becomes the tool's result: `{"data": …}`
//! as structured content (and as text), or an error result `{"error": {code, message,
//! status}}` with the MCP error codes.

use axum::body::{Body, Bytes};
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::{BodyExt, Limited};
use rmcp::model::CallToolResult;
use serde_json::{json, Value};
use shared::http::VIA_HEADER;
use tower::ServiceExt;

/// Who calls, as the gateway's auth layer found them: the key they presented and how they
/// came (`mcp <client>/<version>`).
#[derive(Debug, Clone)]
pub struct Caller {
    pub key: String,
    pub via: String,
}

/// What a route answered: its body, or its JSON value when the route handed that over
/// in-process.
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
    pub value: Option<Value>,
}

impl Answer {
    pub fn json(&self) -> Value {
        match &self.value {
            Some(v) => v.clone(),
            None => serde_json::from_slice(&self.body).unwrap_or(Value::Null),
        }
    }

    /// The answer's JSON, taken (without a copy when it came as a value).
    pub fn into_json(self) -> Value {
        match self.value {
            Some(v) => v,
            None => serde_json::from_slice(&self.body).unwrap_or(Value::Null),
        }
    }
}

/// An answer too large to hand back whole.
pub struct TooLarge;

/// Sends `method path` (under `/api/v1`) with `body` to the edge's routes as `caller`; reads
/// at most `max_bytes` of the answer.
pub async fn send(
    api: &Router,
    caller: &Caller,
    method: Method,
    path: &str,
    body: Option<&Value>,
    max_bytes: usize,
) -> Result<Answer, TooLarge> {
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = Request::builder()
        .method(method)
        .uri(format!("/api/v1{path}"))
        .header("x-api-key", &caller.key)
        .header(VIA_HEADER, &caller.via);
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let request = match request
        .extension(crate::inproc::InProcess)
        .body(Body::from(bytes))
    {
        Ok(r) => r,
        Err(e) => return Ok(Answer {
            value: None,
            status: StatusCode::BAD_REQUEST,
            body: Bytes::from(
                json!({"code": "bad_request", "message": format!("this call cannot be made: {e}")})
                    .to_string(),
            ),
        }),
    };
    // The router's service never fails (errors are answers).
    let mut response = match api.clone().oneshot(request).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = response.status();
    let value = response
        .extensions_mut()
        .remove::<crate::inproc::JsonAnswer>()
        .map(|crate::inproc::JsonAnswer(v)| v);
    let body = Limited::new(response.into_body(), max_bytes)
        .collect()
        .await
        .map_err(|_| TooLarge)?
        .to_bytes();
    Ok(Answer {
        status,
        body,
        value,
    })
}

/// The MCP error code of an HTTP status.
pub fn error_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 413 | 422 => "VALIDATION_ERROR",
        401 | 403 => "UNAUTHORIZED",
        404 => "RESOURCE_NOT_FOUND",
        409 | 412 => "CONFLICT",
        429 => "RATE_LIMITED",
        _ => "INTERNAL_ERROR",
    }
}

/// An error result.
pub fn error(code: &str, message: impl Into<String>, status: u16) -> CallToolResult {
    CallToolResult::structured_error(json!({
        "error": {"code": code, "message": message.into(), "status": status}
    }))
}

/// The result of `answer`: on success `shape` turns its JSON (null when empty) into the
/// result's object (`{"data": …}`, lists with `meta`); else the error, its message as the
/// route wrote it.
pub fn result(answer: Answer, shape: impl FnOnce(Value) -> Value) -> CallToolResult {
    let status = answer.status;
    let body = answer.into_json();
    if status.is_success() {
        return CallToolResult::structured(shape(body));
    }
    let message = body["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("the request failed with HTTP {}", status.as_u16()));
    error(error_code(status), message, status.as_u16())
}

/// `{"data": body}`.
pub fn data(body: Value) -> Value {
    json!({ "data": body })
}

/// A K-route list (`{"notes": [...]}`) as `{"data": [...]}`.
pub fn list_of(key: &'static str) -> impl FnOnce(Value) -> Value {
    move |mut body| json!({ "data": body[key].take() })
}

/// A C-route answer, already `{"data": …}` (with `meta` for lists).
pub fn as_is(body: Value) -> Value {
    body
}

/// The answer to a delete without `confirm: true`.
pub fn confirmation_required() -> CallToolResult {
    error("CONFIRMATION_REQUIRED", "Set confirm: true to delete.", 400)
}

/// Percent-encodes a query value.
pub fn enc(raw: &str) -> String {
    form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

/// Percent-encodes a path segment (all but the unreserved characters).
pub fn seg(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
