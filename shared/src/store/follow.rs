//! Following the log from a checkpoint — the one loop every event consumer runs (the relay,
//! the projector; the webhook dispatcher and the live feed next). A round reads the next
//! batch after the checkpoint with the gap-free tail, hands it to a handler and moves the
//! checkpoint on the same connection: inside the handler's transaction when the caller runs
//! the round in one (projections), or after the handler's acknowledgement (the relay).
//! Between rounds the follower sleeps until the events trigger's NOTIFY, a fallback poll, or
//! — when committed events wait behind an older transaction still in flight — the next
//! NOTIFY or a short backoff (1 ms doubling up to 50 ms), whichever comes first.

use super::{
    has_events_after, load_checkpoint, lock_checkpoint, save_checkpoint, tail,
    tail_after_checkpoint, LogPosition, EVENT_COLUMNS, NOTIFY_CHANNEL,
};
use crate::events::StoredEvent;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What a follower does with each batch of events (in log order).
pub trait BatchHandler: Send {
    type Error: From<sqlx::Error> + From<NeedsRepair> + Send;

    /// The follower's row in `checkpoints`.
    fn checkpoint(&self) -> &str;

    /// Whether each batch holds whole transactions (a command's events together): a full
    /// batch ends before its last transaction, or — when that is its only one — takes the
    /// rest of it.
    fn whole_transactions(&self) -> bool {
        false
    }

    /// Handles a batch on `conn` (the round's transaction, when it runs in one). An error
    /// leaves the checkpoint where it was.
    fn handle(
        &mut self,
        conn: &mut PgConnection,
        events: &[StoredEvent],
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// A checkpoint written in the old position-only order (before migration 0015): its follower
/// must be repaired before it follows again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "checkpoint {name} predates the follower order (legacy position {legacy}): repair it first"
)]
pub struct NeedsRepair {
    pub name: String,
    pub legacy: i64,
}

/// How a round holds its checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Lock the checkpoint row until the caller's transaction ends: replicas take turns, so
    /// a batch is never handled twice.
    Row,
    /// Read it plainly: the caller is the only writer (the relay's leader).
    Plain,
}

/// One round on `conn`: the next batch after the checkpoint handled, the checkpoint moved.
/// Answers how many events the tail gave (0: caught up, nothing written; `batch_size`: more
/// may follow at once).
pub async fn round<H: BatchHandler>(
    conn: &mut PgConnection,
    handler: &mut H,
    hold: Hold,
    batch_size: i64,
) -> Result<usize, H::Error> {
    let name = handler.checkpoint().to_owned();
    let at = match hold {
        Hold::Row => lock_checkpoint(conn, &name).await?,
        Hold::Plain => load_checkpoint(conn, &name).await?,
    };
    if let Some(legacy) = at.legacy_position {
        return Err(NeedsRepair { name, legacy }.into());
    }
    let mut events = tail(conn, at.at, batch_size).await?;
    // What the tail gave, not what was handled: a full batch trimmed to whole transactions
    // is still full (the follower goes on at once instead of waiting for its poll).
    let read = events.len();
    if handler.whole_transactions() && read as i64 == batch_size {
        whole_transactions(conn, &mut events, EVENT_COLUMNS).await?;
    }
    let Some(last) = events.last().map(StoredEvent::log_position) else {
        return Ok(0);
    };
    handler.handle(conn, &events).await?;
    save_checkpoint(conn, &name, last).await?;
    Ok(read)
}

/// A batch read without holding the checkpoint: where the checkpoint was, the events (whole
/// transactions), and how many the tail gave.
pub struct Unheld {
    pub from: LogPosition,
    pub events: Vec<StoredEvent>,
    pub read: usize,
}

/// The next batch after checkpoint `name` — whole transactions, read as `columns` — without
/// locking the checkpoint: for a follower that writes a round in one statement that moves the
/// checkpoint only if it is still at `from` (`moved_cte`), so replicas may race and only one
/// writes. Three statements a round instead of the held round's six; a missing checkpoint row
/// is created (and the batch read next round).
pub async fn unheld_batch<E: From<sqlx::Error> + From<NeedsRepair>>(
    conn: &mut PgConnection,
    name: &str,
    columns: &str,
    batch_size: i64,
) -> Result<Unheld, E> {
    let Some((at, mut events)) = tail_after_checkpoint(conn, name, columns, batch_size).await?
    else {
        sqlx::query("INSERT INTO checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .execute(&mut *conn)
            .await?;
        return Ok(Unheld {
            from: LogPosition::START,
            events: Vec::new(),
            read: 0,
        });
    };
    if let Some(legacy) = at.legacy_position {
        return Err(NeedsRepair {
            name: name.to_owned(),
            legacy,
        }
        .into());
    }
    let read = events.len();
    if read as i64 == batch_size {
        whole_transactions(conn, &mut events, columns).await?;
    }
    Ok(Unheld {
        from: at.at,
        events,
        read,
    })
}

/// Trims a full batch to whole transactions: drops its last transaction's events when an
/// earlier one is in it, else completes that transaction (read as `columns`).
async fn whole_transactions(
    conn: &mut PgConnection,
    events: &mut Vec<StoredEvent>,
    columns: &str,
) -> Result<(), sqlx::Error> {
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Ok(());
    };
    let (tx, last_position) = (last.tx_id, last.position);
    if first.tx_id != tx {
        events.retain(|e| e.tx_id != tx);
    } else {
        let rest = super::rest_of_transaction(conn, tx, last_position, columns).await?;
        events.extend(rest);
    }
    Ok(())
}

