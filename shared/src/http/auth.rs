//! The `Auth` extractor: `X-API-Key: <key>` or `Authorization: Bearer <key>`, resolved through
//! the service's `KeyResolver`; anything else is 401 in the error shape. A key without the
//! scope the request's method and path need (`Scope::required`) is 403 `forbidden`.

use crate::auth::{AuthContext, KeyResolver, Scope};
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
        let Some(ctx) = resolver.resolve(raw).await? else {
            return Err(ApiError::Unauthorized(
                "invalid API key: it is unknown, revoked or expired; POST /api/v1/login for a new one"
                    .into(),
            ));
        };
        let needed = Scope::required(&parts.method, parts.uri.path());
        if !ctx.scopes.contains(needed) {
            return Err(forbidden(needed));
        }
        Ok(Auth(ctx))
    }
}

/// The answer to a key without `scope`.
pub fn forbidden(scope: Scope) -> ApiError {
    ApiError::Forbidden(format!(
        "this API key lacks the '{}' scope; use a key that holds it (POST /api/v1/api-keys with an admin key)",
        scope.as_str()
    ))
}
