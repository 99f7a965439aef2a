//! `GET /leads/{id}`, `GET /leads/{id}/attributes` and `GET /leads/{id}/notes` from the read
//! models, after the read-your-writes wait (notes are kept by the same projection).

use crate::consistency::{wait_for_tenant, CONSISTENCY_HEADER};
use crate::EdgeState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use shared::http::Auth;
use shared::ids::parse_lead_id;
use shared::lead::view::lead_json;
use shared::lead::Lead;
use shared::read_model::notes::read_notes;
use shared::read_model::{read_leads, Tables, LEAD_VIEW_CHECKPOINT as CHECKPOINT};
use shared::ApiError;

pub async fn get_lead(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let freshness =
        wait_for_tenant(&state.pool, auth.account_id, CHECKPOINT, state.read_wait).await?;
    let mut response = match find(&state, auth.account_id, &id).await {
        Ok(lead) => Json(Value::Object(lead_json(&lead))).into_response(),
        Err(e) => e.into_response(),
    };
    response
        .headers_mut()
        .insert(CONSISTENCY_HEADER, freshness.header_value());
    Ok(response)
}

pub async fn get_attributes(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let freshness =
        wait_for_tenant(&state.pool, auth.account_id, CHECKPOINT, state.read_wait).await?;
    let mut response = match find(&state, auth.account_id, &id).await {
        Ok(lead) => Json(serde_json::json!({"attributes": lead.attributes})).into_response(),
        Err(e) => e.into_response(),
    };
    response
        .headers_mut()
        .insert(CONSISTENCY_HEADER, freshness.header_value());
    Ok(response)
}

pub async fn get_notes(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let freshness =
        wait_for_tenant(&state.pool, auth.account_id, CHECKPOINT, state.read_wait).await?;
    let mut response = match find(&state, auth.account_id, &id).await {
        Ok(lead) => {
            let mut conn = state.pool.acquire().await?;
            let notes = read_notes(&mut conn, auth.account_id, lead.id).await?;
            Json(serde_json::json!({"notes": notes})).into_response()
        }
        Err(e) => e.into_response(),
    };
    response
        .headers_mut()
        .insert(CONSISTENCY_HEADER, freshness.header_value());
    Ok(response)
}

async fn find(state: &EdgeState, tenant: uuid::Uuid, id: &str) -> Result<Lead, ApiError> {
    let not_found = || ApiError::not_found("Lead not found");
    let id = parse_lead_id(id).ok_or_else(not_found)?;
    let mut conn = state.pool.acquire().await?;
    read_leads(&mut conn, &Tables::live(), &[(tenant, id)])
        .await?
        .remove(&id)
        .filter(|l| l.tenant_id == tenant && !l.deleted)
        .ok_or_else(not_found)
}
