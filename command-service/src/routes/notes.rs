//! `POST /leads/{id}/notes`, `PUT|DELETE /notes/{note_id}` (the list is served by
//! query-service from the read model).

use super::command::Command;
use crate::app::notes::{add_note, edit_note, remove_note};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use axum::Json;
use axum::Router;
use serde_json::Value;
use shared::http::JsonBody;
use shared::ids::{parse_lead_id, parse_note_id};
use shared::lead::decide::parse_note_content;
use shared::ApiError;

async fn create(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let content = parse_note_content(&body).map_err(ApiError::bad_request)?;
    let note = add_note(&state.pool, &ctx, parse_lead_id(&id), content).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

async fn update(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let content = parse_note_content(&body).map_err(ApiError::bad_request)?;
    Ok(Json(
        edit_note(&state.pool, &ctx, parse_note_id(&id), content).await?,
    ))
}

async fn delete(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    remove_note(&state.pool, &ctx, parse_note_id(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/leads/{id}/notes", post(create))
        .route(
            "/api/v1/notes/{id}",
            put(update).patch(update).delete(delete),
        )
}
