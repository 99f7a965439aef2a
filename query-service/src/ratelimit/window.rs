//! Request rate limits (SPEC §8): a sliding window per account (all its API keys together), counted in Postgres so the
//! limit holds across every replica of the edge. Plans without a request limit cost nothing.

use shared::plan::PlanLimits;
use sqlx::PgPool;
use std::time::Duration;
use uuid::Uuid;

/// What `X-RateLimit-Limit`/`-Remaining` say for a plan without a request limit.
pub const UNLIMITED: u64 = i32::MAX as u64;

/// The outcome of taking one request from a key's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub limit: u64,
    pub remaining: u64,
    /// `Some(seconds)` when the request is refused: when to try again (≥ 1).
    pub retry_after: Option<u64>,
}

impl Decision {
    /// The headers' values when nothing was counted (no key, or a plan without a limit).
    pub fn uncounted(limits: PlanLimits) -> Self {
        let limit = limits
            .requests_per_window
            .unwrap_or(UNLIMITED)
            .min(UNLIMITED);
        Self {
            limit,
            remaining: limit,
            retry_after: None,
        }
    }
}

#[derive(Clone)]
pub struct RateLimiter {
    pool: PgPool,
    window: Duration,
}

impl RateLimiter {
    pub fn new(pool: PgPool, window: Duration) -> Self {
        Self { pool, window }
    }

    /// Counts one request of account `account_id` against `limits`, unless the window is
    /// already full.
    pub async fn take(
        &self,
        account_id: Uuid,
        limits: PlanLimits,
    ) -> Result<Decision, sqlx::Error> {
        let Some(limit) = limits.requests_per_window else {
            return Ok(Decision::uncounted(limits));
        };
        let limit = limit.min(UNLIMITED);
        let now = chrono::Utc::now().timestamp();
        let window = self.window.as_secs().clamp(1, i32::MAX as u64) as i32;
        let (allowed, used, retry_after): (bool, i32, i32) =
            sqlx::query_as("SELECT allowed, used, retry_after FROM rate_take($1, $2, $3, $4)")
                .bind(account_id)
                .bind(now)
                .bind(limit as i32)
                .bind(window)
                .fetch_one(&self.pool)
                .await?;
        let used = used.max(0) as u64;
        Ok(Decision {
            limit,
            remaining: limit.saturating_sub(used),
            retry_after: (!allowed).then_some(retry_after.max(1) as u64),
        })
    }
}