/// The pacing of a follower.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Events per round.
    pub batch_size: i64,
    /// Fallback poll when no NOTIFY arrives.
    pub poll_interval: Duration,
    /// After a NOTIFY, how long to let more commits gather before the next round.
    pub coalesce: Duration,
}

const MIN_BACKOFF: Duration = Duration::from_millis(1);
/// The longest wait for an older transaction that writes no events (a rate-limit update, a
/// delivery record): they are short, and a follower should not fall behind for a poll.
const MAX_BEHIND_BACKOFF: Duration = Duration::from_millis(50);

/// A source of rounds: each call runs one and answers how many events it handled.
pub trait Rounds: Send {
    type Error: From<sqlx::Error> + Send;

    /// The checkpoint the rounds move.
    fn checkpoint(&self) -> &str;

    fn next_round(&mut self) -> impl Future<Output = Result<usize, Self::Error>> + Send;
}

/// Runs rounds until `shutdown`: at once while a round comes back full, else after a NOTIFY,
/// the poll interval, or a backoff when committed events wait behind an open transaction.
pub async fn follow<R: Rounds>(
    pool: &PgPool,
    rounds: &mut R,
    pace: Pace,
    shutdown: &CancellationToken,
) -> Result<(), R::Error> {
    let mut wake = Wakeup::listen(pool, NOTIFY_CHANNEL).await?;
    let mut backoff = MIN_BACKOFF;
    while !shutdown.is_cancelled() {
        let handled = rounds.next_round().await? as i64;
        if handled == pace.batch_size {
            continue;
        }
        if handled > 0 {
            backoff = MIN_BACKOFF;
        } else if behind(pool, rounds.checkpoint()).await? {
            // Committed events wait behind an older transaction still in flight. Under load
            // that is another writer of events, whose commit notifies: look again then. A
            // transaction that writes no events (and so never notifies) is waited out with a
            // backoff from 1 ms doubling up to 50 ms. (A plain doubling sleep let a follower
            // under steady load fall tens of milliseconds behind.)
            match wake.wait(backoff, shutdown).await? {
                Woken::Notified => wake.drain(),
                Woken::Timeout => {
                    backoff = (backoff * 2).min(pace.poll_interval.min(MAX_BEHIND_BACKOFF))
                }
                Woken::Shutdown => {}
            }
            continue;
        }
        if wake.wait(pace.poll_interval, shutdown).await? == Woken::Notified {
            // Under load every commit notifies: let a few gather, then take them in one round.
            // (Not even a zero sleep when there is nothing to gather: the timer's tick would
            // delay the read-your-writes path by up to a millisecond.)
            if !pace.coalesce.is_zero() {
                tokio::time::sleep(pace.coalesce).await;
            }
            wake.drain();
        }
    }
    Ok(())
}

/// Whether committed events follow the checkpoint `name`.
async fn behind(pool: &PgPool, name: &str) -> Result<bool, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let at: LogPosition = load_checkpoint(&mut conn, name).await?.at;
    has_events_after(&mut conn, at).await
}

/// Why a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woken {
    Notified,
    Timeout,
    Shutdown,
}

/// Waiting for a NOTIFY on one channel, with a poll interval as the fallback.
pub struct Wakeup {
    listener: PgListener,
}

impl Wakeup {
    pub async fn listen(pool: &PgPool, channel: &str) -> Result<Self, sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(channel).await?;
        Ok(Self { listener })
    }

    /// Waits for a notification, `poll` or `shutdown`, whichever comes first.
    pub async fn wait(
        &mut self,
        poll: Duration,
        shutdown: &CancellationToken,
    ) -> Result<Woken, sqlx::Error> {
        tokio::select! {
            _ = shutdown.cancelled() => Ok(Woken::Shutdown),
            n = self.listener.recv() => n.map(|_| Woken::Notified),
            _ = tokio::time::sleep(poll) => Ok(Woken::Timeout),
        }
    }

    /// Forgets notifications already received (the next round reads what they announced).
    pub fn drain(&mut self) {
        while self.listener.next_buffered().is_some() {}
    }
}

/// Runs `work` again after each failure (logged, then a one-second pause) until `shutdown`;
/// a failure while shutting down (the pool closing under it) is not one.
pub async fn supervise<E, Fut>(
    what: &str,
    shutdown: &CancellationToken,
    mut work: impl FnMut() -> Fut,
) where
    E: std::fmt::Display,
    Fut: Future<Output = Result<(), E>>,
{
    while !shutdown.is_cancelled() {
        if let Err(e) = work().await {
            if shutdown.is_cancelled() {
                break;
            }
            tracing::warn!(follower = what, error = %e, "stopped; retrying");
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}
