//! API keys as the key-management routes show them (SPEC-CRM §3.2): the row, its JSON (never
//! the secret; only `POST /api-keys` adds it, once) and the reads both services need.

use super::Scopes;
use crate::webhooks::rows::rfc3339;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub key_id: Uuid,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub const API_KEY_COLUMNS: &str =
    "key_id, name, prefix, scopes, expires_at, revoked_at, last_used_at, created_at";

/// Which keys a list shows (`?status=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Revoked,
    Expired,
    All,
}

impl KeyStatus {
    pub const NAMES: [&'static str; 4] = ["active", "revoked", "expired", "all"];

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "active" => Self::Active,
            "revoked" => Self::Revoked,
            "expired" => Self::Expired,
            "all" => Self::All,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    fn condition(self) -> &'static str {
        match self {
            Self::Active => "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
            Self::Revoked => "revoked_at IS NOT NULL",
            Self::Expired => "revoked_at IS NULL AND expires_at <= now()",
            Self::All => "true",
        }
    }
}

impl ApiKeyRow {
    pub fn status(&self, now: DateTime<Utc>) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at.is_some_and(|at| at <= now) {
            "expired"
        } else {
            "active"
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "id": self.key_id,
            "name": self.name,
            "prefix": self.prefix,
            // Keys are bound to members with the CRM (SPEC-CRM §3.1); until then, none.
            "member_id": Value::Null,
            "scopes": Scopes::from_stored(&self.scopes).names(),
            "status": self.status(Utc::now()),
            "expires_at": self.expires_at.map(rfc3339),
            "revoked_at": self.revoked_at.map(rfc3339),
            "last_used_at": self.last_used_at.map(rfc3339),
            "created_at": rfc3339(self.created_at),
        })
    }
}

/// A page of the account's keys with `status`, newest first: at most `limit`, after the key
/// `after` (ids are time-ordered UUID v7). Answers the page and the total.
pub async fn list_keys(
    conn: &mut PgConnection,
    account: Uuid,
    status: KeyStatus,
    after: Option<Uuid>,
    limit: i64,
) -> Result<(Vec<ApiKeyRow>, i64), sqlx::Error> {
    let rows = sqlx::query_as(&format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys
         WHERE account_id = $1 AND {} AND ($2::uuid IS NULL OR key_id < $2)
         ORDER BY key_id DESC LIMIT $3",
        status.condition()
    ))
    .bind(account)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM api_keys WHERE account_id = $1 AND {}",
        status.condition()
    ))
    .bind(account)
    .fetch_one(conn)
    .await?;
    Ok((rows, total))
}

/// One of the account's keys.
pub async fn get_key(
    conn: &mut PgConnection,
    account: Uuid,
    key: Uuid,
) -> Result<Option<ApiKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE account_id = $1 AND key_id = $2"
    ))
    .bind(account)
    .bind(key)
    .fetch_optional(conn)
    .await
}
