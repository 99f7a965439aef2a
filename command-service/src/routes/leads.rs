//! `POST /leads`, `PUT|PATCH /leads/{id}`, `DELETE /leads/{id}`.

use super::command::Command;
use crate::app::modify::{modify_one, Modification};
use crate::app::push::push_one;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use axum::Json;
use axum::Router;
use serde_json::{json, Value};
use shared::http::JsonBody;
use shared::ids::{lead_public_id, parse_lead_id};
use shared::lead::view::lead_json;
use shared::lead::{parse_lead_object, InputMode};
use shared::ApiError;

async fn create(
    State(state): State<AppState>,
    Command(ctx): Command,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input = parse_lead_object(&body, InputMode::Create)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let outcome = push_one(&state.pool, &ctx, input).await?;
    let mut out = lead_json(&outcome.lead);
    let (status, message) = if outcome.duplicate {
        (StatusCode::OK, "Duplicate detected, existing lead updated")
    } else {
        (StatusCode::CREATED, "Lead created successfully")
    };
    out.insert("message".into(), json!(message));
    out.insert("duplicate".into(), json!(outcome.duplicate));
    out.insert(
        "potential_duplicate_id".into(),
        json!(outcome.potential_duplicate_id.map(lead_public_id)),
    );
    Ok((status, Json(Value::Object(out))))
}

async fn update(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let input = parse_lead_object(&body, InputMode::Patch)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let lead = modify_one(
        &state.pool,
        &ctx,
        parse_lead_id(&id),
        Modification::Update(&input),
    )
    .await?;
    Ok(Json(Value::Object(lead_json(&lead))))
}

async fn delete(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    modify_one(&state.pool, &ctx, parse_lead_id(&id), Modification::Delete).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/leads", post(create)).route(
        "/api/v1/leads/{id}",
        put(update).patch(update).delete(delete),
    )
}
