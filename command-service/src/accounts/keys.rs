//! API keys: issuing (at registration, at login, and `POST /api-keys` with a name, scopes and
//! an expiry) and revoking. Each change is an event on the account's stream, written with the
//! `api_keys` row in one transaction under the account's row lock (so two revocations cannot
//! both pass the last-admin check). A revocation notifies `KEYS_CHANNEL`: every replica's key
//! cache forgets the key at once.

use crate::app::unit::{append_event, transaction};
use crate::app::{CommandContext, CommandError};
use chrono::{DateTime, Utc};
use shared::auth::records::{get_key, ApiKeyRow};
use shared::auth::{generate_api_key, hash_api_key, Scope, Scopes, KEYS_CHANNEL};
use shared::events::account::{AccountEvent, ApiKeyIssued, ApiKeyRevoked};
use shared::ids::new_id;
use shared::store::ExpectedVersion;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// What a new key is: its name, scopes and expiry.
#[derive(Debug, Clone)]
pub struct KeySpec {
    pub name: String,
    pub scopes: Scopes,
    pub expires_at: Option<DateTime<Utc>>,
}

impl KeySpec {
    /// A key with every scope and no expiry (`register`, `login`).
    pub fn full(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            scopes: Scopes::FULL,
            expires_at: None,
        }
    }
}

/// A key about to be stored: the raw value (shown once), its id and its event.
pub struct NewKey {
    pub key_id: Uuid,
    pub raw: String,
    pub event: AccountEvent,
}

pub fn new_key(spec: &KeySpec) -> NewKey {
    let raw = generate_api_key();
    let key_id = new_id();
    let event = AccountEvent::ApiKeyIssued(ApiKeyIssued {
        key_id,
        key_hash: hex::encode(hash_api_key(&raw)),
        prefix: prefix(&raw),
        name: Some(spec.name.clone()),
        scopes: Some(spec.scopes.names().iter().map(|s| s.to_string()).collect()),
        expires_at: spec.expires_at,
    });
    NewKey { key_id, raw, event }
}

fn prefix(raw: &str) -> String {
    raw.chars().take(12).collect()
}

/// The `api_keys` row of a new key (in the transaction that appends its event).
pub async fn store_key(
    conn: &mut PgConnection,
    account: Uuid,
    key: &NewKey,
    spec: &KeySpec,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_keys (key_id, account_id, key_hash, prefix, name, scopes, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(key.key_id)
    .bind(account)
    .bind(hash_api_key(&key.raw).as_slice())
    .bind(prefix(&key.raw))
    .bind(&spec.name)
    .bind(spec.scopes.names())
    .bind(spec.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

async fn lock_account(conn: &mut PgConnection, account: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM accounts WHERE account_id = $1 FOR UPDATE")
        .bind(account)
        .execute(conn)
        .await?;
    Ok(())
}

/// `POST /api-keys`: a new key of the caller's account; answers its row and the raw key.
pub async fn create_key(
    pool: &PgPool,
    ctx: &CommandContext,
    spec: KeySpec,
) -> Result<(ApiKeyRow, String), CommandError> {
    let key = new_key(&spec);
    transaction(pool, &(ctx, &key, &spec), |tx, &(ctx, key, spec)| {
        Box::pin(async move {
            lock_account(tx, ctx.tenant).await?;
            append_event(tx, ctx, ctx.tenant, ExpectedVersion::Any, &key.event).await?;
            store_key(tx, ctx.tenant, key, spec).await?;
            let row = get_key(tx, ctx.tenant, key.key_id).await?;
            let row = row.ok_or_else(|| CommandError::internal("the new key was not stored"))?;
            Ok((row, key.raw.clone()))
        })
    })
    .await
}

/// What a revocation found.
#[derive(Debug, PartialEq, Eq)]
pub enum Revoked {
    Now,
    Already,
}

/// The answer when the key to revoke is the account's last active admin key.
pub const LAST_ADMIN: &str = "this is the account's last active key with the 'admin' scope; \
     create another admin key first, then revoke this one";

/// `DELETE /api-keys/{id}`: revokes one of the caller's account's keys (another account's, or
/// none, is not found). A key already revoked is left as it is.
pub async fn revoke_key(
    pool: &PgPool,
    ctx: &CommandContext,
    key_id: Option<Uuid>,
) -> Result<Revoked, CommandError> {
    let key_id = key_id.ok_or(CommandError::NotFound("API key not found"))?;
    transaction(pool, &(ctx, key_id), |tx, &(ctx, key_id)| {
        Box::pin(async move {
            lock_account(tx, ctx.tenant).await?;
            let key = get_key(tx, ctx.tenant, key_id)
                .await?
                .ok_or(CommandError::NotFound("API key not found"))?;
            if key.revoked_at.is_some() {
                return Ok(Revoked::Already);
            }
            let now = Utc::now();
            let admin = |k: &ApiKeyRow| Scopes::from_stored(&k.scopes).contains(Scope::Admin);
            if key.status(now) == "active" && admin(&key) {
                let others: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM api_keys
                     WHERE account_id = $1 AND key_id <> $2 AND revoked_at IS NULL
                       AND (expires_at IS NULL OR expires_at > now()) AND 'admin' = ANY (scopes)",
                )
                .bind(ctx.tenant)
                .bind(key_id)
                .fetch_one(&mut *tx)
                .await?;
                if others == 0 {
                    return Err(CommandError::Conflict(LAST_ADMIN.into()).into());
                }
            }
            let event = AccountEvent::ApiKeyRevoked(ApiKeyRevoked { key_id });
            append_event(tx, ctx, ctx.tenant, ExpectedVersion::Any, &event).await?;
            sqlx::query("UPDATE api_keys SET revoked_at = now() WHERE key_id = $1")
                .bind(key_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(KEYS_CHANNEL)
                .bind(key_id.to_string())
                .execute(&mut *tx)
                .await?;
            Ok(Revoked::Now)
        })
    })
    .await
}
