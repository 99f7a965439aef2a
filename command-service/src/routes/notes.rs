//! `POST /leads/{id}/notes`, `PUT|DELETE /notes/{note_id}` (the list is served by
//! query-service from the read model).

use crate::app::notes::{add_note, edit_note, remove_note};
use crate::app::CommandContext;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;
use shared::http::{Auth, JsonBody, RequestId};
use shared::ids::{parse_lead_id, parse_note_id};
use shared::lead::decide::parse_note_content;
use shared::ApiError;

pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RequestId(request_id): RequestId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let content = parse_note_content(&body).map_err(ApiError::bad_request)?;
    let ctx = CommandContext::new(&auth, request_id);
    let note = add_note(&state.pool, &ctx, parse_lead_id(&id), content).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RequestId(request_id): RequestId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let content = parse_note_content(&body).map_err(ApiError::bad_request)?;
    let ctx = CommandContext::new(&auth, request_id);
    Ok(Json(
        edit_note(&state.pool, &ctx, parse_note_id(&id), content).await?,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RequestId(request_id): RequestId,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let ctx = CommandContext::new(&auth, request_id);
    remove_note(&state.pool, &ctx, parse_note_id(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
