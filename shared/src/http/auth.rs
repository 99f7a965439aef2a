//! The `Auth` extractor: `X-API-Key: <key>` or `Authorization: Bearer <key>`, resolved through
//! the service's `KeyResolver`; anything else is 401 in the error shape.

use crate::auth::{AuthContext, KeyResolver};
use crate::error::ApiError;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

pub struct Auth(pub AuthContext);

/// The key a request presents, from either header (names are case-insensitive).
pub fn api_key_from_headers(headers: &HeaderMap) -> Option<&str> {
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(key.trim());
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = auth.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl<S> FromRequestParts<S> for Auth
where
    S: Send + Sync,
    KeyResolver: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(raw) = api_key_from_headers(&parts.headers) else {
            return Err(ApiError::Unauthorized(
                "missing API key: send it as 'X-API-Key: sk_live_...' or 'Authorization: Bearer sk_live_...'"
                    .into(),
            ));
        };
        let resolver = KeyResolver::from_ref(state);
        match resolver.resolve(raw).await? {
            Some(ctx) => Ok(Auth(ctx)),
            None => Err(ApiError::Unauthorized(
                "invalid API key: it is unknown or revoked; POST /api/v1/login for a new one"
                    .into(),
            )),
        }
    }
}
