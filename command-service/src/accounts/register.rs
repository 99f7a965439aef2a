//! Registration and login. Each writes its events (AccountRegistered, ApiKeyIssued) and the
//! credential rows derived from them in one transaction.

use super::keys::{new_key, store_key, KeySpec, NewKey};
use super::password::Hashing;
use crate::app::unit::transaction;
use crate::app::CommandError;
use shared::auth::generate_api_key;
use shared::db::is_unique_violation;
use shared::events::account::{AccountEvent, AccountRegistered};
use shared::events::{DomainEvent, EventMetadata};
use shared::ids::new_id;
use shared::plan::Plan;
use shared::store::{append, ExpectedVersion, StreamAppend};
use sqlx::PgPool;
use uuid::Uuid;

/// A freshly issued key: the raw value is returned once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub account_id: Uuid,
    pub key_id: Uuid,
    pub api_key: String,
    pub email: String,
    pub plan: Plan,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("e-mail or password is wrong")]
    BadCredentials,
    /// The command's own answer: an e-mail taken (a conflict), or a failure to record.
    #[error(transparent)]
    Command(#[from] CommandError),
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        Self::Command(e.into())
    }
}

/// What `register` answers for an e-mail that has an account.
pub const EMAIL_TAKEN: &str = "an account with this e-mail already exists; log in instead";

/// Creates an account with `password_hash` (argon2id PHC) and its first API key.
pub async fn register(
    pool: &PgPool,
    email: &str,
    password_hash: String,
    plan: Plan,
    metadata: &EventMetadata,
) -> Result<IssuedKey, AccountError> {
    let account_id = new_id();
    let args = (email, password_hash.as_str(), plan, metadata);
    let key = transaction(pool, &args, |tx, &(email, password_hash, plan, metadata)| {
        Box::pin(async move {
            let inserted = sqlx::query(
                "INSERT INTO accounts (account_id, email, password_hash, plan) VALUES ($1, $2, $3, $4)",
            )
            .bind(account_id)
            .bind(email)
            .bind(password_hash)
            .bind(plan.as_str())
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(e) if is_unique_violation(&e, "accounts_email_key") => {
                    return Err(CommandError::Conflict(EMAIL_TAKEN.into()).into())
                }
                other => other?,
            };
            let registered = AccountEvent::Registered(AccountRegistered {
                email: email.to_owned(),
                password_hash: password_hash.to_owned(),
                plan,
            });
            let spec = KeySpec::full("register");
            let key = new_key(&spec);
            let events = vec![
                registered
                    .to_new_event(metadata)
                    .map_err(CommandError::internal)?,
                key.event
                    .to_new_event(metadata)
                    .map_err(CommandError::internal)?,
            ];
            let stream = account_stream(account_id, ExpectedVersion::NoStream, events);
            append(tx, &[stream]).await?;
            store_key(tx, account_id, &key, &spec).await?;
            Ok(issued(account_id, email, plan, key))
        })
    })
    .await?;
    Ok(key)
}

/// Issues a new key to the account with this e-mail when `password` matches its hash.
pub async fn issue_key_for_login(
    pool: &PgPool,
    hashing: &Hashing,
    email: &str,
    password: &str,
    metadata: &EventMetadata,
) -> Result<IssuedKey, AccountError> {
    let row: Option<(Uuid, String, String, String)> = sqlx::query_as(
        "SELECT account_id, email, password_hash, plan FROM accounts WHERE lower(email) = lower($1)",
    )
    .bind(email)
    .fetch_optional(pool)
    .await?;
    // An unknown e-mail costs the same argon2 work as a wrong password (no timing oracle).
    let phc = row
        .as_ref()
        .map(|r| r.2.clone())
        .unwrap_or_else(|| DUMMY_HASH.clone());
    let ok = hashing.verify(password.to_owned(), phc).await;
    let Some((account_id, stored_email, _, plan)) = row.filter(|_| ok) else {
        return Err(AccountError::BadCredentials);
    };
    let plan = plan.parse().unwrap_or(Plan::Unlimited);
    let spec = KeySpec::full("login");
    let key = new_key(&spec);
    let event = key
        .event
        .to_new_event(metadata)
        .map_err(CommandError::internal)?;
    transaction(pool, &(&key, &event, &spec), |tx, &(key, event, spec)| {
        Box::pin(async move {
            let stream = account_stream(account_id, ExpectedVersion::Any, vec![event.clone()]);
            append(tx, &[stream]).await?;
            store_key(tx, account_id, key, spec).await?;
            Ok(())
        })
    })
    .await?;
    Ok(issued(account_id, &stored_email, plan, key))
}

/// An argon2id hash of a random string nobody knows, made once.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    super::password::hash_password(&generate_api_key()).unwrap_or_default()
});

fn issued(account_id: Uuid, email: &str, plan: Plan, key: NewKey) -> IssuedKey {
    IssuedKey {
        account_id,
        key_id: key.key_id,
        api_key: key.raw,
        email: email.to_owned(),
        plan,
    }
}

fn account_stream(
    account_id: Uuid,
    expected: ExpectedVersion,
    events: Vec<shared::events::NewEvent>,
) -> StreamAppend {
    StreamAppend {
        tenant_id: account_id,
        stream_type: AccountEvent::STREAM_TYPE,
        stream_id: account_id,
        expected,
        events,
    }
}
