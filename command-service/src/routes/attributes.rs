//! `POST /leads/{id}/attributes`, `PUT|DELETE /leads/{id}/attributes/{attr_id}` (the list is
//! served by query-service from the read model).

use super::command::Command;
use crate::app::attributes::{add_attribute, remove_attribute, set_attribute};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use axum::Json;
use axum::Router;
use serde_json::Value;
use shared::http::JsonBody;
use shared::ids::parse_lead_id;
use shared::lead::parse_attribute;
use shared::ApiError;
use uuid::Uuid;

async fn create(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input = parse_attribute(&body, "").map_err(|e| ApiError::bad_request(e.to_string()))?;
    let attr = add_attribute(&state.pool, &ctx, parse_lead_id(&id), input).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(attr).map_err(ApiError::internal)?),
    ))
}

/// The new value: `{"value": X}` or the raw value `X` (SPEC §3: an object whose only key is
/// `value` is unwrapped).
fn new_value(body: Value) -> Value {
    match body {
        Value::Object(mut o) if o.len() == 1 && o.contains_key("value") => {
            o.remove("value").unwrap_or(Value::Null)
        }
        other => other,
    }
}

async fn update(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path((id, attr_id)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let attr = set_attribute(
        &state.pool,
        &ctx,
        parse_lead_id(&id),
        Uuid::parse_str(&attr_id).ok(),
        new_value(body),
    )
    .await?;
    Ok(Json(
        serde_json::to_value(attr).map_err(ApiError::internal)?,
    ))
}

async fn delete(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path((id, attr_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    remove_attribute(
        &state.pool,
        &ctx,
        parse_lead_id(&id),
        Uuid::parse_str(&attr_id).ok(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/leads/{id}/attributes", post(create))
        .route(
            "/api/v1/leads/{id}/attributes/{attr_id}",
            put(update).delete(delete),
        )
}
