//! `POST /leads`, `PUT|PATCH /leads/{id}`, `DELETE /leads/{id}`.

use crate::app::modify::{modify_one, Modification};
use crate::app::push::push_one;
use crate::app::CommandContext;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use shared::http::{Auth, JsonBody, RequestId};
use shared::ids::{lead_public_id, parse_lead_id};
use shared::lead::view::lead_json;
use shared::lead::{parse_lead_object, InputMode};
use shared::ApiError;

pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RequestId(request_id): RequestId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input = parse_lead_object(&body, InputMode::Create)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let ctx = CommandContext::new(&auth, request_id)
        .with_lead_limit(state.config.common.plans.limits(auth.plan).max_leads);
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

pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RequestId(request_id): RequestId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let input = parse_lead_object(&body, InputMode::Patch)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let ctx = CommandContext::new(&auth, request_id);
    let lead = modify_one(
        &state.pool,
        &ctx,
        parse_lead_id(&id),
        Modification::Update(&input),
    )
    .await?;
    Ok(Json(Value::Object(lead_json(&lead))))
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RequestId(request_id): RequestId,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let ctx = CommandContext::new(&auth, request_id);
    modify_one(&state.pool, &ctx, parse_lead_id(&id), Modification::Delete).await?;
    Ok(StatusCode::NO_CONTENT)
}
