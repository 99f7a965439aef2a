//! `POST /leads/{id}/score`, `POST /leads/score/batch`.

use super::command::Command;
use crate::app::score::{score_all, score_one, ScoreAll};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Json;
use axum::Router;
use serde_json::{json, Value};
use shared::ids::{lead_public_id, parse_lead_id};
use shared::scoring::jobs::get_job;
use shared::ApiError;

async fn rescore(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let lead_id = parse_lead_id(&id);
    let score = score_one(&state.pool, &ctx, lead_id).await?;
    Ok(Json(
        json!({"id": lead_public_id(lead_id.unwrap_or_default()), "score": score}),
    ))
}

async fn rescore_all(
    State(state): State<AppState>,
    Command(ctx): Command,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let ctx = ctx.in_batch();
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

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/leads/score/batch", post(rescore_all))
        .route("/api/v1/leads/{id}/score", post(rescore))
}
