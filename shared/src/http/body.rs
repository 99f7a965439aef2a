//! `JsonBody`: the request body as JSON, with malformed JSON a 400 and an oversized body a
//! 413, both in the documented error shape. A missing `Content-Type` is accepted.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde_json::Value;

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
            } else {
                ApiError::bad_request(format!("could not read the request body: {rejection}"))
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(Value::Null));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request(format!("request body is not valid JSON: {e}")))
    }
}
