//! The write side's HTTP surface: every mutating endpoint of `/api/v1`, health, and
//! error-shaped fallbacks. Each module exports its `router()`; handlers are adapters: parse,
//! call one application function, map. Reads are query-service's.

mod accounts;
mod api_keys;
mod attributes;
mod batch;
mod command;
mod error;
mod health;
mod leads;
mod notes;
mod rules;
mod score;
mod webhooks;

use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::Router;
use shared::http::{fallback_not_found, method_not_allowed, MAX_BODY_BYTES};

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(accounts::router())
        .merge(leads::router())
        .merge(batch::router())
        .merge(attributes::router())
        .merge(notes::router())
        .merge(score::router())
        .merge(rules::router())
        .merge(webhooks::router())
        .merge(api_keys::router())
        .fallback(fallback_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
