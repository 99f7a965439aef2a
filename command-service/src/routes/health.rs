//! `GET /healthz`: 200 when the service can reach its database, 503 otherwise.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    shared::http::health(&state.pool, "command-service").await
}
