//! Resolves a presented API key to its account. Keys are looked up by SHA-256 through a
//! `moka` cache so the hot path does no database round trip.

use super::keys::{hash_api_key, looks_like_api_key};
use crate::plan::{AccountPlans, Plan};
use moka::future::Cache;
use sqlx::PgPool;
use std::time::Duration;
use uuid::Uuid;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthContext {
    pub account_id: Uuid,
    pub key_id: Uuid,
    pub plan: Plan,
}

impl AuthContext {
    /// The `actor` recorded in event metadata.
    pub fn actor(&self) -> String {
        format!("api_key:{}", self.key_id)
    }
}

#[derive(Clone)]
pub struct KeyResolver {
    pool: PgPool,
    cache: Cache<[u8; 32], AuthContext>,
    account_plans: AccountPlans,
}

impl KeyResolver {
    /// `account_plans` override the stored plan of the accounts they name.
    pub fn new(pool: PgPool, ttl: Duration, account_plans: AccountPlans) -> Self {
        let cache = Cache::builder()
            .max_capacity(100_000)
            .time_to_live(ttl)
            .build();
        Self {
            pool,
            cache,
            account_plans,
        }
    }

    /// The account behind `raw`, or `None` for an unknown, revoked or malformed key.
    pub async fn resolve(&self, raw: &str) -> Result<Option<AuthContext>, sqlx::Error> {
        if !looks_like_api_key(raw) {
            return Ok(None);
        }
        let hash = hash_api_key(raw);
        if let Some(hit) = self.cache.get(&hash).await {
            return Ok(Some(hit));
        }
        let row: Option<(Uuid, Uuid, String, String)> = sqlx::query_as(
            "SELECT k.account_id, k.key_id, a.plan, a.email FROM api_keys k
             JOIN accounts a ON a.account_id = k.account_id
             WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
        )
        .bind(hash.as_slice())
        .fetch_optional(&self.pool)
        .await?;
        let Some((account_id, key_id, stored, email)) = row else {
            return Ok(None);
        };
        let stored = stored.parse().unwrap_or(Plan::Unlimited);
        let plan = self.account_plans.get(&email).unwrap_or(stored);
        let ctx = AuthContext {
            account_id,
            key_id,
            plan,
        };
        self.cache.insert(hash, ctx.clone()).await;
        Ok(Some(ctx))
    }
}
