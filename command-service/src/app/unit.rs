//! The unit of work of the write side: one transaction per command, run again from the start
//! when it loses a race (a stream moved, a unique dedup key was taken meanwhile, a deadlock),
//! so a lost race becomes a merge. Lead commands (pushes, updates, deletes, attributes,
//! notes, rescoring) all go through [`lead_command`]: lock → load → working set → decide →
//! rescore → record → commit; a rescore batch, which runs in its job's transaction, through
//! [`settle`].

use super::context::CommandContext;
use super::error::CommandError;
use super::repo::{load_leads, lock, owners_and_rules, room_for_leads, write_changes, LockMode};
use super::rules_repo::compiled_rules;
use super::working::WorkingSet;
use futures::future::BoxFuture;
use shared::dedup::DedupKey;
use shared::events::{DomainEvent, EventMetadata};
use shared::lead::decide::{AttrRejected, Rejected};
use shared::store::{append, lock_streams, AppendError, ExpectedVersion, StreamAppend};
use sqlx::{PgConnection, PgPool};
use std::collections::BTreeSet;
use uuid::Uuid;

const ATTEMPTS: usize = 8;

/// Why an attempt failed: a lost race (run it again) or the command's answer.
#[derive(Debug)]
pub enum WriteError {
    Retry(String),
    Fail(CommandError),
}

impl From<CommandError> for WriteError {
    fn from(e: CommandError) -> Self {
        WriteError::Fail(e)
    }
}

impl From<Rejected> for WriteError {
    fn from(e: Rejected) -> Self {
        WriteError::Fail(e.into())
    }
}

impl From<AttrRejected> for WriteError {
    fn from(e: AttrRejected) -> Self {
        WriteError::Fail(e.into())
    }
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> Self {
        classify(e)
    }
}

impl From<AppendError> for WriteError {
    fn from(e: AppendError) -> Self {
        classify_append(e)
    }
}

/// A storage error, sorted: deadlocks, serialization failures and a unique dedup key taken by
/// a concurrent command are lost races.
pub fn classify(e: sqlx::Error) -> WriteError {
    if let sqlx::Error::Database(db) = &e {
        let retry = matches!(db.code().as_deref(), Some("40P01" | "40001"))
            || matches!(
                db.constraint(),
                Some("dedup_keys_unique_email" | "dedup_keys_unique_source_id")
            );
        if retry {
            return WriteError::Retry(db.message().to_owned());
        }
    }
    WriteError::Fail(CommandError::from(e))
}

/// An append error, sorted: a stream that moved is a lost race.
pub fn classify_append(e: AppendError) -> WriteError {
    match e {
        AppendError::Conflict { stream_id } => {
            WriteError::Retry(format!("stream {stream_id} moved"))
        }
        AppendError::Db(db) => classify(db),
    }
}

/// One attempt's work on its transaction.
pub type Work<'c, T> = BoxFuture<'c, Result<T, WriteError>>;

/// Appends one event to the stream `stream_id` of the command's account (compare-and-set on
/// `expected`); answers the event's id. For commands on one non-lead stream (rules, webhooks).
pub async fn append_event<E: DomainEvent>(
    conn: &mut PgConnection,
    ctx: &CommandContext,
    stream_id: Uuid,
    expected: ExpectedVersion,
    event: &E,
) -> Result<Uuid, WriteError> {
    let event = event
        .to_new_event(&ctx.metadata)
        .map_err(CommandError::internal)?;
    let id = event.event_id;
    append(
        conn,
        &[StreamAppend {
            tenant_id: ctx.tenant,
            stream_type: E::STREAM_TYPE,
            stream_id,
            expected,
            events: vec![event],
        }],
    )
    .await?;
    Ok(id)
}

