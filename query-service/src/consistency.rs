//! Read-your-writes (invariant 6): before answering, a read waits until the lead read model has
//! applied everything its tenant has committed. No header is needed: the model has caught up
//! when no event of the tenant lies past its checkpoint in the follower order (invariant 3:
//! the pair of transaction id and position), one probe of the `(tenant_id, tx_id, position)`
//! index.
//! The wait is bounded; past the bound the read answers what it has and says so.

use crate::EdgeState;
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use shared::read_model::LEAD_VIEW_CHECKPOINT;
use shared::ApiError;
use sqlx::PgPool;
use std::future::Future;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub const CONSISTENCY_HEADER: HeaderName = HeaderName::from_static("x-read-consistency");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Every write of the tenant committed before the read started is visible.
    Fresh,
    /// The bound passed first: the answer may miss the tenant's latest writes.
    Stale,
}

impl Freshness {
    pub fn header_value(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Freshness::Fresh => "fresh",
            Freshness::Stale => "stale",
        })
    }
}

/// Waits (at most `bound`) until `checkpoint` has passed the tenant's last event. A
/// checkpoint still in the old position-only order (being repaired) is never caught up.
pub async fn wait_for_tenant(
    pool: &PgPool,
    tenant: Uuid,
    checkpoint: &str,
    bound: Duration,
) -> Result<Freshness, sqlx::Error> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        let caught_up =
            shared::store::has_passed(&mut *pool.acquire().await?, checkpoint, Some(tenant))
                .await?;
        if caught_up {
            return Ok(Freshness::Fresh);
        }
        if started.elapsed() >= bound {
            return Ok(Freshness::Stale);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Waits for the tenant's writes (bounded), then answers what `body` yields — its value as
/// JSON or its error in the documented shape — with the freshness header either way.
pub async fn answer_fresh(
    state: &EdgeState,
    tenant: Uuid,
    body: impl Future<Output = Result<Value, ApiError>>,
) -> Result<Response, ApiError> {
    let freshness =
        wait_for_tenant(&state.pool, tenant, LEAD_VIEW_CHECKPOINT, state.read_wait).await?;
    let mut response = match body.await {
        Ok(value) => Json(value).into_response(),
        Err(e) => e.into_response(),
    };
    response
        .headers_mut()
        .insert(CONSISTENCY_HEADER, freshness.header_value());
    Ok(response)
}
