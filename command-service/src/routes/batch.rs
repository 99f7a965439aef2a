//! `POST|PUT|DELETE /leads/batch`: 201/200 when every item succeeded, 207 when some failed,
//! 400 with nothing written when the request itself is wrong or over the plan's batch limit.

use super::command::Command;
use crate::app::modify::{modify_many, Modification, ModifyResult};
use crate::app::push::push_many;
use crate::app::CommandContext;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Json;
use axum::Router;
use serde_json::{json, Map, Value};
use shared::http::JsonBody;
use shared::ids::{lead_public_id, parse_lead_id};
use shared::lead::{parse_lead_object, InputMode};
use shared::ApiError;

fn array_field<'a>(body: &'a Value, name: &str, example: &str) -> Result<&'a Vec<Value>, ApiError> {
    let items = body.get(name).and_then(Value::as_array).ok_or_else(|| {
        ApiError::bad_request(format!(
            "the body must be an object with a '{name}' array, e.g. {example}"
        ))
    })?;
    if items.is_empty() {
        return Err(ApiError::bad_request(format!(
            "'{name}' is empty: give at least one entry"
        )));
    }
    Ok(items)
}

fn check_limit(state: &AppState, ctx: &CommandContext, n: usize) -> Result<(), ApiError> {
    let limit = state.config.common.plans.limits(ctx.plan).batch_size;
    if n > limit {
        return Err(ApiError::bad_request(format!(
            "batch of {n} entries exceeds the {} plan's limit of {limit} per request; nothing was written. Split it into batches of at most {limit}",
            ctx.plan
        )));
    }
    Ok(())
}

fn status(failed: usize, all_ok: StatusCode) -> StatusCode {
    if failed == 0 {
        all_ok
    } else {
        StatusCode::MULTI_STATUS
    }
}

async fn create(
    State(state): State<AppState>,
    Command(ctx): Command,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let items = array_field(
        &body,
        "leads",
        r#"{"leads": [{"name": "Acme", "source": "import"}]}"#,
    )?;
    check_limit(&state, &ctx, items.len())?;
    let parsed: Vec<_> = items
        .iter()
        .map(|item| parse_lead_object(item, InputMode::Create))
        .collect();
    let valid: Vec<_> = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok().cloned())
        .collect();
    let ctx = ctx.in_batch();
    let mut outcomes = push_many(&state.pool, &ctx, &valid).await?.into_iter();

    let (mut created, mut errors) = (Vec::new(), Vec::new());
    for (index, item) in parsed.iter().enumerate() {
        let result = match item {
            Err(invalid) => Err(invalid.to_string()),
            Ok(_) => match outcomes.next() {
                Some(Ok(outcome)) => Ok(outcome),
                Some(Err(rejected)) => Err(rejected.to_string()),
                None => Err("not processed".to_owned()),
            },
        };
        match result {
            Ok(o) => {
                let mut entry = Map::new();
                entry.insert("index".into(), json!(index));
                entry.insert("id".into(), json!(lead_public_id(o.lead.id)));
                entry.insert("created_at".into(), json!(o.lead.created_at));
                if o.duplicate {
                    entry.insert("duplicate".into(), json!(true));
                }
                if let Some(p) = o.potential_duplicate_id {
                    entry.insert("potential_duplicate_id".into(), json!(lead_public_id(p)));
                }
                created.push(Value::Object(entry));
            }
            Err(message) => errors.push(json!({"index": index, "message": message})),
        }
    }
    let (success, failed) = (created.len(), errors.len());
    let body = json!({"created": created, "errors": errors, "total": items.len(), "success": success, "failed": failed});
    Ok((status(failed, StatusCode::CREATED), Json(body)))
}

async fn update(
    State(state): State<AppState>,
    Command(ctx): Command,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let example = r#"{"ids": ["cl_..."], "data": {"status": "contacted"}}"#;
    let ids = array_field(&body, "ids", example)?;
    check_limit(&state, &ctx, ids.len())?;
    let data = body.get("data").filter(|d| d.is_object()).ok_or_else(|| {
        ApiError::bad_request(format!(
            "'data' must be an object of fields to set, e.g. {example}"
        ))
    })?;
    let input = parse_lead_object(data, InputMode::Patch)
        .map_err(|e| ApiError::bad_request(format!("data: {e}")))?;
    let ctx = ctx.in_batch();
    let parsed: Vec<_> = ids
        .iter()
        .map(|v| v.as_str().and_then(parse_lead_id))
        .collect();
    let results = modify_many(&state.pool, &ctx, &parsed, Modification::Update(&input)).await?;
    Ok(results_body(ids, results))
}

async fn delete(
    State(state): State<AppState>,
    Command(ctx): Command,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let ids = array_field(&body, "ids", r#"{"ids": ["cl_..."]}"#)?;
    check_limit(&state, &ctx, ids.len())?;
    let ctx = ctx.in_batch();
    let parsed: Vec<_> = ids
        .iter()
        .map(|v| v.as_str().and_then(parse_lead_id))
        .collect();
    let results = modify_many(&state.pool, &ctx, &parsed, Modification::Delete).await?;
    Ok(results_body(ids, results))
}

fn results_body(ids: &[Value], results: Vec<ModifyResult>) -> (StatusCode, Json<Value>) {
    let mut failed = 0;
    let entries: Vec<Value> = ids
        .iter()
        .zip(results)
        .enumerate()
        .map(|(index, (id, result))| match result {
            Ok(_) => json!({"index": index, "id": id, "success": true}),
            Err(rejected) => {
                failed += 1;
                json!({"index": index, "id": id, "success": false, "message": rejected.to_string()})
            }
        })
        .collect();
    let total = entries.len();
    let body =
        json!({"results": entries, "total": total, "success": total - failed, "failed": failed});
    (status(failed, StatusCode::OK), Json(body))
}

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/leads/batch",
        post(create).put(update).delete(delete),
    )
}
