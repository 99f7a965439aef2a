//! Account statistics (the `{"data": …}` envelope): `GET /stats`, `GET /stats/categories` and
//! `GET /stats/cities`. Read from the counters the read model's triggers keep (`lead_stats`,
//! migration 0020) — a few index reads whatever the number of leads — after the account's
//! writes have reached the read model (read-your-writes).

use crate::consistency::answer_fresh;
use crate::EdgeState;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::{json, Value};
use shared::http::Auth;
use shared::ApiError;
use sqlx::PgConnection;
use uuid::Uuid;

pub fn router() -> Router<EdgeState> {
    Router::new()
        .route("/api/v1/stats", get(summary))
        .route("/api/v1/stats/categories", get(categories))
        .route("/api/v1/stats/cities", get(cities))
}

/// How many sources `GET /stats` lists.
const TOP_SOURCES: i64 = 20;
/// `limit` of the category and city lists: default and most.
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

fn no_parameters(raw: Option<&str>, route: &str) -> Result<(), ApiError> {
    match form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).next() {
        None => Ok(()),
        Some((key, _)) => Err(ApiError::bad_request(format!(
            "unknown query parameter '{key}': {route} takes none"
        ))),
    }
}

fn parse_limit(raw: Option<&str>, route: &str) -> Result<i64, ApiError> {
    let mut limit = DEFAULT_LIMIT;
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "limit" | "per_page" => {
                let n: i64 = value.parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "'{key}' must be an integer from 1 to {MAX_LIMIT}"
                    ))
                })?;
                if !(1..=MAX_LIMIT).contains(&n) {
                    return Err(ApiError::bad_request(format!(
                        "'{key}' must be an integer from 1 to {MAX_LIMIT}"
                    )));
                }
                limit = n;
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter '{other}': {route} takes limit"
                )))
            }
        }
    }
    Ok(limit)
}

/// `(name, count)` of a dimension's values, most frequent first.
async fn top(
    conn: &mut PgConnection,
    tenant: Uuid,
    dim: &str,
    limit: i64,
) -> Result<Vec<Value>, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT key, count FROM lead_stats WHERE tenant_id = $1 AND dim = $2 AND count > 0
         ORDER BY count DESC, key LIMIT $3",
    )
    .bind(tenant)
    .bind(dim)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, count)| json!({"name": name, "count": count}))
        .collect())
}

/// One dimension's single counter (`count`, `sum`).
async fn counter(
    conn: &mut PgConnection,
    tenant: Uuid,
    dim: &str,
) -> Result<(i64, f64), sqlx::Error> {
    let row: Option<(i64, f64)> = sqlx::query_as(
        "SELECT count, sum FROM lead_stats
         WHERE tenant_id = $1 AND dim = $2 AND md5(key) = md5('') AND key = ''",
    )
    .bind(tenant)
    .bind(dim)
    .fetch_optional(conn)
    .await?;
    Ok(row.unwrap_or_default())
}

/// Live leads created since `now - days`: whole hours from the counters, the hour the window
/// starts in from the read model's creation index.
async fn created_since(
    conn: &mut PgConnection,
    tenant: Uuid,
    now: DateTime<Utc>,
    days: i64,
) -> Result<i64, sqlx::Error> {
    let from = now - Duration::days(days);
    let hour = Duration::hours(1);
    let truncated = from.duration_trunc(hour).unwrap_or(from);
    let first_full = if truncated == from {
        from
    } else {
        truncated + hour
    };
    let (whole, partial): (Option<i64>, i64) = sqlx::query_as(
        "SELECT (SELECT sum(count)::int8 FROM lead_stats
                 WHERE tenant_id = $1 AND dim = 'hour' AND key >= $2),
                (SELECT count(*) FROM lead_view
                 WHERE tenant_id = $1 AND NOT deleted AND created_at >= $3 AND created_at < $4)",
    )
    .bind(tenant)
    .bind(first_full.format("%Y-%m-%d %H").to_string())
    .bind(from.timestamp())
    .bind(first_full.timestamp())
    .fetch_one(conn)
    .await?;
    Ok(whole.unwrap_or(0) + partial)
}

async fn summary(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    no_parameters(raw.as_deref(), "GET /stats")?;
    answer_fresh(&state, auth.account_id, async {
        let tenant = auth.account_id;
        let mut conn = state.pool.acquire().await?;
        let (total, _) = counter(&mut conn, tenant, "total").await?;
        let (scored, score_sum) = counter(&mut conn, tenant, "score").await?;
        let (above_70, _) = counter(&mut conn, tenant, "above70").await?;
        let (with_email, _) = counter(&mut conn, tenant, "email").await?;
        let (with_phone, _) = counter(&mut conn, tenant, "phone").await?;
        let by_status = top(&mut conn, tenant, "status", MAX_LIMIT).await?;
        let by_source = top(&mut conn, tenant, "source", TOP_SOURCES).await?;
        let now = Utc::now();
        let last_7 = created_since(&mut conn, tenant, now, 7).await?;
        let last_30 = created_since(&mut conn, tenant, now, 30).await?;
        let average = (scored > 0).then(|| (score_sum / scored as f64 * 100.0).round() / 100.0);
        Ok(json!({"data": {
            "total": total,
            "by_status": by_status,
            "by_source": by_source,
            "average_score": average,
            "scored_above_70": above_70,
            "created_last_7_days": last_7,
            "created_last_30_days": last_30,
            "with_email": with_email,
            "with_phone": with_phone,
        }}))
    })
    .await
}

async fn ranked(
    state: EdgeState,
    tenant: Uuid,
    dim: &str,
    limit: i64,
) -> Result<Response, ApiError> {
    answer_fresh(&state, tenant, async {
        let mut conn = state.pool.acquire().await?;
        let data = top(&mut conn, tenant, dim, limit).await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM lead_stats WHERE tenant_id = $1 AND dim = $2 AND count > 0",
        )
        .bind(tenant)
        .bind(dim)
        .fetch_one(&mut *conn)
        .await?;
        Ok(json!({
            "data": data,
            "meta": {"limit": limit, "total": total, "has_more": total > limit},
        }))
    })
    .await
}

async fn categories(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let limit = parse_limit(raw.as_deref(), "GET /stats/categories")?;
    ranked(state, auth.account_id, "category", limit).await
}

async fn cities(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let limit = parse_limit(raw.as_deref(), "GET /stats/cities")?;
    ranked(state, auth.account_id, "city", limit).await
}
