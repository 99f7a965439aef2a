//! `GET /leads/{id}`, `GET /leads/{id}/attributes` and `GET /leads/{id}/notes` from the read
//! models, after the read-your-writes wait (notes are kept by the same projection).

use crate::consistency::answer_fresh;
use crate::EdgeState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use shared::http::Auth;
use shared::ids::{lead_public_id, parse_lead_id};
use shared::lead::view::lead_json;
use shared::lead::Lead;
use shared::read_model::failures::failure_of;
use shared::read_model::notes::read_notes;
use shared::read_model::{read_leads, Tables, LEAD_VIEW_CHECKPOINT as CHECKPOINT};
use shared::ApiError;
use uuid::Uuid;

/// Read routes; every other method on these paths goes on to command-service.
pub fn router() -> Router<EdgeState> {
    use crate::proxy::forward;
    Router::new()
        .route("/api/v1/leads/{id}", get(get_lead).fallback(forward))
        .route(
            "/api/v1/leads/{id}/attributes",
            get(get_attributes).fallback(forward),
        )
        .route("/api/v1/leads/{id}/notes", get(get_notes).fallback(forward))
}

async fn get_lead(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    answer(&state, auth.account_id, &id, |_, lead| async move {
        Ok(Value::Object(lead_json(&lead)))
    })
    .await
}

async fn get_attributes(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    answer(&state, auth.account_id, &id, |_, lead| async move {
        Ok(json!({"attributes": lead.attributes}))
    })
    .await
}

async fn get_notes(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    answer(&state, auth.account_id, &id, |state, lead| async move {
        let mut conn = state.pool.acquire().await?;
        let notes = read_notes(&mut conn, lead.tenant_id, lead.id).await?;
        Ok(json!({"notes": notes}))
    })
    .await
}

/// Waits for the caller's writes, finds the lead and answers `body(lead)` (or the error), with
/// the freshness header either way.
async fn answer<F, Fut>(
    state: &EdgeState,
    tenant: Uuid,
    id: &str,
    body: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(EdgeState, Lead) -> Fut,
    Fut: std::future::Future<Output = Result<Value, ApiError>>,
{
    answer_fresh(state, tenant, async {
        let lead = find(state, tenant, id).await?;
        body(state.clone(), lead).await
    })
    .await
}

/// A live lead of `tenant` from the read model: 404 when unknown, 503 when quarantined.
pub async fn find(state: &EdgeState, tenant: Uuid, id: &str) -> Result<Lead, ApiError> {
    let not_found = || ApiError::not_found("Lead not found");
    let id = parse_lead_id(id).ok_or_else(not_found)?;
    let mut conn = state.pool.acquire().await?;
    if let Some((position, event_type)) = failure_of(&mut conn, CHECKPOINT, tenant, id).await? {
        return Err(ApiError::LeadUnavailable(format!(
            "Lead {} cannot be read: the read model could not apply its {event_type} event at \
             position {position}; the failure is recorded for the operator, and a rebuild \
             restores the lead once the cause is fixed",
            lead_public_id(id)
        )));
    }
    read_leads(&mut conn, &Tables::live(), &[(tenant, id)])
        .await?
        .remove(&id)
        .filter(|l| l.tenant_id == tenant && !l.deleted)
        .ok_or_else(not_found)
}
