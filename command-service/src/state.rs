//! What every handler of the write side shares.

use crate::config::CommandConfig;
use axum::extract::FromRef;
use shared::auth::KeyResolver;
use sqlx::PgPool;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub keys: KeyResolver,
    pub config: Arc<CommandConfig>,
}

impl AppState {
    pub fn new(pool: PgPool, config: CommandConfig) -> Self {
        let keys = KeyResolver::new(
            pool.clone(),
            config.key_cache_ttl,
            config.common.account_plans.clone(),
        );
        Self {
            pool,
            keys,
            config: Arc::new(config),
        }
    }
}

impl FromRef<AppState> for KeyResolver {
    fn from_ref(state: &AppState) -> Self {
        state.keys.clone()
    }
}
