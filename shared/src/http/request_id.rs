//! Request ids: the caller's `X-Request-Id` when it is a safe one (at most 128 characters of
//! `[A-Za-z0-9._:-]`), else a new UUID. The edge applies the same rule before it echoes,
//! logs and forwards the id, so the id in the answer is the one in the events' metadata.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::convert::Infallible;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest request id accepted from a caller.
pub const MAX_REQUEST_ID: usize = 128;

pub struct RequestId(pub String);

/// Whether a caller's request id is kept as it is.
pub fn accept_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut given = parts.headers.get_all(REQUEST_ID_HEADER).iter();
        let id = match (given.next(), given.next()) {
            (Some(v), None) => v.to_str().ok().filter(|v| accept_request_id(v)),
            _ => None,
        };
        Ok(RequestId(id.map_or_else(
            || uuid::Uuid::new_v4().to_string(),
            str::to_owned,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_ids_of_safe_characters_are_accepted() {
        assert!(accept_request_id("req-from-client-42"));
        assert!(accept_request_id("a.b_c:d-E9"));
        assert!(accept_request_id(&"x".repeat(128)));
        assert!(!accept_request_id(&"x".repeat(129)));
        assert!(!accept_request_id(""));
        assert!(!accept_request_id("has space"));
        assert!(!accept_request_id("<script>"));
        assert!(!accept_request_id("a\"b"));
    }
}
