//! Rate limits on the public port (SPEC §1.5, §8): every authenticated request takes one slot
//! from its account's sliding window (per account, not per key: `POST /login` issues a new key,
//! which must not come with a new budget) before anything else runs; a full window answers 429 with
//! `Retry-After`. Every response carries `X-RateLimit-Limit` and `X-RateLimit-Remaining`:
//! the account's own figures, or the default plan's for requests without a valid key (those are
//! not counted; they end in 401 or are public).

mod window;

pub use window::{RateLimiter, UNLIMITED};

use crate::EdgeState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::http::api_key_from_headers;
use shared::ApiError;
use window::Decision;

pub const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
pub const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");

pub async fn limit(State(state): State<EdgeState>, req: Request, next: Next) -> Response {
    let decision = match decide(&state, req.headers()).await {
        Ok(decision) => decision,
        Err(err) => return err.into_response(),
    };
    let mut response = match decision.retry_after {
        Some(secs) => ApiError::RateLimited {
            message: format!(
                "rate limit exceeded: {} requests per {} s for this account (all its API keys); retry after {secs} s",
                decision.limit,
                state.limiter_window.as_secs()
            ),
            retry_after_secs: secs,
        }
        .into_response(),
        None => next.run(req).await,
    };
    stamp(response.headers_mut(), decision);
    response
}

async fn decide(state: &EdgeState, headers: &HeaderMap) -> Result<Decision, ApiError> {
    let default = Decision::uncounted(state.plans.limits(state.default_plan));
    let Some(raw) = api_key_from_headers(headers) else {
        return Ok(default);
    };
    match state.keys.resolve(raw).await? {
        Some(ctx) => Ok(state
            .limiter
            .take(ctx.account_id, state.plans.limits(ctx.plan))
            .await?),
        None => Ok(default),
    }
}

fn stamp(headers: &mut HeaderMap, decision: Decision) {
    headers.insert(LIMIT, HeaderValue::from(decision.limit));
    headers.insert(REMAINING, HeaderValue::from(decision.remaining));
}

/// The figures of answers that never reach [`limit`] (CORS preflights).
pub fn default_headers(state: &EdgeState) -> (HeaderValue, HeaderValue) {
    let d = Decision::uncounted(state.plans.limits(state.default_plan));
    (HeaderValue::from(d.limit), HeaderValue::from(d.remaining))
}
