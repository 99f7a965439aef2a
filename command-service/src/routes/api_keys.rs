//! `POST /api-keys` (201, the key shown once) and `DELETE /api-keys/{id}` (204; the last
//! active admin key is 409). The reads are query-service's.

use super::command::Command;
use crate::accounts::key_input::parse_key_spec;
use crate::accounts::keys::{create_key, revoke_key};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use shared::http::JsonBody;
use shared::ApiError;
use uuid::Uuid;

async fn create(
    State(state): State<AppState>,
    Command(ctx): Command,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let spec = parse_key_spec(&body).map_err(ApiError::bad_request)?;
    let (row, raw) = create_key(&state.pool, &ctx, spec).await?;
    let mut out = row.json();
    out["key"] = json!(raw);
    Ok((StatusCode::CREATED, Json(json!({ "data": out }))))
}

async fn revoke(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    revoke_key(&state.pool, &ctx, Uuid::parse_str(&id).ok()).await?;
    state.keys.forget_all();
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/api-keys", post(create))
        .route("/api/v1/api-keys/{id}", delete(revoke))
}
