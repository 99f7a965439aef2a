//! query-service: the public edge on one base URL. It serves `/healthz` and every read of the
//! API from the read models (read-your-writes by default), and forwards writes to
//! command-service. Each route module exports its `router()`; this file merges them under the
//! edge's layers (rate limits, CORS, request ids, tracing).
#![warn(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod api_keys;
pub mod config;
pub mod consistency;
pub mod cursor;
mod edge;
mod export;
mod inproc;
mod leads;
pub mod list;
pub mod mcp;
mod page;
mod proxy;
pub mod ratelimit;
mod scoring;
mod state;
mod stats;
mod webhooks;

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use config::EdgeConfig;
use cursor::CursorSigner;
use ratelimit::RateLimiter;
use serde_json::Value;
use shared::auth::KeyResolver;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::Layer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use state::EdgeState;

/// The public edge: the REST routes, the MCP gateway (whose tools run on those routes) and
/// the layers every request passes.
pub fn router(state: EdgeState, mcp_hosts: Vec<String>) -> Router {
    let (limit, remaining) = ratelimit::default_headers(&state);
    let api = api(state.clone());
    api.clone()
        .merge(mcp::routes(api, state.keys.clone(), mcp_hosts))
        // Outermost last: an unsafe caller's id is dropped, ids are set, then traced, then
        // CORS answers preflights (which get the default rate-limit figures), then every
        // request is counted.
        .layer(edge::cors())
        .layer(SetResponseHeaderLayer::if_not_present(
            ratelimit::LIMIT,
            limit,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            ratelimit::REMAINING,
            remaining,
        ))
        .layer(edge::propagate_request_id())
        .layer(edge::trace())
        .layer(edge::set_request_id())
        .layer(edge::drop_unsafe_request_id())
}

/// The REST routes with their rate limits (also what MCP tool calls run on).
fn api(state: EdgeState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        // Reads are served here; writes go on to command-service.
        .merge(list::router())
        .merge(export::router())
        .merge(leads::router())
        .merge(scoring::router())
        .merge(webhooks::router())
        .merge(api_keys::router())
        .merge(stats::router())
        .merge(proxy::router())
        .method_not_allowed_fallback(shared::http::method_not_allowed)
        // Before any handler or the forwarder runs (and so with the answer headers below):
        // a path with `.`/`..` segments is refused, never resolved.
        .layer(axum::middleware::from_fn(shared::http::refuse_dot_segments))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ratelimit::limit,
        ))
        .with_state(state)
}

async fn healthz(State(state): State<EdgeState>) -> (StatusCode, Json<Value>) {
    shared::http::health(&state.pool, "query-service").await
}

pub async fn run(
    config: EdgeConfig,
    pool: PgPool,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let keys = KeyResolver::new(
        pool.clone(),
        config.key_cache_ttl,
        config.common.account_plans.clone(),
    );
    let cursors = CursorSigner::from_database(&pool).await?;
    let state = EdgeState {
        pool: pool.clone(),
        upstream: proxy::Upstream::new(&config.command_url, config.common.http.header_read)?,
        keys,
        cursors,
        read_wait: config.read_wait,
        limiter: RateLimiter::new(pool.clone(), config.rate_window),
        limiter_window: config.rate_window,
        plans: config.common.plans.clone(),
        default_plan: config.common.default_plan,
        trusted_proxies: config.trusted_proxies.clone(),
    };
    let app = tower::util::MapRequestLayer::new(shared::http::collapse_slashes::<Body>)
        .layer(router(state, config.mcp_allowed_hosts.clone()));
    tracing::info!(addr = %listener.local_addr()?, upstream = %config.command_url, "query-service (edge) listening");
    shared::http::serve(listener, app, config.common.http, shutdown).await?;
    Ok(())
}
