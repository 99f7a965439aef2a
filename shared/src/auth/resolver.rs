//! Resolves a presented API key to its account. Keys are looked up by SHA-256 through a
//! `moka` cache so the hot path does no database round trip. A key's revocation (or any other
//! key change) is announced on [`KEYS_CHANNEL`] in the transaction that makes it; every
//! resolver listens and empties its cache, so a revoked key stops working on every replica
//! as soon as the NOTIFY arrives (milliseconds) — and when the listener's connection drops,
//! the cache is emptied too before it listens again. An expired key fails at once: the expiry
//! is cached with the key and checked on every hit.

use super::keys::{hash_api_key, looks_like_api_key};
use super::scope::Scopes;
use crate::plan::{AccountPlans, Plan};
use chrono::{DateTime, Utc};
use moka::future::Cache;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::sync::{Arc, Weak};
use std::time::Duration;
use uuid::Uuid;

/// The channel key changes notify on (payload: the key id).
pub const KEYS_CHANNEL: &str = "leadstream_api_keys";

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthContext {
    pub account_id: Uuid,
    pub key_id: Uuid,
    pub plan: Plan,
    pub scopes: Scopes,
    pub expires_at: Option<DateTime<Utc>>,
}

impl AuthContext {
    /// The `actor` recorded in event metadata.
    pub fn actor(&self) -> String {
        format!("api_key:{}", self.key_id)
    }

    fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

#[derive(Clone)]
pub struct KeyResolver {
    pool: PgPool,
    cache: Cache<[u8; 32], AuthContext>,
    account_plans: AccountPlans,
    /// The change listener runs while a clone of the resolver lives.
    _alive: Arc<()>,
}

type KeyRow = (
    Uuid,
    Uuid,
    String,
    String,
    Vec<String>,
    Option<DateTime<Utc>>,
);

impl KeyResolver {
    /// `account_plans` override the stored plan of the accounts they name. Inside a Tokio
    /// runtime, starts the listener that empties the cache on key changes (it ends when the
    /// pool is closed or the last clone of the resolver is dropped).
    pub fn new(pool: PgPool, ttl: Duration, account_plans: AccountPlans) -> Self {
        let cache = Cache::builder()
            .max_capacity(100_000)
            .time_to_live(ttl)
            .build();
        let alive = Arc::new(());
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::spawn(watch_changes(
                pool.clone(),
                cache.clone(),
                Arc::downgrade(&alive),
            ));
        }
        Self {
            pool,
            cache,
            account_plans,
            _alive: alive,
        }
    }

    /// The account behind `raw`, or `None` for an unknown, revoked, expired or malformed key.
    pub async fn resolve(&self, raw: &str) -> Result<Option<AuthContext>, sqlx::Error> {
        if !looks_like_api_key(raw) {
            return Ok(None);
        }
        let hash = hash_api_key(raw);
        let now = Utc::now();
        if let Some(hit) = self.cache.get(&hash).await {
            return Ok((!hit.expired(now)).then_some(hit));
        }
        let row: Option<KeyRow> = sqlx::query_as(
            "SELECT k.account_id, k.key_id, a.plan, a.email, k.scopes, k.expires_at
             FROM api_keys k JOIN accounts a ON a.account_id = k.account_id
             WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
        )
        .bind(hash.as_slice())
        .fetch_optional(&self.pool)
        .await?;
        let Some((account_id, key_id, stored, email, scopes, expires_at)) = row else {
            return Ok(None);
        };
        let stored = stored.parse().unwrap_or(Plan::Unlimited);
        let plan = self.account_plans.get(&email).unwrap_or(stored);
        let ctx = AuthContext {
            account_id,
            key_id,
            plan,
            scopes: Scopes::from_stored(&scopes),
            expires_at,
        };
        if ctx.expired(now) {
            return Ok(None);
        }
        self.cache.insert(hash, ctx.clone()).await;
        self.note_use(key_id);
        Ok(Some(ctx))
    }

    /// Forgets every cached key at once (this replica's own revocations: the NOTIFY that
    /// reaches the others arrives a moment later).
    pub fn forget_all(&self) {
        self.cache.invalidate_all();
    }

    /// Records when the key was last used: on a cache miss, at most once a minute per key.
    fn note_use(&self, key_id: Uuid) {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let _ = sqlx::query(
                "UPDATE api_keys SET last_used_at = now() WHERE key_id = $1
                   AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
            )
            .bind(key_id)
            .execute(&pool)
            .await;
        });
    }
}

/// Empties `cache` on every key change, and whenever the listener (re)connects. The listener
/// holds a connection of its own, outside the service's pool.
async fn watch_changes(pool: PgPool, cache: Cache<[u8; 32], AuthContext>, alive: Weak<()>) {
    let own = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with((*pool.connect_options()).clone());
    let running = || !pool.is_closed() && alive.strong_count() > 0;
    while running() {
        let listening = async {
            let mut listener = PgListener::connect_with(&own).await?;
            listener.listen(KEYS_CHANNEL).await?;
            cache.invalidate_all();
            while running() {
                // Wakes every second to notice the end.
                if let Ok(notification) =
                    tokio::time::timeout(Duration::from_secs(1), listener.recv()).await
                {
                    notification?;
                    cache.invalidate_all();
                }
            }
            Ok::<(), sqlx::Error>(())
        };
        if let Err(e) = listening.await {
            cache.invalidate_all();
            if running() {
                tracing::warn!(error = %e, "API key change listener lost; listening again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    own.close().await;
}
