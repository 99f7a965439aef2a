//! `POST /leads/{id}/score`, `GET /leads/{id}/score`, `POST /leads/score/batch`.

use crate::app::rescore::get_job;
use crate::app::score::{explain, score_all, score_one, ScoreAll};
use crate::app::CommandContext;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use shared::http::{Auth, RequestId};
use shared::ids::{lead_public_id, parse_lead_id};
use shared::ApiError;

pub async fn rescore(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RequestId(request_id): RequestId,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ctx = CommandContext::new(&auth, request_id);
    let lead_id = parse_lead_id(&id);
    let score = score_one(&state.pool, &ctx, lead_id).await?;
    Ok(Json(
        json!({"id": lead_public_id(lead_id.unwrap_or_default()), "score": score}),
    ))
}

pub async fn breakdown(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        explain(&state.pool, auth.account_id, parse_lead_id(&id)).await?,
    ))
}

pub async fn rescore_all(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RequestId(request_id): RequestId,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let ctx = CommandContext::new(&auth, request_id).in_batch();
    match score_all(&state.pool, &ctx).await? {
        ScoreAll::Done(scores) => {
            let leads: Vec<Value> = scores
                .iter()
                .map(|(id, score)| json!({"id": lead_public_id(*id), "score": score}))
                .collect();
            Ok((
                StatusCode::OK,
                Json(json!({"count": leads.len(), "leads": leads})),
            ))
        }
        ScoreAll::Queued(job_id) => {
            let job = get_job(&state.pool, ctx.tenant, job_id)
                .await?
                .ok_or_else(|| ApiError::internal("queued job vanished"))?;
            Ok((StatusCode::ACCEPTED, Json(json!({"job": job.json()}))))
        }
    }
}
