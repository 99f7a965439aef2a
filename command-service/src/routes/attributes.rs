//! `POST /leads/{id}/attributes`, `PUT|DELETE /leads/{id}/attributes/{attr_id}` (the list is
//! served by query-service from the read model).

use crate::app::attributes::{add_attribute, remove_attribute, set_attribute};
use crate::app::CommandContext;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;
use shared::http::{Auth, JsonBody, RequestId};
use shared::ids::parse_lead_id;
use shared::lead::parse_attribute;
use shared::ApiError;
use uuid::Uuid;

pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RequestId(request_id): RequestId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input = parse_attribute(&body, "").map_err(|e| ApiError::bad_request(e.to_string()))?;
    let ctx = CommandContext::new(&auth, request_id);
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

pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RequestId(request_id): RequestId,
    Path((id, attr_id)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let ctx = CommandContext::new(&auth, request_id);
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

pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RequestId(request_id): RequestId,
    Path((id, attr_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let ctx = CommandContext::new(&auth, request_id);
    remove_attribute(
        &state.pool,
        &ctx,
        parse_lead_id(&id),
        Uuid::parse_str(&attr_id).ok(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