/// Runs `work` in a transaction, committed when it succeeds; a lost race runs it again.
/// What the work borrows comes in through `args` (a reference the work's future may hold).
pub async fn transaction<A, T, F>(pool: &PgPool, args: &A, mut work: F) -> Result<T, CommandError>
where
    A: Sync + ?Sized,
    F: for<'c> FnMut(&'c mut PgConnection, &'c A) -> Work<'c, T>,
{
    let mut why = String::new();
    for n in 1..=ATTEMPTS {
        let attempt = async {
            let mut tx = pool.begin().await.map_err(classify)?;
            let out = work(&mut tx, args).await?;
            tx.commit().await.map_err(classify)?;
            Ok(out)
        };
        match attempt.await {
            Ok(v) => return Ok(v),
            Err(WriteError::Retry(reason)) => {
                tracing::debug!(attempt = n, %reason, "command lost a race; retrying");
                why = reason;
                tokio::task::yield_now().await;
            }
            Err(WriteError::Fail(e)) => return Err(e),
        }
    }
    Err(CommandError::Conflict(format!(
        "the lead changed concurrently too many times ({why}); retry the request"
    )))
}

/// What a lead command locks and loads before it decides.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub mode: LockMode,
    /// Dedup keys to lock (in `LockMode::Keys`).
    pub lock_keys: Vec<DedupKey>,
    /// Dedup keys whose holders the decision needs.
    pub owner_keys: Vec<DedupKey>,
    /// Leads to load ...
    pub ids: Vec<Uuid>,
    /// ... and the holders of `owner_keys` too.
    pub load_owners: bool,
    /// The command may create leads: count the room the plan's lead limit leaves.
    pub creates: bool,
}

impl Scope {
    /// One existing lead, its keys left alone.
    pub fn lead(id: Uuid) -> Self {
        Self {
            ids: vec![id],
            ..Self::default()
        }
    }
}

/// Runs a lead command: `decide` reads and records into the working set (it may run more
/// than once, after a lost race); every lead it touched is rescored and everything is
/// recorded in one transaction. Answers what `decide` answered and the working set as
/// committed.
pub async fn lead_command<T, D>(
    pool: &PgPool,
    ctx: &CommandContext,
    scope: &Scope,
    decide: D,
) -> Result<(T, WorkingSet), CommandError>
where
    T: Send,
    D: Fn(&mut WorkingSet) -> Result<T, CommandError> + Sync,
{
    transaction(pool, &(ctx, scope, &decide), |tx, &(ctx, scope, decide)| {
        Box::pin(async move {
            let mut ws = load(tx, ctx, scope).await?;
            let answer = decide(&mut ws)?;
            settle(tx, &mut ws, ctx.now, &ctx.metadata).await?;
            Ok((answer, ws))
        })
    })
    .await
}

async fn load(
    conn: &mut PgConnection,
    ctx: &CommandContext,
    scope: &Scope,
) -> Result<WorkingSet, WriteError> {
    let tenant = ctx.tenant;
    lock(conn, tenant, scope.mode, &scope.lock_keys)
        .await
        .map_err(classify)?;
    let (owners, rules) = owners_and_rules(conn, tenant, &scope.owner_keys).await?;
    let mut ids: BTreeSet<Uuid> = scope.ids.iter().copied().collect();
    if scope.load_owners {
        ids.extend(owners.iter().map(|(_, id)| *id));
    }
    let ids: Vec<Uuid> = ids.into_iter().collect();
    if scope.mode == LockMode::Keys {
        // Writers of one lead take turns (batches hold the tenant lock exclusively); before
        // any write, see `lock_streams`.
        lock_streams(conn, &ids).await.map_err(classify)?;
    }
    let leads = load_leads(conn, tenant, &ids).await?;
    let room = match (scope.creates, ctx.max_leads) {
        (true, Some(max)) => Some((
            max,
            room_for_leads(conn, tenant, max).await.map_err(classify)?,
        )),
        _ => None,
    };
    Ok(WorkingSet::new(tenant, leads, owners)
        .with_room(room)
        .with_rules(rules))
}

/// Rescores every lead the working set touched and records all of it in the caller's
/// transaction (nothing when nothing was touched). Answers the leads whose score changed.
pub async fn settle(
    conn: &mut PgConnection,
    ws: &mut WorkingSet,
    now: i64,
    metadata: &EventMetadata,
) -> Result<Vec<Uuid>, WriteError> {
    if !ws.touched_any() {
        return Ok(Vec::new());
    }
    let rules = match ws.take_rules() {
        Some(rules) => rules,
        None => compiled_rules(conn, ws.tenant()).await.map_err(classify)?,
    };
    let rescored = ws.rescore(&rules, now);
    let changes = ws.changes(metadata)?;
    write_changes(conn, &changes).await?;
    Ok(rescored)
}
