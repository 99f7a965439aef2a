//! What the public port adds to every answer: CORS (SPEC §1.9: preflights answered, the API's
//! headers allowed and exposed) and a request id (the caller's `X-Request-Id` when it is safe,
//! see `shared::http::accept_request_id`, else a new one), carried to command-service, echoed
//! in the response and recorded in the logs: one id everywhere.

use axum::http::{header, HeaderName, Method, Request};
use std::time::Duration;
use tower::util::MapRequestLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            HeaderName::from_static("x-api-key"),
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            REQUEST_ID,
        ])
        .expose_headers([
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderName::from_static("x-ratelimit-remaining"),
            header::RETRY_AFTER,
            HeaderName::from_static("x-read-consistency"),
            REQUEST_ID,
        ])
        .max_age(Duration::from_secs(86_400))
}

/// Drops a caller's `X-Request-Id` that is too long, has unsafe characters or is sent twice,
/// so [`set_request_id`] puts a new one in its place; drops any `via` claim from outside.
pub fn drop_unsafe_request_id<B>() -> MapRequestLayer<fn(Request<B>) -> Request<B>> {
    MapRequestLayer::new(|mut req: Request<B>| {
        let mut given = req.headers().get_all(REQUEST_ID).iter();
        let safe = match (given.next(), given.next()) {
            (Some(v), None) => v.to_str().is_ok_and(shared::http::accept_request_id),
            (None, _) => true,
            _ => false,
        };
        if !safe {
            req.headers_mut().remove(REQUEST_ID);
        }
        // Only the MCP gateway says how a command came (it calls the routes from inside).
        req.headers_mut().remove(shared::http::VIA_HEADER);
        req
    })
}

pub fn set_request_id() -> SetRequestIdLayer<MakeRequestUuid> {
    SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid)
}

pub fn propagate_request_id() -> PropagateRequestIdLayer {
    PropagateRequestIdLayer::new(REQUEST_ID)
}

/// One log span per request, named by its request id.
pub fn trace<B>() -> TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    impl Fn(&Request<B>) -> Span + Clone,
> {
    TraceLayer::new_for_http().make_span_with(|req: &Request<B>| {
        let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
        tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
    })
}
