//! Brute-force limits on `/login` and `/register` (see migration 0014): failed logins per
//! e-mail and per client address, registrations per client address, counted in Postgres so
//! every replica shares them. A login attempt is counted before its password is checked (so
//! concurrent guesses cannot all slip under the limit) and taken back when it succeeds.

use shared::config::{parse_or, ConfigError};
use sqlx::PgPool;
use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthLimits {
    /// Failed logins allowed per e-mail and per client address in `login_window`
    /// (`LOGIN_FAILURE_LIMIT`, default 10; `LOGIN_FAILURE_WINDOW_SECS`, default 900).
    pub login_failures: u32,
    pub login_window: Duration,
    /// Registrations allowed per client address in `register_window`
    /// (`REGISTRATION_LIMIT`, default 10; `REGISTRATION_WINDOW_SECS`, default 3600).
    pub registrations: u32,
    pub register_window: Duration,
}

impl Default for AuthLimits {
    fn default() -> Self {
        Self {
            login_failures: 10,
            login_window: Duration::from_secs(900),
            registrations: 10,
            register_window: Duration::from_secs(3600),
        }
    }
}

impl AuthLimits {
    pub fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            login_failures: parse_or("LOGIN_FAILURE_LIMIT", d.login_failures)?,
            login_window: Duration::from_secs(parse_or(
                "LOGIN_FAILURE_WINDOW_SECS",
                d.login_window.as_secs(),
            )?),
            registrations: parse_or("REGISTRATION_LIMIT", d.registrations)?,
            register_window: Duration::from_secs(parse_or(
                "REGISTRATION_WINDOW_SECS",
                d.register_window.as_secs(),
            )?),
        })
    }
}

/// The outcome of counting an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Counted; these rows can be taken back with [`forgive`].
    Counted(Vec<i64>),
    /// Refused: the limit is used up; retry after this many seconds (≥ 1).
    Refused(u64),
}

/// Counts a login attempt for `email` (and `addr`, when known).
pub async fn take_login(
    pool: &PgPool,
    limits: &AuthLimits,
    email: &str,
    addr: Option<IpAddr>,
) -> Result<Attempt, sqlx::Error> {
    let mut subjects = vec![format!("email:{}", email.to_lowercase())];
    subjects.extend(addr.map(|a| format!("addr:{a}")));
    take(
        pool,
        "login",
        &subjects,
        limits.login_failures,
        limits.login_window,
    )
    .await
}

/// Counts a registration from `addr` (nothing is counted when the address is unknown).
pub async fn take_registration(
    pool: &PgPool,
    limits: &AuthLimits,
    addr: Option<IpAddr>,
) -> Result<Attempt, sqlx::Error> {
    let Some(addr) = addr else {
        return Ok(Attempt::Counted(Vec::new()));
    };
    let subjects = [format!("addr:{addr}")];
    take(
        pool,
        "register",
        &subjects,
        limits.registrations,
        limits.register_window,
    )
    .await
}

/// Takes back a successful login's attempt, and the e-mail's earlier failures with it.
pub async fn forgive_login(pool: &PgPool, ids: &[i64], email: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM auth_attempts
          WHERE id = ANY($1) OR (scope = 'login' AND subject = 'email:' || lower($2))",
    )
    .bind(ids)
    .bind(email)
    .execute(pool)
    .await?;
    Ok(())
}

async fn take(
    pool: &PgPool,
    scope: &str,
    subjects: &[String],
    limit: u32,
    window: Duration,
) -> Result<Attempt, sqlx::Error> {
    let (allowed, retry_after, ids): (bool, i32, Vec<i64>) =
        sqlx::query_as("SELECT allowed, retry_after, ids FROM auth_take($1, $2, $3, $4, $5)")
            .bind(scope)
            .bind(subjects)
            .bind(chrono::Utc::now().timestamp())
            .bind(limit.min(i32::MAX as u32) as i32)
            .bind(window.as_secs().clamp(1, i32::MAX as u64) as i32)
            .fetch_one(pool)
            .await?;
    Ok(if allowed {
        Attempt::Counted(ids)
    } else {
        Attempt::Refused(retry_after.max(1) as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_10_failed_logins_per_15_minutes_and_10_registrations_per_hour() {
        let d = AuthLimits::default();
        assert_eq!((d.login_failures, d.login_window.as_secs()), (10, 900));
        assert_eq!((d.registrations, d.register_window.as_secs()), (10, 3600));
    }
}
