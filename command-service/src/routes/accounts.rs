//! `POST /api/v1/register` and `POST /api/v1/login`: each answers a new API key, shown once.
//! Both are limited per client address (and logins per e-mail) against brute force, and
//! their password hashes run at most N at once (`crate::accounts::limits`, `Hashing`).

use crate::accounts::limits::{forgive_login, take_login, take_registration, Attempt};
use crate::accounts::{issue_key_for_login, register as register_account, AccountError, IssuedKey};
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Json;
use axum::Router;
use serde_json::{json, Value};
use shared::events::EventMetadata;
use shared::http::{client_ip, JsonBody, RequestId};
use shared::ApiError;
use std::net::{IpAddr, SocketAddr};

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
        AccountError::BadCredentials => ApiError::Unauthorized(e.to_string()),
        AccountError::Command(e) => e.into(),
    }
}

/// The client's address: the TCP peer, or what the edge says when the peer is trusted.
fn client(state: &AppState, peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
    client_ip(peer, headers, &state.config.trusted_proxies)
}

fn peer_of(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}

fn too_many(what: &str, retry_after_secs: u64) -> ApiError {
    ApiError::RateLimited {
        message: format!("too many {what}; retry after {retry_after_secs} s"),
        retry_after_secs,
    }
}

async fn register(
    State(state): State<AppState>,
    RequestId(request_id): RequestId,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let creds = credentials(&body)?;
    let addr = client(&state, peer_of(&extensions), &headers);
    if let Attempt::Refused(secs) =
        take_registration(&state.pool, &state.config.auth_limits, addr).await?
    {
        return Err(too_many("registrations from this address", secs));
    }
    let phc = state
        .config
        .hashing
        .hash(creds.password)
        .await
        .ok_or_else(|| ApiError::internal("password hashing failed"))?;
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

async fn login(
    State(state): State<AppState>,
    RequestId(request_id): RequestId,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let creds = credentials(&body)?;
    let addr = client(&state, peer_of(&extensions), &headers);
    // Counted before the password is checked, taken back if it is right.
    let ids = match take_login(&state.pool, &state.config.auth_limits, &creds.email, addr).await? {
        Attempt::Counted(ids) => ids,
        Attempt::Refused(secs) => {
            return Err(too_many(
                "failed logins for this e-mail or from this address",
                secs,
            ))
        }
    };
    let key = issue_key_for_login(
        &state.pool,
        &state.config.hashing,
        &creds.email,
        &creds.password,
        &metadata(request_id),
    )
    .await
    .map_err(account_error)?;
    forgive_login(&state.pool, &ids, &creds.email).await?;
    Ok(key_body(key))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/register", post(register))
        .route("/api/v1/login", post(login))
}
