//! Answers handed over in-process. A caller inside this process (the MCP gateway) marks its
//! request [`InProcess`]; a handler whose answer is large JSON (a page of leads) then hands
//! the value over in the response's extensions instead of serializing it, and the caller
//! saves a serialize and a parse of the whole answer. Everything else — auth, scopes, rate
//! limits, read-your-writes — runs as for any request.

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

/// Marks a request made from inside this process.
#[derive(Debug, Clone, Copy)]
pub struct InProcess;

/// A JSON answer as a value (the response's body is empty).
#[derive(Debug, Clone)]
pub struct JsonAnswer(pub Value);

/// `body` as the answer: the value itself for an in-process caller, else serialized.
pub fn json_answer(caller: Option<InProcess>, body: Value) -> Response {
    if caller.is_some() {
        let mut response = ().into_response();
        response.extensions_mut().insert(JsonAnswer(body));
        return response;
    }
    Json(body).into_response()
}
