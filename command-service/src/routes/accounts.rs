//! `POST /api/v1/register` and `POST /api/v1/login`: each answers a new API key, shown once.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use shared::auth::{
    hash_password, issue_key_for_login, register as register_account, AccountError, IssuedKey,
};
use shared::events::EventMetadata;
use shared::http::{JsonBody, RequestId};
use shared::ApiError;

const MIN_PASSWORD: usize = 8;
const MAX_PASSWORD: usize = 1024;

struct Credentials {
    email: String,
    password: String,
}

fn credentials(body: &Value) -> Result<Credentials, ApiError> {
    let field = |name: &str| body.get(name).and_then(Value::as_str);
    let email = field("email").map(str::trim).unwrap_or_default();
    if email.len() < 3
        || email.len() > 254
        || !email.contains('@')
        || email.contains(char::is_whitespace)
    {
        return Err(ApiError::bad_request(
            "invalid field 'email': give the account's e-mail address, e.g. {\"email\": \"you@example.com\", \"password\": \"...\"}",
        ));
    }
    let password = field("password").unwrap_or_default();
    if password.chars().count() < MIN_PASSWORD || password.len() > MAX_PASSWORD {
        return Err(ApiError::bad_request(format!(
            "invalid field 'password': must be {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        )));
    }
    Ok(Credentials {
        email: email.to_owned(),
        password: password.to_owned(),
    })
}

fn key_body(key: IssuedKey) -> Json<Value> {
    Json(json!({
        "api_key": key.api_key,
        "key_id": key.key_id,
        "account_id": key.account_id,
        "email": key.email,
        "plan": key.plan,
        "message": "Store this API key now: it is shown only once. Send it as 'X-API-Key'.",
    }))
}

fn metadata(request_id: String) -> EventMetadata {
    EventMetadata {
        actor: Some("anonymous".into()),
        request_id: Some(request_id),
        ..Default::default()
    }
}

fn account_error(e: AccountError) -> ApiError {
    match e {
        AccountError::EmailTaken => ApiError::Conflict(e.to_string()),
        AccountError::BadCredentials => ApiError::Unauthorized(e.to_string()),
        other => ApiError::internal(other),
    }
}

pub async fn register(
    State(state): State<AppState>,
    RequestId(request_id): RequestId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let creds = credentials(&body)?;
    let password = creds.password;
    let phc = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let common = &state.config.common;
    let plan = common
        .account_plans
        .get(&creds.email)
        .unwrap_or(common.default_plan);
    let key = register_account(&state.pool, &creds.email, phc, plan, &metadata(request_id))
        .await
        .map_err(account_error)?;
    Ok((StatusCode::CREATED, key_body(key)))
}

pub async fn login(
    State(state): State<AppState>,
    RequestId(request_id): RequestId,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let creds = credentials(&body)?;
    let key = issue_key_for_login(
        &state.pool,
        &creds.email,
        &creds.password,
        &metadata(request_id),
    )
    .await
    .map_err(account_error)?;
    Ok(key_body(key))
}
