//! `GET /healthz`: 200 when the service can reach its database, 503 otherwise.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Json;
use axum::Router;
use serde_json::Value;

async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    shared::http::health(&state.pool, "command-service").await
}

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}
