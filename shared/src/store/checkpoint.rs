//! Followers' checkpoints (relay, projections, rebuilds, the dispatcher): one row each in
//! `checkpoints`, holding a `LogPosition` and committed with the follower's work.
//!
//! A row written before the follower order existed (migration 0015) carries its old
//! position-only checkpoint in `legacy_position`; such a follower must repair itself (see the
//! relay and the projector) before following from the row again.

use super::LogPosition;
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checkpoint {
    pub at: LogPosition,
    /// Set on rows checkpointed in the old position-only order: the position they reached.
    pub legacy_position: Option<i64>,
}

type Row = (i64, i64, Option<i64>);

fn from_row((tx, position, legacy_position): Row) -> Checkpoint {
    Checkpoint {
        at: LogPosition::new(tx, position),
        legacy_position,
    }
}

/// The checkpoint `name` (at the start when it has no row yet).
pub async fn load_checkpoint(
    conn: &mut PgConnection,
    name: &str,
) -> Result<Checkpoint, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT tx_id::text::bigint, position, legacy_position FROM checkpoints WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(from_row).unwrap_or_default())
}

/// The checkpoint `name`, its row created if missing and locked until the caller's
/// transaction ends: two followers of one name serialize here.
pub async fn lock_checkpoint(
    conn: &mut PgConnection,
    name: &str,
) -> Result<Checkpoint, sqlx::Error> {
    // One statement once the row exists (every round a follower runs, under load).
    loop {
        let row: Option<Row> = sqlx::query_as(
            "SELECT tx_id::text::bigint, position, legacy_position FROM checkpoints
             WHERE name = $1 FOR UPDATE",
        )
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            return Ok(from_row(row));
        }
        sqlx::query("INSERT INTO checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .execute(&mut *conn)
            .await?;
    }
}

/// Moves the checkpoint `name` to `at` (creating the row if needed). A legacy mark stays:
/// only `save_repaired` clears it.
pub async fn save_checkpoint(
    conn: &mut PgConnection,
    name: &str,
    at: LogPosition,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO checkpoints (name, tx_id, position) VALUES ($1, $2::text::xid8, $3)
         ON CONFLICT (name) DO UPDATE
         SET tx_id = EXCLUDED.tx_id, position = EXCLUDED.position, updated_at = now()",
    )
    .bind(name)
    .bind(at.tx)
    .bind(at.position)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the checkpoint `name` to `at` and clears its legacy mark: the follower is repaired.
pub async fn save_repaired(
    conn: &mut PgConnection,
    name: &str,
    at: LogPosition,
) -> Result<(), sqlx::Error> {
    save_checkpoint(&mut *conn, name, at).await?;
    sqlx::query("UPDATE checkpoints SET legacy_position = NULL WHERE name = $1")
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

/// A data-modifying CTE named `moved` for a follower that writes a round in one statement
/// without holding its checkpoint: it moves checkpoint `$n` from (`$n+1`, `$n+2`) to
/// (`$n+3`, `$n+4`) — `LogPosition`s as (tx, position) — and returns a row only when the
/// checkpoint was still where the round began. The statement's writes select `FROM moved`
/// (or `WHERE EXISTS (SELECT 1 FROM moved)`), so a replica that lost the race writes nothing.
pub fn moved_cte(n: usize) -> String {
    format!(
        "moved AS (
             UPDATE checkpoints
             SET tx_id = ${}::text::xid8, position = ${}, updated_at = now()
             WHERE name = ${n} AND tx_id = ${}::text::xid8 AND position = ${}
             RETURNING 1
         )",
        n + 3,
        n + 4,
        n + 1,
        n + 2
    )
}

/// Moves the checkpoint `name` from `from` to `to` if it is still at `from` (see
/// [`moved_cte`]); answers whether it moved.
pub async fn move_checkpoint(
    conn: &mut PgConnection,
    name: &str,
    from: LogPosition,
    to: LogPosition,
) -> Result<bool, sqlx::Error> {
    let moved: Option<i32> =
        sqlx::query_scalar(&format!("WITH {} SELECT 1 FROM moved", moved_cte(1)))
            .bind(name)
            .bind(from.tx)
            .bind(from.position)
            .bind(to.tx)
            .bind(to.position)
            .fetch_optional(conn)
            .await?;
    Ok(moved.is_some())
}

/// Removes the checkpoint `name`.
pub async fn drop_checkpoint(conn: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM checkpoints WHERE name = $1")
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

/// True when the follower `name` has handed out every event committed so far — of `tenant`,
/// or of every tenant with `None` — in the follower order. A checkpoint still in the old
/// position-only order (awaiting repair) has not.
pub async fn has_passed(
    conn: &mut PgConnection,
    name: &str,
    tenant: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    let scope = if tenant.is_some() {
        "e.tenant_id = $1 AND"
    } else {
        "$1::uuid IS NULL AND"
    };
    sqlx::query_scalar(&format!(
        "SELECT c.legacy_position IS NULL AND NOT EXISTS (
             SELECT 1 FROM events e
             WHERE {scope} (e.tx_id, e.position) > (c.tx_id, c.position))
         FROM (SELECT tx_id, position, legacy_position FROM checkpoints WHERE name = $2
               UNION ALL SELECT '0'::xid8, 0, NULL::bigint LIMIT 1) AS c"
    ))
    .bind(tenant)
    .bind(name)
    .fetch_one(conn)
    .await
}
