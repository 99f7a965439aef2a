//! Forwarding `/api/v1` requests to command-service: method, path, query, headers and body go
//! through unchanged (bar hop-by-hop headers); the answer streams back. Only `/api/v1/...`
//! is ever reached: paths with `.`/`..` segments are refused before routing (see `lib.rs`),
//! and the URL the client builds is checked again. `X-Forwarded-For` is replaced by the one
//! client address the edge saw (its TCP peer, or what a trusted proxy in front of it says),
//! which command-service believes from the edge only (`COMMAND_TRUSTED_PROXIES`).

use crate::EdgeState;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;
use shared::http::{client_ip, is_body_timeout, TrustedProxies, FORWARDED_FOR, MAX_BODY_BYTES};
use shared::ApiError;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Clone)]
pub struct Upstream {
    client: reqwest::Client,
    base: String,
}

impl Upstream {
    /// `server_idle` is how long command-service keeps an idle connection open (its header
    /// read timeout): pooled connections are dropped well before, so a forwarded write never
    /// goes out on a connection the server is closing.
    pub fn new(base: &str, server_idle: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(64)
            .pool_idle_timeout(server_idle / 2)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
        })
    }
}

const HOP_BY_HOP: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    FORWARDED_FOR,
];

fn copy_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if !HOP_BY_HOP.contains(&name.as_str()) && name != "content-length" {
            to.append(name.clone(), value.clone());
        }
    }
}

/// Paths that take only writes: every write method goes on to command-service, a read is 405
/// (paths that also have reads route their other methods to [`forward`] themselves).
pub fn router() -> Router<EdgeState> {
    let writes = || {
        on(
            MethodFilter::POST
                .or(MethodFilter::PUT)
                .or(MethodFilter::PATCH)
                .or(MethodFilter::DELETE),
            forward,
        )
    };
    [
        "/api/v1/register",
        "/api/v1/login",
        "/api/v1/leads/batch",
        "/api/v1/leads/score/batch",
        "/api/v1/notes/{id}",
        "/api/v1/leads/{id}/attributes/{attr_id}",
    ]
    .into_iter()
    .fold(Router::new(), |router, path| router.route(path, writes()))
    .fallback(forward_writes)
}

/// Any other path: a write goes on (command-service answers it, or 404s an unknown path); a
/// read of a path nobody serves is 404 here.
async fn forward_writes(state: State<EdgeState>, req: Request) -> Response {
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return shared::http::fallback_not_found(req).await.into_response();
    }
    forward(state, req).await
}

pub async fn forward(State(state): State<EdgeState>, req: Request) -> Response {
    match forward_inner(&state.upstream, &state.trusted_proxies, req).await {
        Ok(resp) => resp,
        Err(err) => err.into_response(),
    }
}

async fn forward_inner(
    upstream: &Upstream,
    trusted: &TrustedProxies,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    if !parts.uri.path().starts_with("/api/v1/") {
        return Err(ApiError::not_found(format!(
            "no route for {} {}",
            parts.method,
            parts.uri.path()
        )));
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|e| {
            if is_body_timeout(&e) {
                ApiError::RequestTimeout(
                    "the request body did not arrive in time; send it at once".into(),
                )
            } else if std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            {
                ApiError::PayloadTooLarge(format!(
                    "request body is larger than {} MB; split it into smaller requests",
                    MAX_BODY_BYTES / (1024 * 1024)
                ))
            } else {
                ApiError::bad_request(format!("could not read the request body: {e}"))
            }
        })?;
    let path = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let url = reqwest::Url::parse(&format!("{}{path}", upstream.base))
        .ok()
        .filter(|url| url.path().starts_with("/api/v1/"))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "the path '{}' cannot be forwarded; send a plain /api/v1/... path",
                parts.uri.path()
            ))
        })?;
    let mut headers = HeaderMap::new();
    // The edge has set `X-Request-Id` (see `edge.rs`); it goes through with the rest.
    copy_headers(&parts.headers, &mut headers);
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if let Some(ip) = client_ip(peer, &parts.headers, trusted) {
        if let Ok(value) = HeaderValue::from_str(&ip.to_string()) {
            headers.insert(FORWARDED_FOR, value);
        }
    }
    let answer = upstream
        .client
        .request(parts.method, url)
        .headers(headers)
        .body(bytes)
        .send()
        .await
        .map_err(|e| ApiError::Unavailable(format!("command-service unreachable: {e}")))?;
    let mut response = Response::builder().status(answer.status());
    if let Some(h) = response.headers_mut() {
        copy_headers(answer.headers(), h);
    }
    response
        .body(Body::from_stream(answer.bytes_stream()))
        .map_err(ApiError::internal)
}
