//! What every handler of the edge shares.

use crate::cursor::CursorSigner;
use crate::proxy;
use crate::ratelimit::RateLimiter;
use axum::extract::FromRef;
use shared::auth::KeyResolver;
use shared::http::TrustedProxies;
use shared::plan::{Plan, PlanTable};
use sqlx::PgPool;
use std::time::Duration;

#[derive(Clone)]
pub struct EdgeState {
    pub pool: PgPool,
    pub upstream: proxy::Upstream,
    pub keys: KeyResolver,
    pub cursors: CursorSigner,
    pub read_wait: Duration,
    pub limiter: RateLimiter,
    pub limiter_window: Duration,
    pub plans: PlanTable,
    /// The plan whose request figures answers without a valid key carry.
    pub default_plan: Plan,
    /// Proxies in front of the edge whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
}

impl FromRef<EdgeState> for KeyResolver {
    fn from_ref(state: &EdgeState) -> Self {
        state.keys.clone()
    }
}
