//! Path normalization (`//` collapses to `/`, SPEC §1.2) and error-shaped 404/405 answers.

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::Uri;

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
