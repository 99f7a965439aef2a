//! Request ids: the caller's `X-Request-Id` when it sent a sane one, else a new UUID.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::convert::Infallible;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let given = parts
            .headers
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.len() <= 128);
        Ok(RequestId(given.map_or_else(
            || uuid::Uuid::new_v4().to_string(),
            str::to_owned,
        )))
    }
}
