//! Retrying a command whose transaction lost a race (version conflict, a dedup key taken
//! concurrently, a deadlock): it reloads and decides again, so a lost race becomes a merge.

use super::repo::WriteError;
use shared::ApiError;
use std::future::Future;

const ATTEMPTS: usize = 8;

pub async fn with_retries<T, F, Fut>(mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, WriteError>>,
{
    for n in 1..=ATTEMPTS {
        match attempt().await {
            Ok(v) => return Ok(v),
            Err(WriteError::Retry(why)) if n < ATTEMPTS => {
                tracing::debug!(attempt = n, %why, "command lost a race; retrying");
                tokio::task::yield_now().await;
            }
            Err(WriteError::Retry(why)) => {
                return Err(ApiError::Conflict(format!(
                    "the lead changed concurrently too many times ({why}); retry the request"
                )))
            }
            Err(WriteError::Api(e)) => return Err(e),
        }
    }
    Err(ApiError::internal("retry loop ended without a result"))
}
