//! Relay leadership: a session-level advisory lock, held as long as the connection lives.

use sqlx::PgConnection;

/// Lock id of the relay's leadership (advisory locks are per database).
const RELAY_LOCK: i64 = 0x6c65_6164_7265_6c61; // "leadrela"

/// True when this connection now holds (or already held) the relay leadership.
pub async fn try_lead(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    let (ok,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
        .bind(RELAY_LOCK)
        .fetch_one(conn)
        .await?;
    Ok(ok)
}
