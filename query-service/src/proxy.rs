//! Forwarding `/api/v1` requests to command-service: method, path, query, headers and body go
//! through unchanged (bar hop-by-hop headers); the answer streams back.

use crate::EdgeState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use shared::http::MAX_BODY_BYTES;
use shared::ApiError;
use std::time::Duration;

#[derive(Clone)]
pub struct Upstream {
    client: reqwest::Client,
    base: String,
}

impl Upstream {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(64)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
        })
    }
}

const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];

fn copy_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if !HOP_BY_HOP.contains(&name.as_str()) && name != "content-length" {
            to.append(name.clone(), value.clone());
        }
    }
}

pub async fn forward(State(state): State<EdgeState>, req: Request) -> Response {
    match forward_inner(&state.upstream, req).await {
        Ok(resp) => resp,
        Err(err) => err.into_response(),
    }
}

async fn forward_inner(upstream: &Upstream, req: Request) -> Result<Response, ApiError> {
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
        .map_err(|_| {
            ApiError::PayloadTooLarge(format!(
                "request body is larger than {} MB; split it into smaller requests",
                MAX_BODY_BYTES / (1024 * 1024)
            ))
        })?;
    let path = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut headers = HeaderMap::new();
    // The edge has set `X-Request-Id` (see `edge.rs`); it goes through with the rest.
    copy_headers(&parts.headers, &mut headers);
    let answer = upstream
        .client
        .request(parts.method, format!("{}{path}", upstream.base))
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
