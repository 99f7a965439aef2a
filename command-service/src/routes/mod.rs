//! The write side's HTTP surface: every mutating endpoint of `/api/v1`, health, and
//! error-shaped fallbacks. Handlers are adapters: parse, call one application function, map.

mod accounts;
mod attributes;
mod batch;
mod health;
mod leads;
mod notes;
mod rules;
mod score;

use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;
use shared::http::{fallback_not_found, method_not_allowed, MAX_BODY_BYTES};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/api/v1/register", post(accounts::register))
        .route("/api/v1/login", post(accounts::login))
        .route("/api/v1/leads", post(leads::create))
        .route(
            "/api/v1/leads/batch",
            post(batch::create).put(batch::update).delete(batch::delete),
        )
        .route("/api/v1/leads/score/batch", post(score::rescore_all))
        .route("/api/v1/leads/{id}/attributes", post(attributes::create))
        .route("/api/v1/leads/{id}/notes", post(notes::create))
        .route(
            "/api/v1/notes/{id}",
            put(notes::update)
                .patch(notes::update)
                .delete(notes::delete),
        )
        .route(
            "/api/v1/leads/{id}/attributes/{attr_id}",
            put(attributes::update).delete(attributes::delete),
        )
        .route(
            "/api/v1/leads/{id}/score",
            post(score::rescore).get(score::breakdown),
        )
        .route(
            "/api/v1/scoring-rules",
            get(rules::list).post(rules::create),
        )
        .route(
            "/api/v1/scoring-rules/{id}",
            get(rules::get)
                .put(rules::update)
                .patch(rules::update)
                .delete(rules::delete),
        )
        .route("/api/v1/scoring-jobs", get(rules::jobs))
        .route("/api/v1/scoring-jobs/{id}", get(rules::job))
        .route(
            "/api/v1/leads/{id}",
            put(leads::update)
                .patch(leads::update)
                .delete(leads::delete),
        )
        .fallback(fallback_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
