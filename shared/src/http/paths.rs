//! Path normalization (`//` collapses to `/`, SPEC §1.2), refusal of `.`/`..` segments, and
//! error-shaped 404/405 answers.

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Whether `path` has a `.` or `..` segment, also percent-encoded (`%2e%2e`) or split by a
/// backslash (which URL parsers, the forwarding client's included, read as a slash).
pub fn has_dot_segment(path: &str) -> bool {
    path.split(['/', '\\']).any(|segment| {
        let segment = segment.to_ascii_lowercase().replace("%2e", ".");
        segment == "." || segment == ".."
    })
}

/// Middleware, outermost: a path with `.`/`..` segments is refused with 400 before routing,
/// so no route, and no forwarded URL, is ever reached through one.
pub async fn refuse_dot_segments(req: Request, next: Next) -> Response {
    if has_dot_segment(req.uri().path()) {
        return ApiError::bad_request(format!(
            "the path '{}' has '.' or '..' segments; send the path without them",
            req.uri().path()
        ))
        .into_response();
    }
    next.run(req).await
}

/// Collapses repeated slashes in the request path before routing. Never redirects.
pub fn collapse_slashes<B>(mut req: axum::http::Request<B>) -> axum::http::Request<B> {
    let uri = req.uri();
    if !uri.path().contains("//") {
        return req;
    }
    let mut path = String::with_capacity(uri.path().len());
    for c in uri.path().chars() {
        if !(c == '/' && path.ends_with('/')) {
            path.push(c);
        }
    }
    let path_and_query = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut parts = uri.clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(new) = Uri::from_parts(parts) {
            *req.uri_mut() = new;
        }
    }
    req
}

pub async fn fallback_not_found(req: Request) -> ApiError {
    ApiError::not_found(format!(
        "no route for {} {}",
        req.method(),
        req.uri().path()
    ))
}

pub async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "{} is not allowed on {}",
        req.method(),
        req.uri().path()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_are_found_in_every_spelling() {
        for path in [
            "/api/v1/../../healthz",
            "/api/v1/./leads",
            "/api/v1/%2e%2e/healthz",
            "/api/v1/%2E%2e/healthz",
            "/api/v1/.%2E/healthz",
            "/api/v1/..\\healthz",
            "/api/v1/leads/..",
        ] {
            assert!(has_dot_segment(path), "{path}");
        }
        for path in [
            "/api/v1/leads",
            "/api/v1/leads/a..b",
            "/api/v1/.well-known",
            "/",
        ] {
            assert!(!has_dot_segment(path), "{path}");
        }
    }

    #[test]
    fn repeated_slashes_collapse_and_the_query_survives() {
        let req = axum::http::Request::builder()
            .uri("//api/v1//leads?filter=a//b")
            .body(())
            .unwrap();
        assert_eq!(
            collapse_slashes(req).uri().to_string(),
            "/api/v1/leads?filter=a//b"
        );
    }
}
